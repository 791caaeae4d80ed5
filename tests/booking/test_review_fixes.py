"""Defects a review found: closures rewriting history, offsets on times of day, far dates on
console pages, the door code choosing a booking already checked in, a partial rules update."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from livingroom.booking import services
from livingroom.booking.models import Booking, BookingRules
from tests.booking.conftest import local, put_booking, unchanged
from tests.conftest import console_client, staff_api
from tests.invariants import assert_error

pytestmark = pytest.mark.django_db


def test_a_closure_leaves_past_and_checked_in_bookings_alone(world):
    today = timezone.localdate()
    past = put_booking(
        world["seats"][0],
        local(today - dt.timedelta(days=1), 10),
        local(today - dt.timedelta(days=1), 11),
        resident=world["resident"],
        status=Booking.Status.CHECKED_IN,
    )
    desk = staff_api(world["desk"])
    body = {"center_id": world["center"].pk, "starts_on": str(today - dt.timedelta(days=3)), "reason": "x"}
    with unchanged():
        assert_error(
            desk.post("/staff/closures", {**body, "ends_on": str(today - dt.timedelta(days=1))}),
            400,
            "booking_in_past",
            "ends_on",
        )
        assert_error(
            desk.post("/staff/closures", {**body, "ends_on": "2100-12-31"}),
            400,
            "closure_too_long",
            "ends_on",
        )
    response = desk.post("/staff/closures", {**body, "ends_on": str(today + dt.timedelta(days=2))})
    assert response.status_code == 201
    past.refresh_from_db()
    assert past.status == Booking.Status.CHECKED_IN


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("rules", {"release_time": "20:00+08:00"}, "release_time"),
        (
            "hours",
            {"periods": [{"weekday": 0, "opens": "08:00", "closes": "12:00+08:00"}]},
            "periods.0.closes",
        ),
    ],
)
def test_a_time_of_day_with_an_offset_is_refused(world, path, body, field):
    desk = staff_api(world["desk"])
    with unchanged():
        response = desk.put(f"/staff/spaces/{world['study'].pk}/{path}", body)
    assert_error(response, 400, "invalid_input", field)


def test_a_partial_rules_update_keeps_the_other_rules(world):
    desk = staff_api(world["desk"])
    assert desk.put(f"/staff/spaces/{world['rehab'].pk}/rules", {"horizon_days": 9}).status_code == 200
    rules = BookingRules.objects.get(space=world["rehab"])
    assert (rules.horizon_days, rules.audience, rules.slot_minutes) == (9, "disabled", 30)


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
@pytest.mark.parametrize("view", ["day", "week"])
def test_the_calendar_falls_back_to_today_for_far_dates(world, day, view):
    client = console_client(world["desk"])
    response = client.get(f"/console/bookings/calendar/{world['center'].pk}/", {"day": day, "view": view})
    assert response.status_code == 200


def test_the_resident_form_refuses_a_far_start_without_a_500(world):
    from django.test import Client

    client = Client()
    client.force_login(world["resident"].user)
    with unchanged(ignore=("Notice",)):
        response = client.post(
            f"/spaces/{world['study'].pk}/book/", {"starts_at": "9999-12-31T23:30:00+08:00", "minutes": "60"}
        )
    assert response.status_code == 302


def test_the_door_code_checks_in_the_next_booking_not_the_one_already_checked_in(world, tomorrow):
    first = put_booking(
        world["seats"][0],
        local(tomorrow, 9),
        local(tomorrow, 10),
        resident=world["resident"],
        status="checked_in",
    )
    second = put_booking(
        world["seats"][0], local(tomorrow, 10), local(tomorrow, 11), resident=world["resident"]
    )
    booking = services.booking_check_in_by_space_qr(
        user=world["resident"].user,
        space_id=world["study"].pk,
        key=services.space_qr_value(world["study"]),
        now=local(tomorrow, 9, 50),
    )
    assert booking.pk == second.pk and booking.status == "checked_in"
    first.refresh_from_db()
    assert first.status == "checked_in"


def test_a_block_takes_only_opening_hours_out_of_utilisation(world, tomorrow):
    from livingroom.booking import selectors

    put_booking(
        world["study_room_unit"], local(tomorrow, 0), local(tomorrow + dt.timedelta(days=1), 0), kind="block"
    )
    rows = selectors.utilisation(
        world["scope"], tomorrow, tomorrow + dt.timedelta(days=1), center_id=world["center"].pk
    )
    study = next(r for r in rows if r.space == world["study"])
    assert study.open_hours == 4 * 14  # two days of 4 seats × 14 h, less the blocked day's 14 h
