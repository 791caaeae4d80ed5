"""Resident pages of courses: the list, one course with enrolment, my courses (cancel, accept an
offered seat, rate), the talent pool of my community and my talent application."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from livingroom.booking.calendar import local_day, parse_day
from livingroom.core.errors import DomainError
from livingroom.core.formatting import format_datetime
from livingroom.core.forms import add_domain_error
from livingroom.core.permissions import resident_required
from livingroom.core.validators import parse_id
from livingroom.people.models import Resident, User
from livingroom.people.selectors import dependants_of, resident_of
from livingroom.programs import selectors, services
from livingroom.programs.models import Enrollment, Program, Talent

# The "at most" choices of the price filter, in yuan (0 = free courses only).
PRICE_CHOICES = (0, 10, 20, 50, 100, 200)


# --- what the pages show about a course -----------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """Where a course stands for enrolment: ``cancelled``, ``finished``, ``not_open`` (opens at
    ``opens_at``), ``draw`` (requests drawn by lot until ``draw_until``), ``open`` or ``closed``."""

    state: str
    opens_at: dt.datetime
    closes_at: dt.datetime
    draw_until: dt.datetime | None

    @property
    def accepts(self) -> bool:
        return self.state in ("open", "draw")


def window_of(program: Program, now: dt.datetime) -> Window:
    draw_until = program.fair_until if program.fair_seconds else None
    last_ends_at = getattr(program, "last_ends_at", None)
    if program.status == Program.Status.CANCELLED:
        state = "cancelled"
    elif last_ends_at is not None and last_ends_at <= now:
        state = "finished"
    elif now < program.enroll_opens_at:
        state = "not_open"
    elif now >= program.enroll_closes_at:
        state = "closed"
    elif program.fair_seconds and program.draw_done_at is None and now < program.fair_until:
        state = "draw"
    else:
        state = "open"
    return Window(state, program.enroll_opens_at, program.enroll_closes_at, draw_until)


def share_pct(program: Program) -> int | None:
    """The price charged as a share of the market price, in whole percent (None: no market price)."""
    if program.market_price_fen <= 0:
        return None
    return round(program.price_fen * 100 / program.market_price_fen)


@dataclass(frozen=True)
class ProgramCard:
    program: Program
    window: Window
    provider: str
    share_pct: int | None
    mine: tuple[Enrollment, ...] = ()  # the signed-in resident's active enrolments in it

    @property
    def full(self) -> bool:
        return self.program.seats_left == 0

    @property
    def waitlist_full(self) -> bool:
        return self.program.waitlist_count >= self.program.waitlist_size


def card_of(program: Program, now: dt.datetime, mine: tuple[Enrollment, ...] = ()) -> ProgramCard:
    return ProgramCard(program, window_of(program, now), program.provider_name, share_pct(program), mine)


@dataclass(frozen=True)
class EnrollmentRow:
    """One of my enrolments with what I may do with it now."""

    enrollment: Enrollment
    cutoff: dt.datetime | None
    can_cancel: bool
    can_accept: bool
    draw_until: dt.datetime | None

    @property
    def cancel_label(self) -> str:
        status = self.enrollment.status
        if status == Enrollment.Status.WAITLISTED:
            return _("Leave the waiting list")
        if status == Enrollment.Status.REQUESTED:
            return _("Withdraw from the draw")
        if status == Enrollment.Status.OFFERED:
            return _("Decline the seat")
        return _("Cancel enrolment")


def row_of(enrollment: Enrollment, first_starts_at: dt.datetime | None, now: dt.datetime) -> EnrollmentRow:
    program = enrollment.program
    cutoff = services.cancel_cutoff(program, first_starts_at)
    status = enrollment.status
    can_cancel = enrollment.is_active and (
        status != Enrollment.Status.CONFIRMED or cutoff is None or now <= cutoff
    )
    can_accept = status == Enrollment.Status.OFFERED and (
        enrollment.offer_expires_at is None or enrollment.offer_expires_at > now
    )
    draw_until = program.fair_until if status == Enrollment.Status.REQUESTED else None
    return EnrollmentRow(enrollment, cutoff, can_cancel, can_accept, draw_until)


def _back(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _int_or_none(value: str | None) -> int | None:
    try:
        number = int(value or "")
    except ValueError:
        return None
    return number if 0 <= number <= 10**12 else None


def _who(enrollment: Enrollment) -> str:
    return enrollment.dependant.name if enrollment.dependant else _("You")


# --- the list -------------------------------------------------------------------------------------


def program_list(request: HttpRequest) -> HttpResponse:
    """Published courses still to come, with filters; anyone may look."""
    now = timezone.now()
    centers = list(selectors.centers_with_programs(now=now))
    center_id = parse_id(request.GET.get("center"))
    if center_id not in {c.pk for c in centers}:
        center_id = None
    category = request.GET.get("category", "")
    if category not in Program.Category.values:
        category = ""
    date_from = parse_day(request.GET.get("from"))
    date_to = parse_day(request.GET.get("to"))
    max_price = _int_or_none(request.GET.get("max_price"))
    if max_price not in PRICE_CHOICES:
        max_price = None
    free_seats = request.GET.get("free") == "1"
    q = request.GET.get("q", "").strip()[:50]
    filters = selectors.ProgramFilters(
        center_id=center_id,
        category=category or None,
        date_from=date_from,
        date_to=date_to,
        max_price_fen=max_price * 100 if max_price is not None else None,
        free_seats=free_seats,
        q=q,
    )
    programs = selectors.public_programs(filters, now=now)[: selectors.LIST_LIMIT]
    resident = resident_of(request.user) if request.user.is_authenticated else None  # type: ignore[arg-type]
    mine: dict[int, list[Enrollment]] = {}
    if resident is not None:
        for e in selectors.enrollments_of(resident).filter(status__in=Enrollment.ACTIVE)[:200]:
            mine.setdefault(e.program_id, []).append(e)
    cards = [card_of(p, now, tuple(mine.get(p.pk, ()))) for p in programs]
    return render(
        request,
        "programs/list.html",
        {
            "cards": cards,
            "centers": centers,
            "categories": Program.Category.choices,
            "price_choices": PRICE_CHOICES,
            "f": {
                "center": center_id,
                "category": category,
                "from": date_from,
                "to": date_to,
                "max_price": max_price,
                "free": free_seats,
                "q": q,
            },
            "more_open": bool(center_id or date_from or date_to or max_price is not None),
            "filtered": bool(
                center_id or category or date_from or date_to or max_price is not None or free_seats or q
            ),
            "resident": resident,
        },
    )


# --- one course -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """Someone the resident may sign up: themself (``value`` "self") or a family member."""

    value: str
    name: str
    relation: str
    problem: str | None  # why this course is not for them, or None


def _candidates(
    program: Program, resident: Resident, active: list[Enrollment], on: dt.date
) -> list[Candidate]:
    taken_self = any(e.dependant_id is None for e in active)
    taken = {e.dependant_id for e in active if e.dependant_id}
    out: list[Candidate] = []
    if not taken_self:
        problem = services.audience_problem(program, resident, None, on=on)
        out.append(Candidate("self", _("Myself"), "", problem))
    for d in dependants_of(resident):
        if d.pk in taken:
            continue
        problem = services.audience_problem(program, resident, d, on=on)
        out.append(Candidate(str(d.pk), d.name, str(d.get_relation_display()), problem))
    return out


def program_detail(request: HttpRequest, program_id: int) -> HttpResponse:
    """A course: when, where, price, who it is for, its sessions; my sign-ups and the form."""
    program = selectors.public_program(program_id)
    now = timezone.now()
    resident = resident_of(request.user) if request.user.is_authenticated else None  # type: ignore[arg-type]
    card = card_of(program, now)
    first_starts_at: dt.datetime | None = getattr(program, "first_starts_at", None)
    mine = selectors.my_enrollments_in(resident, program) if resident else []
    for e in mine:
        e.program = program  # the annotated course, loaded once
    active = [row_of(e, first_starts_at, now) for e in mine if e.is_active]
    ended = [e for e in mine if not e.is_active]
    candidates: list[Candidate] = []
    if resident is not None and card.window.accepts:
        day = local_day(first_starts_at) if first_starts_at else timezone.localdate()
        candidates = _candidates(program, resident, [r.enrollment for r in active], day)
    return render(
        request,
        "programs/detail.html",
        {
            "card": card,
            "program": program,
            "sessions": list(selectors.sessions_of(program)),
            "communities": list(program.communities.all()),
            "cutoff": services.cancel_cutoff(program, first_starts_at),
            "resident": resident,
            "active": active,
            "ended": ended,
            "candidates": candidates,
            "eligible": [c for c in candidates if c.problem is None],
            "has_family": resident is not None and dependants_of(resident).exists(),
            "now": now,
        },
    )


@resident_required
@require_POST
def enrol(request: HttpRequest, program_id: int) -> HttpResponse:
    back = reverse("programs:detail", args=[program_id])
    who = request.POST.getlist("who")
    include_self = "self" in who
    dependant_ids = [parse_id(v) for v in who if v != "self"]
    if not who or None in dependant_ids:
        messages.error(request, _("Tick who takes part."))
        return redirect(back)
    try:
        made = services.enrollment_create(
            user=request.user,  # type: ignore[arg-type]
            program_id=program_id,
            include_self=include_self,
            dependant_ids=[i for i in dependant_ids if i is not None],
        )
    except DomainError as exc:
        if exc.status == 404 and exc.code == "program_not_found":
            raise
        messages.error(request, exc.message)
        return redirect(back)
    for e in made:
        who_name = _who(e)
        if e.status == Enrollment.Status.CONFIRMED:
            messages.success(request, _("%(who)s: enrolled.") % {"who": who_name})
        elif e.status == Enrollment.Status.WAITLISTED:
            messages.success(
                request,
                _("%(who)s: the course is full — No. %(n)s on the waiting list.")
                % {"who": who_name, "n": e.position},
            )
        else:
            messages.success(
                request,
                _("%(who)s: in the opening draw — results at %(t)s.")
                % {"who": who_name, "t": format_datetime(e.program.fair_until)},
            )
    return redirect(back + "#mine")


# --- my courses -----------------------------------------------------------------------------------


def _resident_or_profile(request: HttpRequest) -> Resident | None:
    resident = resident_of(request.user)  # type: ignore[arg-type]
    if resident is None:
        messages.info(request, _("Please complete your real-name profile first."))
    return resident


@resident_required
def my_programs(request: HttpRequest) -> HttpResponse:
    resident = _resident_or_profile(request)
    if resident is None:
        return redirect("people:profile")
    now = timezone.now()
    upcoming: list[EnrollmentRow] = []
    earlier: list[EnrollmentRow] = []
    for e in selectors.enrollments_of(resident)[:200]:
        first: dt.datetime | None = getattr(e, "first_starts_at", None)
        last: dt.datetime | None = getattr(e, "last_ends_at", None)
        row = row_of(e, first, now)
        finished = last is not None and last <= now
        if e.is_active and not finished and e.program.status == Program.Status.PUBLISHED:
            upcoming.append(row)
        else:
            earlier.append(row)
    # An offered seat first (it has a deadline), then by the course's first session.
    upcoming.sort(
        key=lambda r: (
            not r.can_accept,
            getattr(r.enrollment, "first_starts_at", None) or now,
            r.enrollment.pk,
        )
    )
    return render(
        request,
        "programs/mine.html",
        {"upcoming": upcoming, "earlier": earlier, "now": now, "stars": range(1, 6)},
    )


def _own_or_404(request: HttpRequest, enrollment_id: int) -> Enrollment:
    return selectors.enrollment_of(request.user, enrollment_id)  # type: ignore[arg-type]


@resident_required
@require_POST
def cancel(request: HttpRequest, enrollment_id: int) -> HttpResponse:
    enrollment = _own_or_404(request, enrollment_id)
    back = _back(request, reverse("programs:mine"))
    before = enrollment.status
    try:
        services.enrollment_cancel(user=request.user, enrollment_id=enrollment.pk)  # type: ignore[arg-type]
    except DomainError as exc:
        if exc.status == 404:
            raise
        messages.error(request, exc.message)
        return redirect(back)
    who = _who(enrollment)
    if before == Enrollment.Status.WAITLISTED:
        messages.success(request, _("%(who)s: left the waiting list.") % {"who": who})
    elif before == Enrollment.Status.REQUESTED:
        messages.success(request, _("%(who)s: withdrawn from the opening draw.") % {"who": who})
    elif before == Enrollment.Status.OFFERED:
        messages.success(request, _("%(who)s: the offered seat is declined.") % {"who": who})
    else:
        messages.success(request, _("%(who)s: enrolment cancelled. Any fee paid is refunded.") % {"who": who})
    return redirect(back)


@resident_required
@require_POST
def accept(request: HttpRequest, enrollment_id: int) -> HttpResponse:
    enrollment = _own_or_404(request, enrollment_id)
    back = _back(request, reverse("programs:mine"))
    try:
        services.offer_accept(user=request.user, enrollment_id=enrollment.pk)  # type: ignore[arg-type]
    except DomainError as exc:
        if exc.status == 404:
            raise
        messages.error(request, exc.message)
        return redirect(back)
    messages.success(request, _("%(who)s: enrolled.") % {"who": _who(enrollment)})
    return redirect(back)


@resident_required
@require_POST
def rate(request: HttpRequest, enrollment_id: int) -> HttpResponse:
    enrollment = _own_or_404(request, enrollment_id)
    back = reverse("programs:mine")
    rating = _int_or_none(request.POST.get("rating"))
    comment = request.POST.get("comment", "").strip()
    if rating is None or not 1 <= rating <= 5:
        messages.error(request, _("Choose from 1 to 5 stars."))
        return redirect(back)
    if len(comment) > 500:
        messages.error(request, _("The comment can be at most 500 characters."))
        return redirect(back)
    try:
        services.enrollment_rate(
            user=request.user,  # type: ignore[arg-type]
            enrollment_id=enrollment.pk,
            rating=rating,
            comment=comment,
        )
    except DomainError as exc:
        if exc.status == 404:
            raise
        messages.error(request, exc.message)
        return redirect(back)
    messages.success(request, _("Thank you for rating %(title)s.") % {"title": enrollment.program.title})
    return redirect(back)


# --- talents --------------------------------------------------------------------------------------


@resident_required
def talents(request: HttpRequest) -> HttpResponse:
    resident = _resident_or_profile(request)
    if resident is None:
        return redirect("people:profile")
    return render(
        request,
        "programs/talents.html",
        {
            "community": resident.home_community,
            "talents": list(selectors.community_talents(resident.home_community_id)[:200]),
            "mine": selectors.my_talent(resident),
        },
    )


class TalentForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("I am"), choices=Talent.Kind.choices, widget=forms.RadioSelect
    )
    skills = forms.CharField(
        label=gettext_lazy("What I can teach"),
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": gettext_lazy("e.g. paper cutting, square dance")}),
    )
    bio = forms.CharField(
        label=gettext_lazy("A few words about me"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


@resident_required
def my_talent(request: HttpRequest) -> HttpResponse:
    """My talent application: its state, the form to apply, and my course proposals."""
    resident = _resident_or_profile(request)
    if resident is None:
        return redirect("people:profile")
    form = TalentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.talent_apply(user=request.user, **form.cleaned_data)  # type: ignore[arg-type]
        except DomainError as exc:
            if exc.field not in form.fields:
                messages.error(request, exc.message)
                return redirect("programs:my-talent")
            add_domain_error(form, exc)
        else:
            messages.success(request, _("Application sent. The center's staff will reply."))
            return redirect("programs:my-talent")
    talent = selectors.my_talent(resident)
    user: User = request.user  # type: ignore[assignment]
    return render(
        request,
        "programs/my_talent.html",
        {
            "talent": talent,
            "form": form,
            "can_apply": talent is None or talent.status in (Talent.Status.REJECTED, Talent.Status.WITHDRAWN),
            "proposals": list(selectors.proposed_programs(user)[:100]),
        },
    )


@resident_required
@require_POST
def talent_withdraw(request: HttpRequest) -> HttpResponse:
    try:
        services.talent_withdraw(user=request.user)  # type: ignore[arg-type]
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Your talent application is withdrawn."))
    return redirect("programs:my-talent")
