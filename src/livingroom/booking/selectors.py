"""Reads for residents and staff: free slots, my bookings, the staff calendar, utilisation."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.utils import timezone

from livingroom.booking import errors
from livingroom.booking.calendar import (
    Period,
    SpaceCalendar,
    active_or_held,
    at,
    check_day,
    eligible,
    rules_of,
)
from livingroom.booking.models import (
    Booking,
    BookingRules,
    BookingSeries,
    Closure,
    Resource,
    SpaceHours,
)
from livingroom.core.errors import InvalidInput, NotFound
from livingroom.core.scopes import StaffScope
from livingroom.people.models import Resident
from livingroom.places.models import Center, Space

MAX_RANGE_DAYS = 14


def bookable_space(space_id: int) -> Space:
    space = (
        Space.objects.select_related("center__community__street", "booking_rules")
        .filter(pk=space_id, bookable=True, booking_rules__isnull=False)
        .first()
    )
    if space is None:
        raise NotFound(code="space_not_found")
    return space


def bookable_spaces(center: Center) -> list[Space]:
    day = timezone.localdate()
    spaces = Space.objects.select_related("booking_rules").filter(
        center=center, bookable=True, booking_rules__isnull=False
    )
    return [s for s in spaces.order_by("floor", "name") if s.in_use_on(day)]


def units_of(space: Space, *, residents_only: bool = True) -> list[Resource]:
    qs = Resource.objects.filter(space=space, is_active=True)
    if residents_only:
        qs = qs.filter(residents_may_book=True)
    return list(qs.order_by("kind", "position", "id"))


@dataclass
class Slot:
    starts_at: dt.datetime
    ends_at: dt.datetime
    free_unit_ids: list[int]
    bookable: bool  # in the future and within the booking horizon

    @property
    def free(self) -> int:
        return len(self.free_unit_ids) if self.bookable else 0


@dataclass
class Day:
    date: dt.date
    closed_reason: str
    opens_for_booking_at: dt.datetime | None  # set while the day cannot be booked yet
    slots: list[Slot] = field(default_factory=list)


@dataclass
class Availability:
    space: Space
    rules: BookingRules
    units: list[Resource]
    days: list[Day]


def parse_range(date_from: dt.date | None, date_to: dt.date | None) -> tuple[dt.date, dt.date]:
    start = date_from or timezone.localdate()
    end = date_to or start
    check_day(start, "from")
    check_day(end, "to")
    if end < start:
        raise InvalidInput(code="invalid_range", field="to")
    if (end - start).days >= MAX_RANGE_DAYS:
        raise InvalidInput(code="range_too_long", field="to", max_days=MAX_RANGE_DAYS)
    return start, end


def space_availability(
    space: Space,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    *,
    residents_only: bool = True,
    now: dt.datetime | None = None,
) -> Availability:
    """Every slot of every day in the range with the units still free in it."""
    now = now or timezone.now()
    start, end = parse_range(date_from, date_to)
    rules = rules_of(space)
    cal = SpaceCalendar.load(space, rules)
    units = units_of(space, residents_only=residents_only)
    range_start, range_end = at(start, dt.time(0, 0)), at(end + dt.timedelta(days=1), dt.time(0, 0))
    held = list(
        Booking.objects.filter(
            active_or_held(now), space=space, starts_at__lt=range_end, ends_at__gt=range_start
        ).values_list("resource_id", "whole_space", "starts_at", "ends_at")
    )
    by_unit: dict[int, list[Period]] = defaultdict(list)
    whole: list[Period] = []
    any_part: list[Period] = []
    for resource_id, whole_space, s, e in held:
        by_unit[resource_id].append((s, e))
        (whole if whole_space else any_part).append((s, e))
    last_day = cal.last_bookable_day(now)

    def overlaps(periods: list[Period], s: dt.datetime, e: dt.datetime) -> bool:
        return any(ps < e and pe > s for ps, pe in periods)

    days = []
    day = start
    while day <= end:
        closure = cal.closure_on(day)
        out = Day(
            date=day,
            closed_reason=closure.reason if closure else "",
            opens_for_booking_at=cal.opens_for_booking_at(day) if day > last_day else None,
        )
        for s, e in cal.slots(day):
            free = [
                u.pk
                for u in units
                if not overlaps(by_unit[u.pk], s, e)
                and not overlaps(whole, s, e)
                and not (u.whole_space and overlaps(any_part, s, e))
            ]
            out.slots.append(Slot(s, e, free, bookable=s >= now and day <= last_day))
        days.append(out)
        day += dt.timedelta(days=1)
    return Availability(space=space, rules=rules, units=units, days=days)


# --- residents ----------------------------------------------------------------------------------


def bookings_of(resident: Resident) -> QuerySet[Booking]:
    return Booking.objects.filter(resident=resident).select_related("space__center", "resource")


def upcoming_bookings(resident: Resident, now: dt.datetime | None = None) -> list[Booking]:
    now = now or timezone.now()
    return list(
        bookings_of(resident).filter(status__in=Booking.ACTIVE, ends_at__gt=now).order_by("starts_at")
    )


def past_bookings(resident: Resident, now: dt.datetime | None = None, limit: int = 30) -> list[Booking]:
    now = now or timezone.now()
    return list(
        bookings_of(resident)
        .filter(Q(ends_at__lte=now) | ~Q(status__in=Booking.ACTIVE))
        .order_by("-starts_at")[:limit]
    )


def booking_of_resident(resident: Resident, booking_id: int) -> Booking:
    booking = bookings_of(resident).filter(pk=booking_id).first()
    if booking is None:
        raise errors.BookingNotFound()
    return booking


def may_book(space: Space, resident: Resident | None) -> bool:
    return resident is not None and eligible(rules_of(space), space, resident)


# --- staff --------------------------------------------------------------------------------------


def staff_bookings(scope: StaffScope) -> QuerySet[Booking]:
    return scope.filter(
        Booking.objects.select_related("space__center", "resource", "resident", "organization"),
        community="space__center__community",
        center="space__center",
    )


def staff_booking(scope: StaffScope, booking_id: int) -> Booking:
    booking = staff_bookings(scope).filter(pk=booking_id).first()
    if booking is None:
        raise errors.BookingNotFound()
    return booking


def staff_centers(scope: StaffScope) -> QuerySet[Center]:
    return scope.filter(
        Center.objects.select_related("community__street"), community="community", center=""
    ).order_by("community__code")


def staff_center(scope: StaffScope, center_id: int) -> Center:
    center = staff_centers(scope).filter(pk=center_id).first()
    if center is None:
        raise NotFound(code="center_not_found")
    return center


def staff_space(scope: StaffScope, space_id: int) -> Space:
    space = (
        scope.filter(
            Space.objects.select_related("center", "booking_rules"),
            community="center__community",
            center="center",
        )
        .filter(pk=space_id)
        .first()
    )
    if space is None:
        raise NotFound(code="space_not_found")
    return space


def staff_spaces(scope: StaffScope) -> QuerySet[Space]:
    return scope.filter(
        Space.objects.select_related("center", "booking_rules"),
        community="center__community",
        center="center",
    )


def staff_unit(scope: StaffScope, resource_id: int) -> Resource:
    unit = (
        Resource.objects.select_related("space__center", "space__booking_rules")
        .filter(pk=resource_id, space__in=staff_spaces(scope), is_active=True)
        .first()
    )
    if unit is None:
        raise NotFound(code="unit_not_found", field="resource_id")
    return unit


def pending_requests(scope: StaffScope) -> QuerySet[Booking]:
    return staff_bookings(scope).filter(status=Booking.Status.PENDING).order_by("starts_at")


@dataclass
class CalendarRow:
    space: Space
    units: int
    cells: list[list[Booking]]  # per column: the bookings overlapping it


@dataclass
class StaffCalendar:
    center: Center
    columns: list[tuple[dt.datetime, dt.datetime]]
    rows: list[CalendarRow]
    pending: int


def staff_calendar(
    scope: StaffScope, center_id: int, day: dt.date, *, view: str = "day", now: dt.datetime | None = None
) -> StaffCalendar:
    """Day view: one column an hour of the day; week view: one column a day."""
    now = now or timezone.now()
    center = staff_center(scope, center_id)
    if view == "week":
        monday = day - dt.timedelta(days=day.weekday())
        columns = [
            (
                at(monday + dt.timedelta(days=i), dt.time(0, 0)),
                at(monday + dt.timedelta(days=i + 1), dt.time(0, 0)),
            )
            for i in range(7)
        ]
    else:
        columns = [
            (at(day, dt.time(h, 0)), at(day, dt.time(h, 0)) + dt.timedelta(hours=1)) for h in range(7, 23)
        ]
    spaces = bookable_spaces(center)
    bookings = list(
        Booking.objects.filter(
            active_or_held(now) | Q(status=Booking.Status.NO_SHOW),
            space__in=spaces,
            starts_at__lt=columns[-1][1],
            ends_at__gt=columns[0][0],
        )
        .select_related("resource", "resident", "organization")
        .order_by("starts_at")
    )
    unit_counts: dict[int, int] = defaultdict(int)
    for space_id, kind in Resource.objects.filter(space__in=spaces, is_active=True).values_list(
        "space_id", "kind"
    ):
        if kind != Resource.Kind.ROOM:
            unit_counts[space_id] += 1
    rows = []
    for space in spaces:
        mine = [b for b in bookings if b.space_id == space.pk]
        cells = [[b for b in mine if b.starts_at < e and b.ends_at > s] for s, e in columns]
        rows.append(CalendarRow(space=space, units=unit_counts.get(space.pk, 0) or 1, cells=cells))
    pending = pending_requests(scope).filter(space__center=center).count()
    return StaffCalendar(center=center, columns=columns, rows=rows, pending=pending)


@dataclass
class Utilisation:
    space: Space
    units: int
    open_hours: float
    booked_hours: float
    bookings: int
    checked_in: int
    no_shows: int

    @property
    def utilisation(self) -> float | None:
        return self.booked_hours / self.open_hours if self.open_hours else None

    @property
    def checkin_rate(self) -> float | None:
        done = self.checked_in + self.no_shows
        return self.checked_in / done if done else None

    @property
    def no_show_rate(self) -> float | None:
        done = self.checked_in + self.no_shows
        return self.no_shows / done if done else None


def utilisation(
    scope: StaffScope, date_from: dt.date, date_to: dt.date, *, center_id: int | None = None
) -> list[Utilisation]:
    """Per bookable space in scope: open unit-hours, booked unit-hours, check-in and no-show rates.

    Open hours count every unit (60 seats open 10 hours = 600 seat-hours); a whole-room booking
    of a seated room takes all its seats. Blocks count as neither open nor booked time.
    """
    check_day(date_from, "from")
    check_day(date_to, "to")
    if date_to < date_from:
        raise InvalidInput(code="invalid_range", field="to")
    if (date_to - date_from).days > 366:
        raise InvalidInput(code="range_too_long", field="to", max_days=366)
    spaces = scope.filter(
        Space.objects.select_related("center__community", "booking_rules").filter(
            bookable=True, booking_rules__isnull=False
        ),
        community="center__community",
        center="center",
    )
    if center_id is not None:
        spaces = spaces.filter(center_id=center_id)
    spaces = spaces.order_by("center__community__code", "floor", "name")
    start, end = at(date_from, dt.time(0, 0)), at(date_to + dt.timedelta(days=1), dt.time(0, 0))
    rows_by_space: dict[int, list[tuple]] = defaultdict(list)
    for row in Booking.objects.filter(space__in=spaces, starts_at__lt=end, ends_at__gt=start).values_list(
        "space_id", "kind", "status", "whole_space", "starts_at", "ends_at"
    ):
        rows_by_space[row[0]].append(row)
    part_counts: dict[int, int] = defaultdict(int)
    for space_id, kind in Resource.objects.filter(space__in=spaces, is_active=True).values_list(
        "space_id", "kind"
    ):
        if kind != Resource.Kind.ROOM:
            part_counts[space_id] += 1
    out = []
    space_list = list(spaces)
    calendars = SpaceCalendar.load_many(space_list)
    for space in space_list:
        units = part_counts.get(space.pk, 0) or 1
        cal = calendars[space.pk]
        open_h = 0.0
        blocked_h = 0.0
        periods: list[Period] = []
        day = date_from
        while day <= date_to:
            periods += cal.periods(day)
            open_h += sum((e - s).total_seconds() for s, e in cal.periods(day)) / 3600 * units
            day += dt.timedelta(days=1)
        booked_h = 0.0
        n = checked = no_shows = 0
        for _sid, kind, status, whole_space, s, e in rows_by_space[space.pk]:
            hours = (min(e, end) - max(s, start)).total_seconds() / 3600 * (units if whole_space else 1)
            if kind == Booking.Kind.BLOCK:
                if status in Booking.ACTIVE:  # only the blocked part of the opening hours
                    blocked_h += (
                        sum(max((min(e, pe) - max(s, ps)).total_seconds(), 0) for ps, pe in periods)
                        / 3600
                        * (units if whole_space else 1)
                    )
                continue
            if status in (Booking.Status.CONFIRMED, Booking.Status.CHECKED_IN, Booking.Status.NO_SHOW):
                booked_h += hours
                n += 1
            if kind == Booking.Kind.RESIDENT:
                checked += status == Booking.Status.CHECKED_IN
                no_shows += status == Booking.Status.NO_SHOW
        out.append(
            Utilisation(
                space=space,
                units=units,
                open_hours=max(open_h - blocked_h, 0.0),
                booked_hours=booked_h,
                bookings=n,
                checked_in=checked,
                no_shows=no_shows,
            )
        )
    return out


def series_for_staff(scope: StaffScope) -> QuerySet[BookingSeries]:
    return scope.filter(
        BookingSeries.objects.select_related("resource__space__center", "organization"),
        community="resource__space__center__community",
        center="resource__space__center",
    )


def space_own_hours(space: Space) -> list[tuple[int, dt.time, dt.time]]:
    """A space's own weekly periods; empty when it keeps its center's hours."""
    return list(
        SpaceHours.objects.filter(space=space)
        .order_by("weekday", "opens")
        .values_list("weekday", "opens", "closes")
    )


def upcoming_closures(center: Center) -> list[Closure]:
    return list(
        Closure.objects.filter(center=center, ends_on__gte=timezone.localdate())
        .select_related("space", "created_by")
        .order_by("starts_on")
    )
