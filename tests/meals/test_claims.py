"""A subsidy claim computed on a fixture equals the sum worked out by hand, to the fen.

Two months of one past quarter at three canteens with three operators: 固戍 (福中福社会企业) and
龙珠 (run by its center) in 西乡街道, 宝民 (a partner) in 新安街道. Riders of both sub-districts,
elderly of two bands, walk-ins, an order not collected, a refund and a public holiday. Every meal
goes through the services (entries are append-only); menus of past days are written directly,
since ``menu_publish`` refuses past days.

The set meals and tiers are the same at every canteen (``tests.meals.conftest``):

=============================  =======  ====  ========  =======
who, set meal                  eater    city  district  street
=============================  =======  ====  ========  =======
rider at home street, 吃得饱     1000     0     500       300
rider at home street, 吃得好     1500     0     600       400
rider elsewhere, 吃得饱          1300     0     500       0
70–79 of the street, 吃得饱      1300     300   200       0
80+ of the street, 吃得饱        1000     300   300       200
walk-in 吃得饱 / 吃得好           1800 / 2500, no subsidy
=============================  =======  ====  ========  =======
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

import pytest
from django.db.models import Sum
from django.utils import timezone

from livingroom.core.errors import DomainError
from livingroom.meals import selectors, services
from livingroom.meals.models import Canteen, Entry, Meal, Menu, MenuItem, SetMeal
from livingroom.people.models import Resident
from livingroom.people.scopes import staff_scope
from livingroom.places.models import CalendarDay, Device, Organization, Space
from tests import factories as f
from tests.meals.conftest import LUNCH, _set_meals, _tiers, pass_of

# --- the fixture ---------------------------------------------------------------------------------


def quarter_before(day: dt.date) -> tuple[dt.date, dt.date]:
    """The first days of the two first months of the quarter before ``day``'s."""
    index = day.year * 12 + 3 * ((day.month - 1) // 3) - 3  # months since year 0, 0-based
    first = dt.date(index // 12, index % 12 + 1, 1)
    second = dt.date((index + 1) // 12, (index + 1) % 12 + 1, 1)
    return first, second


def moment(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=timezone.get_default_timezone())


@dataclass
class Month:
    w: object
    a: dt.date  # first day of the quarter's first month
    b: dt.date  # first day of its second month
    g: Canteen  # 固戍
    l: Canteen  # noqa: E741 - 龙珠
    bm: Canteen  # 宝民
    partner: Organization
    meals: dict[int, Meal]  # by number in the schedule


def past_menu(canteen: Canteen, day: dt.date) -> dict[str, MenuItem]:
    menu = Menu.objects.create(canteen=canteen, day=day, serves_from=LUNCH[0], serves_until=LUNCH[1])
    return {
        m.name: MenuItem.objects.create(menu=menu, set_meal=m, portions=50)
        for m in SetMeal.objects.filter(canteen=canteen)
    }


@pytest.fixture
def month(meals_world) -> Month:
    w = meals_world
    c1, c2, _c3 = w.place["communities"]
    center3 = w.place["centers"][2]
    # 宝民's canteen, run by the partner of 宝民's center.
    partner = Organization.objects.get(centers=center3)
    worker3 = w.roles["other_community"]
    scope3 = staff_scope(worker3)
    space3 = f.SpaceFactory(center=center3, name="宝民饭堂", kind=Space.Kind.CANTEEN)
    bm = services.canteen_create(
        scope=scope3, actor=worker3, space_id=space3.pk, name="宝民社区饭堂", operator_id=partner.pk
    )
    full3, good3 = _set_meals(scope3, worker3, bm)
    _tiers(scope3, worker3, bm, full3, good3)
    g, lz = w.canteen, w.other
    terminals = {
        g.pk: w.device,
        lz.pk: f.device_for(w.place["centers"][1], Device.Kind.CANTEEN_TERMINAL)[0],
        bm.pk: f.device_for(center3, Device.Kind.CANTEEN_TERMINAL)[0],
    }
    old70 = f.ResidentFactory(
        home_community=c1,
        birth_date=dt.date(1950, 3, 1),
        id_number=f.make_id_number(birth=dt.date(1950, 3, 1)),
    )
    old80 = f.ResidentFactory(
        home_community=c2,
        birth_date=dt.date(1940, 3, 1),
        id_number=f.make_id_number(birth=dt.date(1940, 3, 1)),
    )
    a, b = quarter_before(timezone.localdate())
    a1, a2, a3 = a.replace(day=5), a.replace(day=6), a.replace(day=12)
    b1, b2 = b.replace(day=3), b.replace(day=4)
    before = a - dt.timedelta(days=1)  # the last day of the quarter before
    menus = {(c.pk, d): past_menu(c, d) for c in (g, lz, bm) for d in (a1, a2, a3, b1, b2, before)}
    CalendarDay.objects.create(date=b2, kind=CalendarDay.Kind.HOLIDAY, name="节日")
    meals: dict[int, Meal] = {}
    n = 0

    def item(canteen: Canteen, day: dt.date, name: str = "吃得饱套餐") -> MenuItem:
        return menus[(canteen.pk, day)][name]

    def serve(
        number: int,
        canteen: Canteen,
        day: dt.date,
        resident: Resident | None,
        name: str | None = "吃得饱套餐",
        **kw,
    ) -> Meal:
        nonlocal n
        n += 1
        status, body, _ = services.serving_at_terminal(
            device=terminals[canteen.pk],
            key=f"claim-{n}",
            token=pass_of(resident) if resident is not None else None,
            menu_item_id=item(canteen, day, name).pk if name else None,
            now=moment(day, 12, n % 60),
            **kw,
        )
        assert status == 201, body
        meals[number] = Meal.objects.get(pk=body["meal_id"])
        return meals[number]

    def order(canteen: Canteen, day: dt.date, resident: Resident) -> Meal:
        return services.meal_order(resident=resident, menu_item_id=item(canteen, day).pk, now=moment(day, 9))

    # Day A1
    order(g, a1, w.rider)
    serve(1, g, a1, w.rider, None)  # picks up the order
    serve(2, g, a1, old70)
    serve(3, g, a1, None, "吃得好套餐")  # walk-in
    serve(4, lz, a1, w.far_rider)
    serve(5, lz, a1, old80)
    # Day A2
    serve(6, bm, a2, w.rider)  # outside his sub-district
    serve(7, bm, a2, w.far_rider, "吃得好套餐")  # at home
    order(lz, a2, old70)
    serve(8, lz, a2, old70, None)
    with pytest.raises(DomainError):  # already had his subsidised meal at 宝民 today
        services.meal_order(resident=w.rider, menu_item_id=item(g, a2, "吃得好套餐").pk, now=moment(a2, 9))
    serve(9, g, a2, w.rider, "吃得好套餐", full_price=True)
    # Day A3
    serve(10, g, a3, w.rider, "吃得好套餐")
    serve(11, lz, a3, w.far_rider)
    center_staff = w.roles["center"]
    services.meal_refund(
        scope=staff_scope(center_staff),
        actor=center_staff,
        meal_id=meals[11].pk,
        reason="饭菜凉了",
        now=moment(a3, 12, 40),
    )
    meals[12] = order(lz, a3, old80)  # never collected
    services.meals_tick(now=moment(a3, 14))
    serve(13, bm, a3, None)  # walk-in
    # Day B1
    serve(14, g, b1, w.rider)
    serve(15, bm, b1, w.far_rider)
    # Day B2, a public holiday: no subsidy, or the full price when asked.
    status, body, _ = services.serving_at_terminal(
        device=terminals[lz.pk], key="claim-holiday", token=pass_of(old80),
        menu_item_id=item(lz, b2).pk, now=moment(b2, 12),
    )  # fmt: skip
    assert (status, body["code"]) == (409, "holiday_no_subsidy")
    serve(16, g, b2, old70, full_price=True)
    # The day before the quarter: not in its claims.
    serve(17, g, before, w.rider)
    return Month(w=w, a=a, b=b, g=g, l=lz, bm=bm, partner=partner, meals=meals)


# --- what was served ------------------------------------------------------------------------------


def parts(meal: Meal) -> tuple[int, int, int, int, int]:
    meal.refresh_from_db()
    return (meal.list_fen, meal.eater_fen, meal.city_fen, meal.district_fen, meal.street_fen)


def test_the_fixture_served_what_the_table_says(month):
    m = month.meals
    expected = {
        1: (1800, 1000, 0, 500, 300),
        2: (1800, 1300, 300, 200, 0),
        3: (2500, 2500, 0, 0, 0),
        4: (1800, 1300, 0, 500, 0),
        5: (1800, 1000, 300, 300, 200),
        6: (1800, 1300, 0, 500, 0),
        7: (2500, 1500, 0, 600, 400),
        8: (1800, 1300, 300, 200, 0),
        9: (2500, 2500, 0, 0, 0),
        10: (2500, 1500, 0, 600, 400),
        11: (1800, 1300, 0, 500, 0),
        12: (1800, 1000, 300, 300, 200),
        13: (1800, 1800, 0, 0, 0),
        14: (1800, 1000, 0, 500, 300),
        15: (1800, 1000, 0, 500, 300),
        16: (1800, 1800, 0, 0, 0),
        17: (1800, 1000, 0, 500, 300),
    }
    assert {k: parts(v) for k, v in m.items()} == expected
    statuses = {k: v.status for k, v in m.items()}
    assert statuses[11] == "refunded" and statuses[12] == "no_show"
    assert {s for k, s in statuses.items() if k not in (11, 12)} == {"served"}
    assert not Entry.objects.filter(meal=m[12]).exists()
    # Every meal's entries add up to what it cost (the refunded one to nothing).
    for number, meal in m.items():
        total = Entry.objects.filter(meal=meal).aggregate(s=Sum("amount_fen"))["s"] or 0
        want = 0 if number in (11, 12) else sum(parts(meal)[1:])
        assert total == want, number


# --- the claims -----------------------------------------------------------------------------------


def lines(scope, label: str, **kw) -> list[tuple]:
    period = selectors.claim_period(label)
    return [
        (x.operator, x.canteen, x.funder, x.street, x.meals, x.amount_fen)
        for x in selectors.claim_lines(scope, period, **kw)
    ]


def test_the_claim_for_a_month_equals_the_sum_by_hand(month):
    w = month.w
    district = staff_scope(w.roles["district"])
    g_op, l_op, b_op = "福中福社会企业", w.other.center.name, month.partner.name
    g, lz, bm = "固戍社区饭堂", "龙珠社区饭堂", "宝民社区饭堂"
    a_label = f"{month.a:%Y-%m}"
    # By hand (meal numbers of the fixture):
    #   固戍 city #2 300; district #1 500 + #2 200 + #10 600 = 1300; street #1 300 + #10 400 = 700.
    #   龙珠 city #5 300 + #8 300 = 600; district #4 500 + #5 300 + #8 200 + #11 (500 − 500) = 1000;
    #        street #5 200.
    #   宝民 district #6 500 + #7 600 = 1100; street #7 400 (新安街道).
    expected_a = sorted(
        [
            (g_op, g, "city", "", 1, 300),
            (g_op, g, "district", "", 3, 1300),
            (g_op, g, "street", "西乡街道", 2, 700),
            (l_op, lz, "city", "", 2, 600),
            (l_op, lz, "district", "", 3, 1000),
            (l_op, lz, "street", "西乡街道", 1, 200),
            (b_op, bm, "district", "", 2, 1100),
            (b_op, bm, "street", "新安街道", 1, 400),
        ]
    )
    assert sorted(lines(district, a_label)) == expected_a
    totals = selectors.claim_totals(selectors.claim_lines(district, selectors.claim_period(a_label)))
    assert totals == {"city": 900, "district": 3400, "street": 1300, "all": 5600}
    # The second month: #14 at 固戍, #15 at 宝民; the holiday meal #16 carries no subsidy.
    b_label = f"{month.b:%Y-%m}"
    assert sorted(lines(district, b_label)) == sorted(
        [
            (g_op, g, "district", "", 1, 500),
            (g_op, g, "street", "西乡街道", 1, 300),
            (b_op, bm, "district", "", 1, 500),
            (b_op, bm, "street", "新安街道", 1, 300),
        ]
    )
    totals_b = selectors.claim_totals(selectors.claim_lines(district, selectors.claim_period(b_label)))
    assert totals_b == {"city": 0, "district": 1000, "street": 600, "all": 1600}


def test_the_claim_for_the_quarter_is_the_sum_of_its_months(month):
    w = month.w
    district = staff_scope(w.roles["district"])
    q = (month.a.month - 1) // 3 + 1
    label = f"{month.a.year}-Q{q}"
    period = selectors.claim_period(label)
    assert (period.start, period.label) == (month.a, label)
    g_op, l_op, b_op = "福中福社会企业", w.other.center.name, month.partner.name
    assert sorted(lines(district, label)) == sorted(
        [
            (g_op, "固戍社区饭堂", "city", "", 1, 300),
            (g_op, "固戍社区饭堂", "district", "", 4, 1800),
            (g_op, "固戍社区饭堂", "street", "西乡街道", 3, 1000),
            (l_op, "龙珠社区饭堂", "city", "", 2, 600),
            (l_op, "龙珠社区饭堂", "district", "", 3, 1000),
            (l_op, "龙珠社区饭堂", "street", "西乡街道", 1, 200),
            (b_op, "宝民社区饭堂", "district", "", 3, 1600),
            (b_op, "宝民社区饭堂", "street", "新安街道", 2, 700),
        ]
    )
    totals = selectors.claim_totals(selectors.claim_lines(district, period))
    assert totals == {"city": 900, "district": 4400, "street": 1900, "all": 7200}
    # The same from the meals themselves (served ones; refunded and uncollected carry nothing).
    by_layer: dict[str, int] = defaultdict(int)
    for meal in Meal.objects.filter(status="served", day__gte=period.start, day__lt=period.end):
        for layer in ("city", "district", "street"):
            by_layer[layer] += getattr(meal, f"{layer}_fen")
    assert dict(by_layer) == {"city": 900, "district": 4400, "street": 1900}
    # The day before the quarter belongs to the one before.
    assert selectors.claim_entries(district, period).filter(meal=month.meals[17]).count() == 0
    assert selectors.claim_entries(district, period).count() == len(
        Entry.objects.filter(day__gte=period.start, day__lt=period.end).exclude(layer="eater")
    )


def test_a_claim_per_canteen_and_per_caller(month):
    w = month.w
    a_label = f"{month.a:%Y-%m}"
    district = staff_scope(w.roles["district"])
    assert lines(district, a_label, canteen_id=month.bm.pk) == [
        (month.partner.name, "宝民社区饭堂", "district", "", 2, 1100),
        (month.partner.name, "宝民社区饭堂", "street", "新安街道", 1, 400),
    ]
    # The operator of 固戍 sees its own canteen's claim only.
    own = lines(staff_scope(w.operator_staff), a_label)
    assert {x[1] for x in own} == {"固戍社区饭堂"}
    assert sum(x[5] for x in own) == 300 + 1300 + 700
    # The sub-district official of 西乡 sees 固戍 and 龙珠.
    street = lines(staff_scope(w.roles["street"]), a_label)
    assert {x[1] for x in street} == {"固戍社区饭堂", "龙珠社区饭堂"}
    assert sum(x[5] for x in street) == 2300 + 1800


def test_the_figures_by_canteen_and_group(month):
    w = month.w
    district = staff_scope(w.roles["district"])
    period = selectors.claim_period(f"{month.a:%Y-%m}")
    figures = {x.canteen: (x.meals, x.subsidised, x.eater_fen, x.subsidy_fen) for x in
               selectors.figures_by_canteen(district, period)}  # fmt: skip
    assert figures == {
        "固戍社区饭堂": (5, 3, 1000 + 1300 + 2500 + 2500 + 1500, 800 + 500 + 1000),
        "龙珠社区饭堂": (3, 3, 1300 + 1000 + 1300, 500 + 800 + 500),
        "宝民社区饭堂": (3, 2, 1300 + 1500 + 1800, 500 + 1000),
    }
    groups = {
        x.group: (x.meals, x.eater_fen, x.subsidy_fen) for x in selectors.figures_by_group(district, period)
    }
    assert groups == {
        "rider": (6, 1000 + 1300 + 1300 + 1500 + 2500 + 1500, 800 + 500 + 500 + 1000 + 1000),
        "elderly_70": (2, 2600, 1000),
        "elderly_80": (1, 1000, 800),
        "list_price": (2, 4300, 0),
    }


# --- periods --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2026-11", dt.date(2026, 11, 1), dt.date(2026, 12, 1)),
        ("2026-12", dt.date(2026, 12, 1), dt.date(2027, 1, 1)),
        ("2026-01", dt.date(2026, 1, 1), dt.date(2026, 2, 1)),
        ("2026-Q4", dt.date(2026, 10, 1), dt.date(2027, 1, 1)),
        ("2026-q1", dt.date(2026, 1, 1), dt.date(2026, 4, 1)),
        ("2026-Q2", dt.date(2026, 4, 1), dt.date(2026, 7, 1)),
        (" 2026-Q3 ", dt.date(2026, 7, 1), dt.date(2026, 10, 1)),
    ],
)
def test_claim_periods(text, start, end):
    period = selectors.claim_period(text)
    assert (period.start, period.end) == (start, end)


@pytest.mark.parametrize(
    "text",
    ["", "2026", "2026-13", "2026-00", "2026-1", "2026-Q5", "2026-Q0", "2026-11-01", "1999-01", "Q4-2026"],
)
def test_bad_claim_periods(text):
    with pytest.raises(DomainError) as caught:
        selectors.claim_period(text)
    assert caught.value.code == "period_invalid"
