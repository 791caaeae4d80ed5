"""Console pages of volunteering, under /console/volunteering/: the activities (with a new one),
an activity with its shifts, a shift's roster (scan a pass, confirm the hours), correction
requests, the volunteer roster and the hours report.

Thin: they parse a form, call one service or selector, and put a refusal on the form it belongs
to. Another community's activity, shift, correction or volunteer is "not found" (the selectors
and services raise ``NotFound``). Names are masked everywhere; exports too.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import Max, Min
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from livingroom.booking.calendar import when_label
from livingroom.core.errors import DomainError, NotFound
from livingroom.core.excel import xlsx_response
from livingroom.core.formatting import format_date, format_datetime
from livingroom.core.permissions import staff_required, staff_scope_of
from livingroom.core.scopes import StaffScope
from livingroom.core.validators import parse_id, search_text
from livingroom.people.auth import acting_user
from livingroom.volunteering import selectors, services
from livingroom.volunteering.console_forms import (
    ActionForm,
    ActivityForm,
    DecisionForm,
    HoursForm,
    PeriodForm,
    ReasonForm,
    ScanForm,
    StatusForm,
    show_error,
)
from livingroom.volunteering.models import Activity, Correction, Shift, Volunteer

LIST_LIMIT = 200
EXPORT_LIMIT = 5000


def _can_act(scope: StaffScope, activity: Activity) -> bool:
    """The organiser acts: the desk of the activity's community, or the organisation running it."""
    return scope.works_at(activity.center.community_id) or (
        activity.organization_id is not None and activity.organization_id in scope.organization_ids
    )


def _hours(minutes: int | None) -> str:
    return "" if minutes is None else f"{minutes / 60:.1f}"


def _not_found_of_page(exc: DomainError) -> bool:
    """A refusal that means the object is not the caller's to see: the page answers 404."""
    return exc.status == 404 and exc.field is None


def _failed(status: int) -> int:
    return 400 if status == 200 else status


# --- the activities -----------------------------------------------------------------------------


def _status_tabs(counts: dict[str, int]) -> list[dict[str, Any]]:
    tabs = [{"key": "", "label": pgettext("filter", "All"), "count": sum(counts.values())}]
    for value, label in Activity.Status.choices:
        tabs.append({"key": value, "label": label, "count": counts.get(value, 0)})
    return tabs


@staff_required
def index(request: HttpRequest) -> HttpResponse:
    scope = staff_scope_of(request)
    counts = selectors.activity_counts_for_staff(scope)
    centers = list(selectors.activity_centers_for_staff(scope))
    status = request.GET.get("status", "")
    if status not in Activity.Status.values:
        status = ""
    center_id = parse_id(request.GET.get("center"))
    center = None
    if center_id is not None:
        center = next((c for c in centers if c.pk == center_id), None)
        if center is None:
            raise NotFound(code="center_not_found")
    qs = selectors.activities_for_staff(
        scope, center_id=center.pk if center else None, status=status or None
    ).annotate(first_start=Min("shifts__starts_at"), last_end=Max("shifts__ends_at"))
    if request.GET.get("format") == "xlsx":
        return xlsx_response(
            "volunteer-activities.xlsx",
            _("Volunteer activities"),
            [
                pgettext("volunteer activity", "Title"),
                _("Center"),
                _("Organiser"),
                _("Status"),
                _("First shift"),
                _("Last shift ends"),
                _("Shifts"),
                _("Places taken"),
                _("Places needed"),
                _("Points per hour"),
                _("Bonus points per shift"),
                _("Created"),
            ],
            [
                [
                    a.title,
                    a.center.name,
                    a.organizer_name,
                    a.get_status_display(),
                    format_datetime(a.first_start),  # type: ignore[attr-defined]
                    format_datetime(a.last_end),  # type: ignore[attr-defined]
                    a.shift_count,  # type: ignore[attr-defined]
                    a.taken_total or 0,  # type: ignore[attr-defined]
                    a.needed_total or 0,  # type: ignore[attr-defined]
                    a.points_per_hour,
                    a.bonus_points,
                    format_datetime(a.created_at),
                ]
                for a in qs[:EXPORT_LIMIT]
            ],
        )
    rows = list(qs[:LIST_LIMIT])
    base: dict[str, str] = {"center": str(center.pk)} if center else {}
    export = {**base, "format": "xlsx", **({"status": status} if status else {})}
    return render(
        request,
        "volunteering/console_index.html",
        {
            "rows": rows,
            "more": max(qs.count() - LIST_LIMIT, 0) if len(rows) == LIST_LIMIT else 0,
            "tabs": _status_tabs(counts),
            "status": status,
            "centers": centers,
            "center": center,
            "base_qs": urlencode(base),
            "export_qs": urlencode(export),
            "can_organise": selectors.organizer_centers(scope).exists(),
        },
    )


# --- a new activity -----------------------------------------------------------------------------


@staff_required
def new(request: HttpRequest) -> HttpResponse:
    scope = staff_scope_of(request)
    centers = list(selectors.organizer_centers(scope))
    if not centers:
        return render(request, "volunteering/console_new.html", {"form": None})
    partner_only = not any(scope.works_at(c.community_id) for c in centers)
    organizations = selectors.organizer_organizations(scope, [c.pk for c in centers])
    form = ActivityForm(
        request.POST or None,
        centers=[(c.pk, c.name) for c in centers],
        organizations=[(o.pk, o.name) for o in organizations],
        organization_required=partner_only,
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                activity = services.activity_create(
                    staff=acting_user(request), scope=scope, draft=form.draft()
                )
            except DomainError as exc:
                status = show_error(form, exc, form.aliases())
            else:
                messages.success(
                    request,
                    (
                        _("“%(title)s” is published; volunteers can sign up now.")
                        if activity.status == Activity.Status.PUBLISHED
                        else _("“%(title)s” is saved as a draft; publish it when it is ready.")
                    )
                    % {"title": activity.title},
                )
                return redirect("volunteering_console:activity", activity_id=activity.pk)
        else:
            status = 400
    return render(
        request,
        "volunteering/console_new.html",
        {"form": form, "main_fields": form.main_fields(), "shift_rows": form.rows()},
        status=status,
    )


# --- an activity --------------------------------------------------------------------------------


@staff_required
def activity(request: HttpRequest, activity_id: int) -> HttpResponse:
    scope = staff_scope_of(request)
    record = selectors.activity_for_staff(scope, activity_id)
    can_act = _can_act(scope, record)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    cancel_form = ReasonForm(
        request.POST if action == "cancel" else None,
        prefix="cancel",
        label=_("Reason for cancelling"),
        help_text=_("Volunteers signed up for shifts still to come are told this reason."),
    )
    action_form = ActionForm()
    status = 200
    if action:
        staff = acting_user(request)
        try:
            if action == "publish":
                services.activity_publish(staff=staff, scope=scope, activity_id=record.pk)
                messages.success(request, _("The activity is published; volunteers can sign up now."))
                return redirect("volunteering_console:activity", activity_id=record.pk)
            if action == "cancel" and cancel_form.is_valid():
                services.activity_cancel(
                    staff=staff, scope=scope, activity_id=record.pk, reason=cancel_form.cleaned_data["reason"]
                )
                messages.success(
                    request, _("The activity is cancelled; the volunteers signed up are told the reason.")
                )
                return redirect("volunteering_console:activity", activity_id=record.pk)
        except DomainError as exc:
            if _not_found_of_page(exc):
                raise
            status = show_error(cancel_form if action == "cancel" else action_form, exc)
        status = _failed(status)
    shifts = list(record.shifts.all())
    if request.GET.get("format") == "xlsx":
        return xlsx_response(
            f"volunteer-activity-{record.pk}-shifts.xlsx",
            _("Shifts"),
            [_("Role"), _("Place"), _("When"), _("Places taken"), _("Places needed"), _("Status")],
            [
                [
                    s.role,
                    s.place,
                    when_label(s.starts_at, s.ends_at),
                    s.taken,
                    s.needed,
                    s.get_status_display(),
                ]
                for s in shifts
            ],
        )
    now = timezone.now()
    rows = [
        {
            "s": s,
            "when": when_label(s.starts_at, s.ends_at),
            "ended": s.ends_at <= now,
            "to_confirm": s.status == Shift.Status.SCHEDULED and s.ends_at <= now,
        }
        for s in shifts
    ]
    return render(
        request,
        "volunteering/console_activity.html",
        {
            "a": record,
            "rows": rows,
            "can_act": can_act,
            "needed": sum(s.needed for s in shifts if s.status != Shift.Status.CANCELLED),
            "taken": sum(s.taken for s in shifts),
            "cancel_form": cancel_form,
            "action_form": action_form,
        },
        status=status,
    )


# --- a shift: roster, check-in by scan, confirming the hours ------------------------------------


@staff_required
def shift(request: HttpRequest, shift_id: int) -> HttpResponse:
    scope = staff_scope_of(request)
    record = selectors.shift_for_staff(scope, shift_id)
    parent = record.activity
    can_act = _can_act(scope, parent)
    now = timezone.now()
    lines = selectors.roster(record)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    scan_form = ScanForm(
        request.POST if action == "scan" else None, prefix="scan", initial={"direction": "in"}
    )
    hours_form = HoursForm(
        request.POST if action == "confirm" else None,
        prefix="hours",
        lines=lines,
        shift_minutes=record.minutes,
    )
    status = 200
    if action:
        staff = acting_user(request)
        target: forms.Form = hours_form if action == "confirm" else scan_form
        try:
            if action == "scan" and scan_form.is_valid():
                direction = scan_form.cleaned_data["direction"]
                signup = services.check_by_staff(
                    staff=staff,
                    scope=scope,
                    shift_id=record.pk,
                    token=scan_form.cleaned_data["token"].strip(),
                    direction=direction,
                )
                messages.success(
                    request,
                    (
                        _("%(who)s (%(number)s) checked in at %(time)s.")
                        if direction == "in"
                        else _("%(who)s (%(number)s) checked out at %(time)s.")
                    )
                    % {
                        "who": signup.volunteer.resident.masked_name,
                        "number": signup.volunteer.number,
                        "time": format_datetime(
                            signup.checked_in_at if direction == "in" else signup.checked_out_at
                        ),
                    },
                )
                return redirect("volunteering_console:shift", shift_id=record.pk)
            if action == "confirm" and hours_form.is_valid():
                records = services.hours_confirm(
                    staff=staff, scope=scope, shift_id=record.pk, lines=hours_form.hours_lines()
                )
                messages.success(
                    request,
                    ngettext(
                        "Hours confirmed: %(n)s service record, %(hours)s hours, %(points)s points awarded.",
                        "Hours confirmed: %(n)s service records, %(hours)s hours, %(points)s points awarded.",
                        len(records),
                    )
                    % {
                        "n": len(records),
                        "hours": _hours(sum(r.minutes for r in records)),
                        "points": sum(r.points_awarded for r in records),
                    },
                )
                return redirect("volunteering_console:shift", shift_id=record.pk)
        except DomainError as exc:
            if _not_found_of_page(exc):
                raise
            status = show_error(
                target, exc, hours_form.aliases() if action == "confirm" else {"shift_id": ""}
            )
        status = _failed(status)
    recorded: list[Any] = [getattr(line.signup, "record", None) for line in lines]
    if request.GET.get("format") == "xlsx":
        return xlsx_response(
            f"volunteer-shift-{record.pk}-roster.xlsx",
            _("Roster"),
            [
                "#",
                _("Volunteer number"),
                _("Name"),
                _("Checked in"),
                _("Checked out"),
                _("Measured minutes"),
                _("Confirmed minutes"),
                _("Points awarded"),
                _("Reason for the adjustment"),
            ],
            [
                [
                    n,
                    line.signup.volunteer.number,
                    line.signup.volunteer.resident.masked_name,
                    format_datetime(line.signup.checked_in_at),
                    format_datetime(line.signup.checked_out_at),
                    line.measured,
                    rec.minutes if rec else None,
                    rec.points_awarded if rec else None,
                    rec.adjustment_reason if rec else "",
                ]
                for n, (line, rec) in enumerate(zip(lines, recorded, strict=True), start=1)
            ],
        )
    confirmed = record.status == Shift.Status.CONFIRMED
    scheduled = record.status == Shift.Status.SCHEDULED
    kept = [r for r in recorded if r is not None]
    return render(
        request,
        "volunteering/console_shift.html",
        {
            "s": record,
            "a": parent,
            "when": when_label(record.starts_at, record.ends_at),
            "rows": [
                {"line": line, "record": rec, "form": form_row}
                for line, rec, form_row in zip(lines, recorded, hours_form.rows(), strict=True)
            ],
            "can_act": can_act,
            "can_scan": can_act
            and scheduled
            and parent.status == Activity.Status.PUBLISHED
            and now <= record.ends_at + services.CHECK_OUT_LATE,
            "can_confirm": can_act and scheduled and now >= record.ends_at and bool(lines),
            "not_ended": scheduled and now < record.ends_at,
            "confirmed": confirmed,
            "checked_in": sum(1 for line in lines if line.signup.checked_in_at),
            "record_count": len(kept),
            "record_hours": _hours(sum(r.minutes for r in kept)),
            "record_points": sum(r.points_awarded for r in kept),
            "scan_form": scan_form,
            "hours_form": hours_form,
        },
        status=status,
    )


# --- corrections ----------------------------------------------------------------------------------

CORRECTION_TABS = ["open", "accepted", "rejected", "all"]


@staff_required
def corrections(request: HttpRequest) -> HttpResponse:
    scope = staff_scope_of(request)
    shown = request.GET.get("status", "open")
    if shown not in CORRECTION_TABS:
        shown = "open"
    form = DecisionForm(request.POST or None)
    failed: int | None = None
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        failed = parse_id(request.POST.get("correction"))
        try:
            if action not in ("accept", "reject") or failed is None:
                raise NotFound(code="correction_not_found")
            if form.is_valid():
                decided = services.correction_decide(
                    staff=acting_user(request),
                    scope=scope,
                    correction_id=form.cleaned_data["correction"],
                    accept=action == "accept",
                    note=form.cleaned_data.get("note") or "",
                )
                messages.success(
                    request,
                    (
                        _("Accepted: the record of %(who)s is now %(minutes)s minutes; the points follow.")
                        if action == "accept"
                        else _("Rejected: %(who)s is told your answer.")
                    )
                    % {"who": decided.volunteer.resident.masked_name, "minutes": decided.minutes_requested},
                )
                return redirect(request.get_full_path())
        except DomainError as exc:
            if _not_found_of_page(exc):
                raise
            status = show_error(form, exc)
        status = _failed(status)
    qs = selectors.corrections_for_staff(scope, status=None if shown == "all" else shown).select_related(
        "signup__shift__activity__organization", "decided_by"
    )
    if request.GET.get("format") == "xlsx":
        return xlsx_response(
            "volunteer-corrections.xlsx",
            _("Corrections"),
            [
                _("Asked"),
                _("Volunteer number"),
                _("Name"),
                _("Activity"),
                _("Role"),
                _("Shift"),
                _("Minutes on record"),
                _("Minutes asked for"),
                _("Reason"),
                _("Status"),
                _("Answer"),
            ],
            [
                [
                    format_datetime(c.created_at),
                    c.volunteer.number,
                    c.volunteer.resident.masked_name,
                    c.signup.shift.activity.title,
                    c.signup.shift.role,
                    when_label(c.signup.shift.starts_at, c.signup.shift.ends_at),
                    c.minutes_before,
                    c.minutes_requested,
                    c.reason,
                    c.get_status_display(),
                    c.decision_note,
                ]
                for c in qs[:EXPORT_LIMIT]
            ],
        )
    rows = [
        {
            "c": c,
            "when": when_label(c.signup.shift.starts_at, c.signup.shift.ends_at),
            "can_act": c.status == Correction.Status.OPEN and _can_act(scope, c.signup.shift.activity),
            "failed": failed == c.pk,
        }
        for c in qs[:LIST_LIMIT]
    ]
    return render(
        request,
        "volunteering/console_corrections.html",
        {
            "rows": rows,
            "shown": shown,
            "tabs": [
                ("open", pgettext("correction", "Waiting")),
                ("accepted", _("Accepted")),
                ("rejected", _("Rejected")),
                ("all", pgettext("filter", "All")),
            ],
            "form": form,
            "failed": failed,
            "failed_shown": any(r["failed"] and r["can_act"] for r in rows),
        },
        status=status,
    )


# --- volunteers -----------------------------------------------------------------------------------


@staff_required
def volunteers(request: HttpRequest) -> HttpResponse:
    scope = staff_scope_of(request)
    q = search_text(request.GET.get("q"), max_length=30)
    form = StatusForm(request.POST or None)
    failed: int | None = None
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        failed = parse_id(request.POST.get("volunteer"))
        try:
            if action not in ("suspend", "reactivate") or failed is None:
                raise NotFound(code="volunteer_not_found")
            if form.is_valid():
                changed = services.volunteer_set_status(
                    staff=acting_user(request),
                    scope=scope,
                    volunteer_id=form.cleaned_data["volunteer"],
                    active=action == "reactivate",
                    reason=form.cleaned_data["reason"],
                )
                messages.success(
                    request,
                    (
                        _("%(who)s (%(number)s) may sign up for shifts again.")
                        if action == "reactivate"
                        else _("%(who)s (%(number)s) is suspended and cannot sign up for shifts.")
                    )
                    % {"who": changed.resident.masked_name, "number": changed.number},
                )
                return redirect(request.get_full_path())
        except DomainError as exc:
            if _not_found_of_page(exc):
                raise
            status = show_error(form, exc)
        status = _failed(status)
    qs = selectors.volunteers_for_staff(scope, query=q)
    if request.GET.get("format") == "xlsx":
        return xlsx_response(
            "volunteers.xlsx",
            _("Volunteers"),
            [
                _("Volunteer number"),
                _("Name"),
                _("Community"),
                _("Hours"),
                _("Stars"),
                _("Status"),
                _("Registered"),
            ],
            [
                [
                    v.number,
                    v.resident.masked_name,
                    v.resident.home_community.name,
                    v.hours_total,
                    v.stars,
                    v.get_status_display(),
                    format_date(timezone.localtime(v.registered_at).date()),
                ]
                for v in qs[:EXPORT_LIMIT]
            ],
        )
    shown = list(qs[:LIST_LIMIT])
    rows = [
        {
            "v": v,
            "can_act": scope.works_at(v.resident.home_community_id),
            "failed": failed == v.pk,
            "active": v.status == Volunteer.Status.ACTIVE,
        }
        for v in shown
    ]
    return render(
        request,
        "volunteering/console_volunteers.html",
        {
            "rows": rows,
            "q": q,
            "more": max(qs.count() - LIST_LIMIT, 0) if len(shown) == LIST_LIMIT else 0,
            "residents": scope.can_see_residents,
            "form": form,
            "failed_shown": any(r["failed"] and r["can_act"] for r in rows),
            "export_qs": urlencode({**({"q": q} if q else {}), "format": "xlsx"}),
        },
        status=status,
    )


# --- the hours report -----------------------------------------------------------------------------


def _month_bounds(day: dt.date) -> tuple[dt.date, dt.date]:
    first = day.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return first, following - dt.timedelta(days=1)


@staff_required
def hours(request: HttpRequest) -> HttpResponse:
    scope = staff_scope_of(request)
    centers = list(selectors.activity_centers_for_staff(scope))
    date_from, date_to = _month_bounds(timezone.localdate())
    form = PeriodForm(
        request.GET or None,
        centers=[(c.pk, c.name) for c in centers],
        initial={"from": date_from, "to": date_to},
    )
    center_id = None
    status = 200
    if form.is_bound:
        if form.is_valid():
            date_from = form.cleaned_data["from"] or date_from
            date_to = form.cleaned_data["to"] or date_to
            date_to = max(date_to, date_from)
            center_id = form.cleaned_data.get("center")
        else:
            status = 400
    rows = (
        selectors.hours_report(scope, start=date_from, end=date_to, center_id=center_id)
        if status == 200
        else []
    )
    if request.GET.get("format") == "xlsx" and status == 200:
        return xlsx_response(
            f"volunteer-hours-{format_date(date_from)}-{format_date(date_to)}.xlsx",
            _("Volunteer hours"),
            [_("Volunteer number"), _("Name"), _("Community"), _("Records"), _("Hours"), _("Points")],
            [
                [
                    r.volunteer.number,
                    r.volunteer.resident.masked_name,
                    r.volunteer.resident.home_community.name,
                    r.records,
                    round(r.minutes / 60, 2),
                    r.points,
                ]
                for r in rows
            ],
        )
    query = {"from": date_from.isoformat(), "to": date_to.isoformat()}
    if center_id:
        query["center"] = str(center_id)
    return render(
        request,
        "volunteering/console_hours.html",
        {
            "form": form,
            "date_from": date_from,
            "date_to": date_to,
            "rows": [{"r": r, "hours": _hours(r.minutes)} for r in rows],
            "total": {
                "volunteers": len(rows),
                "records": sum(r.records for r in rows),
                "hours": _hours(sum(r.minutes for r in rows)),
                "points": sum(r.points for r in rows),
            },
            "export_qs": urlencode({**query, "format": "xlsx"}),
        },
        status=status,
    )
