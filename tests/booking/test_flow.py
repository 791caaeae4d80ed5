from __future__ import annotations

import datetime as dt

import pytest

from livingroom.booking import errors, selectors, services
from livingroom.booking.models import Booking
from livingroom.notices.models import Notice
from livingroom.people.models import SmsOutbox
from tests.booking.conftest import local
from tests.conftest import resident_api
from tests.factories import ResidentFactory
from tests.invariants import assert_error


@pytest.mark.django_db(transaction=False)
def test_book_a_seat_see_it_and_cancel(world, tomorrow, django_capture_on_commit_callbacks):
    api = resident_api(world["resident"].user)
    seat = world["seats"][0]
    body = {
        "resource_id": seat.pk,
        "starts_at": local(tomorrow, 10).isoformat(),
        "ends_at": local(tomorrow, 12).isoformat(),
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/bookings", body)
    assert response.status_code == 201, response.content
    booking = response.json()
    assert booking["status"] == "confirmed" and booking["unit"] == "1"
    assert Notice.objects.filter(user=world["resident"].user, kind="booking.confirmed").count() == 1
    assert SmsOutbox.objects.count() == 1

    mine = api.get("/me/bookings").json()
    assert [b["id"] for b in mine["upcoming"]] == [booking["id"]]

    # The seat is no longer free from 10 to 12; other seats are.
    a = selectors.space_availability(world["study"], tomorrow, tomorrow)
    at_ten = next(s for s in a.days[0].slots if s.starts_at == local(tomorrow, 10))
    assert seat.pk not in at_ten.free_unit_ids and len(at_ten.free_unit_ids) == 3

    # A second booking the same day breaks the one-a-day limit.
    body2 = {**body, "resource_id": world["seats"][1].pk}
    assert_error(api.post("/bookings", body2), 409, "booking_limit_reached")

    assert api.post(f"/bookings/{booking['id']}/cancel", {}).json()["status"] == "cancelled"
    assert api.post("/bookings", body2).status_code == 201


@pytest.mark.django_db
def test_the_same_seat_twice_is_slot_taken(world, tomorrow):
    second = ResidentFactory(home_community=world["resident"].home_community)
    seat = world["seats"][0]
    services.booking_create(
        user=world["resident"].user,
        resource_id=seat.pk,
        starts_at=local(tomorrow, 10),
        ends_at=local(tomorrow, 12),
    )
    with pytest.raises(errors.SlotTaken):
        services.booking_create(
            user=second.user, resource_id=seat.pk, starts_at=local(tomorrow, 11), ends_at=local(tomorrow, 12)
        )
    assert Booking.objects.count() == 1


@pytest.mark.django_db
def test_activity_room_request_waits_for_approval(world, tomorrow):
    booking = services.booking_create(
        user=world["resident"].user,
        resource_id=world["activity_unit"].pk,
        starts_at=local(tomorrow, 14),
        ends_at=local(tomorrow, 16),
        purpose="社区合唱排练",
    )
    assert booking.status == "pending"
    approved = services.booking_approve(scope=world["scope"], staff=world["desk"], booking_id=booking.pk)
    assert approved.status == "confirmed"


@pytest.mark.django_db
def test_block_moves_a_seat_booking(world, tomorrow):
    booking = services.booking_create(
        user=world["resident"].user,
        resource_id=world["seats"][0].pk,
        starts_at=local(tomorrow, 10),
        ends_at=local(tomorrow, 12),
    )
    outcome = services.space_block(
        scope=world["scope"],
        staff=world["desk"],
        space_id=world["study"].pk,
        resource_id=world["seats"][0].pk,
        starts_at=local(tomorrow, 8),
        ends_at=local(tomorrow, 22),
        reason="座位维修",
    )
    booking.refresh_from_db()
    assert [b.pk for b in outcome.moved] == [booking.pk] and booking.resource_id == world["seats"][1].pk
    assert booking.status == "confirmed"


@pytest.mark.django_db
def test_no_show_release_and_suspension(world, settings):
    settings.LIVINGROOM_NO_SHOW_LIMIT = 2
    resident = world["resident"]
    now = local(dt.date.today(), 7)
    day = dt.date.today() + dt.timedelta(days=1)
    ids = []
    for i, hour in enumerate((9, 13)):
        b = services.booking_create(
            user=resident.user,
            resource_id=world["seats"][i].pk,
            starts_at=local(day + dt.timedelta(days=i), hour),
            ends_at=local(day + dt.timedelta(days=i), hour + 1),
            now=now,
        )
        ids.append(b.pk)
    later = local(day + dt.timedelta(days=2), 8)
    released = services.no_shows_release(now=later)
    assert sorted(released) == sorted(ids)
    assert services.active_suspension(resident, later) is not None
    with pytest.raises(errors.Suspended):
        services.booking_create(
            user=resident.user,
            resource_id=world["seats"][0].pk,
            starts_at=local(day + dt.timedelta(days=2), 10),
            ends_at=local(day + dt.timedelta(days=2), 11),
            now=later,
        )
