"""Reads about canteens, menus, prices, meals, claims and figures, limited to what the caller
may see."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from django.db.models import BooleanField, Count, ExpressionWrapper, Prefetch, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from livingroom.core.scopes import StaffScope
from livingroom.meals import errors
from livingroom.meals.models import (
    LAYERS,
    Budget,
    Canteen,
    Entry,
    Group,
    Layer,
    Meal,
    Menu,
    MenuItem,
    SetMeal,
    Tier,
    can_operate,
    canteens_visible_to,
)
from livingroom.meals.pricing import Price, best_price, standing
from livingroom.people.models import Resident
from livingroom.people.selectors import resident_by_pass
from livingroom.places.workdays import WorkCalendar

# --- canteens and menus --------------------------------------------------------------------------


def canteens_public(*, center_id: int | None = None) -> QuerySet[Canteen]:
    qs = Canteen.objects.select_related("center__community__street", "operator", "space").filter(
        is_active=True
    )
    if center_id is not None:
        qs = qs.filter(center_id=center_id)
    return qs


def canteen_public(canteen_id: int) -> Canteen:
    canteen = canteens_public().filter(pk=canteen_id).first()
    if canteen is None:
        raise errors.CanteenNotFound()
    return canteen


def _items() -> Prefetch:
    """Menu items with their set meal, without the photo bytes (``has_photo`` says if there is one)."""
    return Prefetch(
        "items",
        queryset=MenuItem.objects.select_related("set_meal")
        .defer("set_meal__photo")
        .annotate(has_photo=ExpressionWrapper(Q(set_meal__photo__isnull=False), output_field=BooleanField()))
        .order_by("set_meal__list_price_fen", "set_meal__name"),
    )


def menus_of(canteen: Canteen, day: dt.date) -> list[Menu]:
    return menus_on(day, [canteen])[canteen.pk]


def menus_on(day: dt.date, canteens: list[Canteen]) -> dict[int, list[Menu]]:
    """The day's menus of each canteen (one query for the menus, one for their items)."""
    by_id = {c.pk: c for c in canteens}
    found: dict[int, list[Menu]] = {c.pk: [] for c in canteens}
    for menu in (
        Menu.objects.filter(canteen_id__in=by_id, day=day).prefetch_related(_items()).order_by("serves_from")
    ):
        menu.canteen = by_id[menu.canteen_id]
        found[menu.canteen_id].append(menu)
    return found


def is_holiday(day: dt.date) -> bool:
    return WorkCalendar.for_days([day]).is_holiday(day)


def set_meal_photo(set_meal_id: int) -> bytes | None:
    row = (
        SetMeal.objects.filter(pk=set_meal_id, canteen__is_active=True)
        .values_list("photo", flat=True)
        .first()
    )
    return bytes(row) if row else None


# --- what a meal costs someone -----------------------------------------------------------------


@dataclass
class PricedItem:
    item: MenuItem
    price: Price


@dataclass
class PriceList:
    """A day's menus at a canteen priced for one eater (or for a walk-in)."""

    canteen: Canteen
    day: dt.date
    holiday: bool
    subsidised_left: int
    groups: list[str] = field(default_factory=list)
    menus: list[tuple[Menu, list[PricedItem]]] = field(default_factory=list)
    orders: list[Meal] = field(default_factory=list)


def subsidised_meal_of(resident: Resident, day: dt.date) -> Meal | None:
    return (
        Meal.objects.select_related("canteen", "item__set_meal")
        .filter(resident=resident, day=day, subsidised=True, status__in=Meal.LIVE)
        .first()
    )


def price_list(resident: Resident | None, canteen: Canteen, day: dt.date) -> PriceList:
    holiday = is_holiday(day)
    tiers = list(Tier.objects.filter(canteen=canteen, is_active=True).prefetch_related("prices"))
    taken = subsidised_meal_of(resident, day) if resident is not None else None
    result = PriceList(
        canteen=canteen, day=day, holiday=holiday, subsidised_left=0 if taken or holiday else 1
    )
    if resident is not None:
        found = standing(resident, canteen, tiers, day)
        result.groups = [str(reason) for group, reason in found.groups.items() if group != Group.EVERYONE]
        result.orders = list(
            Meal.objects.select_related("item__set_meal", "item__menu")
            .filter(resident=resident, canteen=canteen, day=day, status__in=Meal.LIVE)
            .order_by("created_at")
        )
    else:
        result.subsidised_left = 0
    for menu in menus_of(canteen, day):
        priced = []
        for item in menu.items.all():
            price = best_price(
                resident=resident,
                canteen=canteen,
                set_meal=item.set_meal,
                tiers=tiers,
                day=day,
                holiday=holiday,
            )
            if price.subsidised and taken is not None:
                price = price.without_subsidy(_("today's subsidised meal is already taken"))
            priced.append(PricedItem(item=item, price=price))
        result.menus.append((menu, priced))
    return result


def my_meals(resident: Resident) -> QuerySet[Meal]:
    return Meal.objects.select_related("canteen__center", "item__set_meal", "item__menu").filter(
        resident=resident
    )


def my_orders_ahead(resident: Resident) -> QuerySet[Meal]:
    """My orders still to pick up, soonest first."""
    return (
        my_meals(resident)
        .filter(status=Meal.Status.ORDERED, day__gte=timezone.localdate())
        .order_by("day", "item__menu__serves_from", "id")
    )


def my_meal(resident: Resident, meal_id: int) -> Meal:
    meal = my_meals(resident).filter(pk=meal_id).first()
    if meal is None:
        raise errors.MealNotFound()
    return meal


# --- the counter ---------------------------------------------------------------------------------


@dataclass
class CounterPreview:
    """What the counter sees after scanning a pass, before confirming."""

    resident: Resident
    prices: PriceList
    order: Meal | None


def counter_preview(canteen: Canteen, token: str, *, now: dt.datetime | None = None) -> CounterPreview:
    """Who shows the pass, their groups, today's subsidised meal left, their price for each set
    meal, and their order here if they have one. The pass is not used up."""
    now = now or timezone.now()
    resident = resident_by_pass(token, now=now.timestamp())
    day = timezone.localdate(now)
    prices = price_list(resident, canteen, day)
    order = next((m for m in prices.orders if m.status == Meal.Status.ORDERED), None)
    return CounterPreview(resident=resident, prices=prices, order=order)


# --- staff -------------------------------------------------------------------------------------


def canteens_for_staff(scope: StaffScope) -> QuerySet[Canteen]:
    return canteens_visible_to(scope, Canteen.objects.select_related("center__community__street", "operator"))


def canteen_for_staff(scope: StaffScope, canteen_id: int) -> Canteen:
    canteen = canteens_for_staff(scope).filter(pk=canteen_id).first()
    if canteen is None:
        raise errors.CanteenNotFound()
    return canteen


def may_operate(scope: StaffScope, canteen: Canteen) -> bool:
    return can_operate(scope, canteen)


def set_meals_of(canteen: Canteen) -> QuerySet[SetMeal]:
    return (
        SetMeal.objects.filter(canteen=canteen)
        .defer("photo")
        .annotate(has_photo=ExpressionWrapper(Q(photo__isnull=False), output_field=BooleanField()))
        .order_by("-is_active", "list_price_fen", "name")
    )


def tiers_of(canteen: Canteen, *, active_only: bool = True) -> QuerySet[Tier]:
    qs = Tier.objects.filter(canteen=canteen).prefetch_related("prices__set_meal")
    return qs.filter(is_active=True) if active_only else qs


def meals_at(canteen: Canteen, day: dt.date) -> QuerySet[Meal]:
    return (
        Meal.objects.select_related("item__set_meal", "item__menu", "resident")
        .filter(canteen=canteen, day=day)
        .order_by("-created_at")
    )


def meal_for_staff(scope: StaffScope, meal_id: int) -> Meal:
    meal = (
        Meal.objects.select_related("canteen__center__community", "item__set_meal", "resident")
        .filter(canteen__in=canteens_for_staff(scope), pk=meal_id)
        .first()
    )
    if meal is None:
        raise errors.MealNotFound()
    return meal


def pending_orders(canteen: Canteen, day: dt.date) -> QuerySet[Meal]:
    return meals_at(canteen, day).filter(status=Meal.Status.ORDERED)


# --- claims and figures --------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    label: str
    start: dt.date
    end: dt.date  # exclusive


def claim_period(text: str) -> Period:
    """A month ("2026-11") or a quarter ("2026-Q4")."""
    text = (text or "").strip().upper()
    month = re.fullmatch(r"(20\d\d)-(0[1-9]|1[0-2])", text)
    quarter = re.fullmatch(r"(20\d\d)-Q([1-4])", text)
    if month:
        year, m = int(month[1]), int(month[2])
        start = dt.date(year, m, 1)
        end = dt.date(year + (m == 12), m % 12 + 1, 1)
        return Period(label=text, start=start, end=end)
    if quarter:
        year, q = int(quarter[1]), int(quarter[2])
        start = dt.date(year, 3 * q - 2, 1)
        end = dt.date(year + (q == 4), (3 * q) % 12 + 1, 1)
        return Period(label=text, start=start, end=end)
    raise errors.PeriodInvalid(field="period")


def entries_for(scope: StaffScope, period: Period) -> QuerySet[Entry]:
    return Entry.objects.filter(
        canteen__in=canteens_for_staff(scope), day__gte=period.start, day__lt=period.end
    )


@dataclass(frozen=True)
class ClaimLine:
    operator: str
    canteen_id: int
    canteen: str
    funder: str  # a Layer value
    street: str
    meals: int
    amount_fen: int


def claim_lines(scope: StaffScope, period: Period, *, canteen_id: int | None = None) -> list[ClaimLine]:
    """What each operator claims from each funder for a period: the subsidy entries (refunds
    subtract), per canteen and funder layer (the sub-district layer per sub-district)."""
    qs = entries_for(scope, period).exclude(layer=Layer.EATER)
    if canteen_id is not None:
        qs = qs.filter(canteen_id=canteen_id)
    rows = (
        qs.values(
            "canteen_id", "canteen__name", "operator__name", "canteen__center__name", "layer", "street__name"
        )
        .annotate(
            amount=Sum("amount_fen"),
            meals=Count("meal", distinct=True, filter=Q(kind=Entry.Kind.SERVED)),
            refunded=Count("meal", distinct=True, filter=Q(kind=Entry.Kind.REFUND)),
        )
        .order_by("operator__name", "canteen__name", "layer")
    )
    order = {layer: i for i, layer in enumerate(LAYERS)}
    lines = [
        ClaimLine(
            operator=r["operator__name"] or r["canteen__center__name"],
            canteen_id=r["canteen_id"],
            canteen=r["canteen__name"],
            funder=r["layer"],
            street=r["street__name"] if r["layer"] == Layer.STREET else "",
            meals=r["meals"] - r["refunded"],
            amount_fen=r["amount"] or 0,
        )
        for r in rows
    ]
    return sorted(lines, key=lambda line: (line.operator, line.canteen, order.get(line.funder, 9)))


def claim_totals(lines: list[ClaimLine]) -> dict[str, int]:
    totals = {layer: 0 for layer in LAYERS}
    for line in lines:
        totals[line.funder] += line.amount_fen
    totals["all"] = sum(totals[layer] for layer in LAYERS)
    return totals


def claim_entries(scope: StaffScope, period: Period, *, canteen_id: int | None = None) -> QuerySet[Entry]:
    """Every subsidy entry behind a claim, for the Excel detail."""
    qs = entries_for(scope, period).exclude(layer=Layer.EATER)
    if canteen_id is not None:
        qs = qs.filter(canteen_id=canteen_id)
    return qs.select_related(
        "canteen", "operator", "street", "meal__item__set_meal", "meal__resident"
    ).order_by("day", "meal_id", "layer", "id")


@dataclass(frozen=True)
class GroupFigure:
    group: str
    meals: int
    eater_fen: int
    subsidy_fen: int


@dataclass(frozen=True)
class CanteenFigure:
    canteen_id: int
    canteen: str
    center: str
    operator: str
    meals: int
    subsidised: int
    eater_fen: int
    subsidy_fen: int


@dataclass(frozen=True)
class BudgetFigure:
    layer: str
    street: str
    budget_fen: int | None
    spent_fen: int


def _served(scope: StaffScope, period: Period) -> QuerySet[Meal]:
    return Meal.objects.filter(
        canteen__in=canteens_for_staff(scope),
        day__gte=period.start,
        day__lt=period.end,
        status=Meal.Status.SERVED,
    )


def figures_by_group(scope: StaffScope, period: Period) -> list[GroupFigure]:
    rows = (
        _served(scope, period)
        .values("group")
        .annotate(
            n=Count("id"),
            eater=Sum("eater_fen"),
            city=Sum("city_fen"),
            district=Sum("district_fen"),
            street=Sum("street_fen"),
        )
        .order_by("group")
    )
    return [
        GroupFigure(
            group=r["group"] or "list_price",  # walk-ins and residents of no group
            meals=r["n"],
            eater_fen=r["eater"] or 0,
            subsidy_fen=(r["city"] or 0) + (r["district"] or 0) + (r["street"] or 0),
        )
        for r in rows
    ]


def figures_by_canteen(scope: StaffScope, period: Period) -> list[CanteenFigure]:
    rows = (
        _served(scope, period)
        .values("canteen_id", "canteen__name", "canteen__center__name", "canteen__operator__name")
        .annotate(
            n=Count("id"),
            subsidised=Count("id", filter=Q(subsidised=True)),
            eater=Sum("eater_fen"),
            city=Sum("city_fen"),
            district=Sum("district_fen"),
            street=Sum("street_fen"),
        )
        .order_by("canteen__center__community__code", "canteen__name")
    )
    return [
        CanteenFigure(
            canteen_id=r["canteen_id"],
            canteen=r["canteen__name"],
            center=r["canteen__center__name"],
            operator=r["canteen__operator__name"] or "",
            meals=r["n"],
            subsidised=r["subsidised"],
            eater_fen=r["eater"] or 0,
            subsidy_fen=(r["city"] or 0) + (r["district"] or 0) + (r["street"] or 0),
        )
        for r in rows
    ]


def budget_figures(scope: StaffScope, year: int) -> list[BudgetFigure]:
    """Each funder layer's budget for the year against what its entries add up to so far."""
    period = Period(label=str(year), start=dt.date(year, 1, 1), end=dt.date(year + 1, 1, 1))
    spent: dict[tuple[str, str], int] = {}
    rows = entries_for(scope, period).exclude(layer=Layer.EATER).values("layer", "street__name")
    for r in rows.annotate(amount=Sum("amount_fen")):
        key = (r["layer"], r["street__name"] if r["layer"] == Layer.STREET else "")
        spent[key] = spent.get(key, 0) + (r["amount"] or 0)
    budgets = {
        (b.layer, b.street.name if b.street_id and b.street else ""): b.amount_fen
        for b in Budget.objects.select_related("street").filter(year=year)
    }
    keys = sorted(
        set(spent) | set(budgets), key=lambda k: (LAYERS.index(k[0]) if k[0] in LAYERS else 9, k[1])
    )
    return [
        BudgetFigure(
            layer=layer,
            street=street,
            budget_fen=budgets.get((layer, street)),
            spent_fen=spent.get((layer, street), 0),
        )
        for layer, street in keys
    ]


def budgets(year: int) -> QuerySet[Budget]:
    return Budget.objects.select_related("street").filter(year=year)
