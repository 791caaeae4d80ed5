"""The one pricing rule, with exact values: the rider's ¥10 / ¥15 and why, elderly bands by the
birth date, the residency condition, the sub-district layer lost outside one's own sub-district,
the best tier of two groups, walk-ins, public holidays, and the refusals of a named tier the eater
does not qualify for (expired credential, never verified, another group) — each writing nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from django.utils.formats import date_format

from livingroom.meals import selectors, services
from livingroom.meals.models import Entry, SetMeal, Tier
from livingroom.meals.pricing import Price, best_price
from livingroom.meals.services import PriceLine
from livingroom.people.models import EligibilityVerification, Resident
from livingroom.places.models import CalendarDay
from tests import factories as f
from tests.meals.conftest import at, elderly, pass_of, refused, state, verify_rider

# --- helpers ---------------------------------------------------------------------------------------


def price_of(w, resident: Resident | None, set_meal: SetMeal | None = None, *, day: dt.date | None = None):
    """The price of ``set_meal`` (吃得饱 by default) at its canteen for ``resident`` on ``day``."""
    set_meal = set_meal or w.full
    canteen = set_meal.canteen
    tiers = list(Tier.objects.filter(canteen=canteen, is_active=True).prefetch_related("prices"))
    return best_price(
        resident=resident,
        canteen=canteen,
        set_meal=set_meal,
        tiers=tiers,
        day=day or timezone.localdate(),
        holiday=False,
    )


def listed(w, resident: Resident | None, canteen=None) -> dict[str, Price]:
    """Today's price list for ``resident``, by set meal name."""
    prices = selectors.price_list(resident, canteen or w.canteen, timezone.localdate())
    return {p.item.set_meal.name: p.price for _menu, items in prices.menus for p in items}


def split(price: Price) -> tuple[int, int, int, int, int]:
    return (price.list_fen, price.eater_fen, price.city_fen, price.district_fen, price.street_fen)


def tier(w, group: str, canteen=None) -> Tier:
    return Tier.objects.get(canteen=canteen or w.canteen, group=group, is_active=True)


def resident_born(community, birth: dt.date) -> Resident:
    return f.ResidentFactory(
        home_community=community, birth_date=birth, id_number=f.make_id_number(birth=birth)
    )


# --- riders ----------------------------------------------------------------------------------------


def test_a_verified_rider_pays_10_and_15_yuan_and_is_told_why(meals_world):
    w = meals_world
    prices = listed(w, w.rider)
    full, good = prices["吃得饱套餐"], prices["吃得好套餐"]
    assert split(full) == (1800, 1000, 0, 500, 300)
    assert split(good) == (2500, 1500, 0, 600, 400)
    assert full.tier == w.rider_tier and full.group == "rider" and full.subsidised
    until = date_format(timezone.localdate() + dt.timedelta(days=365), "Y-m-d")
    for price in (full, good):
        reason = price.reason()
        assert "骑手暖心餐" in reason and "美团" in reason and until in reason, reason


def test_the_rider_price_list_says_what_is_left_today(meals_world):
    w = meals_world
    prices = selectors.price_list(w.rider, w.canteen, timezone.localdate())
    assert prices.subsidised_left == 1 and not prices.holiday
    assert any("美团" in g for g in prices.groups)
    services.meal_order(resident=w.rider, menu_item_id=w.item_full.pk, now=at(hour=9))
    prices = selectors.price_list(w.rider, w.canteen, timezone.localdate())
    assert prices.subsidised_left == 0
    assert [m.item_id for m in prices.orders] == [w.item_full.pk]
    # Today's subsidised meal is taken: the list now shows the full price, with the reason.
    good = next(p.price for _m, items in prices.menus for p in items if p.item.pk == w.item_good.pk)
    assert split(good) == (2500, 2500, 0, 0, 0)


def test_a_rider_of_another_sub_district_loses_the_sub_district_layer(meals_world):
    w = meals_world
    prices = listed(w, w.far_rider)
    assert split(prices["吃得饱套餐"]) == (1800, 1300, 0, 500, 0)
    assert split(prices["吃得好套餐"]) == (2500, 1900, 0, 600, 0)
    assert "西乡街道" in prices["吃得饱套餐"].reason()
    # The whole rider subsidy at 宝民's own canteens would be his; here he keeps the district's ¥5.
    assert prices["吃得饱套餐"].subsidy_fen == 500


def test_a_walk_in_pays_the_list_price(meals_world):
    w = meals_world
    prices = listed(w, None)
    assert split(prices["吃得饱套餐"]) == (1800, 1800, 0, 0, 0)
    assert split(prices["吃得好套餐"]) == (2500, 2500, 0, 0, 0)
    assert prices["吃得饱套餐"].tier is None and not prices["吃得饱套餐"].subsidised
    assert selectors.price_list(None, w.canteen, timezone.localdate()).subsidised_left == 0


def test_a_resident_of_no_group_pays_the_list_price(meals_world):
    w = meals_world
    price = listed(w, w.young)["吃得饱套餐"]
    assert split(price) == (1800, 1800, 0, 0, 0) and price.tier is None and price.group == ""


# --- elderly ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("birth", "before", "on_the_day"),
    [
        # (birth date, group the day before the birthday, group on the birthday)
        (dt.date(1966, 6, 15), None, "elderly_60"),
        (dt.date(1956, 6, 15), "elderly_60", "elderly_70"),
        (dt.date(1946, 6, 15), "elderly_70", "elderly_80"),
    ],
)
def test_the_birthday_moves_the_elderly_tier(meals_world, birth, before, on_the_day):
    w = meals_world
    person = resident_born(w.place["communities"][0], birth)
    expected = {
        None: (1800, 1800, 0, 0, 0),
        "elderly_60": (1800, 1500, 300, 0, 0),
        "elderly_70": (1800, 1300, 300, 200, 0),
        "elderly_80": (1800, 1000, 300, 300, 200),
    }
    eve, birthday = dt.date(2026, 6, 14), dt.date(2026, 6, 15)
    assert price_of(w, person, day=eve).group == (before or "")
    assert split(price_of(w, person, day=eve)) == expected[before]
    on = price_of(w, person, day=birthday)
    assert on.group == on_the_day and split(on) == expected[on_the_day]
    assert on.tier == tier(w, on_the_day)


def test_the_elderly_bands_of_the_fixture_residents(meals_world):
    w = meals_world
    c1, c2, _c3 = w.place["communities"]
    assert split(listed(w, w.old)["吃得饱套餐"]) == (1800, 1300, 300, 200, 0)
    assert split(listed(w, w.old)["吃得好套餐"]) == (2500, 2000, 300, 200, 0)
    assert split(listed(w, elderly(c1, 65))["吃得饱套餐"]) == (1800, 1500, 300, 0, 0)
    # 80+ of 龙珠 (same sub-district as 固戍): the sub-district layer is his too.
    assert split(listed(w, elderly(c2, 85))["吃得饱套餐"]) == (1800, 1000, 300, 300, 200)


def test_the_residency_condition_street(meals_world):
    """The elderly tiers are for residents of the canteen's sub-district: a 72-year-old of 宝民
    pays the list price at 固戍 (and at 龙珠, same sub-district as 固戍)."""
    w = meals_world
    far_old = elderly(w.place["communities"][2], 72)
    for canteen in (w.canteen, w.other):
        price = listed(w, far_old, canteen)["吃得饱套餐"]
        assert split(price) == (1800, 1800, 0, 0, 0)
        assert price.tier is None
    # Naming the tier does not help.
    refused(
        "tier_not_eligible",
        services.meal_order,
        resident=far_old,
        menu_item_id=w.item_full.pk,
        tier_id=tier(w, "elderly_70").pk,
        now=at(hour=9),
    )


def test_the_residency_condition_community(meals_world):
    w = meals_world
    _c1, c2, _c3 = w.place["communities"]
    services.tier_create(
        scope=w.scope(),
        actor=w.desk,
        canteen_id=w.canteen.pk,
        name="本社区居民餐",
        group="everyone",
        residency="community",
        prices=[PriceLine(set_meal_id=w.full.pk, eater_fen=1600, street_fen=200)],
    )
    assert split(listed(w, w.young)["吃得饱套餐"]) == (1800, 1600, 0, 0, 200)
    neighbour = f.ResidentFactory(home_community=c2)
    assert split(listed(w, neighbour)["吃得饱套餐"]) == (1800, 1800, 0, 0, 0)


# --- two groups: the best tier wins ---------------------------------------------------------------


def test_the_lowest_price_of_two_groups_wins_per_set_meal(meals_world):
    w = meals_world
    services.tier_create(
        scope=w.scope(),
        actor=w.desk,
        canteen_id=w.canteen.pk,
        name="残疾人助餐",
        group="disabled",
        prices=[
            PriceLine(set_meal_id=w.full.pk, eater_fen=800, city_fen=500, district_fen=500),
            PriceLine(set_meal_id=w.good.pk, eater_fen=1600, city_fen=500, district_fen=400),
        ],
    )
    EligibilityVerification.objects.create(
        resident=w.rider,
        kind=EligibilityVerification.Kind.DISABLED,
        evidence_note="残疾人证",
        verified_by=w.desk,
    )
    prices = listed(w, w.rider)
    # 吃得饱: disabled ¥8 beats rider ¥10; 吃得好: rider ¥15 beats disabled ¥16.
    assert split(prices["吃得饱套餐"]) == (1800, 800, 500, 500, 0)
    assert prices["吃得饱套餐"].group == "disabled"
    assert split(prices["吃得好套餐"]) == (2500, 1500, 0, 600, 400)
    assert prices["吃得好套餐"].group == "rider"
    # Ordering without naming a tier takes the best one; naming the rider tier takes that one.
    meal = services.meal_order(resident=w.rider, menu_item_id=w.item_full.pk, now=at(hour=9))
    assert (meal.group, meal.eater_fen, meal.city_fen, meal.district_fen, meal.street_fen) == (
        "disabled",
        800,
        500,
        500,
        0,
    )
    services.meal_order_cancel(resident=w.rider, meal_id=meal.pk, now=at(hour=9, minute=5))
    meal = services.meal_order(
        resident=w.rider, menu_item_id=w.item_full.pk, tier_id=w.rider_tier.pk, now=at(hour=9, minute=10)
    )
    assert (meal.group, meal.eater_fen, meal.district_fen, meal.street_fen) == ("rider", 1000, 500, 300)


def test_an_elderly_rider_gets_the_rider_price(meals_world):
    w = meals_world
    verify_rider(w.old, w.desk)
    price = listed(w, w.old)["吃得饱套餐"]
    assert price.group == "rider" and split(price) == (1800, 1000, 0, 500, 300)


def test_on_a_tie_the_tier_with_less_public_money_wins(meals_world):
    w = meals_world
    services.tier_create(
        scope=w.scope(),
        actor=w.desk,
        canteen_id=w.canteen.pk,
        name="困难群众餐",
        group="low_income",
        prices=[PriceLine(set_meal_id=w.full.pk, eater_fen=1300, city_fen=200)],
    )
    EligibilityVerification.objects.create(
        resident=w.old, kind=EligibilityVerification.Kind.LOW_INCOME, verified_by=w.desk
    )
    price = listed(w, w.old)["吃得饱套餐"]  # elderly_70 also costs him ¥13, with ¥5 of subsidy
    assert price.group == "low_income" and split(price) == (1800, 1300, 200, 0, 0)


# --- public holidays -------------------------------------------------------------------------------


def test_no_subsidy_on_a_public_holiday(meals_world):
    w = meals_world
    CalendarDay.objects.create(date=timezone.localdate(), kind=CalendarDay.Kind.HOLIDAY, name="国庆节")
    prices = selectors.price_list(w.rider, w.canteen, timezone.localdate())
    assert prices.holiday
    by_name = {p.item.set_meal.name: p.price for _m, items in prices.menus for p in items}
    assert split(by_name["吃得饱套餐"]) == (1800, 1800, 0, 0, 0)
    assert split(by_name["吃得好套餐"]) == (2500, 2500, 0, 0, 0)
    assert split(listed(w, w.old)["吃得饱套餐"]) == (1800, 1800, 0, 0, 0)
    # Ordering at the subsidised price is refused; asking for the full price sells unsubsidised.
    refused(
        "holiday_no_subsidy",
        services.meal_order,
        resident=w.rider,
        menu_item_id=w.item_full.pk,
        now=at(hour=9),
    )
    refused(
        "holiday_no_subsidy",
        services.meal_order,
        resident=w.rider,
        menu_item_id=w.item_full.pk,
        tier_id=w.rider_tier.pk,
        now=at(hour=9),
    )
    meal = services.meal_order(resident=w.rider, menu_item_id=w.item_full.pk, full_price=True, now=at(hour=9))
    assert (meal.list_fen, meal.eater_fen, meal.subsidy_fen, meal.subsidised) == (1800, 1800, 0, False)
    assert meal.group == "rider"
    # Served: one entry, what the eater paid.
    status, body, _ = services.serving_at_terminal(
        device=w.device, key="hol-1", token=pass_of(w.rider), menu_item_id=None, now=at()
    )
    assert status == 201 and body["pay_fen"] == 1800 and body["subsidy_fen"] == 0
    assert list(Entry.objects.values_list("layer", "amount_fen")) == [("eater", 1800)]
    # At the counter too: no subsidy without full_price; a resident of no group is sold as usual.
    status, body, _ = services.serving_at_terminal(
        device=w.device, key="hol-2", token=pass_of(w.old), menu_item_id=w.item_full.pk, now=at()
    )
    assert (status, body["code"]) == (409, "holiday_no_subsidy")
    status, body, _ = services.serving_at_terminal(
        device=w.device, key="hol-3", token=pass_of(w.young), menu_item_id=w.item_full.pk, now=at()
    )
    assert status == 201 and body["pay_fen"] == 1800


# --- a named tier the eater does not qualify for ----------------------------------------------------


def test_an_expired_rider_credential(meals_world):
    w = meals_world
    lapsed = f.ResidentFactory(home_community=w.place["communities"][0])
    verify_rider(lapsed, w.desk, valid_days=-1)
    yesterday = date_format(timezone.localdate() - dt.timedelta(days=1), "Y-m-d")
    error = refused(
        "credential_expired",
        services.meal_order,
        resident=lapsed,
        menu_item_id=w.item_full.pk,
        tier_id=w.rider_tier.pk,
        now=at(hour=9),
    )
    assert yesterday in str(error.message)
    # Without naming the tier: the list price, no rider group.
    price = listed(w, lapsed)["吃得饱套餐"]
    assert split(price) == (1800, 1800, 0, 0, 0) and price.tier is None
    meal = services.meal_order(resident=lapsed, menu_item_id=w.item_full.pk, now=at(hour=9))
    assert (meal.eater_fen, meal.subsidised, meal.group, meal.tier_id) == (1800, False, "", None)


def test_the_credential_is_valid_through_its_last_day(meals_world):
    w = meals_world
    rider = f.ResidentFactory(home_community=w.place["communities"][0])
    verify_rider(rider, w.desk, valid_days=0)
    assert split(listed(w, rider)["吃得饱套餐"]) == (1800, 1000, 0, 500, 300)
    assert split(price_of(w, rider, day=timezone.localdate() + dt.timedelta(days=1))) == (
        1800,
        1800,
        0,
        0,
        0,
    )


def test_a_never_verified_resident_naming_the_rider_tier(meals_world):
    w = meals_world
    refused(
        "not_verified",
        services.meal_order,
        resident=w.young,
        menu_item_id=w.item_full.pk,
        tier_id=w.rider_tier.pk,
        now=at(hour=9),
    )
    # The same at the terminal: kept as the answer, nothing served, the pass not used up.
    before = state()
    status, body, _ = services.serving_at_terminal(
        device=w.device,
        key="nv-1",
        token=pass_of(w.young),
        menu_item_id=w.item_full.pk,
        tier_id=w.rider_tier.pk,
        now=at(),
    )
    assert (status, body["code"]) == (409, "not_verified")
    assert state() == before


def test_a_revoked_verification_is_not_verified(meals_world):
    w = meals_world
    EligibilityVerification.objects.filter(resident=w.rider).update(revoked_at=timezone.now())
    refused(
        "not_verified",
        services.meal_order,
        resident=w.rider,
        menu_item_id=w.item_full.pk,
        tier_id=w.rider_tier.pk,
        now=at(hour=9),
    )
    assert split(listed(w, w.rider)["吃得饱套餐"]) == (1800, 1800, 0, 0, 0)


def test_a_tier_of_another_group(meals_world):
    w = meals_world
    refused(
        "tier_not_eligible",
        services.meal_order,
        resident=w.rider,
        menu_item_id=w.item_full.pk,
        tier_id=tier(w, "elderly_70").pk,
        now=at(hour=9),
    )
    # An elderly resident naming the rider tier was never verified as a rider.
    refused(
        "not_verified",
        services.meal_order,
        resident=w.old,
        menu_item_id=w.item_full.pk,
        tier_id=w.rider_tier.pk,
        now=at(hour=9),
    )
    # A 72-year-old naming the 80+ tier.
    refused(
        "tier_not_eligible",
        services.meal_order,
        resident=w.old,
        menu_item_id=w.item_full.pk,
        tier_id=tier(w, "elderly_80").pk,
        now=at(hour=9),
    )


def test_a_tier_of_another_canteen_is_not_found(meals_world):
    w = meals_world
    refused(
        "tier_not_found",
        services.meal_order,
        resident=w.rider,
        menu_item_id=w.item_full.pk,
        tier_id=tier(w, "rider", w.other).pk,
        now=at(hour=9),
    )
