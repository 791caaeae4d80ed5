"""A world for courses: 固戍's center with a classroom and a hall; a course proposed by the desk
and published (fair draw off unless a test asks), residents of 固戍 and of 龙珠."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from livingroom.people.scopes import staff_scope
from livingroom.places.models import Space
from livingroom.programs import services
from livingroom.programs.models import Program
from tests import factories as f


def local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=timezone.get_default_timezone())


def in_days(days: int, hour: int = 19) -> dt.datetime:
    return local(timezone.localdate() + dt.timedelta(days=days), hour)


@pytest.fixture
def course_world(place, roles):
    center = place["centers"][0]
    desk = roles["community"]  # community worker of 固戍: works the desk of this center
    classroom = f.SpaceFactory(
        center=center, name="书画室", kind=Space.Kind.ACTIVITY, area_m2=60, capacity=20
    )
    hall = f.SpaceFactory(center=center, name="舞蹈室", kind=Space.Kind.DANCE, area_m2=120, capacity=60)
    residents = [f.ResidentFactory(home_community=place["communities"][0]) for _ in range(4)]
    outsider = f.ResidentFactory(home_community=place["communities"][1])
    return {
        "center": center,
        "desk": desk,
        "scope": staff_scope(desk),
        "classroom": classroom,
        "hall": hall,
        "residents": residents,
        "outsider": outsider,
    }


def draft(world, **overrides) -> services.ProgramDraft:
    """A four-week calligraphy course at 20% of the market price, open for enrolment now."""
    values = dict(
        center_id=world["center"].pk,
        title="书法入门",
        category=Program.Category.CALLIGRAPHY,
        description="毛笔字基础，每周一次。",
        capacity=2,
        waitlist_size=3,
        market_price_fen=40000,
        price_fen=8000,
        public_welfare=True,
        enroll_opens_at=timezone.now() - dt.timedelta(minutes=5),
        fair_seconds=0,
        sessions=services.weekly_sessions(
            space_id=world["classroom"].pk, first_starts_at=in_days(3), minutes=90, weeks=4
        ),
    )
    values.update(overrides)
    return services.ProgramDraft(**values)


def publish(world, **overrides) -> Program:
    program = services.program_propose(
        actor=world["desk"], scope=world["scope"], draft=draft(world, **overrides)
    )
    return services.program_approve(scope=world["scope"], staff=world["desk"], program_id=program.pk)


@pytest.fixture
def course(course_world) -> Program:
    return publish(course_world)
