"""Vending redemption benchmark: signed machines swap residents' points for drinks, with retries.

    .venv/bin/python bench/redeem.py                         # 3,000 requests: 2,000 residents, 16 machines,
                                                             # 64 connections, 10 % retries
    .venv/bin/python bench/redeem.py --requests 1000         # a shorter run
    .venv/bin/python bench/redeem.py --points 6              # 2 drinks each: insufficient_points refusals

Set-up (in-process, before gunicorn starts): one center with a community worker who adds a drink
to its catalogue (``reward_create``: ``--price`` points, ``--stock`` units, sold in the vending
machines); ``--machines`` vending machines registered at the center (``device_register``: key id
and secret); ``--residents`` residents of its community, each with an account holding
``--points`` points (bulk inserts of ``Account`` + one ``award`` ``Entry``, so balance == sum of
entries; ``ledger_check()`` is asserted empty before the load). A second community and center,
with their own drink, machine and accounts, are there only for pgbench.

The load: ``--concurrency`` connections send ``POST /api/v1/devices/vending/redemptions`` signed
by one of the machines (``X-Device-Key``/``X-Timestamp``/``X-Nonce``/``X-Signature``, from
``core.signing.signed_headers``), with a new ``Idempotency-Key`` and a fresh resident pass
(``people.passes.encode(resident_id, now)``: the pass is HMAC-signed with a key derived from
``SECRET_KEY``, which the harness shares with the server, and is fresh for
``LIVINGROOM_PASS_TTL`` = 60 s, so it is made just before the request). Residents are drawn at
random, machines in turn. ``--retry-share`` (10 %) of the requests are retries of an earlier,
answered request (each retried at most once, picked at random): same machine, key, body and pass,
a new nonce and signature; the answer must be the same status and body with
``Idempotent-Replayed: true`` (a first answer must say ``false``). ``201`` is a redemption,
``409 insufficient_points`` an expected refusal; anything else (5xx, no answer, another 4xx) is
an error.

Afterwards, SQL counts invariant violations: more than one redemption per (machine, key), a
redemption with other than one ledger entry or one stock move, rows that differ from the 201
answers, ``ledger_check()`` problems (every balance == sum of its entries, every stock == sum of
its moves), stock taken from the drink other than the units redeemed, points spent other than
units x price, balances other than ``--points`` - price x the resident's redemptions, retries not
answered identically. ``double_debits`` is the part that would mean money taken twice: extra
redemptions per key, extra ledger entries per redemption, and points debited from an account
beyond what its 201 answers account for.

The reference transaction (written to the run's var dir, see ``REDEEM_SQL``) is every row one
redemption writes, without the reads and without Python in between: the request nonce, the
idempotency record (insert, then its answer), the pass use, the stock and balance UPDATEs on the
hot rows (drink first, account second, as the service does), the redemption, its ledger entry and
stock move, and the two audit events; on the second center's drink, machine and accounts.
"""

from __future__ import annotations

import argparse
import itertools
import random
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from harness import (
    Bench,
    Job,
    LoadResult,
    Response,
    Scenario,
    Session,
    _json_bytes,
    create_residents,
    home_center,
    log,
    main,
    percentile,
    run_pgbench,
)

PATH = "/api/v1/devices/vending/redemptions"
WARM_PATH = "/api/v1/devices/vending/rewards"
REDEEM_TAG = "POST redemption"
RETRY_TAG = "POST redemption (retry)"
WARM_TAG = "warm-up"

# The reference transaction: the writes of one approved redemption (see the module docstring).
# pgbench variables: device, center, reward, price, first_account, last_account.
REDEEM_SQL = """\
\\set acc random(:first_account, :last_account)
BEGIN;
INSERT INTO core_requestnonce (scope, nonce, seen_at)
  VALUES ('device:' || :device, md5(random()::text), now());
INSERT INTO core_idempotencyrecord (scope, key, fingerprint, status_code, response, created_at)
  VALUES ('vending:' || :device, md5(random()::text), md5(random()::text), 0, '{}', now())
  RETURNING id AS record \\gset
INSERT INTO people_passuse (nonce, resident_id, used_at, device_id, staff_id, purpose)
  VALUES (md5(random()::text), (SELECT resident_id FROM points_account WHERE id = :acc), now(),
          :device, NULL, 'vending');
INSERT INTO core_auditevent (at, action, actor_kind, actor_id, actor_label, object_type, object_id,
                             result, data, ip, request_id)
  VALUES (now(), 'people.pass.verified', 'device', NULL, 'device:pgbench', 'people.resident', '0',
          'ok', '{"purpose": "vending"}', NULL, '');
UPDATE points_reward SET stock = stock - 1 WHERE id = :reward AND stock >= 1 AND is_active
  RETURNING stock \\gset
UPDATE points_account SET balance = balance - :price WHERE id = :acc AND balance - :price >= 0
  RETURNING balance \\gset
INSERT INTO points_redemption (account_id, reward_id, center_id, quantity, unit_points, points, channel,
                               device_id, staff_id, request_key, status, failure_reason, occurred_at,
                               refunded_at, created_at)
  VALUES (:acc, :reward, :center, 1, :price, :price, 'vending', :device, NULL, md5(random()::text),
          'completed', '', now(), NULL, now())
  RETURNING id AS redemption \\gset
INSERT INTO points_entry (account_id, center_id, kind, amount, balance_after, reason, actor_id, device_id,
                          redemption_id, key, created_at)
  VALUES (:acc, :center, 'redeem', -:price, :balance, 'pgbench', NULL, :device, :redemption, NULL, now());
INSERT INTO points_stockmove (reward_id, kind, delta, stock_after, redemption_id, actor_id, device_id,
                              reason, created_at)
  VALUES (:reward, 'redeem', -1, :stock, :redemption, NULL, :device, '', now());
INSERT INTO core_auditevent (at, action, actor_kind, actor_id, actor_label, object_type, object_id,
                             result, data, ip, request_id)
  VALUES (now(), 'points.redeemed', 'device', NULL, 'device:pgbench', 'points.redemption',
          :redemption::text, 'ok', '{"channel": "vending"}', NULL, '');
UPDATE core_idempotencyrecord SET status_code = 201, response = '{"status": "approved"}' WHERE id = :record;
COMMIT;
"""
PGBENCH_ACCOUNTS = 500
PGBENCH_POINTS = 1_000_000  # one award entry each; pgbench never runs an account dry


@dataclass(frozen=True, slots=True)
class Machine:
    device_id: int
    key_id: str
    secret: str


@dataclass(slots=True)
class Sent:
    """An answered original request, kept to be retried."""

    machine: Machine
    key: str
    body: dict[str, Any]
    status: int
    answer: Any


class VendingRush(Scenario):
    name = "redeem"
    description = __doc__ or ""
    expected_refusals = frozenset({(409, "insufficient_points")})
    defaults = {"concurrency": 64, "workers": 3, "time_cap": 180.0, "requests": 3000}

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--residents", type=int, default=2000, help="residents with points")
        parser.add_argument("--machines", type=int, default=16, help="registered vending machines")
        parser.add_argument("--points", type=int, default=30, help="each resident's opening balance")
        parser.add_argument("--price", type=int, default=3, help="the drink's price in points")
        parser.add_argument("--stock", type=int, default=50_000, help="the drink's opening stock")
        parser.add_argument(
            "--retry-share", type=float, default=0.10, help="share of requests that retry an earlier key"
        )
        parser.add_argument(
            "--pgbench-low-clients",
            type=int,
            default=None,
            help="a second pgbench run with this many clients (default: workers x threads, the "
            "server's own database connections; 0 skips it)",
        )

    def configure(self, args: argparse.Namespace) -> None:
        if args.requests is None and args.duration is None:
            args.requests = 3000  # the load is endless: bound it
        if args.pgbench_clients is None:
            args.pgbench_clients = args.concurrency
        if args.pgbench_low_clients is None:
            args.pgbench_low_clients = args.workers * args.threads

    # --- set-up -----------------------------------------------------------------------------

    def setup(self, bench: Bench) -> None:
        from livingroom.places.models import Center, Community, Device
        from livingroom.points import services as points
        from livingroom.points.models import Reward

        args = bench.args
        street, community, center = home_center()
        reward = self._drink(center, args.price, args.stock)
        machines = []
        for i in range(args.machines):
            device, secret = self._machine(center, f"自助售货机 {i + 1:02d}")
            machines.append(Machine(device.pk, device.key_id, secret))
        residents = create_residents(args.residents, communities=[community], seed=args.seed)
        resident_ids = [one.resident.pk for one in residents]
        self._accounts(center, resident_ids, args.points, "bench:opening")

        # pgbench's own community, center, drink, machine and accounts (the same people).
        other = Community.objects.create(street=street, code="440306001002", name="臣田社区")
        other_center = Center.objects.create(community=other, name="臣田社区党群服务中心")
        pg_reward = self._drink(other_center, args.price, 100_000)
        pg_device, _ = self._machine(other_center, "pgbench 售货机")
        pg_accounts = self._accounts(
            other_center, resident_ids[:PGBENCH_ACCOUNTS], PGBENCH_POINTS, "bench:pgbench"
        )

        problems = points.ledger_check()
        assert not problems, f"the seeded ledger is wrong: {problems[:5]}"
        assert Device.objects.filter(kind=Device.Kind.VENDING_MACHINE, center=center).count() == args.machines
        sql = bench.var_dir / "redeem.sql"
        sql.write_text(REDEEM_SQL)
        # The harness runs pgbench on SQL_DIR / pgbench_script; an absolute path stays as it is.
        self.pgbench_script = str(sql)
        bench.state.update(
            reward_id=reward.pk,
            opening_stock=Reward.objects.get(pk=reward.pk).stock,
            machines=machines,
            resident_ids=resident_ids,
            community_id=community.pk,
            pgbench={
                "device": pg_device.pk,
                "center": other_center.pk,
                "reward": pg_reward.pk,
                "price": args.price,
                "first_account": min(pg_accounts),
                "last_account": max(pg_accounts),
            },
            approved={},  # (device id, key) -> (resident id, redemption id) from the 201 answers
            refused_keys=set(),  # (device id, key) answered 409 insufficient_points
            sent=[],  # answered originals not yet retried
            sent_by_resident=Counter(),
            answered_by_resident=Counter(),
            outcome=Counter(),
        )
        log(
            f"set-up: {args.residents} residents x {args.points} points, {args.machines} machines, "
            f"drink {args.price} points, stock {args.stock}"
        )

    def _drink(self, center: Any, price: int, stock: int) -> Any:
        """A drink in the center's catalogue, added by a community worker of its community."""
        from livingroom.people.models import StaffRole, User
        from livingroom.people.scopes import staff_scope
        from livingroom.points import services as points

        worker = User.objects.create_user(f"bench-desk-{center.pk}", "x-not-used-123")
        StaffRole.objects.create(
            user=worker, role=StaffRole.Role.COMMUNITY_WORKER, community=center.community
        )
        scope = staff_scope(worker)
        assert scope is not None
        draft = points.RewardDraft(
            center_id=center.pk,
            kind="drink",
            name="矿泉水 550ml",
            price_points=price,
            at_vending=True,
            at_desk=False,
            stock=stock,
        )
        return points.reward_create(staff=worker, scope=scope, draft=draft)

    def _machine(self, center: Any, name: str) -> tuple[Any, str]:
        from livingroom.places import services as places

        return places.device_register(center=center, kind="vending_machine", name=name)

    def _accounts(self, center: Any, resident_ids: list[int], points: int, key: str) -> list[int]:
        """An account per resident in the center's community, holding ``points`` from one award
        entry each: what ``points_award`` writes, in two bulk INSERTs."""
        from django.db import transaction
        from django.utils import timezone

        from livingroom.points.models import Account, Entry

        now = timezone.now()
        with transaction.atomic():
            accounts = Account.objects.bulk_create(
                [
                    Account(resident_id=rid, community_id=center.community_id, balance=points)
                    for rid in resident_ids
                ]
            )
            Entry.objects.bulk_create(
                [
                    Entry(
                        account=a,
                        center=center,
                        kind=Entry.Kind.AWARD,
                        amount=points,
                        balance_after=points,
                        reason="Opening points (benchmark)",
                        key=f"{key}:{a.resident_id}",
                        created_at=now,
                    )
                    for a in accounts
                ],
                batch_size=1000,
            )
        return [a.pk for a in accounts]

    # --- the load ---------------------------------------------------------------------------

    def warmup(self, bench: Bench) -> Iterator[Job]:
        """Signed reads only: each machine asks for its catalogue (device auth, nonce, reward)."""
        for machine in bench.state["machines"] * 2:
            yield self._signed_get(machine)

    def _signed_get(self, machine: Machine) -> Job:
        from livingroom.core.signing import signed_headers

        async def job(session: Session) -> None:
            headers = signed_headers(machine.secret, machine.key_id, "GET", WARM_PATH)
            await session.get(WARM_PATH, headers=headers, tag=WARM_TAG)

        return job

    def jobs(self, bench: Bench) -> Iterator[Job]:
        args = bench.args
        rng = random.Random(args.seed)
        machines: list[Machine] = bench.state["machines"]
        residents: list[int] = bench.state["resident_ids"]
        sent: list[Sent] = bench.state["sent"]
        retries = 0
        originals = 0
        for n in itertools.count(1):
            if sent and retries < args.retry_share * n:
                # A retry of an answered request, picked at random among those not retried yet.
                i = rng.randrange(len(sent))
                sent[i], sent[-1] = sent[-1], sent[i]
                retries += 1
                yield self._retry_job(bench, sent.pop())
            else:
                machine = machines[originals % len(machines)]
                key = f"bench-{originals:07d}-{rng.getrandbits(48):012x}"
                originals += 1
                yield self._original_job(bench, machine, key, rng.choice(residents))

    async def _send(
        self, session: Session, machine: Machine, key: str, body: dict[str, Any], tag: str
    ) -> Response:
        from livingroom.core.signing import signed_headers

        headers = signed_headers(machine.secret, machine.key_id, "POST", PATH, _json_bytes(body))
        headers["Idempotency-Key"] = key
        return await session.post(PATH, json=body, headers=headers, tag=tag)

    def _original_job(self, bench: Bench, machine: Machine, key: str, resident_id: int) -> Job:
        from livingroom.people import passes

        state = bench.state
        outcome: Counter[str] = state["outcome"]

        async def job(session: Session) -> None:
            body = {
                "token": passes.encode(resident_id, int(time.time())),
                "reward_id": state["reward_id"],
                "quantity": 1,
            }
            # Counted before sending: a request cut by --time-cap is "sent" and never "answered".
            outcome["sent"] += 1
            state["sent_by_resident"][resident_id] += 1
            r = await self._send(session, machine, key, body, REDEEM_TAG)
            if r.status == 0:
                return
            outcome["answered"] += 1
            state["answered_by_resident"][resident_id] += 1
            answer = r.parsed()
            if r.headers.get("idempotent-replayed") != "false":
                outcome["original_not_marked_fresh"] += 1
            if r.status == 201 and isinstance(answer, dict):
                outcome["approved"] += 1
                state["approved"][(machine.device_id, key)] = (resident_id, answer.get("redemption_id"))
            elif r.status == 409 and r.code == "insufficient_points":
                outcome["insufficient_points"] += 1
                state["refused_keys"].add((machine.device_id, key))
            else:
                outcome[f"error_{r.status}_{r.code}"] += 1
                return  # an error is not retried
            state["sent"].append(Sent(machine, key, body, r.status, answer))

        return job

    def _retry_job(self, bench: Bench, first: Sent) -> Job:
        outcome: Counter[str] = bench.state["outcome"]

        async def job(session: Session) -> None:
            outcome["retries"] += 1
            r = await self._send(session, first.machine, first.key, first.body, RETRY_TAG)
            if r.status == 0:
                return  # counted as an error by the harness, and below as unanswered
            if r.status != first.status or r.parsed() != first.answer:
                outcome["retries_different"] += 1
            elif r.headers.get("idempotent-replayed") != "true":
                outcome["retries_not_marked_replayed"] += 1
            else:
                outcome["retries_identical"] += 1

        return job

    # --- reference transaction, invariants, figures --------------------------------------------

    def pgbench_variables(self, bench: Bench) -> dict[str, Any]:
        return dict(bench.state["pgbench"])

    def check(self, bench: Bench) -> int:
        from django.db.models import Count, Sum

        from livingroom.points import services as points
        from livingroom.points.models import Account, Entry, Redemption, Reward, StockMove

        args = bench.args
        state = bench.state
        self._pgbench_low(bench)
        device_ids = [m.device_id for m in state["machines"]]
        reward = Reward.objects.get(pk=state["reward_id"])
        reds = Redemption.objects.filter(device_id__in=device_ids)
        rows = {
            (d, k): (rid, pk, q, p)
            for pk, d, k, rid, q, p in reds.values_list(
                "id", "device_id", "request_key", "account__resident_id", "quantity", "points"
            )
        }
        approved: dict[tuple[int, str], tuple[int, int]] = state["approved"]
        outcome: Counter[str] = state["outcome"]
        # An original without an answer (timed out, or cut by --time-cap) may have redeemed.
        unanswered = outcome["sent"] - outcome["answered"]
        unanswered_by_resident = state["sent_by_resident"] - state["answered_by_resident"]

        extra_per_key = sum(
            c - 1
            for c in reds.values("device_id", "request_key")
            .annotate(c=Count("id"))
            .filter(c__gt=1)
            .values_list("c", flat=True)
        )
        entry_counts = Counter(
            Entry.objects.filter(redemption__in=reds, kind=Entry.Kind.REDEEM).values_list(
                "redemption_id", flat=True
            )
        )
        move_counts = Counter(
            StockMove.objects.filter(redemption__in=reds, kind=StockMove.Kind.REDEEM).values_list(
                "redemption_id", flat=True
            )
        )
        red_ids = [row[1] for row in rows.values()]
        extra_entries = sum(max(0, c - 1) for c in entry_counts.values())

        # Points debited per resident in the load's community vs what the 201 answers account for.
        approved_by_resident = Counter(rid for rid, _ in approved.values())
        balances = dict(
            Account.objects.filter(community_id=state["community_id"]).values_list("resident_id", "balance")
        )
        spent_by_resident = {rid: args.points - bal for rid, bal in balances.items()}
        over_debited = sum(
            max(0, spent - args.price * (approved_by_resident[rid] + unanswered_by_resident[rid]))
            // args.price
            for rid, spent in spent_by_resident.items()
        )
        debited_count = Counter(rid for rid, *_ in rows.values())
        balance_off = sum(
            1 for rid, bal in balances.items() if bal != args.points - args.price * debited_count[rid]
        )

        units = sum(q for _, _, q, _ in rows.values())
        points_spent = -(
            Entry.objects.filter(redemption__in=reds, kind=Entry.Kind.REDEEM).aggregate(s=Sum("amount"))["s"]
            or 0
        )
        stock_moved = -(
            StockMove.objects.filter(reward=reward, kind=StockMove.Kind.REDEEM).aggregate(s=Sum("delta"))["s"]
            or 0
        )
        mismatched = sum(
            1 for k, (rid, red_id) in approved.items() if k not in rows or rows[k][:2] != (rid, red_id)
        )
        unexplained_rows = max(0, len(set(rows) - set(approved)) - unanswered)
        refused_with_row = sum(1 for k in state["refused_keys"] if k in rows)
        ledger = points.ledger_check()

        double_debits = extra_per_key + extra_entries + over_debited
        problems = {
            "extra_redemptions_per_key": extra_per_key,
            "extra_entries_per_redemption": extra_entries,
            "over_debited_residents_x_price": over_debited,
            "redemptions_without_one_entry": sum(1 for i in red_ids if entry_counts[i] != 1),
            "redemptions_without_one_stock_move": sum(1 for i in red_ids if move_counts[i] != 1),
            "answers_201_not_in_table": mismatched,
            "rows_without_201": unexplained_rows,
            "refused_with_row": refused_with_row,
            "ledger_check": len(ledger),
            "stock_vs_units": abs(state["opening_stock"] - reward.stock - units) + abs(stock_moved - units),
            "points_vs_units": abs(points_spent - args.price * units),
            "balance_off": balance_off,
            "retries_different": outcome["retries_different"],
            "retries_not_marked_replayed": outcome["retries_not_marked_replayed"],
            "originals_not_marked_fresh": outcome["original_not_marked_fresh"],
        }
        state.update(
            unanswered=unanswered,
            problems=problems,
            double_debits=double_debits,
            rows_in_table=len(rows),
            units=units,
            points_spent=points_spent,
            stock_after=reward.stock,
            stock_moved=stock_moved,
            ledger_problems=[str(p) for p in ledger[:5]],
        )
        return sum(problems.values())

    def _pgbench_low(self, bench: Bench) -> None:
        """The reference again with as many clients as the server has database connections."""
        args = bench.args
        if not (args.pgbench_low_clients and args.pgbench_seconds > 0 and self.pgbench_script):
            return
        bench.state["pgbench_low"] = run_pgbench(
            args.pg_url.rstrip("/"),
            bench.db_name,
            bench.var_dir / "redeem.sql",
            clients=args.pgbench_low_clients,
            seconds=args.pgbench_seconds,
            variables=self.pgbench_variables(bench),
        )

    def figures(self, bench: Bench, load: LoadResult, outcomes: Counter[str]) -> dict[str, Any]:
        state = bench.state
        out: Counter[str] = state["outcome"]
        originals = sorted(s.latency_ms for s in load.samples if s.tag == REDEEM_TAG)
        retries = sorted(s.latency_ms for s in load.samples if s.tag == RETRY_TAG)
        per_s = out["approved"] / load.elapsed_s if load.elapsed_s else 0.0
        low = state.get("pgbench_low")
        low_tps = low.tps if low is not None else None
        return {
            "residents": bench.args.residents,
            "machines": bench.args.machines,
            "original_requests": len(originals),
            "retry_requests": len(retries),
            "redemptions": out["approved"],
            "redemptions_per_s": round(per_s, 1),
            "redeem_ceiling_ratio": _ratio(per_s, bench.ceiling_requests_per_s),
            "pgbench_ratio": _ratio(per_s, bench.pgbench_tps),
            "pgbench_low_clients": low.clients if low is not None else None,
            "pgbench_low_tps": _round(low_tps),
            "pgbench_low_ratio": _ratio(per_s, low_tps),
            "redeem_p50_ms": _round(percentile(originals, 50)),
            "redeem_p99_ms": _round(percentile(originals, 99)),
            "retry_p50_ms": _round(percentile(retries, 50)),
            "retry_p99_ms": _round(percentile(retries, 99)),
            "insufficient_points": out["insufficient_points"],
            "retries_identical": out["retries_identical"],
            "retries_different": out["retries_different"],
            "retries_unanswered": out["retries"]
            - out["retries_identical"]
            - out["retries_different"]
            - out["retries_not_marked_replayed"],
            "unanswered": out["sent"] - out["answered"],
            "double_debits": state.get("double_debits"),
            "rows_in_table": state.get("rows_in_table"),
            "units_redeemed": state.get("units"),
            "stock_moved": state.get("stock_moved"),
            "stock_after": state.get("stock_after"),
            "points_spent": state.get("points_spent"),
            "problems": state.get("problems"),
            "ledger_problems": state.get("ledger_problems"),
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _ratio(rate: float, reference: float | None) -> float | None:
    return round(rate / reference, 4) if reference else None


if __name__ == "__main__":
    main(VendingRush())
