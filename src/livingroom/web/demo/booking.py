"""Demo bookings: rules for every bookable space, seats and therapists, and a few weeks of use.

Future bookings go through the booking services (so they obey every rule); the past fortnight of
study-room use (check-ins and no-shows, for the utilisation report) is written directly, since
no service books the past.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.utils import timezone

from livingroom.booking import services as booking
from livingroom.booking.calendar import at
from livingroom.booking.models import Booking, Resource
from livingroom.people.models import Resident, User
from livingroom.people.scopes import staff_scope
from livingroom.places.models import Center, Organization, Space

# kind → rules (the defaults a district would start from)
RULES: dict[str, dict[str, Any]] = {
    "study": {"horizon_days": 2, "max_per_day": 1, "slot_minutes": 60, "min_minutes": 60, "max_minutes": 240},
    "activity": {"horizon_days": 14, "requires_approval": True, "min_minutes": 60, "max_minutes": 180},
    "dance": {"horizon_days": 7, "max_minutes_per_week": 240, "min_minutes": 60, "max_minutes": 120},
    "meeting": {"horizon_days": 14, "audience": "community", "min_minutes": 60, "max_minutes": 180},
    "rehab": {
        "horizon_days": 14,
        "audience": "disabled",
        "slot_minutes": 30,
        "min_minutes": 30,
        "max_minutes": 60,
    },
    "livestream": {"horizon_days": 7, "audience": "park_workers", "min_minutes": 60, "max_minutes": 180},
}


def load_booking(rng: random.Random) -> dict[str, int]:
    admin = User.objects.get(username="admin")
    scope = staff_scope(admin)
    assert scope is not None
    today = timezone.localdate()
    spaces = list(Space.objects.filter(bookable=True).select_related("center__community").order_by("pk"))
    canlian = User.objects.filter(username="canlian").first()
    for space in spaces:
        rules = RULES.get(space.kind, {"horizon_days": 7, "min_minutes": 60, "max_minutes": 120})
        booking.booking_rules_set(scope=scope, staff=admin, space_id=space.pk, **rules)
        if space.kind == Space.Kind.STUDY:
            booking.space_units_set(scope=scope, staff=admin, space_id=space.pk, seats=space.capacity or 20)
        elif space.kind == Space.Kind.REHAB:
            booking.space_units_set(
                scope=scope,
                staff=admin,
                space_id=space.pk,
                therapists=[("区中医院 王医生", None), ("区残联 康复专干", canlian)],
            )
            # Therapists' hours: weekdays, with a lunch break.
            booking.space_hours_set(
                scope=scope,
                staff=admin,
                space_id=space.pk,
                periods=[
                    (d, o, c)
                    for d in range(5)
                    for o, c in ((dt.time(9), dt.time(12)), (dt.time(14), dt.time(17)))
                ],
            )
    # New Year's Day: every center closes (a holiday closure; bookings that day are refused).
    new_year = dt.date(today.year + 1, 1, 1)
    for center in Center.objects.all():
        booking.closure_add(
            scope=scope,
            staff=admin,
            center_id=center.pk,
            starts_on=new_year,
            ends_on=new_year,
            reason="元旦闭馆",
        )
    counts = {"spaces": len(spaces)}
    counts["future"] = _future_bookings(today, scope, admin)
    counts["history"] = _study_history(rng, today)
    return counts


def _weekday_from(day: dt.date) -> dt.date:
    """The first weekday from ``day`` on that is not New Year's Day (every center is open on
    weekdays until 20:00 at least; rehabilitation rooms only on weekdays; all close on 1 January)."""
    while day.weekday() >= 5 or (day.month, day.day) == (1, 1):
        day += dt.timedelta(days=1)
    return day


def _resident(phone: str) -> Resident:
    return User.objects.get_by_phone(phone).resident


def _future_bookings(today: dt.date, scope: Any, admin: User) -> int:
    made = 0
    tomorrow = today + dt.timedelta(days=1)
    if (tomorrow.month, tomorrow.day) == (1, 1):  # the study room books two days ahead
        tomorrow += dt.timedelta(days=1)
    gushu_study = Space.objects.get(center__community__name="固戍社区", kind="study", opened_on__isnull=False)
    seat = Resource.objects.get(space=gushu_study, kind="seat", label="12")
    booking.booking_create(
        user=_resident("13800138000").user,
        resource_id=seat.pk,
        starts_at=at(tomorrow, dt.time(10)),
        ends_at=at(tomorrow, dt.time(12)),
    )
    made += 1
    activity = Resource.objects.get(
        space__center__community__name="固戍社区", space__name="多功能活动室", kind="room"
    )
    someone = (
        Resident.objects.filter(home_community__name="固戍社区").exclude(user__phone_tail="8000").first()
    )
    if someone is not None:
        booking.booking_create(
            user=someone.user,
            resource_id=activity.pk,
            starts_at=at(_weekday_from(today + dt.timedelta(days=3)), dt.time(18)),
            ends_at=at(_weekday_from(today + dt.timedelta(days=3)), dt.time(20)),
            purpose="社区合唱队排练",
        )
        made += 1
    rehab = Resource.objects.filter(space__kind="rehab", kind="therapist", staff_user__isnull=False).first()
    if rehab is not None:
        booking.booking_create(
            user=_resident("13800138002").user,
            resource_id=rehab.pk,
            starts_at=at(_weekday_from(today + dt.timedelta(days=2)), dt.time(10)),
            ends_at=at(_weekday_from(today + dt.timedelta(days=2)), dt.time(10, 30)),
        )
        made += 1
    # A weekly calligraphy class of the Longzhu painting society in Longzhu's activity room.
    room = Resource.objects.filter(
        space__center__community__name="龙珠社区", space__kind__in=["activity", "meeting"], kind="room"
    ).first()
    org = Organization.objects.filter(name__contains="龙珠书画").first()
    worker = User.objects.get(username="longzhu")  # center staff at 龙珠's desk
    worker_scope = staff_scope(worker)
    assert worker_scope is not None
    if room is not None and org is not None:
        first = today + dt.timedelta(days=1)
        _series, occurrences = booking.series_create(
            scope=worker_scope,
            staff=worker,
            resource_id=room.pk,
            organization_id=org.pk,
            purpose="公益书法课（市场价两成）",
            weekday=1,  # Tuesdays; every center is open until 20:00 at least
            starts=dt.time(18),
            ends=dt.time(20),
            first_date=first,
            weeks=10,
            skip_conflicts=True,
        )
        made += sum(1 for o in occurrences if not o.problem)
    return made


def _study_history(rng: random.Random, today: dt.date) -> int:
    """Two weeks of the 固戍 study room: most bookings checked in, some no-shows."""
    space = Space.objects.get(center__community__name="固戍社区", kind="study", opened_on__isnull=False)
    seats = list(Resource.objects.filter(space=space, kind="seat").order_by("position"))
    residents = list(Resident.objects.order_by("pk")[:120])
    rows = []
    for back in range(14, 0, -1):
        day = today - dt.timedelta(days=back)
        evening = day.weekday() < 5  # weekends close at 18:00
        plan = []
        for start_hour, lengths in ((9, [2, 3, 3, 4]), (13, [2, 3, 3, 4]), (17, [2, 3])):
            if start_hour == 17 and not evening:
                continue
            for seat in rng.sample(seats, k=min(len(seats), rng.randint(8, 30))):
                plan.append((seat, start_hour, rng.choice(lengths)))
        # One booking a day per resident, as the study room's rule says (a small demo books less).
        plan = plan[: len(residents)]
        for (seat, start_hour, hours), resident in zip(plan, rng.sample(residents, k=len(plan)), strict=True):
            starts = at(day, dt.time(start_hour))
            no_show = rng.random() < 0.12
            rows.append(
                Booking(
                    resource=seat,
                    space=space,
                    whole_space=False,
                    kind=Booking.Kind.RESIDENT,
                    status=Booking.Status.NO_SHOW if no_show else Booking.Status.CHECKED_IN,
                    starts_at=starts,
                    ends_at=starts + dt.timedelta(hours=hours),
                    resident=resident,
                    booked_by=resident.user,
                    created_at=starts - dt.timedelta(hours=20),
                    checkin_closes_at=starts + dt.timedelta(minutes=15),
                    checked_in_at=None if no_show else starts + dt.timedelta(minutes=rng.randint(-10, 12)),
                    checked_in_via="" if no_show else rng.choice(["device", "qr", "staff"]),
                )
            )
    Booking.objects.bulk_create(rows, batch_size=500)
    return len(rows)
