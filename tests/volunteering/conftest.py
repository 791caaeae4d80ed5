"""A world for volunteering and points: 固戍's center with a desk worker, two volunteers of 固戍,
a resident of 龙珠, a vending machine and a kiosk, a drink and a voucher in the catalogue."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from livingroom.people.scopes import staff_scope
from livingroom.people.services import resident_pass_issue
from livingroom.places.models import Device
from livingroom.points import services as points
from livingroom.points.models import Reward
from livingroom.volunteering import services
from tests import factories as f


def at(days: int = 0, hour: int = 9, minute: int = 0) -> dt.datetime:
    day = timezone.localdate() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=timezone.get_default_timezone())


def pass_of(resident) -> str:
    return resident_pass_issue(user=resident.user).token


@pytest.fixture
def vworld(place, roles):
    center = place["centers"][0]
    desk = roles["community"]
    scope = staff_scope(desk)
    residents = [f.ResidentFactory(home_community=place["communities"][0]) for _ in range(3)]
    outsider = f.ResidentFactory(home_community=place["communities"][1])
    volunteers = [services.volunteer_register(user=r.user, consent=True) for r in residents[:2]]
    vending, vending_secret = f.device_for(center, Device.Kind.VENDING_MACHINE)
    vending2, vending2_secret = f.device_for(center, Device.Kind.VENDING_MACHINE)
    kiosk, kiosk_secret = f.device_for(center, Device.Kind.KIOSK)
    drink = points.reward_create(
        staff=desk,
        scope=scope,
        draft=points.RewardDraft(
            center_id=center.pk,
            kind=Reward.Kind.DRINK,
            name="矿泉水",
            price_points=3,
            at_vending=True,
            stock=10,
        ),
    )
    voucher = points.reward_create(
        staff=desk,
        scope=scope,
        draft=points.RewardDraft(
            center_id=center.pk,
            kind=Reward.Kind.VOUCHER,
            name="理发券",
            price_points=20,
            at_desk=True,
            stock=5,
        ),
    )
    return {
        "center": center,
        "community": place["communities"][0],
        "desk": desk,
        "scope": scope,
        "residents": residents,
        "outsider": outsider,
        "volunteers": volunteers,
        "vending": (vending, vending_secret),
        "vending2": (vending2, vending2_secret),
        "kiosk": (kiosk, kiosk_secret),
        "drink": drink,
        "voucher": voucher,
    }


def activity(world, *, shifts=None, **overrides):
    """A published activity at the world's center: one shift tomorrow 09:00–12:00 for 2 people,
    1 point an hour and 2 points per shift served."""
    values = dict(
        center_id=world["center"].pk,
        title="社区环境清洁",
        description="清理公共区域。",
        requirements="穿运动鞋",
        points_per_hour=1,
        bonus_points=2,
        shifts=shifts
        or [
            services.ShiftDraft(
                role="清洁员", place="固戍客厅门口", starts_at=at(1, 9), ends_at=at(1, 12), needed=2
            )
        ],
    )
    values.update(overrides)
    return services.activity_create(
        staff=world["desk"], scope=world["scope"], draft=services.ActivityDraft(**values)
    )


def give_points(world, resident, amount: int, key: str | None = None):
    return points.points_award(
        resident=resident,
        community=world["community"],
        center=world["center"],
        amount=amount,
        reason="测试发放",
        key=key or f"test:{resident.pk}:{amount}:{timezone.now().timestamp()}",
    )
