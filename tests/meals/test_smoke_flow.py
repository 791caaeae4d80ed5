"""The whole path once: a rider orders at their price, picks up at the terminal; a walk-in pays
the list price; entries add up."""

from __future__ import annotations

from livingroom.meals import selectors, services
from livingroom.meals.models import Entry, Meal
from tests.meals.conftest import at, pass_of


def test_rider_orders_and_picks_up(meals_world):
    w = meals_world
    prices = selectors.price_list(w.rider, w.canteen, at().date())
    by_name = {p.item.set_meal.name: p.price for _m, items in prices.menus for p in items}
    assert by_name["吃得饱套餐"].eater_fen == 1000
    assert by_name["吃得好套餐"].eater_fen == 1500
    meal = services.meal_order(resident=w.rider, menu_item_id=w.item_full.pk, now=at(hour=10))
    assert meal.subsidised and meal.eater_fen == 1000 and meal.street_fen == 300
    token = pass_of(w.rider)
    status, body, replayed = services.serving_at_terminal(
        device=w.device, key="k1", token=token, menu_item_id=None, now=at()
    )
    assert status == 201, body
    assert body["pay_fen"] == 1000 and not replayed
    again = services.serving_at_terminal(device=w.device, key="k1", token=token, menu_item_id=None, now=at())
    assert again == (201, body, True)
    assert Meal.objects.get(pk=meal.pk).status == "served"
    assert sorted(Entry.objects.values_list("layer", "amount_fen")) == [
        ("district", 500), ("eater", 1000), ("street", 300)
    ]


def test_walk_in_and_far_rider(meals_world):
    w = meals_world
    status, body, _ = services.serving_at_terminal(
        device=w.device, key="w1", token=None, menu_item_id=w.item_good.pk, now=at()
    )
    assert status == 201 and body["pay_fen"] == 2500 and not body["subsidised"]
    status, body, _ = services.serving_at_terminal(
        device=w.device, key="w2", token=pass_of(w.far_rider), menu_item_id=w.item_full.pk, now=at()
    )
    assert status == 201, body
    assert body["pay_fen"] == 1300 and body["subsidy_fen"] == 500, body
    status, body, _ = services.serving_at_terminal(
        device=w.device, key="w3", token=pass_of(w.far_rider), menu_item_id=w.item_full.pk, now=at()
    )
    assert status == 409 and body["code"] == "subsidised_meal_taken"
