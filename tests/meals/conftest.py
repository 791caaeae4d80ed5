"""A world for meal assistance: 固戍's canteen (the ``place`` fixture's first center), run by a
social enterprise, with two set meals (吃得饱 ¥18, 吃得好 ¥25), a rider tier (¥10 / ¥15) and three
elderly tiers; a second canteen at 龙珠 (same sub-district) and a canteen terminal; a verified
rider of 固戍, a verified rider of 宝民 (another sub-district), a 72-year-old of 固戍 and a young
resident with no group. Today's lunch is served 11:00–13:30."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

import pytest
from django.utils import timezone
from PIL import Image

from livingroom.core.errors import DomainError
from livingroom.meals import services
from livingroom.meals.models import Canteen, Entry, Meal, Menu, MenuItem, SetMeal, Tier
from livingroom.meals.services import MenuLine, PriceLine, SetMealDraft
from livingroom.people import passes
from livingroom.people.models import EligibilityVerification, PassUse, Resident, StaffRole, User
from livingroom.people.scopes import staff_scope
from livingroom.places.models import Device, Organization, Space
from tests import factories as f

LUNCH = (dt.time(11, 0), dt.time(13, 30))


def at(days: int = 0, hour: int = 12, minute: int = 0) -> dt.datetime:
    """A moment in Shanghai time, ``days`` from today (12:00: inside today's lunch)."""
    day = timezone.localdate() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=timezone.get_default_timezone())


def pass_of(resident: Resident, moment: dt.datetime | None = None) -> str:
    """A fresh resident pass, issued at ``moment`` (now by default)."""
    issued = int((moment or timezone.now()).timestamp())
    return passes.encode(resident.pk, issued)


def jpeg_bytes(width: int = 64, height: int = 48) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), "orange").save(out, format="JPEG")
    return out.getvalue()


def born(age: int) -> dt.date:
    today = timezone.localdate()
    return today.replace(year=today.year - age) - dt.timedelta(days=30)


def elderly(community, age: int) -> Resident:
    birth = born(age)
    number = f.make_id_number(birth=birth)
    return f.ResidentFactory(home_community=community, id_number=number, birth_date=birth)


def verify_rider(resident: Resident, by: User, *, valid_days: int = 365, platform: str = "美团") -> None:
    EligibilityVerification.objects.create(
        resident=resident,
        kind=EligibilityVerification.Kind.RIDER,
        platform=platform,
        credential_number="MT20260001",
        valid_until=timezone.localdate() + dt.timedelta(days=valid_days),
        verified_by=by,
    )


def state() -> tuple:
    """What a refusal must leave as it was."""
    return (
        Meal.objects.count(),
        Entry.objects.count(),
        tuple(MenuItem.objects.order_by("pk").values_list("sold", flat=True)),
        PassUse.objects.count(),
    )


def refused(code: str, fn, *args, **kwargs) -> DomainError:
    before = state()
    with pytest.raises(DomainError) as caught:
        fn(*args, **kwargs)
    assert caught.value.code == code, caught.value
    assert state() == before
    return caught.value


@dataclass
class MealsWorld:
    place: dict
    roles: dict
    canteen: Canteen
    other: Canteen  # 龙珠's canteen, same sub-district
    operator: Organization
    operator_staff: User
    full: SetMeal  # 吃得饱 ¥18
    good: SetMeal  # 吃得好 ¥25
    rider_tier: Tier
    menu: Menu
    item_full: MenuItem
    item_good: MenuItem
    other_item: MenuItem
    device: Device
    device_secret: str
    rider: Resident  # 固戍, verified
    far_rider: Resident  # 宝民 (another sub-district), verified
    old: Resident  # 72, 固戍
    young: Resident  # no group

    @property
    def desk(self) -> User:
        return self.roles["community"]

    def scope(self, user: User | None = None):
        return staff_scope(user or self.roles["community"])

    def publish(
        self,
        canteen: Canteen | None = None,
        *,
        day: dt.date | None = None,
        portions: int = 50,
        hours: tuple[dt.time, dt.time] = LUNCH,
        period: str = "lunch",
    ) -> Menu:
        canteen = canteen or self.canteen
        meals = list(SetMeal.objects.filter(canteen=canteen))
        # 固戍's canteen is run by its desk; 龙珠's by 龙珠's center staff.
        actor = self.desk if canteen.pk == self.canteen.pk else self.roles["center"]
        return services.menu_publish(
            scope=self.scope(actor),
            actor=actor,
            canteen_id=canteen.pk,
            day=day or timezone.localdate(),
            period=period,
            serves_from=hours[0],
            serves_until=hours[1],
            items=[MenuLine(set_meal_id=m.pk, portions=portions) for m in meals],
        )


def _set_meals(scope, desk, canteen) -> tuple[SetMeal, SetMeal]:
    full = services.set_meal_create(
        scope=scope,
        actor=desk,
        canteen_id=canteen.pk,
        draft=SetMealDraft(
            name="吃得饱套餐", cost_fen=1200, list_price_fen=1800, description="两荤一素，米饭管够"
        ),
    )
    good = services.set_meal_create(
        scope=scope,
        actor=desk,
        canteen_id=canteen.pk,
        draft=SetMealDraft(name="吃得好套餐", cost_fen=1700, list_price_fen=2500, description="三荤一素一汤"),
    )
    return full, good


def _tiers(scope, desk, canteen, full, good) -> Tier:
    rider = services.tier_create(
        scope=scope,
        actor=desk,
        canteen_id=canteen.pk,
        name="骑手暖心餐",
        group="rider",
        prices=[
            PriceLine(set_meal_id=full.pk, eater_fen=1000, district_fen=500, street_fen=300),
            PriceLine(set_meal_id=good.pk, eater_fen=1500, district_fen=600, street_fen=400),
        ],
    )
    for group, name, city, district, street in (
        ("elderly_60", "长者餐（60–69岁）", 300, 0, 0),
        ("elderly_70", "长者餐（70–79岁）", 300, 200, 0),
        ("elderly_80", "长者餐（80岁以上）", 300, 300, 200),
    ):
        services.tier_create(
            scope=scope,
            actor=desk,
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
                for m in (full, good)
            ],
        )
    return rider


@pytest.fixture
def meals_world(place, roles) -> MealsWorld:
    c1, _c2, c3 = place["communities"]
    center, center2 = place["centers"][0], place["centers"][1]
    desk = roles["community"]
    operator = f.OrganizationFactory(name="福中福社会企业", kind=Organization.Kind.SOCIAL_ENTERPRISE)
    operator.centers.add(center)
    operator_staff = f.staff_with_role(StaffRole.Role.PARTNER_STAFF, organization=operator)
    scope = staff_scope(desk)
    space = f.SpaceFactory(center=center, name="长者饭堂", kind=Space.Kind.CANTEEN)
    canteen = services.canteen_create(
        scope=scope, actor=desk, space_id=space.pk, name="固戍社区饭堂", operator_id=operator.pk
    )
    full, good = _set_meals(scope, desk, canteen)
    rider_tier = _tiers(scope, desk, canteen, full, good)
    # 龙珠's canteen: center staff of 龙珠 run it; same prices.
    center_staff = roles["center"]
    scope2 = staff_scope(center_staff)
    space2 = f.SpaceFactory(center=center2, name="饭堂", kind=Space.Kind.CANTEEN)
    other = services.canteen_create(scope=scope2, actor=center_staff, space_id=space2.pk, name="龙珠社区饭堂")
    full2, good2 = _set_meals(scope2, center_staff, other)
    _tiers(scope2, center_staff, other, full2, good2)
    menu2 = services.menu_publish(
        scope=scope2,
        actor=center_staff,
        canteen_id=other.pk,
        day=timezone.localdate(),
        serves_from=LUNCH[0],
        serves_until=LUNCH[1],
        items=[MenuLine(set_meal_id=full2.pk, portions=50)],
    )
    menu = services.menu_publish(
        scope=scope,
        actor=desk,
        canteen_id=canteen.pk,
        day=timezone.localdate(),
        serves_from=LUNCH[0],
        serves_until=LUNCH[1],
        items=[MenuLine(set_meal_id=full.pk, portions=50), MenuLine(set_meal_id=good.pk, portions=30)],
    )
    device, secret = f.device_for(center, Device.Kind.CANTEEN_TERMINAL)
    rider = f.ResidentFactory(home_community=c1, real_name="陈志强")
    verify_rider(rider, desk)
    far_rider = f.ResidentFactory(home_community=c3, real_name="刘骑手")
    verify_rider(far_rider, roles["other_community"])
    old = elderly(c1, 72)
    young = f.ResidentFactory(
        home_community=c1, birth_date=born(30), id_number=f.make_id_number(birth=born(30))
    )
    return MealsWorld(
        place=place,
        roles=roles,
        canteen=canteen,
        other=other,
        operator=operator,
        operator_staff=operator_staff,
        full=full,
        good=good,
        rider_tier=rider_tier,
        menu=menu,
        item_full=menu.items.get(set_meal=full),
        item_good=menu.items.get(set_meal=good),
        other_item=menu2.items.get(),
        device=device,
        device_secret=secret,
        rider=rider,
        far_rider=far_rider,
        old=old,
        young=young,
    )
