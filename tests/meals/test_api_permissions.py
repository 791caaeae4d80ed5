"""Who may call which meals endpoint, for every role, across communities.

The world (``meals_world`` plus a third canteen): sub-district 西乡 holds 固戍 (c1) and 龙珠 (c2),
新安 holds 宝民 (c3); each community's center ``t`` (0, 1, 2) has a canteen ``canteens[t]``: 固戍's
run by the social enterprise 福中福 (its staff: ``operator``), 龙珠's and 宝民's by the center. Each
canteen has the two set meals (吃得饱 ¥18 ``set_meals[t]``, 吃得好 ¥25), the rider tier
(``tiers[t]``) and the elderly tiers, today's lunch 11:00–13:30 (吃得饱 ``items[t]``) and
tomorrow's lunch. The rider (``resident``, of 固戍) ordered tomorrow's lunch at each canteen
(``orders[t]``: subsidised at 固戍, full price at the others); a 72-year-old of each community was
served today's lunch at their canteen's counter (``served[t]``: ¥3 city, ¥2 district subsidy).
``other_resident`` is the verified rider of 宝民. Each center has a spare space of kind canteen
(``spaces[t]``). A canteen terminal and a kiosk (a device of another kind) stand in 固戍's center;
``other_device``, a canteen terminal of 宝民's center (another sub-district), plays the terminal's
rows and two rows it has no business with.

Staff see (404 otherwise): district all; the street official 固戍 and 龙珠; the community worker
固戍; the other community's worker 宝民; 龙珠's center staff 龙珠; the operator's staff their own
canteen (固戍); the partner organisation working at 宝民's center nothing (宝民's canteen is the
center's own). Only those who run a canteen (the center's desk, the operator's staff) change it;
the others who see it get 403 ``not_canteen_operator``. Budgets are the district's (403
``district_only``).

The clock stands at 12:00 today (inside lunch) for every call. Every refusal runs inside
``unchanged()``: no row written, no row changed. A guard test fails when the OpenAPI schema gains
a meals operation this table does not cover.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from livingroom.core import signing
from livingroom.core.models import IdempotencyRecord
from livingroom.meals import services
from livingroom.meals.models import Budget, Canteen, Entry, Meal, Menu, MenuItem, SetMeal, Tier, TierPrice
from livingroom.meals.services import MenuLine
from livingroom.people.models import PassUse, Resident
from livingroom.people.scopes import staff_scope
from livingroom.places.models import Device, Space
from tests import factories as f
from tests.booking.conftest import DeviceApi
from tests.conftest import Api, resident_api, staff_api
from tests.invariants import snapshot
from tests.meals.conftest import LUNCH, MealsWorld, _set_meals, _tiers, at, elderly, pass_of
from tests.openapi import (
    OTHER_DEVICE,
    Matrix,
    Moved,
    Page,
    assert_table_covers,
    cells,
    console,
    open_page,
    page_browser,
    page_key,
    page_row,
    param_cells,
    play_cell,
    play_pages,
    resident_page,
    seen,
    tagged,
)

STAFF = ("district", "street", "community", "other_community", "center", "operator", "partner")
RESIDENTS = ("resident", "other_resident")
DEVICES = ("terminal", "kiosk")
ROLES = ("anonymous", *RESIDENTS, *DEVICES, *STAFF)
# A device of another center than 固戍's (tests/test_matrix_coverage.py wants it on every device
# operation): played on the device rows and two others only, to keep the table fast.
SIGNED = (*DEVICES, OTHER_DEVICE)
OTHER_DEVICE_ROWS = {
    ("GET", "/devices/canteen/menu"),
    ("POST", "/devices/canteen/lookup"),
    ("POST", "/devices/canteen/servings"),
    ("GET", "/me/meals"),
    ("GET", "/staff/canteens/{canteen_id}/meals"),
}
SEEN: dict[str, set[int]] = {
    "district": {0, 1, 2},
    "street": {0, 1},
    "community": {0},
    "other_community": {2},
    "center": {1},
    "operator": {0},
    "partner": set(),
}
# The communities whose spaces a role may name (a partner sees no community's spaces).
COMMUNITIES = {**SEEN, "operator": set()}
OPERATES: dict[str, set[int]] = {"community": {0}, "center": {1}, "other_community": {2}, "operator": {0}}
TARGETS = (0, 1, 2, None)  # None: an id that does not exist
MISSING_PK = 987654
TAGS = {"meals", "devices: canteen", "staff: meals"}
REAL_TIME = time.time


# --- the clock ---------------------------------------------------------------------------------------


def set_clock(monkeypatch: pytest.MonkeyPatch, moment: dt.datetime) -> None:
    """Moves the whole process's clock (Django's ``timezone.now`` and ``time.time``, which pass and
    signature checks read) to ``moment``; it keeps running from there."""
    offset = moment.timestamp() - REAL_TIME()
    monkeypatch.setattr(time, "time", lambda: REAL_TIME() + offset)
    monkeypatch.setattr(timezone, "now", lambda: dt.datetime.fromtimestamp(REAL_TIME() + offset, tz=dt.UTC))


# --- what a refusal must leave as it was -----------------------------------------------------------


def meals_facts() -> dict[str, Any]:
    """Every meals row a refused request could add, and what it could change in place."""
    return {
        "canteens": list(
            Canteen.objects.order_by("pk").values_list("pk", "name", "operator", "takes_orders", "is_active")
        ),
        "set meals": list(
            SetMeal.objects.order_by("pk").values_list(
                "pk", "name", "description", "cost_fen", "list_price_fen", "is_active"
            )
        ),
        "tiers": list(
            Tier.objects.order_by("pk").values_list("pk", "name", "group", "residency", "is_active")
        ),
        "tier prices": list(
            TierPrice.objects.order_by("pk").values_list(
                "pk", "tier", "set_meal", "eater_fen", "city_fen", "district_fen", "street_fen"
            )
        ),
        "menus": list(
            Menu.objects.order_by("pk").values_list(
                "pk", "day", "period", "serves_from", "serves_until", "note"
            )
        ),
        "menu items": list(MenuItem.objects.order_by("pk").values_list("pk", "menu", "portions", "sold")),
        "meals": list(
            Meal.objects.order_by("pk").values_list(
                "pk", "status", "subsidised", "eater_fen", "served_at", "closed_at"
            )
        ),
        "entries": Entry.objects.count(),
        "budgets": list(Budget.objects.order_by("pk").values_list("pk", "year", "layer", "amount_fen")),
        "idempotency records": IdempotencyRecord.objects.count(),
    }


@contextlib.contextmanager
def unchanged(ignore: tuple[str, ...] = ()) -> Iterator[None]:
    """``nothing_changes()`` of the foundation (audit events, pass uses and nonces included) plus
    every meals fact. ``ignore`` may name foundation models (``RequestNonce``: a signed request
    spends its nonce) and ``idempotency records`` (a terminal's refusal is kept for its retries)."""

    def state() -> dict[str, Any]:
        return {**snapshot(ignore), **{k: v for k, v in meals_facts().items() if k not in ignore}}

    before = state()
    yield
    after = state()
    assert {k: v for k, v in after.items() if v != before[k]} == {}, {
        k: before[k] for k in after if after[k] != before[k]
    }


# --- clients ---------------------------------------------------------------------------------------


class SignedDevice(DeviceApi):
    """``DeviceApi`` that signs GETs too, query string included."""

    def get(self, path: str, headers: dict | None = None, **params):
        full = path + (f"?{urlencode(params)}" if params else "")
        signed = signing.signed_headers(self.secret, self.key_id, "GET", "/api/v1" + full)
        return self.client.get("/api/v1" + full, headers={**signed, **(headers or {})})


# --- the world ---------------------------------------------------------------------------------------


@dataclass
class Mx:
    w: MealsWorld
    users: dict[str, Any]
    canteens: list[Canteen]
    set_meals: list[SetMeal]
    tiers: list[Tier]
    items: list[MenuItem]
    orders: list[Meal]
    served: list[Meal]
    spaces: list[Space]
    terminal: SignedDevice
    kiosk: SignedDevice
    other_terminal: SignedDevice  # 宝民's center

    def user(self, role: str):
        return self.users[role]


def publish(canteen: Canteen, desk, day: dt.date) -> Menu:
    return services.menu_publish(
        scope=staff_scope(desk),
        actor=desk,
        canteen_id=canteen.pk,
        day=day,
        serves_from=LUNCH[0],
        serves_until=LUNCH[1],
        items=[MenuLine(set_meal_id=m.pk, portions=50) for m in SetMeal.objects.filter(canteen=canteen)],
        now=at(0, 8),
    )


def full_meal(canteen: Canteen) -> SetMeal:
    return SetMeal.objects.get(canteen=canteen, name="吃得饱套餐")


@pytest.fixture
def mx(meals_world: MealsWorld, place, roles) -> Mx:
    w = meals_world
    _c1, c2, c3 = place["communities"]
    centers = place["centers"]
    # 宝民's canteen, the center's own, with the same set meals and tiers.
    worker = roles["other_community"]
    scope3 = staff_scope(worker)
    space3 = f.SpaceFactory(center=centers[2], name="长者饭堂", kind=Space.Kind.CANTEEN)
    third = services.canteen_create(scope=scope3, actor=worker, space_id=space3.pk, name="宝民社区饭堂")
    full3, good3 = _set_meals(scope3, worker, third)
    _tiers(scope3, worker, third, full3, good3)
    canteens = [w.canteen, w.other, third]
    desks = [roles["community"], roles["center"], worker]
    publish(third, worker, timezone.localdate())
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    later = [publish(c, d, tomorrow) for c, d in zip(canteens, desks, strict=True)]
    set_meals = [full_meal(c) for c in canteens]
    items = [
        MenuItem.objects.get(menu__canteen=c, menu__day=timezone.localdate(), set_meal=m)
        for c, m in zip(canteens, set_meals, strict=True)
    ]
    orders = [
        services.meal_order(
            resident=w.rider,
            menu_item_id=menu.items.get(set_meal=m).pk,
            full_price=t > 0,
            now=at(0, 10),
        )
        for t, (menu, m) in enumerate(zip(later, set_meals, strict=True))
    ]
    eaters = [w.old, elderly(c2, 72), elderly(c3, 72)]
    served = [
        services.serving_at_counter(
            scope=staff_scope(desk),
            staff=desk,
            canteen_id=canteen.pk,
            key=f"served-{t}",
            token=pass_of(eater),
            menu_item_id=items[t].pk,
            now=at(),
        )
        for t, (canteen, desk, eater) in enumerate(zip(canteens, desks, eaters, strict=True))
    ]
    assert [m.subsidy_fen for m in served] == [500, 500, 500]
    spaces = [f.SpaceFactory(center=c, name="新饭堂", kind=Space.Kind.CANTEEN) for c in centers]
    kiosk, kiosk_secret = f.device_for(centers[0], Device.Kind.KIOSK)
    other, other_secret = f.device_for(centers[2], Device.Kind.CANTEEN_TERMINAL)
    users = {
        "resident": w.rider.user,
        "other_resident": w.far_rider.user,
        **{role: roles[role] for role in ("district", "street", "community", "other_community", "center")},
        "operator": w.operator_staff,
        "partner": roles["partner"],
    }
    return Mx(
        w=w,
        users=users,
        canteens=canteens,
        set_meals=set_meals,
        tiers=[Tier.objects.get(canteen=c, group="rider", is_active=True) for c in canteens],
        items=[MenuItem.objects.get(pk=i.pk) for i in items],
        orders=orders,
        served=served,
        spaces=spaces,
        terminal=SignedDevice(w.device.key_id, w.device_secret),
        kiosk=SignedDevice(kiosk.key_id, kiosk_secret),
        other_terminal=SignedDevice(other.key_id, other_secret),
    )


# --- expected answers ----------------------------------------------------------------------------

Expect = tuple[int, str | None]  # (status, code); code None for a success


def public(ok: int, missing: str | None = None) -> Callable[[str, int | None], Expect]:
    return lambda role, t: (404, missing) if t is None and missing else (ok, None)


def resident_only(
    ok: int, missing: str, *, others: bool = True, looked_up_first: bool = False
) -> Callable[[str, int | None], Expect]:
    """Residents' own endpoints: no bearer token is 401; staff have no resident profile (409),
    unless the object is looked up first (``looked_up_first``: a missing one is 404 for them too);
    ``others``: whether the other resident may do it too (else their 404)."""

    def expect(role: str, t: int | None) -> Expect:
        if role == "anonymous" or role in SIGNED:
            return 401, "not_authenticated"
        if role in STAFF:
            return (404, missing) if looked_up_first and t is None else (409, "profile_incomplete")
        if t is None or (role == "other_resident" and not others):
            return 404, missing
        return ok, None

    return expect


def terminal(ok: int, missing: str) -> Callable[[str, int | None], Expect]:
    """The canteen terminal of 固戍's center: its own canteen's; 宝民's terminal (``other_device``)
    likewise its own, never 固戍's; the kiosk is not a canteen terminal; anyone else has no
    signature."""

    def expect(role: str, t: int | None) -> Expect:
        if role == "terminal":
            return (ok, None) if t == 0 else (404, missing)
        if role == OTHER_DEVICE:
            return (ok, None) if t == 2 else (404, missing)
        if role == "kiosk":
            return 403, "device_not_allowed"
        return 401, "signature_missing"

    return expect


def staff_only(ok: int) -> Callable[[str, int | None], Expect]:
    return lambda role, t: (ok, None) if role in STAFF else (401, "not_authenticated")


def staff_read(ok: int, missing: str) -> Callable[[str, int | None], Expect]:
    def expect(role: str, t: int | None) -> Expect:
        if role not in STAFF:
            return 401, "not_authenticated"
        return (ok, None) if t in SEEN[role] else (404, missing)

    return expect


def staff_act(ok: int, missing: str) -> Callable[[str, int | None], Expect]:
    """404 outside the scope, 403 where the role may only look, else ``ok``."""

    def expect(role: str, t: int | None) -> Expect:
        if role not in STAFF:
            return 401, "not_authenticated"
        if t is None or t not in SEEN[role]:
            return 404, missing
        return (ok, None) if t in OPERATES.get(role, set()) else (403, "not_canteen_operator")

    return expect


def open_canteen(role: str, t: int | None) -> Expect:
    """A space the caller cannot see is not found (404), like every other community's object."""
    if role not in STAFF:
        return 401, "not_authenticated"
    if t is None or t not in COMMUNITIES[role]:
        return 404, "space_not_found"
    return (201, None) if t in OPERATES.get(role, set()) else (403, "not_canteen_operator")


def district_only(ok: int) -> Callable[[str, int | None], Expect]:
    def expect(role: str, t: int | None) -> Expect:
        if role not in STAFF:
            return 401, "not_authenticated"
        return (ok, None) if role == "district" else (403, "district_only")

    return expect


# --- checks of what a success did ------------------------------------------------------------------


def _pk(objs: list, t: int | None) -> int:
    return MISSING_PK if t is None else objs[t].pk


def _ids(response) -> set[int]:
    return {row["id"] for row in response.json()}


def _resident(m: Mx, role: str) -> Resident:
    return m.w.rider if role == "resident" else m.w.far_rider


def _street(m: Mx, t: int) -> int:
    return m.canteens[t].center.community.street_id


def _canteens(m: Mx, role: str, t: Any, response) -> None:
    assert _ids(response) == {c.pk for c in m.canteens}
    first = next(row for row in response.json() if row["id"] == m.canteens[0].pk)
    assert (first["operator"], first["community"], first["takes_orders"]) == (
        "福中福社会企业",
        "固戍社区",
        True,
    )


def _menu(m: Mx, role: str, t: int, response) -> None:
    body = response.json()
    assert (body["canteen"]["id"], body["day"], body["holiday"]) == (
        m.canteens[t].pk,
        str(timezone.localdate()),
        False,
    )
    [menu] = body["menus"]
    assert (menu["serves_from"], menu["serves_until"]) == ("11:00", "13:30")
    item = next(i for i in menu["items"] if i["menu_item_id"] == m.items[t].pk)
    assert (item["list_fen"], item["portions"], item["left"]) == (1800, 50, 49)


def _my_price(m: Mx, role: str, t: int, response) -> None:
    body = response.json()
    me = _resident(m, role)
    assert (body["canteen_id"], body["subsidised_meals_left"], body["holiday"]) == (
        m.canteens[t].pk,
        1,
        False,
    )
    assert len(body["groups"]) == 1 and body["orders"] == []
    price = next(p for p in body["prices"] if p["menu_item_id"] == m.items[t].pk)
    # The rider tier: ¥10 with ¥5 district and ¥3 sub-district; the sub-district's share is lost
    # outside one's own sub-district.
    home = me.home_community.street_id == _street(m, t)
    assert (price["tier_id"], price["group"], price["subsidised"]) == (m.tiers[t].pk, "rider", True)
    assert (price["pay_fen"], price["street_fen"]) == ((1000, 300) if home else (1300, 0))
    assert price["reason"]


def _ordered(m: Mx, role: str, t: int, response) -> None:
    meal = Meal.objects.get(pk=response.json()["id"])
    assert (meal.resident, meal.item_id, meal.status, meal.channel) == (
        _resident(m, role),
        m.items[t].pk,
        "ordered",
        "order",
    )
    # The first order of the day is subsidised; the others (full_price) are at the list price.
    assert meal.subsidised == (t == 0)
    assert response.json()["pay_fen"] == (meal.eater_fen if t == 0 else 1800)
    assert MenuItem.objects.get(pk=m.items[t].pk).sold == 2


def _cancelled(m: Mx, role: str, t: int, response) -> None:
    meal = Meal.objects.get(pk=m.orders[t].pk)
    assert meal.status == response.json()["status"] == "cancelled"
    assert MenuItem.objects.get(pk=meal.item_id).sold == 0


def _my_meals(m: Mx, role: str, t: Any, response) -> None:
    expected = {o.pk for o in m.orders} if role == "resident" else set()
    assert _ids(response) == expected


# What the rider pays at each terminal's canteen: at 固戍 the rider tier with the district's and
# 西乡's subsidies; at 宝民 (``other_device``) the district's only (新安's is for its residents).
TERMINAL_PRICES = {
    "terminal": (1000, 800, [("district", 500), ("eater", 1000), ("street", 300)]),
    OTHER_DEVICE: (1300, 500, [("district", 500), ("eater", 1300)]),
}


def terminal_center(role: str) -> int:
    """Whose canteen the terminal playing ``role`` serves: 宝民's for ``other_device``, else 固戍's."""
    return 2 if role == OTHER_DEVICE else 0


def _terminal_menu(m: Mx, role: str, t: int, response) -> None:
    body = response.json()
    here = terminal_center(role)
    assert body["canteen"]["id"] == m.canteens[here].pk
    assert {i["menu_item_id"] for i in body["menus"][0]["items"]} >= {m.items[here].pk}


def _looked_up(m: Mx, role: str, t: int, response) -> None:
    body = response.json()
    assert (body["resident"], body["subsidised_meals_left"], body["order"]) == (
        m.w.rider.masked_name,
        1,
        None,
    )
    price = next(p for p in body["prices"] if p["menu_item_id"] == m.items[terminal_center(role)].pk)
    assert (price["pay_fen"], price["group"]) == (TERMINAL_PRICES[role][0], "rider")
    assert PassUse.objects.count() == 3  # the three counter servings: a look-up uses no pass


def _served_at_terminal(m: Mx, role: str, t: int, response) -> None:
    body = response.json()
    assert response["Idempotent-Replayed"] == "false"
    meal = Meal.objects.select_related("device", "item__menu").get(pk=body["meal_id"])
    device = m.terminal if role == "terminal" else m.other_terminal
    assert (meal.resident, meal.device.key_id, meal.item.menu.canteen_id, meal.channel, meal.status) == (
        m.w.rider,
        device.key_id,
        m.canteens[terminal_center(role)].pk,
        "counter",
        "served",
    )
    pay, subsidy, entries = TERMINAL_PRICES[role]
    assert (body["pay_fen"], body["subsidy_fen"], body["subsidised"]) == (pay, subsidy, True)
    assert sorted(Entry.objects.filter(meal=meal).values_list("layer", "amount_fen")) == entries


def _staff_canteens(m: Mx, role: str, t: Any, response) -> None:
    assert _ids(response) == {m.canteens[i].pk for i in SEEN[role]}
    for row in response.json():
        t_of = next(i for i, c in enumerate(m.canteens) if c.pk == row["id"])
        assert row["may_operate"] == (t_of in OPERATES.get(role, set()))


def _canteen_opened(m: Mx, role: str, t: int, response) -> None:
    made = Canteen.objects.get(pk=response.json()["id"])
    assert (made.space, made.center, made.operator, made.name) == (
        m.spaces[t],
        m.spaces[t].center,
        None,
        "第二饭堂",
    )
    assert response.json()["may_operate"] is True


def _canteen_changed(m: Mx, role: str, t: int, response) -> None:
    assert Canteen.objects.get(pk=m.canteens[t].pk).takes_orders is False
    assert response.json()["takes_orders"] is False


def _set_meals_listed(m: Mx, role: str, t: int, response) -> None:
    assert {row["name"] for row in response.json()} == {"吃得饱套餐", "吃得好套餐"}
    assert {row["canteen_id"] for row in response.json()} == {m.canteens[t].pk}


def _set_meal_made(m: Mx, role: str, t: int, response) -> None:
    made = SetMeal.objects.get(pk=response.json()["id"])
    assert (made.canteen, made.name, made.cost_fen, made.list_price_fen) == (
        m.canteens[t],
        "素食套餐",
        800,
        1200,
    )


def _set_meal_changed(m: Mx, role: str, t: int, response) -> None:
    meal = SetMeal.objects.get(pk=m.set_meals[t].pk)
    assert meal.list_price_fen == response.json()["list_price_fen"] == 1900


def _tiers_listed(m: Mx, role: str, t: int, response) -> None:
    assert {row["group"] for row in response.json()} == {"rider", "elderly_60", "elderly_70", "elderly_80"}
    rider = next(row for row in response.json() if row["group"] == "rider")
    assert {(p["set_meal_id"], p["eater_fen"]) for p in rider["prices"]} >= {(m.set_meals[t].pk, 1000)}


def _tier_made(m: Mx, role: str, t: int, response) -> None:
    tier = Tier.objects.get(pk=response.json()["id"])
    assert (tier.canteen, tier.group, tier.residency) == (m.canteens[t], "disabled", "community")
    price = tier.prices.get()
    assert (price.set_meal, price.eater_fen, price.district_fen) == (m.set_meals[t], 1000, 800)


def _tier_renamed(m: Mx, role: str, t: int, response) -> None:
    assert Tier.objects.get(pk=m.tiers[t].pk).name == response.json()["name"] == "外卖骑手餐"


def _tier_retired(m: Mx, role: str, t: int, response) -> None:
    assert Tier.objects.get(pk=m.tiers[t].pk).is_active is False
    assert response.json()["is_active"] is False


def _menu_published(m: Mx, role: str, t: int, response) -> None:
    menu = Menu.objects.get(pk=response.json()["id"])
    assert (menu.canteen, menu.day, menu.period) == (
        m.canteens[t],
        timezone.localdate() + dt.timedelta(days=2),
        "dinner",
    )
    assert list(menu.items.values_list("set_meal_id", "portions", "sold")) == [(m.set_meals[t].pk, 20, 0)]


def _meals_listed(m: Mx, role: str, t: int, response) -> None:
    assert _ids(response) == {m.served[t].pk}
    row = response.json()[0]
    assert (row["status"], row["group"], row["subsidy_fen"], row["device"]) == (
        "served",
        "elderly_70",
        500,
        False,
    )
    assert row["eater"] and "*" in row["eater"]


def _refunded(m: Mx, role: str, t: int, response) -> None:
    meal = Meal.objects.get(pk=m.served[t].pk)
    assert meal.status == response.json()["status"] == "refunded"
    assert sorted(Entry.objects.filter(meal=meal).values_list("kind", "layer", "amount_fen")) == [
        ("refund", "city", -300),
        ("refund", "district", -200),
        ("refund", "eater", -1300),
        ("served", "city", 300),
        ("served", "district", 200),
        ("served", "eater", 1300),
    ]


def _month() -> str:
    return timezone.localdate().strftime("%Y-%m")


def _claims(m: Mx, role: str, t: int, response) -> None:
    body = response.json()
    assert body["period"] == _month()
    assert {
        (line["canteen_id"], line["funder"], line["meals"], line["amount_fen"]) for line in body["lines"]
    } == {
        (m.canteens[t].pk, "city", 1, 300),
        (m.canteens[t].pk, "district", 1, 200),
    }
    assert body["totals"] == {"city": 300, "district": 200, "street": 0, "all": 500}


def _figures(m: Mx, role: str, t: Any, response) -> None:
    body = response.json()
    n = len(SEEN[role])
    assert {row["canteen_id"] for row in body["by_canteen"]} == {m.canteens[i].pk for i in SEEN[role]}
    assert body["by_group"] == (
        [{"group": "elderly_70", "meals": n, "eater_fen": 1300 * n, "subsidy_fen": 500 * n}] if n else []
    )
    if role == "district":
        assert {(b["layer"], b["spent_fen"]) for b in body["budgets"]} == {("city", 900), ("district", 600)}
    else:
        assert body["budgets"] == []


def _budget(m: Mx, role: str, t: Any, response) -> None:
    budget = Budget.objects.get()
    assert (budget.year, budget.layer, budget.street, budget.amount_fen) == (
        timezone.localdate().year,
        "city",
        None,
        5_000_000,
    )
    assert response.json()["amount_fen"] == 5_000_000


# --- the table ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Op:
    method: str
    template: str  # as in the OpenAPI schema, without /api/v1
    expect: Callable[[str, int | None], Expect]
    path: Callable[[Mx, int | None], str]
    body: Callable[[Mx, int | None], dict] | None = None
    query: Callable[[Mx, int | None], dict] | None = None
    check: Callable[[Mx, str, Any, Any], None] | None = None
    targeted: bool = True
    keyed: bool = False  # sends an Idempotency-Key

    def __str__(self) -> str:
        return f"{self.method} {self.template}"


def _canteen_query(m: Mx, t: int | None) -> dict:
    return {"canteen": _pk(m.canteens, t)}


OPS: list[Op] = [
    # --- the public ---
    Op("GET", "/canteens", public(200), lambda m, t: "/canteens", check=_canteens, targeted=False),
    Op(
        "GET",
        "/canteens/{canteen_id}/menu",
        public(200, "canteen_not_found"),
        lambda m, t: f"/canteens/{_pk(m.canteens, t)}/menu",
        check=_menu,
    ),
    # --- residents ---
    Op(
        "GET",
        "/me/meal-price",
        resident_only(200, "canteen_not_found", looked_up_first=True),
        lambda m, t: "/me/meal-price",
        query=_canteen_query,
        check=_my_price,
    ),
    Op(
        "POST",
        "/meal-orders",
        resident_only(201, "menu_item_not_found"),
        lambda m, t: "/meal-orders",
        body=lambda m, t: {"menu_item_id": _pk(m.items, t), "full_price": True},
        check=_ordered,
    ),
    Op(
        "DELETE",
        "/me/meal-orders/{meal_id}",
        resident_only(200, "meal_not_found", others=False),
        lambda m, t: f"/me/meal-orders/{_pk(m.orders, t)}",
        check=_cancelled,
    ),
    Op(
        "GET",
        "/me/meals",
        resident_only(200, "-"),
        lambda m, t: "/me/meals",
        check=_my_meals,
        targeted=False,
    ),
    # --- canteen terminals ---
    Op(
        "GET",
        "/devices/canteen/menu",
        terminal(200, "canteen_not_found"),
        lambda m, t: "/devices/canteen/menu",
        query=_canteen_query,
        check=_terminal_menu,
    ),
    Op(
        "POST",
        "/devices/canteen/lookup",
        terminal(200, "canteen_not_found"),
        lambda m, t: "/devices/canteen/lookup",
        body=lambda m, t: {"token": pass_of(m.w.rider), "canteen_id": _pk(m.canteens, t)},
        check=_looked_up,
    ),
    Op(
        "POST",
        "/devices/canteen/servings",
        terminal(201, "menu_item_not_found"),
        lambda m, t: "/devices/canteen/servings",
        body=lambda m, t: {"token": pass_of(m.w.rider), "menu_item_id": _pk(m.items, t)},
        check=_served_at_terminal,
        keyed=True,
    ),
    # --- staff ---
    Op(
        "GET",
        "/staff/canteens",
        staff_only(200),
        lambda m, t: "/staff/canteens",
        check=_staff_canteens,
        targeted=False,
    ),
    Op(
        "POST",
        "/staff/canteens",
        open_canteen,
        lambda m, t: "/staff/canteens",
        body=lambda m, t: {"space_id": _pk(m.spaces, t), "name": "第二饭堂"},
        check=_canteen_opened,
    ),
    Op(
        "PATCH",
        "/staff/canteens/{canteen_id}",
        staff_act(200, "canteen_not_found"),
        lambda m, t: f"/staff/canteens/{_pk(m.canteens, t)}",
        body=lambda m, t: {"takes_orders": False},
        check=_canteen_changed,
    ),
    Op(
        "GET",
        "/staff/canteens/{canteen_id}/set-meals",
        staff_read(200, "canteen_not_found"),
        lambda m, t: f"/staff/canteens/{_pk(m.canteens, t)}/set-meals",
        check=_set_meals_listed,
    ),
    Op(
        "POST",
        "/staff/canteens/{canteen_id}/set-meals",
        staff_act(201, "canteen_not_found"),
        lambda m, t: f"/staff/canteens/{_pk(m.canteens, t)}/set-meals",
        body=lambda m, t: {"name": "素食套餐", "cost_fen": 800, "list_price_fen": 1200},
        check=_set_meal_made,
    ),
    Op(
        "PUT",
        "/staff/set-meals/{set_meal_id}",
        staff_act(200, "set_meal_not_found"),
        lambda m, t: f"/staff/set-meals/{_pk(m.set_meals, t)}",
        body=lambda m, t: {"name": "吃得饱套餐", "cost_fen": 1200, "list_price_fen": 1900},
        check=_set_meal_changed,
    ),
    Op(
        "GET",
        "/staff/canteens/{canteen_id}/tiers",
        staff_read(200, "canteen_not_found"),
        lambda m, t: f"/staff/canteens/{_pk(m.canteens, t)}/tiers",
        check=_tiers_listed,
    ),
    Op(
        "POST",
        "/staff/canteens/{canteen_id}/tiers",
        staff_act(201, "canteen_not_found"),
        lambda m, t: f"/staff/canteens/{_pk(m.canteens, t)}/tiers",
        body=lambda m, t: {
            "name": "助残餐",
            "group": "disabled",
            "residency": "community",
            "prices": [{"set_meal_id": _pk(m.set_meals, t), "eater_fen": 1000, "district_fen": 800}],
        },
        check=_tier_made,
    ),
    Op(
        "PUT",
        "/staff/tiers/{tier_id}",
        staff_act(200, "tier_not_found"),
        lambda m, t: f"/staff/tiers/{_pk(m.tiers, t)}",
        body=lambda m, t: {"name": "外卖骑手餐"},
        check=_tier_renamed,
    ),
    Op(
        "DELETE",
        "/staff/tiers/{tier_id}",
        staff_act(200, "tier_not_found"),
        lambda m, t: f"/staff/tiers/{_pk(m.tiers, t)}",
        check=_tier_retired,
    ),
    Op(
        "PUT",
        "/staff/canteens/{canteen_id}/menus",
        staff_act(200, "canteen_not_found"),
        lambda m, t: f"/staff/canteens/{_pk(m.canteens, t)}/menus",
        body=lambda m, t: {
            "day": str(timezone.localdate() + dt.timedelta(days=2)),
            "period": "dinner",
            "serves_from": "17:00",
            "serves_until": "19:00",
            "items": [{"set_meal_id": _pk(m.set_meals, t), "portions": 20}],
        },
        check=_menu_published,
    ),
    Op(
        "GET",
        "/staff/canteens/{canteen_id}/meals",
        staff_read(200, "canteen_not_found"),
        lambda m, t: f"/staff/canteens/{_pk(m.canteens, t)}/meals",
        query=lambda m, t: {"date": str(timezone.localdate())},
        check=_meals_listed,
    ),
    Op(
        "POST",
        "/staff/meals/{meal_id}/refund",
        staff_act(200, "meal_not_found"),
        lambda m, t: f"/staff/meals/{_pk(m.served, t)}/refund",
        body=lambda m, t: {"reason": "饭菜凉了"},
        check=_refunded,
    ),
    Op(
        "GET",
        "/staff/meals/claims",
        staff_read(200, "canteen_not_found"),
        lambda m, t: "/staff/meals/claims",
        query=lambda m, t: {"period": _month(), "canteen": _pk(m.canteens, t)},
        check=_claims,
    ),
    Op(
        "GET",
        "/staff/meals/figures",
        staff_only(200),
        lambda m, t: "/staff/meals/figures",
        query=lambda m, t: {"period": _month()},
        check=_figures,
        targeted=False,
    ),
    Op(
        "PUT",
        "/staff/meals/budgets",
        district_only(200),
        lambda m, t: "/staff/meals/budgets",
        body=lambda m, t: {"year": timezone.localdate().year, "layer": "city", "amount_fen": 5_000_000},
        check=_budget,
        targeted=False,
    ),
]

# The district's figures add the city and district layers up over every sub-district (a bug once
# kept the last sub-district's sum only): the case "district:GET /staff/meals/figures" checks it.
CASES = [pytest.param(role, op, id=f"{role}:{op}") for op in OPS for role in ROLES] + [
    pytest.param(OTHER_DEVICE, op, id=f"{OTHER_DEVICE}:{op}")
    for op in OPS
    if (op.method, op.template) in OTHER_DEVICE_ROWS
]


def client_for(role: str, m: Mx) -> Api:
    if role == "anonymous":
        return Api()
    if role == "terminal":
        return m.terminal
    if role == "kiosk":
        return m.kiosk
    if role == OTHER_DEVICE:
        return m.other_terminal
    return resident_api(m.user(role)) if role in RESIDENTS else staff_api(m.user(role))


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "op"), CASES)
def test_meals_api_permissions(mx, monkeypatch, role, op):
    set_clock(monkeypatch, at())
    client = client_for(role, mx)
    targets = TARGETS if op.targeted else (0,)
    if op.expect(role, 0)[0] in (401, 409) and op.expect(role, None) == op.expect(role, 0):
        targets = (0,)  # refused before any object is looked up: one target says it all
    for n, target in enumerate(targets):
        status, code = op.expect(role, target)
        path = op.path(mx, target)
        body = op.body(mx, target) if op.body else None
        headers = {"Idempotency-Key": f"perm-{n}"} if op.keyed else None

        def call(path=path, body=body, headers=headers, target=target):
            if op.method == "GET":
                return client.get(path, **(op.query(mx, target) if op.query else {}))
            return client.send(op.method, path, body, headers=headers)

        # A signed request spends its nonce; a terminal's refusal is kept for its retries.
        ignore = ("RequestNonce", "idempotency records") if role in SIGNED else ()
        play_cell(
            call,
            status,
            code,
            where=target,
            guard=lambda ignore=ignore: unchanged(ignore=ignore),
            check=(lambda response, t=target: op.check(mx, role, t, response)) if op.check else None,
        )


@pytest.mark.django_db
def test_the_table_covers_every_meals_operation(api):
    assert_table_covers(api, tagged(*TAGS), [(op.method, op.template) for op in OPS], "meals")
    assert OTHER_DEVICE_ROWS - {(op.method, op.template) for op in OPS} == set(), (
        "other_device rows that are gone"
    )


# --- beyond the table ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_terminal_serves_its_own_centers_canteen_only(mx, monkeypatch):
    """Naming another center's canteen, or selling another canteen's set meal, is not found."""
    set_clock(monkeypatch, at())
    for key, body, code in (
        ("x-1", {"menu_item_id": mx.items[1].pk, "canteen_id": mx.canteens[1].pk}, "canteen_not_found"),
        ("x-2", {"menu_item_id": mx.items[1].pk}, "menu_item_not_found"),
        ("x-3", {"menu_item_id": mx.items[2].pk, "canteen_id": mx.canteens[0].pk}, "menu_item_not_found"),
    ):
        with unchanged(ignore=("RequestNonce", "idempotency records")):
            response = mx.terminal.post("/devices/canteen/servings", body, headers={"Idempotency-Key": key})
        assert (response.status_code, response.json()["code"]) == (404, code), response.content


@pytest.mark.django_db
def test_staff_filters_cannot_widen_the_scope(mx, monkeypatch):
    set_clock(monkeypatch, at())
    worker = staff_api(mx.user("community"))
    period = _month()
    for canteen in (mx.canteens[1].pk, mx.canteens[2].pk):
        response = worker.get("/staff/meals/claims", period=period, canteen=canteen)
        assert (response.status_code, response.json()["code"]) == (404, "canteen_not_found")
    own = worker.get("/staff/meals/claims", period=period).json()
    assert {line["canteen_id"] for line in own["lines"]} == {mx.canteens[0].pk}


@pytest.mark.django_db
def test_a_resident_cannot_see_or_cancel_through_anothers_id(mx, monkeypatch):
    set_clock(monkeypatch, at())
    other = resident_api(mx.w.far_rider.user)
    with unchanged():
        response = other.send("DELETE", f"/me/meal-orders/{mx.orders[0].pk}")
    assert (response.status_code, response.json()["code"]) == (404, "meal_not_found")
    assert other.get("/me/meals").json() == []


# --- pages ---------------------------------------------------------------------------------------------

PAGE_ROLES = ("anonymous", *RESIDENTS, *STAFF)


PAGES: list[Page] = [
    page_row("GET", "meals/", open_page(200), lambda m, t: "/meals/"),
    page_row(
        "GET",
        "meals/canteens/<id:canteen_id>/",
        open_page(200),
        lambda m, t: f"/meals/canteens/{m.canteens[t].pk}/",
        True,
    ),
    page_row(
        "POST",
        "meals/canteens/<id:canteen_id>/order/",
        resident_page(400, staff=Moved("/me/profile/", refused=True)),
        lambda m, t: f"/meals/canteens/{m.canteens[t].pk}/order/",
        True,
    ),
    page_row(
        "GET",
        "meals/photos/<id:set_meal_id>.jpg",
        open_page(404),
        lambda m, t: f"/meals/photos/{m.set_meals[t].pk}.jpg",
        True,
    ),
    page_row("GET", "me/meals/", resident_page(200), lambda m, t: "/me/meals/"),
    page_row(
        "POST",
        "me/meals/<id:meal_id>/cancel/",
        resident_page(Moved("/me/meals/"), other=404, staff=Moved("/me/profile/", refused=True)),
        lambda m, t: f"/me/meals/{m.orders[t].pk}/cancel/",
        True,
    ),
    page_row("GET", "console/meals/", console(), lambda m, t: "/console/meals/"),
    page_row("GET", "console/meals/claims/", console(), lambda m, t: "/console/meals/claims/"),
    page_row(
        "GET",
        "console/meals/canteens/<id:canteen_id>/",
        console(seen(SEEN)),
        lambda m, t: f"/console/meals/canteens/{m.canteens[t].pk}/",
        True,
    ),
    page_row(
        "GET",
        "console/meals/canteens/<id:canteen_id>/counter/",
        console(seen(SEEN, ok=lambda role, t: 200 if t in OPERATES.get(role, set()) else 403)),
        lambda m, t: f"/console/meals/canteens/{m.canteens[t].pk}/counter/",
        True,
    ),
    page_row(
        "GET",
        "console/meals/canteens/<id:canteen_id>/set-meals/<id:set_meal_id>/photo.jpg",
        console(404),
        lambda m, t: f"/console/meals/canteens/{m.canteens[t].pk}/set-meals/{m.set_meals[t].pk}/photo.jpg",
        True,
    ),
]


@pytest.mark.django_db
def test_meals_pages_for_every_role(mx, monkeypatch):
    set_clock(monkeypatch, at())
    play_pages(mx, PAGES, PAGE_ROLES, lambda role: page_browser(role, mx.user, RESIDENTS), guard=unchanged)


MATRIX = Matrix(
    api_roles=ROLES,
    api_cells=param_cells(CASES, lambda op: (op.method, op.template)),
    page_roles=PAGE_ROLES,
    page_cells=cells(PAGES, PAGE_ROLES, page_key),
    devices_elsewhere=(OTHER_DEVICE,),
)
