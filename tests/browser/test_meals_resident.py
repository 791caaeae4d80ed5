"""A rider on a phone finds the canteen, sees their 10- and 15-yuan prices (the list prices struck
through), orders the 10-yuan set for tomorrow's lunch and finds it under "my meals", where it can
be cancelled. In Debian's Chromium, with axe-core on every page at 375 px, in the standard and the
elderly-friendly mode. Selectors use ids, hrefs and classes: labels are being translated.

The order is for tomorrow's lunch, so the test does not depend on the hour it runs at (today's
lunch closes at 13:30)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from livingroom.meals import services
from livingroom.meals.models import Meal, MenuItem, SetMeal
from livingroom.meals.services import MenuLine
from tests.browser.test_booking import sign_in
from tests.browser.test_browser import DESKTOP, PHONE, assert_accessible, at
from tests.meals.conftest import (
    LUNCH,
    jpeg_bytes,
    meals_world,  # noqa: F401 - the fixture, for this folder
)

PHONE_NUMBER = "13712345555"


@pytest.fixture
def meals(ledger_emptied_after, request):
    """The meals world, the rider with a known phone, the ¥18 set with a photo, and tomorrow's
    lunch published at 固戍's canteen."""
    w = request.getfixturevalue("meals_world")  # imported above; after the transactional database
    user = w.rider.user
    user.set_phone(PHONE_NUMBER)
    user.save()
    SetMeal.objects.filter(pk=w.full.pk).update(photo=jpeg_bytes(320, 200))
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    menu = services.menu_publish(
        scope=w.scope(),
        actor=w.desk,
        canteen_id=w.canteen.pk,
        day=tomorrow,
        serves_from=LUNCH[0],
        serves_until=LUNCH[1],
        items=[MenuLine(set_meal_id=m.pk, portions=20) for m in (w.full, w.good)],
    )
    return {"world": w, "tomorrow": tomorrow, "item": menu.items.get(set_meal=w.full)}


@pytest.mark.browser
def test_a_rider_sees_their_prices_orders_and_finds_the_order(new_page, meals, artifacts):
    w, tomorrow, item = meals["world"], meals["tomorrow"], meals["item"]
    canteen_path = f"/meals/canteens/{w.canteen.pk}/"
    page = new_page(PHONE)
    sign_in(page, PHONE_NUMBER)

    # The canteen list: both canteens, today's lunch hours.
    page.goto("/meals/")
    assert page.locator(".ml-canteens .ml-canteen").count() == 2
    assert "11:00–13:30" in page.locator(f"#canteen-{w.canteen.pk}").inner_text()
    assert_accessible(page, "canteens")
    page.screenshot(path=artifacts / "meals-canteens.png", full_page=True)

    # Today's menu at 固戍: the rider's prices, the list prices struck through.
    page.click(f".ml-canteens a[href='{canteen_path}']")
    page.wait_for_url(at(canteen_path))
    prices = page.locator(".ml-item .ml-price").all_inner_texts()
    assert prices == ["¥10.00", "¥15.00"], prices
    assert page.locator(".ml-item s").all_inner_texts() == ["¥18.00", "¥25.00"]
    assert "美团" in page.locator(f"#item-{w.item_full.pk} .ml-item__why").inner_text()
    assert page.locator("#subsidised-left").inner_text() == "1"
    assert_accessible(page, "canteen, today")

    # Tomorrow: order the ¥10 set.
    page.click(f"nav.ml-days a[href='?date={tomorrow:%Y-%m-%d}']")
    page.wait_for_url(lambda url: f"date={tomorrow:%Y-%m-%d}" in url)
    assert page.locator(f"#item-{item.pk} .ml-price").inner_text() == "¥10.00"
    assert page.locator(f"#item-{item.pk} img.ml-item__photo").count() == 1
    assert_accessible(page, "canteen, tomorrow")
    page.screenshot(path=artifacts / "meals-canteen.png", full_page=True)
    page.click(f"#item-{item.pk} button.ml-order")
    page.wait_for_url(at(canteen_path))
    assert page.locator(".flash__item--success").count() == 1
    assert page.locator("#my-orders .ml-meal--ordered").count() == 1
    assert page.locator("#subsidised-left").inner_text() == "0"
    assert_accessible(page, "canteen, ordered")
    (meal,) = Meal.objects.all()
    assert (meal.resident_id, meal.item_id, meal.eater_fen, meal.subsidised) == (
        w.rider.pk,
        item.pk,
        1000,
        True,
    )
    assert MenuItem.objects.get(pk=item.pk).sold == 1

    # My meals: the order, its price, a way to show the pass, and Cancel.
    page.goto("/me/meals/")
    order = page.locator(f"#orders #meal-{meal.pk}")
    assert order.count() == 1
    assert "¥10.00" in order.inner_text() and "吃得饱套餐" in order.inner_text()
    assert page.locator("#orders a[href='/me/pass/']").count() == 1
    assert_accessible(page, "my meals")
    page.screenshot(path=artifacts / "meals-mine.png", full_page=True)

    # The elderly-friendly mode: the same pages still pass and fit 375 px.
    page.click("form[action='/settings/elderly/'] button")
    page.wait_for_function("document.body.classList.contains('elderly')")
    assert_accessible(page, "my meals (elderly)")
    page.goto(f"{canteen_path}?date={tomorrow:%Y-%m-%d}")
    assert_accessible(page, "canteen (elderly)")
    page.screenshot(path=artifacts / "meals-canteen-elderly.png", full_page=True)

    # Cancelling gives the portion back.
    page.goto("/me/meals/")
    page.click(f"form[action='/me/meals/{meal.pk}/cancel/'] button[type=submit]")
    page.wait_for_url(at("/me/meals/"))
    assert page.locator(".flash__item--success").count() == 1
    assert page.locator(f"#history #meal-{meal.pk}.ml-meal--cancelled").count() == 1
    assert MenuItem.objects.get(pk=item.pk).sold == 0


@pytest.mark.browser
def test_a_visitor_sees_list_prices_on_a_desktop(new_page, meals, artifacts):
    w = meals["world"]
    page = new_page(DESKTOP)
    page.goto(f"/meals/canteens/{w.canteen.pk}/")
    assert page.locator(".ml-item .ml-price").all_inner_texts() == ["¥18.00", "¥25.00"]
    assert page.locator("button.ml-order").count() == 0
    assert page.locator("#me a[href^='/login/?next=']").count() == 1
    assert_accessible(page, "canteen, visitor")
    page.screenshot(path=artifacts / "meals-canteen-visitor.png", full_page=True)
