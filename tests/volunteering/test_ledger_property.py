"""A property-based test of the points ledger (hypothesis, stateful).

Random sequences of awards (and their replays), vending and desk redemptions, retries with the
same key (same request: the same answer; other content: refused), failure reports, desk refunds,
staff adjustments and restocks, against a model kept in plain Python. After EACH step:

* every balance equals the sum of its entries and the model's balance, and is never negative;
* every stock equals the sum of its moves and the model's stock;
* no request key was debited twice, each redemption has one debit and at most one refund;
* ``ledger_check()`` finds nothing and the stock reconciliation of the center is balanced.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter
from dataclasses import dataclass

import pytest
from django.db.models import Count, Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from livingroom.core.errors import Conflict
from livingroom.people.models import StaffRole
from livingroom.people.scopes import staff_scope
from livingroom.places.models import Device
from livingroom.points import errors, selectors, services
from livingroom.points.models import Account, Entry, Redemption, Reward, StockMove
from tests import factories as f
from tests.volunteering.conftest import pass_of

pytestmark = pytest.mark.django_db

_names = itertools.count(1)

DRINK_PRICE = 3
GOODS_PRICE = 5


@dataclass
class VendingRequest:
    key: str
    machine: int
    token: str
    resident: int
    quantity: int
    answer: tuple[int, dict, bool]


def machine_for(world) -> type[RuleBasedStateMachine]:
    street = world["community"].street

    class Ledger(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            run = next(_names)
            # A community, center and desk of its own for each run, so the reconciliation below
            # reads only this run's rewards.
            community = f.CommunityFactory(street=street, name=f"测试社区{run}")
            self.center = center = f.CenterFactory(community=community)
            self.desk = desk = f.staff_with_role(StaffRole.Role.COMMUNITY_WORKER, community=community)
            self.scope = scope = staff_scope(desk)
            self.community = community
            self.machines = [f.device_for(center, Device.Kind.VENDING_MACHINE)[0] for _ in range(2)]
            # Birth dates of their own: synthetic ID numbers are unique per birth date and serial.
            self.residents = [
                f.ResidentFactory(
                    home_community=community,
                    id_number=f.make_id_number(birth=dt.date(1960, 1, 1) + dt.timedelta(days=2 * run + i)),
                )
                for i in range(2)
            ]
            self.rewards = [
                services.reward_create(
                    staff=desk,
                    scope=scope,
                    draft=services.RewardDraft(
                        center_id=self.center.pk,
                        kind="drink",
                        name=f"饮料{run}",
                        price_points=DRINK_PRICE,
                        at_vending=True,
                        stock=6,
                    ),
                ),
                services.reward_create(
                    staff=desk,
                    scope=scope,
                    draft=services.RewardDraft(
                        center_id=self.center.pk,
                        kind="goods",
                        name=f"纸巾{run}",
                        price_points=GOODS_PRICE,
                        stock=4,
                    ),
                ),
            ]
            self.run = run
            self.balance = [0, 0]
            self.stock = [6, 4]
            self.award_keys: list[tuple[str, int, int]] = []
            self.requests: list[VendingRequest] = []
            self.redemptions: dict[int, dict] = {}  # pk -> resident, reward, quantity, points, refunded
            self.keys = itertools.count(1)

        # --- helpers ----------------------------------------------------------------------------

        def _key(self, what: str) -> str:
            return f"{what}-{self.run}-{next(self.keys)}"

        def _expect_redeem(self, who: int, reward: int, quantity: int) -> str | None:
            """What the service must answer: None for a sale, else the refusal's code."""
            cost = quantity * (DRINK_PRICE if reward == 0 else GOODS_PRICE)
            if self.stock[reward] < quantity:
                return "out_of_stock"
            if self.balance[who] < cost:
                return "insufficient_points"
            return None

        def _sold(self, redemption_id: int, who: int, reward: int, quantity: int) -> None:
            points = quantity * (DRINK_PRICE if reward == 0 else GOODS_PRICE)
            self.balance[who] -= points
            self.stock[reward] -= quantity
            self.redemptions[redemption_id] = dict(
                who=who, reward=reward, quantity=quantity, points=points, refunded=False
            )

        def _refunded(self, redemption_id: int) -> None:
            r = self.redemptions[redemption_id]
            r["refunded"] = True
            self.balance[r["who"]] += r["points"]
            self.stock[r["reward"]] += r["quantity"]

        # --- rules ------------------------------------------------------------------------------

        @rule(who=st.integers(0, 1), amount=st.integers(1, 12))
        def award(self, who: int, amount: int) -> None:
            key = self._key("award")
            entry = services.points_award(
                resident=self.residents[who],
                community=self.community,
                center=self.center,
                amount=amount,
                reason="服务",
                key=key,
            )
            assert (entry.amount, entry.kind) == (amount, "award")
            self.balance[who] += amount
            self.award_keys.append((key, who, amount))

        @precondition(lambda self: self.award_keys)
        @rule(data=st.data())
        def award_replayed(self, data: st.DataObject) -> None:
            key, who, amount = data.draw(st.sampled_from(self.award_keys))
            entry = services.points_award(
                resident=self.residents[who],
                community=self.community,
                center=self.center,
                amount=amount,
                reason="服务",
                key=key,
            )
            assert entry.key == key  # the first entry, nothing credited

        @rule(who=st.integers(0, 1), quantity=st.integers(1, 3), machine=st.integers(0, 1))
        def vend(self, who: int, quantity: int, machine: int) -> None:
            key, token = self._key("vend"), pass_of(self.residents[who])
            expected = self._expect_redeem(who, 0, quantity)
            answer = services.redemption_at_vending(
                device=self.machines[machine],
                key=key,
                token=token,
                reward_id=self.rewards[0].pk,
                quantity=quantity,
            )
            status, body, replayed = answer
            assert replayed is False
            if expected is None:
                assert status == 201, body
                assert (body["points"], body["balance"]) == (
                    quantity * DRINK_PRICE,
                    self.balance[who] - quantity * DRINK_PRICE,
                )
                self._sold(body["redemption_id"], who, 0, quantity)
            else:
                assert (status, body["code"]) == (409, expected)
            self.requests.append(VendingRequest(key, machine, token, who, quantity, answer))

        @precondition(lambda self: self.requests)
        @rule(data=st.data())
        def retry(self, data: st.DataObject) -> None:
            request = data.draw(st.sampled_from(self.requests))
            again = services.redemption_at_vending(
                device=self.machines[request.machine],
                key=request.key,
                token=request.token,
                reward_id=self.rewards[0].pk,
                quantity=request.quantity,
            )
            assert again == (request.answer[0], request.answer[1], True)

        @precondition(lambda self: self.requests)
        @rule(data=st.data(), change=st.sampled_from(["quantity", "resident", "reward"]))
        def retry_with_other_content(self, data: st.DataObject, change: str) -> None:
            request = data.draw(st.sampled_from(self.requests))
            token, reward, quantity = request.token, self.rewards[0].pk, request.quantity
            if change == "quantity":
                quantity = request.quantity % 3 + 1
            elif change == "resident":
                token = pass_of(self.residents[1 - request.resident])
            else:
                reward = self.rewards[1].pk
            with pytest.raises(Conflict) as caught:
                services.redemption_at_vending(
                    device=self.machines[request.machine],
                    key=request.key,
                    token=token,
                    reward_id=reward,
                    quantity=quantity,
                )
            assert caught.value.code == "idempotency_key_reused"

        @rule(who=st.integers(0, 1), reward=st.integers(0, 1), quantity=st.integers(1, 2))
        def desk_redeem(self, who: int, reward: int, quantity: int) -> None:
            expected = self._expect_redeem(who, reward, quantity)
            try:
                redemption = services.redemption_at_desk(
                    staff=self.desk,
                    scope=self.scope,
                    token=pass_of(self.residents[who]),
                    reward_id=self.rewards[reward].pk,
                    quantity=quantity,
                )
            except (errors.OutOfStock, errors.InsufficientPoints) as exc:
                assert exc.code == expected
            else:
                assert expected is None
                self._sold(redemption.pk, who, reward, quantity)

        @precondition(lambda self: any(r.answer[0] == 201 for r in self.requests))
        @rule(data=st.data())
        def failure_report(self, data: st.DataObject) -> None:
            request = data.draw(st.sampled_from([r for r in self.requests if r.answer[0] == 201]))
            redemption_id = request.answer[1]["redemption_id"]
            was_refunded = self.redemptions[redemption_id]["refunded"]
            redemption, entry, replayed = services.vending_failure_report(
                device=self.machines[request.machine], key=request.key, reason="卡货"
            )
            assert (redemption.pk, replayed) == (redemption_id, was_refunded)
            assert (entry.kind, entry.amount) == ("refund", self.redemptions[redemption_id]["points"])
            if not was_refunded:
                self._refunded(redemption_id)

        @precondition(lambda self: self.redemptions)
        @rule(data=st.data())
        def desk_refund(self, data: st.DataObject) -> None:
            redemption_id = data.draw(st.sampled_from(sorted(self.redemptions)))
            if self.redemptions[redemption_id]["refunded"]:
                with pytest.raises(errors.AlreadyRefunded):
                    services.redemption_refund(
                        staff=self.desk, scope=self.scope, redemption_id=redemption_id, reason="退回"
                    )
                return
            entry = services.redemption_refund(
                staff=self.desk, scope=self.scope, redemption_id=redemption_id, reason="退回"
            )
            assert entry.amount == self.redemptions[redemption_id]["points"]
            self._refunded(redemption_id)

        @rule(who=st.integers(0, 1), amount=st.integers(-15, 15).filter(bool))
        def adjust(self, who: int, amount: int) -> None:
            call = lambda: services.points_adjust(  # noqa: E731
                staff=self.desk,
                scope=self.scope,
                resident_id=self.residents[who].pk,
                center_id=self.center.pk,
                amount=amount,
                reason="更正",
            )
            if self.balance[who] + amount < 0:
                with pytest.raises(errors.InsufficientPoints):
                    call()
                return
            assert call().balance_after == self.balance[who] + amount
            self.balance[who] += amount

        @rule(reward=st.integers(0, 1), quantity=st.integers(1, 4))
        def restock(self, reward: int, quantity: int) -> None:
            move = services.reward_restock(
                staff=self.desk, scope=self.scope, reward_id=self.rewards[reward].pk, quantity=quantity
            )
            self.stock[reward] += quantity
            assert move.stock_after == self.stock[reward]

        # --- after each step --------------------------------------------------------------------

        @invariant()
        def balances_agree(self) -> None:
            for who, resident in enumerate(self.residents):
                account = Account.objects.filter(resident=resident, community=self.community).first()
                cached = 0 if account is None else account.balance
                summed = Entry.objects.filter(account__resident=resident).aggregate(s=Sum("amount"))["s"] or 0
                assert cached == summed == self.balance[who] >= 0, (who, cached, summed, self.balance[who])

        @invariant()
        def stock_agrees(self) -> None:
            for index, reward in enumerate(self.rewards):
                cached = Reward.objects.get(pk=reward.pk).stock
                summed = StockMove.objects.filter(reward=reward).aggregate(s=Sum("delta"))["s"] or 0
                assert cached == summed == self.stock[index] >= 0, (index, cached, summed, self.stock[index])

        @invariant()
        def no_key_debited_twice(self) -> None:
            mine = Redemption.objects.filter(reward__in=self.rewards)
            keyed = mine.filter(device__isnull=False).values("device", "request_key").annotate(n=Count("id"))
            assert all(row["n"] == 1 for row in keyed)
            approved = [r.answer[1]["redemption_id"] for r in self.requests if r.answer[0] == 201]
            assert sorted(mine.filter(channel="vending").values_list("pk", flat=True)) == sorted(approved)
            per_redemption = Counter(
                Entry.objects.filter(redemption__in=mine).values_list("redemption_id", "kind")
            )
            for pk, known in self.redemptions.items():
                assert per_redemption[(pk, "redeem")] == 1
                assert per_redemption[(pk, "refund")] == (1 if known["refunded"] else 0)
            assert mine.count() == len(self.redemptions)
            assert set(mine.filter(status="refunded").values_list("pk", flat=True)) == {
                pk for pk, known in self.redemptions.items() if known["refunded"]
            }

        @invariant()
        def books_balanced(self) -> None:
            assert services.ledger_check() == []
            lines = selectors.reconciliation(self.scope, center_id=self.center.pk)
            assert [line.reward.name for line in lines if not line.balanced] == []

    return Ledger


def test_random_sequences_keep_the_ledger_right(vworld):
    run_state_machine_as_test(
        machine_for(vworld),
        settings=settings(
            max_examples=30,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
