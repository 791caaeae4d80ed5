"""The canteen counter in Debian's Chromium at 1280 px: staff sign in with password + TOTP, open
the counter, paste a verified rider's pass, look it up (the pass is not used yet), see the rider's
¥10.00, confirm and see what to hand over and take; axe-core on every page visited."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from livingroom.meals import services
from livingroom.meals.models import Meal
from livingroom.meals.services import MenuLine
from livingroom.people.models import PassUse
from tests.browser.test_browser import assert_accessible, at, staff_sign_in
from tests.meals.conftest import LUNCH, meals_world, pass_of  # noqa: F401 - the fixture

WIDE = {"width": 1280, "height": 900}


def _serving_now(w):
    """The menu item being served right now: today's lunch, or a menu published around now."""
    now = timezone.localtime()
    if LUNCH[0] <= now.time() < LUNCH[1]:
        return w.item_full
    if now.time() >= LUNCH[1]:
        period, earliest, latest = "dinner", LUNCH[1], dt.time(23, 59)
    else:
        period, earliest, latest = "breakfast", dt.time(0, 0), LUNCH[0]
    start = max((now - dt.timedelta(hours=1)).time(), earliest) if now.hour >= 1 else earliest
    end = min((now + dt.timedelta(hours=1)).time(), latest) if now.hour < 23 else latest
    menu = services.menu_publish(
        scope=w.scope(),
        actor=w.desk,
        canteen_id=w.canteen.pk,
        day=timezone.localdate(),
        period=period,
        serves_from=start,
        serves_until=end,
        items=[MenuLine(set_meal_id=w.full.pk, portions=20)],
    )
    return menu.items.get()


@pytest.fixture
def counter_world(ledger_emptied_after, meals_world):  # noqa: F811
    return meals_world, _serving_now(meals_world)


@pytest.mark.browser
def test_the_counter_scans_a_pass_and_serves(new_page, counter_world, artifacts):
    w, item = counter_world
    page = new_page(WIDE)
    staff_sign_in(page, w.desk)

    page.goto("/console/meals/")
    assert w.canteen.name in page.locator("#canteen-table").inner_text()
    assert_accessible(page, "meals overview")
    page.click(f"#canteen-table a[href='/console/meals/canteens/{w.canteen.pk}/counter/']")
    page.wait_for_url(at(f"/console/meals/canteens/{w.canteen.pk}/counter/"))
    assert_accessible(page, "counter")

    # The scanner types the pass into the focused field.
    page.fill("#id_token", pass_of(w.rider))
    page.click("#lookup-button")
    offer = page.locator(f"#offers li[data-item='{item.pk}']")
    offer.wait_for()
    assert "¥10.00" in offer.inner_text()
    assert w.rider.masked_name in page.locator("#preview-name").inner_text()
    assert PassUse.objects.count() == 0
    assert_accessible(page, "counter after looking up")
    page.screenshot(path=artifacts / "meals-counter-lookup.png", full_page=True)

    offer.locator("button[type=submit]").click()
    result = page.locator("#result[data-status='served']")
    result.wait_for()
    assert page.locator("#result-pay").inner_text().strip() == "¥10.00"
    assert page.locator("#result-meal").inner_text().strip() == w.full.name
    assert_accessible(page, "counter after serving")
    page.screenshot(path=artifacts / "meals-counter-served.png", full_page=True)

    meal = Meal.objects.get(resident=w.rider)
    assert (meal.status, meal.channel, meal.eater_fen, meal.item_id) == ("served", "counter", 1000, item.pk)
    assert PassUse.objects.filter(resident=w.rider).count() == 1
