"""Bad input to the booking API and services: a clear 4xx with a stable code, and nothing changes.

Every refusal runs inside ``unchanged()``: no booking, series, closure, suspension, notice, SMS,
audit event or pass use is written, and no booking changes state. Next to most refusals stands
the nearest request that is accepted, so that a refusal cannot pass by refusing everything.

The world (tests/booking/conftest.py): 固戍's center open 08:00–22:00 every day; a study room
with 4 seats (60-minute grid, 60–240 minutes, one booking a day, 7 days ahead); an activity
room that needs approval (at most 240 minutes a week); a rehab room for verified disabled
residents with one therapist (30-minute grid).
"""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.utils import timezone

from livingroom.booking import errors, services
from livingroom.booking.models import Booking, BookingSuspension, Resource
from livingroom.core.validators import MAX_DB_ID
from livingroom.people import passes
from livingroom.people import services as people_services
from livingroom.people.models import EligibilityVerification, PassUse
from livingroom.places.models import Space
from tests import factories as f
from tests.booking.conftest import fresh_pass, local, put_booking, unchanged
from tests.conftest import Api, resident_api, staff_api
from tests.invariants import assert_error

pytestmark = pytest.mark.django_db


def span(unit: Resource, starts_at: dt.datetime, ends_at: dt.datetime, **extra) -> dict:
    return {
        "resource_id": unit.pk,
        "starts_at": starts_at.isoformat(),
        "ends_at": ends_at.isoformat(),
        **extra,
    }


@pytest.fixture
def me(world):
    return resident_api(world["resident"].user)


def refused(api, body, status: int, code: str, field: str | None = "-"):
    with unchanged():
        response = api.post("/bookings", body)
    return assert_error(response, status, code, field)


# --- times ------------------------------------------------------------------------------------------


TIME_REFUSALS = {
    # name: (day offset, start h:m, end h:m, code, field)
    "ends-before-start": (1, (12, 0), (10, 0), "booking_times_invalid", "ends_at"),
    "ends-at-start": (1, (10, 0), (10, 0), "booking_times_invalid", "ends_at"),
    "yesterday": (-1, (10, 0), (11, 0), "booking_in_past", "starts_at"),
    "before-opening": (1, (6, 0), (7, 0), "outside_opening_hours", "starts_at"),
    "runs-past-closing": (1, (21, 0), (23, 0), "outside_opening_hours", "starts_at"),
    "after-closing": (1, (22, 0), (23, 0), "outside_opening_hours", "starts_at"),
    "longer-than-maximum": (1, (10, 0), (15, 0), "booking_too_long", "ends_at"),
    "quarter-past": (1, (10, 15), (11, 15), "booking_not_aligned", "starts_at"),
    "half-a-slot-long": (1, (10, 0), (10, 30), "booking_not_aligned", "starts_at"),
    "beyond-the-horizon": (8, (10, 0), (11, 0), "booking_too_far_ahead", "starts_at"),
}


@pytest.mark.parametrize("case", list(TIME_REFUSALS))
def test_times_the_space_does_not_allow_are_refused(world, me, case):
    offset, (h1, m1), (h2, m2), code, field = TIME_REFUSALS[case]
    day = timezone.localdate() + dt.timedelta(days=offset)
    body = span(world["seats"][0], local(day, h1, m1), local(day, h2, m2))
    refused(me, body, 400, code, field)


def test_a_booking_that_has_already_begun_is_in_the_past(world, me):
    now = timezone.now()
    refused(
        me,
        span(world["seats"][0], now - dt.timedelta(hours=1), now + dt.timedelta(hours=1)),
        400,
        "booking_in_past",
        "starts_at",
    )


def test_seconds_off_the_grid_are_refused(world, me, tomorrow):
    start = local(tomorrow, 10) + dt.timedelta(seconds=30)
    refused(me, span(world["seats"][0], start, start + dt.timedelta(hours=1)), 400, "booking_not_aligned")
    start = local(tomorrow, 10) + dt.timedelta(microseconds=500)
    refused(me, span(world["seats"][0], start, start + dt.timedelta(hours=1)), 400, "booking_not_aligned")


def test_the_edges_of_the_rules_are_accepted(world, me, tomorrow):
    """Opening to closing edges, the longest booking, the last day of the horizon."""
    last = timezone.localdate() + dt.timedelta(days=7)
    accepted = [
        span(world["seats"][0], local(tomorrow, 8), local(tomorrow, 12)),  # opens at 8, 240 minutes
        span(world["seats"][1], local(last, 21), local(last, 22)),  # closes at 22, horizon day
    ]
    for body in accepted:
        response = me.post("/bookings", body)
        assert response.status_code == 201, response.content
    assert Booking.objects.filter(status="confirmed").count() == 2


def test_shorter_than_the_minimum_is_refused(world, me, tomorrow):
    services.booking_rules_set(
        scope=world["scope"], staff=world["desk"], space_id=world["study"].pk, slot_minutes=30, min_minutes=90
    )
    seat = world["seats"][0]
    refused(me, span(seat, local(tomorrow, 10), local(tomorrow, 11)), 400, "booking_too_short", "ends_at")
    assert me.post("/bookings", span(seat, local(tomorrow, 10), local(tomorrow, 11, 30))).status_code == 201


def test_a_day_of_a_closure_is_refused(world, me, tomorrow):
    services.closure_add(
        scope=world["scope"],
        staff=world["desk"],
        center_id=world["center"].pk,
        starts_on=tomorrow - dt.timedelta(days=1),
        ends_on=tomorrow + dt.timedelta(days=1),
        reason="国庆假期",
    )
    for day in (tomorrow, tomorrow + dt.timedelta(days=1)):
        refused(me, span(world["seats"][0], local(day, 10), local(day, 11)), 400, "space_closed", "starts_at")
    after = tomorrow + dt.timedelta(days=2)
    assert (
        me.post("/bookings", span(world["seats"][0], local(after, 10), local(after, 11))).status_code == 201
    )


def test_a_closure_of_one_space_leaves_the_others_open(world, me, tomorrow):
    services.closure_add(
        scope=world["scope"],
        staff=world["desk"],
        center_id=world["center"].pk,
        space_id=world["study"].pk,
        starts_on=tomorrow,
        ends_on=tomorrow,
        reason="自习室消毒",
    )
    refused(me, span(world["seats"][0], local(tomorrow, 10), local(tomorrow, 11)), 400, "space_closed")
    response = me.post("/bookings", span(world["activity_unit"], local(tomorrow, 10), local(tomorrow, 11)))
    assert response.status_code == 201 and response.json()["status"] == "pending"


def test_a_space_out_of_use_that_day_is_outside_opening_hours(world, me, tomorrow):
    Space.objects.filter(pk=world["study"].pk).update(closed_on=tomorrow)
    refused(
        me, span(world["seats"][0], local(tomorrow, 10), local(tomorrow, 11)), 400, "outside_opening_hours"
    )


def test_a_space_with_its_own_hours_and_a_lunch_break(world, me, api, tomorrow):
    from livingroom.booking.models import SpaceHours

    for opens, closes in ((dt.time(9), dt.time(12)), (dt.time(14), dt.time(18))):
        SpaceHours.objects.create(
            space=world["study"], weekday=tomorrow.weekday(), opens=opens, closes=closes
        )
    seat = world["seats"][0]
    for h1, h2 in ((8, 9), (11, 15), (12, 13), (17, 19)):
        refused(me, span(seat, local(tomorrow, h1), local(tomorrow, h2)), 400, "outside_opening_hours")
    body = api.get(f"/spaces/{world['study'].pk}/availability", **{"from": str(tomorrow)}).json()
    hours = [
        timezone.localtime(dt.datetime.fromisoformat(x["starts_at"])).hour for x in body["days"][0]["slots"]
    ]
    assert hours == [9, 10, 11, 14, 15, 16, 17]
    assert me.post("/bookings", span(seat, local(tomorrow, 14), local(tomorrow, 18))).status_code == 201


def test_the_weekly_limit_starts_again_on_monday(world):
    today = timezone.localdate()
    monday = today + dt.timedelta(days=7 - today.weekday())  # next Monday, 1 to 7 days ahead
    saturday = monday - dt.timedelta(days=2)
    now = local(saturday - dt.timedelta(days=1), 7)  # a Friday morning: the whole weekend is bookable
    unit = world["activity_unit"].pk  # at most 240 minutes a week

    def book(day: dt.date, h1: int, h2: int):
        return services.booking_create(
            user=world["resident"].user,
            resource_id=unit,
            starts_at=local(day, h1),
            ends_at=local(day, h2),
            now=now,
        )

    book(saturday, 9, 12)
    book(monday - dt.timedelta(days=1), 9, 10)  # Sunday: 240 minutes this week
    book(monday, 9, 12)  # a new week
    with unchanged(), pytest.raises(errors.LimitReached) as caught:
        book(saturday, 14, 15)
    assert caught.value.params == {"limit": 240, "period": "week"}


# --- how far ahead: the horizon and the release time (services, on a fixed clock) -------------------


@pytest.mark.parametrize(
    ("release", "clock", "days_ahead", "ok"),
    [
        (None, (0, 1), 7, True),
        (None, (23, 59), 8, False),
        (dt.time(8), (7, 59), 7, False),  # the last day opens at 08:00 ...
        (dt.time(8), (7, 59), 6, True),
        (dt.time(8), (8, 0), 7, True),  # ... and from then on it may be booked
        (dt.time(8), (8, 0), 8, False),
    ],
    ids=["no-release:day7", "no-release:day8", "07:59:day7", "07:59:day6", "08:00:day7", "08:00:day8"],
)
def test_horizon_and_release_time(world, release, clock, days_ahead, ok):
    services.booking_rules_set(
        scope=world["scope"], staff=world["desk"], space_id=world["study"].pk, release_time=release
    )
    today = timezone.localdate() + dt.timedelta(days=1)
    now = local(today, *clock)
    day = today + dt.timedelta(days=days_ahead)

    def book():
        return services.booking_create(
            user=world["resident"].user,
            resource_id=world["seats"][0].pk,
            starts_at=local(day, 10),
            ends_at=local(day, 11),
            now=now,
        )

    if ok:
        assert book().status == "confirmed"
        return
    with unchanged(), pytest.raises(errors.TooFarAhead) as caught:
        book()
    # The refusal says when the day opens: ``horizon`` days before, at the release time.
    opens = local(day - dt.timedelta(days=7), *(release.hour, release.minute) if release else (0, 0))
    assert caught.value.params["opens_at"] == opens.isoformat()


def test_availability_says_when_a_day_opens(world, api):
    services.booking_rules_set(
        scope=world["scope"], staff=world["desk"], space_id=world["study"].pk, horizon_days=2
    )
    today = timezone.localdate()
    far = today + dt.timedelta(days=3)
    body = api.get(f"/spaces/{world['study'].pk}/availability", **{"from": str(far)}).json()
    [day] = body["days"]
    assert dt.datetime.fromisoformat(day["opens_for_booking_at"]) == local(today + dt.timedelta(days=1), 0)
    assert day["slots"] and not any(s["bookable"] for s in day["slots"])


# --- what may be booked ----------------------------------------------------------------------------


def test_the_whole_room_of_a_seated_room_is_not_for_residents(world, me, tomorrow):
    body = span(world["study_room_unit"], local(tomorrow, 10), local(tomorrow, 11))
    refused(me, body, 400, "unit_not_bookable", "resource_id")


def test_a_space_switched_off_is_not_bookable(world, me, tomorrow):
    Space.objects.filter(pk=world["study"].pk).update(bookable=False)
    body = span(world["seats"][0], local(tomorrow, 10), local(tomorrow, 11))
    refused(me, body, 400, "space_not_bookable", "resource_id")


def test_a_space_without_rules_is_not_bookable(world, me, tomorrow):
    hall = f.SpaceFactory(center=world["center"], name="大厅", kind=Space.Kind.ACTIVITY, bookable=True)
    unit = Resource.objects.create(space=hall, kind="room", label="大厅")
    refused(
        me, span(unit, local(tomorrow, 10), local(tomorrow, 11)), 400, "space_not_bookable", "resource_id"
    )


def test_a_retired_unit_is_not_found(world, me, tomorrow):
    Resource.objects.filter(pk=world["seats"][3].pk).update(is_active=False)
    body = span(world["seats"][3], local(tomorrow, 10), local(tomorrow, 11))
    refused(me, body, 404, "unit_not_found", "resource_id")


@pytest.mark.parametrize(
    ("resource_id", "status", "code"),
    [
        (MAX_DB_ID, 404, "unit_not_found"),
        (MAX_DB_ID + 1, 400, "invalid_input"),
        (2**200, 400, "invalid_input"),
        (0, 400, "invalid_input"),
        (-1, 400, "invalid_input"),
        ("1; drop table", 400, "invalid_input"),
        (None, 400, "unit_required"),  # neither a unit nor a space
        (1.5, 400, "invalid_input"),
    ],
    ids=["max-bigint", "bigint+1", "2^200", "zero", "negative", "text", "null", "fraction"],
)
def test_resource_ids_out_of_range(world, me, tomorrow, resource_id, status, code):
    body = {**span(world["seats"][0], local(tomorrow, 10), local(tomorrow, 11)), "resource_id": resource_id}
    refused(me, body, status, code, "resource_id")


def test_neither_a_unit_nor_a_space(world, me, tomorrow):
    body = {"starts_at": local(tomorrow, 10).isoformat(), "ends_at": local(tomorrow, 11).isoformat()}
    refused(me, body, 400, "unit_required", "resource_id")


def test_any_free_seat_refusals(world, me, tomorrow):
    times = {"starts_at": local(tomorrow, 10).isoformat(), "ends_at": local(tomorrow, 11).isoformat()}
    refused(me, {**times, "space_id": 987654}, 404, "space_not_found", "space_id")
    refused(me, {**times, "space_id": MAX_DB_ID + 1}, 400, "invalid_input", "space_id")
    # A unit of another space than the one named is not found there.
    refused(
        me,
        {**times, "space_id": world["study"].pk, "resource_id": world["activity_unit"].pk},
        404,
        "unit_not_found",
        "resource_id",
    )
    office = f.SpaceFactory(center=world["center"], name="办公室", kind="office", is_office=True)
    refused(me, {**times, "space_id": office.pk}, 400, "space_not_bookable")
    refused(
        me,
        {**times, "space_id": world["study"].pk, "starts_at": local(tomorrow, 10, 15).isoformat()},
        400,
        "booking_not_aligned",
    )


# --- who may book ------------------------------------------------------------------------------------


def _verify(world, resident, kind: str, **extra) -> EligibilityVerification:
    return people_services.eligibility_verify(
        scope=world["scope"], actor=world["desk"], resident=resident, kind=kind, **extra
    )


def test_rehab_needs_a_verified_disability(world, me, tomorrow):
    body = span(world["therapist_unit"], local(tomorrow, 10), local(tomorrow, 10, 30))
    body_ = refused(me, body, 403, "booking_not_eligible")
    assert body_["message"]
    # Another kind of verification does not help.
    _verify(world, world["resident"], "low_income")
    refused(me, body, 403, "booking_not_eligible")
    # A verified disability does ...
    verification = _verify(world, world["resident"], "disabled", credential_number="44030619900101123X")
    response = me.post("/bookings", body)
    assert response.status_code == 201 and response.json()["status"] == "confirmed"
    # ... until it is revoked.
    people_services.eligibility_revoke(
        scope=world["scope"], actor=world["desk"], verification=verification, reason="证件失效"
    )
    later = span(world["therapist_unit"], local(tomorrow, 11), local(tomorrow, 11, 30))
    refused(me, later, 403, "booking_not_eligible")


def test_rehab_refuses_an_expired_disability_verification(world, me, tomorrow):
    verification = _verify(
        world,
        world["resident"],
        "disabled",
        credential_number="44030619900101123X",
        valid_until=timezone.localdate() + dt.timedelta(days=30),
    )
    EligibilityVerification.objects.filter(pk=verification.pk).update(
        valid_until=timezone.localdate() - dt.timedelta(days=1)
    )
    body = span(world["therapist_unit"], local(tomorrow, 10), local(tomorrow, 10, 30))
    refused(me, body, 403, "booking_not_eligible")


def test_community_rooms_are_for_residents_of_the_community(world, place, tomorrow):
    services.booking_rules_set(
        scope=world["scope"], staff=world["desk"], space_id=world["activity"].pk, audience="community"
    )
    stranger = f.ResidentFactory(home_community=place["communities"][1])
    body = span(world["activity_unit"], local(tomorrow, 10), local(tomorrow, 11))
    refused(resident_api(stranger.user), body, 403, "booking_not_eligible")
    assert resident_api(world["resident"].user).post("/bookings", body).status_code == 201


def test_park_rooms_need_a_park_worker_verification(world, me, tomorrow):
    services.booking_rules_set(
        scope=world["scope"], staff=world["desk"], space_id=world["activity"].pk, audience="park_workers"
    )
    body = span(world["activity_unit"], local(tomorrow, 10), local(tomorrow, 11))
    refused(me, body, 403, "booking_not_eligible")
    _verify(world, world["resident"], "park_worker", evidence_note="园区工牌")
    assert me.post("/bookings", body).status_code == 201


def test_a_suspended_resident_may_not_book(world, me, tomorrow):
    now = timezone.now()
    until = (now + dt.timedelta(days=7)).replace(microsecond=0)
    BookingSuspension.objects.create(resident=world["resident"], starts_at=now, ends_at=until, no_shows=3)
    refused(me, span(world["seats"][0], local(tomorrow, 10), local(tomorrow, 11)), 403, "booking_suspended")
    assert dt.datetime.fromisoformat(me.get("/me/bookings").json()["suspended_until"]) == until


def test_a_lifted_or_ended_suspension_does_not_stop_a_booking(world, me, tomorrow):
    now = timezone.now()
    BookingSuspension.objects.create(
        resident=world["resident"], starts_at=now - dt.timedelta(days=8), ends_at=now - dt.timedelta(days=1)
    )
    BookingSuspension.objects.create(
        resident=world["resident"], starts_at=now, ends_at=now + dt.timedelta(days=7), lifted_at=now
    )
    assert me.get("/me/bookings").json()["suspended_until"] is None
    assert (
        me.post("/bookings", span(world["seats"][0], local(tomorrow, 10), local(tomorrow, 11))).status_code
        == 201
    )


def test_one_booking_a_day_per_resident(world, me, tomorrow):
    first = me.post("/bookings", span(world["seats"][0], local(tomorrow, 10), local(tomorrow, 11)))
    assert first.status_code == 201
    second = span(world["seats"][1], local(tomorrow, 15), local(tomorrow, 16))
    body = refused(me, second, 409, "booking_limit_reached")
    assert body["field"] is None
    # Another day is another count.
    day2 = tomorrow + dt.timedelta(days=1)
    assert me.post("/bookings", span(world["seats"][1], local(day2, 15), local(day2, 16))).status_code == 201
    # A cancelled booking no longer counts; one checked in still does.
    assert me.post(f"/bookings/{first.json()['id']}/cancel").status_code == 200
    assert me.post("/bookings", second).status_code == 201
    Booking.objects.filter(pk=me.get("/me/bookings").json()["upcoming"][0]["id"]).update(status="checked_in")
    refused(
        me, span(world["seats"][2], local(tomorrow, 18), local(tomorrow, 19)), 409, "booking_limit_reached"
    )


def test_minutes_per_week_per_resident(world, me, tomorrow):
    unit = world["activity_unit"]  # at most 240 minutes a week; pending requests count
    assert me.post("/bookings", span(unit, local(tomorrow, 8), local(tomorrow, 11))).status_code == 201
    assert (
        me.post("/bookings", span(unit, local(tomorrow, 11), local(tomorrow, 12))).status_code == 201
    )  # = 240
    refused(me, span(unit, local(tomorrow, 13), local(tomorrow, 14)), 409, "booking_limit_reached")


# --- malformed requests ------------------------------------------------------------------------------

MALFORMED = {
    # name: (change to a valid body, field)
    "naive-start": (lambda b: {**b, "starts_at": b["starts_at"][:19]}, "starts_at"),
    "naive-end": (lambda b: {**b, "ends_at": b["ends_at"][:19]}, "ends_at"),
    "date-only": (lambda b: {**b, "starts_at": b["starts_at"][:10]}, "starts_at"),
    "garbage-start": (lambda b: {**b, "starts_at": "明天上午十点"}, "starts_at"),
    "garbage-end": (lambda b: {**b, "ends_at": "soon"}, "ends_at"),
    "offset-out-of-range": (lambda b: {**b, "starts_at": b["starts_at"][:19] + "+25:00"}, "starts_at"),
    "month-13": (lambda b: {**b, "starts_at": "2026-13-01T10:00:00+08:00"}, "starts_at"),
    "feb-30": (lambda b: {**b, "starts_at": "2027-02-30T10:00:00+08:00"}, "starts_at"),
    "hour-25": (lambda b: {**b, "starts_at": b["starts_at"][:11] + "25:00:00+08:00"}, "starts_at"),
    "null-start": (lambda b: {**b, "starts_at": None}, "starts_at"),
    "list": (lambda b: {**b, "ends_at": [b["ends_at"]]}, "ends_at"),
    "no-start": (lambda b: {k: v for k, v in b.items() if k != "starts_at"}, "starts_at"),
    "no-end": (lambda b: {k: v for k, v in b.items() if k != "ends_at"}, "ends_at"),
    "purpose-too-long": (lambda b: {**b, "purpose": "字" * 201}, "purpose"),
    "purpose-not-text": (lambda b: {**b, "purpose": {"a": 1}}, "purpose"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_booking_requests(world, me, tomorrow, case):
    change, field = MALFORMED[case]
    body = change(span(world["seats"][0], local(tomorrow, 10), local(tomorrow, 11)))
    refused(me, body, 400, "invalid_input", "-" if field is None else field)


@pytest.mark.parametrize(
    "raw",
    [b"", b"{", b"[]", b"null", b'"x"', b"{'resource_id': 1}"],
    ids=["empty", "open", "list", "null", "string", "python"],
)
def test_a_body_that_is_not_a_json_object(world, me, raw):
    with unchanged():
        response = me.send("POST", "/bookings", raw=raw)
    assert response.status_code == 400, response.content
    assert response.json()["code"] in ("invalid_json", "invalid_input")


def test_any_offset_names_the_same_moment(world, me, tomorrow):
    """10:00 in Shanghai is 02:00 UTC: the same slot however it is written."""
    seat = world["seats"][0]
    utc = local(tomorrow, 10).astimezone(dt.UTC)
    response = me.post(
        "/bookings",
        {
            "resource_id": seat.pk,
            "starts_at": utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "ends_at": (utc + dt.timedelta(hours=1)).isoformat(),
        },
    )
    assert response.status_code == 201, response.content
    booking = Booking.objects.get()
    assert (booking.starts_at, booking.ends_at) == (local(tomorrow, 10), local(tomorrow, 11))
    # The same slot written with a New York offset is taken (by the limit, and by the seat).
    other = f.ResidentFactory(home_community=world["resident"].home_community)
    ny = dt.timezone(dt.timedelta(hours=-5))
    body = span(seat, local(tomorrow, 10).astimezone(ny), local(tomorrow, 11).astimezone(ny))
    refused(resident_api(other.user), body, 409, "slot_taken")


def test_a_start_at_the_end_of_time_is_a_refusal_not_a_500(world, me):
    body = {
        "resource_id": world["seats"][0].pk,
        "starts_at": "9999-12-31T22:00:00-10:00",
        "ends_at": "9999-12-31T23:00:00-10:00",
    }
    with unchanged():
        response = me.post("/bookings", body)
    assert_error(response, 400, "booking_too_far_ahead")


def test_a_start_at_the_beginning_of_time_is_in_the_past(world, me):
    body = {
        "resource_id": world["seats"][0].pk,
        "starts_at": "0001-01-01T00:00:00+14:00",
        "ends_at": "0001-01-01T01:00:00+14:00",
    }
    refused(me, body, 400, "booking_in_past", "starts_at")


def test_who_is_not_a_resident_cannot_book(world, tomorrow):
    body = span(world["seats"][0], local(tomorrow, 10), local(tomorrow, 11))
    staff, no_profile = staff_api(world["desk"]), resident_api(f.UserFactory())
    with unchanged():
        assert_error(Api().post("/bookings", body), 401, "not_authenticated")
        assert_error(staff.post("/bookings", body), 409, "profile_incomplete")
        assert_error(no_profile.post("/bookings", body), 409, "profile_incomplete")


# --- cancelling -------------------------------------------------------------------------------------


def test_someone_elses_booking_cannot_be_cancelled(world, me, tomorrow):
    other = f.ResidentFactory(home_community=world["resident"].home_community)
    theirs = services.booking_create(
        user=other.user,
        resource_id=world["seats"][0].pk,
        starts_at=local(tomorrow, 10),
        ends_at=local(tomorrow, 11),
    )
    with unchanged():
        assert_error(me.post(f"/bookings/{theirs.pk}/cancel", {}), 404, "booking_not_found")
        assert_error(me.post("/bookings/987654/cancel", {}), 404, "booking_not_found")
        assert_error(me.post(f"/bookings/{MAX_DB_ID + 1}/cancel", {}), 400, "invalid_input", "booking_id")
    assert resident_api(other.user).post(f"/bookings/{theirs.pk}/cancel", {}).json()["status"] == "cancelled"


def test_cancelling_after_the_cutoff(world, me):
    now = timezone.now()
    soon = put_booking(
        world["seats"][0],
        now + dt.timedelta(minutes=59),
        now + dt.timedelta(minutes=119),
        resident=world["resident"],
    )
    with unchanged():
        assert_error(me.post(f"/bookings/{soon.pk}/cancel", {}), 409, "cancel_cutoff_passed")
    later = put_booking(
        world["seats"][1],
        now + dt.timedelta(minutes=62),
        now + dt.timedelta(minutes=122),
        resident=world["resident"],
    )
    response = me.post(f"/bookings/{later.pk}/cancel", {"reason": "临时有事"})
    assert response.status_code == 200 and response.json()["cancel_reason"] == "临时有事"


def test_a_pending_request_may_be_withdrawn_after_the_cutoff(world, me):
    now = timezone.now()
    pending = put_booking(
        world["activity_unit"],
        now + dt.timedelta(minutes=30),
        now + dt.timedelta(minutes=90),
        resident=world["resident"],
        status="pending",
    )
    assert me.post(f"/bookings/{pending.pk}/cancel").json()["status"] == "cancelled"


@pytest.mark.parametrize("status", ["cancelled", "refused", "no_show", "checked_in"])
def test_a_booking_no_longer_active_cannot_be_cancelled(world, me, tomorrow, status):
    booking = put_booking(
        world["seats"][0], local(tomorrow, 10), local(tomorrow, 11), resident=world["resident"], status=status
    )
    with unchanged():
        assert_error(me.post(f"/bookings/{booking.pk}/cancel", {}), 409, "booking_not_cancellable")


def test_a_booking_that_has_begun_cannot_be_cancelled(world, me):
    now = timezone.now()
    booking = put_booking(
        world["seats"][0],
        now - dt.timedelta(minutes=5),
        now + dt.timedelta(minutes=55),
        resident=world["resident"],
    )
    with unchanged():
        assert_error(me.post(f"/bookings/{booking.pk}/cancel", {}), 409, "booking_not_cancellable")


# --- checking in at a kiosk ----------------------------------------------------------------------------


def _soon(world, minutes_to_start: int, resident=None) -> Booking:
    now = timezone.now()
    start = now + dt.timedelta(minutes=minutes_to_start)
    return put_booking(
        world["seats"][0], start, start + dt.timedelta(hours=1), resident=resident or world["resident"]
    )


def test_check_in_before_the_window_opens(world, kiosk):
    booking = _soon(world, 20)  # opens 15 minutes before the start
    with unchanged(ignore=("RequestNonce",)):
        body = assert_error(
            kiosk.post(f"/bookings/{booking.pk}/check-in", {"token": fresh_pass(world["resident"])}),
            409,
            "checkin_not_open",
        )
    assert body["message"]


def test_check_in_after_the_window_closed(world, kiosk):
    booking = _soon(world, -16)  # closed 15 minutes after the start
    with unchanged(ignore=("RequestNonce",)):
        assert_error(
            kiosk.post(f"/bookings/{booking.pk}/check-in", {"token": fresh_pass(world["resident"])}),
            409,
            "checkin_closed",
        )


def test_check_in_with_an_expired_pass(world, kiosk):
    booking = _soon(world, 5)
    old = passes.encode(world["resident"].pk, int(time.time()) - 61)
    with unchanged(ignore=("RequestNonce",)):
        assert_error(
            kiosk.post(f"/bookings/{booking.pk}/check-in", {"token": old}), 400, "pass_expired", "token"
        )


def test_check_in_with_a_replayed_pass(world, kiosk):
    first, second = (
        _soon(world, 5),
        put_booking(
            world["therapist_unit"],
            timezone.now() + dt.timedelta(minutes=5),
            timezone.now() + dt.timedelta(minutes=35),
            resident=world["resident"],
        ),
    )
    token = fresh_pass(world["resident"])
    assert kiosk.post(f"/bookings/{first.pk}/check-in", {"token": token}).status_code == 200
    with unchanged(ignore=("RequestNonce",)):
        assert_error(
            kiosk.post(f"/bookings/{second.pk}/check-in", {"token": token}), 409, "pass_replayed", "token"
        )
    assert PassUse.objects.count() == 1


def test_check_in_with_someone_elses_pass(world, kiosk):
    booking = _soon(world, 5)
    other = f.ResidentFactory(home_community=world["resident"].home_community)
    with unchanged(ignore=("RequestNonce",)):
        assert_error(
            kiosk.post(f"/bookings/{booking.pk}/check-in", {"token": fresh_pass(other)}),
            404,
            "booking_not_found",
        )


def test_check_in_at_a_kiosk_of_another_center(world, place):
    from tests.booking.conftest import DeviceApi

    booking = _soon(world, 5)
    device, secret = f.device_for(place["centers"][1])
    elsewhere = DeviceApi(device.key_id, secret)
    with unchanged(ignore=("RequestNonce",)):
        assert_error(
            elsewhere.post(f"/bookings/{booking.pk}/check-in", {"token": fresh_pass(world["resident"])}),
            404,
            "booking_not_found",
        )


@pytest.mark.parametrize("status", ["pending", "cancelled", "refused"])
def test_check_in_of_a_booking_not_confirmed(world, kiosk, status):
    booking = _soon(world, 5)
    Booking.objects.filter(pk=booking.pk).update(status=status)
    with unchanged(ignore=("RequestNonce",)):
        assert_error(
            kiosk.post(f"/bookings/{booking.pk}/check-in", {"token": fresh_pass(world["resident"])}),
            409,
            "booking_not_confirmed",
        )


def test_check_in_of_a_released_booking(world, kiosk):
    booking = _soon(world, 5)
    Booking.objects.filter(pk=booking.pk).update(status="no_show")
    with unchanged(ignore=("RequestNonce",)):
        assert_error(
            kiosk.post(f"/bookings/{booking.pk}/check-in", {"token": fresh_pass(world["resident"])}),
            409,
            "checkin_closed",
        )


def test_check_in_without_a_pass(world, kiosk):
    booking = _soon(world, 5)
    for body, field in (({}, "token"), ({"token": None}, "token"), ({"token": "x" * 401}, "token")):
        with unchanged(ignore=("RequestNonce",)):
            assert_error(kiosk.post(f"/bookings/{booking.pk}/check-in", body), 400, "invalid_input", field)
    with unchanged(ignore=("RequestNonce",)):
        assert_error(
            kiosk.post(f"/bookings/{booking.pk}/check-in", {"token": "LR1.nonsense"}), 400, "pass_invalid"
        )


# --- staff ------------------------------------------------------------------------------------------


@pytest.fixture
def desk(world):
    return staff_api(world["desk"])


@pytest.fixture
def pending(world, tomorrow):
    return services.booking_create(
        user=world["resident"].user,
        resource_id=world["activity_unit"].pk,
        starts_at=local(tomorrow, 14),
        ends_at=local(tomorrow, 16),
    )


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({}, "invalid_input", "reason"),
        ({"reason": ""}, "invalid_input", "reason"),
        ({"reason": "   "}, "reason_required", "reason"),
        ({"reason": "字" * 201}, "invalid_input", "reason"),
    ],
    ids=["missing", "empty", "blank", "too-long"],
)
def test_refusing_a_request_needs_a_reason(world, desk, pending, body, code, field):
    with unchanged():
        assert_error(desk.post(f"/staff/bookings/{pending.pk}/refuse", body), 400, code, field)


@pytest.mark.parametrize("status", ["confirmed", "checked_in", "cancelled", "refused", "no_show"])
def test_only_a_pending_request_is_approved_or_refused(world, desk, pending, status):
    Booking.objects.filter(pk=pending.pk).update(status=status)
    with unchanged():
        assert_error(desk.post(f"/staff/bookings/{pending.pk}/approve"), 409, "booking_not_pending")
        assert_error(
            desk.post(f"/staff/bookings/{pending.pk}/refuse", {"reason": "场地已满"}),
            409,
            "booking_not_pending",
        )


def test_staff_cancel_needs_a_reason_and_an_active_future_booking(world, desk, tomorrow):
    booking = put_booking(
        world["seats"][0], local(tomorrow, 10), local(tomorrow, 11), resident=world["resident"]
    )
    with unchanged():
        assert_error(
            desk.post(f"/staff/bookings/{booking.pk}/cancel", {"reason": " "}), 400, "reason_required"
        )
    past = put_booking(
        world["seats"][1],
        timezone.now() - dt.timedelta(hours=2),
        timezone.now() - dt.timedelta(hours=1),
        resident=world["resident"],
    )
    with unchanged():
        assert_error(
            desk.post(f"/staff/bookings/{past.pk}/cancel", {"reason": "补录"}), 409, "booking_not_cancellable"
        )


BLOCK_REFUSALS = {
    "ends-before-start": ((1, 12), (1, 10), 400, "booking_times_invalid", "ends_at"),
    "ends-at-start": ((1, 12), (1, 12), 400, "booking_times_invalid", "ends_at"),
    "in-the-past": ((-2, 10), (-1, 10), 400, "booking_in_past", "ends_at"),
}


@pytest.mark.parametrize("case", list(BLOCK_REFUSALS))
def test_block_refusals(world, desk, case):
    (d1, h1), (d2, h2), status, code, field = BLOCK_REFUSALS[case]
    today = timezone.localdate()
    body = {
        "starts_at": local(today + dt.timedelta(days=d1), h1).isoformat(),
        "ends_at": local(today + dt.timedelta(days=d2), h2).isoformat(),
        "reason": "维修",
    }
    with unchanged():
        assert_error(desk.post(f"/staff/spaces/{world['study'].pk}/blocks", body), status, code, field)


def test_a_block_over_a_block_is_refused(world, desk, tomorrow):
    body = {
        "starts_at": local(tomorrow, 10).isoformat(),
        "ends_at": local(tomorrow, 12).isoformat(),
        "reason": "维修",
    }
    assert desk.post(f"/staff/spaces/{world['study'].pk}/blocks", body).status_code == 201
    overlapping = {
        **body,
        "starts_at": local(tomorrow, 11).isoformat(),
        "ends_at": local(tomorrow, 13).isoformat(),
    }
    with unchanged():
        assert_error(
            desk.post(f"/staff/spaces/{world['study'].pk}/blocks", overlapping), 409, "already_blocked"
        )
        seat_body = {**overlapping, "resource_id": world["seats"][0].pk}
        assert_error(
            desk.post(f"/staff/spaces/{world['study'].pk}/blocks", seat_body), 409, "already_blocked"
        )


def test_a_block_of_a_unit_of_another_space(world, desk, tomorrow):
    body = {
        "starts_at": local(tomorrow, 10).isoformat(),
        "ends_at": local(tomorrow, 12).isoformat(),
        "reason": "维修",
        "resource_id": world["therapist_unit"].pk,
    }
    with unchanged():
        assert_error(
            desk.post(f"/staff/spaces/{world['study'].pk}/blocks", body), 404, "unit_not_found", "resource_id"
        )


@pytest.mark.parametrize(
    ("change", "status", "code", "field"),
    [
        ({"ends_on": -1}, 400, "booking_times_invalid", "ends_on"),
        ({"reason": "  "}, 400, "reason_required", "reason"),
        ({"reason": ""}, 400, "invalid_input", "reason"),
        ({"space_id": "other"}, 404, "space_not_found", "space_id"),
        ({"center_id": 987654}, 404, "center_not_found", None),
        ({"starts_on": "明天"}, 400, "invalid_input", "starts_on"),
    ],
    ids=[
        "ends-before-start",
        "blank-reason",
        "empty-reason",
        "space-of-another-center",
        "no-such-center",
        "bad-date",
    ],
)
def test_closure_refusals(world, place, desk, tomorrow, change, status, code, field):
    body = {
        "center_id": world["center"].pk,
        "starts_on": str(tomorrow),
        "ends_on": str(tomorrow),
        "reason": "消杀",
    }
    for key, value in change.items():
        if key == "ends_on":
            body["ends_on"] = str(tomorrow + dt.timedelta(days=value))
        elif value == "other":
            body["space_id"] = f.SpaceFactory(center=place["centers"][1]).pk
        else:
            body[key] = value
    with unchanged():
        assert_error(desk.post("/staff/closures", body), status, code, field)


def _series(world, tomorrow, **over) -> dict:
    return {
        "resource_id": world["activity_unit"].pk,
        "purpose": "合唱团排练",
        "weekday": tomorrow.weekday(),
        "starts": "19:00",
        "ends": "21:00",
        "first_date": str(tomorrow),
        "weeks": 4,
        **over,
    }


@pytest.mark.parametrize(
    ("over", "status", "code", "field"),
    [
        ({"ends": "18:00"}, 400, "booking_times_invalid", "ends"),
        ({"weekday": 7}, 400, "invalid_input", "weekday"),
        ({"weeks": 0}, 400, "invalid_input", "weeks"),
        ({"weeks": 53}, 400, "invalid_input", "weeks"),
        ({"purpose": "  "}, 400, "purpose_required", "purpose"),
        ({"organization_id": 987654}, 404, "organization_not_found", "organization_id"),
        ({"resource_id": 987654}, 404, "unit_not_found", "resource_id"),
        ({"starts": "7pm"}, 400, "invalid_input", "starts"),
    ],
    ids=[
        "ends-before-start",
        "weekday-7",
        "zero-weeks",
        "53-weeks",
        "blank-purpose",
        "no-such-org",
        "no-such-unit",
        "bad-time",
    ],
)
def test_series_refusals(world, desk, tomorrow, over, status, code, field):
    with unchanged():
        assert_error(desk.post("/staff/series", _series(world, tomorrow, **over)), status, code, field)


def test_desk_booking_refusals(world, desk, place, tomorrow):
    body = span(world["seats"][0], local(tomorrow, 10), local(tomorrow, 11))
    stranger = f.ResidentFactory(home_community=place["communities"][2])
    with unchanged():
        assert_error(desk.post("/staff/bookings", body), 400, "resident_required", "resident_id")
        assert_error(
            desk.post("/staff/bookings", {**body, "pass_token": "LR1.xx"}), 400, "pass_invalid", "pass_token"
        )
        # A resident of another community is found by their pass, not by their id.
        assert_error(
            desk.post("/staff/bookings", {**body, "resident_id": stranger.pk}), 404, "resident_not_found"
        )
        assert_error(
            desk.post(
                "/staff/bookings",
                {**body, "resident_id": world["resident"].pk, "ends_at": local(tomorrow, 9).isoformat()},
            ),
            400,
            "booking_times_invalid",
        )
    response = desk.post("/staff/bookings", {**body, "pass_token": fresh_pass(stranger)})
    assert response.status_code == 201 and response.json()["resident_name_masked"] == stranger.masked_name


def test_desk_booking_with_an_expired_pass(world, desk, tomorrow):
    """A photo of an old pass is no pass: the desk reads it without using it up, but only fresh."""
    old = passes.encode(world["resident"].pk, int(time.time()) - 3600)
    body = {**span(world["seats"][0], local(tomorrow, 10), local(tomorrow, 11)), "pass_token": old}
    with unchanged():
        assert_error(desk.post("/staff/bookings", body), 400, "pass_expired", "pass_token")


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"min_minutes": 30}, "invalid_rules", "min_minutes"),
        ({"max_minutes": 30}, "invalid_rules", "max_minutes"),
        ({"slot_minutes": 10}, "invalid_input", "slot_minutes"),
        ({"horizon_days": 91}, "invalid_input", "horizon_days"),
        ({"audience": "vip"}, "invalid_input", "audience"),
        ({"release_time": "25:00"}, "invalid_input", "release_time"),
    ],
    ids=["min-below-slot", "max-below-min", "slot-10", "horizon-91", "unknown-audience", "bad-release-time"],
)
def test_rules_refusals(world, desk, change, code, field):
    body = {"slot_minutes": 60, "min_minutes": 60, "max_minutes": 120, **change}
    with unchanged():
        assert_error(desk.put(f"/staff/spaces/{world['study'].pk}/rules", body), 400, code, field)


def test_list_and_utilisation_ranges(world, desk):
    today = timezone.localdate()
    with unchanged():
        assert_error(
            desk.get("/staff/bookings", **{"from": str(today), "to": str(today - dt.timedelta(days=1))}),
            400,
            "invalid_range",
            "to",
        )
        assert_error(
            desk.get("/staff/bookings", **{"from": str(today), "to": str(today + dt.timedelta(days=14))}),
            400,
            "range_too_long",
            "to",
        )
        assert_error(
            desk.get("/staff/utilisation", **{"from": str(today), "to": str(today - dt.timedelta(days=1))}),
            400,
            "invalid_range",
            "to",
        )
        assert_error(desk.get("/staff/utilisation", **{"from": str(today)}), 400, "invalid_input", "to")
        assert_error(desk.get("/staff/bookings", status="lost"), 400, "invalid_input", "status")
        assert_error(
            Api().get(f"/spaces/{world['study'].pk}/availability", **{"from": "x"}),
            400,
            "invalid_input",
            "from",
        )
    assert (
        desk.get(
            "/staff/bookings", **{"from": str(today), "to": str(today + dt.timedelta(days=13))}
        ).status_code
        == 200
    )


EXTREME_DATES = {
    "availability-9999": ("GET", lambda w: f"/spaces/{w['study'].pk}/availability", {"from": "9999-12-31"}),
    "availability-0001": ("GET", lambda w: f"/spaces/{w['study'].pk}/availability", {"from": "0001-01-01"}),
    "utilisation-9999": ("GET", lambda w: "/staff/utilisation", {"from": "9999-12-30", "to": "9999-12-31"}),
    "utilisation-0001": ("GET", lambda w: "/staff/utilisation", {"from": "0001-01-01", "to": "0001-01-02"}),
    "closure-9999": (
        "POST",
        lambda w: "/staff/closures",
        lambda w: {
            "center_id": w["center"].pk,
            "starts_on": "9999-12-31",
            "ends_on": "9999-12-31",
            "reason": "x",
        },
    ),
    "series-preview-9999": (
        "POST",
        lambda w: "/staff/series/preview",
        lambda w: {
            "resource_id": w["activity_unit"].pk,
            "purpose": "x",
            "weekday": 1,
            "starts": "19:00",
            "ends": "21:00",
            "first_date": "9999-12-01",
            "weeks": 52,
        },
    ),
}


@pytest.mark.parametrize("case", list(EXTREME_DATES))
def test_dates_at_the_ends_of_the_calendar_get_a_refusal_not_a_500(world, desk, case):
    method, path, data = EXTREME_DATES[case]
    with unchanged():
        get = method == "GET"
        response = desk.get(path(world), **data) if get else desk.post(path(world), data(world))
    assert 400 <= response.status_code < 500, response.content[:300]
    assert response.json()["code"] != "server_error"


def test_rehab_note_refusals(world, tomorrow):
    booking = put_booking(
        world["therapist_unit"], local(tomorrow, 10), local(tomorrow, 10, 30), resident=world["resident"]
    )
    therapist = staff_api(world["therapist"])
    with unchanged():
        assert_error(
            therapist.post(f"/staff/bookings/{booking.pk}/rehab-notes", {"text": ""}),
            400,
            "invalid_input",
            "text",
        )
        assert_error(
            therapist.post(f"/staff/bookings/{booking.pk}/rehab-notes", {"text": "字" * 4001}),
            400,
            "invalid_input",
            "text",
        )
        assert_error(
            therapist.post(f"/staff/bookings/{booking.pk}/rehab-notes", {"text": "  "}),
            400,
            "note_required",
            "text",
        )


def test_nul_characters_are_refused(world, me, desk, tomorrow):
    body = span(world["seats"][0], local(tomorrow, 10), local(tomorrow, 11), purpose="学习\x00")
    with unchanged():
        assert_error(me.post("/bookings", body), 400, "invalid_input", "purpose")
        response = desk.post(
            f"/staff/spaces/{world['study'].pk}/blocks",
            {
                "starts_at": local(tomorrow, 10).isoformat(),
                "ends_at": local(tomorrow, 11).isoformat(),
                "reason": "维\x00修",
            },
        )
        assert_error(response, 400, "invalid_input", "reason")


def test_a_refused_booking_writes_nothing_even_through_the_service(world, tomorrow):
    """The service refuses before its transaction: the same refusals without the API in between."""
    with unchanged(), pytest.raises(errors.NotAligned):
        services.booking_create(
            user=world["resident"].user,
            resource_id=world["seats"][0].pk,
            starts_at=local(tomorrow, 10, 15),
            ends_at=local(tomorrow, 11, 15),
        )
    with unchanged(), pytest.raises(errors.UnitNotBookable):
        services.booking_create(
            user=world["resident"].user,
            resource_id=world["study_room_unit"].pk,
            starts_at=local(tomorrow, 10),
            ends_at=local(tomorrow, 11),
        )
