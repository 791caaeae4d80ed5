"""Meals API: canteens and menus for everyone, a resident's prices (tier and reason), orders and
history, canteen terminals' signed and idempotent servings, and staff endpoints for set meals,
tiers, menus, meals, refunds, claims, figures and budgets."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from ninja import Field, Header, Router, Schema, Status
from pydantic import StrictBool, StrictInt

from livingroom.core.permissions import staff_scope_of
from livingroom.core.schemas import BodyId, DbId, ErrorOut, LocalTime
from livingroom.meals import errors, selectors, services
from livingroom.meals.models import MAX_PORTIONS, Canteen, Meal, Menu, SetMeal, Tier
from livingroom.meals.pricing import Price
from livingroom.people.auth import acting_user
from livingroom.people.errors import ProfileIncomplete
from livingroom.people.models import Resident
from livingroom.people.selectors import resident_of
from livingroom.places.devices import device_of

public_router = Router(tags=["meals"])
resident_router = Router(tags=["meals"])
device_router = Router(tags=["devices: canteen"])
staff_router = Router(tags=["staff: meals"])

IDEMPOTENCY_KEY = Header(..., alias="Idempotency-Key", max_length=100)
Fen = StrictInt
MAX_DAYS_AHEAD = 60


def _resident(request: HttpRequest) -> Resident:
    resident = resident_of(acting_user(request))
    if resident is None:
        raise ProfileIncomplete()
    return resident


def _day(value: dt.date | None) -> dt.date:
    today = timezone.localdate()
    day = value or today
    if abs((day - today).days) > 366:
        raise errors.MenuNotFound(field="date")
    return day


# --- schemas ------------------------------------------------------------------------------------


class CanteenOut(Schema):
    id: int
    name: str
    description: str
    center_id: int
    center: str
    community: str
    street: str
    address: str
    operator: str
    takes_orders: bool


def canteen_out(c: Canteen) -> CanteenOut:
    return CanteenOut(
        id=c.pk,
        name=c.name,
        description=c.description,
        center_id=c.center_id,
        center=c.center.name,
        community=c.center.community.name,
        street=c.center.community.street.name,
        address=c.center.address,
        operator=c.operator_label,
        takes_orders=c.takes_orders,
    )


class ItemOut(Schema):
    menu_item_id: int
    set_meal_id: int
    name: str
    description: str
    list_fen: int
    portions: int
    left: int
    has_photo: bool


class MenuOut(Schema):
    id: int
    day: dt.date
    period: str
    period_label: str
    serves_from: str
    serves_until: str
    note: str
    items: list[ItemOut]


def item_out(item: Any) -> ItemOut:
    return ItemOut(
        menu_item_id=item.pk,
        set_meal_id=item.set_meal_id,
        name=item.set_meal.name,
        description=item.set_meal.description,
        list_fen=item.set_meal.list_price_fen,
        portions=item.portions,
        left=item.left,
        has_photo=bool(getattr(item, "has_photo", False)),
    )


def menu_out(menu: Menu) -> MenuOut:
    return MenuOut(
        id=menu.pk,
        day=menu.day,
        period=menu.period,
        period_label=str(menu.get_period_display()),
        serves_from=menu.serves_from.strftime("%H:%M"),
        serves_until=menu.serves_until.strftime("%H:%M"),
        note=menu.note,
        items=[item_out(i) for i in menu.items.all()],
    )


class DayMenuOut(Schema):
    canteen: CanteenOut
    day: dt.date
    holiday: bool
    menus: list[MenuOut]


class PriceOut(Schema):
    menu_item_id: int
    name: str
    list_fen: int
    pay_fen: int
    subsidy_fen: int
    city_fen: int
    district_fen: int
    street_fen: int
    subsidised: bool
    tier_id: int | None
    tier: str
    group: str
    reason: str
    left: int


def price_out(item: Any, price: Price) -> PriceOut:
    return PriceOut(
        menu_item_id=item.pk,
        name=item.set_meal.name,
        list_fen=price.list_fen,
        pay_fen=price.eater_fen,
        subsidy_fen=price.subsidy_fen,
        city_fen=price.city_fen,
        district_fen=price.district_fen,
        street_fen=price.street_fen,
        subsidised=price.subsidised,
        tier_id=price.tier.pk if price.tier else None,
        tier=price.tier.name if price.tier else "",
        group=price.group,
        reason=price.reason(),
        left=item.left,
    )


class MealOut(Schema):
    id: int
    canteen_id: int
    canteen: str
    day: dt.date
    period: str
    serves_from: str
    serves_until: str
    set_meal: str
    channel: str
    status: str
    status_label: str
    group: str
    list_fen: int
    pay_fen: int
    subsidy_fen: int
    subsidised: bool
    ordered_at: dt.datetime | None
    served_at: dt.datetime | None


def meal_out(m: Meal) -> MealOut:
    menu = m.item.menu
    return MealOut(
        id=m.pk,
        canteen_id=m.canteen_id,
        canteen=m.canteen.name,
        day=m.day,
        period=menu.period,
        serves_from=menu.serves_from.strftime("%H:%M"),
        serves_until=menu.serves_until.strftime("%H:%M"),
        set_meal=m.item.set_meal.name,
        channel=m.channel,
        status=m.status,
        status_label=str(m.get_status_display()),
        group=m.group,
        list_fen=m.list_fen,
        pay_fen=m.eater_fen,
        subsidy_fen=m.subsidy_fen,
        subsidised=m.subsidised,
        ordered_at=m.ordered_at,
        served_at=m.served_at,
    )


class MealPriceOut(Schema):
    canteen_id: int
    day: dt.date
    holiday: bool
    subsidised_meals_left: int
    groups: list[str]
    prices: list[PriceOut]
    orders: list[MealOut]


def meal_price_out(p: selectors.PriceList) -> MealPriceOut:
    return MealPriceOut(
        canteen_id=p.canteen.pk,
        day=p.day,
        holiday=p.holiday,
        subsidised_meals_left=p.subsidised_left,
        groups=p.groups,
        prices=[price_out(x.item, x.price) for _menu, items in p.menus for x in items],
        orders=[meal_out(m) for m in p.orders],
    )


# --- public ---------------------------------------------------------------------------------------


@public_router.get(
    "/canteens", response={200: list[CanteenOut], 400: ErrorOut}, summary="Canteens (meal assistance points)"
)
def canteens(request: HttpRequest, center: DbId | None = None) -> list[CanteenOut]:
    return [canteen_out(c) for c in selectors.canteens_public(center_id=center)[:500]]


@public_router.get(
    "/canteens/{canteen_id}/menu",
    response={200: DayMenuOut, 400: ErrorOut, 404: ErrorOut},
    summary="A canteen's menus for a day (today by default), with list prices and portions left",
)
def canteen_menu(request: HttpRequest, canteen_id: DbId, date: dt.date | None = None) -> DayMenuOut:
    canteen = selectors.canteen_public(canteen_id)
    day = _day(date)
    return DayMenuOut(
        canteen=canteen_out(canteen),
        day=day,
        holiday=selectors.is_holiday(day),
        menus=[menu_out(m) for m in selectors.menus_of(canteen, day)],
    )


# --- residents ------------------------------------------------------------------------------------


@resident_router.get(
    "/me/meal-price",
    response={200: MealPriceOut, 400: ErrorOut, 401: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="My price for each set meal at a canteen on a day, with the tier and the reason",
)
def my_meal_price(request: HttpRequest, canteen: DbId, date: dt.date | None = None) -> MealPriceOut:
    found = selectors.canteen_public(canteen)
    return meal_price_out(selectors.price_list(_resident(request), found, _day(date)))


class OrderIn(Schema):
    menu_item_id: BodyId
    tier_id: BodyId | None = None
    full_price: StrictBool = Field(
        False, description="Pay without the subsidy when it cannot be given (already taken today, holiday)."
    )


@resident_router.post(
    "/meal-orders",
    response={201: MealOut, 400: ErrorOut, 401: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Order a set meal ahead, to pick up in the serving window (paid at pick-up)",
)
def order(request: HttpRequest, payload: OrderIn) -> Status[MealOut]:
    meal = services.meal_order(
        resident=_resident(request),
        menu_item_id=payload.menu_item_id,
        tier_id=payload.tier_id,
        full_price=payload.full_price,
    )
    return Status(201, meal_out(selectors.my_meal(meal.resident, meal.pk)))  # type: ignore[arg-type]


@resident_router.delete(
    "/me/meal-orders/{meal_id}",
    response={200: MealOut, 400: ErrorOut, 401: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Cancel my order before serving starts (the portion and the day's subsidy go back)",
)
def cancel_order(request: HttpRequest, meal_id: DbId) -> MealOut:
    resident = _resident(request)
    meal = services.meal_order_cancel(resident=resident, meal_id=meal_id)
    return meal_out(selectors.my_meal(resident, meal.pk))


@resident_router.get(
    "/me/meals", response={200: list[MealOut], 401: ErrorOut, 409: ErrorOut}, summary="My meal history"
)
def my_meals(request: HttpRequest) -> list[MealOut]:
    return [meal_out(m) for m in selectors.my_meals(_resident(request))[:200]]


# --- canteen terminals ------------------------------------------------------------------------------


def _answer(status: int, body: dict[str, Any], replayed: bool) -> HttpResponse:
    response = JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})
    response["Idempotent-Replayed"] = "true" if replayed else "false"
    return response


@device_router.get(
    "/devices/canteen/menu",
    response={200: DayMenuOut, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    summary="Today's menus of this terminal's canteen",
)
def terminal_menu(request: HttpRequest, canteen: DbId | None = None) -> DayMenuOut:
    found = services.canteen_of_device(device_of(request), canteen)
    day = timezone.localdate()
    return DayMenuOut(
        canteen=canteen_out(found),
        day=day,
        holiday=selectors.is_holiday(day),
        menus=[menu_out(m) for m in selectors.menus_of(found, day)],
    )


class LookupIn(Schema):
    token: str = Field(..., min_length=1, max_length=400)
    canteen_id: BodyId | None = None


class LookupOut(Schema):
    resident: str
    groups: list[str]
    subsidised_meals_left: int
    prices: list[PriceOut]
    order: MealOut | None


@device_router.post(
    "/devices/canteen/lookup",
    response={200: LookupOut, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Scan a pass: who it is, their groups, today's subsidised meal left, their prices, their order",
    description="Reads only: the pass is not used up; the serving that follows accepts it once.",
)
def terminal_lookup(request: HttpRequest, payload: LookupIn) -> LookupOut:
    found = services.canteen_of_device(device_of(request), payload.canteen_id)
    preview = selectors.counter_preview(found, payload.token)
    prices = meal_price_out(preview.prices)
    return LookupOut(
        resident=preview.resident.masked_name,
        groups=prices.groups,
        subsidised_meals_left=prices.subsidised_meals_left,
        prices=prices.prices,
        order=meal_out(preview.order) if preview.order else None,
    )


class ServingIn(Schema):
    token: str | None = Field(None, max_length=400, description="The eater's pass; none for a walk-in sale.")
    menu_item_id: BodyId | None = Field(None, description="What to sell; none to serve the eater's order.")
    tier_id: BodyId | None = None
    full_price: StrictBool = False
    canteen_id: BodyId | None = None


class ServingOut(Schema):
    meal_id: int
    status: str
    channel: str
    set_meal: str
    eater: str
    group: str
    list_fen: int
    pay_fen: int
    subsidy_fen: int
    subsidised: bool
    reason: str


@device_router.post(
    "/devices/canteen/servings",
    response={201: ServingOut, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="A signed canteen terminal serves a meal (idempotent per key)",
    description=(
        "Signed by the device (X-Device-Key, X-Timestamp, X-Nonce, X-Signature) and carrying an "
        "Idempotency-Key. With the eater's pass: their order for the meal being served, or the set meal "
        "named at their price; without a pass: a walk-in at the list price. A portion is taken, the meal "
        "and its ledger entries written in one transaction. A retry with the same key gets the same answer "
        "(Idempotent-Replayed: true) and serves nothing more."
    ),
)
def terminal_serve(request: HttpRequest, payload: ServingIn, key: str = IDEMPOTENCY_KEY) -> HttpResponse:
    status, body, replayed = services.serving_at_terminal(
        device=device_of(request),
        key=key,
        token=payload.token,
        menu_item_id=payload.menu_item_id,
        canteen_id=payload.canteen_id,
        tier_id=payload.tier_id,
        full_price=payload.full_price,
    )
    return _answer(status, body, replayed)


# --- staff --------------------------------------------------------------------------------------------


class StaffCanteenOut(CanteenOut):
    is_active: bool
    may_operate: bool
    space_id: int


def staff_canteen_out(request: HttpRequest, c: Canteen) -> StaffCanteenOut:
    return StaffCanteenOut(
        **canteen_out(c).model_dump(),
        is_active=c.is_active,
        may_operate=selectors.may_operate(staff_scope_of(request), c),
        space_id=c.space_id,
    )


@staff_router.get("/canteens", response={200: list[StaffCanteenOut]}, summary="Canteens in my scope")
def staff_canteens(request: HttpRequest) -> list[StaffCanteenOut]:
    return [
        staff_canteen_out(request, c) for c in selectors.canteens_for_staff(staff_scope_of(request))[:1000]
    ]


class CanteenIn(Schema):
    space_id: BodyId
    name: str = Field(..., min_length=1, max_length=100)
    operator_id: BodyId | None = None
    description: str = Field("", max_length=2000)
    takes_orders: StrictBool = True


@staff_router.post(
    "/canteens",
    response={201: StaffCanteenOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    summary="Open a canteen in a space of kind canteen (center staff)",
)
def staff_create_canteen(request: HttpRequest, payload: CanteenIn) -> Status[StaffCanteenOut]:
    canteen = services.canteen_create(
        scope=staff_scope_of(request),
        actor=acting_user(request),
        space_id=payload.space_id,
        name=payload.name,
        operator_id=payload.operator_id,
        description=payload.description,
        takes_orders=payload.takes_orders,
    )
    found = selectors.canteen_for_staff(staff_scope_of(request), canteen.pk)
    return Status(201, staff_canteen_out(request, found))


class CanteenPatch(Schema):
    takes_orders: StrictBool | None = None
    is_active: StrictBool | None = None


@staff_router.patch(
    "/canteens/{canteen_id}",
    response={200: StaffCanteenOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    summary="Take orders ahead or not; open or close a canteen",
)
def staff_update_canteen(request: HttpRequest, canteen_id: DbId, payload: CanteenPatch) -> StaffCanteenOut:
    scope = staff_scope_of(request)
    services.canteen_update(
        scope=scope,
        actor=acting_user(request),
        canteen_id=canteen_id,
        takes_orders=payload.takes_orders,
        is_active=payload.is_active,
    )
    return staff_canteen_out(request, selectors.canteen_for_staff(scope, canteen_id))


class SetMealOut(Schema):
    id: int
    canteen_id: int
    name: str
    description: str
    cost_fen: int
    list_price_fen: int
    is_active: bool


def set_meal_out(m: SetMeal) -> SetMealOut:
    return SetMealOut(
        id=m.pk,
        canteen_id=m.canteen_id,
        name=m.name,
        description=m.description,
        cost_fen=m.cost_fen,
        list_price_fen=m.list_price_fen,
        is_active=m.is_active,
    )


class SetMealIn(Schema):
    name: str = Field(..., min_length=1, max_length=60)
    description: str = Field("", max_length=300)
    cost_fen: Fen
    list_price_fen: Fen
    is_active: StrictBool = True


@staff_router.get(
    "/canteens/{canteen_id}/set-meals",
    response={200: list[SetMealOut], 400: ErrorOut, 404: ErrorOut},
    summary="A canteen's set meals",
)
def staff_set_meals(request: HttpRequest, canteen_id: DbId) -> list[SetMealOut]:
    canteen = selectors.canteen_for_staff(staff_scope_of(request), canteen_id)
    return [set_meal_out(m) for m in selectors.set_meals_of(canteen)]


def _draft(payload: SetMealIn) -> services.SetMealDraft:
    return services.SetMealDraft(
        name=payload.name,
        description=payload.description,
        cost_fen=payload.cost_fen,
        list_price_fen=payload.list_price_fen,
        is_active=payload.is_active,
    )


@staff_router.post(
    "/canteens/{canteen_id}/set-meals",
    response={201: SetMealOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Add a set meal (cost and list price in fen)",
)
def staff_create_set_meal(request: HttpRequest, canteen_id: DbId, payload: SetMealIn) -> Status[SetMealOut]:
    meal = services.set_meal_create(
        scope=staff_scope_of(request),
        actor=acting_user(request),
        canteen_id=canteen_id,
        draft=_draft(payload),
    )
    return Status(201, set_meal_out(meal))


@staff_router.put(
    "/set-meals/{set_meal_id}",
    response={200: SetMealOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Change a set meal (a list price below a tier's split is refused)",
)
def staff_update_set_meal(request: HttpRequest, set_meal_id: DbId, payload: SetMealIn) -> SetMealOut:
    meal = services.set_meal_update(
        scope=staff_scope_of(request),
        actor=acting_user(request),
        set_meal_id=set_meal_id,
        draft=_draft(payload),
    )
    return set_meal_out(meal)


class PriceLineIO(Schema):
    set_meal_id: BodyId
    eater_fen: Fen
    city_fen: Fen = 0
    district_fen: Fen = 0
    street_fen: Fen = 0


class TierOut(Schema):
    id: int
    canteen_id: int
    name: str
    group: str
    group_label: str
    residency: str
    residency_label: str
    is_active: bool
    prices: list[PriceLineIO]


def tier_out(t: Tier) -> TierOut:
    return TierOut(
        id=t.pk,
        canteen_id=t.canteen_id,
        name=t.name,
        group=t.group,
        group_label=str(t.get_group_display()),
        residency=t.residency,
        residency_label=str(t.get_residency_display()),
        is_active=t.is_active,
        prices=[
            PriceLineIO(
                set_meal_id=p.set_meal_id,
                eater_fen=p.eater_fen,
                city_fen=p.city_fen,
                district_fen=p.district_fen,
                street_fen=p.street_fen,
            )
            for p in t.prices.all()
        ],
    )


class TierIn(Schema):
    name: str = Field(..., min_length=1, max_length=60)
    group: Literal["rider", "elderly_60", "elderly_70", "elderly_80", "disabled", "low_income", "everyone"]
    residency: Literal["anywhere", "street", "community"] = "anywhere"
    prices: list[PriceLineIO] = Field(..., min_length=1, max_length=50)


class TierPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=60)
    prices: list[PriceLineIO] | None = Field(None, min_length=1, max_length=50)


def _lines(prices: list[PriceLineIO]) -> list[services.PriceLine]:
    return [services.PriceLine(**p.model_dump()) for p in prices]


@staff_router.get(
    "/canteens/{canteen_id}/tiers",
    response={200: list[TierOut], 400: ErrorOut, 404: ErrorOut},
    summary="A canteen's tiers",
)
def staff_tiers(request: HttpRequest, canteen_id: DbId) -> list[TierOut]:
    canteen = selectors.canteen_for_staff(staff_scope_of(request), canteen_id)
    return [tier_out(t) for t in selectors.tiers_of(canteen)]


@staff_router.post(
    "/canteens/{canteen_id}/tiers",
    response={201: TierOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Define an eligibility tier: group, residency, what the eater and each funder pay per set meal",
)
def staff_create_tier(request: HttpRequest, canteen_id: DbId, payload: TierIn) -> Status[TierOut]:
    tier = services.tier_create(
        scope=staff_scope_of(request),
        actor=acting_user(request),
        canteen_id=canteen_id,
        name=payload.name,
        group=payload.group,
        residency=payload.residency,
        prices=_lines(payload.prices),
    )
    return Status(201, tier_out(selectors.tiers_of(tier.canteen).get(pk=tier.pk)))


@staff_router.put(
    "/tiers/{tier_id}",
    response={200: TierOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    summary="Rename a tier or replace its prices (meals already taken keep their split)",
)
def staff_update_tier(request: HttpRequest, tier_id: DbId, payload: TierPatch) -> TierOut:
    tier = services.tier_update(
        scope=staff_scope_of(request),
        actor=acting_user(request),
        tier_id=tier_id,
        name=payload.name,
        prices=_lines(payload.prices) if payload.prices is not None else None,
    )
    return tier_out(selectors.tiers_of(tier.canteen).get(pk=tier.pk))


@staff_router.delete(
    "/tiers/{tier_id}",
    response={200: TierOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    summary="Retire a tier (it no longer prices meals; past meals keep it)",
)
def staff_retire_tier(request: HttpRequest, tier_id: DbId) -> TierOut:
    tier = services.tier_retire(scope=staff_scope_of(request), actor=acting_user(request), tier_id=tier_id)
    return tier_out(selectors.tiers_of(tier.canteen, active_only=False).get(pk=tier.pk))


class MenuLineIn(Schema):
    set_meal_id: BodyId
    portions: StrictInt = Field(..., ge=0, le=MAX_PORTIONS)


class MenuIn(Schema):
    day: dt.date
    period: Literal["breakfast", "lunch", "dinner"] = "lunch"
    serves_from: LocalTime
    serves_until: LocalTime
    note: str = Field("", max_length=200)
    items: list[MenuLineIn] = Field(..., min_length=1, max_length=30)


@staff_router.put(
    "/canteens/{canteen_id}/menus",
    response={200: MenuOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Publish or change a day's menu: set meals, portions, serving hours",
)
def staff_publish_menu(request: HttpRequest, canteen_id: DbId, payload: MenuIn) -> MenuOut:
    menu = services.menu_publish(
        scope=staff_scope_of(request),
        actor=acting_user(request),
        canteen_id=canteen_id,
        day=payload.day,
        period=payload.period,
        serves_from=payload.serves_from,
        serves_until=payload.serves_until,
        note=payload.note,
        items=[services.MenuLine(set_meal_id=i.set_meal_id, portions=i.portions) for i in payload.items],
    )
    found = next(m for m in selectors.menus_of(menu.canteen, menu.day) if m.pk == menu.pk)
    return menu_out(found)


class StaffMealOut(MealOut):
    eater: str
    device: bool
    reason: str = ""


def staff_meal_out(m: Meal) -> StaffMealOut:
    return StaffMealOut(
        **meal_out(m).model_dump(),
        eater=m.resident.masked_name if m.resident_id and m.resident else "",
        device=m.device_id is not None,
    )


@staff_router.get(
    "/canteens/{canteen_id}/meals",
    response={200: list[StaffMealOut], 400: ErrorOut, 404: ErrorOut},
    summary="A canteen's meals on a day (orders, servings, cancellations)",
)
def staff_meals(request: HttpRequest, canteen_id: DbId, date: dt.date | None = None) -> list[StaffMealOut]:
    canteen = selectors.canteen_for_staff(staff_scope_of(request), canteen_id)
    return [staff_meal_out(m) for m in selectors.meals_at(canteen, _day(date))[:2000]]


class RefundIn(Schema):
    reason: str = Field(..., min_length=1, max_length=200)


@staff_router.post(
    "/meals/{meal_id}/refund",
    response={200: StaffMealOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Refund a served meal: compensating ledger entries, the original ones stay",
)
def staff_refund(request: HttpRequest, meal_id: DbId, payload: RefundIn) -> StaffMealOut:
    scope = staff_scope_of(request)
    services.meal_refund(scope=scope, actor=acting_user(request), meal_id=meal_id, reason=payload.reason)
    return staff_meal_out(selectors.meal_for_staff(scope, meal_id))


class ClaimLineOut(Schema):
    operator: str
    canteen_id: int
    canteen: str
    funder: str
    street: str
    meals: int
    amount_fen: int


class ClaimOut(Schema):
    period: str
    start: dt.date
    end: dt.date
    lines: list[ClaimLineOut]
    totals: dict[str, int]


@staff_router.get(
    "/meals/claims",
    response={200: ClaimOut, 400: ErrorOut, 404: ErrorOut},
    summary="Subsidy claims for a month (2026-11) or quarter (2026-Q4): per operator, canteen and funder",
)
def staff_claims(request: HttpRequest, period: str, canteen: DbId | None = None) -> ClaimOut:
    found = selectors.claim_period(period)
    scope = staff_scope_of(request)
    if canteen is not None:
        selectors.canteen_for_staff(scope, canteen)
    lines = selectors.claim_lines(scope, found, canteen_id=canteen)
    return ClaimOut(
        period=found.label,
        start=found.start,
        end=found.end - dt.timedelta(days=1),
        lines=[ClaimLineOut(**line.__dict__) for line in lines],
        totals=selectors.claim_totals(lines),
    )


class GroupFigureOut(Schema):
    group: str
    meals: int
    eater_fen: int
    subsidy_fen: int


class CanteenFigureOut(Schema):
    canteen_id: int
    canteen: str
    center: str
    operator: str
    meals: int
    subsidised: int
    eater_fen: int
    subsidy_fen: int


class BudgetFigureOut(Schema):
    layer: str
    street: str
    budget_fen: int | None
    spent_fen: int


class FiguresOut(Schema):
    period: str
    by_group: list[GroupFigureOut]
    by_canteen: list[CanteenFigureOut]
    budgets: list[BudgetFigureOut]


@staff_router.get(
    "/meals/figures",
    response={200: FiguresOut, 400: ErrorOut},
    summary="Meals served by group and by canteen for a period; the year's subsidy spent against budget "
    "(district staff)",
)
def staff_figures(request: HttpRequest, period: str) -> FiguresOut:
    found = selectors.claim_period(period)
    scope = staff_scope_of(request)
    return FiguresOut(
        period=found.label,
        by_group=[GroupFigureOut(**f.__dict__) for f in selectors.figures_by_group(scope, found)],
        by_canteen=[CanteenFigureOut(**f.__dict__) for f in selectors.figures_by_canteen(scope, found)],
        budgets=[BudgetFigureOut(**f.__dict__) for f in selectors.budget_figures(scope, found.start.year)]
        if scope.district
        else [],
    )


class BudgetIn(Schema):
    year: StrictInt = Field(..., ge=2000, le=2100)
    layer: Literal["city", "district", "street"]
    street_id: BodyId | None = None
    amount_fen: StrictInt = Field(..., ge=0, le=10**13)


class BudgetOut(Schema):
    year: int
    layer: str
    street_id: int | None
    amount_fen: int


@staff_router.put(
    "/meals/budgets",
    response={200: BudgetOut, 400: ErrorOut, 403: ErrorOut},
    summary="Set a funder's subsidy budget for a year (district staff)",
)
def staff_budget(request: HttpRequest, payload: BudgetIn) -> BudgetOut:
    budget = services.budget_set(
        scope=staff_scope_of(request),
        actor=acting_user(request),
        year=payload.year,
        layer=payload.layer,
        street_id=payload.street_id,
        amount_fen=payload.amount_fen,
    )
    return BudgetOut(
        year=budget.year, layer=budget.layer, street_id=budget.street_id, amount_fen=budget.amount_fen
    )
