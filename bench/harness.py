"""The shared HTTP benchmark harness: a real gunicorn over a fresh PostgreSQL database.

A scenario is a small class (see ``Scenario``) and a ``main()`` call::

    class Smoke(Scenario):
        name = "http_smoke"
        pgbench_script = "resident_by_id.sql"          # optional reference transaction (bench/sql/)

        def setup(self, bench):                        # in-process, ORM and services allowed
            load_district()
            bench.state["residents"] = create_residents(200)

        def jobs(self, bench):                         # what the connections do, one job at a time
            for r in itertools.cycle(bench.state["residents"]):
                yield lambda s, r=r: s.get("/api/v1/me", token=r.token, tag="me")

    if __name__ == "__main__":
        main(Smoke())

One run, in this order (every step bounded in time, everything on 127.0.0.1):

1. create the database ``lr_bench_<pid>``, run ``migrate`` in a subprocess, then ``django.setup()``
   in this process with the same environment (``DATABASE_URL``, a temporary
   ``LIVINGROOM_VAR_DIR``, a generated ``DJANGO_SECRET_KEY`` and ``LIVINGROOM_PII_KEY``), so data
   made by ``Scenario.setup`` (encrypted ID numbers, token hashes) is what the server reads;
2. start gunicorn (``--workers``, default 2) on a free port, wait for ``GET /api/v1/health``;
3. warm up (``GET /api/v1/health``, then ``Scenario.warmup``), then measure the ceiling:
   ``GET /api/v1/health`` with the same client and concurrency (``--ceiling-requests``);
4. the load: ``--concurrency`` HTTP/1.1 connections (asyncio streams, keep-alive when the server
   allows it: gunicorn's default sync workers close after each answer, so the client reconnects)
   run the scenario's jobs until they are exhausted, ``--requests`` were sent or ``--duration``
   passed; ``--time-cap`` cancels whatever is still running;
5. ``pgbench`` with the scenario's reference transaction, if it names one (``-n -c -T``);
6. ``Scenario.check``: invariant violations counted with SQL/ORM;
7. a readable summary, and last one JSON line (see docs/benchmarks.md for its keys);
8. stop gunicorn, drop the database and the temporary directory (unless ``--keep``).

Scenario modules must not import Django models at module level: Django is set up only in step 1.
Import them inside ``setup``/``check`` (as the helpers here do).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime as dt
import hashlib
import http.client
import itertools
import json
import math
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
SQL_DIR = BENCH_DIR / "sql"
sys.path.insert(0, str(ROOT / "src"))


def _venv_bin() -> Path:
    here = Path(sys.executable).parent
    return here if (here / "gunicorn").exists() else ROOT / ".venv" / "bin"


VENV_BIN = _venv_bin()
HEALTH_PATH = "/api/v1/health"
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432"


def log(message: str) -> None:
    print(message, flush=True)


# --- samples, outcomes and statistics ----------------------------------------------------------

SUCCESS, REFUSAL, ERROR = "success", "refusal", "error"


@dataclasses.dataclass(slots=True)
class Sample:
    """One request as the client saw it. ``status`` 0 means no HTTP answer (see ``code``)."""

    tag: str
    status: int
    latency_ms: float
    code: str | None  # the JSON "code" of an error body, or "timeout"/"connection_error"
    started: float  # seconds since the load began


@dataclasses.dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    latency_ms: float
    code: str | None = None

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def parsed(self) -> Any:
        """The JSON body, or None when there is none or it is not JSON."""
        try:
            return self.json()
        except ValueError:
            return None


def percentile(sorted_values: list[float], q: float) -> float | None:
    """Nearest-rank percentile of an already sorted list (q in 0..100)."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def _r(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


@dataclasses.dataclass
class LoadResult:
    samples: list[Sample]
    elapsed_s: float
    timed_out: bool
    client_cpu_s: float

    @property
    def requests(self) -> int:
        return len(self.samples)

    @property
    def per_second(self) -> float:
        return self.requests / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def latencies(self, samples: Iterable[Sample] | None = None) -> list[float]:
        return sorted(s.latency_ms for s in (self.samples if samples is None else samples))


# --- the HTTP client: one keep-alive connection per session -------------------------------------


class StopLoad(Exception):
    """Raised inside a job to end the whole load early (e.g. nothing left to book)."""


class Session:
    """An HTTP/1.1 connection that reconnects when the server closes it; every request is recorded.

    Jobs call ``await session.get(path, token=..., tag=...)`` / ``session.post(path, json=...)``.
    The response is returned (``.status``, ``.code``, ``.json()``) so a job may act on it.
    """

    def __init__(self, driver: Driver) -> None:
        self.driver = driver
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.reused = False

    async def connect(self) -> None:
        self.close()
        self.reader, self.writer = await asyncio.open_connection(self.driver.host, self.driver.port)
        self.reused = False

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def get(self, path: str, **kwargs: Any) -> Response:
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> Response:
        return await self.request("POST", path, **kwargs)

    async def put(self, path: str, **kwargs: Any) -> Response:
        return await self.request("PUT", path, **kwargs)

    async def delete(self, path: str, **kwargs: Any) -> Response:
        return await self.request("DELETE", path, **kwargs)

    async def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
        tag: str | None = None,
    ) -> Response:
        body = b"" if json is None else _json_bytes(json)
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.driver.host}:{self.driver.port}"]
        if token:
            lines.append(f"Authorization: Bearer {token}")
        if json is not None:
            lines.append("Content-Type: application/json")
        if body or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body)}")
        lines.extend(f"{k}: {v}" for k, v in (headers or {}).items())
        raw = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
        self.driver.issued += 1
        start = time.perf_counter()
        try:
            status, resp_headers, resp_body = await asyncio.wait_for(
                self._exchange(raw), self.driver.request_timeout
            )
        except TimeoutError:
            self.close()
            response = Response(0, {}, b"", (time.perf_counter() - start) * 1000, "timeout")
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            self.close()
            response = Response(0, {}, b"", (time.perf_counter() - start) * 1000, "connection_error")
        else:
            code = None
            if status >= 400 and resp_body[:1] == b"{":
                with contextlib.suppress(ValueError, AttributeError):
                    code = _json_loads(resp_body).get("code")
            response = Response(status, resp_headers, resp_body, (time.perf_counter() - start) * 1000, code)
        self.driver.record(
            Sample(tag or path, response.status, response.latency_ms, response.code, start - self.driver.t0)
        )
        return response

    async def _exchange(self, raw: bytes) -> tuple[int, dict[str, str], bytes]:
        for attempt in (1, 2):
            if self.writer is None:
                await self.connect()
            assert self.reader is not None and self.writer is not None
            was_reused = self.reused
            try:
                self.writer.write(raw)
                await self.writer.drain()
                status, headers, body, keep = await _read_response(self.reader)
            except (OSError, asyncio.IncompleteReadError) as exc:
                self.close()
                # A kept-alive connection the server closed while idle: send again on a new one
                # (what HTTP clients do; nothing was answered, so the server never saw it).
                if attempt == 1 and was_reused and not getattr(exc, "partial", b""):
                    continue
                raise
            if keep:
                self.reused = True
            else:
                self.close()
            return status, headers, body
        raise AssertionError("unreachable")


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def _json_loads(body: bytes) -> Any:
    return json.loads(body)


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes, bool]:
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head[:-4].decode("latin-1").split("\r\n")
    version, status_text = status_line.split(" ", 2)[:2]
    headers: dict[str, str] = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    keep = version == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")  # no trailers expected
                break
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)
        body = b"".join(parts)
    else:
        body = await reader.read()
        keep = False
    return int(status_text), headers, body, keep


Job = Callable[[Session], Awaitable[Any]]


class Driver:
    """Runs jobs on ``concurrency`` sessions until the jobs run out, or a limit is reached."""

    def __init__(self, host: str, port: int, *, request_timeout: float = 30.0) -> None:
        self.host, self.port = host, port
        self.request_timeout = request_timeout
        self.samples: list[Sample] = []
        self.issued = 0  # requests sent (or being sent) in this run: bounds --requests exactly
        self.t0 = time.perf_counter()

    def record(self, sample: Sample) -> None:
        self.samples.append(sample)

    async def _run(
        self,
        jobs: Iterator[Job],
        concurrency: int,
        max_requests: int | None,
        duration: float | None,
        time_cap: float,
    ) -> LoadResult:
        sessions = [Session(self) for _ in range(concurrency)]
        # Open every connection first, so all start together (a burst "when the slots open").
        await asyncio.gather(*(s.connect() for s in sessions), return_exceptions=True)
        for s in sessions:
            s.reused = True  # opened ahead: if the server dropped it meanwhile, send again on a new one
        cpu0 = time.process_time()
        self.t0 = time.perf_counter()
        deadline = self.t0 + duration if duration else None
        stop = asyncio.Event()

        async def worker(session: Session) -> None:
            while not stop.is_set():
                if max_requests is not None and self.issued >= max_requests:
                    break
                if deadline is not None and time.perf_counter() >= deadline:
                    break
                job = next(jobs, None)
                if job is None:
                    break
                try:
                    await job(session)
                except StopLoad:
                    stop.set()

        timed_out = False
        tasks = [asyncio.ensure_future(worker(s)) for s in sessions]
        try:
            done, pending = await asyncio.wait(tasks, timeout=time_cap)
            if pending:
                timed_out = True
                for task in pending:
                    task.cancel()
                await asyncio.gather(*pending, return_exceptions=True)
            for task in done:
                task.result()  # a bug in a job should not pass unnoticed
        finally:
            for s in sessions:
                s.close()
        elapsed = time.perf_counter() - self.t0
        return LoadResult(self.samples, elapsed, timed_out, time.process_time() - cpu0)

    def run(
        self,
        jobs: Iterable[Job],
        *,
        concurrency: int,
        max_requests: int | None = None,
        duration: float | None = None,
        time_cap: float = 60.0,
    ) -> LoadResult:
        self.samples = []
        self.issued = 0
        return asyncio.run(self._run(iter(jobs), concurrency, max_requests, duration, time_cap))


def get_job(path: str, *, token: str | None = None, tag: str | None = None) -> Job:
    """A job of one ``GET`` (for endless loads of reads and for warm-ups)."""

    async def job(session: Session) -> Response:
        return await session.get(path, token=token, tag=tag)

    return job


def repeat(job: Job) -> Iterator[Job]:
    """The same job forever (bound the load with ``max_requests``/``duration``)."""
    return itertools.repeat(job)


# --- the scenario interface -------------------------------------------------------------------


class Bench:
    """What a scenario sees: options, database, server address, and ``state`` for its own data."""

    def __init__(self, args: argparse.Namespace, db_name: str, database_url: str, var_dir: Path) -> None:
        self.args = args
        self.db_name = db_name
        self.database_url = database_url
        self.var_dir = var_dir
        self.host = "127.0.0.1"
        self.port = 0
        self.state: dict[str, Any] = {}
        # Known when Scenario.figures runs: the ceiling and the reference transaction's rate.
        self.ceiling_requests_per_s: float | None = None
        self.pgbench_tps: float | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"


class Scenario:
    """Override what the scenario needs; the defaults make an empty, error-free run.

    * ``name``: the ``scenario`` of the JSON line.
    * ``pgbench_script``: a file under bench/sql/ holding the reference SQL transaction, or None.
    * ``expected_refusals``: ``(status, code)`` answers that are a correct "no" (e.g.
      ``(409, "slot_taken")``); ``classify`` counts them apart from successes and errors.
    * ``defaults``: default values of the common options for this scenario (``{"concurrency": 50}``).
    """

    name = "unnamed"
    description = ""
    pgbench_script: str | None = None
    expected_refusals: frozenset[tuple[int, str | None]] = frozenset()
    defaults: dict[str, Any] = {}

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Options of this scenario (``--residents`` ...)."""

    def configure(self, args: argparse.Namespace) -> None:
        """After parsing: derive options from others (e.g. one connection per resident)."""

    def setup(self, bench: Bench) -> None:
        """Make the data, in this process (ORM, services, harness helpers), before the server starts."""

    def warmup(self, bench: Bench) -> Iterable[Job]:
        """Jobs run once before the measurements and not recorded (each worker's first answers
        are slow: lazy imports, translations, database connection). Must not change what the load
        will find, so reads only."""
        return iter(())

    def jobs(self, bench: Bench) -> Iterable[Job]:
        """The load: async callables taking a ``Session``. Finite, or bounded by --requests/--duration."""
        return iter(())

    def classify(self, sample: Sample) -> str:
        """SUCCESS (2xx), REFUSAL (an expected "no") or ERROR (5xx, no answer, anything unexpected)."""
        if 200 <= sample.status < 300:
            return SUCCESS
        if (sample.status, sample.code) in self.expected_refusals:
            return REFUSAL
        return ERROR

    def pgbench_variables(self, bench: Bench) -> dict[str, Any]:
        """``-D name=value`` for the reference transaction (e.g. the range of ids to pick from)."""
        return {}

    def check(self, bench: Bench) -> int:
        """After the load: the number of invariant violations found with SQL/ORM (0 is right)."""
        return 0

    def figures(self, bench: Bench, load: LoadResult, outcomes: Counter[str]) -> dict[str, Any]:
        """Scenario-specific figures added to the summary and the JSON line (e.g. bookings/s)."""
        return {}


# --- data helpers (call from Scenario.setup) ---------------------------------------------------


def home_center() -> tuple[Any, Any, Any]:
    """``(street, community, center)`` of the scenarios set in one place (西乡街道, 固戍社区 and its
    center): made on the first call and found on the next, so two scenarios set up in one database
    (``bench/chaos.py`` runs the enrolment rush and the vending machines together) share them."""
    from livingroom.places.models import Center, Community, Street

    street, _ = Street.objects.get_or_create(code="440306001", defaults={"name": "西乡街道"})
    community, _ = Community.objects.get_or_create(
        code="440306001001", defaults={"street": street, "name": "固戍社区"}
    )
    center, _ = Center.objects.get_or_create(community=community, name="固戍社区党群服务中心")
    return street, community, center


def load_district(*, seed: int = 20241120) -> None:
    """The demo district's places: 10 sub-districts, 124 communities, a center each with opening
    hours, spaces and facilities (no staff, residents or bookings: scenarios make their own).

    Uses the demo loader's place step; should it disappear, the whole demo (``load_demo``, with
    its 300 residents) is loaded instead.
    """
    from livingroom.web.demo import loader

    if loader.is_loaded():
        return
    load_places = getattr(loader, "_load_places", None)
    with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
        if load_places is not None:
            load_places(random.Random(seed))
        else:
            loader.load_demo()


class SignedInResident(NamedTuple):
    """A resident with a real-name profile and a bearer token (``Authorization: Bearer <token>``)."""

    resident: Any  # livingroom.people.models.Resident
    token: str

    @property
    def user(self) -> Any:
        return self.resident.user

    @property
    def auth_header(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀英华玲桂兰平刚建国海燕霞鹏辉红梅志文晓丹"
BENCH_REGION = "440307"  # not one the demo loader uses, so its residents never collide
_serial = itertools.count()


def _synthetic_id(k: int) -> str:
    from stdnum.cn import ric

    birth = dt.date(1940, 1, 1) + dt.timedelta(days=k % 24000)  # 1940 .. 2005
    seq, sex = (k // 24000) % 100, (k // 2_400_000) % 10
    body = f"{BENCH_REGION}{birth:%Y%m%d}{seq:02d}{sex}"
    return body + ric.calc_check_digit(body + "0")


def create_residents(
    n: int,
    *,
    communities: list[Any] | None = None,
    audit: bool = True,
    batch_size: int = 1000,
    seed: int = 7,
) -> list[SignedInResident]:
    """``n`` residents with valid, unique ID numbers and phones, each with a fresh bearer token.

    Bulk inserts (a few thousand per second) that store what the services store: the phone and ID
    number encrypted by ``EncryptedTextField`` (at insert), their blind indexes, birth date and sex
    parsed from the ID number by the same validator, pinyin for search, consent, the token as a
    SHA-256 hash, and (``audit``) the audit events the services would have written. Homes are
    spread over ``communities`` (default: every community; call ``load_district()`` first).
    """
    from django.conf import settings
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.utils import timezone
    from pypinyin import Style, lazy_pinyin

    from livingroom.core.models import AuditEvent
    from livingroom.core.validators import parse_id_number
    from livingroom.people.models import ApiToken, Resident, User, id_number_index, phone_index
    from livingroom.people.services import CONSENT_PURPOSE, CONSENT_VERSION

    homes = list(communities) if communities is not None else _all_communities()
    if not homes:
        raise RuntimeError("no community to live in: call load_district() first")
    rng = random.Random(seed)
    pinyin: dict[str, tuple[str, str]] = {}
    now = timezone.now()
    expires = now + dt.timedelta(seconds=settings.LIVINGROOM_API_TOKEN_TTL)
    unusable = make_password(None)  # one unusable hash for all: nobody signs in with a password
    out: list[SignedInResident] = []
    while len(out) < n:
        want = min(batch_size, n - len(out))
        rows = []
        for _ in range(want):
            k = next(_serial)
            phone = f"137{k:08d}"
            parsed = parse_id_number(_synthetic_id(k))
            name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
            if name not in pinyin:  # the service's own formula (people.services._pinyin)
                full = "".join(lazy_pinyin(name, errors="ignore")).lower()
                initials = "".join(lazy_pinyin(name, style=Style.FIRST_LETTER, errors="ignore")).lower()
                pinyin[name] = (full[:200], initials[:50])
            rows.append((phone, phone_index(phone), parsed, id_number_index(parsed.number), name))
        # Skip what the database already holds (a second call, or the demo residents).
        taken_phones = set(
            User.objects.filter(phone_hash__in=[r[1] for r in rows]).values_list("phone_hash", flat=True)
        )
        taken_ids = set(
            Resident.objects.filter(id_number_hash__in=[r[3] for r in rows]).values_list(
                "id_number_hash", flat=True
            )
        )
        rows = [r for r in rows if r[1] not in taken_phones and r[3] not in taken_ids]
        with transaction.atomic():
            users = [
                User(
                    display_name=name[:60],
                    phone=phone,
                    phone_hash=p_hash,
                    phone_tail=phone[-4:],
                    password=unusable,
                    date_joined=now,
                )
                for phone, p_hash, _, _, name in rows
            ]
            User.objects.bulk_create(users)
            residents = [
                Resident(
                    user=user,
                    real_name=name,
                    name_pinyin=pinyin[name][0],
                    name_initials=pinyin[name][1],
                    id_number=parsed.number,
                    id_number_hash=id_hash,
                    birth_date=parsed.birth_date,
                    sex=parsed.sex,
                    home_community=homes[(len(out) + i) % len(homes)],
                    consent_purpose=CONSENT_PURPOSE,
                    consent_version=CONSENT_VERSION,
                    consent_at=now,
                )
                for i, (user, (_, _, parsed, id_hash, name)) in enumerate(zip(users, rows, strict=True))
            ]
            Resident.objects.bulk_create(residents)
            raw_tokens = ["lr_" + secrets.token_urlsafe(32) for _ in users]
            tokens = [
                ApiToken(
                    user=user,
                    kind=ApiToken.Kind.RESIDENT,
                    token_hash=hashlib.sha256(raw.encode()).hexdigest(),
                    prefix=raw[:10],
                    created_at=now,
                    expires_at=expires,
                )
                for user, raw in zip(users, raw_tokens, strict=True)
            ]
            ApiToken.objects.bulk_create(tokens)
            if audit:
                events = []
                for user, resident, token in zip(users, residents, tokens, strict=True):
                    label = f"resident:{user.pk}"
                    events.append(
                        AuditEvent(
                            action="people.resident.created",
                            actor_kind=AuditEvent.ActorKind.USER,
                            actor=user,
                            actor_label=label,
                            object_type="people.resident",
                            object_id=str(resident.pk),
                            data={
                                "fields": ["real_name", "id_number", "home_community"],
                                "consent_version": CONSENT_VERSION,
                            },
                        )
                    )
                    events.append(
                        AuditEvent(
                            action="people.api_token.issued",
                            actor_kind=AuditEvent.ActorKind.USER,
                            actor=user,
                            actor_label=label,
                            object_type="people.apitoken",
                            object_id=str(token.pk),
                            data={"kind": ApiToken.Kind.RESIDENT},
                        )
                    )
                AuditEvent.objects.bulk_create(events)
        out.extend(SignedInResident(r, raw) for r, raw in zip(residents, raw_tokens, strict=True))
    _spot_check(out)
    return out


def _all_communities() -> list[Any]:
    from livingroom.places.models import Community

    return list(Community.objects.order_by("code"))


def _spot_check(made: list[SignedInResident]) -> None:
    """The first and last resident read back as the server will: decrypted, and their token valid."""
    from livingroom.people.models import Resident
    from livingroom.people.services import api_token_authenticate

    for one in (made[0], made[-1]) if made else ():
        stored = Resident.objects.select_related("user").get(pk=one.resident.pk)
        assert stored.id_number == one.resident.id_number and stored.user.phone == one.user.phone
        found = api_token_authenticate(raw=one.token)
        assert found is not None and found.user_id == one.user.pk, "token does not authenticate"


# --- database, server, pgbench ---------------------------------------------------------------


def _admin_connect(pg_url: str) -> Any:
    import psycopg

    return psycopg.connect(f"{pg_url.rstrip('/')}/postgres", autocommit=True, connect_timeout=10)


def create_database(pg_url: str, name: str) -> None:
    with _admin_connect(pg_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(pg_url: str, name: str) -> None:
    with _admin_connect(pg_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def migrate_and_setup(database_url: str, var_dir: Path) -> dict[str, str]:
    """Step 1 of a run, once the database exists: the environment (``_bench_env``, also written to
    ``var_dir/bench.env``) set in this process, ``migrate`` run in a subprocess, then
    ``django.setup()`` here. Returns the environment (gunicorn gets ``os.environ``, which holds it)."""
    env = _bench_env(database_url, var_dir)
    os.environ.update(env)
    (var_dir / "bench.env").write_text("".join(f"{k}={v}\n" for k, v in env.items()))
    t = time.perf_counter()
    subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [str(VENV_BIN / "python"), "-m", "livingroom", "migrate", "--noinput", "-v", "0"],
        env=dict(os.environ),
        cwd=ROOT,
        check=True,
        timeout=180,
    )
    log(f"migrate                          {time.perf_counter() - t:6.1f} s")

    import django

    django.setup()
    return env


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _health_ok(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", HEALTH_PATH)
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


class Server:
    """gunicorn ``livingroom.wsgi:application`` on 127.0.0.1, in its own process group."""

    def __init__(
        self,
        *,
        port: int,
        workers: int,
        worker_class: str,
        threads: int,
        log_path: Path,
        extra_args: Iterable[str] = (),
    ) -> None:
        self.port = port
        self.cmd = [
            str(VENV_BIN / "gunicorn"),
            "livingroom.wsgi:application",
            f"--bind=127.0.0.1:{port}",
            f"--workers={workers}",
            f"--worker-class={worker_class}",
            f"--threads={threads}",
            "--timeout=30",
            "--graceful-timeout=5",
            "--backlog=2048",
            "--log-level=warning",
            *extra_args,
        ]
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, env: dict[str, str], timeout: float = 30.0) -> None:
        with self.log_path.open("ab") as out:
            self.proc = subprocess.Popen(  # noqa: S603 - our own gunicorn, fixed arguments
                self.cmd, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({self.proc.returncode}):\n{self.log_tail()}")
            if _health_ok(self.port):
                return
            time.sleep(0.1)
        raise RuntimeError(
            f"gunicorn did not answer {HEALTH_PATH} within {timeout:.0f} s:\n{self.log_tail()}"
        )

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)  # graceful: workers finish their request
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)  # its own process group, started above
            self.proc.wait(timeout=5)

    def worker_pids(self) -> list[int]:
        """The master's children (its workers), read from /proc: empty when it has none or is gone."""
        if self.proc is None:
            return []
        master = self.proc.pid
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                # "pid (comm) state ppid ...": comm may hold spaces, so split after its ")".
                fields = stat.read_text().rpartition(")")[2].split()
            except OSError:
                continue  # gone meanwhile
            if fields and int(fields[1]) == master:
                pids.append(int(stat.parent.name))
        return sorted(pids)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def logged_errors(self) -> int:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return 0
        return text.count("Traceback (most recent call last)")


@dataclasses.dataclass
class PgbenchResult:
    tps: float | None
    clients: int
    seconds: int
    transactions: int | None
    latency_ms: float | None
    failed: int | None
    error: str | None = None


def run_pgbench(
    pg_url: str, db_name: str, script: Path, *, clients: int, seconds: int, variables: dict[str, Any]
) -> PgbenchResult:
    """``pgbench -n -f script -c clients -T seconds`` against the bench database; its tps parsed."""
    parts = urlsplit(pg_url)
    cmd = [
        shutil.which("pgbench") or "pgbench",
        "-n",
        "-f",
        str(script),
        "-c",
        str(clients),
        "-j",
        str(min(clients, 2)),
        "-T",
        str(seconds),
        "-h",
        parts.hostname or "127.0.0.1",
        "-p",
        str(parts.port or 5432),
        "-U",
        parts.username or "postgres",
    ]
    for key, value in variables.items():
        cmd += ["-D", f"{key}={value}"]
    cmd.append(db_name)
    env = dict(os.environ)
    if parts.password:
        env["PGPASSWORD"] = parts.password
    try:
        done = subprocess.run(  # noqa: S603 - pgbench with arguments built here
            cmd, env=env, capture_output=True, text=True, timeout=seconds + 30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return PgbenchResult(None, clients, seconds, None, None, None, str(exc))
    out = done.stdout + done.stderr

    def grab(pattern: str) -> str | None:
        m = re.search(pattern, out, re.MULTILINE)
        return m.group(1) if m else None

    tps = grab(r"^tps = ([\d.]+) \(without initial connection time\)") or grab(r"^tps = ([\d.]+)")
    processed = grab(r"number of transactions actually processed: (\d+)")
    failed = grab(r"number of failed transactions: (\d+)")
    latency = grab(r"^latency average = ([\d.]+) ms")
    error = None if done.returncode == 0 and tps else out.strip()[-800:]
    return PgbenchResult(
        float(tps) if tps else None,
        clients,
        seconds,
        int(processed) if processed else None,
        float(latency) if latency else None,
        int(failed) if failed else None,
        error,
    )


# --- the run ----------------------------------------------------------------------------------


def _parser(scenario: Scenario) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=scenario.description or f"HTTP benchmark: {scenario.name}",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    g = p.add_argument_group("harness")
    g.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    g.add_argument("--worker-class", default="sync", help="gunicorn worker class (sync = `make serve`)")
    g.add_argument("--threads", type=int, default=1, help="threads per worker (gthread)")
    g.add_argument("--concurrency", type=int, default=8, help="client connections")
    g.add_argument("--requests", type=int, default=None, help="stop the load after this many requests")
    g.add_argument("--duration", type=float, default=None, help="stop the load after this many seconds")
    g.add_argument("--time-cap", type=float, default=60.0, help="hard cap of the load phase, seconds")
    g.add_argument("--request-timeout", type=float, default=30.0, help="one request, seconds")
    g.add_argument("--ceiling-requests", type=int, default=2000, help="GET /api/v1/health requests")
    g.add_argument("--pgbench-seconds", type=int, default=5, help="0 skips pgbench")
    g.add_argument("--pgbench-clients", type=int, default=None, help="default: min(concurrency, 8)")
    g.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", DEFAULT_PG_URL), help="server URL")
    g.add_argument("--keep", action="store_true", help="keep the database and the var dir")
    g.add_argument("--seed", type=int, default=7)
    scenario.add_arguments(p)
    p.set_defaults(**scenario.defaults)
    return p


def _bench_env(database_url: str, var_dir: Path) -> dict[str, str]:
    """The environment of migrate, of this process's Django and of gunicorn: the same keys."""
    return {
        "DJANGO_SETTINGS_MODULE": "livingroom.settings",
        "DATABASE_URL": database_url,
        "LIVINGROOM_VAR_DIR": str(var_dir),
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "LIVINGROOM_PII_KEY": secrets.token_urlsafe(32),
        "DJANGO_DEBUG": "0",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LIVINGROOM_DEMO_HINTS": "0",
        # 4xx answers are logged by django.request at WARNING: errors only, so logging costs nothing.
        "LIVINGROOM_LOG_LEVEL": "ERROR",
        "PYTHONUNBUFFERED": "1",
    }


def _stats_line(label: str, result: LoadResult, samples: list[Sample] | None = None) -> str:
    chosen = result.samples if samples is None else samples
    lat = result.latencies(chosen)
    rate = len(chosen) / result.elapsed_s if result.elapsed_s else 0.0
    return (
        f"  {label:<28} {len(chosen):>7} req {rate:>9.1f} req/s   p50 {percentile(lat, 50) or 0:7.2f} ms"
        f"   p99 {percentile(lat, 99) or 0:7.2f} ms   max {lat[-1] if lat else 0:7.2f} ms"
    )


def main(scenario: Scenario, argv: list[str] | None = None) -> dict[str, Any]:
    """Run a scenario end to end; prints the summary and the JSON line, returns the JSON dict."""
    args = _parser(scenario).parse_args(argv)
    scenario.configure(args)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    pg_url = args.pg_url.rstrip("/")
    db_name = f"lr_bench_{os.getpid()}"
    database_url = f"{pg_url}/{db_name}"
    var_dir = Path(tempfile.mkdtemp(prefix="lr-bench-http-"))
    bench = Bench(args, db_name, database_url, var_dir)
    server: Server | None = None
    db_created = False
    t_start = time.perf_counter()
    try:
        log(f"== {scenario.name}: database {db_name}, var dir {var_dir}")
        create_database(pg_url, db_name)
        db_created = True
        migrate_and_setup(database_url, var_dir)
        from django.db import connections

        t = time.perf_counter()
        scenario.setup(bench)
        connections.close_all()  # the server gets the database to itself
        log(f"scenario setup                   {time.perf_counter() - t:6.1f} s")

        bench.port = free_port()
        server = Server(
            port=bench.port,
            workers=args.workers,
            worker_class=args.worker_class,
            threads=args.threads,
            log_path=var_dir / "gunicorn.log",
        )
        t = time.perf_counter()
        server.start(dict(os.environ))
        log(
            f"gunicorn up                      {time.perf_counter() - t:6.1f} s   "
            f"({args.workers} {args.worker_class} workers x {args.threads} threads, {bench.base_url})"
        )

        driver = Driver(bench.host, bench.port, request_timeout=args.request_timeout)

        health = get_job(HEALTH_PATH, tag="health")
        driver.run(repeat(health), concurrency=args.concurrency, max_requests=20 * args.workers, time_cap=30)
        driver.run(scenario.warmup(bench), concurrency=min(args.concurrency, 4 * args.workers), time_cap=30)
        ceiling = driver.run(
            repeat(health), concurrency=args.concurrency, max_requests=args.ceiling_requests, time_cap=30
        )
        ceiling_bad = sum(1 for s in ceiling.samples if s.status != 200)

        log(
            f"load: {args.concurrency} connections"
            + (f", {args.requests} requests" if args.requests else "")
            + (f", {args.duration:g} s" if args.duration else "")
            + f", cap {args.time_cap:g} s"
        )
        load = driver.run(
            scenario.jobs(bench),
            concurrency=args.concurrency,
            max_requests=args.requests,
            duration=args.duration,
            time_cap=args.time_cap,
        )

        pg: PgbenchResult | None = None
        if scenario.pgbench_script and args.pgbench_seconds > 0:
            clients = args.pgbench_clients or min(args.concurrency, 8)
            pg = run_pgbench(
                pg_url,
                db_name,
                SQL_DIR / scenario.pgbench_script,
                clients=clients,
                seconds=args.pgbench_seconds,
                variables=scenario.pgbench_variables(bench),
            )

        violations = scenario.check(bench)
        connections.close_all()
        server_tracebacks = server.logged_errors()

        outcomes: Counter[str] = Counter(scenario.classify(s) for s in load.samples)
        ceiling_rps = ceiling.per_second
        bench.ceiling_requests_per_s = ceiling_rps
        bench.pgbench_tps = pg.tps if pg else None
        extra = scenario.figures(bench, load, outcomes)
        lat = load.latencies()
        ceiling_lat = ceiling.latencies()
        summary: dict[str, Any] = {
            "scenario": scenario.name,
            "requests": load.requests,
            "requests_per_s": _r(load.per_second, 1),
            "p50_ms": _r(percentile(lat, 50)),
            "p99_ms": _r(percentile(lat, 99)),
            "errors": outcomes[ERROR],
            "successes": outcomes[SUCCESS],
            "expected_refusals": outcomes[REFUSAL],
            "invariant_violations": violations,
            "ceiling_requests_per_s": _r(ceiling_rps, 1),
            "ceiling_p50_ms": _r(percentile(ceiling_lat, 50)),
            "ceiling_ratio": _r(load.per_second / ceiling_rps, 3) if ceiling_rps else None,
            "pgbench_tps": _r(pg.tps, 1) if pg else None,
            "pgbench_clients": pg.clients if pg else None,
            "duration_s": _r(load.elapsed_s, 2),
            "timed_out": load.timed_out,
            "concurrency": args.concurrency,
            "workers": args.workers,
            "worker_class": args.worker_class,
            "client_cpu_share": _r(load.client_cpu_s / load.elapsed_s, 3) if load.elapsed_s else None,
            "status_counts": {str(k): v for k, v in sorted(Counter(s.status for s in load.samples).items())},
            "server_tracebacks": server_tracebacks,
            **extra,
        }

        log("")
        log(f"== {scenario.name} — summary")
        log(f"ceiling (GET {HEALTH_PATH}, same client and concurrency):")
        log(_stats_line("health", ceiling) + (f"   NOT 200: {ceiling_bad}" if ceiling_bad else ""))
        log(
            f"load: {load.requests} requests in {load.elapsed_s:.2f} s"
            + ("  (TIME CAP REACHED)" if load.timed_out else "")
            + f"; client CPU {load.client_cpu_s:.2f} s"
        )
        log(_stats_line("all", load))
        by_tag: dict[str, list[Sample]] = {}
        for s in load.samples:
            by_tag.setdefault(s.tag, []).append(s)
        for tag, group in sorted(by_tag.items()):
            answers = Counter((s.status, s.code) for s in group)
            shown = ", ".join(f"{st}{' ' + c if c else ''}: {n}" for (st, c), n in sorted(answers.items()))
            log(_stats_line(tag, load, group) + f"   [{shown}]")
        log(
            f"outcomes: {outcomes[SUCCESS]} successes, {outcomes[REFUSAL]} expected refusals, "
            f"{outcomes[ERROR]} errors"
        )
        if pg is not None:
            if pg.tps is not None:
                log(
                    f"pgbench {scenario.pgbench_script} (-c {pg.clients}, {pg.seconds} s): {pg.tps:.1f} tps, "
                    f"latency {pg.latency_ms} ms, {pg.transactions} transactions, failed {pg.failed or 0}"
                )
            else:
                log(f"pgbench failed: {pg.error}")
        for key, value in extra.items():
            log(f"{key}: {value}")
        log(f"invariant violations: {violations}")
        if summary["ceiling_ratio"] is not None:
            log(f"ceiling ratio (load req/s / health req/s): {summary['ceiling_ratio']:.3f}")
        if server_tracebacks:
            log(f"server log: {server_tracebacks} tracebacks; last lines:\n{server.log_tail()}")
        log(f"total {time.perf_counter() - t_start:.1f} s")
        print(json.dumps(summary, ensure_ascii=False), flush=True)
        return summary
    except KeyboardInterrupt:
        log("interrupted: cleaning up")
        raise SystemExit(130) from None
    finally:
        if server is not None:
            server.stop()
        with contextlib.suppress(Exception):
            from django.db import connections as _connections

            _connections.close_all()
        if args.keep:
            log(f"kept: DATABASE_URL={database_url}; environment in {var_dir / 'bench.env'}")
        else:
            if db_created:
                with contextlib.suppress(Exception):
                    drop_database(pg_url, db_name)
            shutil.rmtree(var_dir, ignore_errors=True)


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt
