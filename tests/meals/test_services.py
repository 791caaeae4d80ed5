"""Orders, servings at the terminal and the counter, cancellations, the clock, and the checks on
set meals and tiers — each refusal with its code and nothing written (no meal, no entry, stock
unchanged, the pass not used up)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from livingroom.core.errors import DomainError
from livingroom.core.models import IdempotencyRecord
from livingroom.meals import selectors, services
from livingroom.meals.models import Entry, Meal, Menu, MenuItem, SetMeal, Tier, TierPrice
from livingroom.meals.services import MenuLine, PriceLine, SetMealDraft
from livingroom.notices.models import Notice
from livingroom.people.models import PassUse
from livingroom.places.models import Device
from tests import factories as f
from tests.meals.conftest import LUNCH, at, jpeg_bytes, pass_of, refused, state, verify_rider

# --- helpers ---------------------------------------------------------------------------------------


def sold(item: MenuItem) -> int:
    return MenuItem.objects.get(pk=item.pk).sold


def entries(meal: Meal) -> list[tuple[str, str, int]]:
    return sorted(Entry.objects.filter(meal=meal).values_list("kind", "layer", "amount_fen"))


def serve(w, key: str, resident=None, item=None, *, now=None, device=None, **kw):
    return services.serving_at_terminal(
        device=device or w.device,
        key=key,
        token=pass_of(resident) if resident is not None else None,
        menu_item_id=item.pk if item is not None else None,
        now=now or at(),
        **kw,
    )


def order(w, resident=None, item=None, **kw) -> Meal:
    kw.setdefault("now", at(hour=9))
    return services.meal_order(resident=resident or w.rider, menu_item_id=(item or w.item_full).pk, **kw)


# --- orders ---------------------------------------------------------------------------------------


def test_an_order_takes_a_portion_and_the_days_subsidy(meals_world):
    w = meals_world
    meal = order(w)
    assert (meal.status, meal.channel, meal.day) == ("ordered", "order", timezone.localdate())
    assert (meal.list_fen, meal.eater_fen, meal.city_fen, meal.district_fen, meal.street_fen) == (
        1800,
        1000,
        0,
        500,
        300,
    )
    assert meal.subsidised and meal.tier == w.rider_tier and meal.group == "rider"
    assert sold(w.item_full) == 1
    assert not Entry.objects.exists()  # money moves when the meal is served


def test_sold_out(meals_world):
    w = meals_world
    w.publish(portions=1)
    order(w)
    assert sold(w.item_full) == 1
    refused("sold_out", order, w, w.old)
    assert not Meal.objects.filter(resident=w.old).exists()
    assert sold(w.item_full) == 1
    # A walk-in at the terminal finds it sold out too; the refusal is kept, nothing written.
    before = state()
    status, body, _ = serve(w, "so-1", None, w.item_full)
    assert (status, body["code"]) == (409, "sold_out")
    assert state() == before


def test_sold_out_with_no_portions_at_all(meals_world):
    w = meals_world
    w.publish(portions=0)
    refused("sold_out", order, w)


def test_a_second_subsidised_meal_the_same_day(meals_world):
    w = meals_world
    first = order(w)
    # Here, another set meal; and at 龙珠's canteen: refused.
    refused("subsidised_meal_taken", order, w, w.rider, w.item_good)
    refused("subsidised_meal_taken", order, w, w.rider, w.other_item)
    refused(
        "subsidised_meal_taken",
        order,
        w,
        w.rider,
        w.other_item,
        tier_id=Tier.objects.get(canteen=w.other, group="rider").pk,
    )
    # Asking for the full price sells it unsubsidised.
    second = order(w, w.rider, w.other_item, full_price=True)
    assert (second.list_fen, second.eater_fen, second.subsidised, second.subsidy_fen) == (
        1800,
        1800,
        False,
        0,
    )
    assert second.canteen == w.other
    assert sold(w.other_item) == 1
    assert first.subsidised
    # At the terminal, with the pass and a set meal: refused, kept, nothing written.
    center_staff = w.roles["center"]
    services.menu_publish(
        scope=w.scope(center_staff),
        actor=center_staff,
        canteen_id=w.other.pk,
        day=timezone.localdate(),
        serves_from=LUNCH[0],
        serves_until=LUNCH[1],
        items=[MenuLine(set_meal_id=m.pk, portions=50) for m in SetMeal.objects.filter(canteen=w.other)],
    )  # 龙珠 serves 吃得饱 and 吃得好
    other_good = MenuItem.objects.get(menu__canteen=w.other, set_meal__name="吃得好套餐")
    device2, _secret = f.device_for(w.place["centers"][1], Device.Kind.CANTEEN_TERMINAL)
    before = state()
    status, body, _ = serve(w, "twice", w.rider, other_good, device=device2)
    assert (status, body["code"]) == (409, "subsidised_meal_taken")
    assert state() == before
    status, body, _ = serve(w, "twice-full", w.rider, other_good, device=device2, full_price=True)
    assert status == 201 and (body["pay_fen"], body["subsidised"]) == (2500, False)


def test_one_subsidised_meal_a_day_is_per_day(meals_world):
    w = meals_world
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    menu = w.publish(day=tomorrow)
    order(w)
    later = order(w, w.rider, menu.items.get(set_meal=w.full))
    assert later.subsidised and later.day == tomorrow


def test_ordering_closes_when_serving_ends(meals_world):
    w = meals_world
    refused("ordering_closed", order, w, now=at(hour=13, minute=30))
    refused("ordering_closed", order, w, now=at(hour=18))
    refused("ordering_closed", order, w, now=at(days=1, hour=9))
    # During serving an order is still taken.
    assert order(w, now=at(hour=13, minute=29)).status == "ordered"


def test_a_canteen_that_takes_no_orders(meals_world):
    w = meals_world
    services.canteen_update(scope=w.scope(), actor=w.desk, canteen_id=w.canteen.pk, takes_orders=False)
    refused("orders_not_taken", order, w)
    # It still sells at the counter.
    status, body, _ = serve(w, "c-1", w.rider, w.item_full)
    assert status == 201 and body["channel"] == "counter" and body["pay_fen"] == 1000


def test_a_closed_canteen_takes_no_orders(meals_world):
    w = meals_world
    services.canteen_update(scope=w.scope(), actor=w.desk, canteen_id=w.canteen.pk, is_active=False)
    refused("menu_item_not_found", order, w)


def test_a_set_meal_taken_off_offer_cannot_be_ordered(meals_world):
    w = meals_world
    SetMeal.objects.filter(pk=w.full.pk).update(is_active=False)
    refused("menu_item_not_found", order, w)


def test_cancelling_before_serving_starts(meals_world):
    w = meals_world
    meal = order(w)
    cancelled = services.meal_order_cancel(resident=w.rider, meal_id=meal.pk, now=at(hour=10, minute=59))
    assert cancelled.status == "cancelled" and cancelled.closed_at == at(hour=10, minute=59)
    assert sold(w.item_full) == 0
    assert not Entry.objects.exists()
    assert selectors.price_list(w.rider, w.canteen, timezone.localdate()).subsidised_left == 1
    # The day's subsidy is free again, at any canteen.
    again = order(w, w.rider, w.other_item, now=at(hour=10, minute=59))
    assert again.subsidised and again.eater_fen == 1000
    # Cancelling twice, or someone else's order.
    refused("not_cancellable", services.meal_order_cancel, resident=w.rider, meal_id=meal.pk, now=at(hour=10))
    refused("meal_not_found", services.meal_order_cancel, resident=w.old, meal_id=again.pk, now=at(hour=10))


def test_cancelling_after_serving_starts(meals_world):
    w = meals_world
    meal = order(w)
    refused("not_cancellable", services.meal_order_cancel, resident=w.rider, meal_id=meal.pk, now=at(hour=11))
    assert Meal.objects.get(pk=meal.pk).status == "ordered"
    assert sold(w.item_full) == 1


# --- serving at the terminal ------------------------------------------------------------------------


def test_an_order_is_served_once_with_its_entries(meals_world):
    w = meals_world
    meal = order(w)
    token = pass_of(w.rider)
    status, body, replayed = services.serving_at_terminal(
        device=w.device, key="k-1", token=token, menu_item_id=None, now=at()
    )
    assert (status, replayed) == (201, False)
    assert body["meal_id"] == meal.pk and body["status"] == "served" and body["channel"] == "order"
    assert (body["list_fen"], body["pay_fen"], body["subsidy_fen"], body["subsidised"]) == (
        1800,
        1000,
        800,
        True,
    )
    assert body["eater"] and body["eater"] != "陈志强"  # masked
    meal.refresh_from_db()
    assert (meal.status, meal.served_at, meal.device_id, meal.request_key) == (
        "served",
        at(),
        w.device.pk,
        "k-1",
    )
    assert entries(meal) == [
        ("served", "district", 500),
        ("served", "eater", 1000),
        ("served", "street", 300),
    ]
    row = Entry.objects.filter(meal=meal).first()
    assert (row.canteen_id, row.operator_id, row.street_id, row.day, row.group) == (
        w.canteen.pk,
        w.operator.pk,
        w.place["streets"][0].pk,
        timezone.localdate(),
        "rider",
    )
    assert sold(w.item_full) == 1  # the order's portion, not a second one
    # The same request again: the same answer, nothing more.
    before = state()
    again = services.serving_at_terminal(device=w.device, key="k-1", token=token, menu_item_id=None, now=at())
    assert again == (201, body, True)
    assert state() == before
    # The same key with another body.
    with pytest.raises(DomainError) as caught:
        services.serving_at_terminal(
            device=w.device, key="k-1", token=token, menu_item_id=w.item_good.pk, now=at()
        )
    assert caught.value.code == "idempotency_key_reused"
    assert state() == before
    # A new request with a fresh pass finds no order left: the eater must choose a set meal.
    status, body, _ = serve(w, "k-2", w.rider)
    assert (status, body["code"]) == (409, "no_order_here")
    assert state() == before


def test_a_counter_sale_with_the_pass(meals_world):
    w = meals_world
    status, body, _ = serve(w, "s-1", w.old, w.item_good)
    assert status == 201 and body["channel"] == "counter"
    assert (body["list_fen"], body["pay_fen"], body["subsidy_fen"]) == (2500, 2000, 500)
    meal = Meal.objects.get(pk=body["meal_id"])
    assert entries(meal) == [("served", "city", 300), ("served", "district", 200), ("served", "eater", 2000)]
    assert sold(w.item_good) == 1
    assert PassUse.objects.filter(resident=w.old).count() == 1


def test_a_far_rider_at_the_terminal(meals_world):
    w = meals_world
    status, body, _ = serve(w, "far-1", w.far_rider, w.item_full)
    assert status == 201 and (body["pay_fen"], body["subsidy_fen"]) == (1300, 500)
    meal = Meal.objects.get(pk=body["meal_id"])
    assert entries(meal) == [("served", "district", 500), ("served", "eater", 1300)]


def test_a_walk_in_pays_the_list_price(meals_world):
    w = meals_world
    status, body, _ = serve(w, "walk-1", None, w.item_good)
    assert status == 201
    assert (body["channel"], body["pay_fen"], body["subsidised"], body["eater"]) == (
        "walk_in",
        2500,
        False,
        "",
    )
    meal = Meal.objects.get(pk=body["meal_id"])
    assert meal.resident is None and meal.tier is None
    assert entries(meal) == [("served", "eater", 2500)]


def test_a_refusal_is_kept_for_the_retry(meals_world):
    w = meals_world
    token = pass_of(w.young)
    before = state()
    first = services.serving_at_terminal(
        device=w.device,
        key="r-1",
        token=token,
        menu_item_id=w.item_full.pk,
        tier_id=w.rider_tier.pk,
        now=at(),
    )
    assert first[0] == 409 and first[1]["code"] == "not_verified" and first[2] is False
    again = services.serving_at_terminal(
        device=w.device,
        key="r-1",
        token=token,
        menu_item_id=w.item_full.pk,
        tier_id=w.rider_tier.pk,
        now=at(),
    )
    assert again == (409, first[1], True)
    assert state() == before
    assert IdempotencyRecord.objects.filter(scope=f"canteen:{w.device.pk}", key="r-1").count() == 1


def test_outside_serving_hours(meals_world):
    w = meals_world
    order(w)
    before = state()
    for key, moment in (
        ("o-1", at(hour=10, minute=59)),
        ("o-2", at(hour=13, minute=30)),
        ("o-3", at(hour=20)),
    ):
        status, body, _ = serve(w, key, w.rider, now=moment)
        assert (status, body["code"]) == (409, "outside_serving_hours"), key
        assert "11:00" in body["message"] and "13:30" in body["message"]
        status, body, _ = serve(w, key + "w", None, w.item_full, now=moment)
        assert (status, body["code"]) == (409, "outside_serving_hours"), key
    assert state() == before
    # On a day with no menu at all.
    status, body, _ = serve(w, "o-4", None, w.item_full, now=at(days=1))
    assert (status, body["code"]) == (404, "menu_not_found")
    assert state() == before


def test_a_menu_item_of_another_meal_or_canteen(meals_world):
    w = meals_world
    status, body, _ = serve(w, "i-1", None, w.other_item)
    assert (status, body["code"]) == (404, "menu_item_not_found")


def test_a_device_of_another_kind(meals_world):
    w = meals_world
    kiosk, _secret = f.device_for(w.place["centers"][0], Device.Kind.KIOSK)
    refused("device_not_allowed", serve, w, "d-1", None, w.item_full, device=kiosk)
    assert not IdempotencyRecord.objects.exists()


def test_a_terminal_at_a_center_without_a_canteen(meals_world):
    w = meals_world
    terminal, _secret = f.device_for(w.place["centers"][2], Device.Kind.CANTEEN_TERMINAL)
    refused("canteen_not_found", serve, w, "d-2", None, w.item_full, device=terminal)
    # Nor may a terminal name another center's canteen.
    refused("canteen_not_found", serve, w, "d-3", None, w.item_full, canteen_id=w.other.pk)


def test_a_used_pass_is_refused(meals_world):
    w = meals_world
    token = pass_of(w.old)
    status, _body, _ = services.serving_at_terminal(
        device=w.device, key="p-1", token=token, menu_item_id=w.item_full.pk, now=at()
    )
    assert status == 201
    before = state()
    status, body, _ = services.serving_at_terminal(
        device=w.device, key="p-2", token=token, menu_item_id=w.item_good.pk, now=at()
    )
    assert (status, body["code"]) == (409, "pass_replayed")
    assert state() == before


def test_a_walk_in_must_choose_a_set_meal(meals_world):
    w = meals_world
    before = state()
    status, body, _ = serve(w, "n-1", None, None)
    assert (status, body["code"]) == (409, "no_order_here")
    assert state() == before


def test_serving_at_the_counter_page_once_per_form_key(meals_world):
    w = meals_world
    staff = w.operator_staff
    scope = w.scope(staff)
    token = pass_of(w.rider)
    meal = services.serving_at_counter(
        scope=scope,
        staff=staff,
        canteen_id=w.canteen.pk,
        key="form-1",
        token=token,
        menu_item_id=w.item_full.pk,
        now=at(),
    )
    assert (meal.status, meal.channel, meal.eater_fen, meal.staff_id) == ("served", "counter", 1000, staff.pk)
    before = state()
    again = services.serving_at_counter(
        scope=scope,
        staff=staff,
        canteen_id=w.canteen.pk,
        key="form-1",
        token=token,
        menu_item_id=w.item_full.pk,
        now=at(),
    )
    assert again.pk == meal.pk and state() == before
    # A refusal at the counter is not kept: it raises and writes nothing.
    refused(
        "subsidised_meal_taken",
        services.serving_at_counter,
        scope=scope,
        staff=staff,
        canteen_id=w.canteen.pk,
        key="form-2",
        token=pass_of(w.rider),
        menu_item_id=w.item_good.pk,
        now=at(),
    )
    # Staff of another community's center cannot serve here.
    refused(
        "canteen_not_found",
        services.serving_at_counter,
        scope=w.scope(w.roles["other_community"]),
        staff=w.roles["other_community"],
        canteen_id=w.canteen.pk,
        key="form-3",
        token=None,
        menu_item_id=w.item_full.pk,
        now=at(),
    )


def test_the_counter_preview_does_not_use_the_pass(meals_world):
    w = meals_world
    order(w)
    preview = selectors.counter_preview(w.canteen, pass_of(w.rider, at()), now=at())
    assert preview.resident == w.rider and preview.order is not None
    assert preview.prices.subsidised_left == 0
    assert not PassUse.objects.exists()


# --- refunds --------------------------------------------------------------------------------------


def test_a_refund_writes_compensating_entries_once(meals_world):
    w = meals_world
    _status, body, _ = serve(w, "rf-1", w.rider, w.item_full)
    meal_id = body["meal_id"]
    refunded = services.meal_refund(
        scope=w.scope(), actor=w.desk, meal_id=meal_id, reason="饭菜有异物", now=at(hour=12, minute=30)
    )
    assert refunded.status == "refunded"
    meal = Meal.objects.get(pk=meal_id)
    assert (meal.status, meal.close_reason, meal.closed_at) == (
        "refunded",
        "饭菜有异物",
        at(hour=12, minute=30),
    )
    assert entries(meal) == [
        ("refund", "district", -500),
        ("refund", "eater", -1000),
        ("refund", "street", -300),
        ("served", "district", 500),
        ("served", "eater", 1000),
        ("served", "street", 300),
    ]
    assert sum(Entry.objects.filter(meal=meal).values_list("amount_fen", flat=True)) == 0
    for layer in ("eater", "district", "street"):
        assert sum(Entry.objects.filter(meal=meal, layer=layer).values_list("amount_fen", flat=True)) == 0
    before = state()
    refused(
        "not_refundable", services.meal_refund, scope=w.scope(), actor=w.desk, meal_id=meal_id, reason="again"
    )
    assert state() == before


def test_only_a_served_meal_is_refunded(meals_world):
    w = meals_world
    meal = order(w)
    refused(
        "not_refundable", services.meal_refund, scope=w.scope(), actor=w.desk, meal_id=meal.pk, reason="x"
    )
    refused(
        "reason_required", services.meal_refund, scope=w.scope(), actor=w.desk, meal_id=meal.pk, reason=" "
    )
    refused("meal_not_found", services.meal_refund, scope=w.scope(), actor=w.desk, meal_id=10**9, reason="x")
    # Staff who cannot see the canteen do not find the meal.
    other = w.roles["other_community"]
    refused(
        "meal_not_found", services.meal_refund, scope=w.scope(other), actor=other, meal_id=meal.pk, reason="x"
    )


def test_a_walk_in_refund(meals_world):
    w = meals_world
    _status, body, _ = serve(w, "rw-1", None, w.item_good)
    services.meal_refund(scope=w.scope(), actor=w.desk, meal_id=body["meal_id"], reason="顾客退餐")
    assert entries(Meal.objects.get(pk=body["meal_id"])) == [
        ("refund", "eater", -2500),
        ("served", "eater", 2500),
    ]


# --- the clock ------------------------------------------------------------------------------------


def test_an_uncollected_order_is_not_collected_and_frees_the_subsidy(meals_world):
    w = meals_world
    meal = order(w)
    assert services.meals_tick(now=at(hour=13, minute=29))["not_collected"] == 0
    assert Meal.objects.get(pk=meal.pk).status == "ordered"
    result = services.meals_tick(now=at(hour=13, minute=30))
    assert result["not_collected"] == 1
    meal.refresh_from_db()
    assert (meal.status, meal.close_reason) == ("no_show", "not collected")
    assert sold(w.item_full) == 1  # it was cooked
    assert not Entry.objects.exists()
    assert services.meals_tick(now=at(hour=14))["not_collected"] == 0
    # The day's subsidised meal is free again: a subsidised dinner at 龙珠.
    dinner = services.menu_publish(
        scope=w.scope(w.roles["center"]),
        actor=w.roles["center"],
        canteen_id=w.other.pk,
        day=timezone.localdate(),
        period=Menu.Period.DINNER,
        serves_from=dt.time(17, 0),
        serves_until=dt.time(19, 0),
        items=[MenuLine(set_meal_id=w.other_item.set_meal_id, portions=10)],
        now=at(hour=14),
    )
    later = order(w, w.rider, dinner.items.get(), now=at(hour=14))
    assert later.subsidised and later.eater_fen == 1000


def test_an_order_of_yesterday_is_not_collected(meals_world):
    w = meals_world
    meal = order(w)
    assert services.meals_tick(now=at(days=1, hour=8))["not_collected"] == 1
    assert Meal.objects.get(pk=meal.pk).status == "no_show"


def test_riders_are_reminded_once_before_their_credential_expires(meals_world):
    w = meals_world
    c1 = w.place["communities"][0]
    soon = f.ResidentFactory(home_community=c1)
    verify_rider(soon, w.desk, valid_days=14)
    later = f.ResidentFactory(home_community=c1)
    verify_rider(later, w.desk, valid_days=15)
    lapsed = f.ResidentFactory(home_community=c1)
    verify_rider(lapsed, w.desk, valid_days=-1)
    result = services.meals_tick(now=at(hour=8))
    assert result["reminded"] == 1
    notices = Notice.objects.filter(kind="meals.verification_expiring")
    assert [n.user_id for n in notices] == [soon.user_id]
    until = (timezone.localdate() + dt.timedelta(days=14)).isoformat()
    assert notices.get().params["until"] == until and notices.get().params["platform"] == "美团"
    assert services.meals_tick(now=at(hour=9))["reminded"] == 0
    assert services.meals_tick(now=at(days=1, hour=8))["reminded"] == 1  # ``later`` is now 14 days out
    assert Notice.objects.filter(kind="meals.verification_expiring").count() == 2
    assert Notice.objects.filter(kind="meals.verification_expiring", user=soon.user).count() == 1


# --- set meals and tiers --------------------------------------------------------------------------


def draft(**kw) -> SetMealDraft:
    fields = {"name": "清淡套餐", "cost_fen": 1000, "list_price_fen": 1500}
    fields.update(kw)
    return SetMealDraft(**fields)


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"list_price_fen": -100}, "list_price_invalid"),
        ({"list_price_fen": 0}, "list_price_invalid"),
        ({"list_price_fen": 100_001}, "list_price_invalid"),
        ({"cost_fen": -1}, "price_invalid"),
        ({"list_price_fen": 15.5}, "list_price_invalid"),
        ({"name": "  "}, "name_required"),
        ({"name": "吃得饱套餐"}, "name_taken"),
    ],
)
def test_set_meal_checks(meals_world, fields, code):
    w = meals_world
    count = SetMeal.objects.count()
    with pytest.raises(DomainError) as caught:
        services.set_meal_create(
            scope=w.scope(), actor=w.desk, canteen_id=w.canteen.pk, draft=draft(**fields)
        )
    assert caught.value.code == code
    assert SetMeal.objects.count() == count


def test_a_set_meal_with_a_photo(meals_world):
    w = meals_world
    meal = services.set_meal_create(
        scope=w.scope(), actor=w.desk, canteen_id=w.canteen.pk, draft=draft(), photo=jpeg_bytes()
    )
    assert selectors.set_meal_photo(meal.pk)[:2] == b"\xff\xd8"


def test_the_partner_operator_may_define_set_meals_others_may_not(meals_world):
    w = meals_world
    meal = services.set_meal_create(
        scope=w.scope(w.operator_staff), actor=w.operator_staff, canteen_id=w.canteen.pk, draft=draft()
    )
    assert meal.canteen == w.canteen
    with pytest.raises(DomainError) as caught:
        services.set_meal_create(
            scope=w.scope(w.operator_staff), actor=w.operator_staff, canteen_id=w.other.pk, draft=draft()
        )
    assert caught.value.code == "canteen_not_found"


def test_lowering_a_list_price_below_a_tier_price_is_refused(meals_world):
    w = meals_world
    with pytest.raises(DomainError) as caught:
        services.set_meal_update(
            scope=w.scope(),
            actor=w.desk,
            set_meal_id=w.full.pk,
            draft=draft(name="吃得饱套餐", list_price_fen=1700),
        )
    assert caught.value.code == "subsidy_exceeds_list_price"
    assert SetMeal.objects.get(pk=w.full.pk).list_price_fen == 1800


def prices_now() -> list[tuple]:
    return sorted(
        TierPrice.objects.values_list(
            "tier_id", "set_meal_id", "eater_fen", "city_fen", "district_fen", "street_fen"
        )
    )


@pytest.mark.parametrize(
    ("group", "line", "code"),
    [
        ("disabled", {"eater_fen": -100}, "price_invalid"),
        ("disabled", {"eater_fen": 800, "city_fen": -1}, "price_invalid"),
        ("disabled", {"eater_fen": 1000, "city_fen": 500, "district_fen": 400}, "subsidy_exceeds_list_price"),
        ("disabled", {"eater_fen": 0, "city_fen": 1900}, "subsidy_exceeds_list_price"),
        ("pensioner", {"eater_fen": 800}, "group_invalid"),
        ("rider", {"eater_fen": 800}, "tier_exists"),
    ],
)
def test_tier_checks(meals_world, group, line, code):
    w = meals_world
    tiers, prices = Tier.objects.count(), prices_now()
    with pytest.raises(DomainError) as caught:
        services.tier_create(
            scope=w.scope(),
            actor=w.desk,
            canteen_id=w.canteen.pk,
            name="新档",
            group=group,
            prices=[PriceLine(set_meal_id=w.full.pk, **line)],
        )
    assert caught.value.code == code
    assert (Tier.objects.count(), prices_now()) == (tiers, prices)


def test_tier_checks_on_set_meals(meals_world):
    w = meals_world
    before = (Tier.objects.count(), prices_now())
    for prices, code in (
        ([], "prices_required"),
        ([PriceLine(set_meal_id=w.other_item.set_meal_id, eater_fen=800)], "set_meal_not_found"),
        (
            [
                PriceLine(set_meal_id=w.full.pk, eater_fen=800),
                PriceLine(set_meal_id=w.full.pk, eater_fen=900),
            ],
            "set_meal_not_found",
        ),
    ):
        with pytest.raises(DomainError) as caught:
            services.tier_create(
                scope=w.scope(),
                actor=w.desk,
                canteen_id=w.canteen.pk,
                name="新档",
                group="disabled",
                prices=prices,
            )
        assert caught.value.code == code
    with pytest.raises(DomainError) as caught:
        services.tier_create(
            scope=w.scope(),
            actor=w.desk,
            canteen_id=w.canteen.pk,
            name="新档",
            group="disabled",
            residency="planet",
            prices=[PriceLine(set_meal_id=w.full.pk, eater_fen=800)],
        )
    assert caught.value.code == "residency_invalid"
    assert (Tier.objects.count(), prices_now()) == before


def test_a_tier_update_with_a_subsidy_above_the_list_price_changes_nothing(meals_world):
    w = meals_world
    before = prices_now()
    with pytest.raises(DomainError) as caught:
        services.tier_update(
            scope=w.scope(),
            actor=w.desk,
            tier_id=w.rider_tier.pk,
            prices=[PriceLine(set_meal_id=w.full.pk, eater_fen=1000, district_fen=900)],
        )
    assert caught.value.code == "subsidy_exceeds_list_price"
    assert prices_now() == before


def test_a_new_tier_price_applies_from_now_on(meals_world):
    w = meals_world
    meal = order(w)
    services.tier_update(
        scope=w.scope(),
        actor=w.desk,
        tier_id=w.rider_tier.pk,
        prices=[PriceLine(set_meal_id=w.full.pk, eater_fen=800, district_fen=700, street_fen=300)],
    )
    # The order keeps the split of its day, and is served at it.
    _status, body, _ = serve(w, "np-1", w.rider)
    assert body["meal_id"] == meal.pk and body["pay_fen"] == 1000
    # The far rider pays the new price (and the sub-district's part).
    _status, body, _ = serve(w, "np-2", w.far_rider, w.item_full)
    assert (body["pay_fen"], body["subsidy_fen"]) == (1100, 700)
    # 吃得好 is no longer priced for riders: the list price, no subsidy asked, so it is sold.
    status, body, _ = serve(w, "np-3", w.far_rider, w.item_good, now=at(hour=12, minute=1))
    assert (status, body["pay_fen"], body["subsidised"]) == (201, 2500, False)


def test_a_retired_tier_no_longer_prices(meals_world):
    w = meals_world
    services.tier_retire(scope=w.scope(), actor=w.desk, tier_id=w.rider_tier.pk)
    status, body, _ = serve(w, "rt-1", w.rider, w.item_full)
    assert status == 201 and body["pay_fen"] == 1800 and not body["subsidised"]


# --- menus ----------------------------------------------------------------------------------------


def test_menus_are_published_for_today_or_later(meals_world):
    w = meals_world
    with pytest.raises(DomainError) as caught:
        w.publish(day=timezone.localdate() - dt.timedelta(days=1))
    assert caught.value.code == "menu_in_past"
    with pytest.raises(DomainError) as caught:
        w.publish(hours=(dt.time(13, 0), dt.time(11, 0)))
    assert caught.value.code == "serving_hours_invalid"


def test_portions_never_go_below_those_taken(meals_world):
    w = meals_world
    order(w)
    order(w, w.old)
    with pytest.raises(DomainError) as caught:
        w.publish(portions=1)
    assert caught.value.code == "portions_invalid"
    assert MenuItem.objects.get(pk=w.item_full.pk).portions == 50
    w.publish(portions=2)
    assert MenuItem.objects.get(pk=w.item_full.pk).portions == 2
    assert w.menu.window() == (at(hour=LUNCH[0].hour), at(hour=13, minute=30))
