"""Reads of points, rewards and stock, already limited to what the caller may see.

Points are a community's money: staff of the community (and the sub-district and district above
it) see its ledger and catalogue; partner staff do not (they are 404 here)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet, Sum

from livingroom.core.scopes import StaffScope
from livingroom.people.models import Resident
from livingroom.places.models import Center
from livingroom.points import errors
from livingroom.points.models import Account, Entry, Redemption, Reward, StockMove

# --- residents ----------------------------------------------------------------------------------


def accounts_of(resident: Resident) -> QuerySet[Account]:
    return Account.objects.filter(resident=resident).select_related("community").order_by("community__name")


def balance_total(resident: Resident) -> int:
    return Account.objects.filter(resident=resident).aggregate(s=Sum("balance"))["s"] or 0


def entries_of(resident: Resident) -> QuerySet[Entry]:
    return (
        Entry.objects.filter(account__resident=resident)
        .select_related("account__community", "center")
        .order_by("-created_at", "-id")
    )


def rewards_public(*, center_id: int | None = None) -> QuerySet[Reward]:
    qs = Reward.objects.filter(is_active=True).select_related("center", "center__community")
    if center_id is not None:
        qs = qs.filter(center_id=center_id)
    return qs.order_by("center__name", "kind", "price_points", "name")


# --- staff --------------------------------------------------------------------------------------


def staff_center(scope: StaffScope, center_id: int) -> Center:
    center = (
        scope.filter(Center.objects.select_related("community"), community="community")
        .filter(pk=center_id)
        .first()
    )
    if center is None:
        raise errors.RewardNotFound(code="center_not_found", field="center")
    return center


def rewards_for_staff(scope: StaffScope, *, center_id: int | None = None) -> QuerySet[Reward]:
    qs = scope.filter(
        Reward.objects.select_related("center", "center__community"),
        community="center__community",
    )
    if center_id is not None:
        qs = qs.filter(center_id=center_id)
    return qs.order_by("center__name", "kind", "name")


def reward_for_staff(scope: StaffScope, reward_id: int) -> Reward:
    reward = rewards_for_staff(scope).filter(pk=reward_id).first()
    if reward is None:
        raise errors.RewardNotFound()
    return reward


def stock_moves_of(reward: Reward) -> QuerySet[StockMove]:
    return reward.moves.select_related("actor", "device", "redemption").order_by("-created_at", "-id")


def entries_for_staff(
    scope: StaffScope, *, center_id: int, start: dt.datetime | None = None, end: dt.datetime | None = None
) -> QuerySet[Entry]:
    """A center's ledger: entries that happened at the center (awards of its activities,
    redemptions from its catalogue), with the resident masked by the caller."""
    center = staff_center(scope, center_id)
    qs = Entry.objects.filter(center=center).select_related(
        "account__resident", "actor", "device", "redemption"
    )
    if start is not None:
        qs = qs.filter(created_at__gte=start)
    if end is not None:
        qs = qs.filter(created_at__lt=end)
    return qs.order_by("-created_at", "-id")


@dataclass(frozen=True)
class LedgerSummary:
    issued: int
    spent: int
    refunded: int
    adjusted: int
    expired: int
    outstanding: int
    accounts: int
    redemptions: int

    @property
    def net_spent(self) -> int:
        return self.spent - self.refunded


def ledger_summary(
    scope: StaffScope, *, center_id: int, start: dt.datetime | None = None, end: dt.datetime | None = None
) -> LedgerSummary:
    """Issued, spent, refunded, adjusted and expired points of a center in a period, and the
    outstanding liability: what the community's residents hold now."""
    center = staff_center(scope, center_id)
    entries = entries_for_staff(scope, center_id=center.pk, start=start, end=end)
    sums = entries.aggregate(
        issued=Sum("amount", filter=Q(kind=Entry.Kind.AWARD)),
        spent=Sum("amount", filter=Q(kind=Entry.Kind.REDEEM)),
        refunded=Sum("amount", filter=Q(kind=Entry.Kind.REFUND)),
        adjusted=Sum("amount", filter=Q(kind=Entry.Kind.ADJUST)),
        redemptions=Count("id", filter=Q(kind=Entry.Kind.REDEEM)),
    )
    expired_qs = Entry.objects.filter(kind=Entry.Kind.EXPIRE, account__community_id=center.community_id)
    if start is not None:
        expired_qs = expired_qs.filter(created_at__gte=start)
    if end is not None:
        expired_qs = expired_qs.filter(created_at__lt=end)
    holders = Account.objects.filter(community_id=center.community_id)
    return LedgerSummary(
        issued=sums["issued"] or 0,
        spent=-(sums["spent"] or 0),
        refunded=sums["refunded"] or 0,
        adjusted=sums["adjusted"] or 0,
        expired=-(expired_qs.aggregate(s=Sum("amount"))["s"] or 0),
        outstanding=holders.aggregate(s=Sum("balance"))["s"] or 0,
        accounts=holders.filter(balance__gt=0).count(),
        redemptions=sums["redemptions"] or 0,
    )


@dataclass(frozen=True)
class StockLine:
    reward: Reward
    restocked: int
    redeemed: int  # units out for redemptions (net of failed vends that came back)
    returned: int
    counted: int  # count corrections (+/-)
    stock: int
    moves_sum: int
    units_sold: int  # units in the redemptions still standing
    points_expected: int  # those units × the price each redemption was made at
    points_in_ledger: int  # what the ledger took for this reward's redemptions, net of refunds

    @property
    def balanced(self) -> bool:
        """账物相符: the books of stock and of points agree."""
        return (
            self.moves_sum == self.stock
            and self.redeemed == self.units_sold
            and self.points_expected == self.points_in_ledger
        )


def reconciliation(scope: StaffScope, *, center_id: int) -> list[StockLine]:
    """For each reward of a center: stock moved against points spent at the catalogue prices."""
    center = staff_center(scope, center_id)
    lines = []
    for reward in Reward.objects.filter(center=center).order_by("kind", "name"):
        moves = reward.moves.aggregate(
            restocked=Sum("delta", filter=Q(kind=StockMove.Kind.RESTOCK)),
            redeemed=Sum("delta", filter=Q(kind=StockMove.Kind.REDEEM)),
            returned=Sum("delta", filter=Q(kind=StockMove.Kind.RETURN)),
            counted=Sum("delta", filter=Q(kind=StockMove.Kind.COUNT)),
            total=Sum("delta"),
        )
        kept = Redemption.objects.filter(reward=reward, status=Redemption.Status.COMPLETED)
        kept_sums = kept.aggregate(points=Sum("points"), units=Sum("quantity"))
        expected = kept_sums["points"] or 0
        ledger = (
            Entry.objects.filter(
                redemption__reward=reward, kind__in=[Entry.Kind.REDEEM, Entry.Kind.REFUND]
            ).aggregate(s=Sum("amount"))["s"]
            or 0
        )
        returned = moves["returned"] or 0
        lines.append(
            StockLine(
                reward=reward,
                restocked=moves["restocked"] or 0,
                redeemed=-(moves["redeemed"] or 0) - returned,
                returned=returned,
                counted=moves["counted"] or 0,
                stock=reward.stock,
                moves_sum=moves["total"] or 0,
                units_sold=kept_sums["units"] or 0,
                points_expected=expected,
                points_in_ledger=-ledger,
            )
        )
    return lines


def redemptions_for_staff(scope: StaffScope, *, center_id: int) -> QuerySet[Redemption]:
    center = staff_center(scope, center_id)
    return (
        Redemption.objects.filter(center=center)
        .select_related("reward", "account__resident", "device", "staff")
        .order_by("-occurred_at", "-id")
    )


# --- staff console: which centers -------------------------------------------------------------


def centers_for_staff(scope: StaffScope) -> QuerySet[Center]:
    """Centers whose ledger and catalogue this member of staff may read."""
    return scope.filter(Center.objects.select_related("community"), community="community").order_by(
        "community__code", "name"
    )


def desk_centers(scope: StaffScope) -> QuerySet[Center]:
    """Centers where this member of staff works at the desk (redeem, refund, adjust, stock)."""
    return (
        Center.objects.select_related("community")
        .filter(community_id__in=scope.desk_community_ids)
        .order_by("community__code", "name")
    )


def centers_with_rewards() -> QuerySet[Center]:
    """The centers whose catalogue offers something (the filter of the rewards page)."""
    return Center.objects.filter(rewards__is_active=True).distinct().order_by("name")
