"""Meal assistance (助餐): canteens in centers, set meals, eligibility tiers priced as data, daily
menus with portions, orders and servings, and the append-only subsidy ledger.

The database keeps the rules:

* a menu item's ``sold`` never exceeds its ``portions`` (a CHECK), moved only by a conditional
  ``UPDATE ... SET sold = sold + 1 WHERE sold < portions``;
* a resident has at most one subsidised meal a day in the whole district, ordered or served, at
  any canteen (a partial unique index on ``(resident, day)`` over live subsidised meals);
* what a meal costs adds up: the eater's price plus the subsidy of every funder layer never
  exceeds the list price (CHECKs), and a meal is "subsidised" exactly when some layer pays;
* every served meal writes ``Entry`` rows (what the eater paid, the subsidy per funder layer) that
  are never changed or deleted (the ORM refuses, and a trigger on PostgreSQL and SQLite refuses
  ``UPDATE``/``DELETE``, migration 0002); a refund is a compensating negative entry, once per meal
  and layer (a unique ``key``).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from livingroom.core.models import AppendOnly
from livingroom.core.scopes import StaffScope
from livingroom.people.models import Resident
from livingroom.places.models import Center, Device, Organization, Space, Street

MAX_PRICE_FEN = 100_000  # ¥1,000 for one set meal is a typing error
MAX_PORTIONS = 5_000
MAX_PHOTO_BYTES = 5 * 1024 * 1024
LAYERS = ("city", "district", "street")


class Group(models.TextChoices):
    """Who a tier is for. Elderly bands come from the birth date on the ID; the rest from a staff
    verification (``people.EligibilityVerification``) valid on the day."""

    RIDER = "rider", _("Delivery rider / courier")
    ELDERLY_60 = "elderly_60", _("Elderly 60–69")
    ELDERLY_70 = "elderly_70", _("Elderly 70–79")
    ELDERLY_80 = "elderly_80", _("Elderly 80+")
    DISABLED = "disabled", _("Disabled")
    LOW_INCOME = "low_income", _("Low income / special hardship")
    EVERYONE = "everyone", _("Every resident")


class Layer(models.TextChoices):
    """Who pays a part of a meal."""

    EATER = "eater", _("Eater")
    CITY = "city", _("City subsidy")
    DISTRICT = "district", _("District subsidy")
    STREET = "street", _("Sub-district subsidy")


def can_operate(scope: StaffScope, canteen: Canteen) -> bool:
    """Who runs a canteen: the center's own staff, or staff of the partner that operates it."""
    if scope.works_at(canteen.center.community_id):
        return True
    return (
        canteen.operator_id is not None
        and canteen.operator_id in scope.organization_ids
        and canteen.center_id in scope.partner_center_ids
    )


def canteens_visible_to(scope: StaffScope, queryset: QuerySet[Canteen]) -> QuerySet[Canteen]:
    """Canteens a member of staff may see: those of their communities (the district: all), and a
    partner's own canteens at its centers."""
    return scope.filter(queryset, community="center__community", center="center", organization="operator")


class Canteen(models.Model):
    """A space of kind canteen in a center, run by a partner organisation or by the center."""

    space = models.OneToOneField(
        Space, on_delete=models.PROTECT, related_name="canteen", verbose_name=_("space")
    )
    center = models.ForeignKey(
        Center, on_delete=models.PROTECT, related_name="canteens", verbose_name=_("center")
    )
    operator = models.ForeignKey(
        Organization,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="canteens",
        verbose_name=_("operator"),
    )
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    takes_orders = models.BooleanField(_("takes orders ahead"), default=True)
    is_active = models.BooleanField(_("open"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["center__community__code", "name"]
        verbose_name = _("canteen")
        verbose_name_plural = _("canteens")

    def __str__(self) -> str:
        return self.name

    @property
    def operator_label(self) -> str:
        return self.operator.name if self.operator_id and self.operator else str(self.center)


class SetMeal(models.Model):
    canteen = models.ForeignKey(
        Canteen, on_delete=models.PROTECT, related_name="set_meals", verbose_name=_("canteen")
    )
    name = models.CharField(_("name"), max_length=60)
    description = models.CharField(_("description"), max_length=300, blank=True)
    photo = models.BinaryField(null=True, blank=True, editable=False)
    cost_fen = models.PositiveIntegerField(_("cost price (fen)"))
    list_price_fen = models.PositiveIntegerField(_("list price (fen)"))
    is_active = models.BooleanField(_("on offer"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["canteen", "list_price_fen", "name"]
        verbose_name = _("set meal")
        verbose_name_plural = _("set meals")
        constraints = [
            models.CheckConstraint(
                condition=Q(list_price_fen__gte=1, list_price_fen__lte=MAX_PRICE_FEN),
                name="meals_setmeal_list_price_range",
            ),
            models.CheckConstraint(condition=Q(cost_fen__lte=MAX_PRICE_FEN), name="meals_setmeal_cost_range"),
            models.UniqueConstraint(fields=["canteen", "name"], name="meals_setmeal_name_per_canteen"),
        ]

    def __str__(self) -> str:
        return self.name


class Tier(models.Model):
    """An eligibility tier: who (group), where they must live (residency), and per set meal what
    the eater pays and what each funder layer pays (``TierPrice``)."""

    class Residency(models.TextChoices):
        ANYWHERE = "anywhere", _("Any resident of the district")
        STREET = "street", _("Lives in the canteen's sub-district")
        COMMUNITY = "community", _("Lives in the canteen's community")

    canteen = models.ForeignKey(
        Canteen, on_delete=models.PROTECT, related_name="tiers", verbose_name=_("canteen")
    )
    name = models.CharField(_("name"), max_length=60)
    group = models.CharField(_("group"), max_length=20, choices=Group.choices)
    residency = models.CharField(
        _("residency condition"), max_length=12, choices=Residency.choices, default=Residency.ANYWHERE
    )
    is_active = models.BooleanField(_("in force"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["canteen", "group", "residency"]
        verbose_name = _("eligibility tier")
        verbose_name_plural = _("eligibility tiers")
        constraints = [
            models.UniqueConstraint(
                fields=["canteen", "group", "residency"],
                condition=Q(is_active=True),
                name="meals_tier_one_active_per_group",
            ),
            models.CheckConstraint(condition=Q(group__in=Group.values), name="meals_tier_group_valid"),
        ]

    def __str__(self) -> str:
        return self.name


class TierPrice(models.Model):
    """What one set meal costs someone of a tier, and who pays the rest."""

    tier = models.ForeignKey(Tier, on_delete=models.CASCADE, related_name="prices")
    set_meal = models.ForeignKey(SetMeal, on_delete=models.PROTECT, related_name="tier_prices")
    eater_fen = models.PositiveIntegerField(_("eater pays (fen)"))
    city_fen = models.PositiveIntegerField(_("city subsidy (fen)"), default=0)
    district_fen = models.PositiveIntegerField(_("district subsidy (fen)"), default=0)
    street_fen = models.PositiveIntegerField(_("sub-district subsidy (fen)"), default=0)

    class Meta:
        ordering = ["tier", "set_meal"]
        verbose_name = _("tier price")
        verbose_name_plural = _("tier prices")
        constraints = [
            models.UniqueConstraint(fields=["tier", "set_meal"], name="meals_tierprice_one_per_meal"),
            models.CheckConstraint(
                condition=Q(eater_fen__lte=MAX_PRICE_FEN)
                & Q(city_fen__lte=MAX_PRICE_FEN)
                & Q(district_fen__lte=MAX_PRICE_FEN)
                & Q(street_fen__lte=MAX_PRICE_FEN),
                name="meals_tierprice_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tier} · {self.set_meal}"

    @property
    def subsidy_fen(self) -> int:
        return self.city_fen + self.district_fen + self.street_fen


class Menu(models.Model):
    """A canteen's published menu for one meal of one day, with its serving hours."""

    class Period(models.TextChoices):
        BREAKFAST = "breakfast", _("Breakfast")
        LUNCH = "lunch", _("Lunch")
        DINNER = "dinner", _("Dinner")

    canteen = models.ForeignKey(
        Canteen, on_delete=models.PROTECT, related_name="menus", verbose_name=_("canteen")
    )
    day = models.DateField(_("date"))
    period = models.CharField(_("meal period"), max_length=10, choices=Period.choices, default=Period.LUNCH)
    serves_from = models.TimeField(_("serving from"))
    serves_until = models.TimeField(_("serving until"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["canteen", "day", "serves_from"]
        verbose_name = _("daily menu")
        verbose_name_plural = _("daily menus")
        constraints = [
            models.UniqueConstraint(fields=["canteen", "day", "period"], name="meals_menu_one_per_period"),
            models.CheckConstraint(
                condition=Q(serves_until__gt=F("serves_from")), name="meals_menu_until_after_from"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.canteen} {self.day:%Y-%m-%d} {self.get_period_display()}"

    def serving_at(self, now: dt.datetime) -> bool:
        opens, closes = self.window()
        return opens <= now < closes

    def ordering_open(self, now: dt.datetime) -> bool:
        """Orders ahead are taken until serving ends."""
        return now < self.window()[1]

    def window(self) -> tuple[dt.datetime, dt.datetime]:
        """The serving window as aware datetimes (Asia/Shanghai)."""
        from django.utils import timezone

        tz = timezone.get_default_timezone()
        return (
            dt.datetime.combine(self.day, self.serves_from, tzinfo=tz),
            dt.datetime.combine(self.day, self.serves_until, tzinfo=tz),
        )


class MenuItem(models.Model):
    """A set meal on a day's menu, with the portions cooked and the portions taken."""

    menu = models.ForeignKey(Menu, on_delete=models.CASCADE, related_name="items")
    set_meal = models.ForeignKey(SetMeal, on_delete=models.PROTECT, related_name="menu_items")
    portions = models.PositiveIntegerField(_("portions"))
    sold = models.PositiveIntegerField(_("taken"), default=0)

    class Meta:
        ordering = ["menu", "set_meal__list_price_fen", "set_meal__name"]
        verbose_name = _("menu item")
        verbose_name_plural = _("menu items")
        constraints = [
            models.UniqueConstraint(fields=["menu", "set_meal"], name="meals_menuitem_once_per_menu"),
            models.CheckConstraint(
                condition=Q(portions__lte=MAX_PORTIONS, sold__lte=F("portions")),
                name="meals_menuitem_sold_within_portions",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.menu} · {self.set_meal}"

    @property
    def left(self) -> int:
        return max(self.portions - self.sold, 0)


class Meal(models.Model):
    """One meal: ordered ahead, bought at the counter or sold to a walk-in, with its price split
    as it was on the day (list price, what the eater pays, each funder layer's subsidy)."""

    class Channel(models.TextChoices):
        ORDER = "order", _("Ordered ahead")
        COUNTER = "counter", _("At the counter with the pass")
        WALK_IN = "walk_in", _("Walk-in at list price")

    class Status(models.TextChoices):
        ORDERED = "ordered", _("Ordered")
        SERVED = "served", _("Served")
        CANCELLED = "cancelled", _("Cancelled")
        NO_SHOW = "no_show", _("Not collected")
        REFUNDED = "refunded", pgettext_lazy("meals", "Refunded")

    LIVE = ("ordered", "served")

    canteen = models.ForeignKey(Canteen, on_delete=models.PROTECT, related_name="meals")
    item = models.ForeignKey(MenuItem, on_delete=models.PROTECT, related_name="meals")
    day = models.DateField(_("date"))
    resident = models.ForeignKey(
        Resident,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="meals",
        verbose_name=_("resident"),
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    tier = models.ForeignKey(Tier, null=True, blank=True, on_delete=models.PROTECT, related_name="meals")
    group = models.CharField(_("group"), max_length=20, blank=True)
    list_fen = models.PositiveIntegerField(_("list price (fen)"))
    eater_fen = models.PositiveIntegerField(_("eater pays (fen)"))
    city_fen = models.PositiveIntegerField(default=0)
    district_fen = models.PositiveIntegerField(default=0)
    street_fen = models.PositiveIntegerField(default=0)
    subsidised = models.BooleanField(default=False)
    device = models.ForeignKey(Device, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    request_key = models.CharField(max_length=100, blank=True)
    ordered_at = models.DateTimeField(_("ordered at"), null=True, blank=True)
    served_at = models.DateTimeField(_("served at"), null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    close_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-day", "-created_at", "-id"]
        verbose_name = _("meal")
        verbose_name_plural = _("meals")
        indexes = [
            models.Index(fields=["canteen", "day"], name="meals_meal_canteen_day"),
            models.Index(fields=["resident", "day"], name="meals_meal_resident_day"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["resident", "day"],
                condition=Q(subsidised=True, status__in=["ordered", "served"]),
                name="meals_one_subsidised_meal_a_day",
            ),
            models.UniqueConstraint(
                fields=["device", "request_key"],
                condition=Q(device__isnull=False) & ~Q(request_key=""),
                name="meals_meal_one_per_device_key",
            ),
            models.CheckConstraint(
                condition=Q(
                    list_fen__gte=F("eater_fen") + F("city_fen") + F("district_fen") + F("street_fen")
                ),
                name="meals_meal_parts_within_list_price",
            ),
            models.CheckConstraint(
                condition=Q(subsidised=True, city_fen__gt=0)
                | Q(subsidised=True, district_fen__gt=0)
                | Q(subsidised=True, street_fen__gt=0)
                | Q(subsidised=False, city_fen=0, district_fen=0, street_fen=0),
                name="meals_meal_subsidised_iff_subsidy",
            ),
            models.CheckConstraint(
                condition=Q(resident__isnull=False) | Q(channel="walk_in", subsidised=False),
                name="meals_meal_walk_in_unsubsidised",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["ordered", "served", "cancelled", "no_show", "refunded"]),
                name="meals_meal_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item.set_meal} {self.day:%Y-%m-%d}"

    @property
    def subsidy_fen(self) -> int:
        return self.city_fen + self.district_fen + self.street_fen

    def cancellable(self, now: dt.datetime) -> bool:
        """An order can be cancelled until serving starts."""
        return self.status == self.Status.ORDERED and now < self.item.menu.window()[0]

    def parts(self) -> dict[str, int]:
        return {
            "eater": self.eater_fen,
            "city": self.city_fen,
            "district": self.district_fen,
            "street": self.street_fen,
        }


class Entry(AppendOnly):
    """One money movement of a served meal, in fen: what the eater paid, or one funder layer's
    subsidy the operator fronted and will claim. A refund is the same entries, negative."""

    class Kind(models.TextChoices):
        SERVED = "served", _("Meal served")
        REFUND = "refund", pgettext_lazy("meals", "Refund")

    meal = models.ForeignKey(Meal, on_delete=models.PROTECT, related_name="entries")
    canteen = models.ForeignKey(Canteen, on_delete=models.PROTECT, related_name="+")
    operator = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    street = models.ForeignKey(Street, on_delete=models.PROTECT, related_name="+")
    day = models.DateField(_("date"))  # the meal's day; a refund's own day (claims are per day)
    group = models.CharField(_("group"), max_length=20, blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    layer = models.CharField(_("paid by"), max_length=10, choices=Layer.choices)
    amount_fen = models.IntegerField(_("amount (fen)"))
    key = models.CharField(max_length=80, unique=True)
    created_at = models.DateTimeField(_("time"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("meal ledger entry")
        verbose_name_plural = _("meal ledger entries")
        indexes = [
            models.Index(fields=["day", "layer"], name="meals_entry_day_layer"),
            models.Index(fields=["canteen", "day"], name="meals_entry_canteen_day"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="served", amount_fen__gt=0) | Q(kind="refund", amount_fen__lt=0),
                name="meals_entry_sign_by_kind",
            ),
            models.CheckConstraint(
                condition=Q(amount_fen__gte=-MAX_PRICE_FEN, amount_fen__lte=MAX_PRICE_FEN),
                name="meals_entry_amount_range",
            ),
            models.CheckConstraint(condition=Q(layer__in=Layer.values), name="meals_entry_layer_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.layer} {self.amount_fen:+d}"


class Budget(models.Model):
    """A funder layer's subsidy budget for a year (the sub-district layer: per sub-district)."""

    year = models.PositiveSmallIntegerField(_("year"))
    layer = models.CharField(_("funder"), max_length=10, choices=Layer.choices)
    street = models.ForeignKey(
        Street,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("sub-district"),
    )
    amount_fen = models.PositiveBigIntegerField(_("budget (fen)"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["year", "layer", "street"]
        verbose_name = _("subsidy budget")
        verbose_name_plural = _("subsidy budgets")
        constraints = [
            models.UniqueConstraint(
                fields=["year", "layer"], condition=Q(street__isnull=True), name="meals_budget_one_per_layer"
            ),
            models.UniqueConstraint(
                fields=["year", "layer", "street"],
                condition=Q(street__isnull=False),
                name="meals_budget_one_per_street",
            ),
            models.CheckConstraint(
                condition=Q(layer="street", street__isnull=False)
                | Q(layer__in=["city", "district"], street__isnull=True),
                name="meals_budget_street_layer_has_street",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.get_layer_display()} {self.street or ''}".strip()
