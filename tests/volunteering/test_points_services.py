"""The points services: every bad input of the issue refused at the service with its exact code and
nothing written (no entry, no stock move, no balance or stock changed); replays that answer as
before and debit nothing; failure refunds once; the offline queue; the desk; stock counts and
restocks; expiry oldest-first; the books that always agree; the append-only tables."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from livingroom.core.errors import Conflict, PermissionDenied
from livingroom.core.models import IdempotencyRecord
from livingroom.notices.models import Notice
from livingroom.people import passes
from livingroom.people.scopes import staff_scope
from livingroom.places.models import Device
from livingroom.points import errors, selectors, services
from livingroom.points.models import MAX_STOCK, Account, Entry, Redemption, Reward, StockMove
from tests import factories as f
from tests.invariants import nothing_changes
from tests.volunteering.conftest import give_points, pass_of

pytestmark = pytest.mark.django_db


# --- helpers --------------------------------------------------------------------------------------


def vend(
    world, resident, key, *, quantity=1, machine="vending", token=None, reward=None, shown_at=None, now=None
):
    device = machine if isinstance(machine, Device) else world[machine][0]
    return services.redemption_at_vending(
        device=device,
        key=key,
        token=token if token is not None else pass_of(resident),
        reward_id=(reward or world["drink"]).pk,
        quantity=quantity,
        shown_at=shown_at,
        now=now,
    )


def balance(resident) -> int:
    account = Account.objects.filter(resident=resident).first()
    return 0 if account is None else account.balance


def stock(reward) -> int:
    return Reward.objects.get(pk=reward.pk).stock


def pass_at(resident, when: dt.datetime) -> str:
    """A genuine pass as the resident's phone showed it at ``when``."""
    return passes.encode(resident.pk, int(when.timestamp()))


def desk_redeem(world, resident, reward=None, quantity=1, staff=None, token=None):
    staff = staff or world["desk"]
    return services.redemption_at_desk(
        staff=staff,
        scope=staff_scope(staff),
        token=token or pass_of(resident),
        reward_id=(reward or world["voucher"]).pk,
        quantity=quantity,
    )


def add_reward(world, name="可乐", price=4, stock_=10, **kw):
    values = dict(
        center_id=world["center"].pk, kind=Reward.Kind.DRINK, name=name, price_points=price, stock=stock_
    )
    values.setdefault("at_vending", True)
    values.update(kw)
    return services.reward_create(
        staff=world["desk"], scope=world["scope"], draft=services.RewardDraft(**values)
    )


@pytest.fixture
def rich(vworld):
    """The first resident of the world holds 10 points."""
    resident = vworld["residents"][0]
    give_points(vworld, resident, 10, key="rich")
    return resident


def assert_books(world):
    assert services.ledger_check() == []
    lines = selectors.reconciliation(world["scope"], center_id=world["center"].pk)
    assert [line.reward.name for line in lines if not line.balanced] == []


# --- a redemption that works ---------------------------------------------------------------------


def test_a_drink_from_the_machine(vworld, rich):
    machine = vworld["vending"][0]
    status, body, replayed = vend(vworld, rich, "req-1", quantity=2)
    assert (status, replayed) == (201, False)
    redemption = Redemption.objects.get()
    assert body == {
        "redemption_id": redemption.pk,
        "status": "approved",
        "vend": {"reward_id": vworld["drink"].pk, "name": "矿泉水", "quantity": 2},
        "points": 6,
        "balance": 4,
        "resident": rich.masked_name,
    }
    assert (redemption.channel, redemption.device, redemption.request_key, redemption.unit_points) == (
        "vending",
        machine,
        "req-1",
        3,
    )
    entry = Entry.objects.get(redemption=redemption)
    assert (entry.kind, entry.amount, entry.balance_after, entry.device, entry.center) == (
        "redeem",
        -6,
        4,
        machine,
        vworld["center"],
    )
    move = StockMove.objects.get(redemption=redemption)
    assert (move.kind, move.delta, move.stock_after) == ("redeem", -2, 8)
    assert (balance(rich), stock(vworld["drink"])) == (4, 8)
    assert_books(vworld)


# --- bad input: each refused, nothing written ----------------------------------------------------


def test_insufficient_points(vworld):
    poor = vworld["residents"][0]
    give_points(vworld, poor, 2, key="poor")
    with nothing_changes():
        status, body, replayed = vend(vworld, poor, "poor-1")
    assert (status, body["code"], replayed) == (409, "insufficient_points", False)
    assert "2" in body["message"] and "3" in body["message"]
    # No account at all is the same refusal.
    with nothing_changes():
        status, body, _ = vend(vworld, vworld["residents"][1], "none-1")
    assert (status, body["code"]) == (409, "insufficient_points")


def test_out_of_stock(vworld, rich):
    empty = add_reward(vworld, name="橙汁", price=1, stock_=0)
    with nothing_changes():
        status, body, _ = vend(vworld, rich, "oos-1", reward=empty)
    assert (status, body["code"]) == (409, "out_of_stock")
    with nothing_changes():
        status, body, _ = vend(vworld, rich, "oos-2", quantity=11)  # 10 in stock
    assert (status, body["code"]) == (409, "out_of_stock")


@pytest.mark.parametrize(
    ("make_token", "status", "code"),
    [
        (lambda r: pass_at(r, timezone.now() - dt.timedelta(seconds=65)), 400, "pass_expired"),
        (lambda r: pass_at(r, timezone.now() + dt.timedelta(seconds=60)), 400, "pass_expired"),
        (
            lambda r: pass_of(r)[:-3] + ("AAA" if not pass_of(r).endswith("AAA") else "BBB"),
            400,
            "pass_invalid",
        ),
        (lambda r: "LR1." + "A" * 54, 400, "pass_invalid"),
        (lambda r: "", 400, "pass_invalid"),
        (lambda r: passes.encode(10**9, int(time.time())), 400, "pass_invalid"),
    ],
    ids=["expired", "from-the-future", "forged", "garbage", "empty", "no-such-resident"],
)
def test_a_bad_pass(vworld, rich, make_token, status, code):
    token = make_token(rich)
    with nothing_changes():
        answer = vend(vworld, rich, "bad-pass", token=token)
    assert (answer[0], answer[1]["code"], answer[2]) == (status, code, False)
    # The refusal is the answer to that key from now on.
    with nothing_changes():
        assert vend(vworld, rich, "bad-pass", token=token) == (answer[0], answer[1], True)


def test_a_replayed_pass(vworld, rich):
    token = pass_of(rich)
    assert vend(vworld, rich, "first", token=token)[0] == 201
    with nothing_changes():
        status, body, replayed = vend(vworld, rich, "second", token=token)
    assert (status, body["code"], replayed) == (409, "pass_replayed", False)
    # A pass used at the desk does not work at the machine either.
    token = pass_of(rich)
    desk_redeem(vworld, rich, reward=vworld["drink"], token=token)
    with nothing_changes():
        assert vend(vworld, rich, "third", token=token)[1]["code"] == "pass_replayed"


@pytest.mark.parametrize("change", ["reward", "quantity", "resident", "pass"])
def test_the_same_key_for_another_request_is_refused(vworld, rich, change):
    other_drink = add_reward(vworld, name="可乐", price=1)
    give_points(vworld, vworld["residents"][1], 10, key="second rich")
    token = pass_of(rich)
    first = vend(vworld, rich, "k", token=token)
    assert first[0] == 201
    retry = {
        "reward": dict(token=token, reward=other_drink),
        "quantity": dict(token=token, quantity=2),
        "resident": dict(token=pass_of(vworld["residents"][1])),
        "pass": dict(token=pass_of(rich)),
    }[change]
    with nothing_changes(), pytest.raises(Conflict) as caught:
        vend(vworld, rich, "k", **retry)
    assert (caught.value.code, caught.value.status) == ("idempotency_key_reused", 409)
    assert Redemption.objects.count() == 1 and balance(rich) == 7


def test_the_same_key_at_another_machine_is_another_request(vworld, rich):
    token = pass_of(rich)
    assert vend(vworld, rich, "k", token=token)[0] == 201
    # A key belongs to its machine: the second machine's "k" is its own, with its own pass.
    assert vend(vworld, rich, "k", machine="vending2")[0] == 201
    assert balance(rich) == 4


def test_a_machine_of_another_center(vworld, rich, place):
    elsewhere, _ = f.device_for(place["centers"][1], Device.Kind.VENDING_MACHINE)
    with nothing_changes():
        status, body, _ = vend(vworld, rich, "far", machine=elsewhere)
    assert (status, body["code"]) == (404, "reward_not_found")


@pytest.mark.parametrize("kind", [Device.Kind.KIOSK, Device.Kind.SCANNER, Device.Kind.PEOPLE_COUNTER])
def test_a_device_that_is_not_a_vending_machine(vworld, rich, kind):
    device, _ = f.device_for(vworld["center"], kind)
    records = IdempotencyRecord.objects.count()
    with nothing_changes(), pytest.raises(PermissionDenied) as caught:
        vend(vworld, rich, "kiosk", machine=device)
    assert (caught.value.code, caught.value.status) == ("device_not_allowed", 403)
    with nothing_changes(), pytest.raises(PermissionDenied):
        services.vending_failure_report(device=device, key="kiosk", reason="x")
    assert IdempotencyRecord.objects.count() == records


@pytest.mark.parametrize("quantity", [0, -1, 21, 10**9, True, "1", 1.5, None])
def test_bad_quantities(vworld, rich, quantity):
    records = IdempotencyRecord.objects.count()
    with nothing_changes(), pytest.raises(errors.QuantityInvalid) as caught:
        vend(vworld, rich, f"q{quantity}", quantity=quantity)
    assert (caught.value.code, caught.value.field, caught.value.status) == (
        "quantity_invalid",
        "quantity",
        400,
    )
    with nothing_changes(), pytest.raises(errors.QuantityInvalid):
        desk_redeem(vworld, rich, quantity=quantity)
    assert IdempotencyRecord.objects.count() == records


def test_a_reward_not_in_the_machines_or_off_offer(vworld, rich):
    with nothing_changes():
        status, body, _ = vend(vworld, rich, "voucher", reward=vworld["voucher"])
    assert (status, body["code"]) == (409, "reward_unavailable")
    services.reward_update(
        staff=vworld["desk"], scope=vworld["scope"], reward_id=vworld["drink"].pk, is_active=False
    )
    with nothing_changes():
        status, body, _ = vend(vworld, rich, "inactive")
    assert (status, body["code"]) == (409, "reward_unavailable")
    with nothing_changes():
        status, body, _ = vend(vworld, rich, "missing", reward=Reward(pk=10**9))
    assert (status, body["code"]) == (404, "reward_not_found")


def test_a_bad_idempotency_key(vworld, rich):
    for key in ("", "   ", "x" * 101, "a\nb"):
        with nothing_changes(), pytest.raises(Exception) as caught:
            vend(vworld, rich, key)
        assert caught.value.code == "idempotency_key_required"


# --- replays ----------------------------------------------------------------------------------------


def test_a_retry_gets_the_same_answer_and_debits_nothing(vworld, rich):
    token = pass_of(rich)
    first = vend(vworld, rich, "retry", token=token, quantity=3)
    assert first[0] == 201
    for _ in range(3):
        with nothing_changes():
            assert vend(vworld, rich, "retry", token=token, quantity=3) == (first[0], first[1], True)
    assert (balance(rich), stock(vworld["drink"]), Entry.objects.filter(kind="redeem").count()) == (1, 7, 1)


def test_a_stored_refusal_stays_the_answer_even_once_it_would_pass(vworld):
    resident = vworld["residents"][0]
    give_points(vworld, resident, 2, key="two")
    token = pass_of(resident)
    refused = vend(vworld, resident, "later", token=token)
    assert refused[1]["code"] == "insufficient_points"
    give_points(vworld, resident, 10, key="ten more")
    with nothing_changes():
        assert vend(vworld, resident, "later", token=token) == (refused[0], refused[1], True)
    assert balance(resident) == 12
    # The pass the refusal did not use works under a new key.
    assert vend(vworld, resident, "new", token=token)[0] == 201


# --- failures at the machine --------------------------------------------------------------------


def test_a_failed_vend_is_refunded_once(vworld, rich):
    machine = vworld["vending"][0]
    token = pass_of(rich)
    approved = vend(vworld, rich, "jam", quantity=2, token=token)
    assert (balance(rich), stock(vworld["drink"])) == (4, 8)
    redemption, entry, replayed = services.vending_failure_report(device=machine, key="jam", reason=" 卡货  ")
    assert replayed is False
    assert (redemption.status, redemption.failure_reason, redemption.refunded_at is not None) == (
        "refunded",
        "卡货",
        True,
    )
    assert (entry.kind, entry.amount, entry.balance_after, entry.key, entry.device) == (
        "refund",
        6,
        10,
        f"refund:{redemption.pk}",
        machine,
    )
    move = StockMove.objects.get(redemption=redemption, kind="return")
    assert (move.delta, move.stock_after) == (2, 10)
    assert (balance(rich), stock(vworld["drink"])) == (10, 10)
    assert Notice.objects.filter(kind="points.refunded", user=rich.user).count() == 1
    with nothing_changes():
        again, same, replayed = services.vending_failure_report(device=machine, key="jam", reason="卡货")
    assert (again.pk, same.pk, replayed) == (redemption.pk, entry.pk, True)
    # A late retry of the original request answers as it did then, and debits nothing.
    with nothing_changes():
        assert vend(vworld, rich, "jam", quantity=2, token=token) == (201, approved[1], True)
    assert_books(vworld)


def test_a_failure_of_an_unknown_key_or_of_another_machine(vworld, rich):
    vend(vworld, rich, "mine")
    with nothing_changes(), pytest.raises(errors.RedemptionNotFound):
        services.vending_failure_report(device=vworld["vending"][0], key="nobody", reason="x")
    with nothing_changes(), pytest.raises(errors.RedemptionNotFound):
        services.vending_failure_report(device=vworld["vending2"][0], key="mine", reason="x")
    # A refused request has nothing to refund.
    vend(vworld, vworld["residents"][1], "refused")
    with nothing_changes(), pytest.raises(errors.RedemptionNotFound):
        services.vending_failure_report(device=vworld["vending"][0], key="refused", reason="x")


# --- the offline queue ----------------------------------------------------------------------------


def queued(resident, key, shown_at, reward, quantity=1):
    return services.QueuedRequest(
        key=key,
        token=pass_at(resident, shown_at - dt.timedelta(seconds=10)),
        reward_id=reward.pk,
        quantity=quantity,
        shown_at=shown_at,
    )


def test_the_queue_is_settled_in_order_as_of_when_the_pass_was_shown(vworld, rich):
    now = timezone.now()
    drink = vworld["drink"]
    times = [now - dt.timedelta(hours=h) for h in (5, 3, 2, 1)]
    queue = [queued(rich, f"q{i}", t, drink) for i, t in enumerate(times)]
    results = services.vending_queue_upload(device=vworld["vending"][0], requests=queue, now=now)
    assert [(key, status, body.get("code"), replayed) for key, status, body, replayed in results] == [
        ("q0", 201, None, False),
        ("q1", 201, None, False),
        ("q2", 201, None, False),
        ("q3", 409, "insufficient_points", False),
    ]
    assert [r[2].get("balance") for r in results[:3]] == [7, 4, 1]
    redemptions = Redemption.objects.order_by("occurred_at")
    assert [r.occurred_at for r in redemptions] == times[:3]
    assert sorted(Entry.objects.filter(kind="redeem").values_list("created_at", flat=True)) == times[:3]
    assert (balance(rich), stock(drink)) == (1, 7)
    # Uploading the same queue again (the machine did not hear the answer) changes nothing.
    with nothing_changes():
        again = services.vending_queue_upload(device=vworld["vending"][0], requests=queue, now=now)
    assert [(k, s, b, True) for k, s, b, _ in results] == again
    assert_books(vworld)


def test_a_queued_pass_must_have_been_fresh_when_shown(vworld, rich):
    now = timezone.now()
    shown = now - dt.timedelta(hours=2)
    stale = services.QueuedRequest(
        key="stale",
        token=pass_at(rich, shown - dt.timedelta(seconds=61)),
        reward_id=vworld["drink"].pk,
        quantity=1,
        shown_at=shown,
    )
    with nothing_changes():
        ((_, status, body, _),) = services.vending_queue_upload(
            device=vworld["vending"][0], requests=[stale], now=now
        )
    assert (status, body["code"]) == (400, "pass_expired")


def _refused_queue(world, requests, field, now):
    with nothing_changes(), pytest.raises(errors.QueueInvalid) as caught:
        services.vending_queue_upload(device=world["vending"][0], requests=requests, now=now)
    assert (caught.value.code, caught.value.status, caught.value.field) == ("queue_invalid", 400, field)
    assert not IdempotencyRecord.objects.filter(scope__startswith="vending:").exists()


def test_a_queue_out_of_order_too_old_or_with_a_key_twice_is_refused_as_a_whole(vworld, rich):
    now = timezone.now()
    drink = vworld["drink"]
    a, b, c = (now - dt.timedelta(hours=h) for h in (3, 2, 1))
    _refused_queue(
        vworld,
        [queued(rich, "1", a, drink), queued(rich, "2", c, drink), queued(rich, "3", b, drink)],
        "requests.2.shown_at",
        now,
    )
    _refused_queue(
        vworld,
        [queued(rich, "1", now - dt.timedelta(hours=25), drink), queued(rich, "2", c, drink)],
        "requests.0.shown_at",
        now,
    )
    _refused_queue(
        vworld,
        [queued(rich, "1", a, drink), queued(rich, "2", now + dt.timedelta(minutes=6), drink)],
        "requests.1.shown_at",
        now,
    )
    _refused_queue(
        vworld, [queued(rich, "1", a, drink), queued(rich, "1", b, drink)], "requests.1.idempotency_key", now
    )
    naive = services.QueuedRequest(
        key="n", token=pass_of(rich), reward_id=drink.pk, quantity=1, shown_at=dt.datetime.now()
    )
    _refused_queue(vworld, [naive], "requests.0.shown_at", now)
    _refused_queue(vworld, [], "requests", now)
    _refused_queue(
        vworld, [queued(rich, str(i), a, drink) for i in range(services.MAX_QUEUE + 1)], "requests", now
    )


def test_a_queue_with_a_bad_quantity_is_refused_as_a_whole(vworld, rich):
    now = timezone.now()
    drink = vworld["drink"]
    good = queued(rich, "good", now - dt.timedelta(hours=2), drink)
    bad = queued(rich, "bad", now - dt.timedelta(hours=1), drink, quantity=0)
    with nothing_changes(), pytest.raises(errors.QuantityInvalid) as caught:
        services.vending_queue_upload(device=vworld["vending"][0], requests=[good, bad], now=now)
    assert caught.value.field == "requests.1.quantity"
    assert not IdempotencyRecord.objects.filter(scope__startswith="vending:").exists()


def test_a_kiosk_uploads_no_queue(vworld, rich):
    now = timezone.now()
    with nothing_changes(), pytest.raises(PermissionDenied):
        services.vending_queue_upload(
            device=vworld["kiosk"][0],
            requests=[queued(rich, "k", now - dt.timedelta(hours=1), vworld["drink"])],
            now=now,
        )


# --- the desk -------------------------------------------------------------------------------------


def test_redeeming_and_refunding_at_the_desk(vworld):
    resident = vworld["residents"][0]
    give_points(vworld, resident, 50, key="fifty")
    redemption = desk_redeem(vworld, resident, quantity=2)
    assert (
        redemption.channel,
        redemption.staff,
        redemption.points,
        redemption.device,
        redemption.request_key,
    ) == (
        "desk",
        vworld["desk"],
        40,
        None,
        "",
    )
    entry = Entry.objects.get(redemption=redemption)
    assert (entry.kind, entry.amount, entry.balance_after, entry.actor) == ("redeem", -40, 10, vworld["desk"])
    assert (balance(resident), stock(vworld["voucher"])) == (10, 3)
    with nothing_changes(), pytest.raises(errors.ReasonRequired):
        services.redemption_refund(
            staff=vworld["desk"], scope=vworld["scope"], redemption_id=redemption.pk, reason="  "
        )
    refund = services.redemption_refund(
        staff=vworld["desk"], scope=vworld["scope"], redemption_id=redemption.pk, reason="居民退回"
    )
    assert (refund.kind, refund.amount, refund.balance_after, refund.key, refund.actor) == (
        "refund",
        40,
        50,
        f"refund:{redemption.pk}",
        vworld["desk"],
    )
    assert (balance(resident), stock(vworld["voucher"])) == (50, 5)
    with nothing_changes(), pytest.raises(errors.AlreadyRefunded) as caught:
        services.redemption_refund(
            staff=vworld["desk"], scope=vworld["scope"], redemption_id=redemption.pk, reason="再退"
        )
    assert (caught.value.code, caught.value.status) == ("already_refunded", 409)
    assert_books(vworld)


def test_desk_refusals(vworld, roles):
    resident = vworld["residents"][0]
    give_points(vworld, resident, 30, key="thirty")
    only_machine = add_reward(vworld, name="冰红茶", price=1, at_desk=False)
    with nothing_changes():
        with pytest.raises(errors.InsufficientPoints) as caught:
            desk_redeem(vworld, resident, quantity=2)
        assert "30" in caught.value.message and "40" in caught.value.message
        with pytest.raises(errors.OutOfStock):
            desk_redeem(vworld, resident, quantity=6)
        with pytest.raises(errors.RewardUnavailable):
            desk_redeem(vworld, resident, reward=only_machine)
    with nothing_changes():
        other = roles["other_community"]
        with pytest.raises(errors.RewardNotFound) as caught:
            desk_redeem(vworld, resident, staff=other)
        assert caught.value.status == 404
        with pytest.raises(PermissionDenied) as caught:
            desk_redeem(vworld, resident, staff=roles["street"])
        assert caught.value.code == "not_desk_staff"
    redemption = desk_redeem(vworld, resident)
    with nothing_changes(), pytest.raises(errors.RedemptionNotFound):
        services.redemption_refund(
            staff=roles["other_community"],
            scope=staff_scope(roles["other_community"]),
            redemption_id=redemption.pk,
            reason="越界",
        )


def test_a_price_change_applies_to_later_redemptions_only(vworld):
    resident = vworld["residents"][0]
    give_points(vworld, resident, 100, key="hundred")
    first = desk_redeem(vworld, resident)
    services.reward_update(
        staff=vworld["desk"], scope=vworld["scope"], reward_id=vworld["voucher"].pk, price_points=25
    )
    second = desk_redeem(vworld, resident)
    assert [(r.unit_points, r.points) for r in (first, second)] == [(20, 20), (25, 25)]
    services.redemption_refund(
        staff=vworld["desk"], scope=vworld["scope"], redemption_id=first.pk, reason="退"
    )
    assert balance(resident) == 100 - 25
    (line,) = [
        line
        for line in selectors.reconciliation(vworld["scope"], center_id=vworld["center"].pk)
        if line.reward == vworld["voucher"]
    ]
    assert (line.restocked, line.redeemed, line.returned, line.units_sold, line.points_expected) == (
        5,
        1,
        1,
        1,
        25,
    )
    assert line.balanced


# --- points in and out by staff ------------------------------------------------------------------


def test_awards_are_keyed_and_positive(vworld):
    resident = vworld["residents"][0]
    for amount in (0, -5, 1_000_001, True):
        with nothing_changes(), pytest.raises(errors.PointsInvalid):
            services.points_award(
                resident=resident, community=vworld["community"], amount=amount, reason="x", key="k"
            )
    first = services.points_award(
        resident=resident, community=vworld["community"], amount=5, reason="奖励", key="k"
    )
    with nothing_changes(ignore=("AuditEvent",)):
        again = services.points_award(
            resident=resident, community=vworld["community"], amount=5, reason="奖励", key="k"
        )
    assert again.pk == first.pk and balance(resident) == 5


def test_staff_adjust_a_balance_with_a_reason(vworld, roles):
    resident = vworld["residents"][0]
    give_points(vworld, resident, 5, key="five")

    def adjust(amount, reason="盘点更正", staff=None):
        staff = staff or vworld["desk"]
        return services.points_adjust(
            staff=staff,
            scope=staff_scope(staff),
            resident_id=resident.pk,
            center_id=vworld["center"].pk,
            amount=amount,
            reason=reason,
        )

    plus = adjust(3)
    assert (plus.kind, plus.amount, plus.balance_after, plus.actor) == ("adjust", 3, 8, vworld["desk"])
    minus = adjust(-8)
    assert (minus.amount, minus.balance_after) == (-8, 0)
    with nothing_changes():
        with pytest.raises(errors.InsufficientPoints):
            adjust(-1)
        with pytest.raises(errors.PointsInvalid):
            adjust(0)
        with pytest.raises(errors.ReasonRequired):
            adjust(2, reason=" ")
        with pytest.raises(errors.RewardNotFound) as caught:
            adjust(2, staff=roles["other_community"])
        assert caught.value.code == "center_not_found"
        with pytest.raises(PermissionDenied):
            adjust(2, staff=roles["street"])


# --- stock ----------------------------------------------------------------------------------------


def test_restock_and_count(vworld, rich):
    drink = vworld["drink"]
    move = services.reward_restock(
        staff=vworld["desk"], scope=vworld["scope"], reward_id=drink.pk, quantity=5
    )
    assert (move.kind, move.delta, move.stock_after, stock(drink)) == ("restock", 5, 15, 15)
    counted = services.reward_count(
        staff=vworld["desk"], scope=vworld["scope"], reward_id=drink.pk, counted=12, reason="盘点少3瓶"
    )
    assert (counted.kind, counted.delta, counted.stock_after, stock(drink)) == ("count", -3, 12, 12)
    up = services.reward_count(
        staff=vworld["desk"], scope=vworld["scope"], reward_id=drink.pk, counted=13, reason="找到1瓶"
    )
    assert (up.delta, stock(drink)) == (1, 13)
    with nothing_changes():
        with pytest.raises(errors.StockInvalid) as caught:
            services.reward_count(
                staff=vworld["desk"], scope=vworld["scope"], reward_id=drink.pk, counted=13, reason="x"
            )
        assert caught.value.code == "stock_matches"
        for bad in (-1, MAX_STOCK + 1):
            with pytest.raises(errors.StockInvalid):
                services.reward_count(
                    staff=vworld["desk"], scope=vworld["scope"], reward_id=drink.pk, counted=bad, reason="x"
                )
        with pytest.raises(errors.ReasonRequired):
            services.reward_count(
                staff=vworld["desk"], scope=vworld["scope"], reward_id=drink.pk, counted=1, reason=""
            )
        for bad in (0, -2, MAX_STOCK + 1):
            with pytest.raises(errors.StockInvalid):
                services.reward_restock(
                    staff=vworld["desk"], scope=vworld["scope"], reward_id=drink.pk, quantity=bad
                )
        # More than the most a catalogue holds: refused, not a database error.
        with pytest.raises(errors.StockInvalid):
            services.reward_restock(
                staff=vworld["desk"], scope=vworld["scope"], reward_id=drink.pk, quantity=MAX_STOCK - 5
            )
    assert_books(vworld)


def test_an_item_taken_off_offer_can_still_be_counted(vworld):
    drink = vworld["drink"]
    services.reward_update(staff=vworld["desk"], scope=vworld["scope"], reward_id=drink.pk, is_active=False)
    move = services.reward_count(
        staff=vworld["desk"], scope=vworld["scope"], reward_id=drink.pk, counted=0, reason="过期下架"
    )
    assert (move.delta, stock(drink)) == (-10, 0)
    assert_books(vworld)


def test_stock_is_only_for_the_centers_own_staff(vworld, roles):
    for who, error in (("other_community", errors.RewardNotFound), ("street", PermissionDenied)):
        staff = roles[who]
        with nothing_changes(), pytest.raises(error):
            services.reward_restock(
                staff=staff, scope=staff_scope(staff), reward_id=vworld["drink"].pk, quantity=1
            )
        with nothing_changes(), pytest.raises(error):
            services.reward_count(
                staff=staff, scope=staff_scope(staff), reward_id=vworld["drink"].pk, counted=1, reason="x"
            )


def test_reward_rules(vworld):
    with nothing_changes():
        with pytest.raises(errors.RewardUnavailable) as caught:
            add_reward(vworld, name="矿泉水")
        assert caught.value.code == "reward_name_taken"
        with pytest.raises(errors.RewardUnavailable) as caught:
            add_reward(vworld, name="毛巾", kind=Reward.Kind.GOODS, at_vending=True)
        assert (caught.value.code, caught.value.field) == ("reward_invalid", "at_vending")
        with pytest.raises(errors.RewardUnavailable):
            add_reward(vworld, name="  ")
        with pytest.raises(errors.PointsInvalid):
            add_reward(vworld, name="白送", price=0)
        with pytest.raises(errors.StockInvalid):
            add_reward(vworld, name="太多", stock_=MAX_STOCK + 1)
        with pytest.raises(errors.RewardUnavailable):
            add_reward(vworld, name="哪都不卖", at_vending=False, at_desk=False)


# --- expiry ---------------------------------------------------------------------------------------


def test_points_expire_oldest_first(vworld):
    now = timezone.now()
    days = dt.timedelta(days=1)
    resident = vworld["residents"][0]

    def award(amount, age, key):
        services.points_award(
            resident=resident,
            community=vworld["community"],
            amount=amount,
            reason="服务",
            key=key,
            now=now - age * days,
        )

    award(10, 400, "old")
    award(5, 10, "new")
    desk_redeem(vworld, resident, reward=vworld["drink"], quantity=2)  # 6 of the oldest 10 spent
    assert balance(resident) == 9
    assert services.points_expire(now=now, valid_days=0) == 0
    assert services.points_expire(now=now, valid_days=365) == 1
    entry = Entry.objects.get(kind="expire")
    assert (entry.amount, entry.balance_after, entry.created_at) == (-4, 5, now)
    assert balance(resident) == 5
    # Running again expires nothing more; the recent points stay.
    with nothing_changes():
        assert services.points_expire(now=now, valid_days=365) == 0
    # A year later the rest goes too.
    assert services.points_expire(now=now + 400 * days, valid_days=365) == 1
    assert balance(resident) == 0
    assert_books(vworld)


def test_expiry_spares_what_was_spent_and_refunds(vworld):
    now = timezone.now()
    resident = vworld["residents"][0]
    services.points_award(
        resident=resident,
        community=vworld["community"],
        amount=6,
        reason="服务",
        key="old",
        now=now - dt.timedelta(days=400),
    )
    spent = desk_redeem(vworld, resident, reward=vworld["drink"], quantity=2)
    assert balance(resident) == 0
    assert services.points_expire(now=now, valid_days=365) == 0  # nothing left to expire
    services.redemption_refund(
        staff=vworld["desk"], scope=vworld["scope"], redemption_id=spent.pk, reason="退"
    )
    # The refund gave the old points back; they were earned over a year ago and expire.
    assert services.points_expire(now=now, valid_days=365) == 1
    assert balance(resident) == 0
    assert_books(vworld)


def test_expiry_follows_the_setting(vworld, settings):
    resident = vworld["residents"][0]
    services.points_award(
        resident=resident,
        community=vworld["community"],
        amount=6,
        reason="服务",
        key="old",
        now=timezone.now() - dt.timedelta(days=40),
    )
    settings.LIVINGROOM_POINTS_VALID_DAYS = 0
    assert services.points_expire() == 0
    settings.LIVINGROOM_POINTS_VALID_DAYS = 30
    assert services.points_expire() == 1
    assert balance(resident) == 0


# --- the books --------------------------------------------------------------------------------------


def test_the_books_agree_after_a_busy_day(vworld, rich, place):
    other = vworld["residents"][1]
    give_points(vworld, other, 40, key="other")
    vend(vworld, rich, "a", quantity=2)
    vend(vworld, other, "b", machine="vending2")
    vend(vworld, other, "c", quantity=20)  # out of stock
    services.vending_failure_report(device=vworld["vending"][0], key="a", reason="卡货")
    desk_redeem(vworld, other)
    services.reward_restock(
        staff=vworld["desk"], scope=vworld["scope"], reward_id=vworld["drink"].pk, quantity=4
    )
    services.reward_count(
        staff=vworld["desk"], scope=vworld["scope"], reward_id=vworld["voucher"].pk, counted=2, reason="少2张"
    )
    assert (balance(rich), balance(other)) == (10, 40 - 3 - 20)
    assert_books(vworld)
    summary = selectors.ledger_summary(vworld["scope"], center_id=vworld["center"].pk)
    assert (summary.issued, summary.spent, summary.refunded, summary.outstanding) == (50, 6 + 3 + 20, 6, 27)


def test_ledger_check_finds_a_tampered_balance_or_stock(vworld, rich):
    assert services.ledger_check() == []
    account = Account.objects.get(resident=rich)
    Account.objects.filter(pk=account.pk).update(balance=12)
    Reward.objects.filter(pk=vworld["drink"].pk).update(stock=9)
    assert services.ledger_check() == [
        services.LedgerProblem("account", account.pk, 12, 10),
        services.LedgerProblem("reward", vworld["drink"].pk, 9, 10),
    ]


@pytest.mark.parametrize("table", ["points_entry", "points_stockmove"])
@pytest.mark.parametrize("statement", ["UPDATE {t} SET created_at = created_at", "DELETE FROM {t}"])
def test_the_ledger_tables_are_append_only_in_the_database(vworld, rich, table, statement):
    assert Entry.objects.exists() and StockMove.objects.exists()
    with pytest.raises(DatabaseError) as caught, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement.format(t=table))
    assert "append-only" in str(caught.value)
    assert Entry.objects.count() == 1 and StockMove.objects.count() == 2


def test_the_ledger_rows_are_append_only_in_the_orm(vworld, rich):
    entry = Entry.objects.get()
    move = StockMove.objects.first()
    for row in (entry, move):
        with pytest.raises(ValueError, match="append-only"):
            row.save()
        with pytest.raises(ValueError, match="append-only"):
            row.delete()


# --- the commands ---------------------------------------------------------------------------------


def test_points_check_command(vworld, rich, capsys):
    call_command("points_check")
    assert capsys.readouterr().out.strip() == "ledger OK: 1 accounts, 2 rewards"
    Account.objects.filter(resident=rich).update(balance=3)
    with pytest.raises(CommandError) as caught:
        call_command("points_check")
    assert caught.value.returncode == 1
    out = capsys.readouterr().out
    account = Account.objects.get(resident=rich)
    assert f"account {account.pk}: balance 3, entries sum to 10" in out


def test_points_expire_command(vworld, capsys):
    resident = vworld["residents"][0]
    services.points_award(
        resident=resident,
        community=vworld["community"],
        amount=6,
        reason="服务",
        key="old",
        now=timezone.now() - dt.timedelta(days=40),
    )
    call_command("points_expire")
    assert capsys.readouterr().out.strip() == "expiry entries written: 0"  # never, by default
    call_command("points_expire", days=30)
    assert capsys.readouterr().out.strip() == "expiry entries written: 1"
    assert balance(resident) == 0
