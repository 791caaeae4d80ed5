"""The meals console through Django's test client: every page renders for the canteen's operator,
another community's staff find nothing (404), a sub-district official reads but changes nothing
(no forms; a posted change is 403); forms publish a menu, add a tier (a subsidy above the list
price is refused and writes nothing) and a set meal with its photo; the counter looks a pass up
without using it, serves once per form key, sells to a walk-in at the list price; the claim page
and its Excel file add up; and a rider's credential photo is stored encrypted and shown only to
staff who may see the resident, each viewing audited.

Pages are read in English (the language cookie), so the checks do not depend on translations.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import re
import time
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from livingroom.core.models import AuditEvent
from livingroom.meals import console_views, services
from livingroom.meals.models import Budget, Entry, Meal, Menu, SetMeal, Tier, TierPrice
from livingroom.people import passes
from livingroom.people.models import EligibilityVerification, PassUse
from tests.conftest import console_client, raw_rows
from tests.meals.conftest import at, jpeg_bytes, pass_of

pytestmark = pytest.mark.django_db

BASE = "/console/meals/"
_clients: dict[int, Client] = {}


@pytest.fixture(autouse=True)
def _fresh_clients():
    _clients.clear()
    yield
    _clients.clear()


def clock_at(monkeypatch, moment: dt.datetime) -> None:
    """The counter's clock and the pass's clock at ``moment`` (and ticking); sessions keep the real
    time."""
    offset = moment.timestamp() - time.time()
    monkeypatch.setattr(console_views, "_now", lambda: timezone.now() + dt.timedelta(seconds=offset))
    monkeypatch.setattr(passes, "time", SimpleNamespace(time=lambda: time.time() + offset))


@pytest.fixture
def lunchtime(monkeypatch):
    """Today 12:00 in Shanghai, inside the world's lunch."""
    clock_at(monkeypatch, at())


def console(user) -> Client:
    """One signed-in client per member of staff and test (a TOTP code is accepted once)."""
    if user.pk not in _clients:
        client = console_client(user)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        _clients[user.pk] = client
    return _clients[user.pk]


def text(response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def canteen_url(w, suffix: str = "") -> str:
    return f"{BASE}canteens/{w.canteen.pk}/{suffix}"


def serve(w, user, *, token: str | None, item, key: str, full_price: bool = False):
    data = {"action": "serve", "token": token or "", "key": key, "full_price": "1" if full_price else "0"}
    if item is not None:
        data["menu_item_id"] = item.pk
    return console(user).post(canteen_url(w, "counter/"), data)


# --- who sees what ------------------------------------------------------------------------------


def test_every_page_renders_for_the_operator(meals_world, lunchtime):
    w = meals_world
    for user in (w.desk, w.operator_staff):
        c = console(user)
        index = c.get(BASE)
        assert index.status_code == 200
        assert w.canteen.name in text(index)
        page = c.get(canteen_url(w))
        assert page.status_code == 200
        body = text(page)
        assert "吃得饱套餐" in body and "骑手暖心餐" in body
        assert 'value="tier_add"' in page.content.decode()
        assert 'value="menu_publish"' in page.content.decode()
        counter = c.get(canteen_url(w, "counter/"))
        assert counter.status_code == 200
        assert "Serving Lunch now" in text(counter)
        assert c.get(f"{BASE}claims/").status_code == 200
    # The operator's staff see their own canteen, not 龙珠's (run by that center).
    assert console(w.operator_staff).get(f"{BASE}canteens/{w.other.pk}/").status_code == 404


def test_another_community_finds_nothing(meals_world):
    c = console(meals_world.roles["other_community"])
    assert c.get(canteen_url(meals_world)).status_code == 404
    assert c.get(canteen_url(meals_world, "counter/")).status_code == 404
    index = c.get(BASE)
    assert index.status_code == 200 and meals_world.canteen.name not in text(index)
    assert c.get(f"{BASE}claims/?canteen={meals_world.canteen.pk}").status_code == 404


def test_anonymous_is_sent_to_the_login(meals_world):
    response = Client().get(canteen_url(meals_world))
    assert response.status_code == 302 and "/console/login/" in response["Location"]


def test_a_street_official_reads_but_cannot_change(meals_world):
    w = meals_world
    c = console(w.roles["street"])
    page = c.get(canteen_url(w))
    assert page.status_code == 200
    assert "Read only" in text(page) and "骑手暖心餐" in text(page)
    content = page.content.decode()
    for action in ("tier_add", "tier_edit", "menu_publish", "set_meal_add", "refund"):
        assert f'value="{action}"' not in content
    tiers = Tier.objects.count()
    posted = c.post(
        canteen_url(w),
        {"action": "tier_add", "tier-name": "x", "tier-group": "disabled", "tier-residency": "anywhere"},
    )
    assert posted.status_code == 403
    assert Tier.objects.count() == tiers
    assert c.get(canteen_url(w, "counter/")).status_code == 403
    # Officials see the month's figures; only the district sets budgets.
    index = c.get(BASE)
    assert 'id="by-group"' in index.content.decode() and 'id="budget-table"' not in index.content.decode()
    assert c.post(BASE, {"year": 2026, "layer": "city", "amount": "100"}).status_code == 403


# --- the canteen page ---------------------------------------------------------------------------


def test_publishing_a_menu(meals_world):
    w = meals_world
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    response = console(w.desk).post(
        canteen_url(w),
        {
            "action": "menu_publish",
            "menu-day": tomorrow.isoformat(),
            "menu-period": "dinner",
            "menu-serves_from": "17:00",
            "menu-serves_until": "19:00",
            "menu-note": "冬至加饺子",
            f"menu-portions_{w.full.pk}": "40",
            f"menu-portions_{w.good.pk}": "",
        },
    )
    assert response.status_code == 302, text(response)[:2000]
    menu = Menu.objects.get(canteen=w.canteen, day=tomorrow, period="dinner")
    assert (menu.serves_from, menu.serves_until) == (dt.time(17), dt.time(19))
    assert [(i.set_meal_id, i.portions) for i in menu.items.all()] == [(w.full.pk, 40)]
    page = console(w.desk).get(response["Location"])
    assert "冬至加饺子" in text(page) and "17:00–19:00" in text(page)


def test_a_menu_in_the_past_is_refused(meals_world):
    w = meals_world
    menus = Menu.objects.count()
    response = console(w.desk).post(
        canteen_url(w),
        {
            "action": "menu_publish",
            "menu-day": (timezone.localdate() - dt.timedelta(days=1)).isoformat(),
            "menu-period": "lunch",
            "menu-serves_from": "11:00",
            "menu-serves_until": "13:00",
            f"menu-portions_{w.full.pk}": "10",
        },
    )
    assert response.status_code == 400
    assert "Menus are published for today or later." in text(response)
    assert Menu.objects.count() == menus


def _tier_post(w, *, full: tuple[str, str, str, str], group: str = "disabled") -> dict:
    data = {
        "action": "tier_add",
        "tier-name": "残疾人助餐",
        "tier-group": group,
        "tier-residency": "anywhere",
    }
    for part, value in zip(("eater", "city", "district", "street"), full, strict=True):
        data[f"tier-m{w.full.pk}_{part}"] = value
    return data


def test_a_subsidy_larger_than_the_list_price_is_refused(meals_world):
    w = meals_world
    tiers, prices = Tier.objects.count(), TierPrice.objects.count()
    response = console(w.desk).post(canteen_url(w), _tier_post(w, full=("10.00", "", "9.00", "")))
    assert response.status_code == 400
    assert "(¥19.00) is more than the list price (¥18.00)" in text(response)
    assert 'id="add-tier" open' in response.content.decode()
    assert (Tier.objects.count(), TierPrice.objects.count()) == (tiers, prices)


def test_adding_editing_and_retiring_a_tier(meals_world):
    w = meals_world
    c = console(w.desk)
    response = c.post(canteen_url(w), _tier_post(w, full=("8.50", "3.00", "4.00", "2.50")))
    assert response.status_code == 302, text(response)[:2000]
    tier = Tier.objects.get(canteen=w.canteen, group="disabled")
    price = tier.prices.get()
    assert (price.set_meal_id, price.eater_fen, price.city_fen, price.district_fen, price.street_fen) == (
        w.full.pk,
        850,
        300,
        400,
        250,
    )
    edit = {"action": "tier_edit", "target": tier.pk, f"t{tier.pk}-name": "残疾人助餐（新）"}
    edit.update({f"t{tier.pk}-m{w.good.pk}_eater": "20", f"t{tier.pk}-m{w.good.pk}_district": "5"})
    assert c.post(canteen_url(w), edit).status_code == 302
    tier.refresh_from_db()
    assert tier.name == "残疾人助餐（新）"
    assert [(p.set_meal_id, p.eater_fen, p.district_fen) for p in tier.prices.all()] == [
        (w.good.pk, 2000, 500)
    ]
    assert c.post(canteen_url(w), {"action": "tier_retire", "target": tier.pk}).status_code == 302
    tier.refresh_from_db()
    assert not tier.is_active


def test_adding_a_set_meal_with_a_photo(meals_world):
    w = meals_world
    c = console(w.desk)
    photo = SimpleUploadedFile("dish.jpg", jpeg_bytes(), content_type="image/jpeg")
    response = c.post(
        canteen_url(w),
        {
            "action": "set_meal_add",
            "new-name": "营养粥套餐",
            "new-cost": "5.00",
            "new-list_price": "8.80",
            "new-description": "小米粥、鸡蛋、青菜",
            "new-is_active": "on",
            "new-photo": photo,
        },
    )
    assert response.status_code == 302, text(response)[:2000]
    meal = SetMeal.objects.get(canteen=w.canteen, name="营养粥套餐")
    assert (meal.cost_fen, meal.list_price_fen) == (500, 880)
    assert bytes(meal.photo)[:2] == b"\xff\xd8"
    shown = c.get(f"{BASE}canteens/{w.canteen.pk}/set-meals/{meal.pk}/photo.jpg")
    assert shown.status_code == 200 and shown["Content-Type"] == "image/jpeg"
    page = c.get(canteen_url(w))
    assert f"/set-meals/{meal.pk}/photo.jpg" in page.content.decode()
    # Editing the list price below a tier's price split is refused.
    refused = c.post(
        canteen_url(w),
        {
            "action": "set_meal_edit",
            "target": w.full.pk,
            f"sm{w.full.pk}-name": w.full.name,
            f"sm{w.full.pk}-cost": "12.00",
            f"sm{w.full.pk}-list_price": "12.00",
            f"sm{w.full.pk}-is_active": "on",
        },
    )
    assert refused.status_code == 400 and "more than the list price" in text(refused)
    w.full.refresh_from_db()
    assert w.full.list_price_fen == 1800
    # Another community's staff cannot fetch the photo.
    other = console(w.roles["other_community"])
    assert other.get(f"{BASE}canteens/{w.canteen.pk}/set-meals/{meal.pk}/photo.jpg").status_code == 404


def test_refunding_a_meal_needs_a_reason(meals_world, lunchtime):
    w = meals_world
    meal = services.serving_at_counter(
        scope=w.scope(),
        staff=w.desk,
        canteen_id=w.canteen.pk,
        key="r1",
        token=pass_of(w.rider, at()),
        menu_item_id=w.item_full.pk,
        now=at(),
    )
    c = console(w.desk)
    refused = c.post(canteen_url(w), {"action": "refund", "meal": meal.pk, "reason": ""})
    assert refused.status_code == 400
    assert Meal.objects.get(pk=meal.pk).status == "served"
    assert Entry.objects.filter(kind="refund").count() == 0
    done = c.post(canteen_url(w), {"action": "refund", "meal": meal.pk, "reason": "饭菜洒了"})
    assert done.status_code == 302
    assert Meal.objects.get(pk=meal.pk).status == "refunded"
    assert sorted(Entry.objects.filter(kind="refund").values_list("layer", "amount_fen")) == [
        ("district", -500),
        ("eater", -1000),
        ("street", -300),
    ]
    # A meal of another canteen cannot be refunded from this page.
    other_meal = services.serving_at_counter(
        scope=w.scope(w.roles["center"]),
        staff=w.roles["center"],
        canteen_id=w.other.pk,
        key="r2",
        token=None,
        menu_item_id=w.other_item.pk,
        now=at(),
    )
    response = console(w.roles["district"]).post(
        canteen_url(w), {"action": "refund", "meal": other_meal.pk, "reason": "x"}
    )
    assert response.status_code == 403  # the district reads; it does not operate canteens
    assert Meal.objects.get(pk=other_meal.pk).status == "served"


# --- the counter --------------------------------------------------------------------------------


def test_look_up_shows_the_price_and_does_not_use_the_pass(meals_world, lunchtime):
    w = meals_world
    token = pass_of(w.rider, at())
    uses = PassUse.objects.count()
    response = console(w.desk).post(canteen_url(w, "counter/"), {"action": "lookup", "token": token})
    assert response.status_code == 200, text(response)[:2000]
    body = text(response)
    assert w.rider.masked_name in body
    assert "¥10.00" in body and "¥15.00" in body
    assert "Delivery rider" in body  # the reason of the price
    assert "not taken yet" in body
    assert PassUse.objects.count() == uses
    keys = re.findall(r'name="key" value="([0-9a-f]{32})"', response.content.decode())
    assert len(set(keys)) == len(keys) >= 3  # each confirm button and the walk-in form: their own key


def test_confirm_serves_once_even_when_sent_twice(meals_world, lunchtime):
    w = meals_world
    token = pass_of(w.rider, at())
    first = serve(w, w.desk, token=token, item=w.item_full, key="k-1")
    assert first.status_code == 302, text(first)[:2000]
    again = serve(w, w.desk, token=token, item=w.item_full, key="k-1")
    assert again.status_code == 302 and again["Location"] == first["Location"]
    meals = Meal.objects.filter(resident=w.rider)
    assert meals.count() == 1
    meal = meals.get()
    assert (meal.status, meal.channel, meal.eater_fen, meal.subsidised) == ("served", "counter", 1000, True)
    assert PassUse.objects.filter(resident=w.rider).count() == 1
    w.item_full.refresh_from_db()
    assert w.item_full.sold == 1
    result = console(w.desk).get(first["Location"])
    body = text(result)
    assert 'data-status="served"' in result.content.decode()
    assert "Hand over: 吃得饱套餐" in body and "Take: ¥10.00" in body
    # A new pass, a new key: the day's subsidised meal is taken, so the shown price is the list price.
    second = console(w.desk).post(
        canteen_url(w, "counter/"), {"action": "lookup", "token": pass_of(w.rider, at())}
    )
    assert "already taken" in text(second) and "¥18.00" in text(second)


def test_serving_their_order(meals_world, lunchtime):
    w = meals_world
    order = services.meal_order(resident=w.old, menu_item_id=w.item_good.pk, now=at(hour=10))
    lookup = console(w.desk).post(
        canteen_url(w, "counter/"), {"action": "lookup", "token": pass_of(w.old, at())}
    )
    assert "Their order: 吃得好套餐" in text(lookup)
    response = serve(w, w.desk, token=pass_of(w.old, at()), item=None, key="o-1")
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == "served" and order.eater_fen == 2000


def test_refusals_show_the_message(meals_world, lunchtime):
    w = meals_world
    token = pass_of(w.rider, at())
    assert serve(w, w.desk, token=token, item=w.item_full, key="a").status_code == 302
    replayed = serve(w, w.desk, token=token, item=w.item_good, key="b")
    assert replayed.status_code >= 400
    assert Meal.objects.filter(resident=w.rider).count() == 1
    invalid = console(w.desk).post(canteen_url(w, "counter/"), {"action": "lookup", "token": "garbage"})
    assert invalid.status_code == 400
    assert 'class="field__error"' in invalid.content.decode()


def test_walk_in_pays_the_list_price(meals_world, lunchtime):
    w = meals_world
    page = console(w.desk).get(canteen_url(w, "counter/"))
    key = re.search(r'name="key" value="([0-9a-f]{32})"', page.content.decode())[1]
    response = console(w.desk).post(
        canteen_url(w, "counter/"), {"action": "walk_in", "menu_item_id": w.item_good.pk, "key": key}
    )
    assert response.status_code == 302, text(response)[:2000]
    meal = Meal.objects.get(channel="walk_in")
    assert (meal.resident, meal.eater_fen, meal.subsidised) == (None, 2500, False)
    assert "Take: ¥25.00" in text(console(w.desk).get(response["Location"]))
    assert list(Entry.objects.values_list("layer", "amount_fen")) == [("eater", 2500)]


def test_the_counter_outside_serving_hours(meals_world, monkeypatch):
    w = meals_world
    clock_at(monkeypatch, at(hour=15))
    page = console(w.desk).get(canteen_url(w, "counter/"))
    assert "Not serving now" in text(page)
    response = serve(w, w.desk, token=pass_of(w.rider, at(hour=15)), item=w.item_full, key="late")
    assert response.status_code == 409
    assert "Meals are served from 11:00 to 13:30." in text(response)
    assert Meal.objects.count() == 0 and PassUse.objects.count() == 0


# --- claims, figures and budgets ------------------------------------------------------------------


@pytest.fixture
def served_two(meals_world, lunchtime):
    """A rider (district ¥5 + sub-district ¥3) and a 72-year-old (city ¥3 + district ¥2) served."""
    w = meals_world
    for resident, key in ((w.rider, "c1"), (w.old, "c2")):
        services.serving_at_counter(
            scope=w.scope(),
            staff=w.desk,
            canteen_id=w.canteen.pk,
            key=key,
            token=pass_of(resident, at()),
            menu_item_id=w.item_full.pk,
            now=at(),
        )
    return w


def test_the_claim_page_adds_up(served_two):
    w = served_two
    month = timezone.localdate().strftime("%Y-%m")
    response = console(w.desk).get(f"{BASE}claims/?period={month}")
    assert response.status_code == 200
    body = text(response)
    assert "福中福社会企业" in body
    totals = re.search(r'id="claim-total">([^<]+)<', response.content.decode())[1]
    assert totals == "¥13.00"
    assert "Total · City subsidy ¥3.00" in body
    assert "Total · District subsidy ¥7.00" in body
    assert "Total · Sub-district subsidy ¥3.00" in body
    quarter = f"{timezone.localdate().year}-Q{(timezone.localdate().month - 1) // 3 + 1}"
    assert "¥13.00" in text(console(w.desk).get(f"{BASE}claims/?period={quarter}"))
    bad = console(w.desk).get(f"{BASE}claims/?period=2026-13")
    assert bad.status_code == 400 and "A claim period is a month" in text(bad)


def test_the_claim_excel_has_every_entry_and_the_totals(served_two):
    w = served_two
    month = timezone.localdate().strftime("%Y-%m")
    response = console(w.desk).get(f"{BASE}claims/?period={month}&format=xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0][:4] == ["Date", "Canteen", "Operator", "Meal No."]
    entries = [r for r in rows[1:] if r[0] and r[0] != "Total"]
    assert len(entries) == 4
    day = timezone.localdate().isoformat()
    eaters = {r[6] for r in entries}
    assert eaters == {w.rider.masked_name, w.old.masked_name}
    assert all(r[0] == day and r[1] == "固戍社区饭堂" and r[2] == "福中福社会企业" for r in entries)
    assert sorted(r[9] for r in entries) == [2.0, 3.0, 3.0, 5.0]
    assert sum(r[9] for r in entries) == 13.0
    totals = {r[7]: r[9] for r in rows if r and r[0] == "Total"}
    assert totals == {
        "City subsidy": 3.0,
        "District subsidy": 7.0,
        "Sub-district subsidy": 3.0,
        "All funders": 13.0,
    }
    # Full names never leave in the file.
    assert w.rider.real_name not in {c for r in rows for c in r if isinstance(c, str)}


def test_officials_see_figures_and_the_district_sets_budgets(served_two):
    w = served_two
    district = console(w.roles["district"])
    index = district.get(BASE)
    assert index.status_code == 200
    body = text(index)
    assert "Delivery rider / courier" in body and "Elderly 70–79" in body
    response = district.post(
        BASE, {"year": timezone.localdate().year, "layer": "district", "amount": "1000.00"}
    )
    assert response.status_code == 302, text(response)[:2000]
    assert Budget.objects.get(layer="district").amount_fen == 100_000
    shown = text(district.get(response["Location"]))
    assert "¥1000.00" in shown and "¥7.00" in shown
    missing_street = district.post(BASE, {"year": 2026, "layer": "street", "amount": "10"})
    assert missing_street.status_code == 400 and Budget.objects.count() == 1
    # The community worker sees today's canteens but no official figures.
    desk = text(console(w.desk).get(BASE))
    assert "Subsidy budgets" not in desk and "By group" not in desk


# --- the credential photo -------------------------------------------------------------------------


def test_a_credential_photo_is_kept_encrypted_and_shown_only_to_staff_who_see_the_resident(meals_world):
    w = meals_world
    resident = w.young
    url = f"/console/residents/{resident.pk}/"
    response = console(w.desk).post(
        url,
        {
            "action": "verify",
            "kind": "rider",
            "platform": "饿了么",
            "credential_number": "ELM77001234",
            "valid_until": (timezone.localdate() + dt.timedelta(days=200)).isoformat(),
            "credential_photo": SimpleUploadedFile(
                "card.jpg", jpeg_bytes(320, 200), content_type="image/jpeg"
            ),
        },
    )
    assert response.status_code == 302, text(response)[:2000]
    verification = EligibilityVerification.objects.get(resident=resident, kind="rider")
    assert verification.credential_photo  # decrypted: base64 of a JPEG
    raw = raw_rows(
        "SELECT credential_photo FROM people_eligibilityverification WHERE credential_photo <> ''"
    )[0][0]
    assert raw and not raw.startswith("/9j/") and verification.credential_photo.startswith("/9j/")
    page = console(w.desk).get(url)
    photo_url = f"{url}verifications/{verification.pk}/photo.jpg"
    assert photo_url in page.content.decode()
    seen = AuditEvent.objects.filter(action="people.resident.pii_viewed").count()
    shown = console(w.desk).get(photo_url)
    assert shown.status_code == 200 and shown["Content-Type"] == "image/jpeg"
    assert shown.content[:2] == b"\xff\xd8"
    event = AuditEvent.objects.filter(action="people.resident.pii_viewed").first()
    assert AuditEvent.objects.filter(action="people.resident.pii_viewed").count() == seen + 1
    assert event.data["field"] == "credential_photo" and event.actor_id == w.desk.pk
    for outsider in (w.roles["other_community"], w.roles["partner"], w.operator_staff):
        assert console(outsider).get(photo_url).status_code == 404
    assert AuditEvent.objects.filter(action="people.resident.pii_viewed").count() == seen + 1
    # A verification without a photo, or another resident's verification: not found.
    assert (
        console(w.desk)
        .get(f"/console/residents/{w.rider.pk}/verifications/{verification.pk}/photo.jpg")
        .status_code
        == 404
    )
    assert Client().get(photo_url).status_code == 302
