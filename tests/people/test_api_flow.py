"""A resident's whole path through the API, and a device checking their pass."""

import json
import re

import pytest

from livingroom.core import signing
from livingroom.core.models import AuditEvent
from livingroom.people.models import PassUse, Resident
from livingroom.people.sms import latest_outbox_message
from tests.conftest import Api
from tests.factories import device_for, make_id_number

PHONE = "13900001111"


def sign_in(api: Api, phone: str = PHONE) -> Api:
    assert api.post("/auth/sms-code", {"phone": phone}).status_code == 202
    code = re.search(r"\d{6}", latest_outbox_message(phone).body).group(0)
    response = api.post("/auth/login", {"phone": phone, "code": code})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["token"].startswith("lr_") and body["token_type"] == "Bearer" and body["kind"] == "resident"
    return Api(body["token"])


@pytest.mark.django_db
def test_resident_signs_in_fills_profile_and_shows_a_pass(api, place):
    me = sign_in(api)
    body = me.get("/me").json()
    assert body["phone_masked"] == "139****1111" and body["profile"] is None

    assert me.get("/me/pass").json()["code"] == "profile_incomplete"

    community = place["communities"][0]
    number = make_id_number()
    response = me.put(
        "/me/profile",
        {"real_name": "李晓梅", "id_number": number, "home_community_id": community.pk, "consent": True},
    )
    assert response.status_code == 200, response.content
    profile = response.json()
    assert profile["id_number_masked"] == number[:4] + "*" * 10 + number[-4:]
    assert profile["home_community"]["name"] == "固戍社区"
    assert profile["home_community"]["center_id"] == place["centers"][0].pk
    resident = Resident.objects.get()
    assert resident.name_initials == "lxm" and resident.name_pinyin == "lixiaomei"

    pass_body = me.get("/me/pass").json()
    assert pass_body["token"].startswith("LR1.")

    device, secret = device_for(place["centers"][1])
    payload = json.dumps({"token": pass_body["token"], "purpose": "checkin"}).encode()
    headers = signing.signed_headers(secret, device.key_id, "POST", "/api/v1/devices/passes/verify", payload)
    verified = api.send("POST", "/devices/passes/verify", raw=payload, headers=headers)
    assert verified.status_code == 200, verified.content
    assert verified.json()["resident_id"] == resident.pk and verified.json()["name_masked"] == "李**"
    assert PassUse.objects.get().device == device
    assert AuditEvent.objects.filter(action="people.pass.verified", actor_kind="device").count() == 1

    # The same pass again, freshly signed: refused as replayed.
    headers = signing.signed_headers(secret, device.key_id, "POST", "/api/v1/devices/passes/verify", payload)
    again = api.send("POST", "/devices/passes/verify", raw=payload, headers=headers)
    assert again.status_code == 409 and again.json()["code"] == "pass_replayed"
    assert PassUse.objects.count() == 1


@pytest.mark.django_db
def test_logout_revokes_the_token(api):
    me = sign_in(api)
    assert me.post("/auth/logout").status_code == 204
    response = me.get("/me")
    assert response.status_code == 401 and response.json()["code"] == "not_authenticated"


@pytest.mark.django_db
def test_openapi_schema_is_served(api):
    schema = api.get("/openapi.json").json()
    paths = set(schema["paths"])
    for path in [
        "/api/v1/auth/sms-code",
        "/api/v1/auth/login",
        "/api/v1/me",
        "/api/v1/me/profile",
        "/api/v1/me/pass",
        "/api/v1/centers",
        "/api/v1/centers/{center_id}",
        "/api/v1/staff/residents",
    ]:
        assert path in paths
