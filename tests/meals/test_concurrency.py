"""Meal assistance under real parallel connections (PostgreSQL; skipped on SQLite).

Each worker thread has its own database connection; a barrier releases them together. The stock is
kept by one conditional ``UPDATE`` (``sold < portions``), the day's subsidised meal by a partial
unique index across all canteens, a terminal's retry by its idempotency key: whoever comes second
gets a domain error and writes nothing. After each rush the books are checked.
"""

from __future__ import annotations

from collections import Counter

import pytest
from django.db.models import Sum

from livingroom.core.models import IdempotencyRecord
from livingroom.meals import services
from livingroom.meals.models import Entry, Meal, MenuItem
from livingroom.people.models import PassUse
from livingroom.places.models import Device
from tests import factories as f
from tests.meals.conftest import at, pass_of, verify_rider
from tests.parallel import in_parallel

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


def riders(w, n: int) -> list:
    people = []
    for i in range(n):
        person = f.ResidentFactory(home_community=w.place["communities"][0], real_name=f"骑手{i}")
        verify_rider(person, w.desk)
        people.append(person)
    return people


def last_portions(w, left: int, taken: int = 5) -> MenuItem:
    """吃得饱 with ``taken`` portions sold to walk-ins and ``left`` still to sell."""
    w.publish(portions=taken + left)
    for i in range(taken):
        status, body, _ = services.serving_at_terminal(
            device=w.device, key=f"before-{i}", token=None, menu_item_id=w.item_full.pk, now=at()
        )
        assert status == 201, body
    item = MenuItem.objects.get(pk=w.item_full.pk)
    assert (item.portions - item.sold) == left
    return item


def assert_books() -> None:
    """Stock equals the live meals; every served meal's entries add up to what it cost."""
    for item in MenuItem.objects.all():
        taken = Meal.objects.filter(item=item).exclude(status="cancelled").count()
        assert item.sold == taken <= item.portions, item
    for meal in Meal.objects.filter(status="served"):
        total = Entry.objects.filter(meal=meal).aggregate(s=Sum("amount_fen"))["s"]
        assert total == meal.eater_fen + meal.subsidy_fen, meal.pk
    assert not Entry.objects.filter(meal__status__in=["ordered", "cancelled", "no_show"]).exists()
    # Never two live subsidised meals of one person on one day.
    live = Meal.objects.filter(subsidised=True, status__in=Meal.LIVE)
    assert live.values("resident", "day").distinct().count() == live.count()


def test_forty_riders_order_the_last_25_portions(meals_world):
    w = meals_world
    item = last_portions(w, 25)
    people = riders(w, 40)

    def go(i: int):
        meal = services.meal_order(resident=people[i], menu_item_id=item.pk, now=at(hour=9))
        return ("ordered", meal.subsidised, meal.eater_fen)

    results = in_parallel(40, go)
    assert Counter(results) == Counter({("ordered", True, 1000): 25, "sold_out": 15}), results
    item.refresh_from_db()
    assert item.sold == item.portions == 30
    assert Meal.objects.filter(item=item, channel="order").count() == 25
    assert not Entry.objects.filter(meal__channel="order").exists()
    assert_books()
    # They all pick up: 25 served, each with its three entries.
    for i, person in enumerate(people):
        if results[i] != "sold_out":
            status, body, _ = services.serving_at_terminal(
                device=w.device, key=f"pick-{i}", token=pass_of(person), menu_item_id=None, now=at()
            )
            assert (status, body["pay_fen"]) == (201, 1000), body
    served = Entry.objects.filter(meal__channel="order")
    assert served.count() == 75
    assert served.aggregate(s=Sum("amount_fen"))["s"] == 25 * 1800
    assert_books()


def test_forty_servings_at_the_terminal_for_the_last_25_portions(meals_world):
    w = meals_world
    item = last_portions(w, 25)
    people = riders(w, 40)
    tokens = [pass_of(p) for p in people]
    entries_before = Entry.objects.count()

    def go(i: int):
        status, body, replayed = services.serving_at_terminal(
            device=w.device, key=f"rush-{i}", token=tokens[i], menu_item_id=item.pk, now=at()
        )
        return (status, body.get("code") or body["pay_fen"], replayed)

    results = in_parallel(40, go)
    assert Counter(results) == Counter({(201, 1000, False): 25, (409, "sold_out", False): 15}), results
    item.refresh_from_db()
    assert item.sold == item.portions == 30
    assert Meal.objects.filter(item=item, channel="counter", status="served").count() == 25
    assert Entry.objects.count() - entries_before == 25 * 3
    assert Entry.objects.filter(meal__channel="counter").aggregate(s=Sum("amount_fen"))["s"] == 25 * 1800
    # Every answer kept; the refused ones did not use up their pass.
    assert IdempotencyRecord.objects.filter(key__startswith="rush-").count() == 40
    assert PassUse.objects.count() == 25
    assert_books()


def test_walk_ins_and_riders_at_two_terminals(meals_world):
    """Two terminals of one canteen, riders and walk-ins mixed, 40 requests for 25 portions."""
    w = meals_world
    item = last_portions(w, 25)
    second, _secret = f.device_for(w.place["centers"][0], Device.Kind.CANTEEN_TERMINAL)
    people = riders(w, 20)
    tokens = [pass_of(p) for p in people]

    def go(i: int):
        status, body, _ = services.serving_at_terminal(
            device=(w.device, second)[(i // 2) % 2],
            key=f"mix-{i}",
            token=tokens[i // 2] if i % 2 == 0 else None,
            menu_item_id=item.pk,
            now=at(),
        )
        return status if status == 201 else body["code"]

    results = in_parallel(40, go)
    assert Counter(results) == Counter({201: 25, "sold_out": 15}), results
    item.refresh_from_db()
    assert item.sold == 30
    assert_books()


def test_one_rider_orders_at_two_canteens_at_the_same_instant(meals_world):
    w = meals_world
    people = riders(w, 10)
    items = (w.item_full, w.other_item)

    def go(i: int):
        meal = services.meal_order(resident=people[i // 2], menu_item_id=items[i % 2].pk, now=at(hour=9))
        return ("ordered", meal.subsidised)

    results = in_parallel(20, go)
    for n in range(10):
        pair = Counter(results[2 * n : 2 * n + 2])
        assert pair == Counter({("ordered", True): 1, "subsidised_meal_taken": 1}), results
    assert Meal.objects.filter(resident__in=people).count() == 10
    assert Meal.objects.filter(resident__in=people, subsidised=True).count() == 10
    sold = MenuItem.objects.get(pk=w.item_full.pk).sold + MenuItem.objects.get(pk=w.other_item.pk).sold
    assert sold == 10
    assert_books()


def test_one_rider_served_at_two_canteens_at_the_same_instant(meals_world):
    w = meals_world
    people = riders(w, 10)
    other_terminal, _secret = f.device_for(w.place["centers"][1], Device.Kind.CANTEEN_TERMINAL)
    where = ((w.device, w.item_full), (other_terminal, w.other_item))
    tokens = [pass_of(people[i // 2]) for i in range(20)]

    def go(i: int):
        device, item = where[i % 2]
        status, body, _ = services.serving_at_terminal(
            device=device, key=f"two-{i}", token=tokens[i], menu_item_id=item.pk, now=at()
        )
        return status if status == 201 else body["code"]

    results = in_parallel(20, go)
    for n in range(10):
        assert Counter(results[2 * n : 2 * n + 2]) == Counter({201: 1, "subsidised_meal_taken": 1}), results
    assert Meal.objects.filter(resident__in=people, subsidised=True, status="served").count() == 10
    assert Meal.objects.filter(resident__in=people).count() == 10
    assert Entry.objects.filter(meal__resident__in=people).aggregate(s=Sum("amount_fen"))["s"] == 10 * 1800
    assert_books()


def test_one_terminal_request_sent_several_times_at_once(meals_world):
    w = meals_world
    token = pass_of(w.rider)

    def go(_i: int):
        return services.serving_at_terminal(
            device=w.device, key="same-key", token=token, menu_item_id=w.item_full.pk, now=at()
        )

    results = in_parallel(8, go)
    assert all(isinstance(r, tuple) for r in results), results
    assert {(status, body["meal_id"]) for status, body, _ in results} == {(201, results[0][1]["meal_id"])}
    assert sorted(replayed for _s, _b, replayed in results) == [False] + [True] * 7
    assert Meal.objects.count() == 1
    assert MenuItem.objects.get(pk=w.item_full.pk).sold == 1
    assert Entry.objects.count() == 3 and PassUse.objects.count() == 1
    assert IdempotencyRecord.objects.filter(key="same-key").count() == 1
    assert_books()


def test_one_order_picked_up_at_two_terminals_at_once(meals_world):
    """A rider's order scanned at both terminals of the canteen in the same instant (two passes):
    it is served once, and the second finds no order left."""
    w = meals_world
    services.meal_order(resident=w.rider, menu_item_id=w.item_full.pk, now=at(hour=9))
    second, _secret = f.device_for(w.place["centers"][0], Device.Kind.CANTEEN_TERMINAL)
    tokens = [pass_of(w.rider), pass_of(w.rider)]

    def go(i: int):
        status, body, _ = services.serving_at_terminal(
            device=(w.device, second)[i], key=f"pick-{i}", token=tokens[i], menu_item_id=None, now=at()
        )
        return status if status == 201 else body["code"]

    results = in_parallel(2, go)
    assert Counter(results) == Counter({201: 1, "no_order_here": 1}), results
    assert Entry.objects.count() == 3
    assert MenuItem.objects.get(pk=w.item_full.pk).sold == 1
    assert_books()


def test_cancelling_while_the_terminal_serves(meals_world):
    """Cancel and pick-up of one order at once (the order's serving window open at the terminal,
    the cancel judged before it): exactly one wins; the portion and the entries agree."""
    w = meals_world
    meal = services.meal_order(resident=w.rider, menu_item_id=w.item_full.pk, now=at(hour=9))
    token = pass_of(w.rider)

    def go(i: int):
        if i == 0:
            return services.meal_order_cancel(resident=w.rider, meal_id=meal.pk, now=at(hour=10)).status
        status, body, _ = services.serving_at_terminal(
            device=w.device, key="race", token=token, menu_item_id=None, now=at()
        )
        return status if status == 201 else body["code"]

    results = in_parallel(2, go)
    assert results in (["cancelled", "no_order_here"], ["not_cancellable", 201]), results
    meal.refresh_from_db()
    assert meal.status in ("cancelled", "served")
    assert MenuItem.objects.get(pk=w.item_full.pk).sold == (1 if meal.status == "served" else 0)
    assert Entry.objects.count() == (3 if meal.status == "served" else 0)
    assert_books()
