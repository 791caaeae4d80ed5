"""Resident and public pages of points: my balances and their history, and the rewards
catalogue of the centers (with how to redeem: the resident pass at the desk or the machine)."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from livingroom.core.permissions import resident_required
from livingroom.people.models import User
from livingroom.people.selectors import resident_of
from livingroom.places.models import Center
from livingroom.points import selectors
from livingroom.points.forms import CenterFilterForm
from livingroom.points.models import Reward

ENTRIES_PER_PAGE = 30
REWARDS_LIMIT = 300


@resident_required
def my_points(request: HttpRequest) -> HttpResponse:
    """My balance in each community, the total, and every movement, newest first."""
    resident = resident_of(request.user)  # type: ignore[arg-type]
    if resident is None:
        messages.info(request, _("Please complete your real-name profile first."))
        return redirect("people:profile")
    page = Paginator(selectors.entries_of(resident), ENTRIES_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "points/mine.html",
        {
            "accounts": list(selectors.accounts_of(resident)),
            "total": selectors.balance_total(resident),
            "page": page,
        },
    )


@dataclass(frozen=True)
class CenterRewards:
    center: Center
    rewards: list[Reward]
    balance: int | None  # the signed-in resident's points in the center's community


def rewards(request: HttpRequest) -> HttpResponse:
    """The catalogue of each center; anyone may look, a signed-in resident sees their points."""
    centers = list(selectors.centers_with_rewards())
    form = CenterFilterForm(request.GET or None, centers=[(c.pk, c.name) for c in centers])
    user: User = request.user  # type: ignore[assignment]
    resident = resident_of(user) if user.is_authenticated else None
    balances = {a.community_id: a.balance for a in selectors.accounts_of(resident)} if resident else {}
    groups: dict[int, CenterRewards] = {}
    for reward in selectors.rewards_public(center_id=form.center_id)[:REWARDS_LIMIT]:
        center = reward.center
        if center.pk not in groups:
            balance = balances.get(center.community_id, 0) if resident is not None else None
            groups[center.pk] = CenterRewards(center, [], balance)
        groups[center.pk].rewards.append(reward)
    return render(
        request,
        "points/rewards.html",
        {
            "groups": list(groups.values()),
            "form": form,
            "centers": centers,
            "center_id": form.center_id,
            "resident": resident,
            "total": sum(balances.values()) if resident is not None else None,
        },
    )
