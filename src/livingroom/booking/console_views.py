"""Console pages of the booking app: the calendar of a center, requests to decide, one booking,
blocks, booking rules, desk bookings, weekly series of organisations and utilisation.

Thin: they parse a form, call one service or selector, and show a refusal on the form it belongs
to. Another community's object is "not found" (the selectors raise ``NotFound``); an official who
may only look gets the service's 403 shown on the page.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from livingroom.booking import errors, selectors, services
from livingroom.booking.calendar import (
    SpaceCalendar,
    at,
    day_bounds,
    local_tz,
    parse_day,
    rules_of,
    when_label,
)
from livingroom.booking.forms import (
    ActionForm,
    BlockForm,
    ClosureForm,
    DeskBookingForm,
    HoursForm,
    NoteForm,
    ReasonForm,
    RulesForm,
    SeriesForm,
    UtilisationForm,
)
from livingroom.booking.models import Booking, BookingRules, Resource
from livingroom.core.errors import DomainError
from livingroom.core.excel import xlsx_response
from livingroom.core.formatting import format_date, format_percent
from livingroom.core.forms import add_domain_error
from livingroom.core.permissions import staff_required, staff_scope_of
from livingroom.core.scopes import StaffScope
from livingroom.core.validators import parse_id
from livingroom.people.auth import acting_user
from livingroom.people.selectors import resident_for_staff, resident_search
from livingroom.places.models import Center, Organization, Space

WEEK_CHIPS = 4  # bookings listed in one day of the week view before "+N more"


# --- small helpers --------------------------------------------------------------------------------


def _weekday_names() -> list[str]:
    return [_("Monday"), _("Tuesday"), _("Wednesday"), _("Thursday"), _("Friday"), _("Saturday"), _("Sunday")]


def _show_error(form: forms.BaseForm, exc: DomainError, aliases: dict[str, str] | None = None) -> int:
    """Puts a service's refusal on the form (on the field it names, under our field names) and
    returns the HTTP status the page is answered with."""
    if aliases and exc.field in aliases:
        exc.field = aliases[exc.field]
    add_domain_error(cast(forms.Form, form), exc)  # a ModelForm too
    return exc.status


TIME_ALIASES = {"starts_at": "starts", "ends_at": "ends", "resource_id": "resource"}


def _unit_label(unit: Resource) -> str:
    if unit.kind == Resource.Kind.ROOM:
        return _("Whole room")
    if unit.kind == Resource.Kind.SEAT:
        return _("Seat %(label)s") % {"label": unit.label}
    return unit.label


def _booking_centers(scope: StaffScope) -> list[Center]:
    """The centers in scope that have at least one bookable space."""
    spaces = selectors.staff_spaces(scope).filter(bookable=True, booking_rules__isnull=False)
    return list(selectors.staff_centers(scope).filter(pk__in=spaces.values("center_id")))


def _acting_spaces(scope: StaffScope, *, partners: bool) -> list[Space]:
    """Bookable spaces in use today where this member of staff may book: the desk's communities
    (and, with ``partners``, the centers their organisation works in)."""
    where = Q(center__community_id__in=scope.desk_community_ids)
    if partners:
        where |= Q(center_id__in=scope.partner_center_ids)
    today = timezone.localdate()
    qs = (
        selectors.staff_spaces(scope)
        .filter(where, bookable=True, booking_rules__isnull=False)
        .order_by("center__community__code", "floor", "name")
    )
    return [s for s in qs if s.in_use_on(today)]


def _unit_choices(
    spaces: list[Space], *, residents_only: bool, keep: Callable[[Resource], bool] = lambda u: True
) -> list[tuple[str, list[tuple[int, str]]]]:
    several_centers = len({s.center_id for s in spaces}) > 1
    groups = []
    for space in spaces:
        units = [u for u in selectors.units_of(space, residents_only=residents_only) if keep(u)]
        if units:
            name = f"{space.center.name} · {space.name}" if several_centers else space.name
            groups.append((name, [(u.pk, f"{space.name} · {_unit_label(u)}") for u in units]))
    return groups


def _organization_choices(scope: StaffScope) -> list[tuple[int, str]]:
    """Desk staff book for any organisation; partner staff only for their own."""
    qs = Organization.objects.order_by("name")
    if not scope.desk_community_ids:
        qs = qs.filter(pk__in=scope.organization_ids)
    return [(o.pk, o.name) for o in qs]


def _party(booking: Booking, *, residents: bool = True) -> str:
    """Who holds the booking, masked: 张*, an organisation, or "blocked". Staff who see no
    residents (partner organisations) read only "a resident"."""
    if booking.kind == Booking.Kind.RESIDENT and not residents:
        return _("A resident")
    if booking.kind == Booking.Kind.BLOCK:
        return _("Blocked")
    if booking.kind == Booking.Kind.ORGANIZATION:
        return booking.organization.name if booking.organization else (booking.purpose or _("Organisation"))
    return booking.resident.masked_name if booking.resident else "—"


# --- index ----------------------------------------------------------------------------------------


@staff_required
def index(request: HttpRequest) -> HttpResponse:
    scope = staff_scope_of(request)
    centers = _booking_centers(scope)
    spaces = Counter(
        selectors.staff_spaces(scope)
        .filter(bookable=True, booking_rules__isnull=False)
        .values_list("center_id", flat=True)
    )
    pending = Counter(selectors.pending_requests(scope).values_list("space__center_id", flat=True))
    start, end = day_bounds(timezone.localdate())
    today = Counter(
        selectors.staff_bookings(scope)
        .filter(status__in=Booking.ACTIVE, starts_at__lt=end, ends_at__gt=start)
        .exclude(kind=Booking.Kind.BLOCK)
        .values_list("space__center_id", flat=True)
    )
    rows = [
        {"center": c, "spaces": spaces[c.pk], "pending": pending[c.pk], "today": today[c.pk]} for c in centers
    ]
    # Spaces at the desk's own centers that could be opened for booking.
    day = timezone.localdate()
    not_bookable = [
        s
        for s in selectors.staff_spaces(scope)
        .filter(
            center__community_id__in=scope.desk_community_ids, booking_rules__isnull=True, is_office=False
        )
        .order_by("center__community__code", "floor", "name")
        if s.in_use_on(day)
    ]
    return render(
        request,
        "booking/console_index.html",
        {
            "rows": rows,
            "pending_total": sum(pending.values()),
            "today_total": sum(today.values()),
            "not_bookable": not_bookable,
            "several_centers": len(rows) > 1,
        },
    )


# --- calendar -------------------------------------------------------------------------------------


@dataclass
class Chip:
    booking: Booking
    label: str
    unit: str
    time: str
    css: str
    continued: bool = False


@dataclass
class Cell:
    day: dt.date
    open: bool
    title: str = ""
    chips: list[Chip] = field(default_factory=list)
    more: int = 0
    occupied: int | None = None  # seated rooms: seats taken (the peak hour in the week view)
    today: bool = False


def _chip(
    booking: Booking, *, show_unit: bool, column_start: dt.datetime, week: bool, residents: bool
) -> Chip:
    s = timezone.localtime(booking.starts_at, local_tz())
    e = timezone.localtime(booking.ends_at, local_tz())
    css = "bk--block" if booking.kind == Booking.Kind.BLOCK else f"bk--{booking.status}"
    return Chip(
        booking=booking,
        label=_party(booking, residents=residents),
        unit=_unit_label(booking.resource) if show_unit and not booking.whole_space else "",
        time=f"{s:%H:%M}–{e:%H:%M}",
        css=css,
        continued=not week and booking.starts_at < column_start,
    )


def _seats_taken(bookings: Iterable[Booking], units: int, start: dt.datetime, end: dt.datetime) -> int:
    """The most seats held at once in [start, end), counted hour by hour; the whole room takes all."""
    peak = 0
    t = start
    held = [b for b in bookings if b.status in Booking.ACTIVE]
    while t < end:
        u = t + dt.timedelta(hours=1)
        now = [b for b in held if b.starts_at < u and b.ends_at > t]
        taken = units if any(b.whole_space for b in now) else min(len({b.resource_id for b in now}), units)
        peak = max(peak, taken)
        t = u
    return peak


@staff_required
def calendar(request: HttpRequest, center_id: int) -> HttpResponse:
    scope = staff_scope_of(request)
    today = timezone.localdate()
    day = parse_day(request.GET.get("day")) or today
    view = "week" if request.GET.get("view") == "week" else "day"
    week = view == "week"
    cal = selectors.staff_calendar(scope, center_id, day, view=view)
    now = timezone.now()
    names = _weekday_names()
    days = [timezone.localtime(s, local_tz()).date() for s, _e in cal.columns]
    if week:
        columns = [
            {"label": names[d.weekday()], "sub": f"{d:%m-%d}", "today": d == today, "day": d} for d in days
        ]
    else:
        columns = [
            {"label": f"{timezone.localtime(s, local_tz()):%H:%M}", "sub": "", "now": s <= now < e}
            for s, e in cal.columns
        ]
    rows = []
    for row in cal.rows:
        units = selectors.units_of(row.space, residents_only=False)
        seated = any(u.kind == Resource.Kind.SEAT for u in units)
        parts = any(u.kind != Resource.Kind.ROOM for u in units)
        space_cal = SpaceCalendar.load(row.space, rules_of(row.space))
        cells = []
        for (start, end), bookings, col_day in zip(cal.columns, row.cells, days, strict=True):
            periods = space_cal.periods(col_day)
            closure = space_cal.closure_on(col_day)
            cell = Cell(
                day=col_day,
                open=any(ps < end and pe > start for ps, pe in periods),
                title=closure.reason if closure else "",
                today=week and col_day == today,
            )
            if seated:
                # Seats as a count; whole-room bookings (a block, an organisation) as chips.
                cell.occupied = _seats_taken(bookings, row.units, start, end) if bookings else 0
                shown = [b for b in bookings if b.whole_space]
            else:
                shown = bookings
            chips = [
                _chip(b, show_unit=parts, column_start=start, week=week, residents=scope.can_see_residents)
                for b in shown
            ]
            if week and len(chips) > WEEK_CHIPS:
                cell.more = len(chips) - WEEK_CHIPS
                chips = chips[:WEEK_CHIPS]
            cell.chips = chips
            cells.append(cell)
        bookable_units = [u for u in units if u.residents_may_book]
        rows.append(
            {
                "space": row.space,
                "units": row.units,
                "seated": seated,
                "cells": cells,
                "desk_unit": bookable_units[0].pk if len(bookable_units) == 1 else None,
            }
        )
    step = dt.timedelta(days=7 if week else 1)
    monday = day - dt.timedelta(days=day.weekday())

    def link(d: dt.date, v: str = view) -> str:
        return "?" + urlencode({"day": d.isoformat(), "view": v})

    return render(
        request,
        "booking/console_calendar.html",
        {
            "center": cal.center,
            "pending": cal.pending,
            "day": day,
            "weekday": names[day.weekday()],
            "view": view,
            "columns": columns,
            "rows": rows,
            "monday": monday,
            "sunday": monday + dt.timedelta(days=6),
            "prev_link": link(day - step),
            "next_link": link(day + step),
            "today_link": link(today),
            "day_link": link(day, "day"),
            "week_link": link(day, "week"),
            "is_today": day == today if not week else monday <= today < monday + step,
            "can_act": scope.works_at(cal.center.community_id),
        },
    )


# --- requests and one booking ---------------------------------------------------------------------


def _decide(
    request: HttpRequest, scope: StaffScope, booking_id: int | None, action: str, form: forms.Form
) -> bool:
    """Approves or refuses one pending request; True when done (a flash message says so)."""
    if booking_id is None:
        raise errors.BookingNotFound()
    staff = acting_user(request)
    if action == "approve":
        booking = services.booking_approve(scope=scope, staff=staff, booking_id=booking_id)
        messages.success(
            request,
            _("Approved: %(who)s, %(space)s, %(when)s. The resident is told.")
            % {
                "who": _party(booking),
                "space": booking.space.name,
                "when": when_label(booking.starts_at, booking.ends_at),
            },
        )
        return True
    if action == "refuse" and form.is_valid():
        booking = services.booking_refuse(
            scope=scope, staff=staff, booking_id=booking_id, reason=form.cleaned_data["reason"]
        )
        messages.success(
            request,
            _("Refused: %(who)s, %(space)s, %(when)s. The resident is told the reason.")
            % {
                "who": _party(booking),
                "space": booking.space.name,
                "when": when_label(booking.starts_at, booking.ends_at),
            },
        )
        return True
    return False


@staff_required
def requests(request: HttpRequest) -> HttpResponse:
    scope = staff_scope_of(request)
    failed: int | None = None
    form: forms.Form = ReasonForm()
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        booking_id = parse_id(request.POST.get("booking"))
        form = ReasonForm(request.POST) if action == "refuse" else ActionForm()
        try:
            if _decide(request, scope, booking_id, action, form):
                return redirect(request.get_full_path())
        except DomainError as exc:
            status = _show_error(form, exc)
        failed = booking_id
        if status == 200:
            status = 400  # the reason is missing
    pending = selectors.pending_requests(scope)
    center = None
    center_id = parse_id(request.GET.get("center"))
    if center_id is not None:
        center = selectors.staff_center(scope, center_id)  # another community's center: 404
        pending = pending.filter(space__center=center)
    rows = [
        {
            "booking": b,
            "when": when_label(b.starts_at, b.ends_at),
            "unit": "" if b.whole_space else _unit_label(b.resource),
            "party": _party(b, residents=scope.can_see_residents),
            "can_act": scope.works_at(b.space.center.community_id),
        }
        for b in pending[:200]
    ]
    return render(
        request,
        "booking/console_requests.html",
        {"rows": rows, "form": form, "failed": failed, "center": center},
        status=status,
    )


@staff_required
def booking(request: HttpRequest, booking_id: int) -> HttpResponse:
    scope = staff_scope_of(request)
    record = selectors.staff_booking(scope, booking_id)
    user = acting_user(request)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    block = record.kind == Booking.Kind.BLOCK
    cancel_form = ReasonForm(
        request.POST if action == "cancel" else None,
        prefix="cancel",
        label=_("Why the block is lifted") if block else _("Reason for cancelling"),
        help_text=None if record.resident_id else _("Recorded with the booking."),
    )
    refuse_form = ReasonForm(
        request.POST if action == "refuse" else None, prefix="refuse", label=_("Reason for refusing")
    )
    note_form = NoteForm(request.POST if action == "note" else None)
    action_form = ActionForm()
    status = 200
    if action:
        try:
            if action in ("approve", "refuse"):
                if _decide(request, scope, record.pk, action, refuse_form):
                    return redirect("booking_console:booking", booking_id=record.pk)
            elif action == "cancel" and cancel_form.is_valid():
                services.booking_cancel_by_staff(
                    scope=scope, staff=user, booking_id=record.pk, reason=cancel_form.cleaned_data["reason"]
                )
                messages.success(request, _("The booking is cancelled."))
                return redirect("booking_console:booking", booking_id=record.pk)
            elif action == "note" and note_form.is_valid():
                services.rehab_note_add(actor=user, booking_id=record.pk, text=note_form.cleaned_data["text"])
                messages.success(request, _("The note is saved."))
                return redirect("booking_console:booking", booking_id=record.pk)
        except DomainError as exc:
            forms_by_action = {"cancel": cancel_form, "note": note_form, "refuse": refuse_form}
            target = forms_by_action.get(action, action_form)
            status = _show_error(target, exc)
        if status == 200:
            status = 400
    # Session notes are health data: only the room's therapists see them (reading is audited).
    therapist = record.kind == Booking.Kind.RESIDENT and any(
        u.staff_user_id == user.pk for u in selectors.units_of(record.space, residents_only=False)
    )
    notes = None
    if therapist:
        try:
            notes = services.rehab_notes_read(actor=user, booking_id=record.pk)
        except DomainError:
            therapist = False
    now = timezone.now()
    can_act = scope.works_at(record.space.center.community_id)
    return render(
        request,
        "booking/console_booking.html",
        {
            "b": record,
            "party": _party(record, residents=scope.can_see_residents),
            "unit": _unit_label(record.resource),
            "when": when_label(record.starts_at, record.ends_at),
            "can_act": can_act,
            # A request waiting for a decision is refused, not cancelled.
            "cancellable": record.status == Booking.Status.CONFIRMED and record.ends_at > now,
            "cancel_form": cancel_form,
            "refuse_form": refuse_form,
            "note_form": note_form,
            "action_form": action_form,
            "therapist": therapist,
            "notes": notes,
            "calendar_link": reverse("booking_console:calendar", args=[record.space.center_id])
            + "?"
            + urlencode({"day": timezone.localtime(record.starts_at, local_tz()).date().isoformat()}),
        },
        status=status,
    )


# --- blocks and rules -----------------------------------------------------------------------------


@staff_required
def space_block(request: HttpRequest, space_id: int) -> HttpResponse:
    scope = staff_scope_of(request)
    space = selectors.staff_space(scope, space_id)
    units = selectors.units_of(space, residents_only=False)
    initial = {"day": parse_day(request.GET.get("day")) or timezone.localdate()}
    form = BlockForm(
        request.POST or None,
        units=[(u.pk, _unit_label(u)) for u in units if not u.whole_space],
        initial=initial,
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            d = form.cleaned_data
            try:
                outcome = services.space_block(
                    scope=scope,
                    staff=acting_user(request),
                    space_id=space.pk,
                    starts_at=at(d["day"], d["starts"]),
                    ends_at=at(d["day"], d["ends"]),
                    reason=d["reason"],
                    resource_id=form.unit_id(),
                )
            except DomainError as exc:
                status = _show_error(form, exc, TIME_ALIASES)
            else:
                messages.success(
                    request,
                    _(
                        "%(space)s is blocked %(when)s. Bookings moved to another unit: %(moved)d; "
                        "cancelled: %(cancelled)d. The residents concerned are told."
                    )
                    % {
                        "space": space.name,
                        "when": when_label(outcome.block.starts_at, outcome.block.ends_at),
                        "moved": len(outcome.moved),
                        "cancelled": len(outcome.cancelled),
                    },
                )
                return redirect(
                    reverse("booking_console:calendar", args=[space.center_id])
                    + "?"
                    + urlencode({"day": d["day"].isoformat()})
                )
        else:
            status = 400
    blocks = (
        selectors.staff_bookings(scope)
        .filter(space=space, kind=Booking.Kind.BLOCK, status__in=Booking.ACTIVE, ends_at__gt=timezone.now())
        .order_by("starts_at")[:50]
    )
    return render(
        request,
        "booking/console_block.html",
        {
            "space": space,
            "form": form,
            "blocks": [(b, when_label(b.starts_at, b.ends_at), _unit_label(b.resource)) for b in blocks],
            "can_act": scope.works_at(space.center.community_id),
        },
        status=status,
    )


@staff_required
def space_rules(request: HttpRequest, space_id: int) -> HttpResponse:
    scope = staff_scope_of(request)
    space = selectors.staff_space(scope, space_id)
    rules = getattr(space, "booking_rules", None)
    units = selectors.units_of(space, residents_only=False) if rules is not None else []
    seats_now = sum(1 for u in units if u.kind == Resource.Kind.SEAT)
    therapists = [u for u in units if u.kind == Resource.Kind.THERAPIST]
    # A therapist room keeps its therapists: setting seats there would retire them.
    with_seats = not therapists
    form = RulesForm(
        request.POST or None,
        instance=rules or BookingRules(space=space),
        with_seats=with_seats,
        initial={"seats": seats_now},
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            staff = acting_user(request)
            try:
                services.booking_rules_set(scope=scope, staff=staff, space_id=space.pk, **form.rule_values())
                seats = form.cleaned_data.get("seats")
                if with_seats and seats is not None and seats != seats_now:
                    services.space_units_set(scope=scope, staff=staff, space_id=space.pk, seats=seats)
            except DomainError as exc:
                status = _show_error(form, exc)
            else:
                messages.success(
                    request, _("The booking rules of %(space)s are saved.") % {"space": space.name}
                )
                return redirect("booking_console:rules", space_id=space.pk)
        else:
            status = 400
    return render(
        request,
        "booking/console_rules.html",
        {
            "space": space,
            "form": form,
            "is_new": rules is None,
            "seats_now": seats_now,
            "therapists": therapists,
            "can_act": scope.works_at(space.center.community_id) or scope.district,
        },
        status=status,
    )


# --- desk booking ---------------------------------------------------------------------------------


@staff_required
def desk(request: HttpRequest) -> HttpResponse:
    scope = staff_scope_of(request)
    spaces = _acting_spaces(scope, partners=False)
    choices = _unit_choices(spaces, residents_only=True)
    q = request.GET.get("q", "")[:60]
    found = list(resident_search(scope, q, limit=20)) if q.strip() else []
    chosen = None
    chosen_id = parse_id(request.GET.get("resident"))
    if chosen_id is not None:
        try:
            chosen = resident_for_staff(scope, chosen_id)
        except DomainError:
            chosen = None
    initial: dict[str, Any] = {
        "day": parse_day(request.GET.get("day")) or timezone.localdate(),
        "resource": parse_id(request.GET.get("unit")),
        "resident_id": chosen.pk if chosen else None,
    }
    form = DeskBookingForm(request.POST or None, units=choices, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            d = form.cleaned_data
            try:
                made = services.booking_create_at_desk(
                    scope=scope,
                    staff=acting_user(request),
                    resource_id=d["resource"],
                    starts_at=at(d["day"], d["starts"]),
                    ends_at=at(d["day"], d["ends"]),
                    resident_id=None if d["pass_token"] else d["resident_id"],
                    pass_token=d["pass_token"] or None,
                )
            except DomainError as exc:
                status = _show_error(form, exc, TIME_ALIASES)
            else:
                messages.success(
                    request,
                    _("Booked for %(who)s: %(space)s · %(unit)s, %(when)s.")
                    % {
                        "who": _party(made),
                        "space": made.space.name,
                        "unit": _unit_label(made.resource),
                        "when": when_label(made.starts_at, made.ends_at),
                    },
                )
                return redirect("booking_console:booking", booking_id=made.pk)
        else:
            status = 400
    keep = {k: request.GET[k] for k in ("unit", "day") if request.GET.get(k)}
    return render(
        request,
        "booking/console_desk.html",
        {
            "form": form,
            "q": q,
            "found": found,
            "chosen": chosen,
            "keep": keep,
            "keep_qs": urlencode(keep),
            "has_units": bool(choices),
        },
        status=status,
    )


# --- utilisation ----------------------------------------------------------------------------------

UTIL_SORT: dict[str, Callable[[selectors.Utilisation], Any]] = {
    "center": lambda r: (r.space.center.community.code, r.space.floor, r.space.name),
    "space": lambda r: r.space.name,
    "units": lambda r: r.units,
    "open_hours": lambda r: r.open_hours,
    "booked_hours": lambda r: r.booked_hours,
    "utilisation": lambda r: r.utilisation,
    "bookings": lambda r: r.bookings,
    "checkin_rate": lambda r: r.checkin_rate,
    "no_show_rate": lambda r: r.no_show_rate,
}


def _sorted(rows: list[selectors.Utilisation], sort: str) -> list[selectors.Utilisation]:
    """Sorted by one column; rows without a value (no open hours, no check-ins) stay last."""
    key = UTIL_SORT[sort.lstrip("-")]
    present = sorted((r for r in rows if key(r) is not None), key=key, reverse=sort.startswith("-"))
    return present + [r for r in rows if key(r) is None]


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


@staff_required
def utilisation(request: HttpRequest) -> HttpResponse:
    scope = staff_scope_of(request)
    today = timezone.localdate()
    center_id = parse_id(request.GET.get("center"))
    if center_id is not None:
        selectors.staff_center(scope, center_id)  # another community's center: 404
    centers = _booking_centers(scope)
    date_to, date_from = today, today - dt.timedelta(days=29)  # the last 30 days
    form = UtilisationForm(
        request.GET or None,
        centers=[(c.pk, c.name) for c in centers],
        initial={"from": date_from, "to": date_to},
    )
    if form.is_bound and form.is_valid():
        date_to = form.cleaned_data["to"] or date_to
        date_from = form.cleaned_data["from"] or date_to - dt.timedelta(days=29)
        center_id = form.cleaned_data["center"]
    elif form.is_bound:
        center_id = None
    sort = request.GET.get("sort", "center")
    if sort.lstrip("-") not in UTIL_SORT:
        sort = "center"
    status = 200
    try:
        rows = _sorted(selectors.utilisation(scope, date_from, date_to, center_id=center_id), sort)
    except DomainError as exc:
        status = _show_error(form, exc)
        rows = []
    if request.GET.get("format") == "xlsx" and status == 200:
        return xlsx_response(
            f"utilisation-{format_date(date_from)}-{format_date(date_to)}.xlsx",
            _("Utilisation"),
            [
                _("Center"),
                _("Space"),
                _("Units"),
                _("Open hours"),
                _("Booked hours"),
                _("Utilisation"),
                _("Bookings"),
                _("Check-in rate"),
                _("No-show rate"),
            ],
            [
                [
                    r.space.center.name,
                    r.space.name,
                    r.units,
                    round(r.open_hours, 1),
                    round(r.booked_hours, 1),
                    round(r.utilisation, 4) if r.utilisation is not None else None,
                    r.bookings,
                    round(r.checkin_rate, 4) if r.checkin_rate is not None else None,
                    round(r.no_show_rate, 4) if r.no_show_rate is not None else None,
                ]
                for r in rows
            ],
        )
    open_h = sum(r.open_hours for r in rows)
    booked_h = sum(r.booked_hours for r in rows)
    checked = sum(r.checked_in for r in rows)
    no_shows = sum(r.no_shows for r in rows)
    base = {"from": date_from.isoformat(), "to": date_to.isoformat()}
    if center_id is not None:
        base["center"] = str(center_id)
    return render(
        request,
        "booking/console_utilisation.html",
        {
            "form": form,
            "rows": [
                {
                    "r": r,
                    "utilisation": format_percent(r.utilisation),
                    "checkin_rate": format_percent(r.checkin_rate),
                    "no_show_rate": format_percent(r.no_show_rate),
                }
                for r in rows
            ],
            "date_from": date_from,
            "date_to": date_to,
            "sort": sort,
            "base_qs": urlencode(base),
            "total": {
                "open_hours": open_h,
                "booked_hours": booked_h,
                "bookings": sum(r.bookings for r in rows),
                "utilisation": format_percent(_ratio(booked_h, open_h)),
                "checkin_rate": format_percent(_ratio(checked, checked + no_shows)),
                "no_show_rate": format_percent(_ratio(no_shows, checked + no_shows)),
            },
        },
        status=status,
    )


# --- weekly series --------------------------------------------------------------------------------

PROBLEMS = {
    e.code: e.default_message
    for e in (errors.InThePast, errors.SpaceClosed, errors.OutsideOpeningHours, errors.SlotTaken)
}


@staff_required
def series_list(request: HttpRequest) -> HttpResponse:
    scope = staff_scope_of(request)
    form = ReasonForm()
    failed: int | None = None
    status = 200
    if request.method == "POST":
        series_id = parse_id(request.POST.get("series"))
        form = ReasonForm(request.POST)
        if form.is_valid():
            try:
                count = services.series_cancel(
                    scope=scope,
                    staff=acting_user(request),
                    series_id=series_id or 0,
                    reason=form.cleaned_data["reason"],
                )
            except DomainError as exc:
                status = _show_error(form, exc)
            else:
                messages.success(
                    request,
                    ngettext(
                        "The series is cancelled: %(n)d coming date freed.",
                        "The series is cancelled: %(n)d coming dates freed.",
                        count,
                    )
                    % {"n": count},
                )
                return redirect("booking_console:series")
        else:
            status = 400
        failed = series_id
    now = timezone.now()
    series = list(selectors.series_for_staff(scope).order_by("cancelled_at", "-created_at")[:100])
    coming = Counter(
        selectors.staff_bookings(scope)
        .filter(series__in=[s.pk for s in series], status__in=Booking.ACTIVE, starts_at__gt=now)
        .values_list("series_id", flat=True)
    )
    names = _weekday_names()
    rows = [
        {
            "s": s,
            "weekday": names[s.weekday],
            "coming": coming[s.pk],
            "unit": _unit_label(s.resource),
            "last_date": s.first_date
            + dt.timedelta(days=(s.weekday - s.first_date.weekday()) % 7 + 7 * (s.weeks - 1)),
            "can_act": s.cancelled_at is None
            and (
                scope.works_at(s.resource.space.center.community_id)
                or (s.organization_id is not None and s.organization_id in scope.organization_ids)
            ),
        }
        for s in series
    ]
    return render(
        request,
        "booking/console_series.html",
        {"rows": rows, "form": form, "failed": failed},
        status=status,
    )


@staff_required
def series_new(request: HttpRequest) -> HttpResponse:
    scope = staff_scope_of(request)
    spaces = _acting_spaces(scope, partners=True)
    # Organisations book rooms (or a therapist), not single seats.
    units = _unit_choices(spaces, residents_only=False, keep=lambda u: u.kind != Resource.Kind.SEAT)
    today = timezone.localdate()
    form = SeriesForm(
        request.POST or None,
        units=units,
        organizations=_organization_choices(scope),
        initial={
            "resource": parse_id(request.GET.get("unit")),
            "first_date": today + dt.timedelta(days=1),
            "weekday": (today + dt.timedelta(days=1)).weekday(),
            "weeks": 10,
        },
    )
    occurrences: list[services.Occurrence] | None = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            d = form.cleaned_data
            times = {
                "weekday": d["weekday"],
                "starts": d["starts"],
                "ends": d["ends"],
                "first_date": d["first_date"],
                "weeks": d["weeks"],
            }
            try:
                if "create" in request.POST:
                    series, made = services.series_create(
                        scope=scope,
                        staff=acting_user(request),
                        resource_id=d["resource"],
                        purpose=d["purpose"],
                        organization_id=d["organization"],
                        skip_conflicts=d["skip_conflicts"],
                        **times,
                    )
                    booked = sum(1 for o in made if not o.problem)
                    messages.success(
                        request,
                        _('Series "%(purpose)s" created: %(booked)d dates booked, %(skipped)d skipped.')
                        % {"purpose": series.purpose, "booked": booked, "skipped": len(made) - booked},
                    )
                    return redirect("booking_console:series")
                unit = selectors.staff_unit(scope, d["resource"])
                occurrences = services.series_occurrences(unit=unit, **times)
            except DomainError as exc:
                status = _show_error(
                    form, exc, {"resource_id": "resource", "organization_id": "organization"}
                )
                if isinstance(exc, errors.SeriesConflicts):
                    unit = selectors.staff_unit(scope, d["resource"])
                    occurrences = services.series_occurrences(unit=unit, **times)
        else:
            status = 400
    names = _weekday_names()
    preview = None
    if occurrences is not None:
        preview = [
            {
                "date": timezone.localtime(o.starts_at, local_tz()).date(),
                "weekday": names[timezone.localtime(o.starts_at, local_tz()).weekday()],
                "when": when_label(o.starts_at, o.ends_at),
                "problem": str(PROBLEMS.get(o.problem, o.problem)) if o.problem else "",
            }
            for o in occurrences
        ]
    return render(
        request,
        "booking/console_series_new.html",
        {
            "form": form,
            "preview": preview,
            "free": sum(1 for p in preview or [] if not p["problem"]),
            "has_units": bool(units),
        },
        status=status,
    )


# --- opening hours and closures -------------------------------------------------------------------


@staff_required
def space_hours(request: HttpRequest, space_id: int) -> HttpResponse:
    scope = staff_scope_of(request)
    space = selectors.staff_space(scope, space_id)
    current = selectors.space_own_hours(space)
    form = HoursForm(request.POST or None, initial=HoursForm.initial_for(current))
    status = 200
    if request.method == "POST":
        periods = form.periods() if form.is_valid() else []
        if form.is_valid():  # periods() may have found a half-filled period
            try:
                services.space_hours_set(
                    scope=scope, staff=acting_user(request), space_id=space.pk, periods=periods
                )
            except DomainError as exc:
                status = _show_error(form, exc, {"periods": "use_center_hours"})
            else:
                messages.success(
                    request, _("The opening hours of %(space)s are saved.") % {"space": space.name}
                )
                return redirect("booking_console:hours", space_id=space.pk)
        else:
            status = 400
    return render(
        request,
        "booking/console_hours.html",
        {
            "space": space,
            "form": form,
            "can_act": scope.works_at(space.center.community_id) or scope.district,
        },
        status=status,
    )


@staff_required
def closures(request: HttpRequest, center_id: int) -> HttpResponse:
    scope = staff_scope_of(request)
    center = selectors.staff_center(scope, center_id)  # another community's center: 404
    spaces = [(s.pk, s.name) for s in selectors.bookable_spaces(center)]
    form = ClosureForm(request.POST or None, spaces=spaces)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                _closure, cancelled = services.closure_add(
                    scope=scope,
                    staff=acting_user(request),
                    center_id=center.pk,
                    space_id=form.cleaned_data["space"],
                    starts_on=form.cleaned_data["starts_on"],
                    ends_on=form.cleaned_data["ends_on"],
                    reason=form.cleaned_data["reason"],
                )
            except DomainError as exc:
                status = _show_error(form, exc, {"space_id": "space"})
            else:
                messages.success(
                    request,
                    ngettext(
                        "The closure is saved; %(n)d booking was cancelled and its resident told.",
                        "The closure is saved; %(n)d bookings were cancelled and their residents told.",
                        cancelled,
                    )
                    % {"n": cancelled},
                )
                return redirect("booking_console:closures", center_id=center.pk)
        else:
            status = 400
    return render(
        request,
        "booking/console_closures.html",
        {
            "center": center,
            "form": form,
            "closures": selectors.upcoming_closures(center),
            "can_act": scope.works_at(center.community_id) or scope.district,
        },
        status=status,
    )
