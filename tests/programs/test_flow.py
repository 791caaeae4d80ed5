"""Courses end to end, through the services and the API: enrolment, the waiting list, refunds and
promotion, offers, the opening draw, groups, the audience, limits, cancellations, attendance,
ratings, payments, talents, reminders, the clock, space reservations, the public list and the
district's totals. Every test states exact values and what must not have happened."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.utils import timezone

from livingroom.booking import errors as booking_errors
from livingroom.booking import services as booking_services
from livingroom.booking.models import Booking, BookingRules, Resource
from livingroom.core.models import AuditEvent
from livingroom.notices.models import Notice
from livingroom.people.models import Dependant, EligibilityVerification, PassUse, SmsOutbox
from livingroom.people.services import dependant_add, resident_pass_issue
from livingroom.places.models import OpeningHours, Space
from livingroom.programs import errors, selectors, services
from livingroom.programs.models import (
    Attendance,
    Draw,
    Enrollment,
    Payment,
    Program,
    ProgramSession,
    Talent,
)
from tests import factories as f
from tests.booking.conftest import DeviceApi
from tests.conftest import Api, resident_api, staff_api
from tests.invariants import assert_error
from tests.programs.conftest import (
    counters,
    draft,
    enrol,
    in_days,
    local,
    neighbours,
    publish,
    rows_agree,
    today_program,
    unchanged,
    waiting,
)

pytestmark = pytest.mark.django_db


def notices(kind: str) -> list[tuple[int, dict]]:
    return list(Notice.objects.filter(kind=kind).order_by("pk").values_list("user_id", "params"))


def delete(api: Api, path: str):
    return api.send("DELETE", path)


def pay(world, enrollment: Enrollment, amount: int, method: str = "cash", reference: str = "") -> Payment:
    return services.payment_record(
        scope=world["scope"],
        staff=world["desk"],
        enrollment_id=enrollment.pk,
        method=method,
        amount_fen=amount,
        reference=reference,
    )


# --- enrolment and the waiting list ---------------------------------------------------------------


def test_enrol_gets_a_seat_then_a_waiting_list_place_with_its_position(course_world, course):
    people = course_world["residents"]  # capacity 2, waiting list 3
    answers = []
    for person in people:
        response = resident_api(person.user).post(f"/programs/{course.pk}/enrollments")
        assert response.status_code == 201, response.content
        [row] = response.json()
        answers.append((row["status"], row["position"], row["participant"], row["price_fen"]))
    assert answers == [
        ("confirmed", None, "张三", 8000),
        ("confirmed", None, "张三", 8000),
        ("waitlisted", 1, "张三", 8000),
        ("waitlisted", 2, "张三", 8000),
    ]
    assert counters(course) == (2, 2)
    assert waiting(course) == [(1, people[2].pk), (2, people[3].pk)]
    assert [u for u, _ in notices("programs.enrolled")] == [people[0].user_id, people[1].user_id]
    assert [(u, p["position"]) for u, p in notices("programs.waitlisted")] == [
        (people[2].user_id, "1"),
        (people[3].user_id, "2"),
    ]
    mine = resident_api(people[3].user).get("/me/enrollments").json()
    assert [(e["program_id"], e["status"], e["position"]) for e in mine] == [(course.pk, "waitlisted", 2)]
    public = Api().get(f"/programs/{course.pk}").json()
    assert (public["seats_left"], public["waitlist_count"], public["discount_fen"]) == (0, 2, 32000)
    assert len(public["sessions"]) == 4
    event = AuditEvent.objects.filter(action="programs.enrollment.created").order_by("pk").last()
    assert event.actor == people[3].user and event.data["statuses"] == ["waitlisted"]


def test_leaving_the_waiting_list_keeps_the_positions_gap_free(course_world, course):
    people = [*course_world["residents"], *neighbours(course_world, 1)]
    made = [enrol(p, course)[0] for p in people]  # 2 seats, positions 1, 2, 3
    assert waiting(course) == [(1, people[2].pk), (2, people[3].pk), (3, people[4].pk)]

    response = delete(resident_api(people[3].user), f"/me/enrollments/{made[3].pk}")
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["position"]) == ("cancelled", None)
    assert waiting(course) == [(1, people[2].pk), (2, people[4].pk)]
    assert counters(course) == (2, 2)

    services.enrollment_cancel(user=people[2].user, enrollment_id=made[2].pk)
    assert waiting(course) == [(1, people[4].pk)]
    # Nobody was promoted: only seats promote, and no seat freed.
    assert Enrollment.objects.filter(program=course, status="confirmed").count() == 2
    assert not notices("programs.promoted")

    newcomer = neighbours(course_world, 1)[0]
    assert enrol(newcomer, course)[0].position == 2
    rows_agree(course)


def test_cancelling_a_seat_refunds_and_promotes_the_next_in_line(course_world, course):
    people = course_world["residents"]
    made = [enrol(p, course)[0] for p in people]
    pay(course_world, made[0], 8000)
    assert Enrollment.objects.get(pk=made[0].pk).paid_fen == 8000

    response = delete(resident_api(people[0].user), f"/me/enrollments/{made[0].pk}")
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["paid_fen"]) == ("cancelled", 0)
    ledger = list(
        Payment.objects.filter(enrollment=made[0]).values_list("kind", "amount_fen", "method", "reason")
    )
    assert ledger == [("charge", 8000, "cash", ""), ("refund", 8000, "cash", "cancelled by the resident")]
    promoted = Enrollment.objects.get(pk=made[2].pk)
    assert (promoted.status, promoted.position) == ("confirmed", None) and promoted.confirmed_at
    assert waiting(course) == [(1, people[3].pk)]
    assert counters(course) == (2, 1)
    assert [u for u, _ in notices("programs.promoted")] == [people[2].user_id]
    assert AuditEvent.objects.filter(action="programs.payment.refunded", object_id=str(made[0].pk)).exists()
    rows_agree(course)


def test_a_seat_cannot_be_cancelled_after_the_cut_off(course_world):
    program = publish(course_world, cancel_cutoff_hours=24)
    [mine] = enrol(course_world["residents"][0], program)
    first = program.sessions.order_by("starts_at").first().starts_at
    with unchanged(), pytest.raises(errors.CancelCutoffPassed):
        services.enrollment_cancel(
            user=course_world["residents"][0].user,
            enrollment_id=mine.pk,
            now=first - dt.timedelta(hours=23),
        )
    done = services.enrollment_cancel(
        user=course_world["residents"][0].user, enrollment_id=mine.pk, now=first - dt.timedelta(hours=25)
    )
    assert done.status == "cancelled"


# --- offers ---------------------------------------------------------------------------------------


def test_offer_mode_offers_the_seat_then_accepting_confirms_it(course_world):
    program = publish(course_world, promotion="offer", offer_hours=12)
    people = course_world["residents"]
    made = [enrol(p, program)[0] for p in people]
    now = timezone.now()
    services.enrollment_cancel(user=people[0].user, enrollment_id=made[0].pk, now=now)
    offered = Enrollment.objects.get(pk=made[2].pk)
    assert offered.status == "offered" and offered.position is None
    assert offered.offer_expires_at == now + dt.timedelta(hours=12)
    assert counters(program) == (2, 1)  # the offered seat is held
    [(user, params)] = notices("programs.offered")
    assert user == people[2].user_id
    assert params["until"] == timezone.localtime(now + dt.timedelta(hours=12)).strftime("%Y-%m-%d %H:%M")

    # Someone else cannot accept it; its holder can.
    assert_error(
        resident_api(people[3].user).post(f"/me/enrollments/{made[2].pk}/accept"), 404, "enrollment_not_found"
    )
    response = resident_api(people[2].user).post(f"/me/enrollments/{made[2].pk}/accept")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "confirmed"
    assert counters(program) == (2, 1)
    assert_error(resident_api(people[2].user).post(f"/me/enrollments/{made[2].pk}/accept"), 409, "no_offer")
    rows_agree(program)


def test_an_offer_not_accepted_in_time_goes_to_the_next_in_line(course_world):
    program = publish(course_world, promotion="offer", offer_hours=12)
    people = [*course_world["residents"], *neighbours(course_world, 1)]
    made = [enrol(p, program)[0] for p in people]  # seats 0, 1; waiting 2, 3, 4
    now = timezone.now()
    services.enrollment_cancel(user=people[1].user, enrollment_id=made[1].pk, now=now)
    assert Enrollment.objects.get(pk=made[2].pk).status == "offered"

    assert services.offers_expire(now=now + dt.timedelta(hours=11)) == 0
    with pytest.raises(errors.NoOffer):  # at the deadline the offer has lapsed
        services.offer_accept(user=people[2].user, enrollment_id=made[2].pk, now=now + dt.timedelta(hours=12))
    assert services.offers_expire(now=now + dt.timedelta(hours=12)) == 1
    lapsed, nxt = Enrollment.objects.get(pk=made[2].pk), Enrollment.objects.get(pk=made[3].pk)
    assert (lapsed.status, lapsed.ended_at) == ("expired", now + dt.timedelta(hours=12))
    assert (nxt.status, nxt.offer_expires_at) == ("offered", now + dt.timedelta(hours=24))
    assert waiting(program) == [(1, people[4].pk)]
    assert counters(program) == (2, 1)
    assert [u for u, _ in notices("programs.offer_expired")] == [people[2].user_id]
    assert [u for u, _ in notices("programs.offered")] == [people[2].user_id, people[3].user_id]
    assert services.offers_expire(now=now + dt.timedelta(hours=12)) == 0  # once
    rows_agree(program)


# --- the opening draw -----------------------------------------------------------------------------


def test_the_opening_draw_assigns_seats_waiting_places_and_no_place(course_world):
    now = timezone.now()
    program = publish(course_world, fair_seconds=60, enroll_opens_at=now - dt.timedelta(seconds=10))
    people = [*course_world["residents"], *neighbours(course_world, 2)]
    for p in people:
        response = resident_api(p.user).post(f"/programs/{program.pk}/enrollments")
        assert response.status_code == 201, response.content
        [row] = response.json()
        assert (row["status"], row["position"]) == ("requested", None)
        assert abs(dt.datetime.fromisoformat(row["draw_at"]) - program.fair_until) < dt.timedelta(
            milliseconds=1
        )
    assert counters(program) == (0, 0)
    assert not Notice.objects.exclude(kind="programs.approved").exists()  # nobody is told before the draw

    assert services.draw_run(program_id=program.pk, now=program.fair_until - dt.timedelta(seconds=1)) is None
    draw = services.draw_run(program_id=program.pk, now=program.fair_until)
    assert draw is not None and len(draw.entrants) == 6
    key = {party: services.draw_key(draw.seed, party) for _, party in draw.entrants}
    expected = [eid for eid, party in sorted(draw.entrants, key=lambda e: key[e[1]])]
    assert draw.order == expected
    assert draw.outcome == {
        "confirmed": expected[:2],
        "waitlisted": expected[2:5],
        "unsuccessful": expected[5:],
    }
    statuses = dict(Enrollment.objects.filter(program=program).values_list("pk", "status"))
    assert [statuses[e] for e in expected] == ["confirmed"] * 2 + ["waitlisted"] * 3 + ["unsuccessful"]
    positions = dict(Enrollment.objects.filter(program=program).values_list("pk", "position"))
    assert [positions[e] for e in expected[2:5]] == [1, 2, 3]
    assert counters(program) == (2, 3)
    assert program.draw_done_at == program.fair_until
    assert len(notices("programs.draw_won")) == 2 and len(notices("programs.draw_lost")) == 1
    assert sorted(p["position"] for _, p in notices("programs.draw_waitlisted")) == ["1", "2", "3"]

    replay = services.draw_replay(
        draw,
        capacity=program.capacity,
        waitlist_size=program.waitlist_size,
        commitment=program.draw_seed_sha256,
    )
    # The seed is the one committed to when the course was proposed (its SHA-256 was public).
    assert replay.seed_matches_commitment is True
    assert program.draw_seed_sha256 == hashlib.sha256(draw.seed.encode()).hexdigest()
    assert not services.draw_replay(
        draw, capacity=2, waitlist_size=3, commitment="0" * 64
    ).seed_matches_commitment
    assert replay.order_matches and replay.outcome_matches and replay.order == expected
    draw.order = list(reversed(draw.order))
    assert not services.draw_replay(draw, capacity=2, waitlist_size=3).order_matches
    draw.refresh_from_db()
    draw.outcome = {**draw.outcome, "confirmed": expected[1:3], "waitlisted": [expected[0], *expected[3:5]]}
    assert not services.draw_replay(draw, capacity=2, waitlist_size=3).outcome_matches

    body = staff_api(course_world["desk"]).get(f"/staff/programs/{program.pk}/draw").json()
    assert body["order"] == expected and body["order_matches"] and body["outcome_matches"]
    assert body["keys"] == key and body["seed"] == Draw.objects.get().seed

    # It runs once.
    assert services.draw_run(program_id=program.pk, now=program.fair_until + dt.timedelta(hours=1)) is None
    assert Draw.objects.count() == 1
    rows_agree(program)


def test_a_request_after_the_window_draws_first_then_is_served(course_world):
    now = timezone.now()
    program = publish(course_world, fair_seconds=60, enroll_opens_at=now - dt.timedelta(seconds=10))
    early = course_world["residents"][:3]
    for p in early:
        assert enrol(p, program, now=now)[0].status == "requested"
    late = course_world["residents"][3]
    [served] = enrol(late, program, now=program.fair_until + dt.timedelta(seconds=1))
    draw = Draw.objects.get(program=program)
    assert [eid for eid, _ in draw.entrants] == sorted(
        Enrollment.objects.filter(resident__in=early).values_list("pk", flat=True)
    )
    assert (served.status, served.position) == ("waitlisted", 2)  # after the drawn 2 seats and place 1
    assert counters(program) == (2, 2)
    rows_agree(program)


def test_no_draw_when_nobody_asked_in_the_window(course_world):
    now = timezone.now()
    program = publish(course_world, fair_seconds=60, enroll_opens_at=now - dt.timedelta(seconds=90))
    [served] = enrol(course_world["residents"][0], program, now=now)
    assert served.status == "confirmed"
    draw = Draw.objects.get(program=program)
    assert (draw.entrants, draw.order) == ([], [])


# --- groups and the audience ----------------------------------------------------------------------


def test_a_resident_enrols_with_their_family(course_world):
    program = publish(course_world, capacity=2, waitlist_size=3)
    parent = course_world["residents"][0]
    api = resident_api(parent.user)
    kids = []
    for name, born in (("张小明", "2018-05-01"), ("张小红", "2020-02-02")):
        response = api.post("/me/dependants", {"name": name, "birth_date": born, "relation": "child"})
        assert response.status_code == 201, response.content
        kids.append(response.json()["id"])
    response = api.post(f"/programs/{program.pk}/enrollments", {"include_self": True, "dependant_ids": kids})
    assert response.status_code == 201, response.content
    rows = response.json()
    assert [(r["participant"], r["dependant_id"], r["status"], r["position"]) for r in rows] == [
        ("张三", None, "confirmed", None),
        ("张小明", kids[0], "confirmed", None),
        ("张小红", kids[1], "waitlisted", 1),
    ]
    assert len({e.party for e in Enrollment.objects.filter(program=program)}) == 1
    # The same child again is refused; another resident's child is not found.
    assert_error(
        api.post(f"/programs/{program.pk}/enrollments", {"include_self": False, "dependant_ids": [kids[0]]}),
        409,
        "already_enrolled",
    )
    other = resident_api(course_world["residents"][1].user)
    assert_error(
        other.post(
            f"/programs/{program.pk}/enrollments", {"include_self": False, "dependant_ids": [kids[1]]}
        ),
        404,
        "dependant_not_found",
    )
    # A family member leaves the list: the enrolment stays.
    assert delete(api, f"/me/dependants/{kids[0]}").status_code == 204
    assert Enrollment.objects.get(dependant_id=kids[0]).status == "confirmed"
    assert [d["id"] for d in api.get("/me/dependants").json()] == [kids[1]]
    rows_agree(program)


def test_the_age_band_is_the_participants_age_on_the_first_session(course_world):
    first = in_days(3)
    program = publish(course_world, category="childcare", min_age=3, max_age=6)
    parent = course_world["residents"][0]  # born 1990
    day = timezone.localtime(first).date()
    four = dependant_add(
        user=parent.user, name="张小明", birth_date=day.replace(year=day.year - 4), relation="child"
    )
    turns_three_after = dependant_add(
        user=parent.user,
        name="张小红",
        birth_date=day.replace(year=day.year - 3) + dt.timedelta(days=1),
        relation="child",
    )
    with unchanged(), pytest.raises(errors.NotInAudience) as caught:
        enrol(parent, program)
    assert "6" in caught.value.message
    with unchanged(), pytest.raises(errors.NotInAudience):
        enrol(parent, program, include_self=False, dependant_ids=[turns_three_after.pk])
    with unchanged(), pytest.raises(errors.NotInAudience):  # one of the party is enough to refuse
        enrol(parent, program, include_self=False, dependant_ids=[four.pk, turns_three_after.pk])
    [made] = enrol(parent, program, include_self=False, dependant_ids=[four.pk])
    assert (made.dependant, made.status) == (four, "confirmed")


def test_the_audience_by_community_and_by_verified_group(course_world, place):
    c1 = place["communities"][0]
    program = publish(course_world, community_ids=[c1.pk], eligibility_kinds=["low_income"], capacity=5)
    insider, other = course_world["residents"][:2]
    with unchanged(), pytest.raises(errors.NotInAudience) as caught:
        enrol(course_world["outsider"], program)
    assert c1.name in caught.value.message
    with unchanged(), pytest.raises(errors.NotInAudience):
        enrol(insider, program)  # not verified as low income
    verify = dict(kind="low_income", verified_by=course_world["desk"])
    EligibilityVerification.objects.create(resident=insider, **verify)
    EligibilityVerification.objects.create(
        resident=other, valid_until=timezone.localdate() - dt.timedelta(days=1), **verify
    )
    EligibilityVerification.objects.create(resident=other, revoked_at=timezone.now(), **verify)
    assert enrol(insider, program)[0].status == "confirmed"
    with unchanged(), pytest.raises(errors.NotInAudience):
        enrol(other, program)  # an expired and a revoked verification do not count


# --- limits and cancellations by staff ------------------------------------------------------------


def test_more_seats_go_to_the_waiting_list_at_once(course_world, course):
    people = [*course_world["residents"], *neighbours(course_world, 1)]
    made = [enrol(p, course)[0] for p in people]
    desk = staff_api(course_world["desk"])
    response = desk.send("PATCH", f"/staff/programs/{course.pk}", {"capacity": 4})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["capacity"], body["seats_left"], body["confirmed"], body["waitlisted"]) == (4, 0, 4, 1)
    assert [Enrollment.objects.get(pk=e.pk).status for e in made] == ["confirmed"] * 4 + ["waitlisted"]
    assert waiting(course) == [(1, people[4].pk)]
    assert [u for u, _ in notices("programs.promoted")] == [people[2].user_id, people[3].user_id]
    # A longer waiting list, then a shorter one down to who waits.
    assert (
        desk.send("PATCH", f"/staff/programs/{course.pk}", {"waitlist_size": 10}).json()["waitlist_size"]
        == 10
    )
    assert (
        desk.send("PATCH", f"/staff/programs/{course.pk}", {"waitlist_size": 1}).json()["waitlist_size"] == 1
    )
    event = AuditEvent.objects.filter(action="programs.program.limits_set").order_by("pk").first()
    assert event.data["before"] == {"capacity": 2, "waitlist_size": 3} and event.data["capacity"] == 4
    rows_agree(course)


def test_cancelling_a_program_refunds_tells_everyone_and_frees_the_spaces(course_world, course):
    people = course_world["residents"]
    made = [enrol(p, course)[0] for p in people]
    pay(course_world, made[0], 8000)
    pay(course_world, made[1], 3000)
    bookings = list(course.sessions.values_list("booking_id", flat=True))
    assert Booking.objects.filter(pk__in=bookings, status="confirmed", kind="program").count() == 4
    response = staff_api(course_world["desk"]).post(
        f"/staff/programs/{course.pk}/cancel", {"reason": "老师生病"}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["cancel_reason"], body["seats_left"], body["waitlist_count"]) == (
        "cancelled",
        "老师生病",
        2,
        0,
    )
    assert set(Enrollment.objects.filter(program=course).values_list("status", "position", "paid_fen")) == {
        ("cancelled", None, 0)
    }
    refunds = sorted(Payment.objects.filter(kind="refund").values_list("enrollment_id", "amount_fen"))
    assert refunds == [(made[0].pk, 8000), (made[1].pk, 3000)]
    assert sorted(u for u, _ in notices("programs.cancelled")) == sorted(p.user_id for p in people)
    assert set(Booking.objects.filter(pk__in=bookings).values_list("status", flat=True)) == {"cancelled"}
    assert set(course.sessions.values_list("status", flat=True)) == {"cancelled"}
    assert counters(course) == (0, 0)
    # Residents still see it (cancelled), and cannot enrol any more.
    assert Api().get(f"/programs/{course.pk}").json()["status"] == "cancelled"
    assert course.pk not in [p["id"] for p in Api().get("/programs").json()]
    newcomer = neighbours(course_world, 1)[0]
    assert_error(
        resident_api(newcomer.user).post(f"/programs/{course.pk}/enrollments"), 409, "program_cancelled"
    )


def test_cancelling_one_session_refunds_its_share_and_frees_its_space(course_world, course):
    people = course_world["residents"]
    made = [enrol(p, course)[0] for p in people]
    pay(course_world, made[0], 8000)  # a quarter back: 2000
    pay(course_world, made[1], 1000)  # less than a quarter paid: all of it back
    session = course.sessions.order_by("starts_at")[1]
    response = staff_api(course_world["desk"]).post(
        f"/staff/sessions/{session.pk}/cancel", {"reason": "停电"}
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled"
    session.refresh_from_db()
    assert (session.status, session.cancel_reason) == ("cancelled", "停电")
    assert Booking.objects.get(pk=session.booking_id).status == "cancelled"
    other_bookings = course.sessions.exclude(pk=session.pk).values_list("booking_id", flat=True)
    assert set(Booking.objects.filter(pk__in=other_bookings).values_list("status", flat=True)) == {
        "confirmed"
    }
    assert sorted(Payment.objects.filter(kind="refund").values_list("enrollment_id", "amount_fen")) == [
        (made[0].pk, 2000),
        (made[1].pk, 1000),
    ]
    assert dict(Enrollment.objects.filter(pk__in=[made[0].pk, made[1].pk]).values_list("pk", "paid_fen")) == {
        made[0].pk: 6000,
        made[1].pk: 0,
    }
    # The seat holders are told; those waiting are not.
    assert sorted(u for u, _ in notices("programs.session_cancelled")) == sorted(
        [people[0].user_id, people[1].user_id]
    )
    assert Api().get(f"/programs/{course.pk}").json()["session_count"] == 3
    assert_error(
        staff_api(course_world["desk"]).post(f"/staff/sessions/{session.pk}/cancel", {"reason": "x"}),
        409,
        "session_cancelled",
    )


# --- attendance and ratings -----------------------------------------------------------------------


def test_a_kiosk_checks_in_the_holder_and_their_enrolled_family(course_world):
    program, before = today_program(course_world)
    parent, other, stranger = course_world["residents"][:3]
    kid = dependant_add(user=parent.user, name="张小明", birth_date=dt.date(2018, 5, 1), relation="child")
    grandma = dependant_add(
        user=parent.user, name="李奶奶", birth_date=dt.date(1950, 5, 1), relation="parent"
    )
    mine = enrol(parent, program, dependant_ids=[kid.pk], now=before)
    enrol(other, program, now=before)
    session = program.sessions.order_by("starts_at").first()
    device, secret = f.device_for(course_world["center"])
    kiosk = DeviceApi(device.key_id, secret)

    response = kiosk.post(
        f"/sessions/{session.pk}/attendance", {"token": resident_pass_issue(user=parent.user).token}
    )
    assert response.status_code == 200, response.content
    assert sorted((a["enrollment_id"], a["present"], a["via"]) for a in response.json()) == [
        (mine[0].pk, True, "device"),
        (mine[1].pk, True, "device"),
    ]
    assert sorted(a["participant"] for a in response.json()) == ["张*", "张**"]
    assert Attendance.objects.filter(session=session).count() == 2
    assert PassUse.objects.get().device == device
    event = AuditEvent.objects.get(action="programs.attendance.checked_in")
    assert event.data == {"enrollments": [mine[0].pk, mine[1].pk]}
    assert (event.actor_kind, event.actor_label) == ("device", f"device:{device.pk}")
    # A new pass again is harmless; grandma was never enrolled and is not checked in.
    again = kiosk.post(
        f"/sessions/{session.pk}/attendance", {"token": resident_pass_issue(user=parent.user).token}
    )
    assert again.status_code == 200 and Attendance.objects.count() == 2
    assert not Attendance.objects.filter(enrollment__dependant=grandma).exists()
    # Someone not enrolled: refused, and the pass is not used up.
    with unchanged(ignore=("RequestNonce",)):
        refused = kiosk.post(
            f"/sessions/{session.pk}/attendance", {"token": resident_pass_issue(user=stranger.user).token}
        )
    assert_error(refused, 404, "not_enrolled")
    # The roster shows who came.
    roster = staff_api(course_world["desk"]).get(f"/staff/sessions/{session.pk}/roster").json()
    assert [(r["participant_masked"], r["present"], r["dependant"]) for r in roster] == [
        ("张*", True, False),
        ("张**", True, True),
        ("张*", None, False),
    ]


def test_staff_mark_attendance_and_residents_rate_after_taking_part(course_world):
    program, before = today_program(course_world)
    a, b, c = course_world["residents"][:3]
    ea, eb, ec = (enrol(p, program, now=before)[0] for p in (a, b, c))
    session = program.sessions.order_by("starts_at").first()
    rater = resident_api(a.user)
    # Before taking part a rating is refused.
    with unchanged():
        assert_error(rater.post(f"/me/enrollments/{ea.pk}/rating", {"rating": 5}), 409, "rating_not_open")
    desk = staff_api(course_world["desk"])
    marks = {"marks": [{"enrollment_id": ea.pk, "present": True}, {"enrollment_id": eb.pk, "present": False}]}
    response = desk.post(f"/staff/sessions/{session.pk}/attendance", marks)
    assert response.status_code == 200, response.content
    assert [(x["enrollment_id"], x["present"], x["via"]) for x in response.json()] == [
        (ea.pk, True, "staff"),
        (eb.pk, False, "staff"),
    ]
    # Marking again changes the mark, never adds a row.
    response = desk.post(
        f"/staff/sessions/{session.pk}/attendance", {"marks": [{"enrollment_id": eb.pk, "present": True}]}
    )
    assert response.status_code == 200
    assert dict(Attendance.objects.values_list("enrollment_id", "present")) == {ea.pk: True, eb.pk: True}
    assert Attendance.objects.get(enrollment=eb).marked_by == course_world["desk"]

    # Figures count the sessions held by then (the first one is today 00:30, so not before it).
    after = session.ends_at + dt.timedelta(minutes=1)
    figures = selectors.program_figures(program, now=after)
    assert (figures.sessions_held, figures.present, figures.no_shows) == (1, 2, 1)
    assert figures.attendance_rate == pytest.approx(2 / 3)
    assert [
        (e.pk, missed) for e, missed in selectors.no_show_list(course_world["scope"], program, now=after)
    ] == [(ec.pk, 1)]

    response = resident_api(a.user).post(
        f"/me/enrollments/{ea.pk}/rating", {"rating": 5, "comment": " 很好 "}
    )
    assert response.status_code == 200, response.content
    assert response.json()["rating"] == 5
    ea.refresh_from_db()
    assert (ea.rating, ea.rating_comment) == (5, "很好")
    with unchanged():
        assert_error(rater.post(f"/me/enrollments/{ea.pk}/rating", {"rating": 1}), 409, "already_rated")
    staff_view = desk.get(f"/staff/programs/{program.pk}").json()
    assert (staff_view["ratings"], staff_view["rating_average"], staff_view["confirmed"]) == (1, 5.0, 3)
    assert staff_view["attendance_rate"] == pytest.approx(2 / 3)


# --- payments -------------------------------------------------------------------------------------


def test_payments_cash_external_and_never_above_the_price(course_world, course):
    [e] = enrol(course_world["residents"][0], course)
    desk = staff_api(course_world["desk"])
    path = f"/staff/enrollments/{e.pk}/payments"
    response = desk.post(path, {"method": "cash", "amount_fen": 3000})
    assert response.status_code == 201, response.content
    assert {k: response.json()[k] for k in ("kind", "amount_fen", "method", "reference")} == {
        "kind": "charge",
        "amount_fen": 3000,
        "method": "cash",
        "reference": "",
    }
    with unchanged():
        assert_error(
            desk.post(path, {"method": "external", "amount_fen": 1000}), 400, "payment_invalid", "reference"
        )
        assert_error(
            desk.post(path, {"method": "external", "amount_fen": 1000, "reference": "  "}),
            400,
            "payment_invalid",
        )
        assert_error(
            desk.post(path, {"method": "wechat", "amount_fen": 1000}), 400, "payment_invalid", "method"
        )
        assert_error(
            desk.post(path, {"method": "cash", "amount_fen": 5001}), 400, "payment_invalid", "amount_fen"
        )
    response = desk.post(path, {"method": "external", "amount_fen": 5000, "reference": "WX4200001234"})
    assert response.status_code == 201 and response.json()["reference"] == "WX4200001234"
    e.refresh_from_db()
    assert e.paid_fen == 8000
    with unchanged():
        assert_error(
            desk.post(path, {"method": "cash", "amount_fen": 1}), 400, "payment_invalid", "amount_fen"
        )
    # Each part goes back the way it came: the external payment by its reference, the cash at the
    # desk; the newest first.
    services.enrollment_cancel(user=course_world["residents"][0].user, enrollment_id=e.pk)
    refunds = list(Payment.objects.filter(kind="refund").values_list("amount_fen", "method", "reference"))
    assert refunds == [(5000, "external", "refund-of:WX4200001234"), (3000, "cash", "")]
    assert Enrollment.objects.get(pk=e.pk).paid_fen == 0


def test_a_partial_refund_then_a_full_one_give_back_each_payment_once(course_world, course):
    [e] = enrol(course_world["residents"][0], course)
    pay(course_world, e, 3000)
    pay(course_world, e, 5000, method="external", reference="WX1")
    session = course.sessions.order_by("starts_at").last()
    services.session_cancel(
        scope=course_world["scope"], staff=course_world["desk"], session_id=session.pk, reason="停电"
    )
    # A quarter of the fee (2000) from the newest payment; then the rest of each when the course goes.
    services.program_cancel(
        scope=course_world["scope"], staff=course_world["desk"], program_id=course.pk, reason="停办"
    )
    refunds = list(
        Payment.objects.filter(kind="refund").order_by("pk").values_list("amount_fen", "method", "reason")
    )
    assert refunds == [(2000, "external", "停电"), (3000, "external", "停办"), (3000, "cash", "停办")]
    assert Enrollment.objects.get(pk=e.pk).paid_fen == 0
    assert AuditEvent.objects.filter(action="programs.payment.refunded").count() == 3


def test_a_free_course_takes_no_payment_and_a_waiting_place_is_not_paid_for(course_world):
    free = publish(course_world, market_price_fen=0, price_fen=0, capacity=1)
    first, second = (enrol(p, free)[0] for p in course_world["residents"][:2])
    with unchanged():
        with pytest.raises(errors.PaymentInvalid):
            pay(course_world, first, 100)
        with pytest.raises(errors.PaymentInvalid) as caught:
            pay(course_world, second, 100)
    assert caught.value.field == "enrollment_id"


# --- talents --------------------------------------------------------------------------------------


def test_a_talent_applies_is_approved_and_proposes_a_course(course_world, place):
    person = course_world["residents"][0]
    me = resident_api(person.user)
    assert_error(me.get("/me/talent"), 404, "talent_not_found")
    response = me.post("/me/talent", {"kind": "arts", "skills": "剪纸、书法", "bio": "退休美术老师"})
    assert response.status_code == 201, response.content
    talent_id = response.json()["id"]
    assert response.json()["status"] == "pending"
    assert_error(
        me.post("/me/talent", {"kind": "arts", "skills": "剪纸", "bio": "x"}), 409, "talent_application_open"
    )

    desk = staff_api(course_world["desk"])
    assert [t["id"] for t in desk.get("/staff/talents", status="pending").json()] == [talent_id]
    assert_error(
        desk.post(f"/staff/talents/{talent_id}/decision", {"approve": False}), 400, "reason_required"
    )
    response = desk.post(f"/staff/talents/{talent_id}/decision", {"approve": True})
    assert response.status_code == 200 and response.json()["status"] == "approved"
    assert [u for u, _ in notices("programs.talent_approved")] == [person.user_id]
    assert_error(
        desk.post(f"/staff/talents/{talent_id}/decision", {"approve": True}), 409, "talent_not_pending"
    )

    # Neighbours see the talent; a resident of another community does not.
    assert [t["id"] for t in resident_api(course_world["residents"][1].user).get("/talents").json()] == [
        talent_id
    ]
    assert resident_api(course_world["outsider"].user).get("/talents").json() == []

    start = in_days(5)
    body = {
        "center_id": course_world["center"].pk,
        "title": "剪纸入门",
        "category": "heritage",
        "capacity": 10,
        "market_price_fen": 10000,
        "price_fen": 2000,
        "enroll_opens_at": timezone.now().isoformat(),
        "fair_seconds": 0,
        "sessions": [
            {
                "space_id": course_world["hall"].pk,
                "starts_at": start.isoformat(),
                "ends_at": (start + dt.timedelta(hours=2)).isoformat(),
            }
        ],
    }
    response = me.post("/me/talent/programs", body)
    assert response.status_code == 201, response.content
    proposed = response.json()
    assert (proposed["status"], proposed["provider"], proposed["provider_name"]) == (
        "pending",
        "talent",
        "张*",
    )
    program = Program.objects.get(pk=proposed["id"])
    assert program.talent_id == talent_id and program.proposed_by == person.user
    # Not public until approved.
    assert_error(Api().get(f"/programs/{program.pk}"), 404, "program_not_found")
    assert desk.post(f"/staff/programs/{program.pk}/approve").json()["status"] == "published"
    assert [u for u, _ in notices("programs.approved")] == [person.user_id]
    assert Api().get(f"/programs/{program.pk}").json()["provider"] == "talent"
    # A talent proposes only at their own community's center.
    other_center = {**body, "center_id": place["centers"][1].pk}
    with unchanged():
        assert_error(me.post("/me/talent/programs", other_center), 404, "center_not_found")
    # Withdrawing ends the talent's right to propose.
    assert delete(me, "/me/talent").json()["status"] == "withdrawn"
    with unchanged():
        assert_error(me.post("/me/talent/programs", body), 403, "not_an_approved_talent")


def test_a_refused_talent_and_a_refused_program(course_world):
    person = course_world["residents"][0]
    talent = services.talent_apply(user=person.user, kind="professional", skills="育婴", bio="育婴师")
    services.talent_decide(
        scope=course_world["scope"],
        staff=course_world["desk"],
        talent_id=talent.pk,
        approve=False,
        reason="材料不全",
    )
    assert Talent.objects.get().status == "rejected"
    [(user, params)] = notices("programs.talent_rejected")
    assert user == person.user_id and params["reason"] == "材料不全"
    assert resident_api(person.user).get("/me/talent").json()["decision_reason"] == "材料不全"
    # Refused, they may apply again.
    assert (
        services.talent_apply(user=person.user, kind="professional", skills="育婴", bio="育婴师").status
        == "pending"
    )

    program = services.program_propose(
        actor=course_world["desk"], scope=course_world["scope"], draft=draft(course_world)
    )
    response = staff_api(course_world["desk"]).post(
        f"/staff/programs/{program.pk}/reject", {"reason": "时间冲突"}
    )
    assert response.status_code == 200 and response.json()["status"] == "rejected"
    assert response.json()["decision_reason"] == "时间冲突"
    assert not Booking.objects.exists()
    assert_error(
        resident_api(person.user).post(f"/programs/{program.pk}/enrollments"), 404, "program_not_found"
    )


# --- reminders and the clock ----------------------------------------------------------------------


def test_reminders_go_once_to_everyone_enrolled_a_day_ahead(course_world, course):
    parent = course_world["residents"][0]
    kid = dependant_add(user=parent.user, name="张小明", birth_date=dt.date(2015, 5, 1), relation="child")
    enrol(parent, course, dependant_ids=[kid.pk])  # both seats
    enrol(course_world["residents"][1], course)  # waiting: no reminder
    first = course.sessions.order_by("starts_at").first()
    assert services.reminders_send(now=first.starts_at - dt.timedelta(hours=25)) == 0
    assert services.reminders_send(now=first.starts_at - dt.timedelta(hours=23)) == 2
    assert sorted(p["who"] for _, p in notices("programs.reminder")) == ["张三", "张小明"]
    assert {u for u, _ in notices("programs.reminder")} == {parent.user_id}
    first.refresh_from_db()
    assert first.reminded_at == first.starts_at - dt.timedelta(hours=23)
    assert services.reminders_send(now=first.starts_at - dt.timedelta(hours=22)) == 0
    assert ProgramSession.objects.filter(reminded_at__isnull=False).count() == 1


def test_the_clock_runs_draws_expires_offers_and_reminds(course_world):
    now = timezone.now()
    drawn = publish(
        course_world, fair_seconds=60, enroll_opens_at=now - dt.timedelta(seconds=10), title="剪纸"
    )
    offering = publish(
        course_world,
        promotion="offer",
        offer_hours=1,
        cancel_cutoff_hours=0,
        title="舞蹈",
        sessions=[
            services.SessionDraft(
                course_world["hall"].pk, now + dt.timedelta(hours=20), now + dt.timedelta(hours=22)
            )
        ],
    )
    people = course_world["residents"]
    enrol(people[0], drawn, now=now)
    made = [enrol(p, offering, now=now)[0] for p in people[:3]]
    services.enrollment_cancel(user=people[0].user, enrollment_id=made[0].pk, now=now)
    assert Enrollment.objects.get(pk=made[2].pk).status == "offered"

    later = now + dt.timedelta(hours=2)
    result = services.programs_tick(now=later)
    assert result == services.TickResult(draws=1, offers_expired=1, reminders=1)
    assert Enrollment.objects.get(program=drawn).status == "confirmed"
    assert Enrollment.objects.get(pk=made[2].pk).status == "expired"
    assert [u for u, p in notices("programs.reminder")] == [people[1].user_id]
    assert services.programs_tick(now=later) == services.TickResult(draws=0, offers_expired=0, reminders=0)


# --- spaces: a course and a room booking never collide --------------------------------------------


def bookable_classroom(world) -> list[Resource]:
    classroom = world["classroom"]
    Space.objects.filter(pk=classroom.pk).update(bookable=True)
    for weekday in range(7):
        OpeningHours.objects.create(
            center=world["center"], weekday=weekday, opens=dt.time(8), closes=dt.time(22)
        )
    BookingRules.objects.create(space=classroom, horizon_days=30)
    return booking_services.space_units_set(
        scope=world["scope"], staff=world["desk"], space_id=classroom.pk, seats=2
    )


def test_approval_is_refused_when_a_session_collides_with_a_room_booking(course_world):
    seats = bookable_classroom(course_world)
    resident = course_world["residents"][0]
    third = in_days(3) + dt.timedelta(weeks=2)  # the third session of the weekly series
    booking_services.booking_create(
        user=resident.user,
        resource_id=seats[0].pk,
        starts_at=third + dt.timedelta(hours=1),
        ends_at=third + dt.timedelta(hours=2),
    )
    program = services.program_propose(
        actor=course_world["desk"], scope=course_world["scope"], draft=draft(course_world)
    )
    desk = staff_api(course_world["desk"])
    with unchanged():
        response = desk.post(f"/staff/programs/{program.pk}/approve")
    assert_error(response, 409, "slot_taken", "sessions.2")
    program.refresh_from_db()
    assert program.status == "pending" and not program.sessions.filter(booking_id__isnull=False).exists()
    assert Booking.objects.filter(kind="program").count() == 0


def test_a_resident_cannot_book_a_slot_reserved_for_a_course(course_world):
    seats = bookable_classroom(course_world)
    program = publish(course_world)
    first = program.sessions.order_by("starts_at").first()
    booking = Booking.objects.get(pk=first.booking_id)
    assert (booking.kind, booking.status, booking.whole_space, booking.space_id) == (
        "program",
        "confirmed",
        True,
        course_world["classroom"].pk,
    )
    assert (booking.starts_at, booking.ends_at, booking.purpose) == (
        first.starts_at,
        first.ends_at,
        "书法入门",
    )
    with unchanged(), pytest.raises(booking_errors.SlotTaken):
        booking_services.booking_create(
            user=course_world["residents"][0].user,
            resource_id=seats[0].pk,
            starts_at=first.starts_at,
            ends_at=first.starts_at + dt.timedelta(hours=1),
        )
    # Another course in the same room at the same time is refused at approval too.
    clash = services.program_propose(
        actor=course_world["desk"], scope=course_world["scope"], draft=draft(course_world, title="国画")
    )
    with unchanged(), pytest.raises(booking_errors.SlotTaken):
        services.program_approve(scope=course_world["scope"], staff=course_world["desk"], program_id=clash.pk)
    # Once the session is cancelled the room is free again.
    services.session_cancel(
        scope=course_world["scope"], staff=course_world["desk"], session_id=first.pk, reason="调课"
    )
    made = booking_services.booking_create(
        user=course_world["residents"][0].user,
        resource_id=seats[0].pk,
        starts_at=first.starts_at,
        ends_at=first.starts_at + dt.timedelta(hours=1),
    )
    assert made.status == "confirmed"


# --- browsing and totals --------------------------------------------------------------------------


def test_the_public_list_filters(course_world, place):
    other_center = place["centers"][1]
    other_room = f.SpaceFactory(center=other_center, name="活动室")
    desk2 = f.staff_with_role("center_staff", center=other_center)
    from livingroom.people.scopes import staff_scope

    world2 = {
        **course_world,
        "center": other_center,
        "classroom": other_room,
        "desk": desk2,
        "scope": staff_scope(desk2),
    }
    soon = publish(course_world, title="书法", price_fen=0, market_price_fen=0)  # in 3 days, free
    later = publish(
        course_world,
        title="舞蹈",
        category="fitness",
        price_fen=2000,
        market_price_fen=10000,
        capacity=1,
        sessions=services.weekly_sessions(
            space_id=course_world["hall"].pk, first_starts_at=in_days(10), minutes=60, weeks=1
        ),
    )
    elsewhere = publish(world2, title="国画", category="arts", price_fen=1000, market_price_fen=5000)
    services.program_propose(
        actor=course_world["desk"], scope=course_world["scope"], draft=draft(course_world, title="待审")
    )
    enrol(course_world["residents"][0], later)  # full now

    def ids(**query) -> list[int]:
        response = Api().get("/programs", **query)
        assert response.status_code == 200, response.content
        return [p["id"] for p in response.json()]

    today = timezone.localdate()
    assert ids() == [soon.pk, elsewhere.pk, later.pk]
    assert ids(center=course_world["center"].pk) == [soon.pk, later.pk]
    assert ids(category="fitness") == [later.pk]
    assert ids(**{"from": str(today + dt.timedelta(days=8))}) == [
        soon.pk,
        elsewhere.pk,
        later.pk,
    ]  # series run on
    assert ids(**{"from": str(today + dt.timedelta(days=25))}) == []
    assert ids(**{"to": str(today + dt.timedelta(days=4))}) == [soon.pk, elsewhere.pk]
    # A course is listed for the days it runs over: the weekly ones (days 3 to 24) on day 10 too.
    assert ids(**{"to": str(today + dt.timedelta(days=9))}) == [soon.pk, elsewhere.pk]
    assert ids(**{"from": str(today + dt.timedelta(days=11))}) == [soon.pk, elsewhere.pk]
    day10 = str(today + dt.timedelta(days=10))
    assert ids(**{"from": day10, "to": day10}) == [soon.pk, elsewhere.pk, later.pk]
    assert ids(max_price_fen=1000) == [soon.pk, elsewhere.pk]
    assert ids(max_price_fen=0) == [soon.pk]
    assert ids(free_seats="true") == [soon.pk, elsewhere.pk]
    assert ids(q="国画") == [elsewhere.pk]
    row = next(p for p in Api().get("/programs").json() if p["id"] == later.pk)
    assert (row["seats_left"], row["discount_fen"], row["session_count"]) == (0, 8000, 1)


def test_staff_totals_fill_rate_attendance_rate_and_discount(course_world, place):
    today = timezone.localdate()
    start = today - dt.timedelta(days=20)
    then = local(start, 9)
    sessions = [
        services.SessionDraft(
            course_world["classroom"].pk,
            local(start + dt.timedelta(days=d), 19),
            local(start + dt.timedelta(days=d), 21),
        )
        for d in (1, 2, 30)
    ]
    program = services.program_propose(
        actor=course_world["desk"],
        scope=course_world["scope"],
        draft=draft(course_world, capacity=4, enroll_opens_at=then, sessions=sessions),
        now=then,
    )
    services.program_approve(
        scope=course_world["scope"], staff=course_world["desk"], program_id=program.pk, now=then
    )
    made = [enrol(p, program, now=then)[0] for p in course_world["residents"][:3]]
    held = program.sessions.order_by("starts_at")[:2]
    for session, present in zip(held, ([True, True, True], [True, True, False]), strict=True):
        services.attendance_mark(
            scope=course_world["scope"],
            staff=course_world["desk"],
            session_id=session.pk,
            marks=[services.Mark(e.pk, p) for e, p in zip(made, present, strict=True)],
            now=session.starts_at,
        )
    [row] = selectors.totals(course_world["scope"], date_from=start, date_to=today)
    assert (row.center, row.programs, row.seats_offered, row.seats_taken) == (course_world["center"], 1, 4, 3)
    assert row.fill_rate == 0.75 and row.attendance_rate == pytest.approx(5 / 6)
    assert (row.discount_fen, row.charged_fen) == (3 * 32000, 3 * 8000)

    response = staff_api(course_world["desk"]).get(
        "/staff/programs-totals", **{"from": str(start), "to": str(today)}
    )
    assert response.status_code == 200, response.content
    assert response.json() == [
        {
            "center_id": course_world["center"].pk,
            "center": course_world["center"].name,
            "programs": 1,
            "seats_offered": 4,
            "seats_taken": 3,
            "fill_rate": 0.75,
            "attendance_rate": pytest.approx(5 / 6),
            "discount_fen": 96000,
            "charged_fen": 24000,
        }
    ]
    # Outside the range, or outside the scope, nothing is counted.
    assert (
        selectors.totals(
            course_world["scope"],
            date_from=today + dt.timedelta(days=20),
            date_to=today + dt.timedelta(days=25),
        )
        == []
    )
    other = staff_api(f.staff_with_role("community_worker", community=place["communities"][2]))
    assert other.get("/staff/programs-totals", **{"from": str(start), "to": str(today)}).json() == []


def test_a_dependant_list_is_kept_per_resident(course_world):
    parent = course_world["residents"][0]
    api = resident_api(parent.user)
    assert api.get("/me/dependants").json() == []
    response = api.post("/me/dependants", {"name": "张小明", "birth_date": "2018-05-01", "relation": "child"})
    assert response.status_code == 201
    assert response.json() == {
        "id": Dependant.objects.get().pk,
        "name": "张小明",
        "birth_date": "2018-05-01",
        "relation": "child",
    }
    assert resident_api(course_world["residents"][1].user).get("/me/dependants").json() == []
    assert_error(
        delete(resident_api(course_world["residents"][1].user), f"/me/dependants/{response.json()['id']}"),
        404,
        "dependant_not_found",
    )
    assert SmsOutbox.objects.count() == 0
