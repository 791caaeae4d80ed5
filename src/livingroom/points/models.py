"""Points (积分): a community's own currency, kept as an append-only ledger, and the rewards
residents swap them for (drinks in a vending machine, goods at the desk, service vouchers).

Service hours are a legal record and live in ``volunteering``; points are money-like and live
here. The database keeps the rules:

* an ``Account`` (one per resident per community: each community sets its own rules) caches its
  balance, which never goes below zero (a CHECK). Services move it with one conditional
  ``UPDATE ... SET balance = balance + :amount WHERE balance + :amount >= 0`` in the same
  transaction as the ``Entry`` they append, and the entry records the balance after it;
* entries are append-only: the ORM refuses to change or delete one and a database trigger
  refuses ``UPDATE`` and ``DELETE`` on the table (migration 0002), so a correction is a new
  entry. Each entry's sign matches its kind (CHECKs), and an entry that must happen at most once
  (an award for a service record, a refund of a redemption) carries a unique ``key``;
* a reward's stock never goes below zero (a CHECK), moved with a conditional ``UPDATE``, and every
  move of stock is an append-only ``StockMove``; a redemption's stock move and ledger entry are
  written in one transaction, so stock moved equals points spent at the price of the day (账物相符).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from livingroom.core.models import AppendOnly
from livingroom.people.models import Resident
from livingroom.places.models import Center, Community, Device

MAX_POINTS = 1_000_000  # a single movement above this is a typing error
MAX_QUANTITY = 20
MAX_STOCK = 100_000


class Account(models.Model):
    """A resident's points in one community."""

    resident = models.ForeignKey(
        Resident, on_delete=models.PROTECT, related_name="points_accounts", verbose_name=_("resident")
    )
    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="points_accounts", verbose_name=_("community")
    )
    balance = models.IntegerField(_("balance"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["community", "resident"]
        verbose_name = _("points account")
        verbose_name_plural = _("points accounts")
        constraints = [
            models.UniqueConstraint(
                fields=["resident", "community"], name="points_account_one_per_community"
            ),
            models.CheckConstraint(condition=Q(balance__gte=0), name="points_balance_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.resident} @ {self.community}: {self.balance}"


class Reward(models.Model):
    """Something a center's catalogue offers for points."""

    class Kind(models.TextChoices):
        DRINK = "drink", _("Drink (vending machine)")
        GOODS = "goods", _("Goods at the desk")
        VOUCHER = "voucher", _("Service voucher")

    center = models.ForeignKey(
        Center, on_delete=models.PROTECT, related_name="rewards", verbose_name=_("center")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=80)
    description = models.CharField(_("description"), max_length=300, blank=True)
    price_points = models.PositiveIntegerField(_("price in points"))
    stock = models.IntegerField(_("stock"), default=0)
    at_vending = models.BooleanField(_("in the vending machines"), default=False)
    at_desk = models.BooleanField(_("at the desk"), default=True)
    is_active = models.BooleanField(_("on offer"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["center", "kind", "name"]
        verbose_name = _("reward")
        verbose_name_plural = _("rewards")
        constraints = [
            models.CheckConstraint(
                condition=Q(stock__gte=0, stock__lte=MAX_STOCK), name="points_stock_in_range"
            ),
            models.CheckConstraint(
                condition=Q(price_points__gte=1, price_points__lte=MAX_POINTS), name="points_price_in_range"
            ),
            models.UniqueConstraint(fields=["center", "name"], name="points_reward_name_per_center"),
        ]

    def __str__(self) -> str:
        return self.name


class Redemption(models.Model):
    """A resident swapped points for a reward, at the desk or at a vending machine."""

    class Channel(models.TextChoices):
        DESK = "desk", _("At the desk")
        VENDING = "vending", _("Vending machine")

    class Status(models.TextChoices):
        COMPLETED = "completed", _("Completed")
        REFUNDED = "refunded", pgettext_lazy("points", "Refunded")

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="redemptions")
    reward = models.ForeignKey(Reward, on_delete=models.PROTECT, related_name="redemptions")
    center = models.ForeignKey(Center, on_delete=models.PROTECT, related_name="redemptions")
    quantity = models.PositiveSmallIntegerField(_("quantity"))
    unit_points = models.PositiveIntegerField(_("points each"))
    points = models.PositiveIntegerField(_("points"))
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    device = models.ForeignKey(Device, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    request_key = models.CharField(max_length=100, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.COMPLETED)
    failure_reason = models.CharField(_("failure reason"), max_length=200, blank=True)
    occurred_at = models.DateTimeField(_("time"))
    refunded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("redemption")
        verbose_name_plural = _("redemptions")
        indexes = [models.Index(fields=["center", "occurred_at"], name="points_redemption_center")]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gte=1, quantity__lte=MAX_QUANTITY), name="points_redemption_quantity"
            ),
            models.CheckConstraint(
                condition=Q(points=models.F("unit_points") * models.F("quantity")),
                name="points_redemption_sum",
            ),
            models.UniqueConstraint(
                fields=["device", "request_key"],
                condition=Q(device__isnull=False),
                name="points_redemption_one_per_device_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reward} × {self.quantity}"


class Entry(AppendOnly):
    """One movement of points. Sum of an account's entries == its cached balance."""

    class Kind(models.TextChoices):
        AWARD = "award", _("Award")
        REDEEM = "redeem", _("Redemption")
        REFUND = "refund", pgettext_lazy("points", "Refund")
        ADJUST = "adjust", _("Adjustment")
        EXPIRE = "expire", _("Expiry")

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries")
    center = models.ForeignKey(Center, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    amount = models.IntegerField(_("points"))
    balance_after = models.IntegerField(_("balance after"))
    reason = models.CharField(_("reason"), max_length=200)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    device = models.ForeignKey(Device, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    redemption = models.ForeignKey(
        Redemption, on_delete=models.PROTECT, null=True, blank=True, related_name="entries"
    )
    # What the entry is for, once: "volunteering.record:12", "refund:34". Unique where set.
    key = models.CharField(max_length=120, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(_("time"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("points entry")
        verbose_name_plural = _("points entries")
        indexes = [
            models.Index(fields=["account", "created_at"], name="points_entry_account"),
            models.Index(fields=["center", "created_at"], name="points_entry_center"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind__in=["award", "refund"], amount__gt=0)
                    | Q(kind__in=["redeem", "expire"], amount__lt=0)
                    | (Q(kind="adjust") & ~Q(amount=0))
                ),
                name="points_entry_sign_by_kind",
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=-MAX_POINTS, amount__lte=MAX_POINTS), name="points_entry_amount_range"
            ),
            models.CheckConstraint(condition=Q(balance_after__gte=0), name="points_entry_balance_after"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount:+d}"


class StockMove(AppendOnly):
    """One movement of a reward's stock; the sum of a reward's moves equals its stock."""

    class Kind(models.TextChoices):
        RESTOCK = "restock", _("Restocked")
        REDEEM = "redeem", _("Redeemed")
        RETURN = "return", _("Back after a failed vend")
        COUNT = "count", _("Stock count correction")

    reward = models.ForeignKey(Reward, on_delete=models.PROTECT, related_name="moves")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    delta = models.IntegerField(_("change"))
    stock_after = models.IntegerField(_("stock after"))
    redemption = models.ForeignKey(
        Redemption, on_delete=models.PROTECT, null=True, blank=True, related_name="moves"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    device = models.ForeignKey(Device, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("time"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("stock movement")
        verbose_name_plural = _("stock movements")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind__in=["restock", "return"], delta__gt=0)
                    | Q(kind="redeem", delta__lt=0)
                    | (Q(kind="count") & ~Q(delta=0))
                ),
                name="points_stock_move_sign_by_kind",
            ),
            models.CheckConstraint(condition=Q(stock_after__gte=0), name="points_stock_after_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.delta:+d}"
