"""factory_boy factories for tests. Residents get valid synthetic ID numbers."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import factory
import pyotp
from stdnum.cn import ric

from livingroom.people.models import Resident, StaffRole, User, id_number_index
from livingroom.places.models import (
    Center,
    Community,
    Device,
    Facility,
    OpeningHours,
    Organization,
    Space,
    Street,
)

_seq = itertools.count(1)


def make_id_number(
    birth: dt.date = dt.date(1990, 1, 1), seq: int | None = None, sex: int = 1, area: str = "440306"
) -> str:
    n = next(_seq) if seq is None else seq
    body = f"{area}{birth:%Y%m%d}{n % 100:02d}{sex}"
    return body + ric.calc_check_digit(body + "0")


def make_phone(n: int | None = None) -> str:
    return f"1370000{(next(_seq) if n is None else n) % 10000:04d}"


class StreetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Street

    code = factory.Sequence(lambda n: f"4403069{n % 100:02d}")
    name = factory.Sequence(lambda n: f"测试街道{n}")


class CommunityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Community

    street = factory.SubFactory(StreetFactory)
    code = factory.LazyAttributeSequence(lambda o, n: f"{o.street.code}{n % 1000:03d}")
    name = factory.Sequence(lambda n: f"测试社区{n}")


class CenterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Center

    community = factory.SubFactory(CommunityFactory)
    name = factory.LazyAttribute(lambda o: f"{o.community.name}党群服务中心")


class SpaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Space

    center = factory.SubFactory(CenterFactory)
    name = factory.Sequence(lambda n: f"场地{n}")
    kind = Space.Kind.STUDY
    area_m2 = Decimal("100.0")
    is_office = False


class FacilityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Facility

    center = factory.SubFactory(CenterFactory)
    kind = Facility.Kind.WATER


class HoursFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OpeningHours

    center = factory.SubFactory(CenterFactory)
    weekday = 0
    opens = dt.time(9)
    closes = dt.time(21)


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"合作机构{n}")
    kind = Organization.Kind.SOCIAL_ORG


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    password = factory.django.Password("pw-not-used")

    @factory.post_generation
    def phone(obj, create, extracted, **kwargs):
        obj.set_phone(extracted or make_phone())
        if create:
            obj.save()


class ResidentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Resident

    user = factory.SubFactory(UserFactory)
    real_name = "张三"
    name_pinyin = "zhangsan"
    name_initials = "zs"
    id_number = factory.LazyFunction(make_id_number)
    id_number_hash = factory.LazyAttribute(lambda o: id_number_index(o.id_number))
    birth_date = factory.LazyAttribute(lambda o: ric.get_birth_date(o.id_number))
    sex = "M"
    home_community = factory.SubFactory(CommunityFactory)
    consent_purpose = "test"
    consent_version = "test"
    consent_at = factory.LazyFunction(lambda: dt.datetime.now(dt.UTC))


STAFF_PASSWORD = "Correct-Horse-42"


class StaffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    display_name = "工作人员"
    totp_secret = factory.LazyFunction(pyotp.random_base32)
    password = factory.django.Password(STAFF_PASSWORD)


def staff_with_role(role: str, **place) -> User:
    user = StaffFactory()
    StaffRole.objects.create(user=user, role=role, **place)
    return user


def device_for(center: Center, kind: str = Device.Kind.KIOSK) -> tuple[Device, str]:
    from livingroom.places.services import device_register

    return device_register(center=center, kind=kind, name="测试设备")
