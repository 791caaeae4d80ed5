"""A bookable world: 固戍's center open 08:00–22:00 every day, with a 4-seat study room, an
activity room that needs approval, and a rehab room with one therapist."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from livingroom.booking import services
from livingroom.booking.models import Resource
from livingroom.people.models import StaffRole
from livingroom.people.scopes import staff_scope
from livingroom.places.models import OpeningHours, Space
from tests import factories as f


def local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=timezone.get_default_timezone())


@pytest.fixture
def tomorrow() -> dt.date:
    return timezone.localdate() + dt.timedelta(days=1)


@pytest.fixture
def world(place, roles):
    center = place["centers"][0]
    for weekday in range(7):
        OpeningHours.objects.create(center=center, weekday=weekday, opens=dt.time(8), closes=dt.time(22))
    desk = roles["community"]  # community worker of 固戍 (the first community)
    scope = staff_scope(desk)
    study = f.SpaceFactory(center=center, name="自习室", kind=Space.Kind.STUDY, area_m2=100, capacity=4, bookable=True)
    services.booking_rules_set(scope=scope, staff=desk, space_id=study.pk, max_per_day=1, max_minutes=240)
    seats = services.space_units_set(scope=scope, staff=desk, space_id=study.pk, seats=4)
    activity = f.SpaceFactory(center=center, name="活动室", kind=Space.Kind.ACTIVITY, area_m2=80, bookable=True)
    services.booking_rules_set(
        scope=scope, staff=desk, space_id=activity.pk, requires_approval=True, max_minutes=180, max_minutes_per_week=240
    )
    rehab = f.SpaceFactory(center=center, name="康复室", kind=Space.Kind.REHAB, area_m2=60, bookable=True)
    services.booking_rules_set(
        scope=scope, staff=desk, space_id=rehab.pk, audience="disabled", slot_minutes=30, min_minutes=30, max_minutes=60
    )
    therapist = f.staff_with_role(StaffRole.Role.CENTER_STAFF, center=center)
    services.space_units_set(scope=scope, staff=desk, space_id=rehab.pk, therapists=[("王治疗师", therapist)])
    resident = f.ResidentFactory(home_community=place["communities"][0])
    return {
        "center": center,
        "desk": desk,
        "scope": scope,
        "study": study,
        "seats": seats,
        "study_room_unit": Resource.objects.get(space=study, kind="room"),
        "activity": activity,
        "activity_unit": Resource.objects.get(space=activity, kind="room"),
        "rehab": rehab,
        "therapist": therapist,
        "therapist_unit": Resource.objects.get(space=rehab, kind="therapist"),
        "resident": resident,
    }
