import datetime as dt
import time

import pytest
from django.db import connection

from livingroom.core import pii
from livingroom.core.errors import InvalidInput
from livingroom.core.models import AuditEvent
from livingroom.core.scopes import StaffScope
from livingroom.people import errors, passes, selectors, services
from livingroom.people.models import EligibilityVerification, PassUse, Resident
from tests.factories import ResidentFactory, UserFactory, make_id_number


@pytest.mark.django_db
def test_profile_derives_birth_date_sex_and_pinyin(place):
    user = UserFactory()
    number = make_id_number(dt.date(1961, 2, 3), sex=2)
    resident = services.resident_profile_update(
        user=user,
        real_name=" 欧阳  娜娜 ",
        id_number=number,
        home_community_id=place["communities"][1].pk,
        consent=True,
    )
    assert resident.real_name == "欧阳 娜娜"
    assert (resident.birth_date, resident.sex) == (dt.date(1961, 2, 3), "F")
    assert (resident.name_pinyin, resident.name_initials) == ("ouyangnana", "oynn")
    assert resident.consent_version and resident.consent_purpose
    event = AuditEvent.objects.get(action="people.resident.created")
    assert event.actor == user and number not in str(event.data)


@pytest.mark.django_db
def test_first_profile_needs_consent_and_a_real_community(place):
    user = UserFactory()
    with pytest.raises(errors.ConsentRequired):
        services.resident_profile_update(
            user=user,
            real_name="张三",
            id_number=make_id_number(),
            home_community_id=place["communities"][0].pk,
            consent=False,
        )
    with pytest.raises(InvalidInput) as exc:
        services.resident_profile_update(
            user=user, real_name="张三", id_number=make_id_number(), home_community_id=999999, consent=True
        )
    assert exc.value.code == "community_not_found"
    with pytest.raises(InvalidInput) as exc:
        services.resident_profile_update(
            user=user,
            real_name="<script>",
            id_number=make_id_number(),
            home_community_id=place["communities"][0].pk,
            consent=True,
        )
    assert exc.value.code == "invalid_name"
    assert not Resident.objects.exists()


@pytest.mark.django_db
def test_id_number_belongs_to_one_resident(place):
    number = make_id_number()
    first = ResidentFactory(id_number=number)
    with pytest.raises(errors.IdNumberTaken):
        services.resident_profile_update(
            user=UserFactory(),
            real_name="李四",
            id_number=number.lower(),
            home_community_id=place["communities"][0].pk,
            consent=True,
        )
    assert Resident.objects.count() == 1 and Resident.objects.get().pk == first.pk


@pytest.mark.django_db
def test_no_id_number_or_phone_in_clear_in_the_database(place):
    number = make_id_number(dt.date(1988, 8, 8))
    user = UserFactory(phone="13912345678")
    services.resident_profile_update(
        user=user,
        real_name="王五",
        id_number=number,
        home_community_id=place["communities"][0].pk,
        consent=True,
    )
    tables = connection.introspection.table_names()
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - table names from introspection
            dump = repr(cursor.fetchall())
            assert number not in dump, table
            assert "13912345678" not in dump, table
    with connection.cursor() as cursor:
        cursor.execute('SELECT id_number FROM "people_resident"')
        stored = cursor.fetchone()[0]
    assert stored.startswith("pii1.") and pii.decrypt(stored) == number


@pytest.mark.django_db
def test_pass_is_short_lived_signed_and_single_use():
    resident = ResidentFactory()
    issued = services.resident_pass_issue(user=resident.user)
    assert (issued.expires_at - issued.issued_at).total_seconds() == 60
    assert services.resident_pass_verify(token=issued.token, purpose="test").pk == resident.pk
    with pytest.raises(errors.PassReplayed):
        services.resident_pass_verify(token=issued.token)
    assert PassUse.objects.count() == 1


@pytest.mark.django_db
def test_expired_and_forged_passes():
    resident = ResidentFactory()
    old = passes.encode(resident.pk, int(time.time()) - 61)
    with pytest.raises(errors.PassExpired):
        services.resident_pass_verify(token=old)
    future = passes.encode(resident.pk, int(time.time()) + 120)
    with pytest.raises(errors.PassExpired):
        services.resident_pass_verify(token=future)
    good = services.resident_pass_issue(user=resident.user).token
    tampered = good[:10] + ("A" if good[10] != "A" else "B") + good[11:]
    for token in [tampered, "LR1.", "hello", good + "x", "LR1." + "A" * 54, ""]:
        with pytest.raises(errors.PassInvalid):
            services.resident_pass_verify(token=token)
    assert not PassUse.objects.exists()


@pytest.mark.django_db
def test_pass_of_a_deactivated_user_is_refused():
    resident = ResidentFactory()
    token = services.resident_pass_issue(user=resident.user).token
    resident.user.is_active = False
    resident.user.save()
    with pytest.raises(errors.PassInvalid):
        services.resident_pass_verify(token=token)


@pytest.mark.django_db
def test_eligibility_elderly_by_age_and_verified_groups(place, roles):
    today = dt.date(2026, 11, 26)
    resident = ResidentFactory(
        home_community=place["communities"][0], id_number=make_id_number(dt.date(1950, 1, 1))
    )
    assert [e.kind for e in selectors.resident_eligibilities(resident, on=today)] == ["elderly_70"]
    worker = roles["community"]
    scope = StaffScope(
        user_id=worker.pk,
        community_ids=frozenset({resident.home_community_id}),
        desk_community_ids=frozenset({resident.home_community_id}),
        can_see_residents=True,
    )
    services.eligibility_verify(
        scope=scope,
        actor=worker,
        resident=resident,
        kind="rider",
        platform="美团",
        credential_number="MT001",
        valid_until=dt.date.today() + dt.timedelta(days=30),
    )
    second = services.eligibility_verify(
        scope=scope,
        actor=worker,
        resident=resident,
        kind="rider",
        platform="饿了么",
        credential_number="ELM002",
        valid_until=dt.date.today() + dt.timedelta(days=90),
    )
    active = EligibilityVerification.objects.filter(resident=resident, revoked_at__isnull=True)
    assert list(active) == [second]
    kinds = [e.kind for e in selectors.resident_eligibilities(resident)]
    assert "rider" in kinds
    event = AuditEvent.objects.filter(action="people.eligibility.verified").first()
    assert event.data["credential"] == "**M002" and "ELM002" not in str(event.data)


@pytest.mark.django_db
def test_eligibility_needs_desk_staff_and_evidence(place, roles):
    resident = ResidentFactory(home_community=place["communities"][0])
    official = StaffScope(user_id=1, district=True, can_see_residents=True)
    with pytest.raises(Exception) as exc:
        services.eligibility_verify(
            scope=official, actor=roles["district"], resident=resident, kind="low_income"
        )
    assert exc.value.code == "forbidden"
    desk = StaffScope(
        user_id=2,
        community_ids=frozenset({resident.home_community_id}),
        desk_community_ids=frozenset({resident.home_community_id}),
        can_see_residents=True,
    )
    with pytest.raises(InvalidInput) as exc:
        services.eligibility_verify(scope=desk, actor=roles["community"], resident=resident, kind="rider")
    assert exc.value.code == "rider_credential_required"
    with pytest.raises(InvalidInput) as exc:
        services.eligibility_verify(
            scope=desk, actor=roles["community"], resident=resident, kind="disabled", credential_number="12"
        )
    assert exc.value.code == "certificate_required"
    with pytest.raises(InvalidInput):
        services.eligibility_verify(
            scope=desk,
            actor=roles["community"],
            resident=resident,
            kind="low_income",
            valid_until=dt.date(2000, 1, 1),
        )
    assert not EligibilityVerification.objects.exists()
