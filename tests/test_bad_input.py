"""Bad input gets a 4xx with a stable code and changes nothing; a 500 is a bug.

Every test states the refusal (status, code, field) and the side effect that must not happen:
no row, no audit event, no SMS, no pass use.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import time

import pytest
from django.core.cache import cache
from django.test import Client, override_settings
from django.utils import timezone, translation
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from stdnum.cn import ric

from livingroom.core import signing
from livingroom.core.errors import InvalidInput
from livingroom.core.models import AuditEvent, RequestNonce
from livingroom.core.validators import parse_id_number
from livingroom.people import passes, services
from livingroom.people.models import (
    ApiToken,
    PassUse,
    Resident,
    SmsCode,
    SmsOutbox,
    StaffRole,
    User,
    phone_index,
)
from livingroom.people.sms import latest_outbox_message
from tests.conftest import Api, console_client, resident_api, staff_api
from tests.factories import (
    CommunityFactory,
    ResidentFactory,
    UserFactory,
    device_for,
    make_id_number,
    staff_with_role,
)
from tests.invariants import assert_error, nothing_changes

PHONE = "13900002222"
MIB = 1024 * 1024
DEVICE_PATH = "/devices/passes/verify"


# --- helpers ---------------------------------------------------------------------------------------


def with_check_digit(body17: str) -> str:
    return body17 + ric.calc_check_digit(body17 + "0")


def wrong_check_digit(number: str) -> str:
    return number[:17] + next(c for c in "0123456789X" if c != number[17])


def request_code(api: Api, phone: str = PHONE) -> str:
    assert api.post("/auth/sms-code", {"phone": phone}).status_code == 202
    return re.search(r"\d{6}", latest_outbox_message(phone).body).group(0)


def profile_body(number: str, community, **extra) -> dict:
    return {
        "real_name": "李晓梅",
        "id_number": number,
        "home_community_id": community.pk,
        "consent": True,
        **extra,
    }


def device_send(api: Api, headers: dict, body: bytes, path: str = DEVICE_PATH):
    return api.send("POST", path, raw=body, headers=headers)


def fresh_pass(resident: Resident) -> str:
    return services.resident_pass_issue(user=resident.user).token


@pytest.fixture
def desk(place):
    """A community worker of c1 (token) and a resident of c1."""
    worker = staff_with_role(StaffRole.Role.COMMUNITY_WORKER, community=place["communities"][0])
    resident = ResidentFactory(home_community=place["communities"][0])
    return {"worker": worker, "api": staff_api(worker), "resident": resident}


@pytest.fixture
def device(place):
    device, secret = device_for(place["centers"][0])
    return {"device": device, "secret": secret, "key": device.key_id}


# --- phone numbers ---------------------------------------------------------------------------------

BAD_PHONES = [
    "12345",
    "1380013800",  # 10 digits
    "138001380001",  # 12 digits
    "23800138000",  # no such mobile prefix
    "abcdefghijk",
    "+1 202 555 0100",  # not mainland China
    "+852 6123 4567",  # Hong Kong
    "010-62345678",  # a Beijing landline
    "",
    "   ",
]


@pytest.mark.django_db
@pytest.mark.parametrize("phone", BAD_PHONES)
def test_invalid_phone_gets_no_code_and_cannot_sign_in(api, phone):
    with nothing_changes():
        assert_error(api.post("/auth/sms-code", {"phone": phone}), 400, "invalid_phone", "phone")
        assert_error(
            api.post("/auth/login", {"phone": phone, "code": "123456"}), 400, "invalid_phone", "phone"
        )


@pytest.mark.django_db
def test_phone_longer_than_the_schema_allows(api):
    with nothing_changes():
        assert_error(api.post("/auth/sms-code", {"phone": "1" * 33}), 400, "invalid_input", "phone")


@pytest.mark.django_db
def test_invalid_phone_on_the_sign_in_page(client):
    with nothing_changes():
        page = client.post("/login/", {"phone": "12345"})
    assert page.status_code == 200 and page.context["form"].errors["phone"]
    assert "login_phone" not in client.session


# --- ID numbers ------------------------------------------------------------------------------------

GOOD = make_id_number(dt.date(1985, 6, 15), seq=7)
BAD_ID_NUMBERS = [
    pytest.param(wrong_check_digit(GOOD), "id_number_checksum", id="wrong-check-digit"),
    pytest.param(with_check_digit("44030619900230123"), "id_number_birth_date", id="february-30"),
    pytest.param(with_check_digit("44030619901301123"), "id_number_birth_date", id="month-13"),
    pytest.param(with_check_digit("44030620990101123"), "id_number_birth_date", id="born-in-2099"),
    pytest.param(with_check_digit("44030618500101123"), "id_number_birth_date", id="born-in-1850"),
    pytest.param(with_check_digit("00000019900101123"), "id_number_region", id="unknown-region"),
    pytest.param(GOOD[:17], "id_number_format", id="17-characters"),
    pytest.param("44030619900101abcd", "id_number_format", id="letters"),
    pytest.param("", "id_number_format", id="empty"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("number", "code"), BAD_ID_NUMBERS)
def test_bad_id_number_creates_no_resident(place, number, code):
    me = resident_api(UserFactory())
    with nothing_changes():
        response = me.put("/me/profile", profile_body(number, place["communities"][0]))
    assert_error(response, 400, code, "id_number")
    assert not AuditEvent.objects.filter(action__startswith="people.resident.").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(("number", "code"), BAD_ID_NUMBERS[:2])
def test_bad_id_number_leaves_an_existing_profile_as_it_was(place, number, code):
    resident = ResidentFactory(home_community=place["communities"][0])
    me = resident_api(resident.user)
    with nothing_changes():
        response = me.put("/me/profile", profile_body(number, place["communities"][1]))
    assert_error(response, 400, code, "id_number")
    resident.refresh_from_db()
    assert resident.home_community == place["communities"][0] and resident.real_name == "张三"


@pytest.mark.django_db
def test_id_number_of_another_resident_is_refused_and_stays_theirs(place):
    first = ResidentFactory(home_community=place["communities"][0], id_number=GOOD)
    newcomer = UserFactory()
    newcomer_api = resident_api(newcomer)
    with nothing_changes():
        response = newcomer_api.put("/me/profile", profile_body(GOOD.lower(), place["communities"][1]))
    assert_error(response, 409, "id_number_taken", "id_number")
    first.refresh_from_db()
    assert first.id_number == GOOD and Resident.objects.get(id_number_hash=first.id_number_hash) == first
    assert not Resident.objects.filter(user=newcomer).exists()

    # A resident with a profile cannot move onto the number either; their own stays.
    second = ResidentFactory(home_community=place["communities"][1])
    own = second.id_number
    second_api = resident_api(second.user)
    with nothing_changes():
        response = second_api.put("/me/profile", profile_body(GOOD, place["communities"][1]))
    assert_error(response, 409, "id_number_taken", "id_number")
    second.refresh_from_db()
    first.refresh_from_db()
    assert second.id_number == own and first.id_number == GOOD


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "status", "code", "field"),
    [
        ({"consent": False}, 400, "consent_required", "consent"),
        ({"home_community_id": 987654}, 400, "community_not_found", "home_community_id"),
        ({"home_community_id": 99999999999999999999}, 400, "community_not_found", "home_community_id"),
        ({"real_name": "<script>"}, 400, "invalid_name", "real_name"),
        ({"real_name": "张\x00三"}, 400, "invalid_input", "real_name"),
    ],
    ids=["no-consent", "no-such-community", "huge-community-id", "markup-name", "nul-in-name"],
)
def test_other_profile_refusals(place, change, status, code, field):
    me = resident_api(UserFactory())
    body = profile_body(make_id_number(), place["communities"][0], **change)
    with nothing_changes():
        assert_error(me.put("/me/profile", body), status, code, field)


@pytest.mark.django_db
def test_profile_page_shows_a_wrong_check_digit_and_creates_no_resident(place):
    client = Client()
    client.force_login(UserFactory())
    bad = wrong_check_digit(GOOD)
    with translation.override("zh-hans"):
        with pytest.raises(InvalidInput) as refused:
            parse_id_number(bad)
        message = refused.value.message
    with nothing_changes():
        page = client.post(
            "/me/profile/",
            {
                "real_name": "李晓梅",
                "id_number": bad,
                "home_community": place["communities"][0].pk,
                "consent": "on",
            },
        )
    assert page.status_code == 200
    assert page.context["form"].errors["id_number"] == [message]
    assert message in page.content.decode()
    assert not Resident.objects.exists()


@pytest.mark.django_db
def test_profile_page_refuses_a_number_already_taken(place):
    first = ResidentFactory(id_number=GOOD, home_community=place["communities"][0])
    client = Client()
    client.force_login(UserFactory())
    with nothing_changes():
        page = client.post(
            "/me/profile/",
            {
                "real_name": "李晓梅",
                "id_number": GOOD,
                "home_community": place["communities"][1].pk,
                "consent": "on",
            },
        )
    assert page.status_code == 200 and page.context["form"].errors["id_number"]
    first.refresh_from_db()
    assert first.id_number == GOOD and Resident.objects.count() == 1


@pytest.mark.django_db
@hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(number=st.text(alphabet=st.sampled_from("0123456789Xx -\u3000０１２AZé"), max_size=30))
def test_any_id_number_text_gets_an_answer_never_a_500(place, number):
    response = resident_api(UserFactory()).put("/me/profile", profile_body(number, place["communities"][0]))
    assert response.status_code in (200, 400, 409), response.content[:300]
    if response.status_code == 400:
        assert response.json()["code"].startswith("id_number_") and response.json()["field"] == "id_number"


# --- SMS codes -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_expired_sms_code_is_refused(api):
    code = request_code(api)
    SmsCode.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    with nothing_changes():
        assert_error(api.post("/auth/login", {"phone": PHONE, "code": code}), 401, "sms_code_expired", "code")
    assert not User.objects.filter(phone_hash=phone_index(PHONE)).exists()


@pytest.mark.django_db
def test_wrong_sms_code_is_refused_and_counted(api):
    code = request_code(api)
    wrong = "000000" if code != "000000" else "111111"
    response = api.post("/auth/login", {"phone": PHONE, "code": wrong})
    assert_error(response, 401, "sms_code_invalid", "code")
    assert response["WWW-Authenticate"] == "Bearer"
    assert SmsCode.objects.get().attempts == 1
    assert not User.objects.exists() and not ApiToken.objects.exists()


@pytest.mark.django_db
def test_five_wrong_codes_use_the_code_up_even_for_the_right_code(api):
    code = request_code(api)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        assert_error(
            api.post("/auth/login", {"phone": PHONE, "code": wrong}), 401, "sms_code_invalid", "code"
        )
    with nothing_changes():
        for attempt in (code, wrong, code):
            response = api.post("/auth/login", {"phone": PHONE, "code": attempt})
            assert_error(response, 401, "sms_code_too_many_tries", "code")
    assert SmsCode.objects.get().attempts == 5 and SmsCode.objects.get().consumed_at is None
    assert not User.objects.exists() and not ApiToken.objects.exists()
    # A new code (after the resend wait) works again: the lock is on the code, not the phone.
    cache.clear()
    assert api.post("/auth/login", {"phone": PHONE, "code": request_code(api)}).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("code", ["12ab56", "12345", "1234567", " ", "12 34 56"])
def test_malformed_sms_code_is_refused_without_using_a_try(api, code):
    request_code(api)
    with nothing_changes():
        assert_error(api.post("/auth/login", {"phone": PHONE, "code": code}), 400, "sms_code_invalid", "code")


@pytest.mark.django_db
def test_right_code_typed_in_full_width_digits(api):
    code = request_code(api)
    full_width = code.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    response = api.post("/auth/login", {"phone": PHONE, "code": full_width})
    if response.status_code != 200:
        assert_error(response, 400, "sms_code_invalid", "code")
        assert SmsCode.objects.get().attempts == 0


@pytest.mark.django_db
def test_sms_code_works_once_and_never_without_a_request(api):
    with nothing_changes():
        assert_error(
            api.post("/auth/login", {"phone": PHONE, "code": "123456"}), 401, "sms_code_invalid", "code"
        )
    code = request_code(api)
    assert api.post("/auth/login", {"phone": PHONE, "code": code}).status_code == 200
    with nothing_changes():
        assert_error(api.post("/auth/login", {"phone": PHONE, "code": code}), 401, "sms_code_invalid", "code")
    assert ApiToken.objects.count() == 1


@pytest.mark.django_db
def test_wrong_code_on_the_sign_in_page(client):
    client.post("/login/", {"phone": PHONE})
    code = re.search(r"\d{6}", latest_outbox_message(PHONE).body).group(0)
    page = client.post("/login/code/", {"code": "000000" if code != "000000" else "111111"})
    assert page.status_code == 200 and page.context["form"].errors
    assert "_auth_user_id" not in client.session and not User.objects.exists()


# --- rate limits -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_second_code_within_a_minute_is_refused(api):
    request_code(api)
    with nothing_changes():
        assert_error(api.post("/auth/sms-code", {"phone": PHONE}), 429, "sms_resend_too_soon")
    assert SmsCode.objects.count() == 1 and SmsOutbox.objects.count() == 1


@pytest.mark.django_db
def test_second_code_within_a_minute_says_when_to_retry(api):
    request_code(api)
    response = api.post("/auth/sms-code", {"phone": PHONE})
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60


@pytest.mark.django_db
def test_codes_per_ip_are_limited(api, settings):
    settings.LIVINGROOM_SMS_PER_IP_PER_HOUR = 3
    for n in range(3):
        request_code(api, f"1390000300{n}")
    with nothing_changes():
        response = api.post("/auth/sms-code", {"phone": "13900003009"})
    assert_error(response, 429, "rate_limited")
    assert 1 <= int(response["Retry-After"]) <= 3600
    assert latest_outbox_message("13900003009") is None


@pytest.mark.django_db
def test_codes_per_phone_and_day_are_limited(api, settings):
    settings.LIVINGROOM_SMS_PER_PHONE_PER_DAY = 2
    for _ in range(2):
        request_code(api)
        cache.delete(f"once:sms-phone:{phone_index(PHONE)}")  # past the one-minute wait
    with nothing_changes():
        response = api.post("/auth/sms-code", {"phone": PHONE})
    assert_error(response, 429, "rate_limited")
    assert 1 <= int(response["Retry-After"]) <= 86400


# --- resident passes: the device endpoint and the staff scanner ----------------------------------


def _scan(kind: str, device, desk, body: bytes):
    if kind == "device":
        headers = signing.signed_headers(
            device["secret"], device["key"], "POST", "/api/v1" + DEVICE_PATH, body
        )
        return device_send(Api(), headers, body)
    return desk["api"].send("POST", "/staff/passes/verify", raw=body)


def _swap_resident(token: str, resident_id: int) -> str:
    raw = token[len(passes.PREFIX) :]
    blob = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
    _, issued, nonce = passes._LAYOUT.unpack(blob[: passes._LAYOUT.size])
    forged = passes._LAYOUT.pack(resident_id, issued, nonce) + blob[passes._LAYOUT.size :]
    return passes.PREFIX + base64.urlsafe_b64encode(forged).decode().rstrip("=")


def _flip(token: str, index: int) -> str:
    return token[:index] + ("A" if token[index] != "A" else "B") + token[index + 1 :]


FORGERIES = {
    "mac-changed": lambda r, other: _flip(fresh_pass(r), -3),
    "body-changed": lambda r, other: _flip(fresh_pass(r), 6),
    "other-resident-id": lambda r, other: _swap_resident(fresh_pass(r), other.pk),
    "other-secret-key": lambda r, other: _signed_elsewhere(r),
    "no-such-resident": lambda r, other: passes.encode(987654, int(time.time())),
    "huge-resident-id": lambda r, other: passes.encode(2**64 - 1, int(time.time())),
    "empty": lambda r, other: "",
    "prefix-only": lambda r, other: "LR1.",
    "not-base64": lambda r, other: "LR1.%%%%%%%%",
    "wrong-length": lambda r, other: "LR1." + "A" * 54,
    "not-a-pass": lambda r, other: "hello",
}


def _signed_elsewhere(resident: Resident) -> str:
    with override_settings(SECRET_KEY="another-installation-" + "k" * 40):
        return fresh_pass(resident)


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["device", "staff"])
@pytest.mark.parametrize("forgery", list(FORGERIES))
def test_forged_pass_is_refused(place, device, desk, kind, forgery):
    token = FORGERIES[forgery](desk["resident"], ResidentFactory(home_community=place["communities"][1]))
    body = json.dumps({"token": token, "purpose": "checkin"}).encode()
    with nothing_changes(ignore=("RequestNonce",)):
        assert_error(_scan(kind, device, desk, body), 400, "pass_invalid", "token")


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["device", "staff"])
def test_pass_of_a_deactivated_user_is_refused(place, device, desk, kind):
    token = fresh_pass(desk["resident"])
    User.objects.filter(pk=desk["resident"].user_id).update(is_active=False)
    body = json.dumps({"token": token}).encode()
    with nothing_changes(ignore=("RequestNonce",)):
        assert_error(_scan(kind, device, desk, body), 400, "pass_invalid", "token")


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["device", "staff"])
@pytest.mark.parametrize("age", [61, 3600, -120], ids=["61s-old", "an-hour-old", "from-the-future"])
def test_expired_pass_is_refused(place, device, desk, kind, age):
    token = passes.encode(desk["resident"].pk, int(time.time()) - age)
    body = json.dumps({"token": token}).encode()
    with nothing_changes(ignore=("RequestNonce",)):
        assert_error(_scan(kind, device, desk, body), 400, "pass_expired", "token")


@pytest.mark.django_db
@pytest.mark.parametrize(("first", "second"), [("device", "device"), ("staff", "staff"), ("device", "staff")])
def test_replayed_pass_is_refused(place, device, desk, first, second):
    body = json.dumps({"token": fresh_pass(desk["resident"]), "purpose": "checkin"}).encode()
    assert _scan(first, device, desk, body).status_code == 200
    with nothing_changes(ignore=("RequestNonce",)):
        assert_error(_scan(second, device, desk, body), 409, "pass_replayed", "token")
    assert PassUse.objects.count() == 1
    assert AuditEvent.objects.filter(action="people.pass.verified").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["device", "staff"])
@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "token"),
        ({"token": 123}, "token"),
        ({"token": "LR1." + "A" * 117}, "token"),
        ({"token": None}, "token"),
    ],
    ids=["missing", "number", "too-long", "null"],
)
def test_pass_of_the_wrong_shape(place, device, desk, kind, payload, field):
    body = json.dumps(payload).encode()
    with nothing_changes(ignore=("RequestNonce",)):
        assert_error(_scan(kind, device, desk, body), 400, "invalid_input", field)


@pytest.mark.django_db
@hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    token=st.one_of(
        st.text(max_size=120), st.text(alphabet="ABCDEFabcdef0123456789-_", max_size=60).map("LR1.".__add__)
    )
)
def test_any_pass_text_gets_an_answer_never_a_500(place, desk, token):
    response = desk["api"].post("/staff/passes/verify", {"token": token})
    assert response.status_code == 400, response.content[:300]
    assert response.json()["code"] in ("pass_invalid", "pass_expired", "invalid_input")


# --- device request signing ------------------------------------------------------------------------


def _signed(device: dict, body: bytes, *, ts: str | None = None, nonce: str | None = None, **over) -> dict:
    ts = ts if ts is not None else str(int(time.time()))
    nonce = nonce if nonce is not None else "a1b2c3d4e5f6a7b8c9d0"
    method, path = over.get("method", "POST"), over.get("path", "/api/v1" + DEVICE_PATH)
    secret = over.get("secret", device["secret"])
    return {
        "X-Device-Key": over.get("key", device["key"]),
        "X-Timestamp": ts,
        "X-Nonce": nonce,
        "X-Signature": signing.sign(secret, method, path, ts, nonce, over.get("signed_body", body)),
    }


def _pass_body(desk) -> bytes:
    return json.dumps({"token": fresh_pass(desk["resident"]), "purpose": "checkin"}).encode()


SIGNATURE_REFUSALS = {
    "no-headers": (lambda d, b: {}, "signature_missing"),
    "key-only": (lambda d, b: {"X-Device-Key": d["key"]}, "signature_missing"),
    "signature-only": (lambda d, b: {"X-Signature": _signed(d, b)["X-Signature"]}, "signature_missing"),
    "unknown-key": (lambda d, b: _signed(d, b, key="dk_unknown"), "device_unknown"),
    "wrong-secret": (lambda d, b: _signed(d, b, secret="not-the-secret"), "signature_invalid"),
    "tampered-body": (
        lambda d, b: _signed(d, b, signed_body=b.replace(b"checkin", b"meal")),
        "signature_invalid",
    ),
    "other-path": (lambda d, b: _signed(d, b, path="/api/v1/devices/passes/verify?x=1"), "signature_invalid"),
    "other-method": (lambda d, b: _signed(d, b, method="PUT"), "signature_invalid"),
    "10-minutes-old": (lambda d, b: _signed(d, b, ts=str(int(time.time()) - 600)), "signature_expired"),
    "10-minutes-ahead": (lambda d, b: _signed(d, b, ts=str(int(time.time()) + 600)), "signature_expired"),
    "timestamp-not-a-number": (lambda d, b: _signed(d, b, ts="yesterday"), "signature_invalid"),
    "nonce-too-short": (lambda d, b: _signed(d, b, nonce="abc123"), "signature_invalid"),
    "nonce-too-long": (lambda d, b: _signed(d, b, nonce="a" * 65), "signature_invalid"),
    "nonce-not-alphanumeric": (lambda d, b: _signed(d, b, nonce="abcd-efgh-ijkl-mnop"), "signature_invalid"),
    "signature-garbage": (lambda d, b: {**_signed(d, b), "X-Signature": "zz" * 32}, "signature_invalid"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", list(SIGNATURE_REFUSALS))
def test_device_request_not_signed_right_is_refused(place, device, desk, case):
    body = _pass_body(desk)
    build, code = SIGNATURE_REFUSALS[case]
    with nothing_changes():
        response = device_send(Api(), build(device, body), body)
    assert_error(response, 401, code)
    assert response["WWW-Authenticate"] == "Bearer"


@pytest.mark.django_db
def test_disabled_device_is_refused(place, device, desk):
    type(device["device"]).objects.filter(pk=device["device"].pk).update(is_active=False)
    body = _pass_body(desk)
    with nothing_changes():
        assert_error(device_send(Api(), _signed(device, body), body), 401, "device_unknown")


@pytest.mark.django_db
def test_replayed_device_request_is_refused(place, device, desk):
    body = _pass_body(desk)
    headers = _signed(device, body)
    assert device_send(Api(), headers, body).status_code == 200
    with nothing_changes():
        assert_error(device_send(Api(), headers, body), 401, "request_replayed")
    assert PassUse.objects.count() == 1 and RequestNonce.objects.count() == 1


@pytest.mark.django_db
def test_a_nonce_may_not_be_reused_for_another_request(place, device, desk):
    first = _pass_body(desk)
    assert device_send(Api(), _signed(device, first), first).status_code == 200
    second = _pass_body(desk)
    with nothing_changes():
        assert_error(device_send(Api(), _signed(device, second), second), 401, "request_replayed")


@pytest.mark.django_db
def test_device_signature_with_non_ascii_characters(place, device, desk):
    body = _pass_body(desk)
    with nothing_changes():
        response = device_send(Api(), {**_signed(device, body), "X-Signature": "é" * 64}, body)
    assert_error(response, 401, "signature_invalid")


@pytest.mark.django_db
def test_device_timestamp_out_of_any_range(place, device, desk):
    body = _pass_body(desk)
    with nothing_changes():
        response = device_send(Api(), _signed(device, body, ts="9" * 400), body)
    assert_error(response, 401, "signature_expired")


# --- request bodies --------------------------------------------------------------------------------


def _too_big(phone: str = PHONE) -> bytes:
    return json.dumps({"phone": phone, "pad": "x" * MIB}).encode()


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", ["sms-code", "profile", "staff-scanner", "device"])
def test_body_over_one_mebibyte_is_refused(place, device, desk, endpoint):
    body = _too_big()
    assert len(body) > MIB
    resident = resident_api(desk["resident"].user)
    with nothing_changes():
        if endpoint == "sms-code":
            response = Api().post("/auth/sms-code", raw=body)
        elif endpoint == "profile":
            response = resident.put("/me/profile", raw=body)
        elif endpoint == "staff-scanner":
            response = desk["api"].post("/staff/passes/verify", raw=body)
        else:
            response = device_send(Api(), _signed(device, body), body)
    assert_error(response, 413, "payload_too_large", None)


@pytest.mark.django_db
def test_body_of_exactly_one_mebibyte_is_read(api):
    body = _too_big()
    body = body.replace(b"x" * (len(body) - MIB), b"", 1)
    assert len(body) == MIB
    assert api.post("/auth/sms-code", raw=body).status_code == 202


@pytest.mark.django_db
def test_oversized_form_on_a_page_is_a_400_not_a_500(client):
    with nothing_changes():
        response = client.post("/login/", {"phone": PHONE, "pad": "x" * MIB})
    assert response.status_code == 400


MALFORMED = [
    b'{"phone": ',
    b"not json",
    b"\xff\xfe\x00",
    b'{"phone": "13900002222",}',
    b"{'phone': '13900002222'}",
]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "raw", MALFORMED, ids=["cut-short", "text", "binary", "trailing-comma", "single-quotes"]
)
def test_malformed_json_is_refused(place, desk, raw):
    resident = resident_api(desk["resident"].user)
    with nothing_changes():
        assert_error(Api().post("/auth/sms-code", raw=raw), 400, "invalid_json", None)
        assert_error(resident.put("/me/profile", raw=raw), 400, "invalid_json", None)
        url = f"/staff/residents/{desk['resident'].pk}/reveal"
        assert_error(desk["api"].post(url, raw=raw), 400, "invalid_json", None)


@pytest.mark.django_db
@pytest.mark.parametrize("raw", [b"[]", b"null", b"123", b'"13900002222"', b"true"])
def test_json_that_is_not_an_object_is_refused(api, raw):
    with nothing_changes():
        assert_error(api.post("/auth/sms-code", raw=raw), 400, "invalid_json", None)


@pytest.mark.django_db
def test_empty_body_is_refused(api):
    with nothing_changes():
        response = api.post("/auth/sms-code", raw=b"")
    assert response.status_code == 400 and response.json()["code"] in ("invalid_input", "invalid_json")


WRONG_SHAPES = [
    # (who, method, path, body, field)
    ("anyone", "POST", "/auth/sms-code", {}, "phone"),
    ("anyone", "POST", "/auth/sms-code", {"phone": 13900002222}, "phone"),
    ("anyone", "POST", "/auth/sms-code", {"phone": ["13900002222"]}, "phone"),
    ("anyone", "POST", "/auth/login", {"phone": PHONE}, "code"),
    ("anyone", "POST", "/auth/login", {"phone": PHONE, "code": 123456}, "code"),
    ("anyone", "POST", "/auth/login", {"phone": PHONE, "code": "1" * 11}, "code"),
    ("anyone", "POST", "/auth/staff-login", {"username": "staff1", "password": "x"}, "totp"),
    (
        "anyone",
        "POST",
        "/auth/staff-login",
        {"username": None, "password": "x", "totp": "123456"},
        "username",
    ),
    ("resident", "PUT", "/me/profile", {"real_name": "李晓梅", "home_community_id": 1}, "id_number"),
    (
        "resident",
        "PUT",
        "/me/profile",
        {"real_name": 5, "id_number": GOOD, "home_community_id": 1},
        "real_name",
    ),
    (
        "resident",
        "PUT",
        "/me/profile",
        {"real_name": "李" * 51, "id_number": GOOD, "home_community_id": 1},
        "real_name",
    ),
    (
        "resident",
        "PUT",
        "/me/profile",
        {"real_name": "李晓梅", "id_number": GOOD, "home_community_id": "x"},
        "home_community_id",
    ),
    (
        "resident",
        "PUT",
        "/me/profile",
        {"real_name": "李晓梅", "id_number": GOOD, "home_community_id": 0},
        "home_community_id",
    ),
    (
        "resident",
        "PUT",
        "/me/profile",
        {"real_name": "李晓梅", "id_number": GOOD, "home_community_id": 1, "consent": "maybe"},
        "consent",
    ),
    ("desk", "POST", "/staff/residents/{r}/reveal", {}, "reason"),
    ("desk", "POST", "/staff/residents/{r}/reveal", {"reason": ["a", "b"]}, "reason"),
    ("desk", "POST", "/staff/residents/{r}/reveal", {"reason": "x" * 201}, "reason"),
    ("desk", "POST", "/staff/residents/{r}/verifications", {}, "kind"),
    (
        "desk",
        "POST",
        "/staff/residents/{r}/verifications",
        {"kind": "rider", "valid_until": "soon"},
        "valid_until",
    ),
    (
        "desk",
        "POST",
        "/staff/residents/{r}/verifications",
        {"kind": "rider", "evidence_note": "x" * 1001},
        "evidence_note",
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("who", "method", "path", "body", "field"), WRONG_SHAPES)
def test_wrong_types_and_missing_fields_name_the_field(place, desk, who, method, path, body, field):
    client = {"anyone": Api(), "resident": resident_api(desk["resident"].user), "desk": desk["api"]}[who]
    with nothing_changes():
        response = client.send(method, path.format(r=desk["resident"].pk), body)
    assert_error(response, 400, "invalid_input", field)
    assert field in response.json()["message"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/staff/residents", {"limit": "many"}, "limit"),
        ("/staff/residents", {"limit": "1.5"}, "limit"),
        ("/staff/centers", {"street": "one"}, "street"),
        ("/centers", {"community": "[1]"}, "community"),
        ("/centers/abc", {}, "center_id"),
        ("/staff/residents/abc", {}, "resident_id"),
    ],
)
def test_wrong_types_in_query_and_path(desk, path, params, field):
    with nothing_changes():
        assert_error(desk["api"].get(path, **params), 400, "invalid_input", field)


@pytest.mark.django_db
def test_domain_refusals_of_staff_writes_change_nothing(place, desk):
    url = f"/staff/residents/{desk['resident'].pk}"
    cases = [
        ("/reveal", {"reason": " x "}, "reason_required", "reason"),
        ("/verifications", {"kind": "gold_member"}, "invalid_kind", "kind"),
        (
            "/verifications",
            {"kind": "rider", "platform": "美团"},
            "rider_credential_required",
            "credential_number",
        ),
        (
            "/verifications",
            {"kind": "disabled", "credential_number": "12"},
            "certificate_required",
            "credential_number",
        ),
        (
            "/verifications",
            {"kind": "low_income", "valid_until": "2000-01-01"},
            "invalid_valid_until",
            "valid_until",
        ),
    ]
    for suffix, body, code, field in cases:
        with nothing_changes():
            assert_error(desk["api"].post(url + suffix, body), 400, code, field)


# --- console forms ---------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("form", "errors_in"),
    [
        ({"action": "reveal", "reason": "x"}, "reveal_form"),
        ({"action": "reveal", "reason": "   "}, "reveal_form"),
        ({"action": "verify", "kind": "rider", "platform": "美团"}, "verify_form"),
        ({"action": "verify", "kind": "low_income", "valid_until": "2000-01-01"}, "verify_form"),
        ({"action": "verify", "kind": "gold_member"}, "verify_form"),
        ({"action": "verify", "kind": "low_income", "valid_until": "not a date"}, "verify_form"),
    ],
)
def test_console_resident_forms_show_errors_and_change_nothing(desk, form, errors_in):
    client = console_client(desk["worker"])
    resident = desk["resident"]
    with nothing_changes():
        page = client.post(f"/console/residents/{resident.pk}/", form)
    assert page.status_code == 200 and page.context[errors_in].errors
    assert resident.id_number not in page.content.decode()


# --- bugs found: 500s on odd but possible input --------------------------------------------------

HUGE = "99999999999999999999"


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["public", "staff"])
def test_huge_street_id_in_the_api(desk, who):
    client, path = (Api(), "/centers") if who == "public" else (desk["api"], "/staff/centers")
    response = client.get(path, street=HUGE)
    assert response.status_code in (200, 400), response.content[:200]
    if response.status_code == 200:
        assert response.json() == []
    else:
        assert_error(response, 400, "invalid_input", "street")


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/centers/", "/console/centers/"])
def test_huge_street_id_on_pages(desk, path):
    client = console_client(desk["worker"])
    client.raise_request_exception = False
    response = client.get(path, {"street": HUGE})
    assert response.status_code in (200, 400)


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/centers", "/staff/centers", "/staff/residents"])
def test_nul_character_in_an_api_search(desk, path):
    response = desk["api"].get(path, q="张\x00")
    assert response.status_code in (200, 400), response.content[:200]
    if response.status_code == 200:
        assert response.json() == []
    else:
        assert_error(response, 400, "invalid_input", "q")


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/centers/", "/console/centers/", "/console/residents/"])
def test_nul_character_in_a_page_search(desk, path):
    client = console_client(desk["worker"])
    client.raise_request_exception = False
    assert client.get(path, {"q": "张\x00"}).status_code in (200, 400)


@pytest.mark.django_db
def test_nul_character_in_the_staff_login_username(api):
    with nothing_changes(ignore=("AuditEvent",)):
        response = api.post("/auth/staff-login", {"username": "staff\x00", "password": "x", "totp": "123456"})
    assert response.status_code in (400, 401), response.content[:200]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/staff/residents/{r}/reveal", {"reason": "核对\x00身份"}, "reason"),
        (
            "/staff/residents/{r}/verifications",
            {"kind": "low_income", "evidence_note": "低保\x00"},
            "evidence_note",
        ),
        ("/staff/residents/{r}/verifications", {"kind": "low_income", "platform": "民政\x00"}, "platform"),
        ("/staff/passes/verify", {"token": "{token}", "purpose": "checkin\x00"}, "purpose"),
    ],
    ids=["reveal-reason", "evidence-note", "platform", "pass-purpose"],
)
def test_nul_character_in_an_api_text_field(desk, path, body, field):
    body = {k: fresh_pass(desk["resident"]) if v == "{token}" else v for k, v in body.items()}
    with nothing_changes():
        response = desk["api"].post(path.format(r=desk["resident"].pk), body)
    assert_error(response, 400, "invalid_input", field)


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/me/center/"])
def test_resident_of_a_community_without_a_center(place, path):
    lonely = CommunityFactory(street=place["streets"][0], name="新社区")
    resident = ResidentFactory(home_community=lonely)
    client = Client(raise_request_exception=False)
    client.force_login(resident.user)
    response = client.get(path)
    assert response.status_code in (200, 302), response.status_code


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [("GET", "/no-such-thing", 404, "not_found"), ("DELETE", "/centers", 405, "method_not_allowed")],
)
def test_api_refusals_outside_the_routes_are_json_too(api, method, path, status, code):
    response = api.get(path) if method == "GET" else api.send(method, path)
    assert_error(response, status, code)


# --- family members (dependants) ---------------------------------------------------------------


def _future(days: int) -> str:
    return str(timezone.localdate() + dt.timedelta(days=days))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"name": "", "birth_date": "2018-05-01", "relation": "child"}, 400, "invalid_input", "name"),
        ({"name": "   ", "birth_date": "2018-05-01", "relation": "child"}, 400, "invalid_name", "name"),
        ({"name": "张3", "birth_date": "2018-05-01", "relation": "child"}, 400, "invalid_name", "name"),
        ({"name": "张\x00明", "birth_date": "2018-05-01", "relation": "child"}, 400, "invalid_input", "name"),
        ({"name": "张" * 51, "birth_date": "2018-05-01", "relation": "child"}, 400, "invalid_input", "name"),
        (
            {"name": "张小明", "birth_date": "1800-01-01", "relation": "child"},
            400,
            "invalid_birth_date",
            "birth_date",
        ),
        ({"name": "张小明", "birth_date": "future", "relation": "child"}, 400, "invalid_input", "birth_date"),
        (
            {"name": "张小明", "birth_date": "2018-02-30", "relation": "child"},
            400,
            "invalid_input",
            "birth_date",
        ),
        ({"name": "张小明", "relation": "child"}, 400, "invalid_input", "birth_date"),
        (
            {"name": "张小明", "birth_date": "2018-05-01", "relation": "friend"},
            400,
            "invalid_input",
            "relation",
        ),
    ],
)
def test_bad_family_member(place, body, status, code, field):
    resident = ResidentFactory(home_community=place["communities"][0])
    api = resident_api(resident.user)
    with nothing_changes():
        response = api.post("/me/dependants", body)
    assert_error(response, status, code, field)


@pytest.mark.django_db
def test_a_family_member_born_tomorrow_and_the_ninth_one(place):
    resident = ResidentFactory(home_community=place["communities"][0])
    api = resident_api(resident.user)
    with nothing_changes():
        response = api.post(
            "/me/dependants", {"name": "张小明", "birth_date": _future(1), "relation": "child"}
        )
    assert_error(response, 400, "invalid_birth_date", "birth_date")
    for n in range(8):
        body = {"name": f"张小{'一二三四五六七八'[n]}", "birth_date": "2015-01-01", "relation": "child"}
        assert api.post("/me/dependants", body).status_code == 201
    with nothing_changes():
        response = api.post(
            "/me/dependants", {"name": "张小九", "birth_date": "2015-01-01", "relation": "child"}
        )
    assert_error(response, 409, "too_many_dependants")


@pytest.mark.django_db
@pytest.mark.parametrize("dependant_id", ["0", "-1", "abc", str(10**20)])
def test_family_member_ids_out_of_range(place, dependant_id):
    resident = ResidentFactory(home_community=place["communities"][0])
    api = resident_api(resident.user)
    with nothing_changes():
        response = api.send("DELETE", f"/me/dependants/{dependant_id}")
    assert_error(response, 400, "invalid_input", "dependant_id")
