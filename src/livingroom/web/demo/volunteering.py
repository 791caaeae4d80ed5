"""Demo volunteering and points, after the source's 朗下 story: residents earn points by
volunteering and swap them for drinks at the center's self-service vending machine.

* 朗下: a river-patrol activity held last month and a traffic-courtesy activity to come; 周建华
  (13800138003) has served 120+ hours (one star) and holds points; the vending machine has sold
  drinks (one vend failed and was refunded); a catalogue of drinks, an eco bag and a haircut voucher.
* 固戍: a lunch-helper activity held last week in which 李晓梅 (13800138000) and neighbours served,
  a clean-up day to come that she has signed up for; she holds a certificate and has asked for a
  correction of one record; the desk offers goods and vouchers.

Activities to come go through the services. Past shifts are written directly (no service
schedules the past), then confirmed through ``hours_confirm`` so records and points obey the rules.
"""

from __future__ import annotations

import datetime as dt
import random

from django.utils import timezone

from livingroom.booking.calendar import at as at_time
from livingroom.people.models import Resident, User
from livingroom.people.scopes import staff_scope
from livingroom.people.services import resident_pass_issue
from livingroom.places.models import Center, Device
from livingroom.points import services as points
from livingroom.points.models import Reward
from livingroom.volunteering import services
from livingroom.volunteering.models import Activity, Shift, Signup, Volunteer


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return at_time(day, dt.time(hour, minute))


def _register(resident: Resident, day: dt.datetime, skills: str = "") -> Volunteer:
    volunteer = services.volunteer_register(user=resident.user, consent=True, skills=skills, now=day)
    return volunteer


def _past_shift(
    *,
    center: Center,
    staff: User,
    title: str,
    role: str,
    place: str,
    day: dt.date,
    hours: tuple[int, int],
    needed: int,
    points_per_hour: int,
    bonus: int,
    volunteers: list[tuple[Volunteer, int, int]],
    description: str,
) -> Shift:
    """A shift that took place: check-in/out written as the kiosk would have, then confirmed."""
    starts, ends = at(day, hours[0]), at(day, hours[1])
    activity = Activity.objects.create(
        center=center,
        title=title,
        description=description,
        points_per_hour=points_per_hour,
        bonus_points=bonus,
        status=Activity.Status.PUBLISHED,
        created_by=staff,
        created_at=starts - dt.timedelta(days=10),
        published_at=starts - dt.timedelta(days=10),
    )
    shift = Shift.objects.create(
        activity=activity,
        role=role,
        place=place,
        starts_at=starts,
        ends_at=ends,
        needed=needed,
        taken=len(volunteers),
    )
    for volunteer, late, early in volunteers:
        Signup.objects.create(
            shift=shift,
            volunteer=volunteer,
            created_at=starts - dt.timedelta(days=5),
            checked_in_at=starts + dt.timedelta(minutes=late),
            checked_out_at=ends - dt.timedelta(minutes=early),
            check_in_by="demo",
        )
    scope = staff_scope(staff)
    assert scope is not None
    services.hours_confirm(staff=staff, scope=scope, shift_id=shift.pk, now=ends + dt.timedelta(hours=2))
    return shift


def _rewards(center: Center, staff: User, items: list[tuple[str, str, int, int, bool]]) -> dict[str, Reward]:
    scope = staff_scope(staff)
    assert scope is not None
    out = {}
    for kind, name, price, stock, vending in items:
        out[name] = points.reward_create(
            staff=staff,
            scope=scope,
            draft=points.RewardDraft(
                center_id=center.pk,
                kind=kind,
                name=name,
                price_points=price,
                stock=stock,
                at_vending=vending,
                at_desk=not vending,
            ),
        )
    return out


def load_volunteering(rng: random.Random) -> dict[str, int]:
    today = timezone.localdate()
    now = timezone.now()
    langxia = Center.objects.select_related("community").get(community__name="朗下社区")
    gushu = Center.objects.select_related("community").get(community__name="固戍社区")
    lx_staff = User.objects.get(username="langxia")
    gs_staff = User.objects.get(username="gushu")

    # 朗下: volunteers, a past patrol, the vending machine's catalogue and sales.
    zhou = User.objects.get_by_phone("13800138003").resident
    neighbours = Resident.objects.filter(home_community=langxia.community).exclude(pk=zhou.pk).order_by("pk")
    lx_people = [zhou, *neighbours[:7]]
    long_ago = now - dt.timedelta(days=400)
    lx_volunteers = [_register(r, long_ago, "巡河、交通劝导" if r == zhou else "") for r in lx_people]
    # 周建华's long record: 120 hours over the past year (one star), written as monthly patrols.
    for months_back in range(12, 0, -1):
        day = today - dt.timedelta(days=30 * months_back + 3)
        _past_shift(
            center=langxia,
            staff=lx_staff,
            title="朗下河道巡查" if months_back % 2 else "朗下公园环境守护",
            role="巡查员",
            place="朗下河碧道",
            day=day,
            hours=(8, 18),
            needed=10,
            points_per_hour=1,
            bonus=0,
            volunteers=[(v, 0, 0) for v in lx_volunteers[: 1 + months_back % 4]],
            description="沿河巡查垃圾、护栏和警示牌，发现问题拍照上报。",
        )
    drinks = _rewards(
        langxia,
        lx_staff,
        [
            ("drink", "矿泉水", 2, 40, True),
            ("drink", "无糖绿茶", 3, 30, True),
            ("drink", "罐装咖啡", 5, 20, True),
            ("goods", "环保购物袋", 10, 25, False),
            ("voucher", "社区理发服务券", 20, 10, False),
        ],
    )
    machine = Device.objects.get(center=langxia, kind=Device.Kind.VENDING_MACHINE)
    sold = 0
    for i, (resident, reward) in enumerate(
        [(zhou, "无糖绿茶"), (zhou, "矿泉水"), (lx_people[1], "矿泉水"), (lx_people[2], "罐装咖啡")]
    ):
        status, _body, _replayed = points.redemption_at_vending(
            device=machine,
            key=f"demo-vend-{i + 1:04d}",
            token=resident_pass_issue(user=resident.user).token,
            reward_id=drinks[reward].pk,
            quantity=1,
        )
        sold += status == 201
    points.vending_failure_report(device=machine, key="demo-vend-0002", reason="出货口卡住，未出货")
    future = today + dt.timedelta(days=(5 - today.weekday()) % 7 or 7)  # next Saturday
    lx_scope = staff_scope(lx_staff)
    assert lx_scope is not None
    courtesy = services.activity_create(
        staff=lx_staff,
        scope=lx_scope,
        draft=services.ActivityDraft(
            center_id=langxia.pk,
            title="朗下路口文明交通劝导",
            description="早高峰在学校周边路口劝导行人和电动车文明通行。",
            requirements="统一穿志愿者马甲（现场发放），提前10分钟签到",
            points_per_hour=2,
            bonus_points=1,
            shifts=[
                services.ShiftDraft("劝导员", "朗下小学东门路口", at(future, 7), at(future, 9), 6),
                services.ShiftDraft("劝导员", "朗下小学西门路口", at(future, 7), at(future, 9), 4),
            ],
        ),
        now=now,
    )
    services.signup_create(user=zhou.user, shift_id=courtesy.shifts.order_by("pk").first().pk, now=now)  # type: ignore[union-attr]

    # 固戍: 李晓梅 and neighbours helped at the lunch table last week; a clean-up day to come.
    li = User.objects.get_by_phone("13800138000").resident
    neighbours = Resident.objects.filter(home_community=gushu.community).exclude(pk=li.pk).order_by("pk")
    gs_people = [li, *neighbours[:5]]
    gs_volunteers = [
        _register(r, now - dt.timedelta(days=60), "摄影、活动主持" if r == li else "") for r in gs_people
    ]
    for days_back, title in [(21, "长者饭堂助餐服务"), (14, "四点半课堂作业辅导"), (7, "长者饭堂助餐服务")]:
        _past_shift(
            center=gushu,
            staff=gs_staff,
            title=title,
            role="助餐员" if "饭堂" in title else "辅导员",
            place="固戍社区长者饭堂" if "饭堂" in title else "固戍客厅四点半课堂",
            day=today - dt.timedelta(days=days_back),
            hours=(11, 14) if "饭堂" in title else (16, 18),
            needed=6,
            points_per_hour=1,
            bonus=2,
            volunteers=[(gs_volunteers[0], 10, 0)]
            + [(v, rng.choice([0, 5, 10]), rng.choice([0, 0, 15])) for v in gs_volunteers[1:4]],
            description="协助长者取餐、送餐和餐后清洁。" if "饭堂" in title else "陪伴辅导小学生完成作业。",
        )
    _rewards(
        gushu,
        gs_staff,
        [
            ("goods", "抽纸（3包）", 5, 50, False),
            ("goods", "环保购物袋", 8, 30, False),
            ("voucher", "阅读室咖啡券", 6, 40, False),
        ],
    )
    gs_scope = staff_scope(gs_staff)
    assert gs_scope is not None
    clean_up = services.activity_create(
        staff=gs_staff,
        scope=gs_scope,
        draft=services.ActivityDraft(
            center_id=gushu.pk,
            title="固戍社区环境清洁日",
            description="清理社区公共区域、楼道小广告和绿化带垃圾。",
            requirements="穿运动鞋，手套和工具现场发放",
            audience=Activity.Audience.COMMUNITY,
            points_per_hour=1,
            bonus_points=2,
            shifts=[
                services.ShiftDraft("清洁员", "固戍客厅门口集合", at(future, 9), at(future, 11, 30), 12),
                services.ShiftDraft("物资登记", "固戍客厅服务台", at(future, 8, 30), at(future, 12), 2),
            ],
        ),
        now=now,
    )
    services.signup_create(user=li.user, shift_id=clean_up.shifts.order_by("pk").first().pk, now=now)  # type: ignore[union-attr]
    services.certificate_issue(user=li.user, now=now)
    first = Signup.objects.filter(volunteer=gs_volunteers[0]).order_by("shift__starts_at").first()
    assert first is not None
    services.correction_request(
        user=li.user,
        signup_id=first.pk,
        minutes=first.shift.minutes,
        reason="当天提前到岗布置餐桌，签到机排队，实际全程在岗。",
        now=now,
    )
    return {
        "volunteers": Volunteer.objects.count(),
        "activities": Activity.objects.count(),
        "vending_sales": sold,
    }
