"""Every change to points, rewards and stock.

Points move with one conditional UPDATE of the account row (``balance + amount >= 0``) and an
appended ``Entry`` in the same transaction; stock moves the same way on the reward row. A
redemption locks the reward row first and the account row second, always in that order (refunds
too), so two redemptions never deadlock on each other. A vending machine's request is run once
per idempotency key (``core.idempotency``, refusals kept), so a retry debits nothing more.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from livingroom.core.audit import audit_log
from livingroom.core.errors import PermissionDenied
from livingroom.core.idempotency import run_idempotent
from livingroom.core.scopes import StaffScope
from livingroom.notices.services import notice_send
from livingroom.people import passes
from livingroom.people.models import Resident, User
from livingroom.people.services import resident_pass_verify
from livingroom.places.models import Center, Community, Device
from livingroom.points import errors
from livingroom.points.models import (
    MAX_POINTS,
    MAX_QUANTITY,
    MAX_STOCK,
    Account,
    Entry,
    Redemption,
    Reward,
    StockMove,
)

logger = logging.getLogger(__name__)

MAX_QUEUE = 100
CLOCK_SKEW = dt.timedelta(minutes=5)

# One round trip each; RETURNING works on PostgreSQL and SQLite 3.35+.
MOVE_POINTS = (
    "UPDATE points_account SET balance = balance + %s WHERE id = %s AND balance + %s >= 0 RETURNING balance"
)
SELL_STOCK = (
    "UPDATE points_reward SET stock = stock - %s WHERE id = %s AND stock >= %s AND is_active RETURNING stock"
)
TAKE_STOCK = "UPDATE points_reward SET stock = stock - %s WHERE id = %s AND stock >= %s RETURNING stock"
PUT_STOCK = "UPDATE points_reward SET stock = stock + %s WHERE id = %s AND stock + %s <= %s RETURNING stock"


# --- helpers ------------------------------------------------------------------------------------


def _move_points(account_id: int, amount: int) -> int | None:
    """The balance after adding ``amount`` (negative to debit), or None if it would go below zero."""
    with connection.cursor() as cursor:
        cursor.execute(MOVE_POINTS, [amount, account_id, amount])
        row = cursor.fetchone()
    return None if row is None else int(row[0])


def _move_stock(reward_id: int, delta: int, *, sale: bool = False) -> int | None:
    """The stock after adding ``delta``, or None if it would leave 0..MAX_STOCK (or, for a
    ``sale``, if the reward is no longer on offer)."""
    with connection.cursor() as cursor:
        if delta < 0:
            cursor.execute(SELL_STOCK if sale else TAKE_STOCK, [-delta, reward_id, -delta])
        else:
            cursor.execute(PUT_STOCK, [delta, reward_id, delta, MAX_STOCK])
        row = cursor.fetchone()
    return None if row is None else int(row[0])


def _balance(account_id: int) -> int:
    return Account.objects.filter(pk=account_id).values_list("balance", flat=True).first() or 0


def account_for(*, resident: Resident, community: Community | int) -> Account:
    """The resident's account in a community, opened on first use."""
    community_id = community if isinstance(community, int) else community.pk
    account = Account.objects.filter(resident=resident, community_id=community_id).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():
            return Account.objects.create(resident=resident, community_id=community_id)
    except IntegrityError:
        return Account.objects.get(resident=resident, community_id=community_id)


def _check_points(amount: int, *, allow_negative: bool = False) -> int:
    if not isinstance(amount, int) or isinstance(amount, bool) or amount == 0 or abs(amount) > MAX_POINTS:
        raise errors.PointsInvalid(field="amount")
    if amount < 0 and not allow_negative:
        raise errors.PointsInvalid(field="amount")
    return amount


def _check_quantity(quantity: Any) -> int:
    if not isinstance(quantity, int) or isinstance(quantity, bool) or not 1 <= quantity <= MAX_QUANTITY:
        raise errors.QuantityInvalid(field="quantity", max=MAX_QUANTITY)
    return quantity


def _reason(reason: str, *, required: bool = True) -> str:
    reason = " ".join((reason or "").split())[:200]
    if required and not reason:
        raise errors.ReasonRequired(field="reason")
    return reason


def _desk_center(scope: StaffScope, center_id: int) -> Center:
    """A center the staff member works at (desk); others' centers are 404."""
    center = Center.objects.select_related("community").filter(pk=center_id).first()
    if center is None or not scope.covers_community(center.community_id):
        raise errors.RewardNotFound(code="center_not_found", field="center_id")
    if not scope.works_at(center.community_id):
        raise PermissionDenied(_("Only the center's own staff can do this."), code="not_desk_staff")
    return center


def _staff_reward(scope: StaffScope, reward_id: int, *, lock: bool = False) -> Reward:
    qs = Reward.objects.select_related("center", "center__community")
    if lock:
        qs = qs.select_for_update(of=("self",))
    reward = scope.filter(qs, community="center__community").filter(pk=reward_id).first()
    if reward is None:
        raise errors.RewardNotFound(field="reward_id")
    if not scope.works_at(reward.center.community_id):
        raise PermissionDenied(_("Only the center's own staff can do this."), code="not_desk_staff")
    return reward


# --- awards and adjustments ---------------------------------------------------------------------


def points_award(
    *,
    resident: Resident,
    community: Community | int,
    amount: int,
    reason: str,
    key: str,
    center: Center | None = None,
    actor: User | None = None,
    now: dt.datetime | None = None,
) -> Entry:
    """Credits points once per ``key`` (a replay returns the first entry and credits nothing).

    Runs inside the caller's transaction (confirming hours awards points in the same one)."""
    _check_points(amount)
    account = account_for(resident=resident, community=community)
    existing = Entry.objects.filter(key=key).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            balance = _move_points(account.pk, amount)
            if balance is None:  # pragma: no cover - a credit cannot take a balance below zero
                raise errors.PointsInvalid(field="amount")
            entry = Entry.objects.create(
                account=account,
                center=center,
                kind=Entry.Kind.AWARD,
                amount=amount,
                balance_after=balance,
                reason=_reason(reason),
                actor=actor,
                key=key,
                created_at=now or timezone.now(),
            )
    except IntegrityError:
        return Entry.objects.get(key=key)
    audit_log("points.awarded", actor=actor, obj=account, data={"amount": amount, "key": key})
    return entry


def points_adjust_within(
    *,
    account: Account,
    amount: int,
    reason: str,
    key: str | None,
    actor: User | None,
    center: Center | None = None,
    cap_at_balance: bool = False,
    now: dt.datetime | None = None,
) -> Entry | None:
    """An adjustment inside the caller's transaction. With ``cap_at_balance`` a debit larger
    than the balance takes what there is (None if the balance is zero)."""
    _check_points(amount, allow_negative=True)
    if key is not None:
        existing = Entry.objects.filter(key=key).first()
        if existing is not None:
            return existing
    balance = _move_points(account.pk, amount)
    if balance is None:
        available = _balance(account.pk)
        if not cap_at_balance:
            raise errors.InsufficientPoints(field="amount", balance=available, needed=-amount)
        if available == 0:
            return None
        amount = -available
        balance = _move_points(account.pk, amount)
        if balance is None:  # pragma: no cover - we hold the row lock since the first UPDATE
            raise errors.InsufficientPoints(field="amount", balance=available, needed=-amount)
    entry = Entry.objects.create(
        account=account,
        center=center,
        kind=Entry.Kind.ADJUST,
        amount=amount,
        balance_after=balance,
        reason=_reason(reason),
        actor=actor,
        key=key,
        created_at=now or timezone.now(),
    )
    audit_log("points.adjusted", actor=actor, obj=account, data={"amount": amount, "reason": entry.reason})
    return entry


def points_adjust(
    *, staff: User, scope: StaffScope, resident_id: int, center_id: int, amount: int, reason: str
) -> Entry:
    """Desk staff correct a resident's balance in their community, with a reason."""
    center = _desk_center(scope, center_id)
    resident = Resident.objects.filter(pk=resident_id).first()
    if resident is None:
        raise errors.AccountNotFound(code="resident_not_found", field="resident_id")
    _check_points(amount, allow_negative=True)
    reason = _reason(reason)
    with transaction.atomic(durable=True):
        account = account_for(resident=resident, community=center.community_id)
        entry = points_adjust_within(
            account=account, amount=amount, reason=reason, key=None, actor=staff, center=center
        )
    assert entry is not None
    return entry


# --- rewards and stock --------------------------------------------------------------------------


@dataclass(frozen=True)
class RewardDraft:
    center_id: int
    kind: str
    name: str
    price_points: int
    description: str = ""
    at_vending: bool = False
    at_desk: bool = True
    stock: int = 0


def _check_reward(draft: RewardDraft) -> None:
    if draft.kind not in Reward.Kind.values:
        raise errors.RewardUnavailable(code="reward_invalid", field="kind", status=400)
    if not draft.name.strip():
        raise errors.RewardUnavailable(
            _("Please give the reward a name."), code="reward_invalid", field="name", status=400
        )
    if not 1 <= draft.price_points <= MAX_POINTS:
        raise errors.PointsInvalid(field="price_points")
    if not 0 <= draft.stock <= MAX_STOCK:
        raise errors.StockInvalid(field="stock")
    if not (draft.at_vending or draft.at_desk):
        raise errors.RewardUnavailable(
            _("Offer the reward at the desk, in the vending machines, or both."),
            code="reward_invalid",
            field="at_desk",
            status=400,
        )
    if draft.at_vending and draft.kind != Reward.Kind.DRINK:
        raise errors.RewardUnavailable(
            _("Only drinks are sold in the vending machines."),
            code="reward_invalid",
            field="at_vending",
            status=400,
        )


def reward_create(
    *, staff: User, scope: StaffScope, draft: RewardDraft, now: dt.datetime | None = None
) -> Reward:
    center = _desk_center(scope, draft.center_id)
    _check_reward(draft)
    now = now or timezone.now()
    try:
        with transaction.atomic(durable=True):
            reward = Reward.objects.create(
                center=center,
                kind=draft.kind,
                name=draft.name.strip()[:80],
                description=draft.description.strip()[:300],
                price_points=draft.price_points,
                stock=draft.stock,
                at_vending=draft.at_vending,
                at_desk=draft.at_desk,
            )
            if draft.stock:
                StockMove.objects.create(
                    reward=reward,
                    kind=StockMove.Kind.RESTOCK,
                    delta=draft.stock,
                    stock_after=draft.stock,
                    actor=staff,
                    reason=str(_("Opening stock")),
                    created_at=now,
                )
            audit_log("points.reward.created", actor=staff, obj=reward, data={"price": reward.price_points})
    except IntegrityError:
        raise errors.RewardUnavailable(
            _("This center already has a reward with that name."), code="reward_name_taken", field="name"
        ) from None
    return reward


def reward_update(
    *,
    staff: User,
    scope: StaffScope,
    reward_id: int,
    price_points: int | None = None,
    is_active: bool | None = None,
    description: str | None = None,
) -> Reward:
    """A new price applies to later redemptions; earlier ones keep the price they were made at."""
    if price_points is not None and not 1 <= price_points <= MAX_POINTS:
        raise errors.PointsInvalid(field="price_points")
    with transaction.atomic(durable=True):
        reward = _staff_reward(scope, reward_id, lock=True)
        before = {"price": reward.price_points, "active": reward.is_active}
        if price_points is not None:
            reward.price_points = price_points
        if is_active is not None:
            reward.is_active = is_active
        if description is not None:
            reward.description = description.strip()[:300]
        reward.save(update_fields=["price_points", "is_active", "description"])
        audit_log(
            "points.reward.updated",
            actor=staff,
            obj=reward,
            data={"before": before, "after": {"price": reward.price_points, "active": reward.is_active}},
        )
    return reward


def reward_restock(
    *,
    staff: User,
    scope: StaffScope,
    reward_id: int,
    quantity: int,
    reason: str = "",
    now: dt.datetime | None = None,
) -> StockMove:
    if not isinstance(quantity, int) or not 1 <= quantity <= MAX_STOCK:
        raise errors.StockInvalid(field="quantity")
    with transaction.atomic(durable=True):
        reward = _staff_reward(scope, reward_id)
        after = _move_stock(reward.pk, quantity)
        if after is None or after > MAX_STOCK:
            raise errors.StockInvalid(field="quantity")
        move = StockMove.objects.create(
            reward=reward,
            kind=StockMove.Kind.RESTOCK,
            delta=quantity,
            stock_after=after,
            actor=staff,
            reason=_reason(reason, required=False),
            created_at=now or timezone.now(),
        )
        audit_log("points.reward.restocked", actor=staff, obj=reward, data={"quantity": quantity})
    return move


def reward_count(
    *,
    staff: User,
    scope: StaffScope,
    reward_id: int,
    counted: int,
    reason: str,
    now: dt.datetime | None = None,
) -> StockMove:
    """A stock count: the difference to the books becomes a ``count`` move, with a reason."""
    if not isinstance(counted, int) or not 0 <= counted <= MAX_STOCK:
        raise errors.StockInvalid(field="counted")
    reason = _reason(reason)
    with transaction.atomic(durable=True):
        reward = _staff_reward(scope, reward_id, lock=True)
        delta = counted - reward.stock
        if delta == 0:
            raise errors.StockInvalid(
                _("The count matches the books; nothing to correct."), code="stock_matches", field="counted"
            )
        after = _move_stock(reward.pk, delta)
        if after is None:  # pragma: no cover - we hold the row lock
            raise errors.StockInvalid(field="counted")
        move = StockMove.objects.create(
            reward=reward,
            kind=StockMove.Kind.COUNT,
            delta=delta,
            stock_after=after,
            actor=staff,
            reason=reason,
            created_at=now or timezone.now(),
        )
        audit_log("points.reward.counted", actor=staff, obj=reward, data={"delta": delta, "reason": reason})
    return move


# --- redemptions --------------------------------------------------------------------------------


def _redeem(
    *,
    resident: Resident,
    reward: Reward,
    quantity: int,
    channel: str,
    device: Device | None,
    staff: User | None,
    request_key: str,
    occurred_at: dt.datetime,
) -> Redemption:
    """Stock first (the reward row), then points (the account row): one order for everyone. The
    account is looked up before, so the hot reward row is held for as short a time as can be."""
    cost = reward.price_points * quantity
    account = Account.objects.filter(resident=resident, community_id=reward.center.community_id).first()
    if account is None:
        raise errors.InsufficientPoints(balance=0, needed=cost)
    account.resident = resident
    stock_after = _move_stock(reward.pk, -quantity, sale=True)
    if stock_after is None:
        raise errors.OutOfStock(field="reward_id")
    balance = _move_points(account.pk, -cost)
    if balance is None:
        raise errors.InsufficientPoints(balance=_balance(account.pk), needed=cost)
    redemption = Redemption.objects.create(
        account=account,
        reward=reward,
        center=reward.center,
        quantity=quantity,
        unit_points=reward.price_points,
        points=cost,
        channel=channel,
        device=device,
        staff=staff,
        request_key=request_key,
        occurred_at=occurred_at,
    )
    Entry.objects.create(
        account=account,
        center=reward.center,
        kind=Entry.Kind.REDEEM,
        amount=-cost,
        balance_after=balance,
        reason=f"{reward.name} × {quantity}",
        actor=staff,
        device=device,
        redemption=redemption,
        created_at=occurred_at,
    )
    StockMove.objects.create(
        reward=reward,
        kind=StockMove.Kind.REDEEM,
        delta=-quantity,
        stock_after=stock_after,
        redemption=redemption,
        actor=staff,
        device=device,
        created_at=occurred_at,
    )
    audit_log(
        "points.redeemed",
        actor=staff,
        device=device,
        obj=redemption,
        data={"reward": reward.pk, "quantity": quantity, "points": cost, "channel": channel},
    )
    redemption.balance_after = balance  # type: ignore[attr-defined]
    return redemption


def redemption_answer(redemption: Redemption) -> dict[str, Any]:
    """What a vending machine is told: vend this, so many points were taken."""
    return {
        "redemption_id": redemption.pk,
        "status": "approved" if redemption.status == Redemption.Status.COMPLETED else redemption.status,
        "vend": {
            "reward_id": redemption.reward_id,
            "name": redemption.reward.name,
            "quantity": redemption.quantity,
        },
        "points": redemption.points,
        "balance": getattr(redemption, "balance_after", None),
        "resident": redemption.account.resident.masked_name,
    }


def _vending_reward(device: Device, reward_id: int) -> Reward:
    reward = Reward.objects.select_related("center").filter(pk=reward_id, center_id=device.center_id).first()
    if reward is None:
        raise errors.RewardNotFound(field="reward_id")
    if not reward.is_active or not reward.at_vending:
        raise errors.RewardUnavailable(field="reward_id")
    return reward


def _check_vending(device: Device) -> None:
    if device.kind != Device.Kind.VENDING_MACHINE:
        raise PermissionDenied(_("Only a vending machine can do this."), code="device_not_allowed")


def redemption_at_vending(
    *,
    device: Device,
    key: str,
    token: str,
    reward_id: int,
    quantity: int,
    shown_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> tuple[int, dict[str, Any], bool]:
    """A vending machine asks to swap points for a drink. Returns ``(status, answer, replayed)``.

    The same key returns the same answer (approval or refusal) and debits nothing more; the same
    key with another reward, quantity, resident or time is refused. ``shown_at`` is set for a
    request an offline machine queued: the pass must have been fresh then."""
    _check_vending(device)
    quantity = _check_quantity(quantity)
    now = now or timezone.now()
    claims = passes.decode((token or "").strip())
    payload = {
        "reward_id": reward_id,
        "quantity": quantity,
        "resident": claims.resident_id if claims else None,
        "pass": claims.nonce if claims else None,
        "shown_at": shown_at.isoformat() if shown_at else None,
    }

    def action() -> tuple[int, dict[str, Any]]:
        reward = _vending_reward(device, reward_id)
        resident = resident_pass_verify(
            token=token,
            device=device,
            purpose="vending",
            shown_at=shown_at.timestamp() if shown_at else None,
        )
        redemption = _redeem(
            resident=resident,
            reward=reward,
            quantity=quantity,
            channel=Redemption.Channel.VENDING,
            device=device,
            staff=None,
            request_key=key,
            occurred_at=shown_at or now,
        )
        return 201, redemption_answer(redemption)

    return run_idempotent(
        scope=f"vending:{device.pk}", key=key, payload=payload, action=action, keep_refusals=True
    )


@dataclass(frozen=True)
class QueuedRequest:
    key: str
    token: str
    reward_id: int
    quantity: int
    shown_at: dt.datetime


def vending_queue_upload(
    *, device: Device, requests: list[QueuedRequest], now: dt.datetime | None = None
) -> list[tuple[str, int, dict[str, Any], bool]]:
    """A machine that was offline uploads the requests it queued, oldest first; each is settled
    as if it had arrived when the pass was shown (a replay answers as before)."""
    _check_vending(device)
    now = now or timezone.now()
    if not requests or len(requests) > MAX_QUEUE:
        raise errors.QueueInvalid(field="requests", why=_("between 1 and %(n)s requests") % {"n": MAX_QUEUE})
    oldest = now - dt.timedelta(hours=settings.LIVINGROOM_VENDING_OFFLINE_HOURS)
    previous: dt.datetime | None = None
    keys = set()
    for index, request in enumerate(requests):
        if request.shown_at.tzinfo is None or not oldest <= request.shown_at <= now + CLOCK_SKEW:
            raise errors.QueueInvalid(
                field=f"requests.{index}.shown_at",
                why=_("a request is older than %(h)s hours or in the future")
                % {"h": settings.LIVINGROOM_VENDING_OFFLINE_HOURS},
            )
        if previous is not None and request.shown_at < previous:
            raise errors.QueueInvalid(field=f"requests.{index}.shown_at", why=_("they are not in order"))
        if request.key in keys:
            raise errors.QueueInvalid(field=f"requests.{index}.idempotency_key", why=_("a key appears twice"))
        try:
            _check_quantity(request.quantity)
        except errors.QuantityInvalid as exc:
            exc.field = f"requests.{index}.quantity"
            raise
        previous = request.shown_at
        keys.add(request.key)
    results = []
    for request in requests:
        status, body, replayed = redemption_at_vending(
            device=device,
            key=request.key,
            token=request.token,
            reward_id=request.reward_id,
            quantity=request.quantity,
            shown_at=request.shown_at,
            now=now,
        )
        results.append((request.key, status, body, replayed))
    return results


def _refund(
    redemption: Redemption, *, reason: str, actor: User | None, device: Device | None, now: dt.datetime
) -> Entry:
    """Inside the caller's transaction: stock back, points back, the redemption marked refunded."""
    updated = Redemption.objects.filter(pk=redemption.pk, status=Redemption.Status.COMPLETED).update(
        status=Redemption.Status.REFUNDED, refunded_at=now, failure_reason=reason[:200]
    )
    if not updated:
        raise errors.AlreadyRefunded()
    stock_after = _move_stock(redemption.reward_id, redemption.quantity)
    if stock_after is None:  # pragma: no cover - only past MAX_STOCK
        raise errors.StockInvalid()
    StockMove.objects.create(
        reward_id=redemption.reward_id,
        kind=StockMove.Kind.RETURN,
        delta=redemption.quantity,
        stock_after=stock_after,
        redemption=redemption,
        actor=actor,
        device=device,
        reason=reason[:200],
        created_at=now,
    )
    balance = _move_points(redemption.account_id, redemption.points)
    if balance is None:  # pragma: no cover - a credit cannot take a balance below zero
        raise errors.PointsInvalid()
    entry = Entry.objects.create(
        account_id=redemption.account_id,
        center_id=redemption.center_id,
        kind=Entry.Kind.REFUND,
        amount=redemption.points,
        balance_after=balance,
        reason=reason[:200],
        actor=actor,
        device=device,
        redemption=redemption,
        key=f"refund:{redemption.pk}",
        created_at=now,
    )
    notice_send(
        user=redemption.account.resident.user,
        kind="points.refunded",
        params={"reward": redemption.reward.name, "points": str(redemption.points), "reason": reason[:200]},
        link="/me/points/",
    )
    audit_log(
        "points.redemption.refunded",
        actor=actor,
        device=device,
        obj=redemption,
        data={"points": redemption.points, "reason": reason[:200]},
    )
    return entry


def vending_failure_report(
    *, device: Device, key: str, reason: str, now: dt.datetime | None = None
) -> tuple[Redemption, Entry, bool]:
    """The machine could not vend what it was told to: the points and the stock go back.
    Reporting the same failure again changes nothing (``replayed``)."""
    _check_vending(device)
    reason = _reason(reason, required=False) or str(_("The machine could not vend"))
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        found = Redemption.objects.filter(device=device, request_key=(key or "")[:100]).first()
        if found is None:
            raise errors.RedemptionNotFound(field="idempotency_key")
        # Reward row, then the redemption, then the account row, as a refund at the desk.
        Reward.objects.select_for_update().filter(pk=found.reward_id).first()
        redemption = (
            Redemption.objects.select_for_update(of=("self",))
            .select_related("reward", "account__resident__user")
            .get(pk=found.pk)
        )
        if redemption.status == Redemption.Status.REFUNDED:
            return redemption, Entry.objects.get(key=f"refund:{redemption.pk}"), True
        entry = _refund(redemption, reason=reason, actor=None, device=device, now=now)
    redemption.refresh_from_db()
    return redemption, entry, False


def redemption_at_desk(
    *,
    staff: User,
    scope: StaffScope,
    token: str,
    reward_id: int,
    quantity: int,
    now: dt.datetime | None = None,
) -> Redemption:
    """Desk staff scan the resident's pass and hand over goods or a voucher."""
    quantity = _check_quantity(quantity)
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        reward = _staff_reward(scope, reward_id)
        if not reward.is_active or not reward.at_desk:
            raise errors.RewardUnavailable(field="reward_id")
        resident = resident_pass_verify(token=token, staff=staff, purpose="points")
        return _redeem(
            resident=resident,
            reward=reward,
            quantity=quantity,
            channel=Redemption.Channel.DESK,
            device=None,
            staff=staff,
            request_key="",
            occurred_at=now,
        )


def redemption_refund(
    *, staff: User, scope: StaffScope, redemption_id: int, reason: str, now: dt.datetime | None = None
) -> Entry:
    """Desk staff take goods back (or void a voucher): points and stock return."""
    reason = _reason(reason)
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        qs = Redemption.objects.select_related("center", "reward", "account__resident__user").filter(
            pk=redemption_id
        )
        redemption = scope.filter(qs, community="center__community").first()
        if redemption is None:
            raise errors.RedemptionNotFound(field="redemption_id")
        if not scope.works_at(redemption.center.community_id):
            raise PermissionDenied(_("Only the center's own staff can do this."), code="not_desk_staff")
        Reward.objects.select_for_update().filter(pk=redemption.reward_id).first()
        return _refund(redemption, reason=reason, actor=staff, device=None, now=now)


# --- expiry and checks --------------------------------------------------------------------------


def points_expire(*, now: dt.datetime | None = None, valid_days: int | None = None) -> int:
    """Points earned more than ``valid_days`` ago and not spent since expire, oldest spent first
    (FIFO). Returns how many entries were written. ``LIVINGROOM_POINTS_VALID_DAYS=0``: never."""
    days = settings.LIVINGROOM_POINTS_VALID_DAYS if valid_days is None else valid_days
    if days <= 0:
        return 0
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=days)
    candidates = (
        Entry.objects.filter(
            Q(kind=Entry.Kind.AWARD) | Q(kind=Entry.Kind.ADJUST, amount__gt=0), created_at__lt=cutoff
        )
        .values_list("account_id", flat=True)
        .distinct()
    )
    written = 0
    for account_id in list(candidates):
        with transaction.atomic(durable=True):
            account = Account.objects.select_for_update().filter(pk=account_id, balance__gt=0).first()
            if account is None:
                continue
            entries = Entry.objects.filter(account=account)
            old_credit = (
                entries.filter(
                    Q(kind=Entry.Kind.AWARD) | Q(kind=Entry.Kind.ADJUST, amount__gt=0), created_at__lt=cutoff
                ).aggregate(s=Sum("amount"))["s"]
                or 0
            )
            # Everything taken out since the start (spent net of refunds, debited, expired).
            taken = -(
                entries.filter(
                    Q(kind__in=[Entry.Kind.REDEEM, Entry.Kind.REFUND, Entry.Kind.EXPIRE])
                    | Q(kind=Entry.Kind.ADJUST, amount__lt=0)
                ).aggregate(s=Sum("amount"))["s"]
                or 0
            )
            due = min(account.balance, old_credit - taken)
            if due <= 0:
                continue
            balance = _move_points(account.pk, -due)
            if balance is None:  # pragma: no cover - we hold the row lock
                continue
            Entry.objects.create(
                account=account,
                kind=Entry.Kind.EXPIRE,
                amount=-due,
                balance_after=balance,
                reason=str(_("Points earned before %(day)s expired") % {"day": cutoff.date().isoformat()}),
                created_at=now,
            )
            audit_log("points.expired", obj=account, data={"amount": due})
            written += 1
    return written


@dataclass(frozen=True)
class LedgerProblem:
    what: str
    object_id: int
    cached: int
    summed: int


def ledger_check() -> list[LedgerProblem]:
    """Every account's balance equals the sum of its entries; every reward's stock equals the
    sum of its moves. An empty list means the books are right."""
    problems = []
    sums = dict(
        Entry.objects.values_list("account_id").annotate(s=Sum("amount")).values_list("account_id", "s")
    )
    for account_id, balance in Account.objects.values_list("id", "balance"):
        if sums.get(account_id, 0) != balance:
            problems.append(LedgerProblem("account", account_id, balance, sums.get(account_id, 0)))
    moves = dict(
        StockMove.objects.values_list("reward_id").annotate(s=Sum("delta")).values_list("reward_id", "s")
    )
    for reward_id, stock in Reward.objects.values_list("id", "stock"):
        if moves.get(reward_id, 0) != stock:
            problems.append(LedgerProblem("reward", reward_id, stock, moves.get(reward_id, 0)))
    return problems
