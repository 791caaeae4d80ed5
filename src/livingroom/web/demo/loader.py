"""The demo district: Bao'an's 10 sub-districts, 124 communities, a center each, staff, residents.

Deterministic (seeded), so screenshots and docs stay true. Residents have synthetic but valid
ID numbers (check digit computed by python-stdnum) and phone numbers in the 139-0000 block.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from stdnum.cn import ric

from livingroom.people import services as people_services
from livingroom.people.models import EligibilityVerification, StaffRole, User
from livingroom.people.scopes import staff_scope
from livingroom.places import services as place_services
from livingroom.places.models import Center, Community, Facility, Organization, Space, Street
from livingroom.web.demo import baoan
from livingroom.web.demo.booking import load_booking
from livingroom.web.demo.meals import load_meals
from livingroom.web.demo.programs import load_programs
from livingroom.web.demo.voice import load_voice
from livingroom.web.demo.volunteering import load_volunteering

DEMO_PASSWORD = "LivingRoom-2026"  # noqa: S105 - the documented demo password
RENOVATION_DAY = dt.date(2024, 6, 1)

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余"
    "于杜叶程魏苏吕丁任卢姚沈钟姜崔谭陆范汪廖石金韦贾夏付方邹熊白孟秦邱侯江尹薛闫段雷"
    "龙黎史陶贺毛郝顾龚邵万覃武钱戴严莫孔向常汤康易乔赖文"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建国志文斌宇浩凯欣怡"
    "婷雪梅晓东海燕佳琪子涵梓轩思远嘉豪"
)


def totp_secret_for(username: str) -> str:
    """Fixed demo TOTP secrets, so the README can tell developers how to sign in."""
    return base64.b32encode(hashlib.sha256(f"livingroom-demo:{username}".encode()).digest()[:20]).decode()


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    place: str
    label: str


DEMO_STAFF = [
    DemoAccount("district", StaffRole.Role.DISTRICT_OFFICIAL, "", "宝安区党群服务中心管理员"),
    DemoAccount("xixiang", StaffRole.Role.STREET_OFFICIAL, "西乡街道", "西乡街道工作人员"),
    DemoAccount("gushu", StaffRole.Role.COMMUNITY_WORKER, "固戍社区", "固戍社区工作者"),
    DemoAccount("longzhu", StaffRole.Role.CENTER_STAFF, "龙珠社区", "龙珠社区党群服务中心工作人员"),
    DemoAccount("baomin", StaffRole.Role.COMMUNITY_WORKER, "宝民社区", "宝民社区工作者"),
    DemoAccount("fuzhongfu", StaffRole.Role.CENTER_STAFF, "福中福社区", "福中福社区党群服务中心工作人员"),
    DemoAccount("canlian", StaffRole.Role.PARTNER_STAFF, "宝安区残疾人联合会", "区残联康复专干"),
    DemoAccount("langxia", StaffRole.Role.COMMUNITY_WORKER, "朗下社区", "朗下社区工作者"),
    DemoAccount("shuhua", StaffRole.Role.PARTNER_STAFF, "（示例）龙珠书画公益社", "龙珠书画公益社老师"),
    DemoAccount("fantang", StaffRole.Role.PARTNER_STAFF, "（示例）福中福社区饭堂", "福中福社区饭堂运营人员"),
]

DEMO_RESIDENTS = [
    # phone, name, community, birth date, sex digit, extra
    ("13800138000", "李晓梅", "固戍社区", dt.date(1991, 3, 14), 2, None),
    ("13800138001", "陈志强", "福中福社区", dt.date(1996, 8, 2), 1, "rider"),
    ("13800138002", "黄桂英", "宝民社区", dt.date(1953, 11, 20), 2, "disabled"),
    ("13800138003", "周建华", "朗下社区", dt.date(1968, 5, 6), 1, None),
]

# (kind, name, floor, area, capacity, bookable)
SERVICE_SPACES = [
    ("service_hall", "一站式服务大厅", 1, (90, 160), None, False),
    ("reading", "阅读室", 2, (60, 140), (20, 40), False),
    ("study", "自习室", 2, (50, 120), (16, 40), True),
    ("activity", "多功能活动室", 2, (60, 150), (20, 60), True),
    ("dance", "舞蹈室", 3, (60, 120), (15, 30), True),
    ("gym", "健身房", 1, (40, 100), (8, 20), False),
    ("childcare", "四点半课堂", 2, (40, 90), (15, 30), False),
    ("elderly", "长者服务站", 1, (50, 120), (10, 30), False),
    ("meeting", "议事厅", 3, (40, 80), (12, 30), True),
    ("rest", "暖心驿站", 1, (15, 40), None, False),
]
OFFICE_SPACES = [("office", "社区办公室", 3), ("office", "党委办公室", 3), ("storage", "档案室", 3)]
FACILITY_KINDS = [k for k, _ in Facility.Kind.choices]


REGION_CODES = [
    "440306",
    "440305",
    "440304",
    "440303",
    "441302",
    "440981",
    "430521",
    "360121",
    "450881",
    "421281",
]


def _id_number(rng: random.Random, birth: dt.date, sex_digit: int | None = None) -> str:
    """A synthetic ID number that passes every check: region valid in the birth year, check digit."""
    if sex_digit is None:
        sex = rng.randint(0, 9)
    else:
        sex = rng.choice([1, 3, 5, 7, 9]) if sex_digit == 1 else rng.choice([0, 2, 4, 6, 8])
    seq = rng.randint(10, 99)
    for area in rng.sample(REGION_CODES, len(REGION_CODES)):
        body = f"{area}{birth:%Y%m%d}{seq:02d}{sex}"
        number = body + ric.calc_check_digit(body + "0")  # the function ignores the last character
        if ric.is_valid(number):  # the strictest check: region valid in the birth year too
            return number
    raise ValueError(f"no region code valid for {birth}")


def _hours(center: Center, rng: random.Random) -> None:
    late = rng.choice([(21, 0), (21, 30), (20, 0)])
    periods = [(d, dt.time(9, 0), dt.time(*late)) for d in range(5)]
    periods += [(d, dt.time(9, 0), dt.time(18, 0)) for d in (5, 6)]
    place_services.center_set_opening_hours(center=center, periods=periods)


def _gushu_spaces(center: Center) -> None:
    """固戍: before the renovation half of 1,200 m² was offices (50%); the whole third floor became
    study, reading and activity rooms, leaving 264 m² of offices (22%)."""
    add = place_services.space_create
    before_only: dict[str, Any] = {"closed_on": RENOVATION_DAY}
    after_only: dict[str, Any] = {"opened_on": RENOVATION_DAY}
    add(center=center, name="服务大厅", kind="service_hall", floor=1, area_m2=300)
    add(center=center, name="长者服务站", kind="elderly", floor=1, area_m2=150, capacity=30)
    add(center=center, name="多功能活动室", kind="activity", floor=2, area_m2=150, capacity=60, bookable=True)
    add(center=center, name="社区办公室", kind="office", floor=2, area_m2=264)
    add(center=center, name="三楼办公区", kind="office", floor=3, area_m2=336, **before_only)
    add(
        center=center,
        name="自习室",
        kind="study",
        floor=3,
        area_m2=120,
        capacity=36,
        bookable=True,
        **after_only,
    )
    add(center=center, name="阅读室", kind="reading", floor=3, area_m2=110, capacity=30, **after_only)
    add(
        center=center,
        name="青年活动室",
        kind="activity",
        floor=3,
        area_m2=106,
        capacity=40,
        bookable=True,
        **after_only,
    )


def _spaces(center: Center, rng: random.Random, *, renovated: bool, story: dict | None) -> None:
    kinds = rng.sample(SERVICE_SPACES, k=rng.randint(5, 8))
    if story and story.get("rehab_room"):
        kinds.append(("rehab", "康复室", 1, (50, 80), (6, 10), True))
    if story and "rider_meal_basic_yuan" in story:
        kinds.append(("canteen", "长者饭堂·骑手餐厅", 1, (80, 120), (40, 60), False))
    if story and story.get("spaces"):
        kinds += [k for k in SERVICE_SPACES if k[0] in ("dance", "gym", "activity") and k not in kinds]
    if center.community.street.name == "新桥街道" or (story and story.get("near_industrial_parks")):
        kinds.append(("livestream", "共享直播间", 2, (20, 40), (4, 6), True))
    created: list[Space] = []
    seen: set[str] = set()
    for kind, name, floor, (lo, hi), cap, bookable in kinds:
        if name in seen:
            continue
        seen.add(name)
        created.append(
            place_services.space_create(
                center=center,
                name=name,
                kind=kind,
                floor=floor,
                area_m2=Decimal(rng.randint(lo, hi)),
                capacity=rng.randint(*cap) if cap else None,
                bookable=bookable,
            )
        )
    service_total = sum((s.area_m2 for s in created), Decimal(0))
    share_now = Decimal(str(round(rng.uniform(0.12, 0.30), 3)))
    office_now = (service_total * share_now / (1 - share_now)).quantize(Decimal(1))
    offices = OFFICE_SPACES[: rng.randint(1, 3)]
    each = (office_now / len(offices)).quantize(Decimal(1))
    for i, (kind, name, floor) in enumerate(offices):
        area = each if i < len(offices) - 1 else office_now - each * (len(offices) - 1)
        place_services.space_create(
            center=center, name=name, kind=kind, floor=floor, area_m2=max(area, Decimal(10))
        )
    if renovated:
        # Before the renovation the office share was 35–55%: the rooms opened on renovation day
        # were offices until then (the same floor area, turned over to residents).
        total = service_total + office_now
        wanted = total * Decimal(str(round(rng.uniform(0.35, 0.55), 3))) - office_now
        converted = Decimal(0)
        for space in sorted(created, key=lambda s: s.area_m2, reverse=True):
            if converted + space.area_m2 <= wanted:
                Space.objects.filter(pk=space.pk).update(opened_on=RENOVATION_DAY)
                converted += space.area_m2
        if converted:
            place_services.space_create(
                center=center,
                name="原办公区",
                kind="office",
                floor=2,
                area_m2=converted,
                closed_on=RENOVATION_DAY,
            )


def _facilities(center: Center, rng: random.Random, story: dict | None) -> None:
    kinds = set(rng.sample(FACILITY_KINDS, k=rng.randint(4, 8))) | {"water", "blood_pressure", "history_wall"}
    if story and story.get("rider_requests_fulfilled"):
        kinds |= {"rider_rest", "medicine_box"}
    for kind in sorted(kinds):
        facility = place_services.facility_add(center=center, kind=kind, quantity=rng.choice([1, 1, 1, 2, 3]))
        if rng.random() < 0.05:
            place_services.facility_set_status(facility=facility, status="under_repair")


def _description(community: Community, story: dict | None) -> str:
    if story:
        return story["story_zh"]
    return f"{community.name}党群服务中心“百姓客厅”：阅读、自习、活动、议事与便民服务。"


@transaction.atomic
def _load_places(rng: random.Random) -> None:
    for s in baoan.STREETS:
        street = Street.objects.create(
            code=s["code"], name=s["name"], name_en=s["name_en"], code_is_official=s["code_is_official"]
        )
        for c in s["communities"]:
            Community.objects.create(
                street=street,
                code=c["code"],
                name=c["name"],
                name_en=c["name_en"],
                name_is_real=c["name_is_real"],
            )
    communities = list(Community.objects.select_related("street").order_by("code"))
    # The 25 pilots of the "government + public welfare + commerce" model: the article's nine, and 16 more.
    seeded = [c for c in communities if c.name in baoan.SEED_STORIES]
    others = [c for c in communities if c.name not in baoan.SEED_STORIES]
    pilot_codes = {c.code for c in seeded} | {c.code for c in rng.sample(others, 25 - len(seeded))}
    for community in communities:
        story = baoan.SEED_STORIES.get(community.name)
        renovated = story is not None or rng.random() < 0.55
        themes = []
        if story and ("rider_meal_basic_yuan" in story or "rider_requests_fulfilled" in story):
            themes.append(Center.Theme.NEW_EMPLOYMENT)
        if story and story.get("near_industrial_parks"):
            themes.append(Center.Theme.WORKERS)
        if (story and story.get("audience") == "青年") or (story and story.get("talents_min")):
            themes.append(Center.Theme.YOUTH)
        if rng.random() < 0.15:
            themes.append(Center.Theme.WOMEN_CHILDREN)
        suffix = "" if community.name_is_real else "（示例）"
        center = Center.objects.create(
            community=community,
            name=f"{community.name}党群服务中心{suffix}",
            address=f"深圳市宝安区{community.street.name}{community.name}",
            description=_description(community, story),
            themes=sorted(set(themes)),
            renovated_on=RENOVATION_DAY if renovated else None,
            is_pilot=community.code in pilot_codes,
        )
        _hours(center, rng)
        if community.name == "固戍社区":
            _gushu_spaces(center)
        else:
            _spaces(center, rng, renovated=renovated, story=story)
        _facilities(center, rng, story)


def _org(name: str, kind: str, community_names: list[str], description: str) -> Organization:
    org = Organization.objects.create(name=name, kind=kind, description=description)
    org.centers.set(Center.objects.filter(community__name__in=community_names))
    return org


def _load_partners_and_devices() -> dict[str, str]:
    _org("宝安区残疾人联合会", Organization.Kind.DEPARTMENT, ["宝民社区"], "康复服务合伙人")
    _org("宝安区中医院", Organization.Kind.COMPANY, ["宝民社区"], "康复室医疗合作")
    _org("宝安区人力资源局", Organization.Kind.DEPARTMENT, ["兴东社区"], "“宝就业”就业服务站")
    _org(
        "（示例）龙珠书画公益社",
        Organization.Kind.SOCIAL_ORG,
        ["龙珠社区"],
        "公益课程：绘画、书法、非遗、艺术讲座",
    )
    _org(
        "（示例）福中福社区饭堂", Organization.Kind.SOCIAL_ENTERPRISE, ["福中福社区"], "新就业群体与长者助餐"
    )
    secrets_out: dict[str, str] = {}
    for community, kind, name in [
        ("朗下社区", "vending_machine", "积分兑换售卖机"),
        ("福中福社区", "canteen_terminal", "饭堂核销终端"),
        ("固戍社区", "kiosk", "自习室签到机"),
        ("固戍社区", "people_counter", "大门客流计数器"),
    ]:
        center = Center.objects.get(community__name=community)
        device, secret = place_services.device_register(center=center, kind=kind, name=name)
        secrets_out[device.key_id] = secret
    return secrets_out


def _load_staff() -> list[DemoAccount]:
    User.objects.create_superuser(
        "admin", DEMO_PASSWORD, display_name="系统管理员", totp_secret=totp_secret_for("admin")
    )
    for account in DEMO_STAFF:
        user = User.objects.create_user(
            account.username,
            DEMO_PASSWORD,
            display_name=account.label,
            totp_secret=totp_secret_for(account.username),
        )
        role = StaffRole(user=user, role=account.role)
        if account.role == StaffRole.Role.STREET_OFFICIAL:
            role.street = Street.objects.get(name=account.place)
        elif account.role == StaffRole.Role.COMMUNITY_WORKER:
            role.community = Community.objects.get(name=account.place)
        elif account.role == StaffRole.Role.CENTER_STAFF:
            role.center = Center.objects.get(community__name=account.place)
        elif account.role == StaffRole.Role.PARTNER_STAFF:
            role.organization = Organization.objects.get(name=account.place)
        role.save()
    return DEMO_STAFF


def _resident(phone: str, name: str, community: Community, id_number: str) -> None:
    user = User(display_name=name)
    user.set_phone(phone)
    user.set_unusable_password()
    user.save()
    people_services.resident_profile_update(
        user=user, real_name=name, id_number=id_number, home_community_id=community.pk, consent=True
    )


def _load_residents(rng: random.Random, count: int) -> None:
    communities = list(Community.objects.order_by("code"))
    by_name = {c.name: c for c in communities}
    weights = [8 if c.name in baoan.SEED_STORIES else 1 for c in communities]
    for index, (phone, name, community_name, birth, sex, _extra) in enumerate(DEMO_RESIDENTS):
        # Demo residents added later draw their ID from their own generator, so the rest of the
        # demo district stays what it was.
        source = rng if index < 3 else random.Random(phone)
        _resident(phone, name, by_name[community_name], _id_number(source, birth, sex))
    for i in range(count - len(DEMO_RESIDENTS)):
        community = rng.choices(communities, weights=weights)[0]
        birth = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randint(0, 365 * 66))
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice([1, 2, 2])))
        _resident(f"1390000{i:04d}", name, community, _id_number(rng, birth))
    _verify_demo_residents()


def _verify_demo_residents() -> None:
    """The demo rider and disabled resident, verified by the desk staff of their communities."""
    today = timezone.localdate()
    for phone, _name, community_name, _birth, _sex, extra in DEMO_RESIDENTS:
        if not extra:
            continue
        resident = User.objects.get_by_phone(phone).resident
        actor = User.objects.get(username={"福中福社区": "fuzhongfu", "宝民社区": "baomin"}[community_name])
        scope = staff_scope(actor)
        assert scope is not None
        if extra == "rider":
            people_services.eligibility_verify(
                scope=scope,
                actor=actor,
                resident=resident,
                kind=EligibilityVerification.Kind.RIDER,
                platform="美团外卖",
                credential_number="MT20260001",
                evidence_note="骑手App实名页截图已核验",
                valid_until=today + dt.timedelta(days=180),
            )
        elif extra == "disabled":
            people_services.eligibility_verify(
                scope=scope,
                actor=actor,
                resident=resident,
                kind=EligibilityVerification.Kind.DISABLED,
                platform="宝安区残联",
                credential_number=resident.id_number + "42",
                evidence_note="残疾人证原件已核验",
                valid_until=today + dt.timedelta(days=365 * 3),
            )


def load_demo(*, residents: int = 300, seed: int = 20241120) -> dict[str, object]:
    rng = random.Random(seed)
    _load_places(rng)
    devices = _load_partners_and_devices()
    staff = _load_staff()
    _load_residents(rng, residents)
    bookings = load_booking(rng)
    programs = load_programs(rng)
    volunteering = load_volunteering(rng)
    voice = load_voice(random.Random(seed + 6))  # its own generator: the rest of the demo stays what it was
    meals = load_meals(random.Random(seed + 7))
    return {
        "staff": staff,
        "devices": devices,
        "bookings": bookings,
        "programs": programs,
        "volunteering": volunteering,
        "voice": voice,
        "meals": meals,
    }


def is_loaded() -> bool:
    return Street.objects.exists()
