"""The proposal page of an approved talent (达人): the console's course form, for a resident, at
their own community's center. Anyone else reads why they cannot propose, and where to apply."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from livingroom.core.permissions import resident_required
from livingroom.people.auth import acting_user
from livingroom.people.selectors import resident_of
from livingroom.places.models import Center
from livingroom.programs import selectors
from livingroom.programs.console_views import community_choices, propose_from_form, space_choices
from livingroom.programs.forms import ProgramForm, program_initial, welfare_share
from livingroom.programs.models import Talent

TALENT_PAGE = "/me/talent/"


@resident_required
def new(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    resident = resident_of(user)
    talent = selectors.my_talent(resident) if resident is not None else None
    center: Center | None = None
    if resident is not None:
        try:
            center = resident.home_community.center
        except Center.DoesNotExist:
            center = None
    context: dict = {
        "resident": resident,
        "talent": talent,
        "center": center,
        "talent_page": TALENT_PAGE,
        "share": welfare_share(),
        "proposals": list(selectors.proposed_programs(user)[:20]),
    }
    if resident is None or talent is None or talent.status != Talent.Status.APPROVED or center is None:
        return render(request, "programs/propose_new.html", {**context, "form": None})
    spaces = selectors.session_spaces([center.pk])
    form = ProgramForm(
        request.POST or None,
        initial=program_initial(),
        fixed_center=True,
        spaces=space_choices(spaces),
        communities=community_choices([center.community.street_id]),
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            program, status = propose_from_form(request, form, scope=None, center_id=center.pk)
            if program is not None:
                messages.success(
                    request,
                    _('"%(title)s" is sent to %(center)s. You are told when the staff have decided.')
                    % {"title": program.title, "center": center.name},
                )
                return redirect("programs_propose:new")
        else:
            status = 400
    return render(
        request,
        "programs/propose_new.html",
        {**context, "form": form, "has_spaces": bool(spaces)},
        status=status,
    )
