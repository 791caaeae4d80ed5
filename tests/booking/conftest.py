"""A bookable world: 固戍's center open 08:00–22:00 every day, with a 4-seat study room, an
activity room that needs approval, and a rehab room with one therapist."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Iterator

import pytest
from django.utils import timezone

from livingroom.booking import services
from livingroom.booking.models import (
    Booking,
    BookingRules,
    BookingSeries,
    BookingSuspension,
    Closure,
    Resource,
)
from livingroom.core import signing
from livingroom.notices.models import Notice
from livingroom.people import services as people_services
from livingroom.people.models import StaffRole
from livingroom.people.scopes import staff_scope
from livingroom.places.models import OpeningHours, Space
from tests import factories as f
from tests.conftest import Api
from tests.invariants import nothing_changes


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
    study = f.SpaceFactory(
        center=center, name="自习室", kind=Space.Kind.STUDY, area_m2=100, capacity=4, bookable=True
    )
    services.booking_rules_set(scope=scope, staff=desk, space_id=study.pk, max_per_day=1, max_minutes=240)
    seats = services.space_units_set(scope=scope, staff=desk, space_id=study.pk, seats=4)
    activity = f.SpaceFactory(
        center=center, name="活动室", kind=Space.Kind.ACTIVITY, area_m2=80, bookable=True
    )
    services.booking_rules_set(
        scope=scope,
        staff=desk,
        space_id=activity.pk,
        requires_approval=True,
        max_minutes=180,
        max_minutes_per_week=240,
    )
    rehab = f.SpaceFactory(center=center, name="康复室", kind=Space.Kind.REHAB, area_m2=60, bookable=True)
    services.booking_rules_set(
        scope=scope,
        staff=desk,
        space_id=rehab.pk,
        audience="disabled",
        slot_minutes=30,
        min_minutes=30,
        max_minutes=60,
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


# --- helpers shared by the booking tests (added for the refusal, permission and flow tests) -------


def put_booking(
    unit: Resource,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    *,
    resident=None,
    status: str = Booking.Status.CONFIRMED,
    kind: str | None = None,
    organization=None,
    series=None,
    window_minutes: int = 15,
) -> Booking:
    """A booking written straight to the database (no grid, no clock): for states the services
    only reach with time passing, and for times relative to the real clock."""
    if kind is None:
        kind = Booking.Kind.RESIDENT if resident else Booking.Kind.ORGANIZATION if organization else "block"
    return Booking.objects.create(
        resource=unit,
        space=unit.space,
        whole_space=unit.whole_space,
        kind=kind,
        status=status,
        starts_at=starts_at,
        ends_at=ends_at,
        resident=resident,
        organization=organization,
        series=series,
        checkin_closes_at=starts_at + dt.timedelta(minutes=window_minutes) if resident else None,
    )


def fresh_pass(resident) -> str:
    return people_services.resident_pass_issue(user=resident.user).token


def booking_facts() -> dict:
    """What a refused request could change in place (``nothing_changes`` counts rows)."""
    return {
        "bookings": list(
            Booking.objects.order_by("pk").values_list(
                "pk",
                "status",
                "resource_id",
                "starts_at",
                "ends_at",
                "checked_in_at",
                "cancelled_at",
                "decided_at",
                "reminded_at",
            )
        ),
        "suspensions": list(
            BookingSuspension.objects.order_by("pk").values_list("pk", "ends_at", "lifted_at")
        ),
        "series": list(BookingSeries.objects.order_by("pk").values_list("pk", "cancelled_at")),
        "rules": list(BookingRules.objects.order_by("pk").values()),
        "units": list(Resource.objects.order_by("pk").values_list("pk", "is_active", "residents_may_book")),
        "closures": list(Closure.objects.order_by("pk").values_list("pk", "starts_on", "ends_on")),
        "notices": list(Notice.objects.order_by("pk").values_list("pk", "read_at", "sms_sent_at")),
    }


@contextlib.contextmanager
def unchanged(ignore: tuple[str, ...] = ()) -> Iterator[None]:
    """``nothing_changes()`` plus the booking facts a refusal could alter without adding a row."""
    before = booking_facts()
    with nothing_changes(ignore):
        yield
    assert booking_facts() == before


def active_overlaps() -> list[tuple[int, int]]:
    """Pairs of active bookings that hold the same time: one unit twice, or a room and its part."""
    rows = list(
        Booking.objects.filter(status__in=Booking.ACTIVE).values_list(
            "pk", "resource_id", "space_id", "whole_space", "starts_at", "ends_at"
        )
    )
    clashes = []
    for i, (pk, unit, space, whole, s, e) in enumerate(rows):
        for pk2, unit2, space2, whole2, s2, e2 in rows[i + 1 :]:
            if s < e2 and s2 < e and (unit == unit2 or (space == space2 and whole != whole2)):
                clashes.append((pk, pk2))
    return clashes


class DeviceApi(Api):
    """Signs every request as a registered device (``livingroom.core.signing``)."""

    def __init__(self, key_id: str, secret: str) -> None:
        super().__init__()
        self.key_id, self.secret = key_id, secret

    def send(self, method: str, path: str, data=None, headers: dict | None = None, raw: bytes | None = None):
        body = raw if raw is not None else json.dumps(data if data is not None else {}).encode()
        signed = signing.signed_headers(self.secret, self.key_id, method, "/api/v1" + path, body)
        return super().send(method, path, headers={**signed, **(headers or {})}, raw=body)


@pytest.fixture
def kiosk(world) -> DeviceApi:
    """A signed kiosk at 固戍's center (the ``world`` center)."""
    device, secret = f.device_for(world["center"])
    return DeviceApi(device.key_id, secret)
