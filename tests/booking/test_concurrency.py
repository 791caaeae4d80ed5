"""Time on a unit under real parallel connections (PostgreSQL; skipped on SQLite).

Each worker thread has its own database connection; a barrier releases them together. After each
rush, SQL over ``booking_booking`` proves that no two active bookings hold the same time.
"""

from __future__ import annotations

import datetime as dt
import itertools
import threading
import time
from collections import Counter
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction

from livingroom.booking import errors, services
from livingroom.booking.models import Booking
from tests import factories as f
from tests.booking.conftest import local
from tests.conftest import PG, resident_api
from tests.parallel import in_parallel

# Pairs of active bookings that overlap on one unit, or a whole room and one of its parts.
OVERLAPS = """
SELECT a.id, b.id FROM booking_booking a JOIN booking_booking b
  ON a.id < b.id AND a.space_id = b.space_id
 AND (a.resource_id = b.resource_id OR a.whole_space <> b.whole_space)
 AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at
WHERE a.status IN ('pending', 'confirmed', 'checked_in')
  AND b.status IN ('pending', 'confirmed', 'checked_in')
"""


def held(where: str = "TRUE", params: tuple = ()) -> int:
    """How many active bookings match ``where`` (a fixed SQL condition of this file)."""
    query = "SELECT count(*) FROM booking_booking WHERE status IN ('pending', 'confirmed', 'checked_in') AND "
    return sql(query + where, params)[0][0]


def sql(query: str, params: tuple = ()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall()


def neighbours(world, n: int) -> list:
    return [f.ResidentFactory(home_community=world["resident"].home_community) for _ in range(n)]


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_twelve_residents_rush_one_seat_and_one_wins(world, tomorrow):
    people = neighbours(world, 12)
    clients = [resident_api(p.user) for p in people]
    body = {
        "resource_id": world["seats"][0].pk,
        "starts_at": local(tomorrow, 10).isoformat(),
        "ends_at": local(tomorrow, 12).isoformat(),
    }

    def attempt(i: int) -> Any:
        response = clients[i].post("/bookings", body)
        return response.status_code if response.status_code == 201 else response.json()["code"]

    results = in_parallel(12, attempt)
    assert Counter(results) == Counter({201: 1, "slot_taken": 11}), results
    assert held() == 1
    assert sql(OVERLAPS) == []
    winner = Booking.objects.get()
    assert winner.resident in people and winner.resource == world["seats"][0]


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_a_rush_on_any_free_seat_fills_each_seat_once(world, tomorrow):
    people = neighbours(world, 12)
    results = in_parallel(
        12,
        lambda i: (
            services.booking_create(
                user=people[i].user,
                space_id=world["study"].pk,
                starts_at=local(tomorrow, 10),
                ends_at=local(tomorrow, 12),
            ).resource_id
        ),
    )
    won = [r for r in results if isinstance(r, int)]
    assert sorted(won) == sorted(s.pk for s in world["seats"]), results
    assert results.count("slot_taken") == 8, results
    assert sql(OVERLAPS) == []


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_overlapping_ranges_on_one_seat_never_overlap_in_the_database(world, tomorrow):
    ranges = [
        (10, 12),
        (11, 13),
        (9, 11),
        (12, 14),
        (8, 10),
        (13, 15),
        (10, 11),
        (14, 16),
        (9, 13),
        (15, 17),
        (11, 12),
        (16, 18),
    ]
    people = neighbours(world, len(ranges))
    seat = world["seats"][0]
    results = in_parallel(
        len(ranges),
        lambda i: (
            services.booking_create(
                user=people[i].user,
                resource_id=seat.pk,
                starts_at=local(tomorrow, ranges[i][0]),
                ends_at=local(tomorrow, ranges[i][1]),
            ).pk
        ),
    )
    assert set(results) - {"slot_taken"} <= set(Booking.objects.values_list("pk", flat=True)), results
    assert results.count("slot_taken") == len(ranges) - Booking.objects.count() > 0
    assert sql(OVERLAPS) == []
    times = sorted(Booking.objects.values_list("starts_at", "ends_at"))
    assert all(e1 <= s2 for (_, e1), (s2, _) in itertools.pairwise(times))


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("whole", ["staff-block", "organisation-series"])
def test_the_whole_room_and_its_seats_are_never_booked_at_once(world, tomorrow, whole):
    people = neighbours(world, 8)
    seats = world["seats"]
    choir = f.OrganizationFactory()

    def attempt(i: int) -> Any:
        if i == 0:
            if whole == "staff-block":
                return services.space_block(
                    scope=world["scope"],
                    staff=world["desk"],
                    space_id=world["study"].pk,
                    starts_at=local(tomorrow, 10),
                    ends_at=local(tomorrow, 12),
                    reason="临时活动",
                ).block.pk
            series, _ = services.series_create(
                scope=world["scope"],
                staff=world["desk"],
                resource_id=world["study_room_unit"].pk,
                organization_id=choir.pk,
                purpose="读书会",
                weekday=tomorrow.weekday(),
                starts=dt.time(10),
                ends=dt.time(12),
                first_date=tomorrow,
                weeks=1,
            )
            return series.bookings.get().pk
        return services.booking_create(
            user=people[i].user,
            resource_id=seats[i % 4].pk,
            starts_at=local(tomorrow, 10),
            ends_at=local(tomorrow, 12),
        ).pk

    results = in_parallel(8, attempt)
    assert not [r for r in results if isinstance(r, str) and r.startswith("unexpected")], results
    assert sql(OVERLAPS) == [], results
    whole_held, seats_held = held("whole_space"), held("NOT whole_space")
    assert (whole_held, seats_held) in ((1, 0), (0, seats_held)) and whole_held + seats_held > 0, results
    if whole_held == 0:
        assert seats_held == 4 and isinstance(results[0], str), results  # one per seat, the room refused


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_one_resident_in_several_tabs_gets_one_booking_a_day(world, tomorrow):
    me = world["resident"]  # the study room allows one booking a day
    hours = [(10, 11), (12, 13), (14, 15), (16, 17)]
    results = in_parallel(
        4,
        lambda i: (
            services.booking_create(
                user=me.user,
                resource_id=world["seats"][i].pk,
                starts_at=local(tomorrow, hours[i][0]),
                ends_at=local(tomorrow, hours[i][1]),
            ).pk
        ),
    )
    assert results.count("booking_limit_reached") == 3, results
    assert held("resident_id = %s", (me.pk,)) == 1


# --- the constraint itself -------------------------------------------------------------------------------

pg_only = pytest.mark.skipif(not PG, reason="the exclusion constraints exist on PostgreSQL only")

INSERT = """
INSERT INTO booking_booking (resource_id, space_id, whole_space, kind, status, starts_at, ends_at,
  organization_id, purpose, created_at, checked_in_via, decision_reason, cancel_reason)
VALUES (%s, %s, %s, 'organization', %s, %s, %s, NULL, '', now(), '', '', '')
"""


def raw_insert(unit, starts_at, ends_at, status: str = "confirmed") -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(INSERT, (unit.pk, unit.space_id, unit.whole_space, status, starts_at, ends_at))


@pg_only
@pytest.mark.django_db
def test_the_database_refuses_an_overlapping_insert_that_skips_the_services(world, tomorrow):
    seat, room = world["seats"][0], world["study_room_unit"]
    raw_insert(seat, local(tomorrow, 10), local(tomorrow, 12))
    for unit, s, e, name in (
        (seat, 11, 13, "booking_unit_no_overlap"),
        (room, 11, 12, "booking_room_and_parts_no_overlap"),
    ):
        with pytest.raises(IntegrityError) as caught:
            raw_insert(unit, local(tomorrow, s), local(tomorrow, e))
        assert caught.value.__cause__.sqlstate == "23P01" and name in str(caught.value)
    # Touching ends, other seats, and bookings that no longer hold the time are allowed.
    raw_insert(seat, local(tomorrow, 12), local(tomorrow, 13))
    raw_insert(world["seats"][1], local(tomorrow, 10), local(tomorrow, 12))
    raw_insert(seat, local(tomorrow, 10), local(tomorrow, 12), status="cancelled")
    raw_insert(room, local(tomorrow, 11), local(tomorrow, 12), status="no_show")
    assert sql(OVERLAPS) == []
    assert Booking.objects.count() == 5


@pg_only
@pytest.mark.django_db
def test_the_database_has_the_last_word_when_the_python_check_is_wrong(world, tomorrow, monkeypatch):
    services.booking_create(
        user=world["resident"].user,
        resource_id=world["seats"][0].pk,
        starts_at=local(tomorrow, 10),
        ends_at=local(tomorrow, 12),
    )
    monkeypatch.setattr(services, "_conflicts", lambda *a, **k: False)
    other = neighbours(world, 1)[0]
    with pytest.raises(errors.SlotTaken):
        services.booking_create(
            user=other.user,
            resource_id=world["seats"][0].pk,
            starts_at=local(tomorrow, 11),
            ends_at=local(tomorrow, 12),
        )
    with pytest.raises(errors.SlotTaken):
        services.series_create(
            scope=world["scope"],
            staff=world["desk"],
            resource_id=world["study_room_unit"].pk,
            purpose="读书会",
            weekday=tomorrow.weekday(),
            starts=dt.time(11),
            ends=dt.time(12),
            first_date=tomorrow,
            weeks=1,
        )
    assert Booking.objects.count() == 1 and not other.bookings.exists()
    assert sql(OVERLAPS) == []


# --- the clock running twice at once ---------------------------------------------------------------------


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_two_clocks_remind_each_booking_once(world, django_capture_on_commit_callbacks):
    from django.utils import timezone

    from livingroom.notices.models import Notice
    from tests.booking.conftest import put_booking

    now = timezone.now()
    people = neighbours(world, 4)
    for person, seat in zip(people, world["seats"], strict=True):
        put_booking(seat, now + dt.timedelta(minutes=90), now + dt.timedelta(minutes=150), resident=person)
    results = in_parallel(4, lambda i: services.reminders_send(now=now))
    assert sum(results) == 4, results
    assert Notice.objects.filter(kind="booking.reminder").count() == 4
    assert sorted(Notice.objects.values_list("user_id", flat=True)) == sorted(p.user_id for p in people)


WAITING = (
    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
)


def wait_until_a_connection_waits_for_a_lock(timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sql("SELECT pg_stat_clear_snapshot()")  # inside a transaction the statistics are a snapshot
        if sql(WAITING)[0][0]:
            return
        time.sleep(0.02)
    raise AssertionError("no connection ever waited for the lock")


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_a_clock_does_not_release_again_what_another_clock_released(world):
    """The other clock holds the row and marks it released; this clock, having already read the
    booking as due, waits for the row, then finds it released and must leave it alone."""
    from django.utils import timezone

    from livingroom.core.models import AuditEvent
    from livingroom.notices.models import Notice
    from tests.booking.conftest import put_booking

    now = timezone.now()
    booking = put_booking(
        world["seats"][0],
        now - dt.timedelta(hours=2),
        now - dt.timedelta(hours=1),
        resident=world["resident"],
    )
    outcome: dict[str, Any] = {}

    def this_clock() -> None:
        try:
            outcome["released"] = services.no_shows_release(now=now)
        except Exception as exc:  # pragma: no cover - reported below
            outcome["released"] = repr(exc)
        finally:
            connection.close()

    worker = threading.Thread(target=this_clock)
    with transaction.atomic():  # the other clock
        Booking.objects.select_for_update().filter(pk=booking.pk).update(status="no_show")
        worker.start()
        wait_until_a_connection_waits_for_a_lock()
    worker.join(timeout=30)
    booking.refresh_from_db()
    assert booking.status == "no_show"
    assert outcome["released"] == []
    assert Notice.objects.filter(kind="booking.released").count() == 0
    assert not AuditEvent.objects.filter(action="booking.booking.released").exists()
