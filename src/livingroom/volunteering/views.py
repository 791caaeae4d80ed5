"""Resident and public pages of volunteering: the open activities, one activity with its shifts
and the sign-up, my volunteering (registration, sign-ups, records, corrections, certificates),
the certificate's PDF, and the public check of a certificate by its code.

Thin: parse, call one service or selector, render. A service's refusal is shown as a message (a
button that redirects) or on its form (a form that is shown again)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from livingroom.booking.calendar import local_day, when_label
from livingroom.core.errors import DomainError
from livingroom.core.forms import add_domain_error
from livingroom.core.permissions import resident_required
from livingroom.people.models import Resident, User
from livingroom.people.selectors import resident_of
from livingroom.points import selectors as points_selectors
from livingroom.volunteering import errors, pdf, selectors, services
from livingroom.volunteering.forms import CenterFilterForm, CertificateForm, CorrectionForm, RegisterForm
from livingroom.volunteering.models import (
    Activity,
    ServiceRecord,
    Shift,
    Signup,
    Volunteer,
    next_star_hours,
    star_level,
)

LIST_LIMIT = 100
MINE_LIMIT = 200

# --- helpers --------------------------------------------------------------------------------------


def _back(request: HttpRequest, default: str) -> str:
    """Where to go after a button: the page it was pressed on (``next``), if it is ours."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _resident(request: HttpRequest) -> Resident | None:
    return resident_of(_user(request)) if request.user.is_authenticated else None


@dataclass(frozen=True)
class StarProgress:
    """Star level by confirmed hours, and how far the next star is."""

    stars: int
    levels: int
    next_stars: int | None
    next_hours: int | None
    hours_to_next: float | None

    @property
    def marks(self) -> list[bool]:
        """One per level, True for each star earned (★★☆☆)."""
        return [i < self.stars for i in range(self.levels)]


def star_progress(minutes: int) -> StarProgress:
    levels = len(settings.LIVINGROOM_VOLUNTEER_STAR_HOURS)
    stars, target = star_level(minutes), next_star_hours(minutes)
    if target is None:
        return StarProgress(stars, levels, None, None, None)
    return StarProgress(stars, levels, stars + 1, target, round(max(0.0, target - minutes / 60), 1))


@dataclass(frozen=True)
class ShiftRow:
    """A shift as the viewer sees it: ``state`` is cancelled, mine, ended, started, full
    or open."""

    shift: Shift
    state: str
    signup: Signup | None = None
    can_cancel: bool = False


def shift_rows(shifts: list[Shift], mine: dict[int, Signup], now: dt.datetime) -> list[ShiftRow]:
    rows = []
    for shift in shifts:
        signup = mine.get(shift.pk)
        if shift.status == Shift.Status.CANCELLED:
            state = "cancelled"
        elif signup is not None:
            state = "mine"
        elif shift.status != Shift.Status.SCHEDULED or shift.starts_at <= now:
            state = "ended" if shift.ends_at <= now else "started"
        elif shift.places_left == 0:
            state = "full"
        else:
            state = "open"
        can_cancel = signup is not None and shift.status == Shift.Status.SCHEDULED and shift.starts_at > now
        rows.append(ShiftRow(shift, state, signup, can_cancel))
    return rows


# --- the activities -------------------------------------------------------------------------------


def activity_list(request: HttpRequest) -> HttpResponse:
    """Published activities with shifts to come, each with those shifts; anyone may look."""
    now = timezone.now()
    centers = list(selectors.centers_with_open_activities(now=now))
    form = CenterFilterForm(request.GET or None, centers=[(c.pk, c.name) for c in centers])
    center_id = form.center_id
    activities = list(selectors.activities_open(center_id=center_id, now=now)[:LIST_LIMIT])
    volunteer = selectors.volunteer_of(_user(request))
    mine: dict[int, Signup] = {}
    if volunteer is not None:
        mine = {s.shift_id: s for s in selectors.signups_active_of(volunteer)}
    cards = [(a, shift_rows(a.upcoming_shifts, mine, now)) for a in activities]  # type: ignore[attr-defined]
    return render(
        request,
        "volunteering/list.html",
        {
            "cards": cards,
            "form": form,
            "centers": centers,
            "center_id": center_id,
            "volunteer": volunteer,
        },
    )


def audience_text(activity: Activity) -> list[str]:
    """Who may join, in words."""
    lines = []
    if activity.audience == Activity.Audience.COMMUNITY:
        lines.append(_("Volunteers living in %(name)s") % {"name": activity.center.community.name})
    else:
        lines.append(_("Any registered volunteer"))
    if activity.min_age is not None:
        lines.append(_("Aged %(n)s or over") % {"n": activity.min_age})
    return lines


def activity_detail(request: HttpRequest, activity_id: int) -> HttpResponse:
    """An activity: what, who organises, the points rule, who may join, its shifts and sign-up."""
    activity = selectors.activity_public(activity_id)
    now = timezone.now()
    resident = _resident(request)
    volunteer = selectors.volunteer_of(_user(request)) if resident is not None else None
    mine: dict[int, Signup] = {}
    problem = None
    if volunteer is not None:
        mine = {s.shift_id: s for s in selectors.signups_active_of(volunteer, activity_id=activity.pk)}
    if resident is not None:
        upcoming = [s for s in activity.shifts.all() if s.starts_at > now]
        day = local_day(upcoming[0].starts_at) if upcoming else timezone.localdate()
        problem = services.audience_problem(activity, resident, on=day)
    rows = shift_rows(list(activity.shifts.all()), mine, now)
    return render(
        request,
        "volunteering/detail.html",
        {
            "activity": activity,
            "rows": rows,
            "resident": resident,
            "volunteer": volunteer,
            "audience": audience_text(activity),
            "problem": problem,
            "can_sign_up": (
                volunteer is not None
                and volunteer.status == Volunteer.Status.ACTIVE
                and activity.status == Activity.Status.PUBLISHED
                and problem is None
            ),
            "open_shifts": sum(1 for r in rows if r.state == "open"),
        },
    )


@resident_required
@require_POST
def signup(request: HttpRequest, shift_id: int) -> HttpResponse:
    back = _back(request, reverse("volunteering:list"))
    try:
        made = services.signup_create(user=_user(request), shift_id=shift_id)
    except DomainError as exc:
        if exc.code == errors.ShiftNotFound.code:
            raise
        messages.error(request, exc.message)
        return redirect(back)
    messages.success(
        request,
        _("Signed up: %(role)s, %(when)s. Please check in with your resident pass when you arrive.")
        % {"role": made.shift.role, "when": when_label(made.shift.starts_at, made.shift.ends_at)},
    )
    return redirect(back)


# --- my volunteering ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignupRow:
    signup: Signup
    record: ServiceRecord | None
    can_cancel: bool

    @property
    def can_correct(self) -> bool:
        """A correction is asked for once the organiser has confirmed the shift's hours."""
        return self.signup.shift.status == Shift.Status.CONFIRMED


def _record_of(signup: Signup) -> ServiceRecord | None:
    try:
        return signup.record
    except ServiceRecord.DoesNotExist:
        return None


def _shift_label(signup: Signup, record: ServiceRecord | None) -> str:
    shift = signup.shift
    recorded = _("recorded %(m)s min") % {"m": record.minutes} if record else _("no hours recorded")
    return f"{local_day(shift.starts_at):%Y-%m-%d} {shift.activity.title} · {shift.role} ({recorded})"


@dataclass(frozen=True)
class MySignups:
    upcoming: list[SignupRow]  # not ended yet, soonest first
    past: list[SignupRow]  # ended: served (or not), with the record if confirmed
    cancelled: list[Signup]

    @property
    def served_choices(self) -> list[tuple[int, str]]:
        """The shifts a correction may be asked for."""
        return [(r.signup.pk, _shift_label(r.signup, r.record)) for r in self.past if r.can_correct]


def my_signups(volunteer: Volunteer, now: dt.datetime) -> MySignups:
    mine = MySignups([], [], [])
    for s in selectors.signups_of(volunteer)[:MINE_LIMIT]:
        if s.status != Signup.Status.SIGNED_UP:
            mine.cancelled.append(s)
            continue
        row = SignupRow(s, _record_of(s), s.shift.starts_at > now)
        (mine.upcoming if s.shift.ends_at > now else mine.past).append(row)
    mine.upcoming.reverse()
    return mine


def _mine_context(
    request: HttpRequest,
    volunteer: Volunteer | None,
    *,
    register_form: RegisterForm | None = None,
    correction_form: CorrectionForm | None = None,
    certificate_form: CertificateForm | None = None,
) -> dict[str, Any]:
    if volunteer is None:
        return {"volunteer": None, "register_form": register_form or RegisterForm()}
    signups = my_signups(volunteer, timezone.now())
    if correction_form is None:
        chosen = request.GET.get("signup", "")
        correction_form = CorrectionForm(
            initial={"signup": int(chosen)} if chosen.isdigit() else None, signups=signups.served_choices
        )
    return {
        "volunteer": volunteer,
        "progress": star_progress(volunteer.minutes_total),
        "points": points_selectors.balance_total(volunteer.resident),
        "upcoming": signups.upcoming,
        "past": signups.past,
        "cancelled": signups.cancelled[:20],
        "records": list(selectors.records_of(volunteer)[:MINE_LIMIT]),
        "corrections": list(selectors.corrections_of(volunteer)[:100]),
        "certificates": list(selectors.certificates_of(volunteer)[:50]),
        "correction_form": correction_form,
        "certificate_form": certificate_form or CertificateForm(),
    }


def _render_mine(
    request: HttpRequest, volunteer: Volunteer | None, status: int = 200, **forms: Any
) -> HttpResponse:
    context = _mine_context(request, volunteer, **forms)
    return render(request, "volunteering/mine.html", context, status=status)


def _resident_or_profile(request: HttpRequest) -> Resident | None:
    resident = _resident(request)
    if resident is None:
        messages.info(request, _("Please complete your real-name profile first."))
    return resident


@resident_required
def my_volunteering(request: HttpRequest) -> HttpResponse:
    """Registration for a resident who is not a volunteer yet; else hours, stars, points,
    sign-ups, records, corrections and certificates."""
    if _resident_or_profile(request) is None:
        return redirect("people:profile")
    return _render_mine(request, selectors.volunteer_of(_user(request)))


@resident_required
@require_POST
def register(request: HttpRequest) -> HttpResponse:
    if _resident_or_profile(request) is None:
        return redirect("people:profile")
    form = RegisterForm(request.POST)
    if form.is_valid():
        try:
            services.volunteer_register(
                user=_user(request),
                consent=bool(form.cleaned_data["consent"]),
                skills=form.cleaned_data["skills"],
            )
        except errors.AlreadyVolunteer as exc:
            messages.info(request, exc.message)
            return redirect("volunteering:mine")
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("Welcome! You are registered as a volunteer."))
            return redirect(_back(request, reverse("volunteering:mine")))
    return _render_mine(request, None, status=400, register_form=form)


@resident_required
@require_POST
def signup_cancel(request: HttpRequest, signup_id: int) -> HttpResponse:
    back = _back(request, reverse("volunteering:mine"))
    try:
        services.signup_cancel(user=_user(request), signup_id=signup_id)
    except DomainError as exc:
        if exc.status == 404:
            raise
        messages.error(request, exc.message)
        return redirect(back)
    messages.success(request, _("Your sign-up is cancelled; the place is free for someone else."))
    return redirect(back)


def _volunteer_or_404(request: HttpRequest) -> Volunteer:
    volunteer = selectors.volunteer_of(_user(request))
    if volunteer is None:
        raise errors.NotVolunteer()
    return volunteer


@resident_required
@require_POST
def correction(request: HttpRequest) -> HttpResponse:
    volunteer = _volunteer_or_404(request)
    served = my_signups(volunteer, timezone.now()).served_choices
    form = CorrectionForm(request.POST, signups=served)
    if form.is_valid():
        try:
            services.correction_request(
                user=_user(request),
                signup_id=form.cleaned_data["signup"],
                minutes=form.cleaned_data["minutes"],
                reason=form.cleaned_data["reason"],
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("Your request is sent. The organiser will answer it here."))
            return redirect(reverse("volunteering:mine") + "#corrections")
    return _render_mine(request, volunteer, status=400, correction_form=form)


@resident_required
@require_POST
def certificate_issue(request: HttpRequest) -> HttpResponse:
    volunteer = _volunteer_or_404(request)
    form = CertificateForm(request.POST)
    if form.is_valid():
        try:
            made = services.certificate_issue(
                user=_user(request),
                period_start=form.cleaned_data["period_start"],
                period_end=form.cleaned_data["period_end"],
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(
                request, _("Certificate %(number)s is issued. Download it below.") % {"number": made.number}
            )
            return redirect(reverse("volunteering:mine") + "#certificates")
    return _render_mine(request, volunteer, status=400, certificate_form=form)


@resident_required
def certificate_download(request: HttpRequest, certificate_id: int) -> HttpResponse:
    """The certificate as a PDF, for its volunteer only (anyone else: 404)."""
    certificate = selectors.certificate_of(_user(request), certificate_id)
    response = HttpResponse(pdf.certificate_pdf(certificate), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="certificate-{certificate.number}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


# --- checking a certificate -----------------------------------------------------------------------


def verify(request: HttpRequest) -> HttpResponse:
    """The public form: type the code printed on a certificate."""
    code = "".join(ch for ch in request.GET.get("code", "").upper() if ch.isalnum())[:16]
    if code:
        return redirect("volunteering:verify-code", code=code)
    return render(request, "volunteering/verify.html", {"code": "", "certificate": None, "searched": False})


def verify_code(request: HttpRequest, code: str) -> HttpResponse:
    """What a certificate says, with the name and ID number masked; or that no certificate has
    this code."""
    try:
        certificate = selectors.certificate_by_code(code)
    except errors.CertificateNotFound:
        missing: dict[str, Any] = {"code": code[:16], "certificate": None, "searched": True}
        return render(request, "volunteering/verify.html", missing, status=404)
    found: dict[str, Any] = {"code": certificate.code, "certificate": certificate, "searched": True}
    return render(request, "volunteering/verify.html", found)
