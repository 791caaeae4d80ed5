import pyotp
import pytest
from django.utils import timezone

from livingroom.core.models import AuditEvent
from livingroom.people import errors, services
from livingroom.people.models import StaffRole, User
from tests.factories import STAFF_PASSWORD, StaffFactory, staff_with_role


def code_for(user: User, offset: int = 0) -> str:
    import time

    return pyotp.TOTP(user.totp_secret).at(int(time.time()) + offset)


@pytest.mark.django_db
def test_password_and_totp_sign_in():
    user = staff_with_role(StaffRole.Role.DISTRICT_OFFICIAL)
    signed = services.staff_authenticate(username=user.username, password=STAFF_PASSWORD, totp=code_for(user))
    assert signed.pk == user.pk and signed.failed_logins == 0 and signed.last_login is not None
    assert AuditEvent.objects.filter(action="people.staff_login.succeeded", actor=user).count() == 1


@pytest.mark.django_db
def test_a_totp_code_cannot_be_used_twice():
    user = StaffFactory()
    code = code_for(user)
    services.staff_authenticate(username=user.username, password=STAFF_PASSWORD, totp=code)
    with pytest.raises(errors.InvalidCredentials):
        services.staff_authenticate(username=user.username, password=STAFF_PASSWORD, totp=code)


@pytest.mark.django_db
@pytest.mark.parametrize("which", ["password", "totp", "username"])
def test_any_wrong_factor_is_the_same_refusal(which):
    user = StaffFactory()
    args = {"username": user.username, "password": STAFF_PASSWORD, "totp": code_for(user)}
    args[which] = {
        "password": "wrong-password",
        "totp": "000000" if args["totp"] != "000000" else "111111",
        "username": "nobody",
    }[which]
    with pytest.raises(errors.InvalidCredentials) as exc:
        services.staff_authenticate(**args)
    assert exc.value.code == "invalid_credentials"


@pytest.mark.django_db
def test_five_failures_lock_for_thirty_minutes_even_with_the_right_password():
    user = StaffFactory()
    for _ in range(4):
        with pytest.raises(errors.InvalidCredentials):
            services.staff_authenticate(username=user.username, password="bad", totp=code_for(user))
    with pytest.raises(errors.AccountLocked):
        services.staff_authenticate(username=user.username, password="bad", totp=code_for(user))
    user.refresh_from_db()
    minutes = (user.locked_until - timezone.now()).total_seconds() / 60
    assert 29 < minutes <= 30
    with pytest.raises(errors.AccountLocked):
        services.staff_authenticate(username=user.username, password=STAFF_PASSWORD, totp=code_for(user))


@pytest.mark.django_db
def test_lock_expires():
    user = StaffFactory(locked_until=timezone.now() - timezone.timedelta(seconds=1))
    assert (
        services.staff_authenticate(username=user.username, password=STAFF_PASSWORD, totp=code_for(user)).pk
        == user.pk
    )


@pytest.mark.django_db
def test_password_is_hashed_with_argon2_in_production_settings(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    user = User.objects.create_user("argon", "Another-Secret-9")
    assert user.password.startswith("argon2$")


@pytest.mark.django_db
def test_create_staff_command_enrols_totp(place, capsys):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    community = place["communities"][0]
    call_command(
        "create_staff",
        "worker1",
        role="community_worker",
        place=community.code,
        password="Long-Enough-Pass-1",
        name="王工",
    )
    out = capsys.readouterr().out
    assert "otpauth://totp/" in out
    user = User.objects.get(username="worker1")
    assert StaffRole.objects.get(user=user).community == community
    assert (
        services.staff_authenticate(username="worker1", password="Long-Enough-Pass-1", totp=code_for(user)).pk
        == user.pk
    )
    with pytest.raises(CommandError, match="place_not_found"):
        call_command(
            "create_staff", "worker2", role="community_worker", place="000", password="Long-Enough-Pass-1"
        )
    with pytest.raises(CommandError, match="weak_password"):
        call_command("create_staff", "worker3", role="district_official", password="123")
    with pytest.raises(CommandError, match="username_taken"):
        call_command("create_staff", "worker1", role="district_official", password="Long-Enough-Pass-1")
    assert User.objects.filter(username__startswith="worker").count() == 1
