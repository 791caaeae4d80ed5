"""Booking benchmark: N residents rush for the seats of a 60-seat study room when tomorrow opens.

    .venv/bin/python bench/booking.py                       # 300 residents, one connection each
    .venv/bin/python bench/booking.py --residents 1000 --concurrency 100 --workers 3

Set-up (in-process, before gunicorn starts): one center open 08:00-22:00 every day, a study room
with 60 seats (slot 60 min, bookings of 60-240 min, one day ahead, one booking per resident per
day), and N residents of its community with bearer tokens.

The load: every resident starts at the same moment (all connections are opened first). Each one
reads tomorrow's availability, picks a random free (seat, 2-hour window on the hour grid) and
posts the booking; on ``409 slot_taken`` (someone was faster) it reads availability again and
tries another random choice, three tries at most. ``409 slot_taken`` and ``409
booking_limit_reached`` are expected refusals; anything else that is not a 2xx is an error.

Afterwards, SQL counts invariant violations: overlapping active bookings of one seat (or of the
room and one of its seats), residents with more than one active booking in the room on one day,
and the difference between the bookings in the table and the 201 answers the residents got.

The reference transaction (bench/sql/booking_insert.sql) is what ``booking_create`` asks of the
database for one booking: lock the resident, count, look for a conflict, insert booking and
audit event, commit; ``pgbench_ratio`` compares bookings/s with its tps.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import random
import time
import zoneinfo
from collections import Counter
from collections.abc import Iterator
from typing import Any

from harness import (
    Bench,
    Job,
    LoadResult,
    Scenario,
    Session,
    SignedInResident,
    create_residents,
    get_job,
    main,
    percentile,
)

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
BOOK_TAG = "POST /bookings"
AVAILABILITY_TAG = "GET availability"
WINDOW_SLOTS = 2  # 2-hour windows on the 60-minute grid
TRIES = 3


class StudyRoomRush(Scenario):
    name = "booking"
    description = __doc__ or ""
    pgbench_script = "booking_insert.sql"
    expected_refusals = frozenset({(409, "slot_taken"), (409, "booking_limit_reached")})
    defaults = {"time_cap": 60.0, "concurrency": None}

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--residents", type=int, default=300, help="residents who want a seat")
        parser.add_argument("--seats", type=int, default=60, help="seats of the study room")
        parser.add_argument(
            "--any-seat",
            action="store_true",
            help="residents ask for any free seat in their window (space_id) instead of a chosen seat",
        )

    def configure(self, args: argparse.Namespace) -> None:
        if args.concurrency is None:  # everyone presses "book" at once: one connection each
            args.concurrency = min(args.residents, 500)

    # --- set-up -----------------------------------------------------------------------------

    def setup(self, bench: Bench) -> None:
        from livingroom.booking import services as booking
        from livingroom.people.models import StaffRole, User
        from livingroom.people.scopes import staff_scope
        from livingroom.places import services as places
        from livingroom.places.models import Center, Community, Street

        street = Street.objects.create(code="440306001", name="西乡街道")
        community = Community.objects.create(street=street, code="440306001001", name="固戍社区")
        center = Center.objects.create(community=community, name="固戍社区党群服务中心")
        places.center_set_opening_hours(
            center=center, periods=[(d, dt.time(8), dt.time(22)) for d in range(7)]
        )
        space = places.space_create(
            center=center,
            name="自习室",
            kind="study",
            floor=3,
            area_m2=120,
            capacity=bench.args.seats,
            bookable=True,
        )
        official = User.objects.create_user("bench-official", "x-not-used-123")
        StaffRole.objects.create(user=official, role=StaffRole.Role.DISTRICT_OFFICIAL)
        scope = staff_scope(official)
        assert scope is not None
        booking.booking_rules_set(
            scope=scope,
            staff=official,
            space_id=space.pk,
            horizon_days=1,
            max_per_day=1,
            slot_minutes=60,
            min_minutes=60,
            max_minutes=240,
        )
        seats = booking.space_units_set(
            scope=scope, staff=official, space_id=space.pk, seats=bench.args.seats
        )
        residents = create_residents(bench.args.residents, communities=[community], seed=bench.args.seed)
        tomorrow = dt.datetime.now(SHANGHAI).date() + dt.timedelta(days=1)
        bench.state.update(
            space_id=space.pk,
            seat_ids=[s.pk for s in seats],
            residents=residents,
            day=tomorrow.isoformat(),
            outcome=Counter(),  # per resident: booked, gave_up, no_free_seat, failed
            time_to_book_ms=[],
        )

    # --- the load ---------------------------------------------------------------------------

    def warmup(self, bench: Bench) -> Iterator[Job]:
        """A few reads of the availability per worker: the server has been up before the rush."""
        space_id, day = bench.state["space_id"], bench.state["day"]
        path = f"/api/v1/spaces/{space_id}/availability?from={day}&to={day}"
        for one in bench.state["residents"][: 10 * bench.args.workers]:
            yield get_job(path, token=one.token, tag="warm-up")

    def jobs(self, bench: Bench) -> Iterator[Job]:
        rng = random.Random(bench.args.seed)
        for one in bench.state["residents"]:
            yield self._resident_job(bench, one, random.Random(rng.random()))

    def _resident_job(self, bench: Bench, one: SignedInResident, rng: random.Random) -> Job:
        space_id, day = bench.state["space_id"], bench.state["day"]
        outcome: Counter[str] = bench.state["outcome"]
        availability = f"/api/v1/spaces/{space_id}/availability?from={day}&to={day}"

        async def job(session: Session) -> None:
            start = time.perf_counter()
            for _ in range(TRIES):
                answer = await session.get(availability, token=one.token, tag=AVAILABILITY_TAG)
                if answer.status != 200:
                    outcome["failed"] += 1
                    return
                choices = free_windows(answer.json())
                if not choices:
                    outcome["no_free_seat"] += 1
                    return
                seat, starts_at, ends_at = rng.choice(choices)
                unit = {"space_id": space_id} if bench.args.any_seat else {"resource_id": seat}
                booked = await session.post(
                    "/api/v1/bookings",
                    token=one.token,
                    json={**unit, "starts_at": starts_at, "ends_at": ends_at},
                    tag=BOOK_TAG,
                )
                if booked.status == 201:
                    outcome["booked"] += 1
                    bench.state["time_to_book_ms"].append((time.perf_counter() - start) * 1000)
                    return
                if booked.code != "slot_taken":
                    outcome["limit_reached" if booked.code == "booking_limit_reached" else "failed"] += 1
                    return
            outcome["gave_up"] += 1

        return job

    # --- reference transaction, invariants, figures --------------------------------------------

    def pgbench_variables(self, bench: Bench) -> dict[str, Any]:
        seats, residents = bench.state["seat_ids"], bench.state["residents"]
        rids = [r.resident.pk for r in residents]
        return {
            "space": bench.state["space_id"],
            "first_seat": min(seats),
            "last_seat": max(seats),
            "first_resident": min(rids),
            "last_resident": max(rids),
        }

    def check(self, bench: Bench) -> int:
        from django.db import connection

        with connection.cursor() as cur:
            cur.execute(
                """SELECT count(*) FROM booking_booking a JOIN booking_booking b
                      ON a.id < b.id AND a.space_id = b.space_id
                     AND (a.resource_id = b.resource_id OR a.whole_space <> b.whole_space)
                     AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at
                   WHERE a.status IN ('pending', 'confirmed', 'checked_in')
                     AND b.status IN ('pending', 'confirmed', 'checked_in')"""
            )
            overlaps = cur.fetchone()[0]
            cur.execute(
                """SELECT count(*) FROM (
                      SELECT resident_id FROM booking_booking
                       WHERE status IN ('pending', 'confirmed', 'checked_in') AND resident_id IS NOT NULL
                       GROUP BY resident_id, space_id, (starts_at AT TIME ZONE 'Asia/Shanghai')::date
                      HAVING count(*) > 1) AS over_limit"""
            )
            over_limit = cur.fetchone()[0]
            cur.execute(
                """SELECT count(*) FROM booking_booking
                     WHERE space_id = %s AND purpose <> 'pgbench'
                       AND status IN ('pending', 'confirmed', 'checked_in')""",
                [bench.state["space_id"]],
            )
            in_table = cur.fetchone()[0]
        bench.state.update(overlaps=overlaps, over_limit=over_limit, bookings_in_table=in_table)
        answered = bench.state["outcome"]["booked"]
        return overlaps + over_limit + abs(in_table - answered)

    def figures(self, bench: Bench, load: LoadResult, outcomes: Counter[str]) -> dict[str, Any]:
        posts = [s for s in load.samples if s.tag == BOOK_TAG]
        booked = sum(1 for s in posts if s.status == 201)
        post_lat = sorted(s.latency_ms for s in posts)
        flow = sorted(bench.state["time_to_book_ms"])
        per_s = booked / load.elapsed_s if load.elapsed_s else 0.0
        out = bench.state["outcome"]
        return {
            "residents": bench.args.residents,
            "seats": bench.args.seats,
            "mode": "any_free_seat" if bench.args.any_seat else "chosen_seat",
            "day": bench.state["day"],
            "bookings": booked,
            "bookings_per_s": round(per_s, 1),
            "bookings_ceiling_ratio": _ratio(per_s, bench.ceiling_requests_per_s),
            "pgbench_ratio": _ratio(per_s, bench.pgbench_tps),
            "booking_post_p50_ms": _round(percentile(post_lat, 50)),
            "booking_post_p99_ms": _round(percentile(post_lat, 99)),
            "time_to_book_p50_ms": _round(percentile(flow, 50)),
            "time_to_book_p99_ms": _round(percentile(flow, 99)),
            "slot_taken": sum(1 for s in posts if s.code == "slot_taken"),
            "residents_booked": out["booked"],
            "residents_gave_up": out["gave_up"],
            "residents_no_free_seat": out["no_free_seat"],
            "residents_limit_reached": out["limit_reached"],
            "residents_failed": out["failed"],
            "overlaps": bench.state.get("overlaps"),
            "over_daily_limit": bench.state.get("over_limit"),
            "bookings_in_table": bench.state.get("bookings_in_table"),
        }


def free_windows(availability: dict[str, Any]) -> list[tuple[int, str, str]]:
    """Every (seat, starts_at, ends_at) of a free 2-hour window on the first day's hour grid."""
    slots = availability["days"][0]["slots"] if availability.get("days") else []
    out: list[tuple[int, str, str]] = []
    for i in range(len(slots) - WINDOW_SLOTS + 1):
        run = slots[i : i + WINDOW_SLOTS]
        if not all(s["bookable"] for s in run):
            continue
        if any(a["ends_at"] != b["starts_at"] for a, b in itertools.pairwise(run)):
            continue  # a gap in the opening hours
        free = set(run[0]["free_unit_ids"]).intersection(*(s["free_unit_ids"] for s in run[1:]))
        out.extend((seat, run[0]["starts_at"], run[-1]["ends_at"]) for seat in sorted(free))
    return out


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _ratio(rate: float, reference: float | None) -> float | None:
    return round(rate / reference, 4) if reference else None


if __name__ == "__main__":
    main(StudyRoomRush())
