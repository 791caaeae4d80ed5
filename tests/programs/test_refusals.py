"""Every bad input the courses issue lists, each through the API with its exact status and stable
code, inside ``unchanged()``: no row written, no row changed (programs, sessions, enrolments,
attendance, payments, talents, bookings, notices, audit events)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from livingroom.core.errors import InvalidInput
from livingroom.people.models import EligibilityVerification
from livingroom.people.services import dependant_add, dependant_remove, resident_pass_issue
from livingroom.programs import errors, services
from livingroom.programs.models import Enrollment, Program, ProgramSession
from tests import factories as f
from tests.booking.conftest import DeviceApi
from tests.conftest import Api, resident_api, staff_api
from tests.invariants import assert_error
from tests.programs.conftest import (
    draft,
    enrol,
    in_days,
    neighbours,
    publish,
    today_program,
    unchanged,
)

pytestmark = pytest.mark.django_db

BIG = 10**12
HUGE_ID = 10**20


def refused(call, status: int, code: str, field: str | None = "-", ignore: tuple[str, ...] = ()) -> dict:
    """``call()`` is refused with this status and code, and nothing changes."""
    with unchanged(ignore):
        response = call()
    return assert_error(response, status, code, field)


def once(world, days: int) -> list[services.SessionDraft]:
    """One session in the hall in ``days`` days (apart from the course fixture's classroom)."""
    return services.weekly_sessions(
        space_id=world["hall"].pk, first_starts_at=in_days(days), minutes=60, weeks=1
    )


# --- enrolment ------------------------------------------------------------------------------------


def test_enrolling_before_the_window_opens(course_world):
    opens = timezone.now() + dt.timedelta(hours=2)
    program = publish(course_world, enroll_opens_at=opens)
    me = resident_api(course_world["residents"][0].user)
    body = refused(lambda: me.post(f"/programs/{program.pk}/enrollments"), 409, "enrollment_not_open")
    assert timezone.localtime(opens).strftime("%Y-%m-%d %H:%M") in body["message"]


def test_enrolling_after_the_window_closes(course_world, course):
    now = timezone.now()
    Program.objects.filter(pk=course.pk).update(
        enroll_opens_at=now - dt.timedelta(days=2), enroll_closes_at=now - dt.timedelta(seconds=1)
    )
    me = resident_api(course_world["residents"][0].user)
    refused(lambda: me.post(f"/programs/{course.pk}/enrollments"), 409, "enrollment_closed")
    # The service agrees at the edge: the moment it closes is already too late.
    course.refresh_from_db()
    with unchanged(), pytest.raises(errors.EnrollmentClosed):
        enrol(course_world["residents"][0], course, now=course.enroll_closes_at)


@pytest.mark.parametrize("first", ["confirmed", "waitlisted", "requested"])
def test_enrolling_twice(course_world, first):
    now = timezone.now()
    fair = first == "requested"
    program = publish(
        course_world,
        capacity=1,
        fair_seconds=60 if fair else 0,
        enroll_opens_at=now - dt.timedelta(seconds=5) if fair else now - dt.timedelta(minutes=5),
    )
    if first == "waitlisted":
        enrol(neighbours(course_world, 1)[0], program)
    me = course_world["residents"][0]
    assert enrol(me, program)[0].status == first
    api = resident_api(me.user)
    refused(lambda: api.post(f"/programs/{program.pk}/enrollments"), 409, "already_enrolled")


def test_enrolling_a_family_member_twice_or_in_the_same_request(course_world, course):
    me = course_world["residents"][0]
    kid = dependant_add(user=me.user, name="张小明", birth_date=dt.date(2018, 5, 1), relation="child")
    enrol(me, course, include_self=False, dependant_ids=[kid.pk])
    api = resident_api(me.user)
    refused(
        lambda: api.post(
            f"/programs/{course.pk}/enrollments", {"include_self": True, "dependant_ids": [kid.pk]}
        ),
        409,
        "already_enrolled",
    )


def test_enrolling_when_not_in_the_audience(course_world, place):
    program = publish(course_world, community_ids=[place["communities"][0].pk])
    outsider = resident_api(course_world["outsider"].user)
    body = refused(
        lambda: outsider.post(f"/programs/{program.pk}/enrollments"), 403, "not_in_audience", "participants"
    )
    assert place["communities"][0].name in body["message"]
    aged = publish(
        course_world, title="长者太极", category="elderly", min_age=60, sessions=once(course_world, 4)
    )
    me = resident_api(course_world["residents"][0].user)  # born 1990
    refused(lambda: me.post(f"/programs/{aged.pk}/enrollments"), 403, "not_in_audience", "participants")
    verified = publish(
        course_world, title="骑手课堂", eligibility_kinds=["rider"], sessions=once(course_world, 5)
    )
    EligibilityVerification.objects.create(
        resident=course_world["residents"][0], kind="low_income", verified_by=course_world["desk"]
    )
    refused(lambda: me.post(f"/programs/{verified.pk}/enrollments"), 403, "not_in_audience", "participants")


def test_enrolling_over_the_waiting_list_size(course_world, course):
    people = [*course_world["residents"], *neighbours(course_world, 2)]  # 2 seats + 3 places
    for p in people[:5]:
        enrol(p, course)
    late = resident_api(people[5].user)
    refused(lambda: late.post(f"/programs/{course.pk}/enrollments"), 409, "waitlist_full")


def test_a_family_that_does_not_fit_is_refused_as_a_whole(course_world, course):
    for p in course_world["residents"]:
        enrol(p, course)  # 2 seats, 2 of 3 places
    parent = neighbours(course_world, 1)[0]
    kid = dependant_add(user=parent.user, name="王小明", birth_date=dt.date(2018, 5, 1), relation="child")
    api = resident_api(parent.user)
    refused(
        lambda: api.post(
            f"/programs/{course.pk}/enrollments", {"include_self": True, "dependant_ids": [kid.pk]}
        ),
        409,
        "waitlist_full",
    )


def test_enrolling_for_a_cancelled_a_pending_or_a_missing_program(course_world, course):
    services.program_cancel(
        scope=course_world["scope"], staff=course_world["desk"], program_id=course.pk, reason="停办"
    )
    pending = services.program_propose(
        actor=course_world["desk"], scope=course_world["scope"], draft=draft(course_world)
    )
    me = resident_api(course_world["residents"][0].user)
    refused(lambda: me.post(f"/programs/{course.pk}/enrollments"), 409, "program_cancelled")
    refused(lambda: me.post(f"/programs/{pending.pk}/enrollments"), 404, "program_not_found")
    refused(lambda: me.post("/programs/987654/enrollments"), 404, "program_not_found")


@pytest.mark.parametrize("bad", ["0", "-1", str(HUGE_ID), "abc", "1.5"])
def test_program_ids_out_of_range(course_world, bad):
    me = resident_api(course_world["residents"][0].user)
    refused(lambda: me.post(f"/programs/{bad}/enrollments"), 400, "invalid_input", "program_id")
    refused(lambda: Api().get(f"/programs/{bad}"), 400, "invalid_input", "program_id")


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"include_self": False}, 400, "participants_required", "participants"),
        ({"include_self": False, "dependant_ids": []}, 400, "participants_required", "participants"),
        ({"dependant_ids": [987654]}, 404, "dependant_not_found", "participants"),
        ({"dependant_ids": [0]}, 400, "invalid_input", "dependant_ids.0"),
        ({"dependant_ids": [HUGE_ID]}, 400, "invalid_input", "dependant_ids.0"),
        ({"dependant_ids": list(range(1, 8))}, 400, "invalid_input", "dependant_ids"),
        ({"dependant_ids": "all"}, 400, "invalid_input", "dependant_ids"),
        ({"include_self": "maybe"}, 400, "invalid_input", "include_self"),
    ],
)
def test_bad_participants(course_world, course, body, status, code, field):
    me = resident_api(course_world["residents"][0].user)
    refused(lambda: me.post(f"/programs/{course.pk}/enrollments", body), status, code, field)


def test_a_party_larger_than_six(course_world, course):
    me = course_world["residents"][0]
    kids = [
        dependant_add(user=me.user, name=f"张小{n}", birth_date=dt.date(2015, 1, 1), relation="child").pk
        for n in "一二三四五六"
    ]
    api = resident_api(me.user)
    refused(
        lambda: api.post(f"/programs/{course.pk}/enrollments", {"dependant_ids": kids}),
        400,
        "party_too_large",
        "participants",
    )


def test_a_removed_family_member_cannot_be_enrolled(course_world, course):
    me = course_world["residents"][0]
    kid = dependant_add(user=me.user, name="张小明", birth_date=dt.date(2018, 5, 1), relation="child")
    dependant_remove(user=me.user, dependant_id=kid.pk)
    api = resident_api(me.user)
    refused(
        lambda: api.post(
            f"/programs/{course.pk}/enrollments", {"include_self": False, "dependant_ids": [kid.pk]}
        ),
        404,
        "dependant_not_found",
    )


def test_staff_without_a_resident_profile_cannot_enrol(course_world, course):
    desk = resident_api(course_world["desk"])  # a member of staff with a resident's token
    refused(lambda: desk.post(f"/programs/{course.pk}/enrollments"), 409, "profile_incomplete")


# --- leaving, offers, ratings ---------------------------------------------------------------------


def test_leaving_refusals(course_world, course):
    mine = enrol(course_world["residents"][0], course)[0]
    me = resident_api(course_world["residents"][0].user)
    other = resident_api(course_world["residents"][1].user)
    refused(lambda: other.send("DELETE", f"/me/enrollments/{mine.pk}"), 404, "enrollment_not_found")
    refused(lambda: me.send("DELETE", "/me/enrollments/987654"), 404, "enrollment_not_found")
    refused(lambda: me.send("DELETE", f"/me/enrollments/{HUGE_ID}"), 400, "invalid_input", "enrollment_id")
    assert me.send("DELETE", f"/me/enrollments/{mine.pk}").status_code == 200
    refused(lambda: me.send("DELETE", f"/me/enrollments/{mine.pk}"), 409, "enrollment_not_cancellable")
    refused(lambda: me.post(f"/me/enrollments/{mine.pk}/accept"), 409, "no_offer")


def test_cancelling_a_seat_after_the_cut_off_through_the_api(course_world):
    soon = timezone.now() + dt.timedelta(hours=3)
    program = publish(
        course_world,
        cancel_cutoff_hours=24,
        sessions=[services.SessionDraft(course_world["classroom"].pk, soon, soon + dt.timedelta(hours=1))],
    )
    mine = enrol(course_world["residents"][0], program)[0]
    me = resident_api(course_world["residents"][0].user)
    refused(lambda: me.send("DELETE", f"/me/enrollments/{mine.pk}"), 409, "cancel_cutoff_passed")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"rating": 0}, "rating"),
        ({"rating": 6}, "rating"),
        ({"rating": -1}, "rating"),
        ({"rating": "five"}, "rating"),
        ({}, "rating"),
        ({"rating": 5, "comment": "好" * 501}, "comment"),
    ],
)
def test_bad_ratings(course_world, body, field):
    program, before = today_program(course_world)
    mine = enrol(course_world["residents"][0], program, now=before)[0]
    session = program.sessions.order_by("starts_at").first()
    services.attendance_mark(
        scope=course_world["scope"],
        staff=course_world["desk"],
        session_id=session.pk,
        marks=[services.Mark(mine.pk, True)],
        now=session.starts_at,
    )
    me = resident_api(course_world["residents"][0].user)
    refused(lambda: me.post(f"/me/enrollments/{mine.pk}/rating", body), 400, "invalid_input", field)


# --- proposals: prices, capacities, windows ---------------------------------------------------------


def proposal(world, **overrides) -> dict:
    start = in_days(4)
    body = {
        "center_id": world["center"].pk,
        "title": "国画入门",
        "category": "arts",
        "capacity": 10,
        "waitlist_size": 5,
        "market_price_fen": 40000,
        "price_fen": 8000,
        "enroll_opens_at": timezone.now().isoformat(),
        "fair_seconds": 0,
        "sessions": [
            {
                "space_id": world["classroom"].pk,
                "starts_at": start.isoformat(),
                "ends_at": (start + dt.timedelta(hours=2)).isoformat(),
            }
        ],
    }
    body.update(overrides)
    return body


def test_a_proposal_that_passes_every_check(course_world):
    response = staff_api(course_world["desk"]).post("/staff/programs", proposal(course_world))
    assert response.status_code == 201, response.content
    assert (response.json()["status"], response.json()["discount_fen"]) == ("pending", 32000)


def test_a_public_welfare_price_above_the_share(course_world):
    desk = staff_api(course_world["desk"])
    body = refused(
        lambda: desk.post("/staff/programs", proposal(course_world, price_fen=8001)),
        400,
        "price_above_welfare_share",
        "price_fen",
    )
    assert "20%" in body["message"] and "80.00" in body["message"]
    # Not public-welfare: any price up to the market price.
    response = desk.post("/staff/programs", proposal(course_world, price_fen=30000, public_welfare=False))
    assert response.status_code == 201, response.content
    refused(
        lambda: desk.post("/staff/programs", proposal(course_world, price_fen=40001, public_welfare=False)),
        400,
        "price_above_market",
        "price_fen",
    )


def test_the_welfare_share_is_configurable(course_world, settings):
    settings.LIVINGROOM_PUBLIC_WELFARE_SHARE_PCT = 30
    desk = staff_api(course_world["desk"])
    response = desk.post("/staff/programs", proposal(course_world, price_fen=12000))
    assert response.status_code == 201, response.content
    assert Program.objects.get().welfare_share_pct == 30
    refused(
        lambda: desk.post("/staff/programs", proposal(course_world, price_fen=12001)),
        400,
        "price_above_welfare_share",
        "price_fen",
    )


def test_the_database_refuses_a_welfare_price_above_the_share(course_world, course):
    """Bypassing the service: the CHECK constraint has the last word."""
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        Program.objects.filter(pk=course.pk).update(price_fen=8001)
    assert "program_welfare_price_cap" in str(caught.value)
    values = {
        f.name: getattr(course, f.name)
        for f in Program._meta.concrete_fields
        if f.name not in ("id", "center", "proposed_by", "decided_by", "organization", "talent")
    }
    values.update(center=course.center, proposed_by=course.proposed_by, price_fen=8001, status="pending")
    with unchanged(), pytest.raises(IntegrityError), transaction.atomic():
        Program.objects.create(**values)
    values.update(price_fen=8000)
    with transaction.atomic():
        Program.objects.create(**values)  # at the share exactly: allowed
    course.refresh_from_db()
    assert course.price_fen == 8000


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"price_fen": -1}, "price_fen"),
        ({"price_fen": BIG}, "price_fen"),
        ({"price_fen": "cheap"}, "price_fen"),
        ({"price_fen": 12.5}, "price_fen"),
        ({"market_price_fen": -1}, "market_price_fen"),
        ({"market_price_fen": 10_000_001}, "market_price_fen"),
        ({"market_price_fen": BIG}, "market_price_fen"),
        ({"capacity": 0}, "capacity"),
        ({"capacity": -1}, "capacity"),
        ({"capacity": 1001}, "capacity"),
        ({"capacity": BIG}, "capacity"),
        ({"capacity": "many"}, "capacity"),
        ({"capacity": None}, "capacity"),
        ({"waitlist_size": -1}, "waitlist_size"),
        ({"waitlist_size": 5001}, "waitlist_size"),
        ({"fair_seconds": 601}, "fair_seconds"),
        ({"fair_seconds": -1}, "fair_seconds"),
        ({"offer_hours": 0}, "offer_hours"),
        ({"min_age": -1}, "min_age"),
        ({"max_age": 200}, "max_age"),
        ({"title": ""}, "title"),
        ({"title": "长" * 101}, "title"),
        ({"category": "cooking"}, "category"),
        ({"promotion": "lottery"}, "promotion"),
        ({"eligibility_kinds": ["vip"]}, "eligibility_kinds.0"),
        ({"center_id": 0}, "center_id"),
        ({"center_id": HUGE_ID}, "center_id"),
        ({"enroll_opens_at": "2026-01-01T10:00:00"}, "enroll_opens_at"),  # no time zone
        ({"enroll_opens_at": "tomorrow"}, "enroll_opens_at"),
    ],
)
def test_absurd_proposals_are_refused_by_the_schema(course_world, change, field):
    desk = staff_api(course_world["desk"])
    refused(
        lambda: desk.post("/staff/programs", proposal(course_world, **change)), 400, "invalid_input", field
    )


def test_absurd_values_are_refused_by_the_service_too(course_world):
    """What the API schema catches, the service checks again for every other caller (pages)."""
    for change, code, field in [
        ({"capacity": 0}, "invalid_capacity", "capacity"),
        ({"capacity": BIG}, "invalid_capacity", "capacity"),
        ({"waitlist_size": -1}, "invalid_waitlist_size", "waitlist_size"),
        ({"price_fen": -1}, "invalid_price", "price_fen"),
        ({"market_price_fen": BIG}, "invalid_price", "market_price_fen"),
        ({"price_fen": 40001, "public_welfare": False}, "price_above_market", "price_fen"),
        ({"price_fen": 8001}, "price_above_welfare_share", "price_fen"),
        ({"category": "cooking"}, "invalid_category", "category"),
        ({"eligibility_kinds": ["vip"]}, "invalid_eligibility", "eligibility_kinds"),
        ({"fair_seconds": 601}, "invalid_fair_seconds", "fair_seconds"),
    ]:
        with unchanged(), pytest.raises(InvalidInput) as caught:
            services.program_propose(
                actor=course_world["desk"], scope=course_world["scope"], draft=draft(course_world, **change)
            )
        assert (caught.value.code, caught.value.field) == (code, field)


@pytest.mark.parametrize(
    ("sessions", "extra", "status", "code", "field"),
    [
        ([], {}, 400, "invalid_sessions", "sessions"),
        ([(-1, 2)], {}, 400, "session_in_past", "sessions.0"),
        ([(24, -1)], {}, 400, "invalid_input", "sessions.0"),  # ends before it starts
        ([(24, 13 * 60)], {}, 400, "session_times_invalid", "sessions.0"),  # 13 hours
        ([(24, 120), (25, 120)], {}, 400, "sessions_overlap", "sessions.1"),
        ([(24, 120)], {"other_space": True}, 404, "space_not_found", "sessions.0"),
        ([(24, 120)], {"enroll_closes_at": 25}, 400, "enrollment_window_invalid", "enroll_closes_at"),
        ([(24, 120)], {"enroll_closes_at": -1}, 400, "enrollment_window_invalid", "enroll_closes_at"),
        ([(24, 120)], {"min_age": 10, "max_age": 5}, 400, "invalid_age", "max_age"),
        ([(24, 120)], {"community_ids": [987654]}, 404, "community_not_found", "community_ids"),
        ([(24, 120)], {"years": 200}, 400, "invalid_date", "sessions.0"),
    ],
)
def test_bad_sessions_and_windows(course_world, place, sessions, extra, status, code, field):
    now = timezone.now()
    space = course_world["classroom"]
    if extra.pop("other_space", False):
        space = f.SpaceFactory(center=place["centers"][1])
    years = extra.pop("years", 0)
    rows = []
    for hours, minutes in sessions:
        start = now + dt.timedelta(hours=hours, days=365 * years)
        rows.append(
            {
                "space_id": space.pk,
                "starts_at": start.isoformat(),
                "ends_at": (start + dt.timedelta(minutes=minutes)).isoformat(),
            }
        )
    if "enroll_closes_at" in extra:
        extra["enroll_closes_at"] = (now + dt.timedelta(hours=extra["enroll_closes_at"])).isoformat()
    desk = staff_api(course_world["desk"])
    body = proposal(course_world, sessions=rows, **extra)
    if code == "invalid_input":  # the schema accepts it; the service refuses it
        code = "session_times_invalid"
    refused(lambda: desk.post("/staff/programs", body), status, code, field)


def test_a_weekly_series_out_of_range(course_world):
    desk = staff_api(course_world["desk"])
    series = {
        "space_id": course_world["classroom"].pk,
        "first_starts_at": in_days(2).isoformat(),
        "minutes": 60,
    }
    for weeks, minutes, field in (
        (0, 60, "series.weeks"),
        (53, 60, "series.weeks"),
        (4, 10, "series.minutes"),
    ):
        body = proposal(course_world, sessions=[], series={**series, "weeks": weeks, "minutes": minutes})
        refused(lambda body=body: desk.post("/staff/programs", body), 400, "invalid_input", field)


# --- limits ---------------------------------------------------------------------------------------


def test_capacity_below_current_enrolments(course_world, course):
    for p in course_world["residents"]:
        enrol(p, course)  # 2 seats taken, 2 waiting
    desk = staff_api(course_world["desk"])
    path = f"/staff/programs/{course.pk}"
    body = refused(
        lambda: desk.send("PATCH", path, {"capacity": 1}), 409, "capacity_below_enrolled", "capacity"
    )
    assert "2" in body["message"]
    refused(
        lambda: desk.send("PATCH", path, {"waitlist_size": 1}), 409, "waitlist_below_waiting", "waitlist_size"
    )
    # Both at once: nothing of either is applied.
    refused(
        lambda: desk.send("PATCH", path, {"capacity": 5, "waitlist_size": 1}),
        409,
        "waitlist_below_waiting",
        "waitlist_size",
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"capacity": 0}, "capacity"),
        ({"capacity": -1}, "capacity"),
        ({"capacity": BIG}, "capacity"),
        ({"capacity": "lots"}, "capacity"),
        ({"waitlist_size": -1}, "waitlist_size"),
        ({"waitlist_size": BIG}, "waitlist_size"),
    ],
)
def test_absurd_limits(course_world, course, body, field):
    desk = staff_api(course_world["desk"])
    refused(lambda: desk.send("PATCH", f"/staff/programs/{course.pk}", body), 400, "invalid_input", field)


def test_limits_of_a_cancelled_program(course_world, course):
    services.program_cancel(
        scope=course_world["scope"], staff=course_world["desk"], program_id=course.pk, reason="停办"
    )
    desk = staff_api(course_world["desk"])
    refused(
        lambda: desk.send("PATCH", f"/staff/programs/{course.pk}", {"capacity": 5}), 409, "program_cancelled"
    )
    refused(
        lambda: desk.post(f"/staff/programs/{course.pk}/cancel", {"reason": "再次"}), 409, "program_cancelled"
    )


def test_deciding_a_program_twice_or_without_a_reason(course_world, course):
    desk = staff_api(course_world["desk"])
    refused(lambda: desk.post(f"/staff/programs/{course.pk}/approve"), 409, "program_not_pending")
    refused(
        lambda: desk.post(f"/staff/programs/{course.pk}/reject", {"reason": "重复"}),
        409,
        "program_not_pending",
    )
    pending = services.program_propose(
        actor=course_world["desk"], scope=course_world["scope"], draft=draft(course_world)
    )
    refused(
        lambda: desk.post(f"/staff/programs/{pending.pk}/reject", {"reason": ""}),
        400,
        "invalid_input",
        "reason",
    )
    refused(
        lambda: desk.post(f"/staff/programs/{pending.pk}/reject", {"reason": "   "}), 400, "reason_required"
    )
    refused(lambda: desk.post(f"/staff/programs/{pending.pk}/cancel", {}), 400, "invalid_input", "reason")


# --- attendance -----------------------------------------------------------------------------------


@pytest.fixture
def kiosk(course_world) -> DeviceApi:
    device, secret = f.device_for(course_world["center"])
    return DeviceApi(device.key_id, secret)


DEVICE = ("RequestNonce",)  # a signed request records its nonce, refused or not


def test_attendance_for_a_session_that_is_not_today(course_world, course, kiosk):
    me = course_world["residents"][0]
    mine = enrol(me, course)[0]
    session = course.sessions.order_by("starts_at").first()  # in 3 days
    refused(
        lambda: kiosk.post(
            f"/sessions/{session.pk}/attendance", {"token": resident_pass_issue(user=me.user).token}
        ),
        409,
        "session_not_today",
        ignore=DEVICE,
    )
    desk = staff_api(course_world["desk"])
    refused(
        lambda: desk.post(
            f"/staff/sessions/{session.pk}/attendance",
            {"marks": [{"enrollment_id": mine.pk, "present": True}]},
        ),
        409,
        "session_not_today",
    )
    # The service agrees a day early and a day late, in local time.
    for day in (-1, 1):
        with unchanged(), pytest.raises(errors.SessionNotToday):
            services.attendance_mark(
                scope=course_world["scope"],
                staff=course_world["desk"],
                session_id=session.pk,
                marks=[services.Mark(mine.pk, True)],
                now=session.starts_at + dt.timedelta(days=day),
            )


def test_attendance_for_someone_not_enrolled(course_world, kiosk):
    program, before = today_program(course_world, capacity=1, waitlist_size=2)
    seated, waiting_one, stranger = course_world["residents"][:3]
    enrol(seated, program, now=before)
    waits = enrol(waiting_one, program, now=before)[0]
    other_program = publish(course_world, title="国画")
    elsewhere = enrol(stranger, other_program)[0]
    session = program.sessions.order_by("starts_at").first()
    for person in (waiting_one, stranger):
        refused(
            lambda person=person: kiosk.post(
                f"/sessions/{session.pk}/attendance", {"token": resident_pass_issue(user=person.user).token}
            ),
            404,
            "not_enrolled",
            ignore=DEVICE,
        )
    desk = staff_api(course_world["desk"])
    for enrollment_id in (waits.pk, elsewhere.pk, 987654):
        refused(
            lambda enrollment_id=enrollment_id: desk.post(
                f"/staff/sessions/{session.pk}/attendance",
                {"marks": [{"enrollment_id": enrollment_id, "present": True}]},
            ),
            404,
            "not_enrolled",
            "marks",
        )
    refused(
        lambda: desk.post(f"/staff/sessions/{session.pk}/attendance", {"marks": []}),
        400,
        "invalid_input",
        "marks",
    )


def test_attendance_for_a_cancelled_session_or_at_another_centers_kiosk(course_world, place):
    program, before = today_program(course_world)
    me = course_world["residents"][0]
    enrol(me, program, now=before)
    first, second = program.sessions.order_by("starts_at")
    elsewhere, secret = f.device_for(place["centers"][1])
    other_kiosk = DeviceApi(elsewhere.key_id, secret)
    refused(
        lambda: other_kiosk.post(
            f"/sessions/{first.pk}/attendance", {"token": resident_pass_issue(user=me.user).token}
        ),
        404,
        "session_not_found",
        ignore=DEVICE,
    )
    services.session_cancel(
        scope=course_world["scope"], staff=course_world["desk"], session_id=second.pk, reason="停电"
    )
    ProgramSession.objects.filter(pk=second.pk).update(starts_at=first.starts_at, ends_at=first.ends_at)
    device, secret = f.device_for(course_world["center"])
    kiosk = DeviceApi(device.key_id, secret)
    refused(
        lambda: kiosk.post(
            f"/sessions/{second.pk}/attendance", {"token": resident_pass_issue(user=me.user).token}
        ),
        409,
        "session_cancelled",
        ignore=DEVICE,
    )


@pytest.mark.parametrize("token", ["", "not-a-pass", "x" * 401])
def test_attendance_with_a_bad_pass(course_world, kiosk, token):
    program, before = today_program(course_world)
    enrol(course_world["residents"][0], program, now=before)
    session = program.sessions.order_by("starts_at").first()
    status, code = (400, "invalid_input") if len(token) > 400 else (400, "pass_invalid")
    refused(
        lambda: kiosk.post(f"/sessions/{session.pk}/attendance", {"token": token}),
        status,
        code,
        ignore=DEVICE,
    )


# --- payments -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"method": "cash", "amount_fen": 0}, "amount_fen"),
        ({"method": "cash", "amount_fen": -1}, "amount_fen"),
        ({"method": "cash", "amount_fen": BIG}, "amount_fen"),
        ({"method": "cash", "amount_fen": "eighty"}, "amount_fen"),
        ({"method": "", "amount_fen": 100}, "method"),
        ({"amount_fen": 100}, "method"),
        ({"method": "external", "amount_fen": 100, "reference": "x" * 101}, "reference"),
    ],
)
def test_absurd_payments(course_world, course, body, field):
    mine = enrol(course_world["residents"][0], course)[0]
    desk = staff_api(course_world["desk"])
    refused(lambda: desk.post(f"/staff/enrollments/{mine.pk}/payments", body), 400, "invalid_input", field)


def test_payments_refused_by_rule(course_world, course):
    people = course_world["residents"]
    seated, waits = enrol(people[0], course)[0], [enrol(p, course)[0] for p in people[1:]][-1]
    desk = staff_api(course_world["desk"])
    path = f"/staff/enrollments/{seated.pk}/payments"
    refused(
        lambda: desk.post(path, {"method": "cash", "amount_fen": 8001}), 400, "payment_invalid", "amount_fen"
    )
    refused(
        lambda: desk.post(path, {"method": "alipay", "amount_fen": 100}), 400, "payment_invalid", "method"
    )
    refused(
        lambda: desk.post(path, {"method": "external", "amount_fen": 100}),
        400,
        "payment_invalid",
        "reference",
    )
    refused(
        lambda: desk.post(f"/staff/enrollments/{waits.pk}/payments", {"method": "cash", "amount_fen": 100}),
        400,
        "payment_invalid",
        "enrollment_id",
    )
    refused(
        lambda: desk.post("/staff/enrollments/987654/payments", {"method": "cash", "amount_fen": 100}),
        404,
        "enrollment_not_found",
    )


# --- talents --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "chef", "skills": "做饭", "bio": "厨师"}, "kind"),
        ({"kind": "arts", "skills": "", "bio": "画家"}, "skills"),
        ({"kind": "arts", "skills": "画" * 201, "bio": "画家"}, "skills"),
        ({"kind": "arts", "skills": "国画", "bio": ""}, "bio"),
        ({"kind": "arts", "skills": "国画", "bio": "长" * 1001}, "bio"),
    ],
)
def test_bad_talent_applications(course_world, body, field):
    me = resident_api(course_world["residents"][0].user)
    refused(lambda: me.post("/me/talent", body), 400, "invalid_input", field)


def test_blank_talent_applications_are_refused_by_the_service(course_world):
    me = course_world["residents"][0]
    for kind, skills, bio, code in (
        ("arts", "  ", "画家", "skills_required"),
        ("arts", "国画", "  ", "bio_required"),
    ):
        with unchanged(), pytest.raises(InvalidInput) as caught:
            services.talent_apply(user=me.user, kind=kind, skills=skills, bio=bio)
        assert caught.value.code == code


def test_talent_decisions_refused(course_world):
    talent = services.talent_apply(
        user=course_world["residents"][0].user, kind="arts", skills="剪纸", bio="老师"
    )
    desk = staff_api(course_world["desk"])
    path = f"/staff/talents/{talent.pk}/decision"
    refused(lambda: desk.post(path, {"approve": False, "reason": "  "}), 400, "reason_required", "reason")
    refused(lambda: desk.post(path, {"approve": "perhaps"}), 400, "invalid_input", "approve")
    refused(lambda: desk.post("/staff/talents/987654/decision", {"approve": True}), 404, "talent_not_found")
    me = resident_api(course_world["residents"][0].user)
    refused(lambda: me.post("/me/talent/programs", proposal(course_world)), 403, "not_an_approved_talent")
    assert desk.post(path, {"approve": True}).status_code == 200
    refused(lambda: desk.post(path, {"approve": False, "reason": "改主意"}), 409, "talent_not_pending")
    refused(
        lambda: me.post("/me/talent", {"kind": "arts", "skills": "剪纸", "bio": "老师"}),
        409,
        "talent_application_open",
    )
    nobody = resident_api(course_world["residents"][1].user)
    refused(lambda: nobody.send("DELETE", "/me/talent"), 404, "talent_not_found")


# --- staff of another community: 404, never 403 ---------------------------------------------------


def test_staff_of_another_community_find_nothing(course_world, course, place):
    mine = enrol(course_world["residents"][0], course)[0]
    session = course.sessions.order_by("starts_at").first()
    talent = services.talent_apply(
        user=course_world["residents"][1].user, kind="arts", skills="剪纸", bio="老师"
    )
    other = staff_api(f.staff_with_role("community_worker", community=place["communities"][2]))
    p, s = course.pk, session.pk
    calls = [
        (lambda: other.get(f"/staff/programs/{p}"), "program_not_found"),
        (lambda: other.send("PATCH", f"/staff/programs/{p}", {"capacity": 9}), "program_not_found"),
        (lambda: other.post(f"/staff/programs/{p}/approve"), "program_not_found"),
        (lambda: other.post(f"/staff/programs/{p}/reject", {"reason": "x"}), "program_not_found"),
        (lambda: other.post(f"/staff/programs/{p}/cancel", {"reason": "x"}), "program_not_found"),
        (lambda: other.get(f"/staff/programs/{p}/draw"), "program_not_found"),
        (lambda: other.get(f"/staff/sessions/{s}/roster"), "session_not_found"),
        (lambda: other.post(f"/staff/sessions/{s}/cancel", {"reason": "x"}), "session_not_found"),
        (
            lambda: other.post(
                f"/staff/sessions/{s}/attendance", {"marks": [{"enrollment_id": mine.pk, "present": True}]}
            ),
            "session_not_found",
        ),
        (
            lambda: other.post(
                f"/staff/enrollments/{mine.pk}/payments", {"method": "cash", "amount_fen": 100}
            ),
            "enrollment_not_found",
        ),
        (lambda: other.post(f"/staff/talents/{talent.pk}/decision", {"approve": True}), "talent_not_found"),
    ]
    for call, code in calls:
        refused(call, 404, code)
    # Exactly what a missing id answers: nothing tells the two apart.
    for path, body, code in (
        (
            "/staff/sessions/987654/attendance",
            {"marks": [{"enrollment_id": mine.pk, "present": True}]},
            "session_not_found",
        ),
        ("/staff/enrollments/987654/payments", {"method": "cash", "amount_fen": 100}, "enrollment_not_found"),
    ):
        refused(lambda path=path, body=body: other.post(path, body), 404, code)
    assert other.get("/staff/programs").json() == []
    assert other.get("/staff/talents").json() == []


def test_public_list_refuses_dates_out_of_range(course_world, course):
    for query, field in (
        ({"from": "9999-12-31"}, "from"),
        ({"to": "0001-01-01"}, "to"),
        ({"from": "1999-12-31"}, "from"),
    ):
        refused(lambda query=query: Api().get("/programs", **query), 400, "date_out_of_range", field)
    for query, field in (
        ({"max_price_fen": -1}, "max_price_fen"),
        ({"max_price_fen": BIG}, "max_price_fen"),
        ({"center": 0}, "center"),
        ({"from": "someday"}, "from"),
    ):
        refused(lambda query=query: Api().get("/programs", **query), 400, "invalid_input", field)


def test_totals_refuse_bad_ranges(course_world):
    desk = staff_api(course_world["desk"])
    today = timezone.localdate()
    for query, code, field in (
        ({"from": str(today), "to": str(today - dt.timedelta(days=1))}, "invalid_range", "to"),
        ({"from": str(today), "to": str(today + dt.timedelta(days=366))}, "range_too_long", "to"),
        ({"from": "1999-12-31", "to": str(today)}, "date_out_of_range", "from"),
        ({"to": str(today)}, "invalid_input", "from"),
        ({"from": str(today)}, "invalid_input", "to"),
    ):
        refused(lambda query=query: desk.get("/staff/programs-totals", **query), 400, code, field)
    assert (
        desk.get(
            "/staff/programs-totals", **{"from": str(today), "to": str(today + dt.timedelta(days=365))}
        ).status_code
        == 200
    )


def test_enrollment_not_found_for_a_program_of_someone_else(course_world, course):
    """A resident never learns whether another's enrolment exists."""
    theirs = enrol(course_world["residents"][1], course)[0]
    me = resident_api(course_world["residents"][0].user)
    for call in (
        lambda: me.post(f"/me/enrollments/{theirs.pk}/accept"),
        lambda: me.post(f"/me/enrollments/{theirs.pk}/rating", {"rating": 5}),
        lambda: me.send("DELETE", f"/me/enrollments/{theirs.pk}"),
    ):
        refused(call, 404, "enrollment_not_found")
    assert Enrollment.objects.get(pk=theirs.pk).status == "confirmed"


@pytest.mark.parametrize(
    "when",
    [
        "9999-12-30T10:00:00+08:00",
        "9999-12-31T23:00:00-05:00",
        "0001-01-01T01:00:00+14:00",
        "1999-12-31T10:00:00+08:00",
    ],
)
def test_dates_far_out_of_range_are_refused_not_a_500(course_world, when):
    desk = staff_api(course_world["desk"])
    me = resident_api(course_world["residents"][0].user)
    services.talent_decide(
        scope=course_world["scope"],
        staff=course_world["desk"],
        talent_id=services.talent_apply(
            user=course_world["residents"][0].user, kind="arts", skills="剪纸", bio="老师"
        ).pk,
        approve=True,
    )
    room = course_world["classroom"].pk
    series = proposal(
        course_world,
        sessions=[],
        series={"space_id": room, "first_starts_at": when, "minutes": 60, "weeks": 52},
    )
    refused(lambda: desk.post("/staff/programs", series), 400, "invalid_date", "series.first_starts_at")
    refused(lambda: me.post("/me/talent/programs", series), 400, "invalid_date", "series.first_starts_at")
    listed = proposal(course_world, sessions=[{"space_id": room, "starts_at": when, "ends_at": when}])
    refused(lambda: desk.post("/staff/programs", listed), 400, "invalid_date", "sessions.0")
    refused(
        lambda: desk.post("/staff/programs", proposal(course_world, enroll_opens_at=when)),
        400,
        "invalid_date",
        "enroll_opens_at",
    )


def test_the_database_keeps_the_seat_rules_when_the_services_are_bypassed(course_world, course):
    a, b = (enrol(p, course)[0] for p in course_world["residents"][:2])  # both seats
    w = enrol(course_world["residents"][2], course)[0]  # waiting, position 1

    def refused_by_db(name: str, write, sqlite: str = "") -> None:
        """Refused by the constraint ``name`` (SQLite names a unique index by its columns)."""
        with unchanged(), pytest.raises(IntegrityError) as caught, transaction.atomic():
            write()
        assert name in str(caught.value) or (sqlite and sqlite in str(caught.value)), str(caught.value)

    refused_by_db(
        "program_seats_within_capacity", lambda: Program.objects.filter(pk=course.pk).update(seats_taken=3)
    )
    refused_by_db(
        "program_waitlist_within_size", lambda: Program.objects.filter(pk=course.pk).update(waitlist_count=4)
    )
    again = dict(program=course, resident=a.resident, party="x", status="waitlisted", position=2)
    refused_by_db(
        "enrollment_one_active_per_resident",
        lambda: Enrollment.objects.create(**again),
        sqlite="programs_enrollment.program_id, programs_enrollment.resident_id",
    )
    other = dict(program=course, resident=course_world["residents"][3], party="y", status="waitlisted")
    refused_by_db(
        "enrollment_waitlist_position_unique",
        lambda: Enrollment.objects.create(position=1, **other),
        sqlite="programs_enrollment.program_id, programs_enrollment.position",
    )
    refused_by_db(
        "enrollment_position_iff_waitlisted", lambda: Enrollment.objects.create(position=None, **other)
    )
    refused_by_db(
        "enrollment_paid_within_price", lambda: Enrollment.objects.filter(pk=b.pk).update(paid_fen=8001)
    )
    # A cancelled enrolment holds nothing: the same resident may sign up again.
    Enrollment.objects.filter(pk=w.pk).update(status="cancelled", position=None)
    Enrollment.objects.create(program=course, resident=w.resident, party="z", status="waitlisted", position=1)
