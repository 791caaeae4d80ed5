"""Seats under real parallel connections (PostgreSQL; skipped on SQLite).

Each worker thread has its own database connection; a barrier releases them together. After each
rush, SQL over ``programs_enrollment`` proves the rules the database keeps: confirmed (and offered)
enrolments never exceed the seats, one active enrolment per person and program, waiting-list
positions exactly 1..n, and the program's counters equal to its rows.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from django.db import connection
from django.utils import timezone

from livingroom.core.models import AuditEvent
from livingroom.notices.models import Notice
from livingroom.people.services import dependant_add
from livingroom.programs import services
from livingroom.programs.models import Draw, Enrollment, Program
from tests.parallel import in_parallel, in_pool
from tests.programs.conftest import enrol, neighbours, publish

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


def sql(query: str, params: tuple = ()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall()


def by_status(program: Program) -> dict[str, int]:
    return dict(
        sql(
            "SELECT status, count(*) FROM programs_enrollment WHERE program_id = %s GROUP BY status",
            (program.pk,),
        )
    )


def positions(program: Program) -> list[int]:
    rows = sql(
        "SELECT position FROM programs_enrollment"
        " WHERE program_id = %s AND status = 'waitlisted' ORDER BY position",
        (program.pk,),
    )
    return [p for (p,) in rows]


def duplicates(program: Program) -> list[tuple]:
    """People (a resident themselves, or one dependant) with more than one active enrolment."""
    return sql(
        """SELECT resident_id, dependant_id, count(*) FROM programs_enrollment
            WHERE program_id = %s AND status IN ('requested', 'confirmed', 'waitlisted', 'offered')
            GROUP BY resident_id, dependant_id HAVING count(*) > 1""",
        (program.pk,),
    )


def assert_rules_hold(program: Program) -> dict[str, int]:
    program.refresh_from_db()
    counts = by_status(program)
    holding = counts.get("confirmed", 0) + counts.get("offered", 0)
    assert program.seats_taken == holding <= program.capacity, (program.seats_taken, counts)
    assert program.waitlist_count == counts.get("waitlisted", 0) <= program.waitlist_size, counts
    assert positions(program) == list(range(1, program.waitlist_count + 1))
    assert duplicates(program) == []
    return counts


def test_two_hundred_residents_rush_thirty_seats(course_world):
    program = publish(course_world, capacity=30, waitlist_size=170)
    people = neighbours(course_world, 200)
    results = in_pool(200, lambda i: enrol(people[i], program)[0].status)
    assert Counter(results) == Counter({"confirmed": 30, "waitlisted": 170}), Counter(results)
    counts = assert_rules_hold(program)
    assert counts == {"confirmed": 30, "waitlisted": 170}
    assert (program.seats_taken, program.waitlist_count) == (30, 170)
    assert positions(program) == list(range(1, 171))
    # Everybody once, and each told once of what they got.
    enrolled = sql("SELECT resident_id FROM programs_enrollment WHERE program_id = %s", (program.pk,))
    assert sorted(r for (r,) in enrolled) == sorted(p.pk for p in people)
    assert Notice.objects.filter(kind="programs.enrolled").count() == 30
    assert Notice.objects.filter(kind="programs.waitlisted").count() == 170
    # The one after them finds the list full, and nothing is written.
    late = neighbours(course_world, 1)[0]
    assert in_parallel(1, lambda i: enrol(late, program)) == ["waitlist_full"]
    assert assert_rules_hold(program) == counts


def test_one_resident_submitting_in_many_tabs_gets_one_enrolment(course_world):
    program = publish(course_world, capacity=30, waitlist_size=170)
    me = course_world["residents"][0]
    kid = dependant_add(user=me.user, name="张小明", birth_date=dt.date(2015, 5, 1), relation="child")
    results = in_parallel(
        12,
        lambda i: [e.status for e in enrol(me, program, dependant_ids=[kid.pk] if i % 2 else [])],
    )
    won = [r for r in results if isinstance(r, list)]
    assert len(won) == 1 and results.count("already_enrolled") == 11, results
    assert assert_rules_hold(program) == {"confirmed": len(won[0])}
    assert Enrollment.objects.filter(program=program, resident=me).count() == len(won[0])


def test_cancellations_during_the_rush_promote_the_next_in_line(course_world):
    program = publish(course_world, capacity=30, waitlist_size=170)
    seated = neighbours(course_world, 30)
    queued = neighbours(course_world, 20)
    rush = neighbours(course_world, 150)
    seats = [enrol(p, program)[0] for p in seated]
    queue = [enrol(p, program)[0] for p in queued]
    assert [e.position for e in queue] == list(range(1, 21))
    leaving_seats = seats[::3]  # 10 seats freed
    leaving_queue = queue[10:15]  # 5 places left, behind the first ten in line

    def act(i: int) -> str:
        if i < len(rush):
            return enrol(rush[i], program)[0].status
        i -= len(rush)
        e = leaving_seats[i] if i < len(leaving_seats) else leaving_queue[i - len(leaving_seats)]
        return "left-" + services.enrollment_cancel(user=e.resident.user, enrollment_id=e.pk).status

    results = in_pool(len(rush) + len(leaving_seats) + len(leaving_queue), act)
    assert Counter(results) == Counter({"waitlisted": 150, "left-cancelled": 15}), Counter(results)
    counts = assert_rules_hold(program)
    assert counts == {"confirmed": 30, "waitlisted": 20 + 150 - 5 - 10, "cancelled": 15}
    assert program.seats_taken == 30
    # Every freed seat went to the head of the list: the first ten queued, never a newcomer.
    promoted = set(
        Enrollment.objects.filter(program=program, status="confirmed").values_list("pk", flat=True)
    ) - {e.pk for e in seats}
    assert promoted == {e.pk for e in queue[:10]}
    assert Notice.objects.filter(kind="programs.promoted").count() == 10
    # Those still queued keep their order, ahead of everyone who came in the rush.
    still = [e.pk for e in queue[15:]]
    head = list(
        Enrollment.objects.filter(program=program, status="waitlisted", position__lte=5)
        .order_by("position")
        .values_list("pk", flat=True)
    )
    assert head == still


def test_the_opening_draw_racing_with_late_requests_runs_once(course_world):
    now = timezone.now()
    program = publish(
        course_world,
        capacity=30,
        waitlist_size=170,
        fair_seconds=60,
        enroll_opens_at=now - dt.timedelta(seconds=5),
    )
    early = neighbours(course_world, 40)
    for p in early:
        assert enrol(p, program, now=now)[0].status == "requested"
    late = neighbours(course_world, 20)
    after = program.fair_until + dt.timedelta(seconds=1)

    def act(i: int):
        if i < len(late):
            return enrol(late[i], program, now=after)[0].status
        draw = services.draw_run(program_id=program.pk, now=after)
        return "drew" if draw is not None else "no-draw"

    results = in_parallel(len(late) + 4, act)
    assert Draw.objects.count() == 1 and AuditEvent.objects.filter(action="programs.draw.made").count() == 1
    assert results.count("drew") <= 1 and results.count("waitlisted") == 20, results
    draw = Draw.objects.get()
    assert sorted(eid for eid, _ in draw.entrants) == sorted(
        Enrollment.objects.filter(resident__in=early).values_list("pk", flat=True)
    )
    assert (len(draw.outcome["confirmed"]), len(draw.outcome["waitlisted"])) == (30, 10)
    assert assert_rules_hold(program) == {"confirmed": 30, "waitlisted": 30}
    # The late requests were served after the draw: behind everyone drawn.
    late_positions = Enrollment.objects.filter(resident__in=late).values_list("position", flat=True)
    assert sorted(late_positions) == list(range(11, 31))
    replay = services.draw_replay(draw, capacity=program.capacity, waitlist_size=program.waitlist_size)
    assert replay.order_matches and replay.outcome_matches


def test_requests_at_the_end_of_the_window_are_drawn_or_served_never_left_behind(course_world):
    """A request inside the window that reaches the database after the draw was made is served
    first come first served; none stays 'requested' with no draw to come."""
    now = timezone.now()
    program = publish(
        course_world,
        capacity=10,
        waitlist_size=100,
        fair_seconds=60,
        enroll_opens_at=now - dt.timedelta(seconds=5),
    )
    people = neighbours(course_world, 40)
    just_in_time = program.fair_until - dt.timedelta(microseconds=1)

    def act(i: int):
        if i == 20:
            return "drew" if services.draw_run(program_id=program.pk, now=program.fair_until) else "no-draw"
        return enrol(people[i if i < 20 else i - 1], program, now=just_in_time)[0].status

    results = in_parallel(41, act)
    assert "drew" in results, results
    assert not [r for r in results if r not in ("drew", "requested", "confirmed", "waitlisted")], results
    counts = assert_rules_hold(program)
    assert "requested" not in counts, counts
    assert counts == {"confirmed": 10, "waitlisted": 30}
    drawn = {eid for eid, _ in Draw.objects.get().entrants}
    waiting = Enrollment.objects.filter(program=program, status="waitlisted")
    drawn_places = list(waiting.filter(pk__in=drawn).values_list("position", flat=True))
    later_places = list(waiting.exclude(pk__in=drawn).values_list("position", flat=True))
    # Those drawn come first in line; those served after the draw, after them.
    if drawn_places and later_places:
        assert min(later_places) > max(drawn_places)
