"""Demo meal assistance: three canteens, Shenzhen-like tiers, a month of meals and the budgets.

* 福中福 (the source's rider story): the 「长者饭堂·骑手餐厅」 run by the social enterprise
  「（示例）福中福社区饭堂」 (its staff: ``fantang``). Riders with a valid credential pay ¥10 for
  「吃得饱套餐」 (list ¥18) and ¥15 for 「吃得好套餐」 (list ¥25), the rest paid by the district and
  the sub-district; lunch 11:00–13:30 and dinner 17:00–19:00, orders taken ahead.
* 宝民 and 朗下: canteens run by the centers, lunch only. Elderly tiers for residents of the
  canteen's sub-district (60–69: the city pays ¥3; 70–79: + the district ¥2; 80+: + the
  sub-district ¥2), the disabled and special-hardship tiers, and the rider tier everywhere.
* The last 30 days of meals, served through the same services as the counter and the terminal
  (walk-ins, riders, elders, one refund), so the claims and the district's figures have numbers.
* Today and the next 6 days have menus; 黄桂英 (73, disabled, 宝民) has ordered tomorrow's lunch.
* Budgets for the year: the city, the district and each sub-district with a canteen.
"""

from __future__ import annotations

import datetime as dt
import random
import time
import uuid
from decimal import Decimal

from django.utils import timezone

from livingroom.core.errors import DomainError
from livingroom.core.scopes import StaffScope
from livingroom.meals import services
from livingroom.meals.models import Canteen, Group, Meal, SetMeal
from livingroom.meals.services import MenuLine, PriceLine, SetMealDraft
from livingroom.people import passes
from livingroom.people import services as people_services
from livingroom.people.models import Resident, User
from livingroom.people.scopes import staff_scope
from livingroom.places import services as place_services
from livingroom.places.models import Center, Device, Organization, Space
from livingroom.places.workdays import WorkCalendar

LUNCH = (dt.time(11, 0), dt.time(13, 30))
DINNER = (dt.time(17, 0), dt.time(19, 0))
HISTORY_DAYS = 30

SET_MEALS = [
    # name, description, cost, list price (fen)
    ("吃得饱套餐", "两荤一素，米饭管够", 1300, 1800),
    ("吃得好套餐", "三荤一素一汤", 1800, 2500),
    ("长者营养餐", "少油少盐，软烂易嚼", 1100, 1500),
]
# group, name, residency, (city, district, street) per meal, or fixed eater prices for riders
ELDERLY_TIERS = [
    (Group.ELDERLY_60, "长者助餐（60–69岁）", (300, 0, 0)),
    (Group.ELDERLY_70, "长者助餐（70–79岁）", (300, 200, 0)),
    (Group.ELDERLY_80, "长者助餐（80岁以上）", (300, 300, 200)),
    (Group.DISABLED, "残疾人助餐", (300, 300, 0)),
]
RIDER_PRICES = {"吃得饱套餐": (1000, 0, 500, 300), "吃得好套餐": (1500, 0, 600, 400)}


def _scope(user: User) -> StaffScope:
    scope = staff_scope(user)
    assert scope is not None, user
    return scope


def _canteen(
    center: Center, actor: User, *, space_name: str, operator: Organization | None, name: str
) -> Canteen:
    space = Space.objects.filter(center=center, kind=Space.Kind.CANTEEN).first()
    if space is None:
        space = place_services.space_create(
            center=center,
            name=space_name,
            kind="canteen",
            floor=1,
            area_m2=Decimal(90),
            capacity=40,
            bookable=False,
        )
    return services.canteen_create(
        scope=_scope(actor),
        actor=actor,
        space_id=space.pk,
        name=name,
        operator_id=operator.pk if operator else None,
        description="工作日午餐；凭“居民码”取餐，可提前预订。",
    )


def _menu_and_tiers(canteen: Canteen, actor: User) -> dict[str, SetMeal]:
    scope = _scope(actor)
    meals = {
        name: services.set_meal_create(
            scope=scope,
            actor=actor,
            canteen_id=canteen.pk,
            draft=SetMealDraft(name=name, description=text, cost_fen=cost, list_price_fen=price),
        )
        for name, text, cost, price in SET_MEALS
    }
    services.tier_create(
        scope=scope,
        actor=actor,
        canteen_id=canteen.pk,
        name="骑手暖心餐",
        group=Group.RIDER,
        prices=[
            PriceLine(set_meal_id=meals[name].pk, eater_fen=e, city_fen=c, district_fen=d, street_fen=s)
            for name, (e, c, d, s) in RIDER_PRICES.items()
        ],
    )
    for group, name, (city, district, street) in ELDERLY_TIERS:
        services.tier_create(
            scope=scope,
            actor=actor,
            canteen_id=canteen.pk,
            name=name,
            group=group,
            residency="street",
            prices=[
                PriceLine(
                    set_meal_id=m.pk,
                    eater_fen=m.list_price_fen - city - district - street,
                    city_fen=city,
                    district_fen=district,
                    street_fen=street,
                )
                for m in meals.values()
            ],
        )
    services.tier_create(
        scope=scope,
        actor=actor,
        canteen_id=canteen.pk,
        name="特困人员免费助餐",
        group=Group.LOW_INCOME,
        residency="community",
        prices=[
            PriceLine(
                set_meal_id=meals["长者营养餐"].pk,
                eater_fen=0,
                city_fen=700,
                district_fen=500,
                street_fen=300,
            )
        ],
    )
    return meals


def _publish(
    canteen: Canteen, actor: User, day: dt.date, meals: dict[str, SetMeal], *, dinner: bool, now: dt.datetime
):
    scope = _scope(actor)
    items = [
        MenuLine(set_meal_id=m.pk, portions=p) for m, p in zip(meals.values(), (60, 30, 40), strict=True)
    ]
    services.menu_publish(
        scope=scope,
        actor=actor,
        canteen_id=canteen.pk,
        day=day,
        serves_from=LUNCH[0],
        serves_until=LUNCH[1],
        items=items,
        now=now,
    )
    if dinner:
        services.menu_publish(
            scope=scope,
            actor=actor,
            canteen_id=canteen.pk,
            day=day,
            period="dinner",
            serves_from=DINNER[0],
            serves_until=DINNER[1],
            items=items[:2],
            now=now,
        )


def _history(
    rng: random.Random,
    canteen: Canteen,
    actor: User,
    meals: dict[str, SetMeal],
    eaters: list[Resident],
    device: Device | None,
    today: dt.date,
) -> int:
    """Lunches of the last ``HISTORY_DAYS`` working days, served at the terminal (or the counter)."""
    calendar = WorkCalendar()
    scope = _scope(actor)
    served = 0
    for back in range(HISTORY_DAYS, 0, -1):
        day = today - dt.timedelta(days=back)
        if not calendar.is_working_day(day):
            continue
        morning = dt.datetime.combine(day, dt.time(9), tzinfo=timezone.get_default_timezone())
        _publish(canteen, actor, day, meals, dinner=False, now=morning)
        menu = canteen.menus.get(day=day, period="lunch")
        items = {i.set_meal.name: i for i in menu.items.select_related("set_meal")}
        for eater in rng.sample(eaters, k=min(len(eaters), rng.randint(5, 9))):
            noon = morning.replace(hour=11, minute=rng.randint(5, 59))
            name = "长者营养餐" if eater.birth_date.year < 1966 else rng.choice(["吃得饱套餐", "吃得好套餐"])
            token = passes.encode(eater.pk, int(time.time()))  # a pass is checked against the real clock
            try:
                if device is not None:
                    services.serving_at_terminal(
                        device=device,
                        key=uuid.uuid4().hex,
                        token=token,
                        menu_item_id=items[name].pk,
                        now=noon,
                    )
                else:
                    services.serving_at_counter(
                        scope=scope,
                        staff=actor,
                        canteen_id=canteen.pk,
                        key=uuid.uuid4().hex,
                        token=token,
                        menu_item_id=items[name].pk,
                        now=noon,
                    )
                served += 1
            except DomainError:
                continue
        for _walk_in in range(rng.randint(1, 3)):
            noon = morning.replace(hour=12, minute=rng.randint(0, 59))
            services.serving_at_counter(
                scope=scope,
                staff=actor,
                canteen_id=canteen.pk,
                key=uuid.uuid4().hex,
                token=None,
                menu_item_id=items["吃得饱套餐"].pk,
                now=noon,
            )
            served += 1
    return served


def _riders(rng: random.Random, center: Center, actor: User, today: dt.date) -> int:
    """Young residents of 福中福 who deliver for a platform, verified at the desk."""
    scope = _scope(actor)
    young = Resident.objects.filter(
        home_community=center.community, birth_date__gt=today.replace(year=today.year - 45)
    ).exclude(verifications__kind="rider")
    count = 0
    for resident in young.order_by("id")[:6]:
        people_services.eligibility_verify(
            scope=scope,
            actor=actor,
            resident=resident,
            kind="rider",
            platform=rng.choice(["美团外卖", "饿了么", "顺丰速运", "京东物流"]),
            credential_number=f"QS{rng.randint(10**7, 10**8 - 1)}",
            evidence_note="骑手App实名页已核验",
            valid_until=today + dt.timedelta(days=rng.randint(10, 300)),
        )
        count += 1
    return count


def load_meals(rng: random.Random) -> dict[str, int]:
    now = timezone.now()
    today = timezone.localdate(now)
    fuzhongfu = Center.objects.select_related("community__street").get(community__name="福中福社区")
    baomin = Center.objects.select_related("community__street").get(community__name="宝民社区")
    langxia = Center.objects.select_related("community__street").get(community__name="朗下社区")
    operator = Organization.objects.get(name="（示例）福中福社区饭堂")
    fantang = User.objects.get(username="fantang")
    fz_staff = User.objects.get(username="fuzhongfu")
    canteens = [
        (
            _canteen(
                fuzhongfu, fz_staff, space_name="长者饭堂·骑手餐厅", operator=operator, name="福中福社区饭堂"
            ),
            fantang,
            True,
        ),
        (
            _canteen(
                baomin,
                User.objects.get(username="baomin"),
                space_name="长者饭堂",
                operator=None,
                name="宝民长者饭堂",
            ),
            User.objects.get(username="baomin"),
            False,
        ),
        (
            _canteen(
                langxia,
                User.objects.get(username="langxia"),
                space_name="长者饭堂",
                operator=None,
                name="朗下长者饭堂",
            ),
            User.objects.get(username="langxia"),
            False,
        ),
    ]
    riders = _riders(rng, fuzhongfu, fz_staff, today)
    terminal = Device.objects.filter(center=fuzhongfu, kind=Device.Kind.CANTEEN_TERMINAL).first()
    served = 0
    for index, (canteen, actor, dinner) in enumerate(canteens):
        meals = _menu_and_tiers(canteen, actor)
        street = canteen.center.community.street_id
        eaters = list(Resident.objects.filter(home_community__street_id=street).order_by("id")[:40])
        if index < 2:
            served += _history(
                rng,
                canteen,
                actor,
                meals,
                eaters,
                terminal if canteen.center_id == fuzhongfu.pk else None,
                today,
            )
        for ahead in range(7):
            _publish(canteen, actor, today + dt.timedelta(days=ahead), meals, dinner=dinner, now=now)
    # One refund: a walk-in's meal at 宝民 was spilled and made again.
    baomin_canteen, baomin_staff, _ = canteens[1]
    spilled = (
        Meal.objects.filter(canteen=baomin_canteen, channel=Meal.Channel.WALK_IN).order_by("day").first()
    )
    if spilled is not None:
        services.meal_refund(
            scope=_scope(baomin_staff),
            actor=baomin_staff,
            meal_id=spilled.pk,
            reason="饭菜洒落，重新出餐",
        )
    # 黄桂英 orders tomorrow's lunch at 宝民 (73 and disabled: the lower of the two prices).
    huang = User.objects.get_by_phone("13800138002").resident
    tomorrow = baomin_canteen.menus.get(day=today + dt.timedelta(days=1), period="lunch")
    services.meal_order(
        resident=huang, menu_item_id=tomorrow.items.get(set_meal__name="长者营养餐").pk, now=now
    )
    district = User.objects.get(username="district")
    scope = _scope(district)
    for layer, amount in (("city", 20_000_000), ("district", 15_000_000)):
        services.budget_set(scope=scope, actor=district, year=today.year, layer=layer, amount_fen=amount)
    for street_id in {c.center.community.street_id for c, _a, _d in canteens}:
        services.budget_set(
            scope=scope,
            actor=district,
            year=today.year,
            layer="street",
            street_id=street_id,
            amount_fen=3_000_000,
        )
    return {
        "canteens": len(canteens),
        "meals": Meal.objects.count(),
        "served_history": served,
        "riders": riders,
    }
