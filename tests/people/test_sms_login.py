import datetime as dt
import re

import pytest
from django.utils import timezone

from livingroom.core.errors import InvalidInput, RateLimited
from livingroom.core.models import AuditEvent
from livingroom.people import errors, services
from livingroom.people.models import SmsCode, User, phone_index
from livingroom.people.sms import latest_outbox_message

PHONE = "13812341234"


def sent_code(phone: str = PHONE) -> str:
    message = latest_outbox_message(phone)
    assert message is not None
    return re.search(r"\d{6}", message.body).group(0)


@pytest.mark.django_db
def test_code_is_sent_through_the_outbox_and_stored_hashed():
    issued = services.sms_code_request(phone="+86 138 1234 1234", ip="10.0.0.1")
    assert issued.expires_in == 300 and issued.resend_in == 60
    code = sent_code()
    row = SmsCode.objects.get()
    assert code not in row.code_hash and row.attempts == 0 and row.consumed_at is None
    assert row.expires_at - row.created_at == dt.timedelta(minutes=5)
    assert AuditEvent.objects.filter(action="people.sms_code.sent", data__phone="138****1234").exists()


@pytest.mark.django_db
def test_login_creates_the_user_once_and_the_code_works_once():
    services.sms_code_request(phone=PHONE, ip="1.1.1.1")
    code = sent_code()
    user = services.resident_login_with_sms(phone=PHONE, code=code)
    assert user.phone == PHONE and user.phone_hash == phone_index(PHONE) and user.phone_tail == "1234"
    with pytest.raises(errors.SmsCodeInvalid):
        services.resident_login_with_sms(phone=PHONE, code=code)
    assert User.objects.count() == 1


@pytest.mark.django_db
def test_existing_user_signs_in_again(cache_reset=None):
    services.sms_code_request(phone=PHONE, ip="1.1.1.1")
    first = services.resident_login_with_sms(phone=PHONE, code=sent_code())
    from django.core.cache import cache

    cache.clear()  # the resend window
    services.sms_code_request(phone=PHONE, ip="1.1.1.1")
    assert services.resident_login_with_sms(phone=PHONE, code=sent_code()).pk == first.pk


@pytest.mark.django_db
def test_wrong_code_counts_and_five_tries_exhaust_the_code():
    services.sms_code_request(phone=PHONE, ip="1.1.1.1")
    good = sent_code()
    wrong = "000000" if good != "000000" else "111111"
    for _ in range(5):
        with pytest.raises(errors.SmsCodeInvalid):
            services.resident_login_with_sms(phone=PHONE, code=wrong)
    assert SmsCode.objects.get().attempts == 5
    with pytest.raises(errors.SmsCodeTooManyTries):
        services.resident_login_with_sms(phone=PHONE, code=good)
    assert not User.objects.exists()


@pytest.mark.django_db
def test_expired_code_is_refused():
    services.sms_code_request(phone=PHONE, ip="1.1.1.1")
    SmsCode.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    with pytest.raises(errors.SmsCodeExpired):
        services.resident_login_with_sms(phone=PHONE, code=sent_code())
    assert not User.objects.exists()


@pytest.mark.django_db
def test_new_code_replaces_the_old_one():
    services.sms_code_request(phone=PHONE, ip="1.1.1.1")
    old = sent_code()
    from django.core.cache import cache

    cache.clear()
    services.sms_code_request(phone=PHONE, ip="1.1.1.1")
    new = sent_code()
    if old != new:
        with pytest.raises((errors.SmsCodeExpired, errors.SmsCodeInvalid)):
            services.resident_login_with_sms(phone=PHONE, code=old)
    assert services.resident_login_with_sms(phone=PHONE, code=new).phone == PHONE


@pytest.mark.django_db
def test_rate_limits_per_phone_and_per_ip(settings):
    services.sms_code_request(phone=PHONE, ip="1.1.1.1")
    with pytest.raises(errors.SmsResendTooSoon):
        services.sms_code_request(phone=PHONE, ip="2.2.2.2")
    settings.LIVINGROOM_SMS_PER_IP_PER_HOUR = 3
    for i in range(2):
        services.sms_code_request(phone=f"1390000000{i}", ip="9.9.9.9")
    services.sms_code_request(phone="13900000005", ip="9.9.9.9")
    with pytest.raises(RateLimited):
        services.sms_code_request(phone="13900000006", ip="9.9.9.9")
    assert latest_outbox_message("13900000006") is None


@pytest.mark.django_db
def test_daily_limit_per_phone(settings):
    from django.core.cache import cache

    settings.LIVINGROOM_SMS_PER_PHONE_PER_DAY = 2
    for _ in range(2):
        cache.delete_many([k for k in [f"once:sms-phone:{phone_index(PHONE)}"]])
        services.sms_code_request(phone=PHONE, ip="1.1.1.1")
    cache.delete(f"once:sms-phone:{phone_index(PHONE)}")
    with pytest.raises(RateLimited):
        services.sms_code_request(phone=PHONE, ip="1.1.1.1")
    assert SmsCode.objects.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("code", ["", "12345", "abcdef", "1234567"])
def test_malformed_code(code):
    with pytest.raises(InvalidInput) as exc:
        services.resident_login_with_sms(phone=PHONE, code=code)
    assert exc.value.code == "sms_code_invalid"
