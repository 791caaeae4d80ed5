"""The time rules of a space: when it is open, its slot grid, how far ahead it opens.

Shared by services (to refuse a booking) and selectors (to show free slots), so that the page
never offers what the service would refuse. Times are aware datetimes; days are local
(Asia/Shanghai) dates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from livingroom.booking.models import (
    Booking,
    BookingRules,
    BookingSuspension,
    Closure,
    Resource,
    SpaceHours,
)
from livingroom.core.errors import InvalidInput
from livingroom.people.models import EligibilityVerification, Resident
from livingroom.people.selectors import resident_eligibilities
from livingroom.places.models import OpeningHours, Space

Period = tuple[dt.datetime, dt.datetime]


# Bookings, closures and reports live in these years; anything outside is a typing error, and
# keeps datetime arithmetic (time zones, day bounds) far from year 1 and year 9999.
FIRST_YEAR, LAST_YEAR = 2000, 2100


def check_day(day: dt.date | dt.datetime, field: str) -> None:
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise InvalidInput(
            _("Enter a date between %(a)s and %(b)s.") % {"a": FIRST_YEAR, "b": LAST_YEAR},
            code="date_out_of_range",
            field=field,
        )


def parse_day(value: str | None) -> dt.date | None:
    """A day from a query string (``2026-11-28``); None when absent, malformed or outside the years above."""
    try:
        day = dt.date.fromisoformat((value or "").strip()[:10])
    except ValueError:
        return None
    return day if FIRST_YEAR <= day.year <= LAST_YEAR else None


def rules_of(space: Space) -> BookingRules:
    """The booking rules of a bookable space (the reverse one-to-one, typed)."""
    rules: BookingRules = space.booking_rules  # type: ignore[attr-defined]
    return rules


def local_tz() -> dt.tzinfo:
    return timezone.get_default_timezone()


def local_day(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment, local_tz()).date()


def at(day: dt.date, time: dt.time) -> dt.datetime:
    return dt.datetime.combine(day, time, tzinfo=local_tz())


@dataclass
class SpaceCalendar:
    """Opening hours and closures of one space, loaded once for a range of days."""

    space: Space
    rules: BookingRules
    hours: dict[int, list[tuple[dt.time, dt.time]]]
    closures: list[Closure]

    @classmethod
    def load(cls, space: Space, rules: BookingRules) -> SpaceCalendar:
        own = list(SpaceHours.objects.filter(space=space).values_list("weekday", "opens", "closes"))
        rows: Iterable[tuple[int, dt.time, dt.time]] = own or list(
            OpeningHours.objects.filter(center_id=space.center_id).values_list("weekday", "opens", "closes")
        )
        hours: dict[int, list[tuple[dt.time, dt.time]]] = {}
        for weekday, opens, closes in rows:
            hours.setdefault(weekday, []).append((opens, closes))
        for periods in hours.values():
            periods.sort()
        closures = list(
            Closure.objects.filter(Q(space__isnull=True) | Q(space=space), center_id=space.center_id)
        )
        return cls(space=space, rules=rules, hours=hours, closures=closures)

    @classmethod
    def load_many(cls, spaces: list[Space]) -> dict[int, SpaceCalendar]:
        """Calendars of many spaces in three queries (utilisation over a whole district)."""
        own: dict[int, dict[int, list[tuple[dt.time, dt.time]]]] = {}
        for space_id, weekday, opens, closes in SpaceHours.objects.filter(space__in=spaces).values_list(
            "space_id", "weekday", "opens", "closes"
        ):
            own.setdefault(space_id, {}).setdefault(weekday, []).append((opens, closes))
        center_ids = {s.center_id for s in spaces}
        by_center: dict[int, dict[int, list[tuple[dt.time, dt.time]]]] = {}
        for center_id, weekday, opens, closes in OpeningHours.objects.filter(
            center_id__in=center_ids
        ).values_list("center_id", "weekday", "opens", "closes"):
            by_center.setdefault(center_id, {}).setdefault(weekday, []).append((opens, closes))
        closures: dict[int, list[Closure]] = {}
        for closure in Closure.objects.filter(center_id__in=center_ids):
            closures.setdefault(closure.center_id, []).append(closure)
        out = {}
        for space in spaces:
            hours = own.get(space.pk) or by_center.get(space.center_id, {})
            out[space.pk] = cls(
                space=space,
                rules=rules_of(space),
                hours={d: sorted(p) for d, p in hours.items()},
                closures=[c for c in closures.get(space.center_id, []) if c.space_id in (None, space.pk)],
            )
        return out

    def closure_on(self, day: dt.date) -> Closure | None:
        return next((c for c in self.closures if c.starts_on <= day <= c.ends_on), None)

    def periods(self, day: dt.date) -> list[Period]:
        """Opening periods of the day, empty when closed or the space is not in use."""
        if self.closure_on(day) is not None or not self.space.in_use_on(day):
            return []
        return [(at(day, o), at(day, c)) for o, c in self.hours.get(day.weekday(), [])]

    def slots(self, day: dt.date) -> list[Period]:
        step = dt.timedelta(minutes=self.rules.slot_minutes)
        out = []
        for start, end in self.periods(day):
            t = start
            while t + step <= end:
                out.append((t, t + step))
                t += step
        return out

    def period_containing(self, starts_at: dt.datetime, ends_at: dt.datetime) -> Period | None:
        for start, end in self.periods(local_day(starts_at)):
            if start <= starts_at and ends_at <= end:
                return (start, end)
        return None

    def aligned(self, period: Period, starts_at: dt.datetime, ends_at: dt.datetime) -> bool:
        step = self.rules.slot_minutes * 60
        offset = (starts_at - period[0]).total_seconds()
        length = (ends_at - starts_at).total_seconds()
        return offset % step == 0 and length % step == 0

    def last_bookable_day(self, now: dt.datetime) -> dt.date:
        """Days up to ``horizon_days`` ahead; the last one opens at ``release_time`` if set."""
        local_now = timezone.localtime(now, local_tz())
        last = local_now.date() + dt.timedelta(days=self.rules.horizon_days)
        if self.rules.release_time is not None and local_now.time() < self.rules.release_time:
            last -= dt.timedelta(days=1)
        return last

    def opens_for_booking_at(self, day: dt.date) -> dt.datetime:
        """When ``day`` becomes bookable."""
        first = day - dt.timedelta(days=self.rules.horizon_days)
        return at(first, self.rules.release_time or dt.time(0, 0))


def active_or_held(now: dt.datetime) -> Q:
    """Bookings that hold their time: active ones, except a resident's booking whose check-in
    window has passed unused (it is being released as a no-show)."""
    return Q(status__in=Booking.ACTIVE) & ~Q(
        status=Booking.Status.CONFIRMED, kind=Booking.Kind.RESIDENT, checkin_closes_at__lt=now
    )


def eligible(rules: BookingRules, space: Space, resident: Resident, *, on: dt.date | None = None) -> bool:
    """Whether the resident may book the space on day ``on`` (today by default): a verification
    that ends before the booking's day does not count."""
    audience = rules.audience
    if audience == BookingRules.Audience.EVERYONE:
        return True
    if audience == BookingRules.Audience.COMMUNITY:
        return resident.home_community_id == space.center.community_id
    kinds = {e.kind for e in resident_eligibilities(resident, on=on)}
    if audience == BookingRules.Audience.DISABLED:
        return EligibilityVerification.Kind.DISABLED in kinds
    if audience == BookingRules.Audience.PARK_WORKERS:
        return EligibilityVerification.Kind.PARK_WORKER in kinds
    return False


def active_suspension(resident: Resident, now: dt.datetime | None = None) -> BookingSuspension | None:
    now = now or timezone.now()
    return (
        BookingSuspension.objects.filter(
            resident=resident, starts_at__lte=now, ends_at__gt=now, lifted_at__isnull=True
        )
        .order_by("-ends_at")
        .first()
    )


def free_units(
    space: Space, starts_at: dt.datetime, ends_at: dt.datetime, now: dt.datetime
) -> list[Resource]:
    """Units residents may book that nothing holds during ``[starts_at, ends_at)``, in seat order."""
    held = list(
        Booking.objects.filter(
            active_or_held(now), space=space, starts_at__lt=ends_at, ends_at__gt=starts_at
        ).values_list("resource_id", "whole_space")
    )
    if any(whole for _r, whole in held):
        return []
    taken = {r for r, _w in held}
    units = Resource.objects.filter(space=space, is_active=True, residents_may_book=True).order_by(
        "kind", "position", "id"
    )
    return [u for u in units if u.pk not in taken and not (u.whole_space and taken)]


def week_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    monday = day - dt.timedelta(days=day.weekday())
    return at(monday, dt.time(0, 0)), at(monday + dt.timedelta(days=7), dt.time(0, 0))


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    return at(day, dt.time(0, 0)), at(day + dt.timedelta(days=1), dt.time(0, 0))


def when_label(starts_at: dt.datetime, ends_at: dt.datetime) -> str:
    """``2026-11-28 09:00–11:00`` in local time."""
    s, e = timezone.localtime(starts_at, local_tz()), timezone.localtime(ends_at, local_tz())
    if s.date() == e.date():
        return f"{s:%Y-%m-%d %H:%M}–{e:%H:%M}"
    return f"{s:%Y-%m-%d %H:%M}–{e:%Y-%m-%d %H:%M}"
