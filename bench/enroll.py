"""Course enrolment benchmark: N signed-in residents rush one course's seats at its opening.

    .venv/bin/python bench/enroll.py                         # 5,000 residents, 30 seats, 64 connections
    .venv/bin/python bench/enroll.py --residents 1000 --seats 20 --waitlist 100
    .venv/bin/python bench/enroll.py --fair-seconds 60       # the rush lands in the opening draw

Set-up (in-process, before gunicorn starts): one center with a classroom, a community worker of
its community (desk staff) who proposes and approves (``program_propose``/``program_approve``) a
four-week course of ``--seats`` seats, a waiting list of ``--waitlist`` places (default: everyone
who will not get a seat), first come first served (``--fair-seconds 0``) and enrolment open now;
N distinct residents with bearer tokens; and a second course, only for pgbench.

The load: every connection opens first, then each resident posts ``{}`` to
``POST /api/v1/programs/{id}/enrollments`` once. A 201 carries one enrolment: ``confirmed`` (a
seat), ``waitlisted`` (with its ``position``) or, in the opening draw's window, ``requested``.
``409 waitlist_full`` is an expected refusal (only with a smaller ``--waitlist``); anything else
that is not a 2xx is an error.

Afterwards (with ``--fair-seconds``: once the window has closed and the draw has been made
in-process, timed), SQL counts invariant violations: confirmed enrolments other than
min(seats, enrolments), ``seats_taken`` other than the confirmed count, waiting-list positions
not exactly 1..n or ``waitlist_count`` other than n, residents with more than one enrolment in the
course, and rows in the table that differ from the 201 answers (id, status, position).

The reference transaction (bench/sql/enroll.sql) is the least an enrolment asks of the database:
the conditional UPDATE of the course's seat counter (the row lock every enrolment of one course
queues on) and the INSERT of the enrolment, on the second course; ``pgbench_ratio`` compares
enrolments/s with its tps at the same concurrency.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

from harness import (
    SQL_DIR,
    Bench,
    Job,
    LoadResult,
    Scenario,
    Session,
    SignedInResident,
    create_residents,
    get_job,
    home_center,
    main,
    percentile,
    run_pgbench,
)

ENROL_TAG = "POST enrollments"
WARM_TAG = "warm-up"
TARGET_SECONDS = 10.0  # the target: every resident answered within 10 s ...
TARGET_PER_S = 500.0  # ... that is at least 500 answers per second ...
TARGET_PGBENCH_SHARE = 0.25  # ... and at least a quarter of the reference transaction's tps


class CourseRush(Scenario):
    name = "enroll"
    description = __doc__ or ""
    pgbench_script = "enroll.sql"
    expected_refusals = frozenset({(409, "waitlist_full")})
    defaults = {"concurrency": 64, "workers": 3, "time_cap": 150.0}

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--residents", type=int, default=5000, help="distinct residents who enrol")
        parser.add_argument("--seats", type=int, default=30, help="seats of the course")
        parser.add_argument(
            "--waitlist",
            type=int,
            default=None,
            help="waiting-list places (default: residents - seats, at most 5000)",
        )
        parser.add_argument(
            "--fair-seconds",
            type=int,
            default=0,
            help="opening draw window from the end of set-up (0: first come first served); "
            "must outlast the start of the server, the warm-up, the ceiling and the load",
        )
        parser.add_argument(
            "--pgbench-low-clients",
            type=int,
            default=None,
            help="a second pgbench run with this many clients (default: workers x threads, the "
            "server's own database connections; 0 skips it)",
        )

    def configure(self, args: argparse.Namespace) -> None:
        if args.waitlist is None:
            args.waitlist = min(max(args.residents - args.seats, 0), 5000)
        if args.pgbench_clients is None:  # the reference at the load's concurrency
            args.pgbench_clients = args.concurrency
        if args.pgbench_low_clients is None:  # ... and at the server's (one connection per thread)
            args.pgbench_low_clients = args.workers * args.threads

    # --- set-up -----------------------------------------------------------------------------

    def setup(self, bench: Bench) -> None:
        from django.utils import timezone

        from livingroom.people.models import StaffRole, User
        from livingroom.people.scopes import staff_scope
        from livingroom.places import services as places
        from livingroom.programs import services

        args = bench.args
        _, community, center = home_center()
        classroom = places.space_create(
            center=center, name="书画室", kind="activity", floor=2, area_m2=80, capacity=40
        )
        desk = User.objects.create_user("bench-desk", "x-not-used-123")
        StaffRole.objects.create(user=desk, role=StaffRole.Role.COMMUNITY_WORKER, community=community)
        scope = staff_scope(desk)
        assert scope is not None

        residents = create_residents(args.residents, communities=[community], seed=args.seed)
        # A few more, only for the warm-up reads: the load's residents arrive cold.
        warm = create_residents(10 * args.workers, communities=[community], seed=args.seed + 1)

        now = timezone.now()
        first = (timezone.localtime(now) + dt.timedelta(days=7)).replace(
            hour=19, minute=0, second=0, microsecond=0
        )

        def publish(title: str, *, weeks_from: int, capacity: int, waitlist: int, fair: int) -> int:
            draft = services.ProgramDraft(
                center_id=center.pk,
                title=title,
                category="calligraphy",
                description="毛笔字基础，每周一次。",
                capacity=capacity,
                waitlist_size=waitlist,
                market_price_fen=0,
                price_fen=0,
                public_welfare=True,
                # First come first served: open a minute ago. With the draw: open now, so the
                # window (fair_seconds) covers the rush.
                enroll_opens_at=now if fair else now - dt.timedelta(minutes=1),
                fair_seconds=fair,
                sessions=services.weekly_sessions(
                    space_id=classroom.pk,
                    first_starts_at=first + dt.timedelta(weeks=weeks_from),
                    minutes=90,
                    weeks=4,
                ),
            )
            program = services.program_propose(actor=desk, scope=scope, draft=draft)
            services.program_approve(scope=scope, staff=desk, program_id=program.pk)
            return program.pk

        program_id = publish(
            "书法入门", weeks_from=0, capacity=args.seats, waitlist=args.waitlist, fair=args.fair_seconds
        )
        # pgbench's own course (its sessions later, so the reservations do not collide).
        pgbench_program_id = publish("书法入门（pgbench）", weeks_from=4, capacity=1000, waitlist=0, fair=0)
        bench.state.update(
            program_id=program_id,
            pgbench_program_id=pgbench_program_id,
            residents=residents,
            warm=warm,
            answers={},  # enrolment id -> (resident id, status, position) from the 201 answers
            outcome=Counter(),
        )

    # --- the load ---------------------------------------------------------------------------

    def warmup(self, bench: Bench) -> Iterator[Job]:
        """Reads only: the course page and the warm-up residents' own enrolments (token check)."""
        program_id = bench.state["program_id"]
        for one in bench.state["warm"]:
            yield get_job(f"/api/v1/programs/{program_id}", tag=WARM_TAG)
            yield get_job("/api/v1/me/enrollments", token=one.token, tag=WARM_TAG)

    def jobs(self, bench: Bench) -> Iterator[Job]:
        for one in bench.state["residents"]:
            yield self._resident_job(bench, one)

    def _resident_job(self, bench: Bench, one: SignedInResident) -> Job:
        path = f"/api/v1/programs/{bench.state['program_id']}/enrollments"
        answers: dict[int, tuple[int, str, int | None]] = bench.state["answers"]
        outcome: Counter[str] = bench.state["outcome"]

        async def job(session: Session) -> None:
            outcome["sent"] += 1
            r = await session.post(path, token=one.token, json={}, tag=ENROL_TAG)
            outcome["answered"] += r.status != 0
            if r.status != 201:
                outcome[r.code or f"http_{r.status}"] += 1
                return
            made = r.json()
            if not isinstance(made, list) or len(made) != 1:
                outcome["malformed"] += 1
                return
            e = made[0]
            outcome[e["status"]] += 1
            answers[e["id"]] = (one.resident.pk, e["status"], e.get("position"))

        return job

    # --- reference transaction, invariants, figures --------------------------------------------

    def pgbench_variables(self, bench: Bench) -> dict[str, Any]:
        rids = [r.resident.pk for r in bench.state["residents"]]
        return {
            "program": bench.state["pgbench_program_id"],
            "first_resident": min(rids),
            "last_resident": max(rids),
        }

    def check(self, bench: Bench) -> int:
        from django.db import connection
        from django.db.models import Count

        from livingroom.programs.models import Enrollment, Program

        args = bench.args
        program_id = bench.state["program_id"]
        self._pgbench_low(bench)
        if args.fair_seconds:
            self._draw(bench)

        program = Program.objects.get(pk=program_id)
        rows = list(
            Enrollment.objects.filter(program_id=program_id).values_list(
                "id", "resident_id", "status", "position"
            )
        )
        by_status = Counter(status for _, _, status, _ in rows)
        confirmed = by_status[Enrollment.Status.CONFIRMED] + by_status[Enrollment.Status.OFFERED]
        waiting = [p for _, _, s, p in rows if s == Enrollment.Status.WAITLISTED]
        positions = {p for p in waiting if p is not None}
        n = len(waiting)

        # Seats go first: as many confirmed as seats, unless fewer enrolled (--requests, a time cap).
        expected_confirmed = min(args.seats, len(rows))
        problems = {
            "confirmed_off": abs(confirmed - expected_confirmed),
            "seats_taken_off": abs(program.seats_taken - confirmed),
            # positions must be exactly 1..n: those that are not a distinct value in 1..n
            "position_gaps": n - len(positions & set(range(1, n + 1))),
            "waitlist_count_off": abs(program.waitlist_count - n),
            "duplicates": Enrollment.objects.filter(program_id=program_id)
            .values("resident_id", "dependant_id")
            .annotate(c=Count("id"))
            .filter(c__gt=1)
            .count(),
            "requested_left": by_status[Enrollment.Status.REQUESTED] if args.fair_seconds else 0,
        }
        answers: dict[int, tuple[int, str, int | None]] = bench.state["answers"]
        table = {eid: (rid, status, pos) for eid, rid, status, pos in rows}
        # Every 201 is a row, as answered (after a draw: the same resident); a row without a 201
        # may only come from a request that got no answer (timed out, or cut by --time-cap).
        outcome: Counter[str] = bench.state["outcome"]
        unanswered = outcome["sent"] - outcome["answered"]
        same = (lambda row, a: row[0] == a[0]) if args.fair_seconds else (lambda row, a: row == a)
        problems["rows_vs_201"] = (
            len(set(answers) - set(table))
            + max(0, len(set(table) - set(answers)) - unanswered)
            + sum(1 for eid, a in answers.items() if eid in table and not same(table[eid], a))
        )
        with connection.cursor() as cur:  # the database's own constraint, across all courses
            cur.execute(
                """SELECT count(*) FROM (SELECT 1 FROM programs_enrollment
                    WHERE status IN ('requested', 'confirmed', 'waitlisted', 'offered')
                    GROUP BY program_id, resident_id, dependant_id HAVING count(*) > 1) AS d"""
            )
            problems["active_duplicates_anywhere"] = cur.fetchone()[0]
        bench.state.update(
            problems=problems,
            table_counts=dict(by_status),
            rows_in_table=len(rows),
            seats_taken=program.seats_taken,
            waitlist_count=program.waitlist_count,
        )
        return sum(problems.values())

    def _pgbench_low(self, bench: Bench) -> None:
        """The reference transaction again with as many clients as the server has connections:
        a single hot row queues every client on its lock, so its tps depends on how many wait."""
        args = bench.args
        if not (args.pgbench_low_clients and args.pgbench_seconds > 0):
            return
        pg = run_pgbench(
            args.pg_url.rstrip("/"),
            bench.db_name,
            SQL_DIR / self.pgbench_script,
            clients=args.pgbench_low_clients,
            seconds=args.pgbench_seconds,
            variables=self.pgbench_variables(bench),
        )
        bench.state["pgbench_low"] = pg

    def _draw(self, bench: Bench) -> None:
        """Waits for the opening window to close, then makes the draw in-process and times it."""
        from django.utils import timezone

        from livingroom.programs import services
        from livingroom.programs.models import Program

        program = Program.objects.get(pk=bench.state["program_id"])
        wait = (program.fair_until - timezone.now()).total_seconds()
        bench.state["draw_waited_s"] = round(max(wait, 0.0), 2)
        if wait > 0:
            time.sleep(wait + 0.05)
        t = time.perf_counter()
        draw = services.draw_run(program_id=program.pk)
        bench.state["draw_s"] = round(time.perf_counter() - t, 3)
        bench.state["draw_made_by"] = "bench" if draw is not None else "a late request"

    def figures(self, bench: Bench, load: LoadResult, outcomes: Counter[str]) -> dict[str, Any]:
        posts = [s for s in load.samples if s.tag == ENROL_TAG]
        created = sum(1 for s in posts if s.status == 201)
        answered = [s for s in posts if s.status]
        last_answer_s = max((s.started + s.latency_ms / 1000 for s in answered), default=0.0)
        post_lat = sorted(s.latency_ms for s in posts)
        per_s = created / load.elapsed_s if load.elapsed_s else 0.0
        out: Counter[str] = bench.state["outcome"]
        pg_ratio = _ratio(per_s, bench.pgbench_tps)
        low = bench.state.get("pgbench_low")
        low_tps = low.tps if low is not None else None
        all_answered = len(answered) == bench.args.residents
        figures: dict[str, Any] = {
            "residents": bench.args.residents,
            "seats": bench.args.seats,
            "waitlist_size": bench.args.waitlist,
            "fair_seconds": bench.args.fair_seconds,
            "enrollments": created,
            "enrollments_per_s": round(per_s, 1),
            "enroll_ceiling_ratio": _ratio(per_s, bench.ceiling_requests_per_s),
            "pgbench_ratio": pg_ratio,
            "pgbench_low_clients": low.clients if low is not None else None,
            "pgbench_low_tps": _round(low_tps),
            "pgbench_low_ratio": _ratio(per_s, low_tps),
            "enroll_post_p50_ms": _round(percentile(post_lat, 50)),
            "enroll_post_p99_ms": _round(percentile(post_lat, 99)),
            "time_to_answer_all_s": round(last_answer_s, 2) if all_answered else None,
            "confirmed": out["confirmed"],
            "waitlisted": out["waitlisted"],
            "requested": out["requested"],
            "waitlist_full": out["waitlist_full"],
            "enroll_errors": sum(n for k, n in out.items() if k not in _OK_OUTCOMES),
            "unanswered": out["sent"] - out["answered"],
            "problems": bench.state.get("problems"),
            "rows_in_table": bench.state.get("rows_in_table"),
            "seats_taken": bench.state.get("seats_taken"),
            "waitlist_count": bench.state.get("waitlist_count"),
            "target_met": {
                "all_answered_under_10s": all_answered and last_answer_s < TARGET_SECONDS,
                "at_least_500_per_s": per_s >= TARGET_PER_S,
                "quarter_of_pgbench": pg_ratio is not None and pg_ratio >= TARGET_PGBENCH_SHARE,
            },
        }
        if bench.args.fair_seconds:
            figures.update(
                table_after_draw=bench.state.get("table_counts"),
                draw_s=bench.state.get("draw_s"),
                draw_waited_s=bench.state.get("draw_waited_s"),
                draw_made_by=bench.state.get("draw_made_by"),
            )
        return figures


_OK_OUTCOMES = frozenset({"confirmed", "waitlisted", "requested", "waitlist_full", "sent", "answered"})


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _ratio(rate: float, reference: float | None) -> float | None:
    return round(rate / reference, 4) if reference else None


if __name__ == "__main__":
    main(CourseRush())
