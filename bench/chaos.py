"""Faults under load: the enrolment rush and the vending machines while workers die and the database restarts.

    .venv/bin/python bench/chaos.py                          # 40 s of load, a worker killed every 3 s,
                                                             # PostgreSQL restarted once half-way
    .venv/bin/python bench/chaos.py --seconds 20 --kill-every 2
    .venv/bin/python bench/chaos.py --pg-url postgresql://postgres@127.0.0.1:5499 \\
        --restart-cmd "pg_ctlcluster 15 chaos restart -m fast"   # a server you may restart

What it does, in order (everything on 127.0.0.1, every phase bounded):

1. Starts a private, throwaway PostgreSQL cluster: ``initdb`` (trust auth) into a temporary
   directory owned by the ``postgres`` OS user and ``pg_ctl start`` on a free loopback port (as
   ``postgres`` through ``runuser`` when run as root). The shared server on port 5432 is never
   touched. Without ``initdb``, ``--pg-url`` names a server this run may restart with
   ``--restart-cmd`` (both are required then).
2. Creates the database, migrates and sets up in-process what ``bench/enroll.py`` and
   ``bench/redeem.py`` set up (their own ``setup``, in one database: one center, a course of
   ``--seats`` seats whose waiting list holds everyone else, ``--machines`` vending machines, a
   drink, ``--redeem-residents`` accounts of ``--points`` points).
3. Starts gunicorn with ``--workers`` sync workers, then runs ``--concurrency`` connections for
   ``--seconds``: enrolments and redemptions, alternately. Meanwhile a random worker (a child of
   the gunicorn master, read from /proc) gets SIGKILL every ``--kill-every`` seconds, and at
   ``--restart-at`` of the load PostgreSQL is restarted (``pg_ctl restart -m fast``). The master
   respawns workers; Django reconnects (``conn_max_age=60``, ``conn_health_checks=True``).
4. Requests in flight when the load ends may go on retrying for ``--settle`` seconds.
5. Checks the database (below), prints a summary and, last, one JSON line; stops gunicorn, drops
   the database, stops and deletes the cluster (also on Ctrl-C or an error, unless ``--keep``).

Requests and keys. Every logical request ("operation") has a key, and every retry carries the
same key:

* a redemption: ``(machine, Idempotency-Key)``. The body (with the resident's pass) is the same
  on every attempt; the signature gets a new nonce and timestamp. The server runs the redemption
  once per key (``core.idempotency.run_idempotent``: the key is claimed in the redemption's own
  transaction) and replays the first answer, a refusal included;
* an enrolment: ``(course, resident)``. The enrolment endpoint takes no idempotency key; its
  natural key is enforced by the database (one active enrolment per resident and course), and a
  second attempt after a first one that was applied answers ``409 already_enrolled``. The client
  then reads ``GET /api/v1/me/enrollments`` and takes the course's enrolment from that 200 as the
  answer it lost.

An attempt without an answer (the worker was killed: connection reset; or no answer within
``--request-timeout``), a 5xx (the database was down) and ``401 request_replayed`` are retried
after a short back-off (50 ms doubling up to 1 s, jittered) until a final answer arrives or
``--settle`` runs out. A 2xx is final, and so are the expected refusals (``409
insufficient_points``, ``409 waitlist_full``) and any other 4xx (counted as ``failed``).

The accounting, per operation:

* ``acknowledged``: a 2xx finally arrived (for an enrolment, also: ``already_enrolled`` confirmed
  by the 200 of the read). The answer names the row (``redemption_id``; the enrolment's ``id``).
* ``in_doubt``: not acknowledged, and at least one attempt got no answer or a 5xx, so it may have
  been applied (a worker can die, or the database connection drop, after the commit and before
  the answer). A redemption refused by its idempotency record is not in doubt: that record is
  written in the transaction the redemption would have been.
* otherwise refused or failed: every attempt was answered with a 4xx; nothing was applied.

Then, from the database: rows per key (redemptions of the run's machines by ``request_key``,
enrolments of the course by resident). A key may hold 1 row when acknowledged (exactly that
row), at most 1 when in doubt, 0 otherwise (and 0 for a key never sent).

* ``lost``: acknowledged operations whose row is missing (or is another row than the answer
  named). Must be 0: a 2xx that the database forgot.
* ``duplicated``: the rows beyond what a key may hold, summed over keys (two redemptions for one
  key, two enrolments of one resident, a row for a refused or unsent key). Must be 0: a retry
  applied twice.
* ``in_doubt_applied``: in-doubt operations that did land (their answer was lost, the work was
  not). Expected, not an error: the client cannot know, the key makes a later retry safe.

Invariants, reused from the two scenarios' ``check`` (fed with the acknowledged answers, the
in-doubt operations counting as their "unanswered"): the course not oversold (confirmed ≤ seats
and = min(seats, enrolments), ``seats_taken`` = confirmed), waiting-list positions exactly 1..n
and ``waitlist_count`` = n, one active enrolment per resident; one redemption per machine and
key, one ledger entry and one stock move per redemption, no account debited beyond its
acknowledged + in-doubt redemptions (no double debit), balances = opening − price ×
redemptions, stock moved = units redeemed, ``ledger_check()`` empty. Also: no negative balance
in any account, and ``livingroom points_check`` (the management command) exits 0.

``recovery_s``: from the moment the restart was issued to the end of the first 2xx answer to a
write sent after PostgreSQL accepted connections again (``pg_restart_s`` is the database's own
part of it, ``server_recovery_s`` the rest). ``null`` if writes never succeeded again.

Exits 1 when ``lost`` or ``duplicated`` > 0, an invariant fails, or the server did not recover.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import io
import json
import os
import pwd
import random
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from enroll import CourseRush
from harness import (
    HEALTH_PATH,
    Bench,
    Driver,
    Response,
    Sample,
    Server,
    Session,
    SignedInResident,
    create_database,
    drop_database,
    free_port,
    log,
    migrate_and_setup,
    percentile,
)
from redeem import Machine, VendingRush

ENROL_TAG = "POST enrolment"
ENROL_RETRY_TAG = "POST enrolment (retry)"
CONFIRM_TAG = "GET my enrolments (confirm)"
REDEEM_TAG = "POST redemption"
REDEEM_RETRY_TAG = "POST redemption (retry)"
WRITE_TAGS = frozenset({ENROL_TAG, ENROL_RETRY_TAG, REDEEM_TAG, REDEEM_RETRY_TAG})
RETRYABLE_4XX = frozenset({(401, "request_replayed")})  # a resend carried an already-seen nonce
REFUSALS = {"enrol": frozenset({(409, "waitlist_full")}), "redeem": frozenset({(409, "insufficient_points")})}


# --- a private PostgreSQL cluster ------------------------------------------------------------------


def _pg_bin() -> Path | None:
    """The newest ``/usr/lib/postgresql/<version>/bin`` holding ``initdb`` and ``pg_ctl``."""
    found = [
        d
        for d in Path("/usr/lib/postgresql").glob("*/bin")
        if (d / "initdb").exists() and (d / "pg_ctl").exists()
    ]
    found.sort(key=lambda d: int(d.parent.name) if d.parent.name.isdigit() else 0)
    return found[-1] if found else None


class PrivateCluster:
    """A throwaway PostgreSQL cluster in a temporary directory, on a free loopback port, trust auth.

    As root, every ``initdb``/``pg_ctl`` runs as the ``postgres`` OS user (``runuser``), which owns
    the directory; otherwise as the current user. ``close()`` stops it and deletes the directory.
    """

    def __init__(self, bin_dir: Path) -> None:
        self.bin = bin_dir
        self.dir = Path(tempfile.mkdtemp(prefix="lr-chaos-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}"
        self.started = False
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]

    def _run(self, *cmd: str, timeout: float = 60) -> None:
        # Output to a file, not a pipe: a postmaster started by pg_ctl may inherit it and keep it
        # open, and subprocess.run would wait for its end.
        out_path = self.dir / "tools.out"
        with out_path.open("ab") as out:
            start = out.tell()
            done = subprocess.run(  # noqa: S603 - PostgreSQL's own tools, arguments built here
                [*self.as_user, *cmd], stdout=out, stderr=subprocess.STDOUT, timeout=timeout, check=False
            )
        if done.returncode != 0:
            with out_path.open("rb") as f:
                f.seek(start)
                text = f.read().decode(errors="replace")
            raise RuntimeError(f"{Path(cmd[0]).name} failed ({done.returncode}):\n{text}")

    def _ctl(self, *args: str, timeout: float = 60) -> None:
        # -l on every start (restart too): the server's output goes to its log file.
        log_file = str(self.dir / "postgresql.log")
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            log_file,
            "-w",
            "-t",
            "30",
            *args,
            timeout=timeout,
        )

    def start(self) -> None:
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",  # a throwaway cluster: its files need not survive a crash of the machine
        )
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self.dir} "
            "-c max_connections=60"
        )
        self._ctl("-o", options, "start")
        self.started = True

    def restart(self) -> None:
        """A fast restart (open connections are cut, transactions in flight roll back); the same
        options as at start (``pg_ctl`` keeps them in ``postmaster.opts``)."""
        self._ctl("-m", "fast", "restart")

    def close(self) -> None:
        if self.started and (self.data / "postmaster.pid").exists():
            with contextlib.suppress(Exception):
                self._ctl("-m", "immediate", "stop", timeout=40)
        shutil.rmtree(self.dir, ignore_errors=True)


def _wait_for_database(pg_url: str, timeout: float = 30.0) -> bool:
    """True once the server accepts a connection (polls every 50 ms), False after ``timeout``."""
    import psycopg

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with psycopg.connect(f"{pg_url}/postgres", connect_timeout=2) as conn:
                conn.execute("SELECT 1")
            return True
        except psycopg.Error:
            time.sleep(0.05)
    return False


# --- operations: one logical request, retried with the same key ----------------------------------


@dataclasses.dataclass(slots=True)
class Op:
    kind: str  # "enrol" | "redeem"
    key: Any  # resident id (enrol) or (device id, Idempotency-Key) (redeem)
    resident_id: int
    attempts: int = 0
    troubled: int = 0  # attempts without an answer, or answered 5xx: they may have been applied
    outcome: str = "pending"  # acknowledged | refused | failed | in_doubt
    answer: Any = None  # acknowledged: (id, status, position) or redemption id
    code: str | None = None  # the final refusal's or failure's status/code
    replayed: bool = False  # acknowledged by a replay (redemption) or by the read (enrolment)

    @property
    def answer_id(self) -> int | None:
        """The row the acknowledgement named: the enrolment's or the redemption's id."""
        if self.answer is None:
            return None
        return int(self.answer[0]) if self.kind == "enrol" else int(self.answer)

    @property
    def may_be_applied(self) -> bool:
        return self.outcome == "in_doubt"


def _backoff(attempt: int, rng: random.Random) -> float:
    return min(1.0, 0.05 * 2 ** (attempt - 1)) * (0.5 + rng.random())


class Chaos:
    def __init__(self, args: argparse.Namespace, enrol: Bench, redeem: Bench, rng: random.Random) -> None:
        self.args = args
        self.enrol = enrol
        self.redeem = redeem
        self.vending = VendingRush()
        self.rng = rng
        self.ops: list[Op] = []
        self.kills: list[tuple[float, int]] = []
        self.restart: dict[str, float | None] = {"down": None, "up": None, "done": None}
        self.restart_error: str | None = None

    # --- the operations ----------------------------------------------------------------------

    def operations(self) -> Iterator[tuple[Op, Any]]:
        residents: list[SignedInResident] = self.enrol.state["residents"]
        machines: list[Machine] = self.redeem.state["machines"]
        payers: list[int] = self.redeem.state["resident_ids"]
        enrol_left = iter(residents)
        n_redeem = 0
        for i in range(self.args.max_requests):
            one = next(enrol_left, None) if i % 2 == 0 else None
            if one is not None:
                yield Op("enrol", one.resident.pk, one.resident.pk), one
                continue
            machine = machines[n_redeem % len(machines)]
            key = f"chaos-{n_redeem:07d}-{self.rng.getrandbits(48):012x}"
            n_redeem += 1
            rid = self.rng.choice(payers)
            yield Op("redeem", (machine.device_id, key), rid), machine

    async def run_op(self, session: Session, op: Op, extra: Any, give_up_at: float) -> None:
        self.ops.append(op)
        if op.kind == "enrol":
            await self._enrol(session, op, extra, give_up_at)
        else:
            await self._redeem(session, op, extra, give_up_at)
        if op.outcome == "pending":
            op.outcome = "in_doubt" if op.troubled else "failed"

    async def _retry_or_stop(self, op: Op, r: Response, give_up_at: float) -> bool:
        """After a non-final answer: sleep, then True to try again, False when time is up."""
        if r.status == 0 or r.status >= 500:
            op.troubled += 1
        if time.perf_counter() >= give_up_at:
            return False
        await asyncio.sleep(_backoff(op.attempts, self.rng))
        return time.perf_counter() < give_up_at

    def _final_refusal(self, op: Op, r: Response) -> bool:
        if (r.status, r.code) in REFUSALS[op.kind]:
            op.outcome, op.code = "refused", f"{r.status} {r.code}"
            return True
        if 400 <= r.status < 500 and (r.status, r.code) not in RETRYABLE_4XX:
            op.outcome, op.code = "failed", f"{r.status} {r.code}"
            # An earlier attempt without an answer may still have been applied.
            if op.troubled:
                op.outcome = "in_doubt"
            return True
        return False

    async def _enrol(self, session: Session, op: Op, one: SignedInResident, give_up_at: float) -> None:
        program_id = self.enrol.state["program_id"]
        path = f"/api/v1/programs/{program_id}/enrollments"
        confirm = False
        while True:
            op.attempts += 1
            if confirm:  # the enrolment exists: read it back, the answer that was lost
                r = await session.get("/api/v1/me/enrollments", token=one.token, tag=CONFIRM_TAG)
                mine = (
                    [e for e in (r.parsed() or []) if e.get("program_id") == program_id]
                    if r.status == 200
                    else []
                )
                if mine:
                    e = mine[0]
                    op.outcome, op.answer, op.replayed = (
                        "acknowledged",
                        (e["id"], e["status"], e["position"]),
                        True,
                    )
                    return
                if r.status == 200:  # already_enrolled, yet no enrolment: report, do not guess
                    op.outcome, op.code = "failed", "already_enrolled without an enrolment"
                    return
            else:
                tag = ENROL_TAG if op.attempts == 1 else ENROL_RETRY_TAG
                r = await session.post(path, token=one.token, json={}, tag=tag)
                made = r.parsed()
                if r.status == 201 and isinstance(made, list) and len(made) == 1:
                    e = made[0]
                    op.outcome, op.answer = "acknowledged", (e["id"], e["status"], e["position"])
                    return
                if r.status == 409 and r.code == "already_enrolled":
                    confirm = True
                    continue
                if self._final_refusal(op, r):
                    return
            if not await self._retry_or_stop(op, r, give_up_at):
                return

    async def _redeem(self, session: Session, op: Op, machine: Machine, give_up_at: float) -> None:
        from livingroom.people import passes

        key = op.key[1]
        body = {
            "token": passes.encode(op.resident_id, int(time.time())),
            "reward_id": self.redeem.state["reward_id"],
            "quantity": 1,
        }
        while True:
            op.attempts += 1
            tag = REDEEM_TAG if op.attempts == 1 else REDEEM_RETRY_TAG
            r = await self.vending._send(session, machine, key, body, tag)
            answer = r.parsed()
            if 200 <= r.status < 300 and isinstance(answer, dict):
                op.outcome, op.answer = "acknowledged", answer.get("redemption_id")
                op.replayed = r.headers.get("idempotent-replayed") == "true"
                return
            if (r.status, r.code) in REFUSALS["redeem"]:
                # Kept by the idempotency record, in the transaction the redemption would have
                # been: whatever happened to earlier attempts, this key redeemed nothing.
                op.outcome, op.code = "refused", f"{r.status} {r.code}"
                return
            if self._final_refusal(op, r):
                return
            if not await self._retry_or_stop(op, r, give_up_at):
                return

    # --- the faults --------------------------------------------------------------------------

    async def killer(self, server: Server, t0: float, until: float) -> None:
        """SIGKILL to a random worker every --kill-every seconds (children of the master only)."""
        while True:
            await asyncio.sleep(self.args.kill_every)
            if time.perf_counter() >= until:
                return
            pids = server.worker_pids()
            if not pids:
                continue  # all being respawned: skip this round
            pid = self.rng.choice(pids)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
                self.kills.append((time.perf_counter() - t0, pid))

    async def restarter(self, restart: Any, pg_url: str, t0: float, at: float) -> None:
        await asyncio.sleep(at)
        self.restart["down"] = time.perf_counter() - t0
        try:
            await asyncio.to_thread(restart)
            self.restart["done"] = time.perf_counter() - t0
            if await asyncio.to_thread(_wait_for_database, pg_url):
                self.restart["up"] = time.perf_counter() - t0
        except Exception as exc:  # reported, and the run fails: no recovery can be measured
            self.restart_error = f"{type(exc).__name__}: {exc}"

    # --- the load ----------------------------------------------------------------------------

    async def load(self, driver: Driver, server: Server, restart: Any, pg_url: str) -> float:
        args = self.args
        ops = self.operations()
        driver.t0 = t0 = time.perf_counter()
        load_end = t0 + args.seconds
        give_up_at = load_end + args.settle

        async def connection() -> None:
            session = Session(driver)
            try:
                while time.perf_counter() < load_end:
                    item = next(ops, None)
                    if item is None:
                        return
                    await self.run_op(session, item[0], item[1], give_up_at)
            finally:
                session.close()

        faults = [
            asyncio.ensure_future(self.killer(server, t0, load_end)),
            asyncio.ensure_future(self.restarter(restart, pg_url, t0, args.restart_at * args.seconds)),
        ]
        conns = [asyncio.ensure_future(connection()) for _ in range(args.concurrency)]
        try:
            # Connections stop taking operations at load_end and retry until give_up_at; a
            # request in flight then has --request-timeout to come back.
            done, pending = await asyncio.wait(
                conns, timeout=args.seconds + args.settle + args.request_timeout + 5
            )
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            for task in done:
                task.result()
            elapsed = time.perf_counter() - t0
            await asyncio.wait(faults, timeout=60)  # the restart, if it is still going on
        finally:
            for task in faults:
                task.cancel()
            await asyncio.gather(*faults, return_exceptions=True)
        return elapsed


# --- checks ----------------------------------------------------------------------------------------


def _key_accounting(ops: list[Op], rows: dict[Any, list[int]]) -> dict[str, int]:
    """lost / duplicated / in-doubt counts of one kind of operation against its rows by key."""
    by_key = {op.key: op for op in ops}
    lost = duplicated = extra_per_key = rows_without_request = in_doubt_applied = 0
    for op in ops:
        got = rows.get(op.key, [])
        if op.outcome == "acknowledged":
            if op.answer_id is None or op.answer_id not in got:
                lost += 1
        elif op.may_be_applied and got:
            in_doubt_applied += 1
    for key, got in rows.items():
        op = by_key.get(key)
        allowed = 1 if op is not None and (op.outcome == "acknowledged" or op.may_be_applied) else 0
        if len(got) > allowed:
            duplicated += len(got) - allowed
            if allowed:
                extra_per_key += len(got) - allowed
            else:
                rows_without_request += len(got)
    return {
        "lost": lost,
        "duplicated": duplicated,
        "extra_rows_per_key": extra_per_key,
        "rows_without_request": rows_without_request,
        "in_doubt_applied": in_doubt_applied,
    }


def check(chaos: Chaos) -> dict[str, Any]:
    from django.core.management import call_command
    from django.core.management.base import CommandError

    from livingroom.points.models import Account, Redemption
    from livingroom.programs.models import Enrollment

    enrol_ops = [op for op in chaos.ops if op.kind == "enrol"]
    redeem_ops = [op for op in chaos.ops if op.kind == "redeem"]

    # Enrolments: ids by resident (status and position against the answers: CourseRush.check).
    program_id = chaos.enrol.state["program_id"]
    enrol_rows: dict[Any, list[int]] = {}
    for eid, rid in Enrollment.objects.filter(program_id=program_id).values_list("id", "resident_id"):
        enrol_rows.setdefault(rid, []).append(eid)
    enrol_acc = _key_accounting(enrol_ops, enrol_rows)

    # Redemptions of the run's machines, by (machine, key), compared with the answer's id.
    devices = [m.device_id for m in chaos.redeem.state["machines"]]
    redeem_rows: dict[Any, list[int]] = {}
    for pk, device_id, key in Redemption.objects.filter(device_id__in=devices).values_list(
        "id", "device_id", "request_key"
    ):
        redeem_rows.setdefault((device_id, key), []).append(pk)
    redeem_acc = _key_accounting(redeem_ops, redeem_rows)

    # The scenarios' own invariants, fed as if the acknowledged answers were their 201s and the
    # in-doubt operations their unanswered requests.
    course = CourseRush()
    state = chaos.enrol.state
    state["answers"] = {
        op.answer[0]: (op.resident_id, op.answer[1], op.answer[2])
        for op in enrol_ops
        if op.outcome == "acknowledged"
    }
    state["outcome"] = Counter(
        sent=len(enrol_ops), answered=sum(1 for op in enrol_ops if not op.may_be_applied)
    )
    course_violations = course.check(chaos.enrol)

    vending = chaos.vending
    state = chaos.redeem.state
    state["approved"] = {
        op.key: (op.resident_id, op.answer) for op in redeem_ops if op.outcome == "acknowledged"
    }
    state["refused_keys"] = {op.key for op in redeem_ops if op.outcome == "refused"}
    state["outcome"] = Counter(
        sent=len(redeem_ops), answered=sum(1 for op in redeem_ops if not op.may_be_applied)
    )
    state["sent_by_resident"] = Counter(op.resident_id for op in redeem_ops)
    state["answered_by_resident"] = Counter(op.resident_id for op in redeem_ops if not op.may_be_applied)
    vending_violations = vending.check(chaos.redeem)

    negative = Account.objects.filter(balance__lt=0).count()
    out = io.StringIO()
    try:
        call_command("points_check", stdout=out, stderr=out)
        points_check_ok = True
    except CommandError as exc:
        points_check_ok = False
        out.write(str(exc))
    problems = {
        "course": chaos.enrol.state["problems"],
        "vending": chaos.redeem.state["problems"],
        "negative_balances": negative,
        "points_check": 0 if points_check_ok else 1,
    }
    return {
        "enrol": enrol_acc,
        "redeem": redeem_acc,
        "invariant_violations": course_violations + vending_violations + negative + (not points_check_ok),
        "problems": problems,
        "points_check": out.getvalue().strip().splitlines()[-1:] or [""],
        "double_debits": chaos.redeem.state["double_debits"],
        "enrol_rows": sum(len(v) for v in enrol_rows.values()),
        "redeem_rows": sum(len(v) for v in redeem_rows.values()),
        "seats_taken": chaos.enrol.state["seats_taken"],
        "waitlist_count": chaos.enrol.state["waitlist_count"],
    }


def recovery(samples: list[Sample], restart: dict[str, float | None]) -> dict[str, Any]:
    """recovery_s and the errors of the restart window (see the module docstring)."""
    down, up = restart["down"], restart["up"]
    if down is None or up is None:
        return {"recovery_s": None, "pg_restart_s": None, "server_recovery_s": None}
    firsts = [
        s.started + s.latency_ms / 1000
        for s in samples
        if s.tag in WRITE_TAGS and 200 <= s.status < 300 and s.started >= up
    ]
    if not firsts:
        return {"recovery_s": None, "pg_restart_s": round(up - down, 2), "server_recovery_s": None}
    recovered = min(firsts)
    window = [s for s in samples if down <= s.started + s.latency_ms / 1000 <= recovered]
    return {
        "recovery_s": round(recovered - down, 2),
        "pg_restart_s": round(up - down, 2),
        "server_recovery_s": round(recovered - up, 2),
        "restart_window_5xx": sum(1 for s in window if s.status >= 500),
        "restart_window_unanswered": sum(1 for s in window if s.status == 0),
    }


# --- the run ---------------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=(__doc__ or "").split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--seconds", type=float, default=40.0, help="load duration (new operations)")
    p.add_argument(
        "--settle", type=float, default=15.0, help="operations in flight may retry this long after"
    )
    p.add_argument("--max-requests", type=int, default=4000, help="at most this many operations")
    p.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    p.add_argument("--concurrency", type=int, default=16, help="client connections")
    p.add_argument(
        "--preload",
        action="store_true",
        help="gunicorn --preload: the master imports the app once and a respawned worker is a fork "
        "(default: as `make serve`, each new worker imports Django itself)",
    )
    p.add_argument("--request-timeout", type=float, default=10.0, help="one attempt, seconds")
    p.add_argument("--kill-every", type=float, default=3.0, help="SIGKILL a random worker this often (s)")
    p.add_argument(
        "--restart-at", type=float, default=0.5, help="restart PostgreSQL at this share of --seconds"
    )
    p.add_argument("--enrol-residents", type=int, default=600, help="residents who enrol (once each)")
    p.add_argument("--seats", type=int, default=30, help="seats of the course (the rest wait)")
    p.add_argument("--redeem-residents", type=int, default=300, help="residents with points")
    p.add_argument("--machines", type=int, default=8, help="vending machines")
    p.add_argument("--points", type=int, default=9, help="opening balance (3 drinks: refusals come)")
    p.add_argument("--price", type=int, default=3, help="the drink's price in points")
    p.add_argument(
        "--pg-url",
        default=None,
        help="use this server instead of a private cluster (only where initdb is missing); the run "
        "creates and drops a database on it and restarts it with --restart-cmd. Never the shared one.",
    )
    p.add_argument("--restart-cmd", default=None, help="shell command restarting the --pg-url server")
    p.add_argument("--keep", action="store_true", help="keep the database, cluster and var dir")
    p.add_argument("--seed", type=int, default=7)
    return p


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if (args.pg_url is None) != (args.restart_cmd is None):
        raise SystemExit("--pg-url and --restart-cmd go together")
    signal.signal(signal.SIGTERM, _raise_interrupt)
    rng = random.Random(args.seed)
    var_dir = Path(tempfile.mkdtemp(prefix="lr-bench-chaos-"))
    db_name = f"lr_chaos_{os.getpid()}"
    cluster: PrivateCluster | None = None
    server: Server | None = None
    db_created = False
    pg_url = ""
    t_start = time.perf_counter()
    try:
        if args.pg_url:
            pg_url = args.pg_url.rstrip("/")
            cmd = shlex.split(args.restart_cmd)

            def restart() -> None:
                subprocess.run(cmd, check=True, timeout=60, capture_output=True)  # noqa: S603 - the user's command

            log(f"== chaos: the server at {pg_url}, restarted with: {args.restart_cmd}")
        else:
            bin_dir = _pg_bin()
            if bin_dir is None:
                raise SystemExit(
                    "no initdb under /usr/lib/postgresql/*/bin: give --pg-url and --restart-cmd of a "
                    "server this run may restart (never the shared one)"
                )
            cluster = PrivateCluster(bin_dir)
            t = time.perf_counter()
            cluster.start()
            pg_url = cluster.url
            restart = cluster.restart
            log(
                f"== chaos: private cluster {cluster.dir} on {pg_url} ({bin_dir.parent.name}), "
                f"up in {time.perf_counter() - t:.1f} s"
            )
        database_url = f"{pg_url}/{db_name}"
        create_database(pg_url, db_name)
        db_created = True
        migrate_and_setup(database_url, var_dir)
        from django.db import connections

        # The two scenarios' own set-up, in one database (one center: harness.home_center).
        t = time.perf_counter()
        common = {"seed": args.seed, "workers": args.workers, "pgbench_low_clients": 0, "pgbench_seconds": 0}
        enrol = Bench(
            argparse.Namespace(
                residents=args.enrol_residents,
                seats=args.seats,
                waitlist=max(args.enrol_residents - args.seats, 0),
                fair_seconds=0,
                **common,
            ),
            db_name,
            database_url,
            var_dir,
        )
        CourseRush().setup(enrol)
        redeem = Bench(
            argparse.Namespace(
                residents=args.redeem_residents,
                machines=args.machines,
                points=args.points,
                price=args.price,
                stock=50_000,
                **common,
            ),
            db_name,
            database_url,
            var_dir,
        )
        chaos = Chaos(args, enrol, redeem, rng)
        chaos.vending.setup(redeem)
        connections.close_all()  # the server gets the database to itself
        log(f"scenario setup                   {time.perf_counter() - t:6.1f} s")

        port = free_port()
        server = Server(
            port=port,
            workers=args.workers,
            worker_class="sync",
            threads=1,
            log_path=var_dir / "gunicorn.log",
            extra_args=["--preload"] if args.preload else [],
        )
        t = time.perf_counter()
        server.start(dict(os.environ))
        log(
            f"gunicorn up                      {time.perf_counter() - t:6.1f} s   "
            f"({args.workers} sync workers{', preloaded' if args.preload else ''}, port {port})"
        )
        driver = Driver("127.0.0.1", port, request_timeout=args.request_timeout)

        async def warm_up() -> None:  # every worker's first answers are slow: not measured
            path = f"/api/v1/programs/{enrol.state['program_id']}"

            async def reads(session: Session) -> None:  # one request at a time per connection
                for _ in range(3):
                    await session.get(HEALTH_PATH)
                    await session.get(path)
                session.close()

            await asyncio.gather(*(reads(Session(driver)) for _ in range(2 * args.workers)))

        asyncio.run(warm_up())
        driver.samples = []
        driver.issued = 0
        log(
            f"load: {args.concurrency} connections, {args.seconds:g} s (+ {args.settle:g} s to settle), "
            f"SIGKILL to a worker every {args.kill_every:g} s, PostgreSQL restart at "
            f"{args.restart_at * args.seconds:.1f} s"
        )
        elapsed = asyncio.run(chaos.load(driver, server, restart, pg_url))

        deadline = time.monotonic() + 15  # the master respawns the last one killed
        while len(server.worker_pids()) < args.workers and time.monotonic() < deadline:
            time.sleep(0.2)
        workers_after = len(server.worker_pids())
        master_alive = server.proc is not None and server.proc.poll() is None

        found = check(chaos)
        connections.close_all()
        rec = recovery(driver.samples, chaos.restart)
        report = _report(
            args, chaos, driver.samples, elapsed, found, rec, workers_after, master_alive, server
        )
        log(f"total {time.perf_counter() - t_start:.1f} s")
        print(json.dumps(report, ensure_ascii=False), flush=True)
        return 0 if report["ok"] else 1
    except KeyboardInterrupt:
        log("interrupted: cleaning up")
        return 130
    finally:
        if server is not None:
            server.stop()
        with contextlib.suppress(Exception):
            from django.db import connections as _connections

            _connections.close_all()
        if args.keep:
            log(
                f"kept: DATABASE_URL={pg_url}/{db_name}; var dir {var_dir}"
                + (f"; cluster {cluster.dir} (stop: pg_ctl -D {cluster.data} stop)" if cluster else "")
            )
        else:
            if db_created and cluster is None:
                with contextlib.suppress(Exception):
                    drop_database(pg_url, db_name)
            if cluster is not None:
                cluster.close()
            shutil.rmtree(var_dir, ignore_errors=True)


def _report(
    args: argparse.Namespace,
    chaos: Chaos,
    samples: list[Sample],
    elapsed: float,
    found: dict[str, Any],
    rec: dict[str, Any],
    workers_after: int,
    master_alive: bool,
    server: Server,
) -> dict[str, Any]:
    ops = chaos.ops
    outcomes = Counter(op.outcome for op in ops)
    by_kind = {kind: Counter(op.outcome for op in ops if op.kind == kind) for kind in ("enrol", "redeem")}
    lost = found["enrol"]["lost"] + found["redeem"]["lost"]
    duplicated = found["enrol"]["duplicated"] + found["redeem"]["duplicated"]
    statuses = Counter(s.status for s in samples)
    codes = Counter(op.code for op in ops if op.outcome == "failed")
    writes = sorted(s.latency_ms for s in samples if s.tag in WRITE_TAGS and 200 <= s.status < 300)
    log_text = ""
    with contextlib.suppress(OSError):
        log_text = server.log_path.read_text(errors="replace")
    recovered = rec["recovery_s"] is not None and master_alive and workers_after == args.workers
    report: dict[str, Any] = {
        "scenario": "chaos",
        "requests": len(ops),
        "acknowledged": outcomes["acknowledged"],
        "lost": lost,
        "duplicated": duplicated,
        "recovery_s": rec["recovery_s"],
        "in_doubt": outcomes["in_doubt"],
        "in_doubt_applied": found["enrol"]["in_doubt_applied"] + found["redeem"]["in_doubt_applied"],
        "refused": outcomes["refused"],
        "failed": outcomes["failed"],
        "failed_codes": dict(codes),
        "attempts": len(samples),
        "retried_requests": sum(1 for op in ops if op.attempts > 1),
        # The first answer was lost, the work was done: a redemption's replay
        # (Idempotent-Replayed: true), an enrolment's already_enrolled read back.
        "acknowledged_by_replay": sum(
            1 for op in ops if op.kind == "redeem" and op.outcome == "acknowledged" and op.replayed
        ),
        "acknowledged_by_read_back": sum(
            1 for op in ops if op.kind == "enrol" and op.outcome == "acknowledged" and op.replayed
        ),
        "enrolments": dict(by_kind["enrol"]),
        "redemptions": dict(by_kind["redeem"]),
        "invariant_violations": found["invariant_violations"],
        "double_debits": found["double_debits"],
        "problems": found["problems"],
        "accounting": {"enrol": found["enrol"], "redeem": found["redeem"]},
        "rows": {"enrolments": found["enrol_rows"], "redemptions": found["redeem_rows"]},
        "seats": args.seats,
        "seats_taken": found["seats_taken"],
        "waitlist_count": found["waitlist_count"],
        "points_check": found["points_check"][0],
        "worker_kills": len(chaos.kills),
        "workers_after": workers_after,
        "master_alive": master_alive,
        "restart": {k: None if v is None else round(v, 2) for k, v in chaos.restart.items()},
        "restart_error": chaos.restart_error,
        **{k: v for k, v in rec.items() if k != "recovery_s"},
        "acknowledged_per_s": round(outcomes["acknowledged"] / elapsed, 1) if elapsed else None,
        "write_2xx_p50_ms": _round(percentile(writes, 50)),
        "write_2xx_p99_ms": _round(percentile(writes, 99)),
        "status_counts": {str(k): v for k, v in sorted(statuses.items())},
        "server_tracebacks": log_text.count("Traceback (most recent call last)"),
        "server_errors": _server_errors(log_text),
        "server_log_worker_deaths": log_text.count("SIGKILL"),
        "duration_s": round(elapsed, 2),
        "seconds": args.seconds,
        "workers": args.workers,
        "preload": args.preload,
        "concurrency": args.concurrency,
    }
    report["ok"] = lost == 0 and duplicated == 0 and found["invariant_violations"] == 0 and recovered

    log("")
    log("== chaos — summary")
    log(
        f"load: {len(ops)} requests (operations) in {elapsed:.1f} s, {len(samples)} HTTP attempts; "
        f"{len(chaos.kills)} workers killed (SIGKILL), PostgreSQL restarted at {report['restart']['down']} s "
        f"(up again at {report['restart']['up']} s)"
    )
    by_tag: dict[str, Counter[tuple[int, str | None]]] = {}
    for s in samples:
        by_tag.setdefault(s.tag, Counter())[(s.status, s.code)] += 1
    for tag, answers in sorted(by_tag.items()):
        shown = ", ".join(
            f"{st}{' ' + c if c else ''}: {n}" for (st, c), n in sorted(answers.items(), key=str)
        )
        log(f"  {tag:<30} {sum(answers.values()):>6}   [{shown}]")
    log(
        f"operations: {outcomes['acknowledged']} acknowledged ({report['acknowledged_by_replay']} by a "
        f"replay, {report['acknowledged_by_read_back']} read back after already_enrolled), "
        f"{outcomes['refused']} refused (expected), {outcomes['failed']} failed, "
        f"{outcomes['in_doubt']} in doubt ({report['in_doubt_applied']} of them applied); "
        f"{report['retried_requests']} needed more than one attempt"
    )
    log(f"  enrolments: {dict(by_kind['enrol'])}; redemptions: {dict(by_kind['redeem'])}")
    log(
        f"database: {found['enrol_rows']} enrolments ({found['seats_taken']} of {args.seats} seats taken, "
        f"{found['waitlist_count']} waiting), {found['redeem_rows']} redemptions; "
        f"points_check: {report['points_check']}"
    )
    log(f"lost (acknowledged, not in the database): {lost}")
    log(f"duplicated (rows beyond what the keys allow): {duplicated}   {report['accounting']}")
    log(f"invariant violations: {found['invariant_violations']}   {found['problems']}")
    if rec["recovery_s"] is not None:
        log(
            f"recovery: {rec['recovery_s']} s from the restart to the first 2xx write sent after it "
            f"(PostgreSQL {rec['pg_restart_s']} s, the server {rec['server_recovery_s']} s more); "
            f"{rec['restart_window_5xx']} × 5xx and {rec['restart_window_unanswered']} unanswered meanwhile"
        )
    else:
        log(f"recovery: NONE — no 2xx write after the restart ({chaos.restart_error or 'no error reported'})")
    log(f"workers after the run: {workers_after} of {args.workers}, master alive: {master_alive}")
    if report["server_errors"]:
        log("server errors (last line of each traceback in gunicorn's log):")
        for what, n in report["server_errors"].items():
            log(f"  {n:>5} × {what}")
    log(
        "timeline (answers per second of the load; K = a worker killed, R = restart issued, U = database up):"
    )
    for line in _timeline(samples, chaos):
        log("  " + line)
    log(f"verdict: {'OK' if report['ok'] else 'FAILED'}")
    return report


def _server_errors(log_text: str, top: int = 6) -> dict[str, int]:
    """The exceptions that ended the tracebacks in gunicorn's log, by kind (addresses cut)."""
    found: Counter[str] = Counter()
    lines = log_text.splitlines()
    for i, line in enumerate(lines):
        if not line.startswith("Traceback (most recent call last)"):
            continue
        for last in lines[i + 1 :]:
            if last and not last.startswith((" ", "\t", "Traceback", "During handling", "The above")):
                kind, _, message = last.partition(": ")
                message = re.sub(r'".*?"|port \d+|\(\d+\)', "…", message.split("\n")[0])[:90]
                found[f"{kind}: {message}"] += 1
                break
    return dict(found.most_common(top))


def _timeline(samples: list[Sample], chaos: Chaos) -> list[str]:
    """One line per second: 2xx, 4xx, 5xx and unanswered attempts ending in it, and the faults."""
    seconds: dict[int, Counter[str]] = {}
    for s in samples:
        end = int(s.started + s.latency_ms / 1000)
        kind = "2xx" if 200 <= s.status < 300 else "none" if s.status == 0 else f"{s.status // 100}xx"
        seconds.setdefault(end, Counter())[kind] += 1
    marks: dict[int, str] = {}
    for t, _ in chaos.kills:
        marks[int(t)] = marks.get(int(t), "") + "K"
    for key, mark in (("down", "R"), ("up", "U")):
        t = chaos.restart[key]
        if t is not None:
            marks[int(t)] = marks.get(int(t), "") + mark
    out = []
    for second in range(0, max([*seconds, *marks], default=-1) + 1):
        c = seconds.get(second, Counter())
        out.append(
            f"{second:>3} s {marks.get(second, ''):<3} 2xx {c['2xx']:>4}  4xx {c['4xx']:>3}  "
            f"5xx {c['5xx']:>3}  none {c['none']:>3}"
        )
    return out


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


if __name__ == "__main__":
    sys.exit(main())
