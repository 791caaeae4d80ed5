"""Every change to canteens, set meals, tiers, menus, meals and the subsidy ledger.

Scarce things are kept by the database (see ``models``): a meal's row goes in first (the partial
unique index refuses a second subsidised meal that day, at any canteen), then one conditional
``UPDATE`` takes a portion (``sold < portions``); both in one transaction, so a refusal leaves
neither. A canteen terminal's request runs once per idempotency key (refusals kept), so a retry
never serves or charges twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from livingroom.core import images
from livingroom.core.audit import audit_log
from livingroom.core.formatting import format_fen
from livingroom.core.idempotency import run_idempotent
from livingroom.core.scopes import StaffScope
from livingroom.meals import errors
from livingroom.meals.models import (
    LAYERS,
    MAX_PHOTO_BYTES,
    MAX_PORTIONS,
    MAX_PRICE_FEN,
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
    TierPrice,
    can_operate,
    canteens_visible_to,
)
from livingroom.meals.pricing import Price, best_price, price_with_tier, standing, tier_price, why_not
from livingroom.notices.services import notice_send
from livingroom.people.models import EligibilityVerification, Resident, User
from livingroom.people.services import resident_pass_verify
from livingroom.places.models import Device, Organization, Space, Street
from livingroom.places.workdays import WorkCalendar

TAKE_PORTION = "UPDATE meals_menuitem SET sold = sold + 1 WHERE id = %s AND sold < portions RETURNING sold"
GIVE_BACK_PORTION = "UPDATE meals_menuitem SET sold = sold - 1 WHERE id = %s AND sold > 0 RETURNING sold"
REMINDER_DAYS = 14


# --- helpers ------------------------------------------------------------------------------------


def _take_portion(item_id: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(TAKE_PORTION, [item_id])
        return cursor.fetchone() is not None


def _give_back_portion(item_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(GIVE_BACK_PORTION, [item_id])


def _fen(value: Any, *, field: str, minimum: int = 0) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not minimum <= value <= MAX_PRICE_FEN:
        raise (errors.ListPriceInvalid if minimum else errors.PriceInvalid)(field=field)
    return value


def _name(value: str, *, field: str = "name", max_length: int = 60) -> str:
    value = " ".join((value or "").split())
    if not value:
        raise errors.NameRequired(field=field)
    if len(value) > max_length:
        raise errors.NameRequired(field=field)
    return value


def _staff_canteen(scope: StaffScope, canteen_id: int, *, operate: bool = True) -> Canteen:
    """A canteen the caller may see (others are 404); ``operate``: one they run (else 403)."""
    canteen = (
        canteens_visible_to(scope, Canteen.objects.select_related("center__community__street", "operator"))
        .filter(pk=canteen_id)
        .first()
    )
    if canteen is None:
        raise errors.CanteenNotFound(field="canteen_id")
    if operate and not can_operate(scope, canteen):
        raise errors.NotOperator()
    return canteen


def _holiday(day: dt.date) -> bool:
    return WorkCalendar.for_days([day]).is_holiday(day)


# --- canteens, set meals, tiers ------------------------------------------------------------------


def canteen_create(
    *,
    scope: StaffScope,
    actor: User,
    space_id: int,
    name: str,
    operator_id: int | None = None,
    description: str = "",
    takes_orders: bool = True,
) -> Canteen:
    """Center staff open a canteen in a space of kind canteen, run by the center or a partner."""
    space = Space.objects.select_related("center__community").filter(pk=space_id).first()
    if space is None or not scope.covers_community(space.center.community_id):
        raise errors.SpaceNotFound(field="space_id")
    if not scope.works_at(space.center.community_id):
        raise errors.NotOperator()
    if space.kind != Space.Kind.CANTEEN or Canteen.objects.filter(space=space).exists():
        raise errors.SpaceNotCanteen(field="space_id")
    operator = None
    if operator_id is not None:
        operator = Organization.objects.filter(pk=operator_id, centers=space.center).first()
        if operator is None:
            raise errors.OperatorNotFound(field="operator_id")
    with transaction.atomic(durable=True):
        canteen = Canteen.objects.create(
            space=space,
            center=space.center,
            operator=operator,
            name=_name(name, max_length=100),
            description=(description or "").strip()[:2000],
            takes_orders=bool(takes_orders),
        )
        audit_log("meals.canteen.created", actor=actor, obj=canteen, data={"space": space.pk})
    return canteen


def canteen_update(
    *,
    scope: StaffScope,
    actor: User,
    canteen_id: int,
    takes_orders: bool | None = None,
    is_active: bool | None = None,
) -> Canteen:
    canteen = _staff_canteen(scope, canteen_id)
    changes: dict[str, Any] = {}
    if takes_orders is not None:
        changes["takes_orders"] = bool(takes_orders)
    if is_active is not None:
        changes["is_active"] = bool(is_active)
    with transaction.atomic(durable=True):
        Canteen.objects.filter(pk=canteen.pk).update(**changes)
        audit_log("meals.canteen.updated", actor=actor, obj=canteen, data=changes)
    canteen.refresh_from_db()
    return canteen


@dataclass(frozen=True)
class SetMealDraft:
    name: str
    cost_fen: int
    list_price_fen: int
    description: str = ""
    is_active: bool = True


def _check_set_meal(draft: SetMealDraft) -> SetMealDraft:
    return SetMealDraft(
        name=_name(draft.name),
        cost_fen=_fen(draft.cost_fen, field="cost_fen"),
        list_price_fen=_fen(draft.list_price_fen, field="list_price_fen", minimum=1),
        description=" ".join((draft.description or "").split())[:300],
        is_active=bool(draft.is_active),
    )


def _photo(photo: bytes | None) -> bytes | None:
    if not photo:
        return None
    return images.clean_image(photo, max_bytes=MAX_PHOTO_BYTES, field="photo").content


def set_meal_create(
    *, scope: StaffScope, actor: User, canteen_id: int, draft: SetMealDraft, photo: bytes | None = None
) -> SetMeal:
    canteen = _staff_canteen(scope, canteen_id)
    draft = _check_set_meal(draft)
    content = _photo(photo)
    try:
        with transaction.atomic(durable=True):
            meal = SetMeal.objects.create(
                canteen=canteen,
                name=draft.name,
                description=draft.description,
                cost_fen=draft.cost_fen,
                list_price_fen=draft.list_price_fen,
                is_active=draft.is_active,
                photo=content,
            )
            audit_log(
                "meals.set_meal.created",
                actor=actor,
                obj=meal,
                data={"list_price_fen": draft.list_price_fen, "cost_fen": draft.cost_fen},
            )
    except IntegrityError:
        raise errors.NameTaken(field="name") from None
    return meal


def set_meal_update(
    *, scope: StaffScope, actor: User, set_meal_id: int, draft: SetMealDraft, photo: bytes | None = None
) -> SetMeal:
    """A new list price applies to meals from now on; a tier price above it is refused."""
    found = SetMeal.objects.filter(pk=set_meal_id).first()
    if found is None:
        raise errors.SetMealNotFound(field="set_meal_id")
    try:
        _staff_canteen(scope, found.canteen_id)
    except errors.CanteenNotFound:
        raise errors.SetMealNotFound(field="set_meal_id") from None
    draft = _check_set_meal(draft)
    content = _photo(photo)
    for price in TierPrice.objects.filter(set_meal=found, tier__is_active=True):
        _check_split(
            price.eater_fen, price.city_fen, price.district_fen, price.street_fen, draft.list_price_fen
        )
    fields = ["name", "description", "cost_fen", "list_price_fen", "is_active"]
    try:
        with transaction.atomic(durable=True):
            for f in fields:
                setattr(found, f, getattr(draft, f))
            if content is not None:
                found.photo = content
                fields.append("photo")
            found.save(update_fields=fields)
            audit_log(
                "meals.set_meal.updated",
                actor=actor,
                obj=found,
                data={"list_price_fen": draft.list_price_fen, "is_active": draft.is_active},
            )
    except IntegrityError:
        raise errors.NameTaken(field="name") from None
    return found


@dataclass(frozen=True)
class PriceLine:
    set_meal_id: int
    eater_fen: int
    city_fen: int = 0
    district_fen: int = 0
    street_fen: int = 0


def _check_split(
    eater: int, city: int, district: int, street: int, list_fen: int, *, field: str = "prices"
) -> None:
    if eater + city + district + street > list_fen:
        raise errors.SubsidyTooLarge(
            field=field, parts=format_fen(eater + city + district + street), list=format_fen(list_fen)
        )


def _check_prices(canteen: Canteen, lines: Sequence[PriceLine]) -> list[tuple[SetMeal, PriceLine]]:
    meals = {m.pk: m for m in SetMeal.objects.filter(canteen=canteen)}
    seen: set[int] = set()
    checked = []
    if not lines:
        raise errors.PricesRequired(field="prices")
    for i, line in enumerate(lines):
        meal = meals.get(line.set_meal_id)
        if meal is None or line.set_meal_id in seen:
            raise errors.SetMealNotFound(field=f"prices.{i}.set_meal_id")
        seen.add(line.set_meal_id)
        for part in ("eater_fen", "city_fen", "district_fen", "street_fen"):
            _fen(getattr(line, part), field=f"prices.{i}.{part}")
        _check_split(
            line.eater_fen,
            line.city_fen,
            line.district_fen,
            line.street_fen,
            meal.list_price_fen,
            field=f"prices.{i}",
        )
        checked.append((meal, line))
    return checked


def _write_prices(tier: Tier, checked: list[tuple[SetMeal, PriceLine]]) -> None:
    TierPrice.objects.bulk_create(
        TierPrice(
            tier=tier,
            set_meal=meal,
            eater_fen=line.eater_fen,
            city_fen=line.city_fen,
            district_fen=line.district_fen,
            street_fen=line.street_fen,
        )
        for meal, line in checked
    )


def tier_create(
    *,
    scope: StaffScope,
    actor: User,
    canteen_id: int,
    name: str,
    group: str,
    residency: str = Tier.Residency.ANYWHERE,
    prices: Sequence[PriceLine],
) -> Tier:
    canteen = _staff_canteen(scope, canteen_id)
    if group not in Group.values:
        raise errors.GroupInvalid(field="group")
    if residency not in Tier.Residency.values:
        raise errors.ResidencyInvalid(field="residency")
    checked = _check_prices(canteen, prices)
    try:
        with transaction.atomic(durable=True):
            tier = Tier.objects.create(canteen=canteen, name=_name(name), group=group, residency=residency)
            _write_prices(tier, checked)
            audit_log(
                "meals.tier.created",
                actor=actor,
                obj=tier,
                data={
                    "group": group,
                    "residency": residency,
                    "prices": [line.__dict__ for _m, line in checked],
                },
            )
    except IntegrityError:
        raise errors.TierExists(field="group") from None
    return tier


def tier_update(
    *,
    scope: StaffScope,
    actor: User,
    tier_id: int,
    name: str | None = None,
    prices: Sequence[PriceLine] | None = None,
) -> Tier:
    """New prices replace the old ones for meals from now on (meals keep the split of their day)."""
    tier = Tier.objects.filter(pk=tier_id, is_active=True).first()
    if tier is None:
        raise errors.TierNotFound(field="tier_id")
    try:
        canteen = _staff_canteen(scope, tier.canteen_id)
    except errors.CanteenNotFound:
        raise errors.TierNotFound(field="tier_id") from None
    checked = _check_prices(canteen, prices) if prices is not None else None
    with transaction.atomic(durable=True):
        if name is not None:
            tier.name = _name(name)
            tier.save(update_fields=["name"])
        if checked is not None:
            TierPrice.objects.filter(tier=tier).delete()
            _write_prices(tier, checked)
        audit_log(
            "meals.tier.updated",
            actor=actor,
            obj=tier,
            data={"prices": [line.__dict__ for _m, line in checked] if checked else None},
        )
    return tier


def tier_retire(*, scope: StaffScope, actor: User, tier_id: int) -> Tier:
    tier = Tier.objects.filter(pk=tier_id, is_active=True).first()
    if tier is None:
        raise errors.TierNotFound(field="tier_id")
    try:
        _staff_canteen(scope, tier.canteen_id)
    except errors.CanteenNotFound:
        raise errors.TierNotFound(field="tier_id") from None
    with transaction.atomic(durable=True):
        Tier.objects.filter(pk=tier.pk).update(is_active=False)
        audit_log("meals.tier.retired", actor=actor, obj=tier)
    tier.is_active = False
    return tier


# --- menus --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MenuLine:
    set_meal_id: int
    portions: int


def menu_publish(
    *,
    scope: StaffScope,
    actor: User,
    canteen_id: int,
    day: dt.date,
    period: str = Menu.Period.LUNCH,
    serves_from: dt.time,
    serves_until: dt.time,
    items: Sequence[MenuLine],
    note: str = "",
    now: dt.datetime | None = None,
) -> Menu:
    """Publishes (or changes) a day's menu. Portions never go below those already taken; a set
    meal someone has taken stays on the menu."""
    canteen = _staff_canteen(scope, canteen_id)
    now = now or timezone.now()
    if day < timezone.localdate(now):
        raise errors.MenuInPast(field="day")
    if period not in Menu.Period.values:
        raise errors.MenuPeriodInvalid(field="period")
    if serves_until <= serves_from:
        raise errors.HoursInvalid(field="serves_until")
    if not items:
        raise errors.MenuEmpty(field="items")
    meals = {m.pk: m for m in SetMeal.objects.filter(canteen=canteen, is_active=True)}
    wanted: dict[int, int] = {}
    for i, line in enumerate(items):
        if line.set_meal_id not in meals or line.set_meal_id in wanted:
            raise errors.SetMealNotFound(field=f"items.{i}.set_meal_id")
        portions = line.portions
        if not isinstance(portions, int) or isinstance(portions, bool) or not 0 <= portions <= MAX_PORTIONS:
            raise errors.PortionsInvalid(field=f"items.{i}.portions", max=MAX_PORTIONS, sold=0)
        wanted[line.set_meal_id] = portions
    with transaction.atomic(durable=True):
        menu, created = Menu.objects.select_for_update().get_or_create(
            canteen=canteen,
            day=day,
            period=period,
            defaults={"serves_from": serves_from, "serves_until": serves_until, "published_by": actor},
        )
        if not created:
            menu.serves_from, menu.serves_until = serves_from, serves_until
        menu.note = " ".join((note or "").split())[:200]
        menu.save()
        existing = {i.set_meal_id: i for i in MenuItem.objects.select_for_update().filter(menu=menu)}
        for set_meal_id, old in existing.items():
            if set_meal_id not in wanted and old.sold:
                raise errors.PortionsInvalid(field="items", max=MAX_PORTIONS, sold=old.sold)
        for set_meal_id, portions in wanted.items():
            current = existing.get(set_meal_id)
            if current is None:
                MenuItem.objects.create(menu=menu, set_meal_id=set_meal_id, portions=portions)
                continue
            updated = MenuItem.objects.filter(pk=current.pk, sold__lte=portions).update(portions=portions)
            if not updated:
                raise errors.PortionsInvalid(field="items", max=MAX_PORTIONS, sold=current.sold)
        MenuItem.objects.filter(menu=menu, sold=0).exclude(set_meal_id__in=wanted).delete()
        audit_log(
            "meals.menu.published",
            actor=actor,
            obj=menu,
            data={"day": day.isoformat(), "period": period, "items": wanted},
        )
    return menu


# --- pricing an eater ----------------------------------------------------------------------------


def _tiers(canteen: Canteen) -> list[Tier]:
    return list(Tier.objects.filter(canteen=canteen, is_active=True).prefetch_related("prices"))


def _price(
    *,
    resident: Resident | None,
    item: MenuItem,
    tier_id: int | None,
    full_price: bool,
    already_subsidised: bool,
    holiday: bool,
) -> Price:
    """The price of this meal for this eater, or the refusal when what was asked for cannot be
    given (a named tier they don't qualify for, a subsidy on a holiday or twice in a day)."""
    canteen, set_meal, day = item.menu.canteen, item.set_meal, item.menu.day
    tiers = _tiers(canteen)
    if resident is not None and tier_id is not None:
        tier = next((t for t in tiers if t.pk == tier_id), None)
        if tier is None:
            raise errors.TierNotFound(field="tier_id")
        found = standing(resident, canteen, tiers, day)
        if tier not in found.tiers:
            code, why = why_not(resident, canteen, tier, day)
            if code == "not_verified":
                raise errors.NotVerified(field="tier_id")
            if code == "credential_expired":
                raise errors.CredentialExpired(field="tier_id", until=why)
            raise errors.TierNotEligible(field="tier_id", why=why)
        line = tier_price(tier, set_meal)
        if line is None:
            raise errors.TierNotForMeal(field="tier_id")
        price = price_with_tier(
            tier=tier,
            price=line,
            set_meal=set_meal,
            resident=resident,
            canteen=canteen,
            why=found.groups[tier.group],
        )
    else:
        price = best_price(
            resident=resident, canteen=canteen, set_meal=set_meal, tiers=tiers, day=day, holiday=False
        )
    if not price.subsidised:
        return price
    if holiday:
        if not full_price:
            raise errors.HolidayNoSubsidy(day=date_format(day, "Y-m-d"))
        return price.without_subsidy(_("no subsidy on public holidays"))
    if already_subsidised:
        if not full_price:
            raise errors.AlreadySubsidised(day=date_format(day, "Y-m-d"))
        return price.without_subsidy(_("today's subsidised meal is already taken"))
    return price


def _subsidised_today(resident: Resident | None, day: dt.date) -> bool:
    if resident is None:
        return False
    return Meal.objects.filter(resident=resident, day=day, subsidised=True, status__in=Meal.LIVE).exists()


def _insert_meal(**fields: Any) -> Meal:
    try:
        with transaction.atomic():
            return Meal.objects.create(**fields)
    except IntegrityError as exc:
        if (fields.get("subsidised") and "subsidised" in str(exc).lower()) or _subsidised_today(
            fields.get("resident"), fields["day"]
        ):
            raise errors.AlreadySubsidised(day=date_format(fields["day"], "Y-m-d")) from None
        raise


def _split(price: Price) -> dict[str, Any]:
    return {
        "tier": price.tier,
        "group": price.group,
        "list_fen": price.list_fen,
        "eater_fen": price.eater_fen,
        "city_fen": price.city_fen,
        "district_fen": price.district_fen,
        "street_fen": price.street_fen,
        "subsidised": price.subsidised,
    }


# --- resident orders ------------------------------------------------------------------------------


def _menu_item(item_id: int, *, lock_menu: bool = False) -> MenuItem:
    item = (
        MenuItem.objects.select_related(
            "menu__canteen__center__community__street", "menu__canteen__operator", "set_meal"
        )
        .filter(pk=item_id)
        .first()
    )
    if item is None or not item.menu.canteen.is_active:
        raise errors.MenuItemNotFound(field="menu_item_id")
    return item


def meal_order(
    *,
    resident: Resident,
    menu_item_id: int,
    tier_id: int | None = None,
    full_price: bool = False,
    now: dt.datetime | None = None,
) -> Meal:
    """A resident orders a set meal ahead, to pick up in the serving window; pays at pick-up."""
    now = now or timezone.now()
    item = _menu_item(menu_item_id)
    menu, canteen = item.menu, item.menu.canteen
    if not canteen.takes_orders:
        raise errors.OrdersNotTaken()
    if not item.set_meal.is_active:
        raise errors.MenuItemNotFound(field="menu_item_id")
    if not menu.ordering_open(now):
        raise errors.OrderingClosed()
    price = _price(
        resident=resident,
        item=item,
        tier_id=tier_id,
        full_price=full_price,
        already_subsidised=_subsidised_today(resident, menu.day),
        holiday=_holiday(menu.day),
    )
    with transaction.atomic(durable=True):
        meal = _insert_meal(
            canteen=canteen,
            item=item,
            day=menu.day,
            resident=resident,
            channel=Meal.Channel.ORDER,
            status=Meal.Status.ORDERED,
            ordered_at=now,
            **_split(price),
        )
        if not _take_portion(item.pk):
            raise errors.SoldOut(field="menu_item_id")
        audit_log(
            "meals.order.placed",
            actor=resident.user,
            obj=meal,
            data={"item": item.pk, "eater_fen": price.eater_fen, "subsidy_fen": price.subsidy_fen},
        )
    meal.reason = price.reason()  # type: ignore[attr-defined]
    return meal


def meal_order_cancel(*, resident: Resident, meal_id: int, now: dt.datetime | None = None) -> Meal:
    """Until serving starts, an order can be cancelled: the portion goes back, and so does the day's
    subsidised meal."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        meal = (
            Meal.objects.select_for_update(of=("self",))
            .select_related("item__menu")
            .filter(pk=meal_id, resident=resident)
            .first()
        )
        if meal is None:
            raise errors.MealNotFound(field="meal_id")
        if not meal.cancellable(now):
            raise errors.NotCancellable()
        Meal.objects.filter(pk=meal.pk).update(
            status=Meal.Status.CANCELLED, closed_at=now, close_reason="cancelled by the resident"
        )
        _give_back_portion(meal.item_id)
        audit_log("meals.order.cancelled", actor=resident.user, obj=meal)
    meal.refresh_from_db()
    return meal


# --- serving at the counter ------------------------------------------------------------------------


def _write_entries(meal: Meal, *, kind: str, now: dt.datetime) -> None:
    canteen = meal.canteen
    sign = 1 if kind == Entry.Kind.SERVED else -1
    prefix = "meal" if kind == Entry.Kind.SERVED else "refund"
    rows = []
    for layer, amount in meal.parts().items():
        if amount:
            rows.append(
                Entry(
                    meal=meal,
                    canteen=canteen,
                    operator_id=canteen.operator_id,
                    street_id=canteen.center.community.street_id,
                    # A refund counts on the day it is made: a claim already filed stays as it was.
                    day=meal.day if kind == Entry.Kind.SERVED else timezone.localdate(now),
                    group=meal.group,
                    kind=kind,
                    layer=layer,
                    amount_fen=sign * amount,
                    key=f"{prefix}:{meal.pk}:{layer}",
                    created_at=now,
                )
            )
    Entry.objects.bulk_create(rows)


def current_menu(canteen: Canteen, now: dt.datetime) -> Menu | None:
    """The canteen's menu whose serving window holds ``now``."""
    local = timezone.localtime(now)
    return (
        Menu.objects.filter(
            canteen=canteen, day=local.date(), serves_from__lte=local.time(), serves_until__gt=local.time()
        )
        .order_by("serves_from")
        .first()
    )


def _serve(
    *,
    canteen: Canteen,
    resident: Resident | None,
    menu_item_id: int | None,
    tier_id: int | None,
    full_price: bool,
    device: Device | None,
    staff: User | None,
    key: str,
    now: dt.datetime,
) -> Meal:
    """Inside the caller's transaction: serve the eater's order, or sell a set meal."""
    menu = current_menu(canteen, now)
    if menu is None:
        window = (
            Menu.objects.filter(canteen=canteen, day=timezone.localdate(now)).order_by("serves_from").first()
        )
        if window is None:
            raise errors.MenuNotFound()
        raise errors.OutsideServingHours(
            start=window.serves_from.strftime("%H:%M"), end=window.serves_until.strftime("%H:%M")
        )
    order = None
    if resident is not None:
        order = (
            Meal.objects.select_for_update(of=("self",))
            .filter(resident=resident, item__menu=menu, status=Meal.Status.ORDERED)
            .first()
        )
    if order is not None and (menu_item_id is None or menu_item_id == order.item_id):
        Meal.objects.filter(pk=order.pk).update(
            status=Meal.Status.SERVED, served_at=now, device=device, staff=staff, request_key=key
        )
        order.status, order.served_at = Meal.Status.SERVED, now
        order.canteen = canteen
        _write_entries(order, kind=Entry.Kind.SERVED, now=now)
        audit_log(
            "meals.order.served", actor=staff, device=device, obj=order, data={"eater_fen": order.eater_fen}
        )
        return order
    if menu_item_id is None:
        raise errors.NoOrderHere(field="menu_item_id")
    item = MenuItem.objects.select_related("set_meal", "menu").filter(pk=menu_item_id, menu=menu).first()
    if item is None:
        raise errors.MenuItemNotFound(field="menu_item_id")
    item.menu.canteen = canteen
    price = _price(
        resident=resident,
        item=item,
        tier_id=tier_id,
        full_price=full_price,
        already_subsidised=_subsidised_today(resident, menu.day),
        holiday=_holiday(menu.day),
    )
    meal = _insert_meal(
        canteen=canteen,
        item=item,
        day=menu.day,
        resident=resident,
        channel=Meal.Channel.COUNTER if resident is not None else Meal.Channel.WALK_IN,
        status=Meal.Status.SERVED,
        served_at=now,
        device=device,
        staff=staff,
        request_key=key if device is not None else "",
        **_split(price),
    )
    if not _take_portion(item.pk):
        raise errors.SoldOut(field="menu_item_id")
    meal.canteen = canteen
    _write_entries(meal, kind=Entry.Kind.SERVED, now=now)
    audit_log(
        "meals.served",
        actor=staff,
        device=device,
        obj=meal,
        data={"item": item.pk, "eater_fen": price.eater_fen, "subsidy_fen": price.subsidy_fen},
    )
    meal.reason = price.reason()  # type: ignore[attr-defined]
    return meal


def serving_answer(meal: Meal) -> dict[str, Any]:
    """What a terminal (or the counter page) is told: hand over this, take this much."""
    return {
        "meal_id": meal.pk,
        "status": meal.status,
        "channel": meal.channel,
        "set_meal": meal.item.set_meal.name,
        "eater": meal.resident.masked_name if meal.resident_id and meal.resident else "",
        "group": meal.group,
        "list_fen": meal.list_fen,
        "pay_fen": meal.eater_fen,
        "subsidy_fen": meal.subsidy_fen,
        "subsidised": meal.subsidised,
        "reason": getattr(meal, "reason", ""),
    }


def canteen_of_device(device: Device, canteen_id: int | None = None) -> Canteen:
    if device.kind != Device.Kind.CANTEEN_TERMINAL:
        raise errors.DeviceNotAllowed()
    qs = Canteen.objects.select_related("center__community__street", "operator").filter(
        center_id=device.center_id, is_active=True
    )
    if canteen_id is not None:
        qs = qs.filter(pk=canteen_id)
    canteen = qs.order_by("pk").first()
    if canteen is None:
        raise errors.CanteenNotFound(field="canteen_id")
    return canteen


def serving_at_terminal(
    *,
    device: Device,
    key: str,
    token: str | None,
    menu_item_id: int | None,
    canteen_id: int | None = None,
    tier_id: int | None = None,
    full_price: bool = False,
    now: dt.datetime | None = None,
) -> tuple[int, dict[str, Any], bool]:
    """A canteen terminal serves a meal: with the eater's pass (their order, or a set meal at their
    price) or to a walk-in at list price. Returns ``(status, answer, replayed)``; the same key
    answers the same and serves nothing more."""
    canteen = canteen_of_device(device, canteen_id)
    now = now or timezone.now()
    token = (token or "").strip() or None
    payload = {
        "canteen": canteen.pk,
        "token": token,
        "menu_item_id": menu_item_id,
        "tier_id": tier_id,
        "full_price": full_price,
    }

    def action() -> tuple[int, dict[str, Any]]:
        resident = None
        if token is not None:
            resident = resident_pass_verify(token=token, device=device, purpose="meals")
        meal = _serve(
            canteen=canteen,
            resident=resident,
            menu_item_id=menu_item_id,
            tier_id=tier_id,
            full_price=full_price,
            device=device,
            staff=None,
            key=key,
            now=now,
        )
        return 201, serving_answer(meal)

    return run_idempotent(
        scope=f"canteen:{device.pk}", key=key, payload=payload, action=action, keep_refusals=True
    )


def serving_at_counter(
    *,
    scope: StaffScope,
    staff: User,
    canteen_id: int,
    key: str,
    token: str | None,
    menu_item_id: int | None,
    tier_id: int | None = None,
    full_price: bool = False,
    now: dt.datetime | None = None,
) -> Meal:
    """The counter page: staff scan the pass (or sell to a walk-in) and confirm. The form's key
    makes a double click serve once."""
    canteen = _staff_canteen(scope, canteen_id)
    now = now or timezone.now()
    token = (token or "").strip() or None
    payload = {"token": token, "menu_item_id": menu_item_id, "tier_id": tier_id, "full_price": full_price}

    def action() -> tuple[int, dict[str, Any]]:
        resident = None
        if token is not None:
            resident = resident_pass_verify(token=token, staff=staff, purpose="meals")
        meal = _serve(
            canteen=canteen,
            resident=resident,
            menu_item_id=menu_item_id,
            tier_id=tier_id,
            full_price=full_price,
            device=None,
            staff=staff,
            key=key,
            now=now,
        )
        return 201, {"meal_id": meal.pk, "reason": getattr(meal, "reason", "")}

    with transaction.atomic(durable=True):
        _status, body, _replayed = run_idempotent(
            scope=f"counter:{staff.pk}:{canteen.pk}", key=key, payload=payload, action=action
        )
    meal = Meal.objects.select_related("item__set_meal", "resident").get(pk=body["meal_id"])
    meal.reason = body.get("reason", "")  # type: ignore[attr-defined]
    return meal


def meal_refund(
    *, scope: StaffScope, actor: User, meal_id: int, reason: str, now: dt.datetime | None = None
) -> Meal:
    """A served meal is refunded: its entries are reversed by negative ones (the ledger keeps both)."""
    now = now or timezone.now()
    reason = " ".join((reason or "").split())[:200]
    if not reason:
        raise errors.ReasonRequired(field="reason")
    found = Meal.objects.filter(pk=meal_id).values_list("canteen_id", flat=True).first()
    if found is None:
        raise errors.MealNotFound(field="meal_id")
    try:
        canteen = _staff_canteen(scope, found)
    except errors.CanteenNotFound:
        raise errors.MealNotFound(field="meal_id") from None
    with transaction.atomic(durable=True):
        meal = Meal.objects.select_for_update().filter(pk=meal_id).first()
        if meal is None or meal.status != Meal.Status.SERVED:
            raise errors.NotRefundable()
        Meal.objects.filter(pk=meal.pk).update(
            status=Meal.Status.REFUNDED, closed_at=now, close_reason=reason
        )
        meal.canteen = canteen
        _write_entries(meal, kind=Entry.Kind.REFUND, now=now)
        audit_log("meals.refunded", actor=actor, obj=meal, data={"reason": reason})
    meal.status = Meal.Status.REFUNDED
    return meal


# --- budgets ----------------------------------------------------------------------------------


def budget_set(
    *, scope: StaffScope, actor: User, year: int, layer: str, amount_fen: int, street_id: int | None = None
) -> Budget:
    if not scope.district:
        raise errors.DistrictOnly()
    if layer not in LAYERS or not isinstance(year, int) or not 2000 <= year <= 2100:
        raise errors.BudgetInvalid(field="layer")
    if not isinstance(amount_fen, int) or isinstance(amount_fen, bool) or not 0 <= amount_fen <= 10**13:
        raise errors.BudgetInvalid(field="amount_fen")
    street = None
    if layer == Layer.STREET:
        street = Street.objects.filter(pk=street_id).first() if street_id is not None else None
        if street is None:
            raise errors.BudgetInvalid(field="street_id")
    elif street_id is not None:
        raise errors.BudgetInvalid(field="street_id")
    with transaction.atomic(durable=True):
        budget, _created = Budget.objects.select_for_update().get_or_create(
            year=year, layer=layer, street=street, defaults={"amount_fen": amount_fen}
        )
        if budget.amount_fen != amount_fen:
            budget.amount_fen = amount_fen
            budget.save(update_fields=["amount_fen", "updated_at"])
        audit_log("meals.budget.set", actor=actor, obj=budget, data={"amount_fen": amount_fen})
    return budget


# --- the clock -----------------------------------------------------------------------------------


def meals_tick(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Orders not collected when serving ended become "not collected" (the portion was cooked; the
    day's subsidised meal is free again); riders whose credential ends within two weeks are
    reminded once."""
    now = now or timezone.now()
    local = timezone.localtime(now)
    no_shows = 0
    ended = Meal.objects.filter(status=Meal.Status.ORDERED).filter(
        Q(day__lt=local.date()) | Q(day=local.date(), item__menu__serves_until__lte=local.time())
    )
    for meal_id in ended.values_list("pk", flat=True)[:5000]:
        with transaction.atomic(durable=True):
            changed = Meal.objects.filter(pk=meal_id, status=Meal.Status.ORDERED).update(
                status=Meal.Status.NO_SHOW, closed_at=now, close_reason="not collected"
            )
            if changed:
                no_shows += 1
                audit_log("meals.order.not_collected", obj=Meal(pk=meal_id))
    reminded = verification_reminders_send(now=now)
    return {"not_collected": no_shows, "reminded": reminded}


def verification_reminders_send(*, now: dt.datetime | None = None) -> int:
    now = now or timezone.now()
    today = timezone.localdate(now)
    due = EligibilityVerification.objects.select_related("resident__user").filter(
        kind=EligibilityVerification.Kind.RIDER,
        revoked_at__isnull=True,
        expiry_reminded_at__isnull=True,
        valid_until__gte=today,
        valid_until__lte=today + dt.timedelta(days=REMINDER_DAYS),
    )
    sent = 0
    for verification in due[:1000]:
        with transaction.atomic(durable=True):
            changed = EligibilityVerification.objects.filter(
                pk=verification.pk, expiry_reminded_at__isnull=True
            ).update(expiry_reminded_at=now)
            if not changed:
                continue
            notice_send(
                user=verification.resident.user,
                kind="meals.verification_expiring",
                params={
                    "kind": str(verification.get_kind_display()),
                    "platform": verification.platform,
                    "until": verification.valid_until.isoformat() if verification.valid_until else "",
                },
                link="/meals/",
                sms=True,
            )
            audit_log("meals.verification.reminded", obj=verification)
            sent += 1
    return sent
