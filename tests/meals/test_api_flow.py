"""A day of meal assistance through the HTTP API: the desk publishes today's lunch; anyone finds the
canteen and its menu; the rider sees their price with the reason, orders, cancels and orders
again; at noon the terminal scans the pass (a look-up uses nothing), serves the order (a retry
with the same key answers the same and serves nothing more) and sells to a walk-in; the walk-in's
meal is refunded; the month's claim, the figures and a budget follow."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from livingroom.meals.models import Budget, Entry, Meal, MenuItem
from livingroom.people.models import PassUse
from tests.conftest import Api, resident_api, staff_api
from tests.meals.conftest import at, pass_of
from tests.meals.test_api_permissions import SignedDevice, set_clock

pytestmark = pytest.mark.django_db


def test_a_day_of_meals_through_the_api(meals_world, monkeypatch):
    w = meals_world
    canteen, today = w.canteen.pk, timezone.localdate()
    set_clock(monkeypatch, at(0, 9))
    desk, boss = staff_api(w.desk), staff_api(w.roles["district"])
    rider, anyone = resident_api(w.rider.user), Api()
    terminal = SignedDevice(w.device.key_id, w.device_secret)

    # The desk publishes (here: changes) today's lunch.
    published = desk.put(
        f"/staff/canteens/{canteen}/menus",
        {
            "day": str(today),
            "serves_from": "11:00",
            "serves_until": "13:30",
            "note": "今日例汤：冬瓜汤",
            "items": [
                {"set_meal_id": w.full.pk, "portions": 40},
                {"set_meal_id": w.good.pk, "portions": 20},
            ],
        },
    )
    assert published.status_code == 200, published.content
    body = published.json()
    assert (body["id"], body["period"], body["note"]) == (w.menu.pk, "lunch", "今日例汤：冬瓜汤")
    assert [(i["name"], i["portions"], i["left"]) for i in body["items"]] == [
        ("吃得饱套餐", 40, 40),
        ("吃得好套餐", 20, 20),
    ]

    # Anyone finds the canteen and today's menu.
    listed = anyone.get("/canteens")
    assert listed.status_code == 200
    row = next(c for c in listed.json() if c["id"] == canteen)
    assert (row["name"], row["operator"], row["community"], row["takes_orders"]) == (
        "固戍社区饭堂",
        "福中福社会企业",
        "固戍社区",
        True,
    )
    assert [c["id"] for c in anyone.get("/canteens", center=w.canteen.center_id).json()] == [canteen]
    menu = anyone.get(f"/canteens/{canteen}/menu").json()
    assert (menu["day"], menu["holiday"]) == (str(today), False)
    assert [(i["list_fen"], i["left"]) for i in menu["menus"][0]["items"]] == [(1800, 40), (2500, 20)]

    # The rider's prices: the rider tier, with the reason, and the day's subsidised meal to take.
    price = rider.get("/me/meal-price", canteen=canteen)
    assert price.status_code == 200, price.content
    body = price.json()
    assert (body["subsidised_meals_left"], body["orders"], body["holiday"]) == (1, [], False)
    assert len(body["groups"]) == 1
    lines = {p["name"]: p for p in body["prices"]}
    full, good = lines["吃得饱套餐"], lines["吃得好套餐"]
    assert (full["pay_fen"], full["district_fen"], full["street_fen"], full["subsidy_fen"]) == (
        1000,
        500,
        300,
        800,
    )
    assert (good["pay_fen"], good["subsidy_fen"]) == (1500, 1000)
    assert (full["tier_id"], full["tier"], full["group"], full["subsidised"]) == (
        w.rider_tier.pk,
        "骑手暖心餐",
        "rider",
        True,
    )
    assert full["reason"]
    # The 72-year-old of the same community gets the 70–79 tier.
    old = resident_api(w.old.user).get("/me/meal-price", canteen=canteen).json()
    assert {p["name"]: (p["pay_fen"], p["group"]) for p in old["prices"]}["吃得饱套餐"] == (
        1300,
        "elderly_70",
    )

    # Order, cancel (the portion and the day's subsidy go back), order again.
    ordered = rider.post("/meal-orders", {"menu_item_id": w.item_full.pk})
    assert ordered.status_code == 201, ordered.content
    first = ordered.json()
    assert (first["status"], first["channel"], first["pay_fen"], first["subsidised"]) == (
        "ordered",
        "order",
        1000,
        True,
    )
    assert MenuItem.objects.get(pk=w.item_full.pk).sold == 1
    body = rider.get("/me/meal-price", canteen=canteen).json()
    assert (body["subsidised_meals_left"], [o["id"] for o in body["orders"]]) == (0, [first["id"]])
    cancelled = rider.send("DELETE", f"/me/meal-orders/{first['id']}")
    assert cancelled.status_code == 200, cancelled.content
    assert cancelled.json()["status"] == "cancelled"
    assert MenuItem.objects.get(pk=w.item_full.pk).sold == 0
    assert rider.get("/me/meal-price", canteen=canteen).json()["subsidised_meals_left"] == 1
    again = rider.post("/meal-orders", {"menu_item_id": w.item_good.pk, "tier_id": w.rider_tier.pk})
    assert again.status_code == 201, again.content
    order = again.json()
    assert (order["set_meal"], order["pay_fen"], order["subsidy_fen"]) == ("吃得好套餐", 1500, 1000)

    # Noon at the counter: the terminal scans the pass; nothing is used up.
    set_clock(monkeypatch, at(0, 12))
    token = pass_of(w.rider)
    uses = PassUse.objects.count()
    looked = terminal.post("/devices/canteen/lookup", {"token": token})
    assert looked.status_code == 200, looked.content
    body = looked.json()
    assert (body["resident"], body["subsidised_meals_left"], body["order"]["id"]) == (
        w.rider.masked_name,
        0,
        order["id"],
    )
    assert PassUse.objects.count() == uses
    assert terminal.get("/devices/canteen/menu").json()["canteen"]["id"] == canteen

    # The terminal serves the order; a retry with the same key is answered the same.
    meals, entries = Meal.objects.count(), Entry.objects.count()
    served = terminal.post(
        "/devices/canteen/servings", {"token": token}, headers={"Idempotency-Key": "lunch-1"}
    )
    assert served.status_code == 201, served.content
    assert served["Idempotent-Replayed"] == "false"
    body = served.json()
    assert (body["meal_id"], body["status"], body["channel"], body["pay_fen"], body["subsidised"]) == (
        order["id"],
        "served",
        "order",
        1500,
        True,
    )
    assert (Meal.objects.count(), Entry.objects.count()) == (meals, entries + 3)
    replay = terminal.post(
        "/devices/canteen/servings", {"token": token}, headers={"Idempotency-Key": "lunch-1"}
    )
    assert replay.status_code == 201, replay.content
    assert replay["Idempotent-Replayed"] == "true"
    assert replay.json() == body
    assert (Meal.objects.count(), Entry.objects.count()) == (meals, entries + 3)
    assert MenuItem.objects.get(pk=w.item_good.pk).sold == 1

    # A walk-in pays the list price.
    walk_in = terminal.post(
        "/devices/canteen/servings", {"menu_item_id": w.item_full.pk}, headers={"Idempotency-Key": "lunch-2"}
    )
    assert walk_in.status_code == 201, walk_in.content
    sale = walk_in.json()
    assert (sale["channel"], sale["pay_fen"], sale["subsidised"], sale["group"], sale["eater"]) == (
        "walk_in",
        1800,
        False,
        "",
        "",
    )

    # The rider's history: the cancelled order and the meal served.
    history = rider.get("/me/meals").json()
    assert {(m["id"], m["status"]) for m in history} == {(first["id"], "cancelled"), (order["id"], "served")}

    # The walk-in's meal is refunded: compensating entries, the original ones stay.
    refunded = desk.post(f"/staff/meals/{sale['meal_id']}/refund", {"reason": "菜品有误"})
    assert refunded.status_code == 200, refunded.content
    assert refunded.json()["status"] == "refunded"
    assert sorted(Entry.objects.filter(meal_id=sale["meal_id"]).values_list("kind", "amount_fen")) == [
        ("refund", -1800),
        ("served", 1800),
    ]

    # The month's claim: the rider's subsidy, per funder.
    month = today.strftime("%Y-%m")
    claim = desk.get("/staff/meals/claims", period=month)
    assert claim.status_code == 200, claim.content
    body = claim.json()
    assert (body["period"], body["start"], body["end"]) == (
        month,
        str(today.replace(day=1)),
        str((today.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)),
    )
    assert [
        (line["operator"], line["funder"], line["meals"], line["amount_fen"]) for line in body["lines"]
    ] == [
        ("福中福社会企业", "district", 1, 600),
        ("福中福社会企业", "street", 1, 400),
    ]
    assert body["totals"] == {"city": 0, "district": 600, "street": 400, "all": 1000}
    quarter = f"{today.year}-Q{(today.month - 1) // 3 + 1}"
    assert desk.get("/staff/meals/claims", period=quarter).json()["totals"] == body["totals"]

    # The district sets the year's district budget and sees it against what was spent.
    budget = boss.put(
        "/staff/meals/budgets", {"year": today.year, "layer": "district", "amount_fen": 100_000_000}
    )
    assert budget.status_code == 200, budget.content
    assert budget.json() == {
        "year": today.year,
        "layer": "district",
        "street_id": None,
        "amount_fen": 100_000_000,
    }
    assert Budget.objects.get().amount_fen == 100_000_000
    figures = boss.get("/staff/meals/figures", period=month)
    assert figures.status_code == 200, figures.content
    body = figures.json()
    assert body["by_group"] == [{"group": "rider", "meals": 1, "eater_fen": 1500, "subsidy_fen": 1000}]
    assert [(c["canteen_id"], c["meals"], c["subsidised"]) for c in body["by_canteen"]] == [(canteen, 1, 1)]
    budgets = {(b["layer"], b["street"]): (b["budget_fen"], b["spent_fen"]) for b in body["budgets"]}
    assert budgets[("district", "")] == (100_000_000, 600)
    assert budgets[("street", "西乡街道")] == (None, 400)
