"""A world for courses: 固戍's center with a classroom and a hall; a course proposed by the desk
and published (fair draw off unless a test asks), residents of 固戍 and of 龙珠."""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
from collections.abc import Iterator

import pytest
from django.utils import timezone

from livingroom.people.scopes import staff_scope
from livingroom.places.models import Space
from livingroom.programs import services
from livingroom.programs.models import Program
from tests import factories as f
from tests.invariants import nothing_changes


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


# --- helpers shared by the programs tests ---------------------------------------------------------


def enrol(resident, program: Program, **kw) -> list:
    """Signs a resident up through the service (``now`` and dependants as keywords)."""
    return services.enrollment_create(user=resident.user, program_id=program.pk, **kw)


_births = itertools.count()


def neighbours(world, n: int) -> list:
    """``n`` more residents of 固戍 (the course's community), each with their own ID number (the
    factory's numbers repeat after a hundred for one birth date: here every birth date differs)."""
    out = []
    for _ in range(n):
        number = f.make_id_number(birth=dt.date(1960, 1, 1) + dt.timedelta(days=next(_births) % 20000))
        out.append(f.ResidentFactory(home_community=world["center"].community, id_number=number))
    return out


def waiting(program: Program) -> list[tuple[int, int]]:
    """The waiting list as (position, resident id), in order."""
    from livingroom.programs.models import Enrollment

    return list(
        Enrollment.objects.filter(program=program, status="waitlisted")
        .order_by("position")
        .values_list("position", "resident_id")
    )


def counters(program: Program) -> tuple[int, int]:
    program.refresh_from_db()
    return program.seats_taken, program.waitlist_count


def rows_agree(program: Program) -> None:
    """The program's counters equal its rows, and the waiting list is exactly 1..n."""
    from livingroom.programs.models import Enrollment

    seats, waits = counters(program)
    statuses = list(Enrollment.objects.filter(program=program).values_list("status", flat=True))
    assert seats == sum(s in ("confirmed", "offered") for s in statuses) <= program.capacity
    positions = [p for p, _ in waiting(program)]
    assert positions == list(range(1, waits + 1)), positions


def today_program(world, *, now: dt.datetime | None = None, **overrides) -> tuple[Program, dt.datetime]:
    """A published course whose first session is today 00:30–01:30 (local) and its second in a
    week; proposed, approved and open since yesterday noon. Returns it and that "yesterday" time,
    to pass as ``now`` to the services that must act before the session."""
    today = timezone.localdate()
    before = now or local(today - dt.timedelta(days=1), 12)
    sessions = [
        services.SessionDraft(world["classroom"].pk, local(today, 0, 30), local(today, 1, 30)),
        services.SessionDraft(
            world["classroom"].pk,
            local(today + dt.timedelta(days=7), 0, 30),
            local(today + dt.timedelta(days=7), 1, 30),
        ),
    ]
    values = dict(sessions=sessions, enroll_opens_at=before - dt.timedelta(hours=1), capacity=5)
    values.update(overrides)
    program = services.program_propose(
        actor=world["desk"], scope=world["scope"], draft=draft(world, **values), now=before
    )
    program = services.program_approve(
        scope=world["scope"], staff=world["desk"], program_id=program.pk, now=before
    )
    return program, before + dt.timedelta(minutes=30)


def program_facts() -> dict:
    """What a refused request could change in place (``nothing_changes`` counts rows)."""
    from livingroom.booking.models import Booking
    from livingroom.people.models import Dependant
    from livingroom.programs.models import Attendance, Enrollment, ProgramSession, Talent

    return {
        "programs": list(
            Program.objects.order_by("pk").values_list(
                "pk",
                "status",
                "capacity",
                "waitlist_size",
                "seats_taken",
                "waitlist_count",
                "price_fen",
                "draw_done_at",
                "decided_at",
                "cancelled_at",
            )
        ),
        "sessions": list(
            ProgramSession.objects.order_by("pk").values_list("pk", "status", "booking_id", "reminded_at")
        ),
        "enrollments": list(
            Enrollment.objects.order_by("pk").values_list(
                "pk", "status", "position", "paid_fen", "rating", "offer_expires_at", "ended_at"
            )
        ),
        "attendance": list(Attendance.objects.order_by("pk").values_list("pk", "present", "via")),
        "talents": list(Talent.objects.order_by("pk").values_list("pk", "status", "decided_at")),
        "dependants": list(Dependant.objects.order_by("pk").values_list("pk", "removed_at")),
        "bookings": list(Booking.objects.order_by("pk").values_list("pk", "status", "cancelled_at")),
    }


@contextlib.contextmanager
def unchanged(ignore: tuple[str, ...] = ()) -> Iterator[None]:
    """``nothing_changes()`` plus the programs facts a refusal could alter without adding a row."""
    before = program_facts()
    with nothing_changes(ignore):
        yield
    assert program_facts() == before
