"""The resident and public pages of meal assistance, through Django's test client: the canteens
with today's serving hours (and the center filter), a canteen's menus priced for the rider, the
72-year-old, a resident with no group and a visitor; ordering ahead (one meal, one portion), each
refusal shown at the set meal with nothing written, ordering at full price after a refused
subsidy, my meals and cancelling (another resident's meal is not found), and the photos.

Orders are placed on tomorrow's lunch (published in each test), so that they do not depend on the
hour the tests run at: today's lunch closes at 13:30. Pages are read in English (the language
cookie), so the checks do not depend on translations."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from livingroom.meals import services
from livingroom.meals.models import Canteen, Meal, MenuItem, SetMeal
from livingroom.meals.services import MenuLine
from livingroom.places.models import CalendarDay
from tests.meals.conftest import LUNCH, jpeg_bytes

pytestmark = pytest.mark.django_db


# --- helpers ------------------------------------------------------------------------------------


def page_client(resident=None) -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    if resident is not None:
        client.force_login(resident.user)
    return client


def html(response, status: int = 200) -> str:
    assert response.status_code == status, (response.status_code, response.content[:300])
    return response.content.decode()


def text(response, status: int = 200) -> str:
    """The page's visible text, whitespace collapsed (tags dropped)."""
    body = re.sub(r"<style>.*?</style>", " ", html(response, status), flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", body).split())


def item_text(response, item: MenuItem, status: int = 200) -> str:
    """The visible text of one set meal on the canteen page."""
    body = html(response, status)
    found = re.search(rf'<li class="ml-item[^"]*" id="item-{item.pk}">(.*?)</li>', body, flags=re.S)
    assert found, f"item-{item.pk} is not on the page"
    return " ".join(re.sub(r"<[^>]+>", " ", found[1]).split())


def flashes(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def tomorrow() -> dt.date:
    return timezone.localdate() + dt.timedelta(days=1)


def tomorrows_items(w, canteen: Canteen | None = None, portions: int = 50) -> dict[str, MenuItem]:
    """Tomorrow's lunch (11:00–13:30) at the canteen (固戍's by default), by set meal name."""
    canteen = canteen or w.canteen
    staff = w.desk if canteen.pk == w.canteen.pk else w.roles["center"]  # 龙珠's canteen: its center staff
    menu = services.menu_publish(
        scope=w.scope(staff),
        actor=staff,
        canteen_id=canteen.pk,
        day=tomorrow(),
        serves_from=LUNCH[0],
        serves_until=LUNCH[1],
        items=[
            MenuLine(set_meal_id=m.pk, portions=portions) for m in SetMeal.objects.filter(canteen=canteen)
        ],
    )
    return {i.set_meal.name: i for i in menu.items.select_related("set_meal")}


def canteen_url(canteen: Canteen, day: dt.date | None = None) -> str:
    url = f"/meals/canteens/{canteen.pk}/"
    return f"{url}?date={day:%Y-%m-%d}" if day else url


def order(client: Client, canteen: Canteen, item: MenuItem, **extra):
    data = {"menu_item": item.pk, "date": f"{item.menu.day:%Y-%m-%d}", **extra}
    return client.post(f"/meals/canteens/{canteen.pk}/order/", data)


# --- the canteens -------------------------------------------------------------------------------


def test_canteens_list_today_hours_and_filter_by_center(meals_world):
    w = meals_world
    page = text(page_client().get("/meals/"))
    assert "固戍社区饭堂" in page and "龙珠社区饭堂" in page
    assert page.count("Lunch 11:00–13:30") == 2
    assert "Run by 福中福社会企业" in page
    body = html(page_client().get("/meals/"))
    assert f'href="/meals/canteens/{w.canteen.pk}/"' in body
    assert f'href="/meals/canteens/{w.other.pk}/"' in body

    only = text(page_client().get(f"/meals/?center={w.other.center_id}"))
    assert "龙珠社区饭堂" in only and "固戍社区饭堂" not in only


def test_canteen_without_orders_says_buy_at_the_counter(meals_world):
    w = meals_world
    Canteen.objects.filter(pk=w.canteen.pk).update(takes_orders=False)
    assert "Buy at the counter" in text(page_client().get("/meals/"))
    response = page_client(w.rider).get(canteen_url(w.canteen))
    assert "buy at the counter" in text(response)
    assert "ml-order" not in html(response)
    # Posting anyway is refused by the service, shown at the set meal, nothing written.
    items = tomorrows_items(w)
    refused = order(page_client(w.rider), w.canteen, items["吃得饱套餐"])
    assert "does not take orders ahead" in item_text(refused, items["吃得饱套餐"], status=409)
    assert not Meal.objects.exists()


# --- prices -------------------------------------------------------------------------------------


def test_the_rider_sees_their_prices_tier_and_reason(meals_world):
    w = meals_world
    response = page_client(w.rider).get(canteen_url(w.canteen))
    full, good = item_text(response, w.item_full), item_text(response, w.item_good)
    assert "¥10.00" in full and "¥18.00" in full  # the list price, struck through
    assert "¥15.00" in good and "¥25.00" in good
    assert "骑手暖心餐" in full and "美团" in full
    assert "50 portions left" in full and "30 portions left" in good
    body = html(response)
    assert re.search(r"<s>¥18\.00</s>", body) and re.search(r"<s>¥25\.00</s>", body)
    assert '<span class="ml-price">¥10.00</span>' in body
    assert re.search(r'id="subsidised-left">1<', body)
    page = text(response)
    assert "Delivery rider / courier" in page  # their group
    assert "Subsidised meals left that day: 1" in page
    assert 'href="/me/pass/"' in body


def test_the_72_year_old_sees_the_elderly_70_tier(meals_world):
    w = meals_world
    response = page_client(w.old).get(canteen_url(w.canteen))
    full, good = item_text(response, w.item_full), item_text(response, w.item_good)
    assert "¥13.00" in full and "¥18.00" in full
    assert "¥20.00" in good and "¥25.00" in good
    assert "长者餐（70–79岁）" in full and "长者餐（70–79岁）" in good
    assert "by the birth date on the ID card" in full


def test_a_visitor_sees_list_prices_and_a_sign_in_link(meals_world):
    w = meals_world
    response = page_client().get(canteen_url(w.canteen))
    full, good = item_text(response, w.item_full), item_text(response, w.item_good)
    assert "¥18.00" in full and "¥10.00" not in full and "骑手暖心餐" not in full
    assert "¥25.00" in good and "¥15.00" not in good
    body = html(response)
    assert "<s>" not in body and "ml-order" not in body
    assert f'href="/login/?next=/meals/canteens/{w.canteen.pk}/"' in body
    # Ordering needs signing in.
    posted = order(page_client(), w.canteen, w.item_full)
    assert posted.status_code == 302 and posted["Location"].startswith("/login/?next=")
    assert not Meal.objects.exists()


def test_a_resident_with_no_group_pays_the_list_price(meals_world):
    w = meals_world
    response = page_client(w.young).get(canteen_url(w.canteen))
    assert "¥18.00" in item_text(response, w.item_full)
    assert "<s>" not in html(response)
    assert "You pay the list price here" in text(response)


def test_no_subsidy_on_a_public_holiday_is_said(meals_world):
    w = meals_world
    CalendarDay.objects.create(date=timezone.localdate(), kind=CalendarDay.Kind.HOLIDAY, name="国庆节")
    response = page_client(w.rider).get(canteen_url(w.canteen))
    assert "public holiday" in text(response)
    full = item_text(response, w.item_full)
    assert "¥18.00" in full and "¥10.00" not in full


def test_another_day_and_a_bad_date(meals_world):
    w = meals_world
    empty = page_client(w.rider).get(canteen_url(w.canteen, tomorrow()))
    assert f"No menu is published for {tomorrow():%Y-%m-%d}" in text(empty)
    items = tomorrows_items(w)
    response = page_client(w.rider).get(canteen_url(w.canteen, tomorrow()))
    assert "¥10.00" in item_text(response, items["吃得饱套餐"])
    assert page_client().get(f"{canteen_url(w.canteen)}?date=27/11/2026").status_code == 400
    assert page_client().get(f"{canteen_url(w.canteen)}?date=1999-01-01").status_code == 400
    assert page_client().get("/meals/canteens/999999/").status_code == 404


# --- ordering -----------------------------------------------------------------------------------


def test_ordering_creates_one_meal_and_takes_one_portion(meals_world):
    w = meals_world
    items = tomorrows_items(w)
    item = items["吃得饱套餐"]
    client = page_client(w.rider)
    response = order(client, w.canteen, item)
    assert response.status_code == 302, response.content[:300]
    assert response["Location"] == f"/meals/canteens/{w.canteen.pk}/?date={tomorrow():%Y-%m-%d}"
    (meal,) = Meal.objects.all()
    assert (meal.resident_id, meal.item_id, meal.status, meal.channel) == (
        w.rider.pk,
        item.pk,
        "ordered",
        "order",
    )
    assert (meal.eater_fen, meal.subsidy_fen, meal.subsidised) == (1000, 800, True)
    item.refresh_from_db()
    assert item.sold == 1
    page = client.get(response["Location"])
    assert any("Ordered: 吃得饱套餐 for ¥10.00" in m for m in flashes(page))
    body = html(page)
    assert f'id="meal-{meal.pk}"' in body and f'action="/me/meals/{meal.pk}/cancel/"' in body
    assert re.search(r'id="subsidised-left">0<', body)
    assert "49 portions left" in item_text(page, item)


def test_a_sold_out_meal_is_refused_and_nothing_is_written(meals_world):
    w = meals_world
    items = tomorrows_items(w, portions=1)
    item = items["吃得好套餐"]
    services.meal_order(resident=w.old, menu_item_id=item.pk)
    before = Meal.objects.count()
    response = order(page_client(w.rider), w.canteen, item)
    shown = item_text(response, item, status=409)
    assert "This set meal is sold out." in shown
    assert "Order at full price" not in shown
    assert Meal.objects.count() == before
    item.refresh_from_db()
    assert item.sold == 1
    # The page shows it sold out, without an Order button for it.
    page = page_client(w.rider).get(canteen_url(w.canteen, tomorrow()))
    assert "Sold out" in item_text(page, item)
    assert f'name="menu_item" value="{item.pk}"' not in html(page)


def test_a_second_subsidised_meal_is_refused_then_ordered_at_full_price(meals_world):
    w = meals_world
    items = tomorrows_items(w)
    client = page_client(w.rider)
    assert order(client, w.canteen, items["吃得饱套餐"]).status_code == 302
    good = items["吃得好套餐"]
    response = order(client, w.canteen, good)
    shown = item_text(response, good, status=409)
    assert "You already have your subsidised meal for" in shown
    assert "Order at full price (¥25.00)" in shown
    assert Meal.objects.count() == 1
    good.refresh_from_db()
    assert good.sold == 0
    # The offer: the same meal without the subsidy.
    again = order(client, w.canteen, good, full_price="on")
    assert again.status_code == 302
    meal = Meal.objects.get(item=good)
    assert (meal.eater_fen, meal.subsidy_fen, meal.subsidised, meal.group) == (2500, 0, False, "rider")
    # The page now prices the subsidised tiers without the subsidy, and says why.
    page = client.get(canteen_url(w.canteen, tomorrow()))
    assert "already taken" in item_text(page, items["吃得饱套餐"])
    assert re.search(r'id="subsidised-left">0<', html(page))


def test_a_second_subsidised_meal_at_another_canteen_is_refused(meals_world):
    w = meals_world
    here = tomorrows_items(w)["吃得饱套餐"]
    there = tomorrows_items(w, w.other)["吃得饱套餐"]
    client = page_client(w.rider)
    assert order(client, w.canteen, here).status_code == 302
    response = order(client, w.other, there)
    assert "You already have your subsidised meal for" in item_text(response, there, status=409)
    assert Meal.objects.count() == 1
    there.refresh_from_db()
    assert there.sold == 0


def test_a_bad_order_form_is_a_400(meals_world):
    w = meals_world
    client = page_client(w.rider)
    assert client.post(f"/meals/canteens/{w.canteen.pk}/order/", {"menu_item": "x"}).status_code == 400
    assert client.post(f"/meals/canteens/{w.canteen.pk}/order/", {"menu_item": 999999}).status_code == 404
    assert client.get(f"/meals/canteens/{w.canteen.pk}/order/").status_code == 405
    assert not Meal.objects.exists()


# --- my meals -----------------------------------------------------------------------------------


def test_my_meals_lists_orders_and_history_and_cancel_works(meals_world):
    w = meals_world
    items = tomorrows_items(w)
    item = items["吃得饱套餐"]
    meal = services.meal_order(resident=w.rider, menu_item_id=item.pk)
    client = page_client(w.rider)
    response = client.get("/me/meals/")
    body = html(response)
    assert f'id="meal-{meal.pk}"' in body
    assert 'href="/me/pass/"' in body
    page = text(response)
    assert "吃得饱套餐" in page and "¥10.00" in page and "固戍社区饭堂" in page
    assert f"{tomorrow():%Y-%m-%d}" in page and "subsidy ¥8.00" in page and "Ordered" in page

    cancelled = client.post(f"/me/meals/{meal.pk}/cancel/", {"next": "/me/meals/"})
    assert cancelled.status_code == 302 and cancelled["Location"] == "/me/meals/"
    meal.refresh_from_db()
    item.refresh_from_db()
    assert meal.status == "cancelled" and item.sold == 0
    after = client.get("/me/meals/")
    assert any("is cancelled" in m for m in flashes(after))
    assert "No order to pick up." in text(after)
    assert "Cancelled" in text(after)  # in the history
    # The subsidised meal of the day is back: the rider can order again at ¥10.
    assert order(client, w.canteen, item).status_code == 302
    assert Meal.objects.get(status="ordered").eater_fen == 1000


def test_cancelling_another_residents_meal_is_not_found(meals_world):
    w = meals_world
    item = tomorrows_items(w)["吃得饱套餐"]
    meal = services.meal_order(resident=w.old, menu_item_id=item.pk)
    response = page_client(w.rider).post(f"/me/meals/{meal.pk}/cancel/")
    assert response.status_code == 404
    meal.refresh_from_db()
    item.refresh_from_db()
    assert meal.status == "ordered" and item.sold == 1


def test_a_meal_no_longer_cancellable_is_refused_with_a_message(meals_world):
    w = meals_world
    item = tomorrows_items(w)["吃得饱套餐"]
    meal = services.meal_order(resident=w.rider, menu_item_id=item.pk)
    services.meal_order_cancel(resident=w.rider, meal_id=meal.pk)
    client = page_client(w.rider)
    response = client.post(f"/me/meals/{meal.pk}/cancel/")
    assert response.status_code == 302
    assert any("can no longer be cancelled" in m for m in flashes(client.get("/me/meals/")))


def test_my_meals_needs_signing_in(meals_world):
    response = page_client().get("/me/meals/")
    assert response.status_code == 302 and response["Location"].startswith("/login/?next=")
    assert page_client().post("/me/meals/1/cancel/").status_code == 302


# --- photos -------------------------------------------------------------------------------------


def test_set_meal_photo(meals_world):
    w = meals_world
    photo = jpeg_bytes()
    SetMeal.objects.filter(pk=w.full.pk).update(photo=photo)
    response = page_client().get(f"/meals/photos/{w.full.pk}.jpg")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg" and "max-age" in response["Cache-Control"]
    assert response.content == photo
    assert page_client().get(f"/meals/photos/{w.good.pk}.jpg").status_code == 404
    assert page_client().get("/meals/photos/999999.jpg").status_code == 404
    body = html(page_client().get(canteen_url(w.canteen)))
    assert f'src="/meals/photos/{w.full.pk}.jpg"' in body
    assert f'src="/meals/photos/{w.good.pk}.jpg"' not in body
