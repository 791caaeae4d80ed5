"""A space's own opening hours: set by desk staff, shown as free slots, enforced on booking."""

from __future__ import annotations

import pytest

from livingroom.booking import selectors
from livingroom.booking.models import SpaceHours
from tests.booking.conftest import local, unchanged
from tests.conftest import resident_api, staff_api
from tests.invariants import assert_error

pytestmark = pytest.mark.django_db

LUNCH_BREAK = [
    {"weekday": d, "opens": o, "closes": c}
    for d in range(7)
    for o, c in (("09:00", "12:00"), ("14:00", "18:00"))
]


def test_own_hours_with_a_lunch_break_shape_the_slots_and_the_bookings(world, tomorrow):
    desk = staff_api(world["desk"])
    response = desk.put(f"/staff/spaces/{world['study'].pk}/hours", {"periods": LUNCH_BREAK})
    assert response.status_code == 200 and len(response.json()) == 14

    day = selectors.space_availability(world["study"], tomorrow, tomorrow).days[0]
    starts = [s.starts_at for s in day.slots]
    assert starts == [local(tomorrow, h) for h in (9, 10, 11, 14, 15, 16, 17)]

    me = resident_api(world["resident"].user)
    across = {
        "resource_id": world["seats"][0].pk,
        "starts_at": local(tomorrow, 11).isoformat(),
        "ends_at": local(tomorrow, 15).isoformat(),
    }
    with unchanged():
        assert_error(me.post("/bookings", across), 400, "outside_opening_hours", "starts_at")
    inside = {
        **across,
        "starts_at": local(tomorrow, 14).isoformat(),
        "ends_at": local(tomorrow, 16).isoformat(),
    }
    assert me.post("/bookings", inside).status_code == 201


def test_an_empty_list_returns_the_space_to_its_centers_hours(world, tomorrow):
    desk = staff_api(world["desk"])
    desk.put(f"/staff/spaces/{world['study'].pk}/hours", {"periods": LUNCH_BREAK})
    assert desk.put(f"/staff/spaces/{world['study'].pk}/hours", {"periods": []}).json() == []
    assert not SpaceHours.objects.filter(space=world["study"]).exists()
    day = selectors.space_availability(world["study"], tomorrow, tomorrow).days[0]
    assert day.slots[0].starts_at == local(tomorrow, 8)  # the center opens at 08:00


@pytest.mark.parametrize(
    ("periods", "status", "code"),
    [
        (
            [
                {"weekday": 0, "opens": "09:00", "closes": "12:00"},
                {"weekday": 0, "opens": "11:00", "closes": "13:00"},
            ],
            400,
            "hours_overlap",
        ),
        ([{"weekday": 0, "opens": "12:00", "closes": "09:00"}], 400, "booking_times_invalid"),
        ([{"weekday": 7, "opens": "09:00", "closes": "12:00"}], 400, "invalid_input"),
        ([{"weekday": 0, "opens": "9点", "closes": "12:00"}], 400, "invalid_input"),
    ],
    ids=["overlap", "closes-before-opens", "weekday-7", "not-a-time"],
)
def test_bad_hours_change_nothing(world, periods, status, code):
    desk = staff_api(world["desk"])
    desk.put(f"/staff/spaces/{world['study'].pk}/hours", {"periods": LUNCH_BREAK})
    with unchanged():
        response = desk.put(f"/staff/spaces/{world['study'].pk}/hours", {"periods": periods})
    assert_error(response, status, code)
    assert SpaceHours.objects.filter(space=world["study"]).count() == 14
