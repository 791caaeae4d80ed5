"""What is free (availability), booking "any free seat", and utilisation figures for staff."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from livingroom.booking import selectors, services
from livingroom.booking.models import Booking
from tests import factories as f
from tests.booking.conftest import local, put_booking, unchanged
from tests.conftest import resident_api, staff_api
from tests.invariants import assert_error

pytestmark = pytest.mark.django_db


def slots_of(api, space, day: dt.date) -> dict[int, dict]:
    """Slots of one day by starting hour (local time)."""
    response = api.get(f"/spaces/{space.pk}/availability", **{"from": str(day), "to": str(day)})
    assert response.status_code == 200, response.content
    [d] = response.json()["days"]
    return {timezone.localtime(dt.datetime.fromisoformat(s["starts_at"])).hour: s for s in d["slots"]}


def test_a_free_day_offers_every_slot_and_every_seat(world, api, tomorrow):
    body = api.get(f"/spaces/{world['study'].pk}/availability", **{"from": str(tomorrow)}).json()
    seats = [s.pk for s in world["seats"]]
    assert [u["id"] for u in body["units"]] == seats  # seats only: the whole room is not for residents
    assert body["rules"]["max_per_day"] == 1 and body["rules"]["slot_minutes"] == 60
    [day] = body["days"]
    assert day["date"] == str(tomorrow) and day["closed_reason"] == "" and day["opens_for_booking_at"] is None
    starts = [timezone.localtime(dt.datetime.fromisoformat(s["starts_at"])) for s in day["slots"]]
    assert [t.hour for t in starts] == list(range(8, 22))
    assert all(s["free_unit_ids"] == seats and s["bookable"] for s in day["slots"])


def test_bookings_take_their_seat_and_a_whole_room_booking_takes_every_seat(world, api, tomorrow):
    s1, s2, s3, s4 = world["seats"]
    put_booking(s1, local(tomorrow, 10), local(tomorrow, 12), resident=world["resident"])
    put_booking(s2, local(tomorrow, 11), local(tomorrow, 12), resident=world["resident"], status="pending")
    put_booking(s3, local(tomorrow, 10), local(tomorrow, 11), resident=world["resident"], status="cancelled")
    put_booking(
        world["study_room_unit"],
        local(tomorrow, 18),
        local(tomorrow, 20),
        organization=f.OrganizationFactory(),
    )
    slots = slots_of(api, world["study"], tomorrow)
    assert slots[9]["free_unit_ids"] == [s1.pk, s2.pk, s3.pk, s4.pk]
    assert slots[10]["free_unit_ids"] == [s2.pk, s3.pk, s4.pk]  # a cancelled booking frees its seat
    assert slots[11]["free_unit_ids"] == [s3.pk, s4.pk]  # a pending request holds its seat
    assert slots[18]["free_unit_ids"] == [] and slots[19]["free_unit_ids"] == []
    assert slots[20]["free_unit_ids"] == [s1.pk, s2.pk, s3.pk, s4.pk]


def test_a_seat_booking_takes_the_whole_room_away_from_staff(world, tomorrow):
    put_booking(world["seats"][0], local(tomorrow, 10), local(tomorrow, 11), resident=world["resident"])
    a = selectors.space_availability(world["study"], tomorrow, tomorrow, residents_only=False)
    room = world["study_room_unit"].pk
    by_hour = {timezone.localtime(s.starts_at).hour: s.free_unit_ids for s in a.days[0].slots}
    assert room not in by_hour[10] and room in by_hour[11]


def test_a_due_no_show_counts_as_free(world, tomorrow):
    seat = world["seats"][0]
    put_booking(seat, local(tomorrow, 10), local(tomorrow, 12), resident=world["resident"])
    before = selectors.space_availability(world["study"], tomorrow, tomorrow, now=local(tomorrow, 10, 15))
    after = selectors.space_availability(world["study"], tomorrow, tomorrow, now=local(tomorrow, 10, 16))
    at = {timezone.localtime(s.starts_at).hour: s for s in after.days[0].slots}
    held = {timezone.localtime(s.starts_at).hour: s for s in before.days[0].slots}
    assert seat.pk not in held[11].free_unit_ids
    assert seat.pk in at[11].free_unit_ids and at[11].bookable
    assert not at[10].bookable  # begun already
    # And "any free seat" from 11 gets that seat first.
    other = f.ResidentFactory(home_community=world["resident"].home_community)
    booked = services.booking_create(
        user=other.user,
        space_id=world["study"].pk,
        starts_at=local(tomorrow, 11),
        ends_at=local(tomorrow, 12),
        now=local(tomorrow, 10, 16),
    )
    assert booked.resource == seat


def test_past_slots_of_today_are_not_bookable(world):
    today = timezone.localdate()
    a = selectors.space_availability(world["study"], today, today, now=local(today, 12, 30))
    assert [timezone.localtime(s.starts_at).hour for s in a.days[0].slots if s.bookable] == list(
        range(13, 22)
    )


def test_rooms_and_therapists_are_the_units_of_their_spaces(world, api, tomorrow):
    activity = api.get(f"/spaces/{world['activity'].pk}/availability", **{"from": str(tomorrow)}).json()
    assert [(u["id"], u["kind"]) for u in activity["units"]] == [(world["activity_unit"].pk, "room")]
    rehab = api.get(f"/spaces/{world['rehab'].pk}/availability", **{"from": str(tomorrow)}).json()
    assert [(u["id"], u["kind"], u["label"]) for u in rehab["units"]] == [
        (world["therapist_unit"].pk, "therapist", "王治疗师")
    ]
    assert len(rehab["days"][0]["slots"]) == 28  # 30-minute grid, 08:00–22:00


def test_availability_of_what_cannot_be_booked(world, api):
    office = f.SpaceFactory(center=world["center"], name="主任办公室", kind="office", is_office=True)
    plain = f.SpaceFactory(center=world["center"], name="阅览室")
    for space_id in (office.pk, plain.pk, 987654):
        assert_error(api.get(f"/spaces/{space_id}/availability"), 404, "space_not_found")


def test_availability_range_of_three_days(world, api, tomorrow):
    body = api.get(
        f"/spaces/{world['study'].pk}/availability",
        **{"from": str(tomorrow), "to": str(tomorrow + dt.timedelta(days=2))},
    ).json()
    assert [d["date"] for d in body["days"]] == [str(tomorrow + dt.timedelta(days=i)) for i in range(3)]


# --- any free seat ----------------------------------------------------------------------------------------


def test_any_free_seat_books_the_first_free_seat_until_none_is_left(world, tomorrow):
    residents = [f.ResidentFactory(home_community=world["resident"].home_community) for _ in range(5)]
    put_booking(world["seats"][0], local(tomorrow, 10), local(tomorrow, 11), resident=world["resident"])
    body = {
        "space_id": world["study"].pk,
        "starts_at": local(tomorrow, 10).isoformat(),
        "ends_at": local(tomorrow, 12).isoformat(),
    }
    got = []
    for resident in residents[:3]:
        response = resident_api(resident.user).post("/bookings", body)
        assert response.status_code == 201, response.content
        got.append(response.json()["resource_id"])
    assert got == [s.pk for s in world["seats"][1:]]  # seat 1 is taken from 10 to 11
    fourth = resident_api(residents[3].user)
    with unchanged():
        assert_error(fourth.post("/bookings", body), 409, "slot_taken")
    # From 11 seat 1 is free again.
    later = {**body, "starts_at": local(tomorrow, 11).isoformat()}
    assert (
        resident_api(residents[4].user).post("/bookings", later).json()["resource_id"] == world["seats"][0].pk
    )


def test_any_free_seat_when_the_room_is_taken_whole(world, tomorrow):
    put_booking(
        world["study_room_unit"],
        local(tomorrow, 10),
        local(tomorrow, 12),
        organization=f.OrganizationFactory(),
    )
    body = {
        "space_id": world["study"].pk,
        "starts_at": local(tomorrow, 10).isoformat(),
        "ends_at": local(tomorrow, 11).isoformat(),
    }
    me = resident_api(world["resident"].user)
    with unchanged():
        assert_error(me.post("/bookings", body), 409, "slot_taken")


def test_any_unit_of_a_room_without_seats_is_the_room(world, tomorrow):
    body = {
        "space_id": world["activity"].pk,
        "starts_at": local(tomorrow, 10).isoformat(),
        "ends_at": local(tomorrow, 11).isoformat(),
    }
    response = resident_api(world["resident"].user).post("/bookings", body)
    assert response.status_code == 201 and response.json()["resource_id"] == world["activity_unit"].pk
    assert response.json()["status"] == "pending"


def test_a_unit_named_with_its_space_is_booked(world, tomorrow):
    body = {
        "space_id": world["study"].pk,
        "resource_id": world["seats"][2].pk,
        "starts_at": local(tomorrow, 10).isoformat(),
        "ends_at": local(tomorrow, 11).isoformat(),
    }
    assert resident_api(world["resident"].user).post("/bookings", body).json()["unit"] == "3"


# --- utilisation ------------------------------------------------------------------------------------------


@pytest.fixture
def known_day(world, tomorrow):
    """The study room tomorrow: 4 seats × 14 open hours = 56 seat-hours, less a 2-hour block of the
    whole room (8) = 48; booked 2 + 2 + 2 seat-hours by residents and 2 × 4 by an organisation."""
    s1, s2, s3, s4 = world["seats"]
    people = [f.ResidentFactory(home_community=world["resident"].home_community) for _ in range(4)]
    put_booking(s1, local(tomorrow, 10), local(tomorrow, 12), resident=people[0], status="checked_in")
    put_booking(s2, local(tomorrow, 10), local(tomorrow, 12), resident=people[1], status="no_show")
    put_booking(s3, local(tomorrow, 14), local(tomorrow, 16), resident=people[2])
    put_booking(s4, local(tomorrow, 10), local(tomorrow, 12), resident=people[3], status="cancelled")
    put_booking(s4, local(tomorrow, 12), local(tomorrow, 13), resident=people[3], status="pending")
    put_booking(s4, local(tomorrow, 8), local(tomorrow, 9), resident=people[3], status="refused")
    put_booking(
        world["study_room_unit"],
        local(tomorrow, 18),
        local(tomorrow, 20),
        organization=f.OrganizationFactory(),
    )
    put_booking(world["study_room_unit"], local(tomorrow, 20), local(tomorrow, 22))  # a block
    put_booking(
        world["activity_unit"],
        local(tomorrow, 9),
        local(tomorrow, 12),
        resident=people[0],
        status="checked_in",
    )
    # Outside the range: the day after is not counted.
    put_booking(
        s1,
        local(tomorrow + dt.timedelta(days=1), 10),
        local(tomorrow + dt.timedelta(days=1), 12),
        resident=people[0],
        status="no_show",
    )
    return tomorrow


def test_utilisation_of_a_known_day(world, known_day):
    day = str(known_day)
    rows = staff_api(world["desk"]).get("/staff/utilisation", **{"from": day, "to": day}).json()
    by_name = {r["space"]: r for r in rows}
    assert set(by_name) == {"自习室", "活动室", "康复室"}
    study = by_name["自习室"]
    assert {
        k: study[k] for k in ("units", "open_hours", "booked_hours", "bookings", "checked_in", "no_shows")
    } == {"units": 4, "open_hours": 48.0, "booked_hours": 14.0, "bookings": 4, "checked_in": 1, "no_shows": 1}
    assert study["utilisation"] == pytest.approx(14 / 48)
    assert study["checkin_rate"] == 0.5 and study["no_show_rate"] == 0.5
    activity = by_name["活动室"]
    assert (activity["units"], activity["open_hours"], activity["booked_hours"]) == (1, 14.0, 3.0)
    assert activity["utilisation"] == pytest.approx(3 / 14) and activity["checkin_rate"] == 1.0
    rehab = by_name["康复室"]
    assert (rehab["units"], rehab["open_hours"], rehab["booked_hours"], rehab["bookings"]) == (
        1,
        14.0,
        0.0,
        0,
    )
    assert rehab["utilisation"] == 0.0 and rehab["checkin_rate"] is None and rehab["no_show_rate"] is None


def test_utilisation_over_two_days(world, known_day):
    day2 = known_day + dt.timedelta(days=1)
    [study] = [
        r
        for r in staff_api(world["desk"])
        .get("/staff/utilisation", **{"from": str(known_day), "to": str(day2)})
        .json()
        if r["space"] == "自习室"
    ]
    assert (study["open_hours"], study["booked_hours"], study["no_shows"]) == (104.0, 16.0, 2)
    assert study["no_show_rate"] == pytest.approx(2 / 3)


def test_utilisation_of_a_closed_day_has_no_open_hours(world, tomorrow):
    services.closure_add(
        scope=world["scope"],
        staff=world["desk"],
        center_id=world["center"].pk,
        starts_on=tomorrow,
        ends_on=tomorrow,
        reason="放假",
    )
    rows = (
        staff_api(world["desk"])
        .get("/staff/utilisation", **{"from": str(tomorrow), "to": str(tomorrow)})
        .json()
    )
    assert all(r["open_hours"] == 0.0 and r["utilisation"] is None for r in rows)


def test_a_booking_is_counted_once_whatever_the_unit(world, tomorrow):
    """Moving a booking to another seat keeps the figures."""
    booking = put_booking(
        world["seats"][0], local(tomorrow, 10), local(tomorrow, 12), resident=world["resident"]
    )
    before = selectors.utilisation(world["scope"], tomorrow, tomorrow)
    Booking.objects.filter(pk=booking.pk).update(resource=world["seats"][1])
    after = selectors.utilisation(world["scope"], tomorrow, tomorrow)
    assert [(r.space.pk, r.booked_hours, r.bookings) for r in before] == [
        (r.space.pk, r.booked_hours, r.bookings) for r in after
    ]
