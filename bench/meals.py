"""Meals benchmark, the lunch rush: signed canteen terminals serve set meals, with retries.

    .venv/bin/python bench/meals.py                          # 3,300 requests (~3,000 first + 10 %
                                                             # retries), 8 canteens, 16 terminals
    .venv/bin/python bench/meals.py --requests 1000          # a shorter run
    .venv/bin/python bench/meals.py --portions-good 200      # the ¥25 set meal does not sell out

Set-up (in-process, before gunicorn starts), through ``meals.services``: two sub-districts of
four communities each, a center per community with a space of kind canteen and a canteen in it
(every other one run by a partner organisation), opened by a community worker of every
community. Each canteen has two set meals, 吃得饱 ¥18 and 吃得好 ¥25, a rider tier (¥10 / ¥15:
district and sub-district subsidy, any resident) and three elderly tiers (60–69, 70–79, 80+;
residents of the canteen's sub-district), as ``tests/meals/conftest.py`` makes them; today's
lunch menu served 00:00–23:59:59 (the whole run) with ``--portions-full`` (300) and
``--portions-good`` (80) portions, so the ¥25 sells out during the rush (``sold_out`` refusals,
and an oversell would show). ``--terminals`` (2) canteen terminals per canteen
(``device_register``, kind ``canteen_terminal``). ``--residents`` (2,500) residents spread over the
communities (``harness.create_residents``, in chunks whose birth dates span 1940–2005: ~40 % are
60 or older, elderly by the birth date on the ID); ``--rider-share`` (40 %) of the others are
verified riders (``EligibilityVerification`` rows, valid a year), the rest belong to no group.
``--orders`` (300) riders order ahead (``services.meal_order``) at a canteen chosen at random.

The load: ``POST /api/v1/devices/canteen/servings`` signed by a terminal
(``core.signing.signed_headers``), with a new ``Idempotency-Key`` and, but for walk-ins, a fresh
resident pass (``people.passes.encode``) made just before the request. The first requests are
drawn at random: a pick-up (``--pickup-share``, a rider who ordered, at a terminal of that canteen,
no ``menu_item_id``), a walk-in (``--walk-in-share``, no pass, list price), a second attempt
(``--second-share``, a resident already served, three times in four one whose meal was
subsidised: of those, half ask again and must be refused ``409 subsidised_meal_taken``, half ask
with ``full_price: true`` and pay the list price; an elderly resident at a canteen of the other
sub-district is not subsidised there, so is served at list price), a rider at two canteens at
once (``--dual-pairs`` riders: two passes, two terminals of different canteens, sent together
on two connections: one meal, one refusal), otherwise a
resident's first meal at the counter (``menu_item_id``; the ¥25 set meal one time in three). Each
resident's first meal is drawn without repeats. ``--retry-share`` (10 %) of the requests retry an
earlier answered request (each at most once): same terminal, key, body and pass, a new nonce and
signature; the answer must be the same status and body with ``Idempotent-Replayed: true``.
``201``, ``409 sold_out`` and ``409 subsidised_meal_taken`` are expected; anything else is an error.

Afterwards, SQL counts invariant violations: oversold portions (the sum over menu items of
``max(sold - portions, 0)``), menu items whose ``sold`` differs from their live meals, double
subsidies (a resident with more than one live subsidised meal on a day), duplicated servings (more
than one meal per terminal and key), served meals whose ledger entries differ from their price
split layer by layer (or whose split does not add up to the list price), entries on meals not
served, meal rows that differ from the 201 answers (id, resident, price, subsidy), rows no answer
accounts for, refusals with a row, a ``sold_out`` answered for an item that still has portions,
retries not answered identically, and answers that contradict the request (a pick-up not served
from the order, a walk-in with a subsidy, a second subsidy answered 201, both canteens serving
the rider).

The reference transaction (``bench/sql/meals_serving.sql``) is every row one subsidised counter
serving writes, without the reads and without Python in between, on a ninth canteen kept for
pgbench.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import itertools
import random
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import harness
from harness import (
    Bench,
    Job,
    LoadResult,
    Response,
    Scenario,
    Session,
    _json_bytes,
    create_residents,
    log,
    main,
    percentile,
    run_pgbench,
)

PATH = "/api/v1/devices/canteen/servings"
WARM_PATH = "/api/v1/devices/canteen/menu"
PGBENCH_SQL = "meals_serving.sql"
SOLD_OUT, TAKEN = "sold_out", "subsidised_meal_taken"

COUNTER, PICKUP, WALK_IN, SECOND, DUAL, RETRY = (
    "counter",
    "pick-up",
    "walk-in",
    "second",
    "two canteens",
    "retry",
)
TAGS = {kind: f"POST serving ({kind})" for kind in (COUNTER, PICKUP, WALK_IN, SECOND, DUAL, RETRY)}
WARM_TAG = "warm-up"

STREETS = (("440306001", "西乡街道"), ("440306002", "新安街道"))
COMMUNITIES = ("固戍", "龙珠", "宝民", "臣田", "上合", "灵芝", "翻身", "海裕", "大浪")  # the last: pgbench's
BIRTH_SPAN = 24000  # harness._synthetic_id: birth date = 1940-01-01 + (serial % 24000) days


@dataclass(frozen=True, slots=True)
class Terminal:
    device_id: int
    key_id: str
    secret: str
    canteen: int  # index in state["canteens"]


@dataclass(frozen=True, slots=True)
class CanteenItems:
    canteen_id: int
    full_item: int  # 吃得饱 ¥18
    good_item: int  # 吃得好 ¥25


@dataclass(slots=True)
class Sent:
    """An answered first request, kept to be retried."""

    terminal: Terminal
    key: str
    body: dict[str, Any]
    status: int
    answer: Any


class LunchRush(Scenario):
    name = "meals"
    description = __doc__ or ""
    pgbench_script = PGBENCH_SQL
    expected_refusals = frozenset({(409, SOLD_OUT), (409, TAKEN)})
    defaults = {"concurrency": 64, "workers": 3, "time_cap": 240.0, "requests": 3300}

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--canteens", type=int, default=8, help="canteens, one per center (at most 8)")
        parser.add_argument("--terminals", type=int, default=2, help="canteen terminals per canteen")
        parser.add_argument("--residents", type=int, default=2500, help="residents of the district")
        parser.add_argument(
            "--rider-share", type=float, default=0.40, help="verified riders among the under-60s"
        )
        parser.add_argument("--orders", type=int, default=300, help="riders who order ahead in the set-up")
        parser.add_argument("--portions-full", type=int, default=300, help="portions of the ¥18 set meal")
        parser.add_argument("--portions-good", type=int, default=80, help="portions of the ¥25 set meal")
        parser.add_argument(
            "--good-share", type=float, default=1 / 3, help="share asking for the ¥25 set meal"
        )
        parser.add_argument("--pickup-share", type=float, default=0.10, help="share of pick-ups of orders")
        parser.add_argument("--walk-in-share", type=float, default=0.10, help="share of walk-ins (no pass)")
        parser.add_argument("--second-share", type=float, default=0.09, help="share of second attempts")
        parser.add_argument("--dual-pairs", type=int, default=25, help="riders sent to two canteens at once")
        parser.add_argument(
            "--retry-share", type=float, default=0.10, help="share of requests that retry an earlier key"
        )
        parser.add_argument(
            "--pgbench-low-clients",
            type=int,
            default=None,
            help="a second pgbench run with this many clients (default: workers x threads; 0 skips it)",
        )

    def configure(self, args: argparse.Namespace) -> None:
        if args.requests is None and args.duration is None:
            args.requests = 3300  # the load is endless: bound it
        args.canteens = max(2, min(args.canteens, len(COMMUNITIES) - 1))
        if args.pgbench_clients is None:
            args.pgbench_clients = args.concurrency
        if args.pgbench_low_clients is None:
            args.pgbench_low_clients = args.workers * args.threads

    # --- set-up -----------------------------------------------------------------------------

    def setup(self, bench: Bench) -> None:
        from django.utils import timezone

        from livingroom.meals import services as meals
        from livingroom.meals.models import Canteen
        from livingroom.people.models import StaffRole, User
        from livingroom.people.scopes import staff_scope
        from livingroom.places import services as places
        from livingroom.places.models import CalendarDay, Center, Community, Organization, Space, Street

        args = bench.args
        rng = random.Random(args.seed)
        today = timezone.localdate()
        holiday = CalendarDay.objects.filter(date=today, kind=CalendarDay.Kind.HOLIDAY)
        if holiday.exists():
            # A throwaway database: the rush is a working day's lunch (no subsidy on holidays).
            log(f"set-up: {today} is a public holiday in the calendar; removed from the bench database")
            holiday.delete()
        if timezone.localtime().time() >= dt.time(23, 50):
            log("set-up: WARNING: the menu ends at 23:59:59 local time; the run may cross it")

        streets = [Street.objects.create(code=code, name=name) for code, name in STREETS]
        communities = [
            Community.objects.create(
                street=streets[_street_of(i)],
                code=f"{streets[_street_of(i)].code}{i + 1:03d}",
                name=f"{name}社区",
            )
            for i, name in enumerate(COMMUNITIES)
        ]
        centers = [Center.objects.create(community=c, name=f"{c.name}党群服务中心") for c in communities]
        worker = User.objects.create_user("bench-meals-desk", "x-not-used-123")
        StaffRole.objects.bulk_create(
            StaffRole(user=worker, role=StaffRole.Role.COMMUNITY_WORKER, community=c) for c in communities
        )
        scope = staff_scope(worker)
        assert scope is not None

        canteens: list[CanteenItems] = []
        terminals: list[Terminal] = []
        pg: dict[str, Any] = {}
        for i, center in enumerate(centers):
            is_pgbench = i == len(centers) - 1
            if not is_pgbench and i >= args.canteens:
                continue
            space = Space.objects.create(center=center, name="长者饭堂", kind=Space.Kind.CANTEEN, area_m2=120)
            operator = None
            if i % 2 == 0:
                operator = Organization.objects.create(
                    name=f"福中福社会企业（{center.community.name}）",
                    kind=Organization.Kind.SOCIAL_ENTERPRISE,
                )
                operator.centers.add(center)
            canteen = meals.canteen_create(
                scope=scope,
                actor=worker,
                space_id=space.pk,
                name=f"{center.community.name}饭堂",
                operator_id=operator.pk if operator else None,
            )
            full, good = _set_meals(meals, scope, worker, canteen)
            rider_tier = _tiers(meals, scope, worker, canteen, full, good)
            portions = (5000, 5000) if is_pgbench else (args.portions_full, args.portions_good)
            menu = meals.menu_publish(
                scope=scope,
                actor=worker,
                canteen_id=canteen.pk,
                day=today,
                serves_from=dt.time(0, 0),
                serves_until=dt.time(23, 59, 59),
                items=[
                    meals.MenuLine(set_meal_id=full.pk, portions=portions[0]),
                    meals.MenuLine(set_meal_id=good.pk, portions=portions[1]),
                ],
            )
            items = {it.set_meal_id: it.pk for it in menu.items.all()}
            if is_pgbench:
                device, _secret = places.device_register(
                    center=center, kind="canteen_terminal", name="pgbench 终端"
                )
                pg = {
                    "device": device.pk,
                    "canteen": canteen.pk,
                    "item": items[full.pk],
                    "tier": rider_tier.pk,
                    "street": center.community.street_id,
                }
                continue
            index = len(canteens)
            canteens.append(CanteenItems(canteen.pk, items[full.pk], items[good.pk]))
            for t in range(args.terminals):
                device, secret = places.device_register(
                    center=center, kind="canteen_terminal", name=f"饭堂终端 {t + 1}"
                )
                terminals.append(Terminal(device.pk, device.key_id, secret, index))
        assert Canteen.objects.count() == len(canteens) + 1

        residents = _residents(args.residents, communities[: args.canteens], args.seed)
        elderly = [r for r in residents if r.age_on(today) >= 60]
        young = [r for r in residents if r.age_on(today) < 60]
        riders = [r for r in young if rng.random() < args.rider_share]
        _verify_riders(riders, worker, today)

        # Orders ahead: riders at a canteen drawn at random (each takes a portion and the day's
        # subsidised meal now; they are picked up during the load).
        rng.shuffle(riders)
        orderers, dual_riders = riders[: args.orders], riders[args.orders : args.orders + args.dual_pairs]
        pickups: list[tuple[int, int]] = []
        t = time.perf_counter()
        for r in orderers:
            c = rng.randrange(len(canteens))
            item = canteens[c].good_item if rng.random() < args.good_share else canteens[c].full_item
            meals.meal_order(resident=r, menu_item_id=item)
            pickups.append((r.pk, c))
        order_s = time.perf_counter() - t
        taken = {r.pk for r in orderers} | {r.pk for r in dual_riders}
        fresh = [r.pk for r in residents if r.pk not in taken]
        rng.shuffle(fresh)
        rng.shuffle(pickups)

        # pgbench's residents: one per client, never served by the load.
        pg_clients = max(args.pgbench_clients or 0, args.pgbench_low_clients or 0, 1)
        pg_residents = create_residents(
            pg_clients, communities=[communities[-1]], audit=False, seed=args.seed
        )
        pg["first_resident"] = pg_residents[0].resident.pk
        assert [one.resident.pk for one in pg_residents] == list(
            range(pg["first_resident"], pg["first_resident"] + pg_clients)
        ), "pgbench's residents must have consecutive ids"

        bench.state.update(
            canteens=canteens,
            terminals=terminals,
            by_canteen=[[tm for tm in terminals if tm.canteen == c] for c in range(len(canteens))],
            menu_items=[i for c in canteens for i in (c.full_item, c.good_item)],
            fresh=fresh,
            pickups=pickups,
            duals=[r.pk for r in dual_riders],
            orders=len(orderers),
            riders={r.pk for r in riders},
            pgbench=pg,
            firsts=[],  # (resident id, subsidised) of answered first meals, for second attempts
            sent=[],  # answered originals not yet retried
            served={},  # (device id, key) -> (meal id, resident id, answer) from the 201 answers
            refused={},  # (device id, key) -> code
            sold_out_items=set(),
            outcome=Counter(),
            unexpected=Counter(),
        )
        log(
            f"set-up: {len(canteens)} canteens x {args.terminals} terminals, portions {args.portions_full} "
            f"(¥18) / {args.portions_good} (¥25); {len(residents)} residents: {len(elderly)} aged 60+, "
            f"{len(riders)} verified riders, {len(young) - len(riders)} in no group; {len(orderers)} orders "
            f"ahead ({order_s:.1f} s); {len(dual_riders)} riders for two canteens; "
            f"{pg_clients} pgbench residents"
        )

    # --- the load ---------------------------------------------------------------------------

    def warmup(self, bench: Bench) -> Iterator[Job]:
        """Signed reads only: each terminal asks for today's menu of its canteen."""
        for terminal in bench.state["terminals"] * 2:
            yield self._signed_get(terminal)

    def _signed_get(self, terminal: Terminal) -> Job:
        from livingroom.core.signing import signed_headers

        async def job(session: Session) -> None:
            headers = signed_headers(terminal.secret, terminal.key_id, "GET", WARM_PATH)
            await session.get(WARM_PATH, headers=headers, tag=WARM_TAG)

        return job

    def jobs(self, bench: Bench) -> Iterator[Job]:
        args = bench.args
        state = bench.state
        rng = random.Random(args.seed + 1)
        canteens: list[CanteenItems] = state["canteens"]
        terminals: list[Terminal] = state["terminals"]
        by_canteen: list[list[Terminal]] = state["by_canteen"]
        sent: list[Sent] = state["sent"]
        firsts: list[tuple[int, bool]] = state["firsts"]
        fresh: list[int] = state["fresh"]
        pickups: list[tuple[int, int]] = state["pickups"]
        duals: list[int] = state["duals"]
        originals = Counter[str]()
        retries = 0
        expected_originals = (args.requests or 3300) * (1 - args.retry_share)
        dual_share = len(duals) / expected_originals if duals else 0.0
        keys = (f"meal-{n:07d}-{rng.getrandbits(40):010x}" for n in itertools.count())

        def item_of(terminal: Terminal) -> int:
            c = canteens[terminal.canteen]
            return c.good_item if rng.random() < args.good_share else c.full_item

        for n in itertools.count(1):
            if sent and retries < args.retry_share * n:
                i = rng.randrange(len(sent))
                sent[i], sent[-1] = sent[-1], sent[i]
                retries += 1
                yield self._retry_job(bench, sent.pop())
                continue
            r = rng.random()
            edges = itertools.accumulate(
                (args.pickup_share, args.walk_in_share, args.second_share, dual_share)
            )
            pickup_edge, walk_edge, second_edge, dual_edge = edges
            if pickups and r < pickup_edge:
                resident, c = pickups.pop()
                kind, job = (
                    PICKUP,
                    self._serve_job(bench, PICKUP, rng.choice(by_canteen[c]), next(keys), resident),
                )
            elif pickup_edge <= r < walk_edge or (not fresh and not firsts):
                terminal = rng.choice(terminals)
                kind, job = (
                    WALK_IN,
                    self._serve_job(bench, WALK_IN, terminal, next(keys), None, item_of(terminal)),
                )
            elif firsts and (walk_edge <= r < second_edge or not fresh):
                resident, subsidised = self._second_of(rng, firsts)
                terminal = rng.choice(terminals)
                full_price = subsidised and rng.random() < 0.5
                kind, job = (
                    SECOND,
                    self._serve_job(
                        bench,
                        SECOND,
                        terminal,
                        next(keys),
                        resident,
                        item_of(terminal),
                        full_price,
                        subsidised,
                    ),
                )
            elif duals and second_edge <= r < dual_edge:
                a, b = rng.sample(range(len(canteens)), 2)
                pair = (rng.choice(by_canteen[a]), rng.choice(by_canteen[b]))
                kind, job = DUAL, self._dual_job(bench, pair, (next(keys), next(keys)), duals.pop())
            elif fresh:
                terminal = rng.choice(terminals)
                kind, job = (
                    COUNTER,
                    self._serve_job(bench, COUNTER, terminal, next(keys), fresh.pop(), item_of(terminal)),
                )
            else:
                continue  # second attempts wait for first meals to be answered
            originals[kind] += 1
            yield job

    @staticmethod
    def _second_of(rng: random.Random, firsts: list[tuple[int, bool]]) -> tuple[int, bool]:
        """A resident served before, taken out of ``firsts``: three times in four one whose first
        meal was subsidised (when there is one among the last 50 answered)."""
        recent = range(max(0, len(firsts) - 50), len(firsts))
        subsidised = [i for i in recent if firsts[i][1]]
        i = rng.choice(subsidised) if subsidised and rng.random() < 0.75 else rng.randrange(len(firsts))
        firsts[i], firsts[-1] = firsts[-1], firsts[i]
        return firsts.pop()

    async def _send(
        self, session: Session, terminal: Terminal, key: str, body: dict[str, Any], tag: str
    ) -> Response:
        from livingroom.core.signing import signed_headers

        headers = signed_headers(terminal.secret, terminal.key_id, "POST", PATH, _json_bytes(body))
        headers["Idempotency-Key"] = key
        return await session.post(PATH, json=body, headers=headers, tag=tag)

    def _body(self, resident: int | None, item: int | None, full_price: bool) -> dict[str, Any]:
        from livingroom.people import passes

        body: dict[str, Any] = {}
        if resident is not None:
            body["token"] = passes.encode(resident, int(time.time()))
        if item is not None:
            body["menu_item_id"] = item
        if full_price:
            body["full_price"] = True
        return body

    def _serve_job(
        self,
        bench: Bench,
        kind: str,
        terminal: Terminal,
        key: str,
        resident: int | None,
        item: int | None = None,
        full_price: bool = False,
        first_subsidised: bool = False,
    ) -> Job:
        async def job(session: Session) -> None:
            body = self._body(resident, item, full_price)
            # Counted before sending: a request cut by --time-cap is "sent" and never "answered".
            bench.state["outcome"]["sent"] += 1
            r = await self._send(session, terminal, key, body, TAGS[kind])
            self._record(bench, kind, terminal, key, body, resident, r, full_price, first_subsidised)

        return job

    def _dual_job(
        self, bench: Bench, pair: tuple[Terminal, Terminal], keys: tuple[str, str], resident: int
    ) -> Job:
        """A rider at two canteens in the same second: two passes, two connections, sent together."""
        state = bench.state

        async def job(session: Session) -> None:
            other = Session(session.driver)
            try:
                bodies = [self._body(resident, state["canteens"][t.canteen].full_item, False) for t in pair]
                state["outcome"]["sent"] += 2
                answers = await asyncio.gather(
                    self._send(session, pair[0], keys[0], bodies[0], TAGS[DUAL]),
                    self._send(other, pair[1], keys[1], bodies[1], TAGS[DUAL]),
                )
            finally:
                other.close()
            for t, k, body, r in zip(pair, keys, bodies, answers, strict=True):
                self._record(bench, DUAL, t, k, body, resident, r, False, False)
            got = sorted((r.status, r.code or "") for r in answers)
            if got == [(201, ""), (409, TAKEN)]:
                state["outcome"]["dual_one_meal_one_refusal"] += 1
            elif got == [(201, ""), (201, "")]:
                state["unexpected"]["dual_served_twice"] += 1
            elif all(r.status for r in answers):
                state["unexpected"][f"dual_{got}"] += 1

        return job

    def _record(
        self,
        bench: Bench,
        kind: str,
        terminal: Terminal,
        key: str,
        body: dict[str, Any],
        resident: int | None,
        r: Response,
        full_price: bool,
        first_subsidised: bool,
    ) -> None:
        state = bench.state
        outcome: Counter[str] = state["outcome"]
        unexpected: Counter[str] = state["unexpected"]
        if r.status == 0:
            return  # counted as an error by the harness, and as unanswered
        outcome["answered"] += 1
        answer = r.parsed()
        if r.headers.get("idempotent-replayed") != "false":
            unexpected["original_not_marked_fresh"] += 1
        at = (terminal.device_id, key)
        if r.status == 201 and isinstance(answer, dict):
            outcome[f"{kind} 201"] += 1
            outcome["served"] += 1
            subsidised = bool(answer.get("subsidised"))
            outcome["subsidised" if subsidised else "unsubsidised"] += 1
            state["served"][at] = (answer.get("meal_id"), resident, answer)
            if answer.get("pay_fen", 0) + answer.get("subsidy_fen", 0) != answer.get("list_fen"):
                unexpected["answer_split_not_list_price"] += 1
            if kind == PICKUP and answer.get("channel") != "order":
                unexpected["pickup_not_from_order"] += 1
            if kind == WALK_IN and (subsidised or answer.get("channel") != "walk_in"):
                unexpected["walk_in_subsidised"] += 1
            if kind == SECOND and first_subsidised and subsidised:
                unexpected["second_subsidy_answered"] += 1
            elif kind == SECOND and first_subsidised and not full_price:
                # Not refused, at list price: fine for an elderly resident at a canteen of the other
                # sub-district (the elderly tiers are for its residents); a rider's tier is
                # district-wide, so a rider must have been refused.
                bucket = unexpected if resident in state["riders"] else outcome
                bucket["second_at_list_price_elsewhere"] += 1
            if full_price and subsidised:
                unexpected["full_price_subsidised"] += 1
            if resident is not None and kind in (COUNTER, PICKUP, DUAL):
                state["firsts"].append((resident, subsidised))
        elif r.status == 409 and r.code in (SOLD_OUT, TAKEN):
            outcome[f"{kind} 409 {r.code}"] += 1
            outcome[r.code] += 1
            state["refused"][at] = r.code
            if r.code == SOLD_OUT:
                state["sold_out_items"].add(body.get("menu_item_id"))
            if kind == PICKUP or (kind in (COUNTER, WALK_IN) and r.code == TAKEN):
                unexpected[f"{kind}_{r.code}"] += 1
            if kind == SECOND and r.code == TAKEN and not first_subsidised:
                unexpected["second_refused_without_first_subsidy"] += 1
            if kind == SECOND and r.code != TAKEN and first_subsidised and not full_price:
                bucket = unexpected if resident in state["riders"] else outcome  # as for a 201 above
                bucket["second_at_list_price_elsewhere"] += 1
        else:
            outcome[f"error {r.status} {r.code}"] += 1
            return  # an error is not retried
        state["sent"].append(Sent(terminal, key, body, r.status, answer))

    def _retry_job(self, bench: Bench, first: Sent) -> Job:
        outcome: Counter[str] = bench.state["outcome"]

        async def job(session: Session) -> None:
            outcome["retries"] += 1
            r = await self._send(session, first.terminal, first.key, first.body, TAGS[RETRY])
            if r.status == 0:
                return
            if r.status != first.status or r.parsed() != first.answer:
                outcome["retries_different"] += 1
            elif r.headers.get("idempotent-replayed") != "true":
                outcome["retries_not_marked_replayed"] += 1
            else:
                outcome["retries_identical"] += 1

        return job

    # --- reference transaction, invariants, figures --------------------------------------------

    def pgbench_variables(self, bench: Bench) -> dict[str, Any]:
        return {**bench.state["pgbench"], "base": 0, "n": 0}

    def check(self, bench: Bench) -> int:
        from django.db import connection

        state = bench.state
        self._pgbench_low(bench)
        canteen_ids = [c.canteen_id for c in state["canteens"]]
        device_ids = [t.device_id for t in state["terminals"]]
        outcome: Counter[str] = state["outcome"]
        unanswered = outcome["sent"] - outcome["answered"]

        def one(sql: str, params: list[Any] | None = None) -> int:
            with connection.cursor() as cursor:
                cursor.execute(sql, params or [])
                return int(cursor.fetchone()[0] or 0)

        oversold = one("SELECT sum(greatest(sold - portions, 0)) FROM meals_menuitem")
        sold_vs_live = one(
            """SELECT sum(abs(i.sold - (SELECT count(*) FROM meals_meal m
                                          WHERE m.item_id = i.id AND m.status IN ('ordered', 'served'))))
                 FROM meals_menuitem i WHERE i.id = ANY(%s)""",
            [state["menu_items"]],
        )
        double_subsidies = one(
            """SELECT sum(c - 1) FROM (SELECT count(*) AS c FROM meals_meal
                 WHERE subsidised AND status IN ('ordered', 'served')
                 GROUP BY resident_id, day HAVING count(*) > 1) d"""
        )
        duplicated = one(
            """SELECT sum(c - 1) FROM (SELECT count(*) AS c FROM meals_meal
                 WHERE device_id IS NOT NULL AND request_key <> ''
                 GROUP BY device_id, request_key HAVING count(*) > 1) d"""
        )
        per_layer = """
            FROM meals_meal m LEFT JOIN (
              SELECT meal_id,
                     sum(amount_fen) FILTER (WHERE layer = 'eater') AS eater,
                     sum(amount_fen) FILTER (WHERE layer = 'city') AS city,
                     sum(amount_fen) FILTER (WHERE layer = 'district') AS district,
                     sum(amount_fen) FILTER (WHERE layer = 'street') AS street,
                     sum(amount_fen) AS total
                FROM meals_entry WHERE kind = 'served' GROUP BY meal_id) e ON e.meal_id = m.id
           WHERE m.canteen_id = ANY(%s)"""
        entries_vs_split = one(
            "SELECT count(*) "
            + per_layer
            + """ AND m.status = 'served' AND (
                   coalesce(e.eater, 0) <> m.eater_fen OR coalesce(e.city, 0) <> m.city_fen
                   OR coalesce(e.district, 0) <> m.district_fen OR coalesce(e.street, 0) <> m.street_fen
                   OR coalesce(e.total, 0) <> m.eater_fen + m.city_fen + m.district_fen + m.street_fen)""",
            [canteen_ids],
        )
        split_vs_list = one(
            """SELECT count(*) FROM meals_meal WHERE canteen_id = ANY(%s)
                 AND list_fen <> eater_fen + city_fen + district_fen + street_fen""",
            [canteen_ids],
        )
        entries_on_unserved = one(
            "SELECT count(*) " + per_layer + " AND m.status <> 'served' AND e.meal_id IS NOT NULL",
            [canteen_ids],
        )
        with connection.cursor() as cursor:
            cursor.execute(
                """SELECT device_id, request_key, id, resident_id, status, channel, subsidised, eater_fen,
                          list_fen, city_fen + district_fen + street_fen
                     FROM meals_meal WHERE device_id = ANY(%s)""",
                [device_ids],
            )
            rows = {(d, k): rest for d, k, *rest in cursor.fetchall()}
            cursor.execute(
                "SELECT id, portions - sold FROM meals_menuitem WHERE id = ANY(%s)", [state["menu_items"]]
            )
            left = dict(cursor.fetchall())
            cursor.execute(
                """SELECT channel, status, count(*), sum(city_fen + district_fen + street_fen)
                     FROM meals_meal WHERE canteen_id = ANY(%s) GROUP BY 1, 2 ORDER BY 1, 2""",
                [canteen_ids],
            )
            by_channel = {f"{ch}/{st}": [n, s] for ch, st, n, s in cursor.fetchall()}

        served: dict[tuple[int, str], tuple[Any, int | None, dict[str, Any]]] = state["served"]
        mismatched = 0
        for at, (meal_id, resident, answer) in served.items():
            expected = (
                meal_id,
                resident,
                "served",
                answer.get("channel"),
                answer.get("subsidised"),
                answer.get("pay_fen"),
                answer.get("list_fen"),
                answer.get("subsidy_fen"),
            )
            mismatched += tuple(rows.get(at, ())) != expected
        rows_without_201 = max(0, len(set(rows) - set(served)) - unanswered)
        refused_with_row = sum(1 for at in state["refused"] if at in rows)
        sold_out_with_left = sum(1 for item in state["sold_out_items"] if left.get(item, 0) > 0)
        unexpected = sum(state["unexpected"].values())

        problems = {
            "oversold_portions": oversold,
            "sold_vs_live_meals": sold_vs_live,
            "double_subsidies": double_subsidies,
            "duplicated_servings": duplicated,
            "entries_vs_split": entries_vs_split,
            "split_vs_list_price": split_vs_list,
            "entries_on_unserved_meals": entries_on_unserved,
            "answers_201_not_in_table": mismatched,
            "rows_without_201": rows_without_201,
            "refused_with_row": refused_with_row,
            "sold_out_with_portions_left": sold_out_with_left,
            "retries_different": outcome["retries_different"],
            "retries_not_marked_replayed": outcome["retries_not_marked_replayed"],
            "unexpected_answers": unexpected,
        }
        state.update(
            problems=problems,
            unanswered=unanswered,
            rows_in_table=len(rows),
            meals_by_channel=by_channel,
            portions_left=sum(left.values()),
            items_sold_out=sum(1 for v in left.values() if v == 0),
        )
        return sum(problems.values())

    def _pgbench_low(self, bench: Bench) -> None:
        """The reference again with as many clients as the server has database connections."""
        args = bench.args
        if not (args.pgbench_low_clients and args.pgbench_seconds > 0):
            return
        bench.state["pgbench_low"] = run_pgbench(
            args.pg_url.rstrip("/"),
            bench.db_name,
            harness.SQL_DIR / PGBENCH_SQL,
            clients=args.pgbench_low_clients,
            seconds=args.pgbench_seconds,
            variables={**self.pgbench_variables(bench), "base": 100_000},  # other days: no clash
        )

    def figures(self, bench: Bench, load: LoadResult, outcomes: Counter[str]) -> dict[str, Any]:
        state = bench.state
        out: Counter[str] = state["outcome"]
        problems = state.get("problems", {})
        firsts = sorted(s.latency_ms for s in load.samples if s.tag not in (TAGS[RETRY], WARM_TAG))
        retries = sorted(s.latency_ms for s in load.samples if s.tag == TAGS[RETRY])
        per_s = out["served"] / load.elapsed_s if load.elapsed_s else 0.0
        low = state.get("pgbench_low")
        low_tps = low.tps if low is not None else None
        return {
            "servings": out["served"],
            "servings_per_s": round(per_s, 1),
            "serving_p50_ms": _round(percentile(firsts, 50)),
            "serving_p99_ms": _round(percentile(firsts, 99)),
            "oversold_portions": problems.get("oversold_portions"),
            "double_subsidies": problems.get("double_subsidies"),
            "duplicated_servings": problems.get("duplicated_servings"),
            "servings_ceiling_ratio": _ratio(per_s, bench.ceiling_requests_per_s),
            "pgbench_ratio": _ratio(per_s, bench.pgbench_tps),
            "pgbench_low_clients": low.clients if low is not None else None,
            "pgbench_low_tps": _round(low_tps),
            "pgbench_low_ratio": _ratio(per_s, low_tps),
            "retry_p50_ms": _round(percentile(retries, 50)),
            "retry_p99_ms": _round(percentile(retries, 99)),
            "canteens": len(state["canteens"]),
            "terminals": len(state["terminals"]),
            "residents": bench.args.residents,
            "orders_ahead": state["orders"],
            "first_requests": out["sent"],
            "retry_requests": len(retries),
            "subsidised_servings": out["subsidised"],
            "unsubsidised_servings": out["unsubsidised"],
            "sold_out": out[SOLD_OUT],
            "subsidised_meal_taken": out[TAKEN],
            "second_at_list_price_elsewhere": out["second_at_list_price_elsewhere"],
            "answers_by_kind": {
                k: v for k, v in sorted(out.items()) if k.startswith(tuple(f"{kind} " for kind in TAGS))
            },
            "dual_one_meal_one_refusal": out["dual_one_meal_one_refusal"],
            "retries_identical": out["retries_identical"],
            "retries_different": out["retries_different"],
            "unanswered": state.get("unanswered"),
            "rows_in_table": state.get("rows_in_table"),
            "meals_by_channel": state.get("meals_by_channel"),
            "items_sold_out": state.get("items_sold_out"),
            "portions_left": state.get("portions_left"),
            "unexpected": dict(state["unexpected"]),
            "problems": problems,
        }


def _street_of(community: int) -> int:
    """Half the load's communities in each sub-district; pgbench's in the last."""
    return min(community * len(STREETS) // (len(COMMUNITIES) - 1), len(STREETS) - 1)


# --- set-up helpers (the meals_world fixture's set meals and tiers) ----------------------------


def _set_meals(meals: Any, scope: Any, actor: Any, canteen: Any) -> tuple[Any, Any]:
    full = meals.set_meal_create(
        scope=scope,
        actor=actor,
        canteen_id=canteen.pk,
        draft=meals.SetMealDraft(
            name="吃得饱套餐", cost_fen=1200, list_price_fen=1800, description="两荤一素，米饭管够"
        ),
    )
    good = meals.set_meal_create(
        scope=scope,
        actor=actor,
        canteen_id=canteen.pk,
        draft=meals.SetMealDraft(
            name="吃得好套餐", cost_fen=1700, list_price_fen=2500, description="三荤一素一汤"
        ),
    )
    return full, good


def _tiers(meals: Any, scope: Any, actor: Any, canteen: Any, full: Any, good: Any) -> Any:
    rider = meals.tier_create(
        scope=scope,
        actor=actor,
        canteen_id=canteen.pk,
        name="骑手暖心餐",
        group="rider",
        prices=[
            meals.PriceLine(set_meal_id=full.pk, eater_fen=1000, district_fen=500, street_fen=300),
            meals.PriceLine(set_meal_id=good.pk, eater_fen=1500, district_fen=600, street_fen=400),
        ],
    )
    for group, name, city, district, street in (
        ("elderly_60", "长者餐（60–69岁）", 300, 0, 0),
        ("elderly_70", "长者餐（70–79岁）", 300, 200, 0),
        ("elderly_80", "长者餐（80岁以上）", 300, 300, 200),
    ):
        meals.tier_create(
            scope=scope,
            actor=actor,
            canteen_id=canteen.pk,
            name=name,
            group=group,
            residency="street",
            prices=[
                meals.PriceLine(
                    set_meal_id=m.pk,
                    eater_fen=m.list_price_fen - city - district - street,
                    city_fen=city,
                    district_fen=district,
                    street_fen=street,
                )
                for m in (full, good)
            ],
        )
    return rider


def _residents(n: int, communities: list[Any], seed: int, chunks: int = 25) -> list[Any]:
    """``n`` residents in ``chunks`` whose birth dates spread over 1940–2005: the harness derives
    the birth date from a serial number, so serial numbers are skipped between chunks."""
    made: list[Any] = []
    for c in range(chunks):
        want = (n * (c + 1)) // chunks - len(made)
        target = c * BIRTH_SPAN // chunks
        k = next(harness._serial)
        while k < target:
            k = next(harness._serial)
        made.extend(one.resident for one in create_residents(want, communities=communities, seed=seed + c))
    return made


def _verify_riders(riders: list[Any], by: Any, today: dt.date) -> None:
    """What ``people.services.eligibility_verify`` stores for a rider, in one bulk insert."""
    from livingroom.people.models import EligibilityVerification

    EligibilityVerification.objects.bulk_create(
        [
            EligibilityVerification(
                resident=r,
                kind=EligibilityVerification.Kind.RIDER,
                platform=("美团", "饿了么", "顺丰")[i % 3],
                credential_number=f"MT2026{i:06d}",
                valid_until=today + dt.timedelta(days=365),
                verified_by=by,
            )
            for i, r in enumerate(riders)
        ],
        batch_size=1000,
    )


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _ratio(rate: float, reference: float | None) -> float | None:
    return round(rate / reference, 4) if reference else None


if __name__ == "__main__":
    main(LunchRush())
