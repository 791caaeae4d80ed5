"""Checking in: a kiosk reads the resident's pass, staff scan it at the desk, or the resident
scans the code at the door. Each way marks the booking checked in once, inside the window
(from 15 minutes before the start to 15 minutes after it), and uses the pass up."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from livingroom.booking import errors, services
from livingroom.booking.models import Booking
from livingroom.core.errors import InvalidInput
from livingroom.core.models import AuditEvent
from livingroom.people.models import PassUse
from tests import factories as f
from tests.booking.conftest import fresh_pass, local, put_booking, unchanged
from tests.conftest import staff_api

pytestmark = pytest.mark.django_db


def starting_in(world, minutes: int, unit=None, resident=None) -> Booking:
    start = timezone.now() + dt.timedelta(minutes=minutes)
    return put_booking(
        unit or world["seats"][0],
        start,
        start + dt.timedelta(hours=1),
        resident=resident or world["resident"],
    )


def test_kiosk_checks_in_with_a_pass(world, kiosk):
    booking = starting_in(world, 5)
    before = timezone.now()
    response = kiosk.post(f"/bookings/{booking.pk}/check-in", {"token": fresh_pass(world["resident"])})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == booking.pk and body["status"] == "checked_in"
    booking.refresh_from_db()
    assert booking.status == "checked_in" and booking.checked_in_via == "device"
    assert before <= booking.checked_in_at <= timezone.now()
    use = PassUse.objects.get()
    assert use.resident == world["resident"] and use.device.center == world["center"] and use.staff is None
    event = AuditEvent.objects.get(action="booking.booking.checked_in")
    assert event.object_id == str(booking.pk) and event.data == {"via": "device"}
    # Showing a new pass again is harmless: still checked in, at the first time.
    again = kiosk.post(f"/bookings/{booking.pk}/check-in", {"token": fresh_pass(world["resident"])})
    assert again.status_code == 200 and again.json()["checked_in_at"] == body["checked_in_at"]
    assert Booking.objects.get().checked_in_at == booking.checked_in_at


def test_check_in_at_the_edges_of_the_window(world, tomorrow):
    device, _secret = f.device_for(world["center"])
    starts = local(tomorrow, 10)

    def check_in(booking: Booking, now: dt.datetime) -> Booking:
        return services.booking_check_in_with_pass_at_device(
            device=device, booking_id=booking.pk, token=fresh_pass(world["resident"]), now=now
        )

    first = put_booking(world["seats"][0], starts, starts + dt.timedelta(hours=1), resident=world["resident"])
    with unchanged(), pytest.raises(errors.CheckinNotOpen):
        check_in(first, starts - dt.timedelta(minutes=15, seconds=1))
    assert check_in(first, starts - dt.timedelta(minutes=15)).status == "checked_in"

    second = put_booking(
        world["seats"][1], starts, starts + dt.timedelta(hours=1), resident=world["resident"]
    )
    with unchanged(), pytest.raises(errors.CheckinClosed):
        check_in(second, starts + dt.timedelta(minutes=15, seconds=1))
    assert check_in(second, starts + dt.timedelta(minutes=15)).status == "checked_in"


def test_desk_scans_a_pass_and_checks_in_the_nearest_booking(world, tomorrow):
    now = timezone.now()
    near = starting_in(world, 10)
    later = put_booking(
        world["therapist_unit"],
        now + dt.timedelta(minutes=70),
        now + dt.timedelta(minutes=100),
        resident=world["resident"],
    )
    desk = staff_api(world["desk"])
    response = desk.post("/staff/bookings/check-in", {"token": fresh_pass(world["resident"])})
    assert response.status_code == 200, response.content
    assert response.json()["id"] == near.pk
    near.refresh_from_db()
    later.refresh_from_db()
    assert (near.status, near.checked_in_via, later.status) == ("checked_in", "staff", "confirmed")
    assert PassUse.objects.get().staff == world["desk"]
    # The later booking's window is not open yet: the next scan finds nothing to check in.
    with unchanged():
        response = desk.post("/staff/bookings/check-in", {"token": fresh_pass(world["resident"])})
    assert response.status_code == 409 and response.json()["code"] == "checkin_not_open"


def test_desk_scan_of_a_resident_without_a_booking_here(world, place):
    other = f.ResidentFactory(home_community=place["communities"][2])
    starting_in(world, 5, resident=other)
    other_center_staff = staff_api(f.staff_with_role("center_staff", center=place["centers"][1]))
    with unchanged():
        response = other_center_staff.post("/staff/bookings/check-in", {"token": fresh_pass(other)})
    assert response.status_code == 404 and response.json()["code"] == "no_booking_to_check_in"
    assert not PassUse.objects.exists()  # a refused scan does not use the pass up


def test_desk_scan_with_a_replayed_pass(world):
    starting_in(world, 5)
    desk = staff_api(world["desk"])
    token = fresh_pass(world["resident"])
    assert desk.post("/staff/bookings/check-in", {"token": token}).status_code == 200
    with unchanged():
        response = desk.post("/staff/bookings/check-in", {"token": token})
    assert response.status_code == 409 and response.json()["code"] == "pass_replayed"


def test_the_code_at_the_door(world, tomorrow):
    starts = local(tomorrow, 10)
    booking = put_booking(
        world["seats"][0], starts, starts + dt.timedelta(hours=2), resident=world["resident"]
    )
    key = services.space_qr_value(world["study"])
    user = world["resident"].user
    # Too early, then at the door in time.
    with unchanged(), pytest.raises(errors.CheckinNotOpen):
        services.booking_check_in_by_space_qr(
            user=user, space_id=world["study"].pk, key=key, now=starts - dt.timedelta(minutes=20)
        )
    done = services.booking_check_in_by_space_qr(
        user=user, space_id=world["study"].pk, key=key, now=starts - dt.timedelta(minutes=5)
    )
    assert done.pk == booking.pk and done.status == "checked_in" and done.checked_in_via == "qr"
    event = AuditEvent.objects.get(action="booking.booking.checked_in")
    assert event.actor == user and event.data == {"via": "qr"}


@pytest.mark.parametrize("which", ["other-space", "tampered", "empty", "unsigned"])
def test_a_door_code_that_is_not_this_spaces(world, tomorrow, which):
    starts = local(tomorrow, 10)
    put_booking(world["seats"][0], starts, starts + dt.timedelta(hours=1), resident=world["resident"])
    good = services.space_qr_value(world["study"])
    key = {
        "other-space": services.space_qr_value(world["activity"]),
        "tampered": good[:-2] + ("AA" if not good.endswith("AA") else "BB"),
        "empty": "",
        "unsigned": str(world["study"].pk),
    }[which]
    with unchanged(), pytest.raises(InvalidInput) as caught:
        services.booking_check_in_by_space_qr(
            user=world["resident"].user, space_id=world["study"].pk, key=key, now=starts
        )
    assert (caught.value.code, caught.value.field) == ("space_code_invalid", "k")


def test_the_door_code_with_nothing_booked(world, tomorrow):
    key = services.space_qr_value(world["study"])
    with unchanged(), pytest.raises(errors.NothingToCheckIn):
        services.booking_check_in_by_space_qr(
            user=world["resident"].user, space_id=world["study"].pk, key=key, now=local(tomorrow, 10)
        )


def test_the_door_page_checks_in(world):
    """The page behind the printed code: a signed-in resident taps once."""
    booking = starting_in(world, 5)
    client = Client()
    client.force_login(world["resident"].user)
    key = services.space_qr_value(world["study"])
    page = client.get(f"/spaces/{world['study'].pk}/check-in/", {"k": key})
    assert page.status_code == 200
    response = client.post(f"/spaces/{world['study'].pk}/check-in/", {"k": key})
    assert response.status_code == 302 and response["Location"] == "/me/bookings/"
    booking.refresh_from_db()
    assert (booking.status, booking.checked_in_via) == ("checked_in", "qr")
