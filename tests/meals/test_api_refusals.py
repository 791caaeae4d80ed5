"""Every bad input the meals issue lists, through the HTTP API: the exact status and stable code,
and inside ``unchanged()`` the proof that nothing was written (no meal, no ledger entry, no portion
taken, no pass used, no menu, set meal or tier changed).

A terminal's refusal is kept as the answer to its idempotency key (its retry gets the same
refusal) and a signed request spends its nonce: those two rows, and only those, may appear.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from livingroom.core import signing
from livingroom.meals import services
from livingroom.meals.models import Entry, Meal, MenuItem, Tier
from livingroom.people.models import EligibilityVerification
from livingroom.people.scopes import staff_scope
from livingroom.places.models import CalendarDay
from tests.conftest import Api, resident_api, staff_api
from tests.invariants import assert_error
from tests.meals.conftest import MealsWorld, at, pass_of
from tests.meals.test_api_permissions import SignedDevice, set_clock, unchanged

pytestmark = pytest.mark.django_db

DEVICE_ROWS = ("RequestNonce", "idempotency records")
SERVINGS = "/devices/canteen/servings"


@dataclass
class Cx:
    """The world and its clients, made after the clock is set."""

    w: MealsWorld
    rider: Api
    young: Api
    old: Api
    desk: Api
    terminal: SignedDevice

    def tier(self, group: str) -> Tier:
        return Tier.objects.get(canteen=self.w.canteen, group=group, is_active=True)


def world_at(w: MealsWorld, monkeypatch, hour: int, minute: int = 0) -> Cx:
    set_clock(monkeypatch, at(0, hour, minute))
    return Cx(
        w=w,
        rider=resident_api(w.rider.user),
        young=resident_api(w.young.user),
        old=resident_api(w.old.user),
        desk=staff_api(w.desk),
        terminal=SignedDevice(w.device.key_id, w.device_secret),
    )


def facts() -> tuple[int, int, list]:
    return (
        Meal.objects.count(),
        Entry.objects.count(),
        list(MenuItem.objects.order_by("pk").values_list("sold")),
    )


def refused(call: Callable[[], Any], status: int, code: str, field: str | None = "-", device: bool = False):
    """``call()`` is refused with this status and code, and nothing is written."""
    before = facts()
    with unchanged(DEVICE_ROWS if device else ()):
        response = call()
    body = assert_error(response, status, code, field)
    assert facts() == before
    return body


def serve(c: Cx, body: dict, key: str = "k-1"):
    return c.terminal.post(SERVINGS, body, headers={"Idempotency-Key": key})


def order(client: Api, item, **extra):
    return client.post("/meal-orders", {"menu_item_id": item.pk, **extra})


# --- ordering and serving ------------------------------------------------------------------------


def test_a_sold_out_meal(meals_world, monkeypatch):
    c = world_at(meals_world, monkeypatch, 10)
    MenuItem.objects.filter(pk=c.w.item_good.pk).update(portions=0)
    refused(lambda: order(c.rider, c.w.item_good), 409, "sold_out", "menu_item_id")
    set_clock(monkeypatch, at(0, 12))
    refused(
        lambda: serve(c, {"menu_item_id": c.w.item_good.pk}), 409, "sold_out", "menu_item_id", device=True
    )


def test_a_second_subsidised_meal_in_a_day(meals_world, monkeypatch):
    c = world_at(meals_world, monkeypatch, 10)
    assert order(c.rider, c.w.item_full).status_code == 201
    refused(lambda: order(c.rider, c.w.item_good), 409, "subsidised_meal_taken")
    # Also at 龙珠's canteen, and at the terminal.
    refused(lambda: order(c.rider, c.w.other_item), 409, "subsidised_meal_taken")
    set_clock(monkeypatch, at(0, 12))
    token = pass_of(c.w.rider)
    refused(
        lambda: serve(c, {"token": token, "menu_item_id": c.w.item_good.pk}),
        409,
        "subsidised_meal_taken",
        device=True,
    )
    # Asked for at the full price, it is sold.
    paid = order(c.rider, c.w.item_good, full_price=True)
    assert (paid.status_code, paid.json()["pay_fen"], paid.json()["subsidised"]) == (201, 2500, False)


def test_a_subsidised_meal_taken_at_another_canteen_first(meals_world, monkeypatch):
    """Served at 龙珠's counter at noon, the rider gets no second subsidy at 固戍's terminal."""
    c = world_at(meals_world, monkeypatch, 12)
    center = c.w.roles["center"]
    services.serving_at_counter(
        scope=staff_scope(center),
        staff=center,
        canteen_id=c.w.other.pk,
        key="longzhu-1",
        token=pass_of(c.w.rider),
        menu_item_id=c.w.other_item.pk,
    )
    token = pass_of(c.w.rider)
    refused(
        lambda: serve(c, {"token": token, "menu_item_id": c.w.item_full.pk}),
        409,
        "subsidised_meal_taken",
        device=True,
    )
    refused(lambda: order(c.rider, c.w.item_full), 409, "subsidised_meal_taken")


def test_ordering_after_the_window(meals_world, monkeypatch):
    c = world_at(meals_world, monkeypatch, 13, 30)
    refused(lambda: order(c.rider, c.w.item_full), 409, "ordering_closed")


@pytest.mark.parametrize(("hour", "minute"), [(10, 59), (13, 30), (18, 0)])
def test_serving_outside_the_window(meals_world, monkeypatch, hour, minute):
    c = world_at(meals_world, monkeypatch, hour, minute)
    body = refused(
        lambda: serve(c, {"menu_item_id": c.w.item_full.pk}), 409, "outside_serving_hours", device=True
    )
    assert "11:00" in body["message"] and "13:30" in body["message"]
    token = pass_of(c.w.rider)
    refused(lambda: serve(c, {"token": token}, key="k-2"), 409, "outside_serving_hours", device=True)


def test_a_subsidy_on_a_holiday(meals_world, monkeypatch):
    CalendarDay.objects.create(date=timezone.localdate(), kind=CalendarDay.Kind.HOLIDAY, name="测试假日")
    c = world_at(meals_world, monkeypatch, 10)
    refused(lambda: order(c.rider, c.w.item_full), 409, "holiday_no_subsidy")
    refused(lambda: order(c.rider, c.w.item_full, tier_id=c.w.rider_tier.pk), 409, "holiday_no_subsidy")
    set_clock(monkeypatch, at(0, 12))
    token = pass_of(c.w.rider)
    refused(
        lambda: serve(c, {"token": token, "menu_item_id": c.w.item_full.pk}),
        409,
        "holiday_no_subsidy",
        device=True,
    )
    # The menu says so, and the list price is still sold.
    assert c.rider.get(f"/canteens/{c.w.canteen.pk}/menu").json()["holiday"] is True
    paid = order(c.rider, c.w.item_full, full_price=True)
    assert (paid.status_code, paid.json()["pay_fen"], paid.json()["subsidised"]) == (201, 1800, False)


def test_an_expired_rider_credential(meals_world, monkeypatch):
    EligibilityVerification.objects.filter(resident=meals_world.rider).update(
        valid_until=timezone.localdate() - dt.timedelta(days=1)
    )
    c = world_at(meals_world, monkeypatch, 10)
    body = refused(
        lambda: order(c.rider, c.w.item_full, tier_id=c.w.rider_tier.pk), 409, "credential_expired", "tier_id"
    )
    assert str(timezone.localdate() - dt.timedelta(days=1)) in body["message"]
    set_clock(monkeypatch, at(0, 12))
    token = pass_of(c.w.rider)
    refused(
        lambda: serve(c, {"token": token, "menu_item_id": c.w.item_full.pk, "tier_id": c.w.rider_tier.pk}),
        409,
        "credential_expired",
        "tier_id",
        device=True,
    )


def test_a_tier_that_does_not_match_the_eater(meals_world, monkeypatch):
    c = world_at(meals_world, monkeypatch, 10)
    # The rider is not 70; the 72-year-old is not 80.
    refused(
        lambda: order(c.rider, c.w.item_full, tier_id=c.tier("elderly_70").pk),
        409,
        "tier_not_eligible",
        "tier_id",
    )
    refused(
        lambda: order(c.old, c.w.item_full, tier_id=c.tier("elderly_80").pk),
        409,
        "tier_not_eligible",
        "tier_id",
    )
    # A tier of another canteen is not one of this canteen's.
    other = Tier.objects.get(canteen=c.w.other, group="rider")
    refused(lambda: order(c.rider, c.w.item_full, tier_id=other.pk), 404, "tier_not_found", "tier_id")


def test_the_pass_of_a_resident_never_verified_naming_the_rider_tier(meals_world, monkeypatch):
    c = world_at(meals_world, monkeypatch, 12)
    token = pass_of(c.w.young)
    first = refused(
        lambda: serve(c, {"token": token, "menu_item_id": c.w.item_full.pk, "tier_id": c.w.rider_tier.pk}),
        409,
        "not_verified",
        "tier_id",
        device=True,
    )
    # The retry with the same key gets the same refusal and writes nothing more.
    with unchanged(("RequestNonce",)):
        again = serve(c, {"token": token, "menu_item_id": c.w.item_full.pk, "tier_id": c.w.rider_tier.pk})
    assert (again.status_code, again.json(), again["Idempotent-Replayed"]) == (409, first, "true")
    refused(lambda: order(c.young, c.w.item_full, tier_id=c.w.rider_tier.pk), 409, "not_verified", "tier_id")


# --- terminals: signatures and keys --------------------------------------------------------------------


def signed_at(c: Cx, body: bytes, when: float, nonce: str | None = None) -> dict[str, str]:
    timestamp, nonce = str(int(when)), nonce or secrets.token_hex(16)
    return {
        "X-Device-Key": c.w.device.key_id,
        "X-Timestamp": timestamp,
        "X-Nonce": nonce,
        "X-Signature": signing.sign(c.w.device_secret, "POST", "/api/v1" + SERVINGS, timestamp, nonce, body),
        "Idempotency-Key": "k-sig",
    }


def test_unsigned_stale_and_replayed_terminal_requests(meals_world, monkeypatch):
    c = world_at(meals_world, monkeypatch, 12)
    body = json.dumps({"menu_item_id": c.w.item_full.pk}).encode()
    anyone = Api()
    refused(
        lambda: anyone.post(SERVINGS, raw=body, headers={"Idempotency-Key": "k-sig"}),
        401,
        "signature_missing",
    )
    stale = signed_at(c, body, time.time() - 301)
    refused(lambda: anyone.post(SERVINGS, raw=body, headers=stale), 401, "signature_expired")
    wrong = {**signed_at(c, body, time.time()), "X-Signature": "0" * 64}
    refused(lambda: anyone.post(SERVINGS, raw=body, headers=wrong), 401, "signature_invalid")
    tampered = signed_at(c, body, time.time())
    other = json.dumps({"menu_item_id": c.w.item_good.pk}).encode()
    refused(lambda: anyone.post(SERVINGS, raw=other, headers=tampered), 401, "signature_invalid")
    # The genuine request is served once; the same request again (same nonce) is refused.
    fresh = signed_at(c, body, time.time())
    first = anyone.post(SERVINGS, raw=body, headers=fresh)
    assert first.status_code == 201, first.content
    refused(lambda: anyone.post(SERVINGS, raw=body, headers=fresh), 401, "request_replayed")


def test_a_serving_without_an_idempotency_key(meals_world, monkeypatch):
    c = world_at(meals_world, monkeypatch, 12)
    refused(
        lambda: c.terminal.post(SERVINGS, {"menu_item_id": c.w.item_full.pk}),
        400,
        "invalid_input",
        device=True,
    )


def test_a_key_reused_for_another_serving(meals_world, monkeypatch):
    c = world_at(meals_world, monkeypatch, 12)
    assert serve(c, {"menu_item_id": c.w.item_full.pk}, key="same").status_code == 201
    refused(
        lambda: serve(c, {"menu_item_id": c.w.item_good.pk}, key="same"),
        409,
        "idempotency_key_reused",
        device=True,
    )


# --- staff: prices, groups, menus -------------------------------------------------------------------


def set_meal(**changes) -> dict:
    return {"name": "素食套餐", "cost_fen": 800, "list_price_fen": 1200, **changes}


def tier(w: MealsWorld, **line) -> dict:
    return {
        "name": "助残餐",
        "group": "disabled",
        "prices": [{"set_meal_id": w.full.pk, "eater_fen": 1000, **line}],
    }


STAFF_WRITES = [
    # (name, method, path, body, status, code, field)
    ("negative cost", "POST", "set-meals", lambda w: set_meal(cost_fen=-1), 400, "price_invalid", "cost_fen"),
    (
        "negative list price",
        "POST",
        "set-meals",
        lambda w: set_meal(list_price_fen=-100),
        400,
        "list_price_invalid",
        "list_price_fen",
    ),
    (
        "list price 0",
        "POST",
        "set-meals",
        lambda w: set_meal(list_price_fen=0),
        400,
        "list_price_invalid",
        "list_price_fen",
    ),
    (
        "list price over ¥1,000",
        "POST",
        "set-meals",
        lambda w: set_meal(list_price_fen=100_001),
        400,
        "list_price_invalid",
        "list_price_fen",
    ),
    (
        "bool for a price",
        "POST",
        "set-meals",
        lambda w: set_meal(cost_fen=True),
        400,
        "invalid_input",
        "cost_fen",
    ),
    (
        "text for a price",
        "POST",
        "set-meals",
        lambda w: set_meal(list_price_fen="12.00"),
        400,
        "invalid_input",
        "list_price_fen",
    ),
    (
        "float for a price",
        "POST",
        "set-meals",
        lambda w: set_meal(list_price_fen=12.5),
        400,
        "invalid_input",
        "list_price_fen",
    ),
    (
        "list price below a tier's split",
        "PUT",
        "set-meal",
        lambda w: {"name": "吃得饱套餐", "cost_fen": 1200, "list_price_fen": 1500},
        400,
        "subsidy_exceeds_list_price",
        "-",
    ),
    (
        "negative eater price",
        "POST",
        "tiers",
        lambda w: tier(w, eater_fen=-1),
        400,
        "price_invalid",
        "prices.0.eater_fen",
    ),
    (
        "negative subsidy",
        "POST",
        "tiers",
        lambda w: tier(w, district_fen=-500),
        400,
        "price_invalid",
        "prices.0.district_fen",
    ),
    (
        "subsidy larger than the list price",
        "POST",
        "tiers",
        lambda w: tier(w, district_fen=900),
        400,
        "subsidy_exceeds_list_price",
        "prices.0",
    ),
    (
        "bool for a subsidy",
        "POST",
        "tiers",
        lambda w: tier(w, city_fen=False),
        400,
        "invalid_input",
        "city_fen",
    ),
    (
        "unknown group",
        "POST",
        "tiers",
        lambda w: {**tier(w), "group": "student"},
        400,
        "invalid_input",
        "group",
    ),
    (
        "unknown residency",
        "POST",
        "tiers",
        lambda w: {**tier(w), "residency": "city"},
        400,
        "invalid_input",
        "residency",
    ),
    ("no prices", "POST", "tiers", lambda w: {**tier(w), "prices": []}, 400, "invalid_input", "prices"),
    (
        "a set meal of another canteen",
        "POST",
        "tiers",
        lambda w: {**tier(w), "prices": [{"set_meal_id": w.other_item.set_meal_id, "eater_fen": 1000}]},
        404,
        "set_meal_not_found",
        "prices.0.set_meal_id",
    ),
    (
        "a menu in the past",
        "PUT",
        "menus",
        lambda w: menu(w, day=str(timezone.localdate() - dt.timedelta(days=1))),
        400,
        "menu_in_past",
        "day",
    ),
    ("a bad date", "PUT", "menus", lambda w: menu(w, day="2026-02-30"), 400, "invalid_input", "day"),
    (
        "serving ends before it starts",
        "PUT",
        "menus",
        lambda w: menu(w, serves_from="13:30", serves_until="11:00"),
        400,
        "serving_hours_invalid",
        "serves_until",
    ),
    (
        "negative portions",
        "PUT",
        "menus",
        lambda w: menu(w, items=[{"set_meal_id": w.full.pk, "portions": -1}]),
        400,
        "invalid_input",
        "portions",
    ),
    (
        "bool for portions",
        "PUT",
        "menus",
        lambda w: menu(w, items=[{"set_meal_id": w.full.pk, "portions": True}]),
        400,
        "invalid_input",
        "portions",
    ),
    (
        "fewer portions than taken",
        "PUT",
        "menus-today",
        lambda w: menu(w, day=str(timezone.localdate()), items=[{"set_meal_id": w.full.pk, "portions": 0}]),
        400,
        "portions_invalid",
        "items",
    ),
    (
        "a budget for no funder",
        "PUT",
        "budget",
        lambda w: {"year": 2026, "layer": "province", "amount_fen": 1},
        400,
        "invalid_input",
        "layer",
    ),
    (
        "a sub-district budget without its sub-district",
        "PUT",
        "budget",
        lambda w: {"year": 2026, "layer": "street", "amount_fen": 1},
        400,
        "budget_invalid",
        "street_id",
    ),
    (
        "a negative budget",
        "PUT",
        "budget",
        lambda w: {"year": 2026, "layer": "city", "amount_fen": -1},
        400,
        "invalid_input",
        "amount_fen",
    ),
]


def menu(w: MealsWorld, **changes) -> dict:
    return {
        "day": str(timezone.localdate() + dt.timedelta(days=1)),
        "serves_from": "11:00",
        "serves_until": "13:30",
        "items": [{"set_meal_id": w.full.pk, "portions": 30}],
        **changes,
    }


def _path(w: MealsWorld, where: str) -> str:
    return {
        "set-meals": f"/staff/canteens/{w.canteen.pk}/set-meals",
        "set-meal": f"/staff/set-meals/{w.full.pk}",
        "tiers": f"/staff/canteens/{w.canteen.pk}/tiers",
        "menus": f"/staff/canteens/{w.canteen.pk}/menus",
        "menus-today": f"/staff/canteens/{w.canteen.pk}/menus",
        "budget": "/staff/meals/budgets",
    }[where]


@pytest.mark.parametrize(
    ("method", "where", "body", "status", "code", "field"),
    [pytest.param(*case[1:], id=case[0]) for case in STAFF_WRITES],
)
def test_bad_staff_writes(meals_world, monkeypatch, method, where, body, status, code, field):
    c = world_at(meals_world, monkeypatch, 10)
    if where == "menus-today":
        assert order(c.rider, c.w.item_full).status_code == 201  # one portion taken
    client = staff_api(c.w.roles["district"]) if where == "budget" else c.desk
    found = refused(lambda: client.send(method, _path(c.w, where), body(c.w)), status, code)
    if field != "-":
        assert field in (found["field"] or ""), found


# --- periods and dates -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "period", ["2026-13", "2026-00", "2026-Q5", "2026-Q0", "26-11", "2026/11", "2026", "", "１２"]
)
@pytest.mark.parametrize("path", ["/staff/meals/claims", "/staff/meals/figures"])
def test_a_bad_period(meals_world, monkeypatch, path, period):
    c = world_at(meals_world, monkeypatch, 10)
    refused(lambda: c.desk.get(path, period=period), 400, "period_invalid", "period")


@pytest.mark.parametrize(
    ("path", "params", "status", "code", "field"),
    [
        ("/canteens/{c}/menu", {"date": "2026-02-30"}, 400, "invalid_input", "date"),
        ("/canteens/{c}/menu", {"date": "tomorrow"}, 400, "invalid_input", "date"),
        ("/canteens/{c}/menu", {"date": "1900-01-01"}, 404, "menu_not_found", "date"),
        ("/me/meal-price", {"canteen": "{c}", "date": "2026-13-01"}, 400, "invalid_input", "date"),
        ("/staff/canteens/{c}/meals", {"date": "27/11/2026"}, 400, "invalid_input", "date"),
        ("/canteens", {"center": "one"}, 400, "invalid_input", "center"),
        ("/canteens/abc/menu", {}, 400, "invalid_input", "canteen_id"),
        ("/staff/meals/claims", {"period": "2026-11", "canteen": "x"}, 400, "invalid_input", "canteen"),
    ],
)
def test_a_bad_date_or_id(meals_world, monkeypatch, path, params, status, code, field):
    c = world_at(meals_world, monkeypatch, 10)
    client = c.desk if path.startswith("/staff") else c.rider
    pk = str(c.w.canteen.pk)
    values = {k: v.replace("{c}", pk) for k, v in params.items()}
    refused(lambda: client.get(path.replace("{c}", pk), **values), status, code, field)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"menu_item_id": True}, "menu_item_id"),  # a JSON true was once read as the id 1
        ({"menu_item_id": "1"}, "menu_item_id"),
        ({"menu_item_id": 0}, "menu_item_id"),
        ({}, "menu_item_id"),
        ({"menu_item_id": 1, "full_price": "yes"}, "full_price"),
        ({"menu_item_id": 1, "tier_id": -3}, "tier_id"),
    ],
)
def test_a_malformed_order(meals_world, monkeypatch, body, field):
    c = world_at(meals_world, monkeypatch, 10)
    refused(lambda: c.rider.post("/meal-orders", body), 400, "invalid_input", field)
