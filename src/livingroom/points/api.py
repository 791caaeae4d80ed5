"""Points API: the rewards catalogue, a resident's balances and history, vending machines'
signed and idempotent redemptions (with failure refunds and the offline queue), and the desk,
catalogue, ledger and reconciliation for staff."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import Field, Header, Query, Router, Schema, Status
from pydantic import AwareDatetime

from livingroom.core.permissions import staff_scope_of
from livingroom.core.schemas import DbId, ErrorOut
from livingroom.people.auth import acting_user
from livingroom.people.selectors import resident_of
from livingroom.places.devices import device_of
from livingroom.points import selectors, services
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

public_router = Router(tags=["points"])
resident_router = Router(tags=["points"])
device_router = Router(tags=["devices: vending"])
staff_router = Router(tags=["staff: points"])

IDEMPOTENCY_KEY = Header(..., alias="Idempotency-Key", max_length=100)
FROM = Query(None, alias="from")
TO = Query(None, alias="to")

# --- schemas ------------------------------------------------------------------------------------


class RewardOut(Schema):
    id: int
    center_id: int
    center: str
    kind: str
    kind_label: str
    name: str
    description: str
    price_points: int
    in_stock: bool
    at_vending: bool
    at_desk: bool


def reward_out(r: Reward) -> RewardOut:
    return RewardOut(
        id=r.pk,
        center_id=r.center_id,
        center=r.center.name,
        kind=r.kind,
        kind_label=str(r.get_kind_display()),
        name=r.name,
        description=r.description,
        price_points=r.price_points,
        in_stock=r.stock > 0,
        at_vending=r.at_vending,
        at_desk=r.at_desk,
    )


class EntryOut(Schema):
    id: int
    kind: str
    amount: int
    balance_after: int
    reason: str
    community: str
    center: str | None
    created_at: dt.datetime


def entry_out(e: Entry) -> EntryOut:
    return EntryOut(
        id=e.pk,
        kind=e.kind,
        amount=e.amount,
        balance_after=e.balance_after,
        reason=e.reason,
        community=e.account.community.name,
        center=e.center.name if e.center else None,
        created_at=e.created_at,
    )


class BalanceOut(Schema):
    community_id: int
    community: str
    balance: int


def balance_out(a: Account) -> BalanceOut:
    return BalanceOut(community_id=a.community_id, community=a.community.name, balance=a.balance)


class MyPointsOut(Schema):
    total: int
    balances: list[BalanceOut]
    entries: list[EntryOut]


# --- public and residents -----------------------------------------------------------------------


@public_router.get(
    "/rewards",
    response={200: list[RewardOut], 400: ErrorOut},
    summary="What a center's points buy (drinks in the vending machines, goods and vouchers at the desk)",
)
def rewards(request: HttpRequest, center: DbId | None = None) -> list[RewardOut]:
    return [reward_out(r) for r in selectors.rewards_public(center_id=center)[:500]]


@resident_router.get(
    "/me/points",
    response={200: MyPointsOut, 400: ErrorOut},
    summary="My points: balance per community and the history (newest first)",
)
def my_points(
    request: HttpRequest, limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0, le=100_000)
) -> MyPointsOut:
    resident = resident_of(acting_user(request))
    if resident is None:
        return MyPointsOut(total=0, balances=[], entries=[])
    accounts = list(selectors.accounts_of(resident))
    return MyPointsOut(
        total=sum(a.balance for a in accounts),
        balances=[balance_out(a) for a in accounts],
        entries=[entry_out(e) for e in selectors.entries_of(resident)[offset : offset + limit]],
    )


# --- vending machines ---------------------------------------------------------------------------


class RedeemIn(Schema):
    token: str = Field(..., max_length=400, description="The resident pass the machine scanned")
    reward_id: DbId
    quantity: int = Field(1, ge=1, le=MAX_QUANTITY)


class VendOut(Schema):
    reward_id: int
    name: str
    quantity: int


class RedeemOut(Schema):
    redemption_id: int
    status: str
    vend: VendOut
    points: int
    balance: int | None
    resident: str


def _answer(status: int, body: dict[str, Any], replayed: bool) -> HttpResponse:
    response = JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})
    response["Idempotent-Replayed"] = "true" if replayed else "false"
    return response


@device_router.get(
    "/devices/vending/rewards",
    response={200: list[RewardOut], 401: ErrorOut},
    summary="What this vending machine sells, with prices in points",
)
def vending_rewards(request: HttpRequest) -> list[RewardOut]:
    device = device_of(request)
    qs = selectors.rewards_public(center_id=device.center_id).filter(at_vending=True)
    return [reward_out(r) for r in qs]


@device_router.post(
    "/devices/vending/redemptions",
    response={201: RedeemOut, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="A signed vending machine swaps a resident's points for a drink (idempotent per key)",
    description=(
        "Signed by the device (X-Device-Key, X-Timestamp, X-Nonce, X-Signature) and carrying an "
        "Idempotency-Key. The pass is verified, stock and balance checked, points debited and stock "
        "decremented in one transaction; the answer says what to vend. A retry with the same key gets the "
        "same answer (header Idempotent-Replayed: true) and debits nothing more; the same key with another "
        "reward, quantity or resident is refused (idempotency_key_reused)."
    ),
)
def vending_redeem(request: HttpRequest, payload: RedeemIn, key: str = IDEMPOTENCY_KEY) -> HttpResponse:
    status, body, replayed = services.redemption_at_vending(
        device=device_of(request),
        key=key,
        token=payload.token,
        reward_id=payload.reward_id,
        quantity=payload.quantity,
    )
    return _answer(status, body, replayed)


class QueuedIn(Schema):
    idempotency_key: str = Field(..., min_length=1, max_length=100)
    token: str = Field(..., max_length=400)
    reward_id: DbId
    quantity: int = Field(1, ge=1, le=MAX_QUANTITY)
    shown_at: AwareDatetime


class QueueIn(Schema):
    requests: list[QueuedIn] = Field(..., min_length=1, max_length=services.MAX_QUEUE)


class QueuedOut(Schema):
    idempotency_key: str
    status: int
    replayed: bool
    answer: dict[str, Any]


@device_router.post(
    "/devices/vending/redemptions/queue",
    response={200: list[QueuedOut], 400: ErrorOut, 401: ErrorOut, 403: ErrorOut},
    summary="A machine that was offline uploads its queued redemptions, oldest first",
    description=(
        "Each request is settled as if it had arrived when the pass was shown (shown_at, at most "
        "LIVINGROOM_VENDING_OFFLINE_HOURS ago): the pass must have been fresh then; balance and stock are "
        "checked now. A request the server already answered replays that answer. The answers come back in "
        "the same order."
    ),
)
def vending_queue(request: HttpRequest, payload: QueueIn) -> list[QueuedOut]:
    results = services.vending_queue_upload(
        device=device_of(request),
        requests=[
            services.QueuedRequest(
                key=r.idempotency_key,
                token=r.token,
                reward_id=r.reward_id,
                quantity=r.quantity,
                shown_at=r.shown_at,
            )
            for r in payload.requests
        ],
    )
    return [QueuedOut(idempotency_key=k, status=s, replayed=rep, answer=body) for k, s, body, rep in results]


class FailureIn(Schema):
    idempotency_key: str = Field(
        ..., min_length=1, max_length=100, description="The key of the failed redemption"
    )
    reason: str = Field("", max_length=200)


class FailureOut(Schema):
    redemption_id: int
    status: str
    refunded_points: int
    balance: int
    replayed: bool


@device_router.post(
    "/devices/vending/failures",
    response={200: FailureOut, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    summary="The machine could not vend: the points are refunded by a compensating entry, the stock restored",
)
def vending_failure(request: HttpRequest, payload: FailureIn) -> FailureOut:
    redemption, entry, replayed = services.vending_failure_report(
        device=device_of(request), key=payload.idempotency_key, reason=payload.reason
    )
    return FailureOut(
        redemption_id=redemption.pk,
        status=redemption.status,
        refunded_points=entry.amount,
        balance=entry.balance_after,
        replayed=replayed,
    )


# --- staff --------------------------------------------------------------------------------------


class StaffRewardOut(RewardOut):
    stock: int
    is_active: bool


def staff_reward_out(r: Reward) -> StaffRewardOut:
    return StaffRewardOut(**reward_out(r).model_dump(), stock=r.stock, is_active=r.is_active)


@staff_router.get(
    "/rewards",
    response={200: list[StaffRewardOut], 400: ErrorOut},
    summary="The catalogue of the centers in my scope, with stock",
)
def staff_rewards(request: HttpRequest, center: DbId | None = None) -> list[StaffRewardOut]:
    return [
        staff_reward_out(r)
        for r in selectors.rewards_for_staff(staff_scope_of(request), center_id=center)[:1000]
    ]


class RewardIn(Schema):
    center_id: DbId
    kind: Literal["drink", "goods", "voucher"]
    name: str = Field(..., min_length=1, max_length=80)
    description: str = Field("", max_length=300)
    price_points: int = Field(..., ge=1, le=MAX_POINTS)
    at_vending: bool = False
    at_desk: bool = True
    stock: int = Field(0, ge=0, le=MAX_STOCK)


@staff_router.post(
    "/rewards",
    response={201: StaffRewardOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Add a reward to a center's catalogue (with opening stock)",
)
def staff_create_reward(request: HttpRequest, payload: RewardIn) -> Status[StaffRewardOut]:
    reward = services.reward_create(
        staff=acting_user(request),
        scope=staff_scope_of(request),
        draft=services.RewardDraft(**payload.model_dump()),
    )
    return Status(201, staff_reward_out(reward))


class RewardPatch(Schema):
    price_points: int | None = Field(None, ge=1, le=MAX_POINTS)
    is_active: bool | None = None
    description: str | None = Field(None, max_length=300)


@staff_router.patch(
    "/rewards/{reward_id}",
    response={200: StaffRewardOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    summary="Change a reward's price (later redemptions), description, or take it off offer",
)
def staff_update_reward(request: HttpRequest, reward_id: DbId, payload: RewardPatch) -> StaffRewardOut:
    reward = services.reward_update(
        staff=acting_user(request), scope=staff_scope_of(request), reward_id=reward_id, **payload.model_dump()
    )
    return staff_reward_out(reward)


class StockMoveOut(Schema):
    id: int
    kind: str
    delta: int
    stock_after: int
    reason: str
    redemption_id: int | None
    created_at: dt.datetime


def move_out(m: StockMove) -> StockMoveOut:
    return StockMoveOut(
        id=m.pk,
        kind=m.kind,
        delta=m.delta,
        stock_after=m.stock_after,
        reason=m.reason,
        redemption_id=m.redemption_id,
        created_at=m.created_at,
    )


class RestockIn(Schema):
    quantity: int = Field(..., ge=1, le=MAX_STOCK)
    reason: str = Field("", max_length=200)


@staff_router.post(
    "/rewards/{reward_id}/restock",
    response={200: StockMoveOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    summary="Put stock in (the vending machine or the store room)",
)
def staff_restock(request: HttpRequest, reward_id: DbId, payload: RestockIn) -> StockMoveOut:
    move = services.reward_restock(
        staff=acting_user(request),
        scope=staff_scope_of(request),
        reward_id=reward_id,
        quantity=payload.quantity,
        reason=payload.reason,
    )
    return move_out(move)


class CountIn(Schema):
    counted: int = Field(..., ge=0, le=MAX_STOCK)
    reason: str = Field(..., min_length=1, max_length=200)


@staff_router.post(
    "/rewards/{reward_id}/count",
    response={200: StockMoveOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    summary="Record a stock count; the difference to the books is a correction with a reason",
)
def staff_count(request: HttpRequest, reward_id: DbId, payload: CountIn) -> StockMoveOut:
    move = services.reward_count(
        staff=acting_user(request),
        scope=staff_scope_of(request),
        reward_id=reward_id,
        counted=payload.counted,
        reason=payload.reason,
    )
    return move_out(move)


@staff_router.get(
    "/rewards/{reward_id}/moves",
    response={200: list[StockMoveOut], 400: ErrorOut, 404: ErrorOut},
    summary="Every movement of a reward's stock, newest first",
)
def staff_moves(request: HttpRequest, reward_id: DbId) -> list[StockMoveOut]:
    reward = selectors.reward_for_staff(staff_scope_of(request), reward_id)
    return [move_out(m) for m in selectors.stock_moves_of(reward)[:1000]]


class RedemptionOut(Schema):
    id: int
    reward_id: int
    reward: str
    quantity: int
    unit_points: int
    points: int
    channel: str
    status: str
    resident: str
    occurred_at: dt.datetime
    refunded_at: dt.datetime | None
    failure_reason: str


def redemption_out(r: Redemption) -> RedemptionOut:
    return RedemptionOut(
        id=r.pk,
        reward_id=r.reward_id,
        reward=r.reward.name,
        quantity=r.quantity,
        unit_points=r.unit_points,
        points=r.points,
        channel=r.channel,
        status=r.status,
        resident=r.account.resident.masked_name,
        occurred_at=r.occurred_at,
        refunded_at=r.refunded_at,
        failure_reason=r.failure_reason,
    )


class DeskRedeemIn(Schema):
    token: str = Field(..., max_length=400)
    reward_id: DbId
    quantity: int = Field(1, ge=1, le=MAX_QUANTITY)


@staff_router.post(
    "/points/redemptions",
    response={201: RedemptionOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Desk staff scan the resident's pass and hand over goods or a voucher for points",
)
def staff_redeem(request: HttpRequest, payload: DeskRedeemIn) -> Status[RedemptionOut]:
    redemption = services.redemption_at_desk(
        staff=acting_user(request),
        scope=staff_scope_of(request),
        token=payload.token,
        reward_id=payload.reward_id,
        quantity=payload.quantity,
    )
    return Status(201, redemption_out(redemption))


@staff_router.get(
    "/points/redemptions",
    response={200: list[RedemptionOut], 400: ErrorOut, 404: ErrorOut},
    summary="A center's redemptions, newest first",
)
def staff_redemptions(request: HttpRequest, center: DbId) -> list[RedemptionOut]:
    return [
        redemption_out(r)
        for r in selectors.redemptions_for_staff(staff_scope_of(request), center_id=center)[:500]
    ]


class RefundIn(Schema):
    reason: str = Field(..., min_length=1, max_length=200)


class RefundOut(Schema):
    redemption_id: int
    refunded_points: int
    balance: int


@staff_router.post(
    "/points/redemptions/{redemption_id}/refund",
    response={200: RefundOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Take goods back or void a voucher: points and stock return",
)
def staff_refund(request: HttpRequest, redemption_id: DbId, payload: RefundIn) -> RefundOut:
    entry = services.redemption_refund(
        staff=acting_user(request),
        scope=staff_scope_of(request),
        redemption_id=redemption_id,
        reason=payload.reason,
    )
    return RefundOut(redemption_id=redemption_id, refunded_points=entry.amount, balance=entry.balance_after)


class AdjustIn(Schema):
    resident_id: DbId
    center_id: DbId
    amount: int = Field(..., ge=-MAX_POINTS, le=MAX_POINTS)
    reason: str = Field(..., min_length=1, max_length=200)


@staff_router.post(
    "/points/adjustments",
    response={201: EntryOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Correct a resident's balance in my community with a reason (an adjustment entry)",
)
def staff_adjust(request: HttpRequest, payload: AdjustIn) -> Status[EntryOut]:
    entry = services.points_adjust(
        staff=acting_user(request),
        scope=staff_scope_of(request),
        resident_id=payload.resident_id,
        center_id=payload.center_id,
        amount=payload.amount,
        reason=payload.reason,
    )
    entry = Entry.objects.select_related("account__community", "center").get(pk=entry.pk)
    return Status(201, entry_out(entry))


class StaffEntryOut(EntryOut):
    resident: str
    resident_id: int
    redemption_id: int | None


class LedgerOut(Schema):
    center_id: int
    issued: int
    spent: int
    refunded: int
    adjusted: int
    expired: int
    outstanding: int
    accounts: int
    redemptions: int
    entries: list[StaffEntryOut]


@staff_router.get(
    "/points/ledger",
    response={200: LedgerOut, 400: ErrorOut, 404: ErrorOut},
    summary="A center's ledger: issued, spent, refunded, expired, outstanding liability, and the entries",
)
def staff_ledger(
    request: HttpRequest,
    center: DbId,
    start: AwareDatetime | None = FROM,
    end: AwareDatetime | None = TO,
    limit: int = Query(100, ge=1, le=1000),
) -> LedgerOut:
    scope = staff_scope_of(request)
    summary = selectors.ledger_summary(scope, center_id=center, start=start, end=end)
    entries = selectors.entries_for_staff(scope, center_id=center, start=start, end=end).select_related(
        "account__community"
    )[:limit]
    return LedgerOut(
        center_id=center,
        issued=summary.issued,
        spent=summary.spent,
        refunded=summary.refunded,
        adjusted=summary.adjusted,
        expired=summary.expired,
        outstanding=summary.outstanding,
        accounts=summary.accounts,
        redemptions=summary.redemptions,
        entries=[
            StaffEntryOut(
                **entry_out(e).model_dump(),
                resident=e.account.resident.masked_name,
                resident_id=e.account.resident_id,
                redemption_id=e.redemption_id,
            )
            for e in entries
        ],
    )


class StockLineOut(Schema):
    reward_id: int
    reward: str
    restocked: int
    redeemed: int
    returned: int
    counted: int
    stock: int
    units_sold: int
    points_expected: int
    points_in_ledger: int
    balanced: bool


@staff_router.get(
    "/points/reconciliation",
    response={200: list[StockLineOut], 400: ErrorOut, 404: ErrorOut},
    summary="Stock moved against points spent at the catalogue prices, per reward (账物相符)",
)
def staff_reconciliation(request: HttpRequest, center: DbId) -> list[StockLineOut]:
    lines = selectors.reconciliation(staff_scope_of(request), center_id=center)
    return [
        StockLineOut(
            reward_id=line.reward.pk,
            reward=line.reward.name,
            restocked=line.restocked,
            redeemed=line.redeemed,
            returned=line.returned,
            counted=line.counted,
            stock=line.stock,
            units_sold=line.units_sold,
            points_expected=line.points_expected,
            points_in_ledger=line.points_in_ledger,
            balanced=line.balanced,
        )
        for line in lines
    ]
