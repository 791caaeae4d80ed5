"""Console pages of courses: the list (with today's sessions), a proposal, one course (approval,
limits, cancellation, sessions, enrolments and payments, waiting list, no-shows, ratings, the
opening draw), a session's roster with attendance, talent applications, and totals.

Thin: they parse a form, call one service or selector, and put a refusal on the form it belongs
to. Another community's course is "not found" (the selectors raise ``NotFound``); officials and
partner staff see read-only pages, and partner staff never see residents (counts only).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import Case, Count, F, IntegerField, QuerySet, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from livingroom.booking.calendar import local_day, when_label
from livingroom.core.errors import DomainError, NotFound
from livingroom.core.excel import xlsx_response
from livingroom.core.formatting import format_date, format_datetime, format_fen, format_percent
from livingroom.core.permissions import staff_required, staff_scope_of
from livingroom.core.scopes import StaffScope
from livingroom.core.validators import parse_id
from livingroom.people.auth import acting_user
from livingroom.people.models import EligibilityVerification
from livingroom.places.models import Center, Community, Space
from livingroom.programs import selectors, services
from livingroom.programs.forms import (
    PROGRAM_ALIASES,
    ActionForm,
    LimitsForm,
    PaymentForm,
    ProgramForm,
    ReasonForm,
    TotalsForm,
    program_initial,
    show_error,
    welfare_share,
)
from livingroom.programs.models import Enrollment, Program, ProgramSession, Talent
from livingroom.programs.payments import adapters as payment_adapters

LIST_LIMIT = 200
NON_FIELD = "__all__"
EXPORT_LIMIT = 5000

STATUS_ORDER = Case(
    When(status=Program.Status.PENDING, then=Value(0)),
    When(status=Program.Status.PUBLISHED, then=Value(1)),
    When(status=Program.Status.REJECTED, then=Value(2)),
    default=Value(3),
    output_field=IntegerField(),
)


# --- shared helpers (also used by the talent's proposal page) -------------------------------------


def yuan(fen: int) -> Decimal:
    """Integer fen as a yuan number for a spreadsheet cell."""
    return Decimal(fen) / 100


def provider_label(program: Program, *, residents: bool) -> str:
    if program.provider == Program.Provider.ORGANIZATION and program.organization:
        return program.organization.name
    if program.provider == Program.Provider.TALENT:
        if residents and program.talent:
            return _("Talent %(name)s") % {"name": program.talent.resident.masked_name}
        return _("A resident talent")
    return _("The center")


def community_choices(first_street_ids: Iterable[int] = ()) -> list[tuple[str, list[tuple[int, str]]]]:
    """Every community, grouped by sub-district; the proposer's own sub-districts first."""
    first = set(first_street_ids)
    groups: dict[tuple[bool, str, str], list[tuple[int, str]]] = {}
    for c in Community.objects.select_related("street").order_by("street__code", "code"):
        groups.setdefault((c.street_id not in first, c.street.code, c.street.name), []).append((c.pk, c.name))
    return [(name, items) for (_later, _code, name), items in sorted(groups.items())]


def space_choices(spaces: list[Space]) -> list[Any]:
    several = len({s.center_id for s in spaces}) > 1
    if not several:
        return [(s.pk, s.name) for s in spaces]
    groups: dict[str, list[tuple[int, str]]] = {}
    for s in spaces:
        groups.setdefault(s.center.name, []).append((s.pk, s.name))
    return list(groups.items())


def propose_from_form(
    request: HttpRequest, form: ProgramForm, *, scope: StaffScope | None, center_id: int
) -> tuple[Program | None, int]:
    """Builds the sessions and proposes; a refusal goes on the form. (program, HTTP status)."""
    d = form.cleaned_data
    sessions: list[services.SessionDraft] = []
    try:
        sessions = services.weekly_sessions(
            space_id=d["space"], first_starts_at=d["first_starts_at"], minutes=d["minutes"], weeks=d["weeks"]
        )
        program = services.program_propose(
            actor=acting_user(request), scope=scope, draft=form.draft(center_id=center_id, sessions=sessions)
        )
    except DomainError as exc:
        labels = [when_label(s.starts_at, s.ends_at) for s in sorted(sessions, key=lambda s: s.starts_at)]
        return None, show_error(form, exc, PROGRAM_ALIASES, session_labels=labels)
    return program, 200


def _pct(part: int, whole: int) -> float | None:
    return part / whole if whole else None


# --- the list -------------------------------------------------------------------------------------


def _status_tabs(counts: dict[str, int]) -> list[dict[str, Any]]:
    tabs = [{"key": "", "label": _("All"), "count": sum(counts.values())}]
    for value, label in Program.Status.choices:
        tabs.append({"key": value, "label": label, "count": counts.get(value, 0)})
    return tabs


@staff_required
def index(request: HttpRequest) -> HttpResponse:
    scope = staff_scope_of(request)
    programs = selectors.staff_programs(scope)
    visible = Program.objects.filter(pk__in=programs.values("pk"))
    counts = dict(visible.order_by().values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    centers = list(
        Center.objects.filter(pk__in=visible.values("center_id")).order_by("community__code", "name")
    )
    status = request.GET.get("status", "")
    if status not in Program.Status.values:
        status = ""
    center_id = parse_id(request.GET.get("center"))
    center = None
    if center_id is not None:
        center = next((c for c in centers if c.pk == center_id), None)
        if center is None:
            raise NotFound(code="center_not_found")
    qs = programs
    if status:
        qs = qs.filter(status=status)
    if center is not None:
        qs = qs.filter(center=center)
    qs = qs.order_by(STATUS_ORDER, F("first_starts_at").desc(nulls_last=True), "-id")
    residents = scope.can_see_residents
    if request.GET.get("format") == "xlsx":
        return xlsx_response(
            "courses.xlsx",
            _("Courses"),
            [
                _("Title"),
                _("Center"),
                _("Provider"),
                _("Category"),
                _("First session"),
                _("Sessions"),
                pgettext("course", "Seats taken"),
                _("Seats"),
                _("Waiting"),
                _("Waiting-list places"),
                _("Price charged (yuan)"),
                _("Market price (yuan)"),
                _("Public welfare"),
                _("Status"),
            ],
            [
                [
                    p.title,
                    p.center.name,
                    provider_label(p, residents=residents),
                    p.get_category_display(),
                    format_datetime(p.first_starts_at),  # type: ignore[attr-defined]
                    p.session_count,  # type: ignore[attr-defined]
                    p.seats_taken,
                    p.capacity,
                    p.waitlist_count,
                    p.waitlist_size,
                    yuan(p.price_fen),
                    yuan(p.market_price_fen),
                    _("yes") if p.public_welfare else _("no"),
                    p.get_status_display(),
                ]
                for p in qs[:EXPORT_LIMIT]
            ],
        )
    rows = [{"p": p, "provider": provider_label(p, residents=residents)} for p in qs[:LIST_LIMIT]]
    today = timezone.localdate()
    today_sessions = list(selectors.staff_sessions_on(scope, today))
    base: dict[str, str] = {}
    if center is not None:
        base["center"] = str(center.pk)
    export: dict[str, str] = {**base, "format": "xlsx"}
    if status:
        export["status"] = status
    return render(
        request,
        "programs/console_index.html",
        {
            "rows": rows,
            "more": max(qs.count() - LIST_LIMIT, 0) if len(rows) == LIST_LIMIT else 0,
            "tabs": _status_tabs(counts),
            "status": status,
            "centers": centers,
            "center": center,
            "base_qs": urlencode(base),
            "export_qs": urlencode(export),
            "today": today,
            "today_sessions": today_sessions,
            "can_propose": selectors.proposal_centers(scope).exists(),
        },
    )


# --- a proposal -----------------------------------------------------------------------------------


@staff_required
def new(request: HttpRequest) -> HttpResponse:
    scope = staff_scope_of(request)
    centers = list(selectors.proposal_centers(scope))
    if not centers:
        return render(request, "programs/console_new.html", {"form": None})
    center_ids = [c.pk for c in centers]
    partner_only = not any(scope.works_at(c.community_id) for c in centers)
    spaces = selectors.session_spaces(center_ids)
    form = ProgramForm(
        request.POST or None,
        initial=program_initial(),
        centers=[(c.pk, c.name) for c in centers],
        organizations=[(o.pk, o.name) for o in selectors.proposal_organizations(scope, center_ids)],
        organization_required=partner_only,
        spaces=space_choices(spaces),
        space_centers={s.pk: s.center_id for s in spaces},
        communities=community_choices(c.community.street_id for c in centers),
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            program, status = propose_from_form(
                request, form, scope=scope, center_id=form.cleaned_data["center"]
            )
            if program is not None:
                messages.success(
                    request,
                    _('"%(title)s" is proposed. It is published once the center\'s desk approves it.')
                    % {"title": program.title},
                )
                return redirect("programs_console:program", program_id=program.pk)
        else:
            status = 400
    return render(
        request,
        "programs/console_new.html",
        {"form": form, "share": welfare_share(), "has_spaces": bool(spaces)},
        status=status,
    )


# --- one course -----------------------------------------------------------------------------------


def _enrollment_rows(
    enrollments: Iterable[Enrollment], pay_form: PaymentForm, failed: int | None, can_act: bool
) -> list[dict[str, Any]]:
    rows = []
    for e in enrollments:
        owed = e.price_fen - e.paid_fen
        holds = e.status in Enrollment.HOLDS_SEAT
        rows.append(
            {
                "e": e,
                "owed": owed,
                "owed_yuan": f"{owed // 100}.{owed % 100:02d}",
                "can_pay": can_act and holds and owed > 0,
                "failed": failed == e.pk,
                "form": pay_form if failed == e.pk else None,
            }
        )
    return rows


@staff_required
def program(request: HttpRequest, program_id: int) -> HttpResponse:
    scope = staff_scope_of(request)
    record = selectors.staff_program(scope, program_id)
    can_act = scope.works_at(record.center.community_id)
    residents = scope.can_see_residents
    staff = acting_user(request)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    posted = request.POST if action else None
    reject_form = ReasonForm(
        posted if action == "reject" else None,
        prefix="reject",
        label=_("Reason for refusing"),
        help_text=_("The proposer is told this reason."),
    )
    cancel_form = ReasonForm(
        posted if action == "cancel" else None,
        prefix="cancel",
        label=_("Reason for cancelling"),
        help_text=_("Everyone signed up is told; paid fees are refunded in full."),
    )
    limits_form = LimitsForm(
        posted if action == "limits" else None,
        prefix="limits",
        initial={"capacity": record.capacity, "waitlist_size": record.waitlist_size},
    )
    session_form = ReasonForm(
        posted if action == "cancel_session" else None,
        prefix="session",
        label=_("Reason for cancelling the session"),
    )
    pay_form = PaymentForm(posted if action == "pay" else None, prefix="pay")
    action_form = ActionForm()
    sessions = list(selectors.sessions_of(record))
    labels = [
        when_label(s.starts_at, s.ends_at) for s in sessions if s.status == ProgramSession.Status.SCHEDULED
    ]
    failed_session: int | None = None
    failed_payment: int | None = None
    status = 200
    if action:
        try:
            if action == "approve":
                services.program_approve(scope=scope, staff=staff, program_id=record.pk)
                messages.success(
                    request, _("The course is published; its spaces are reserved for every session.")
                )
                return redirect("programs_console:program", program_id=record.pk)
            if action == "reject" and reject_form.is_valid():
                services.program_reject(
                    scope=scope, staff=staff, program_id=record.pk, reason=reject_form.cleaned_data["reason"]
                )
                messages.success(request, _("The proposal is refused; the proposer is told the reason."))
                return redirect("programs_console:program", program_id=record.pk)
            if action == "limits" and limits_form.is_valid():
                changed = services.program_limits_set(
                    scope=scope,
                    staff=staff,
                    program_id=record.pk,
                    capacity=limits_form.cleaned_data["capacity"],
                    waitlist_size=limits_form.cleaned_data["waitlist_size"],
                )
                messages.success(
                    request,
                    _("Saved: %(seats)d seats, %(places)d waiting-list places.")
                    % {"seats": changed.capacity, "places": changed.waitlist_size},
                )
                return redirect("programs_console:program", program_id=record.pk)
            if action == "cancel" and cancel_form.is_valid():
                services.program_cancel(
                    scope=scope, staff=staff, program_id=record.pk, reason=cancel_form.cleaned_data["reason"]
                )
                messages.success(request, _("The course is cancelled; everyone signed up is told."))
                return redirect("programs_console:program", program_id=record.pk)
            if action == "cancel_session":
                failed_session = parse_id(request.POST.get("session"))
                if session_form.is_valid():
                    target = selectors.staff_session(scope, failed_session or 0)
                    if target.program_id != record.pk:
                        raise NotFound(code="session_not_found")
                    services.session_cancel(
                        scope=scope,
                        staff=staff,
                        session_id=target.pk,
                        reason=session_form.cleaned_data["reason"],
                    )
                    messages.success(
                        request,
                        _("The session of %(when)s is cancelled; the people enrolled are told.")
                        % {"when": when_label(target.starts_at, target.ends_at)},
                    )
                    return redirect("programs_console:program", program_id=record.pk)
            if action == "pay":
                failed_payment = parse_id(request.POST.get("pay-enrollment"))
                if pay_form.is_valid():
                    enrollment_id = pay_form.cleaned_data["enrollment"]
                    if not selectors.staff_enrollments(scope, record).filter(pk=enrollment_id).exists():
                        raise NotFound(code="enrollment_not_found")
                    payment = services.payment_record(
                        scope=scope,
                        staff=staff,
                        enrollment_id=enrollment_id,
                        method=pay_form.cleaned_data["method"],
                        amount_fen=pay_form.amount_fen,
                        reference=pay_form.cleaned_data.get("reference") or "",
                    )
                    messages.success(
                        request,
                        _("Payment of %(amount)s recorded for %(who)s.")
                        % {
                            "amount": format_fen(payment.amount_fen),
                            "who": payment.enrollment.participant_masked,
                        },
                    )
                    return redirect(f"{request.path}#enrolments")
        except DomainError as exc:
            if isinstance(exc, NotFound) and exc.field is None:
                raise  # another course's session or enrolment: not found
            target_form: forms.BaseForm = {
                "reject": reject_form,
                "cancel": cancel_form,
                "limits": limits_form,
                "cancel_session": session_form,
                "pay": pay_form,
            }.get(action, action_form)
            status = show_error(
                target_form,
                exc,
                {"enrollment_id": NON_FIELD, "amount_fen": "amount", "session_id": "reason"},
                session_labels=labels,
                messages={"session_in_past": _("This session has already ended.")}
                if action == "cancel_session"
                else None,
            )
        if status == 200:
            status = 400  # a form was not valid
    now = timezone.now()
    figures = selectors.program_figures(record, now=now)
    marks = selectors.session_attendance(record)
    confirmed = figures.confirmed
    session_rows = []
    for index, s in enumerate(sessions, start=1):
        present, marked = marks.get(s.pk, (0, 0))
        scheduled = s.status == ProgramSession.Status.SCHEDULED
        session_rows.append(
            {
                "s": s,
                "n": index,
                "when": when_label(s.starts_at, s.ends_at),
                "held": scheduled and s.starts_at <= now,
                "today": scheduled and local_day(s.starts_at) == timezone.localdate(),
                "present": present,
                "marked": marked,
                "rate": format_percent(_pct(present, confirmed)) if scheduled and s.starts_at <= now else "",
                "can_cancel": can_act
                and scheduled
                and s.ends_at > now
                and record.status == Program.Status.PUBLISHED,
                "failed": failed_session == s.pk,
            }
        )
    enrollments = list(selectors.staff_enrollments(scope, record))
    if request.GET.get("format") == "xlsx":
        return _enrollments_xlsx(record, enrollments)
    draw = selectors.program_draw(record)
    replay = (
        services.draw_replay(
            draw,
            capacity=record.capacity,
            waitlist_size=record.waitlist_size,
            commitment=record.draw_seed_sha256,
        )
        if draw is not None
        else None
    )
    kinds = dict(EligibilityVerification.Kind.choices)
    methods = {a.method: str(a.label) for a in payment_adapters().values()}
    return render(
        request,
        "programs/console_program.html",
        {
            "p": record,
            "provider": provider_label(record, residents=residents),
            "can_act": can_act,
            "residents": residents,
            "figures": figures,
            "attendance_rate": format_percent(figures.attendance_rate),
            "discount_pct": format_percent(_pct(record.discount_fen, record.market_price_fen), 0),
            "communities": list(record.communities.order_by("code")),
            "eligibility": [str(kinds.get(k, k)) for k in record.eligibility_kinds],
            "sessions": session_rows,
            "enrollments": _enrollment_rows(enrollments, pay_form, failed_payment, can_act),
            "pay_column": can_act and any(e.price_fen for e in enrollments),
            "active_count": sum(1 for e in enrollments if e.is_active),
            "waiting": list(selectors.waiting_list(scope, record)),
            "no_shows": selectors.no_show_list(scope, record, now=now),
            "ratings": list(selectors.program_ratings(record)[:100]),
            "payments": [
                (pay, methods.get(pay.method, pay.method))
                for pay in selectors.program_payments(scope, record)[:100]
            ],
            "draw": draw,
            "replay": replay,
            "reject_form": reject_form,
            "cancel_form": cancel_form,
            "limits_form": limits_form,
            "session_form": session_form,
            "pay_form": pay_form,
            "action_form": action_form,
            "decidable": record.status == Program.Status.PENDING,
            "changeable": record.status in (Program.Status.PENDING, Program.Status.PUBLISHED),
        },
        status=status,
    )


def _enrollments_xlsx(record: Program, enrollments: list[Enrollment]) -> HttpResponse:
    return xlsx_response(
        f"course-{record.pk}-enrolments.xlsx",
        _("Enrolments"),
        [
            _("Participant"),
            _("Family member"),
            _("Status"),
            _("Waiting-list position"),
            _("Requested"),
            _("Price (yuan)"),
            _("Paid (yuan)"),
            _("Rating"),
        ],
        [
            [
                e.participant_masked,
                _("yes") if e.dependant_id else _("no"),
                e.get_status_display(),
                e.position,
                format_datetime(e.requested_at),
                yuan(e.price_fen),
                yuan(e.paid_fen),
                e.rating,
            ]
            for e in enrollments[:EXPORT_LIMIT]
        ],
    )


# --- a session's roster ---------------------------------------------------------------------------


def _ids(values: Iterable[str]) -> list[int]:
    return [i for i in (parse_id(v) for v in values) if i is not None]


@staff_required
def session(request: HttpRequest, session_id: int) -> HttpResponse:
    scope = staff_scope_of(request)
    record = selectors.staff_session(scope, session_id)
    course = record.program
    can_act = scope.works_at(course.center.community_id)
    now = timezone.now()
    scheduled = record.status == ProgramSession.Status.SCHEDULED
    is_today = local_day(record.starts_at) == timezone.localdate()
    can_mark = can_act and scheduled and is_today and course.status == Program.Status.PUBLISHED
    action = request.POST.get("action", "") if request.method == "POST" else ""
    cancel_form = ReasonForm(
        request.POST if action == "cancel" else None,
        prefix="cancel",
        label=_("Reason for cancelling the session"),
        help_text=_("The people enrolled are told; a share of paid fees is refunded."),
    )
    mark_form = ActionForm()
    status = 200
    if action:
        staff = acting_user(request)
        try:
            if action in ("mark", "all_present"):
                ids = _ids(request.POST.getlist("enrollment"))
                ticked = set(ids) if action == "all_present" else set(_ids(request.POST.getlist("present")))
                to_mark = [services.Mark(enrollment_id=i, present=i in ticked) for i in dict.fromkeys(ids)]
                services.attendance_mark(scope=scope, staff=staff, session_id=record.pk, marks=to_mark)
                came = sum(1 for m in to_mark if m.present)
                messages.success(
                    request,
                    _("Attendance saved: %(present)d present, %(absent)d absent.")
                    % {"present": came, "absent": len(to_mark) - came},
                )
                return redirect("programs_console:session", session_id=record.pk)
            if action == "cancel" and cancel_form.is_valid():
                services.session_cancel(
                    scope=scope, staff=staff, session_id=record.pk, reason=cancel_form.cleaned_data["reason"]
                )
                messages.success(request, _("The session is cancelled; the people enrolled are told."))
                return redirect("programs_console:session", session_id=record.pk)
        except DomainError as exc:
            target = cancel_form if action == "cancel" else mark_form
            status = show_error(
                target,
                exc,
                {"session_id": "reason"},
                messages={"session_in_past": _("This session has already ended.")},
            )
        if status == 200:
            status = 400
    rows = selectors.roster(scope, record)
    present = sum(1 for r in rows if r.present)
    absent = sum(1 for r in rows if r.present is False)
    marks = selectors.session_attendance(course).get(record.pk, (0, 0))
    enrolled = course.enrollments.filter(status=Enrollment.Status.CONFIRMED).count()
    if request.GET.get("format") == "xlsx":
        return xlsx_response(
            f"roster-{course.pk}-{format_date(local_day(record.starts_at))}.xlsx",
            _("Roster"),
            [
                pgettext("row number", "No."),
                _("Participant"),
                _("Family member"),
                _("Attendance"),
                _("Price (yuan)"),
                _("Paid (yuan)"),
            ],
            [
                [
                    n,
                    r.enrollment.participant_masked,
                    _("yes") if r.enrollment.dependant_id else _("no"),
                    _("present") if r.present else (_("absent") if r.present is False else _("not marked")),
                    yuan(r.enrollment.price_fen),
                    yuan(r.enrollment.paid_fen),
                ]
                for n, r in enumerate(rows, start=1)
            ],
        )
    siblings = list(selectors.sessions_of(course).values_list("pk", flat=True))
    position = siblings.index(record.pk)
    return render(
        request,
        "programs/console_session.html",
        {
            "s": record,
            "p": course,
            "when": when_label(record.starts_at, record.ends_at),
            "rows": rows,
            "residents": scope.can_see_residents,
            "enrolled": enrolled,
            "present": present if scope.can_see_residents else marks[0],
            "absent": absent if scope.can_see_residents else marks[1] - marks[0],
            "unmarked": enrolled - (present + absent if scope.can_see_residents else marks[1]),
            "rate": format_percent(_pct(marks[0], enrolled)) if marks[1] else "—",
            "can_act": can_act,
            "can_mark": can_mark,
            "is_today": is_today,
            "cancellable": can_act
            and scheduled
            and record.ends_at > now
            and course.status == Program.Status.PUBLISHED,
            "cancel_form": cancel_form,
            "mark_form": mark_form,
            "number": position + 1,
            "of": len(siblings),
            "prev_id": siblings[position - 1] if position > 0 else None,
            "next_id": siblings[position + 1] if position + 1 < len(siblings) else None,
        },
        status=status,
    )


# --- talents --------------------------------------------------------------------------------------


def _talents(scope: StaffScope) -> QuerySet[Talent]:
    order = Case(
        When(status=Talent.Status.PENDING, then=Value(0)),
        When(status=Talent.Status.APPROVED, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    return selectors.staff_talents(scope).order_by(order, "-applied_at", "-id")


@staff_required
def talents(request: HttpRequest) -> HttpResponse:
    scope = staff_scope_of(request)
    form = ReasonForm(label=_("Reason for refusing"))
    action_form = ActionForm()
    failed: int | None = None
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        failed = parse_id(request.POST.get("talent"))
        form = ReasonForm(request.POST if action == "refuse" else None, label=_("Reason for refusing"))
        try:
            if failed is None:
                raise NotFound(code="talent_not_found")
            if action == "approve" or (action == "refuse" and form.is_valid()):
                talent = services.talent_decide(
                    scope=scope,
                    staff=acting_user(request),
                    talent_id=failed,
                    approve=action == "approve",
                    reason=form.cleaned_data.get("reason", "") if action == "refuse" else "",
                )
                messages.success(
                    request,
                    (
                        _("%(name)s is approved as a talent and may now propose courses.")
                        if action == "approve"
                        else _("The application of %(name)s is refused; they are told the reason.")
                    )
                    % {"name": talent.resident.masked_name},
                )
                return redirect("programs_console:talents")
        except DomainError as exc:
            if isinstance(exc, NotFound) and exc.field is None:
                raise  # another community's application: not found
            status = show_error(form if action == "refuse" else action_form, exc)
        if status == 200:
            status = 400
    qs = _talents(scope)
    if request.GET.get("format") == "xlsx":
        return xlsx_response(
            "talents.xlsx",
            _("Talents"),
            [_("Name"), _("Community"), _("Kind"), _("Skills"), _("Short bio"), _("Applied"), _("Status")],
            [
                [
                    t.resident.masked_name,
                    t.community.name,
                    t.get_kind_display(),
                    t.skills,
                    t.bio,
                    format_datetime(t.applied_at),
                    t.get_status_display(),
                ]
                for t in qs[:EXPORT_LIMIT]
            ],
        )
    shown = list(qs[:LIST_LIMIT])
    rows = [{"t": t, "can_act": scope.works_at(t.community_id)} for t in shown]
    return render(
        request,
        "programs/console_talents.html",
        {
            "rows": rows,
            "form": form,
            "action_form": action_form,
            "failed": failed,
            "residents": scope.can_see_residents,
            "pending": sum(1 for t in shown if t.status == Talent.Status.PENDING),
        },
        status=status,
    )


# --- totals ---------------------------------------------------------------------------------------


def _month_bounds(day: dt.date) -> tuple[dt.date, dt.date]:
    first = day.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return first, following - dt.timedelta(days=1)


@staff_required
def totals(request: HttpRequest) -> HttpResponse:
    scope = staff_scope_of(request)
    date_from, date_to = _month_bounds(timezone.localdate())
    form = TotalsForm(request.GET or None, initial={"from": date_from, "to": date_to})
    status = 200
    if form.is_bound:
        if form.is_valid():
            date_from = form.cleaned_data["from"] or date_from
            date_to = form.cleaned_data["to"] or date_to
            if date_to < date_from:
                date_to = date_from
        else:
            status = 400
    rows = selectors.totals(scope, date_from=date_from, date_to=date_to) if status == 200 else []
    if request.GET.get("format") == "xlsx" and status == 200:
        return xlsx_response(
            f"course-totals-{format_date(date_from)}-{format_date(date_to)}.xlsx",
            _("Course totals"),
            [
                _("Center"),
                _("Courses run"),
                _("Seats offered"),
                pgettext("course", "Seats taken"),
                _("Fill rate"),
                _("Attendance rate"),
                _("Discount given (yuan)"),
                _("Charged (yuan)"),
            ],
            [
                [
                    r.center.name,
                    r.programs,
                    r.seats_offered,
                    r.seats_taken,
                    round(r.fill_rate, 4) if r.fill_rate is not None else None,
                    round(r.attendance_rate, 4) if r.attendance_rate is not None else None,
                    yuan(r.discount_fen),
                    yuan(r.charged_fen),
                ]
                for r in rows
            ],
        )
    offered = sum(r.seats_offered for r in rows)
    taken = sum(r.seats_taken for r in rows)
    came, expected = sum(r.present for r in rows), sum(r.expected for r in rows)
    return render(
        request,
        "programs/console_totals.html",
        {
            "form": form,
            "date_from": date_from,
            "date_to": date_to,
            "rows": [
                {
                    "r": r,
                    "fill_rate": format_percent(r.fill_rate),
                    "attendance_rate": format_percent(r.attendance_rate),
                }
                for r in rows
            ],
            "total": {
                "programs": sum(r.programs for r in rows),
                "offered": offered,
                "taken": taken,
                "fill_rate": format_percent(_pct(taken, offered)),
                "fill_ratio": _pct(taken, offered),
                "attendance_rate": format_percent(_pct(came, expected)),
                "discount_fen": sum(r.discount_fen for r in rows),
                "charged_fen": sum(r.charged_fen for r in rows),
            },
            "export_qs": urlencode(
                {"from": date_from.isoformat(), "to": date_to.isoformat(), "format": "xlsx"}
            ),
        },
        status=status,
    )
