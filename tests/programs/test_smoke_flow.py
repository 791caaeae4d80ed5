from __future__ import annotations

import pytest

from livingroom.programs import services
from livingroom.programs.models import Enrollment
from tests.programs.conftest import publish

pytestmark = pytest.mark.django_db


def test_enrol_waitlist_cancel_promote(course_world, course):
    r = course_world["residents"]
    got = [services.enrollment_create(user=x.user, program_id=course.pk)[0] for x in r]
    assert [e.status for e in got] == ["confirmed", "confirmed", "waitlisted", "waitlisted"]
    assert [e.position for e in got] == [None, None, 1, 2]
    services.enrollment_cancel(user=r[0].user, enrollment_id=got[0].pk)
    statuses = dict(Enrollment.objects.filter(program=course).values_list("resident_id", "status"))
    assert statuses[r[2].pk] == "confirmed"
    assert Enrollment.objects.get(resident=r[3], program=course).position == 1
    course.refresh_from_db()
    assert (course.seats_taken, course.waitlist_count) == (2, 1)


def test_fair_draw(course_world):
    import datetime as dt

    from django.utils import timezone

    now = timezone.now()
    program = publish(course_world, fair_seconds=60, enroll_opens_at=now - dt.timedelta(seconds=10))
    r = course_world["residents"]
    for x in r:
        (e,) = services.enrollment_create(user=x.user, program_id=program.pk, now=now)
        assert e.status == "requested"
    draw = services.draw_run(program_id=program.pk, now=now + dt.timedelta(seconds=60))
    assert draw is not None
    program.refresh_from_db()
    assert program.seats_taken == 2 and program.waitlist_count == 2
    replay = services.draw_replay(draw, capacity=program.capacity, waitlist_size=program.waitlist_size)
    assert replay.order_matches and replay.outcome_matches
