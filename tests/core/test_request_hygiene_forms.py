"""A NUL character in a page's form or path (core.middleware.RequestHygieneMiddleware).

PostgreSQL cannot store or compare a NUL and no person types one: a page form holding one in any
field (a field of the Django form or not, in its value or its name, multipart or urlencoded) is
refused with the 400 error page before the view runs, and nothing is written; the same form
without the NUL goes through, so the refusal is the NUL's. A path holding a NUL is a 400 (a JSON
refusal naming ``path`` under /api/), never a 500, for visitors, residents and staff alike. A photo
is binary and holds NUL bytes: files are not text fields and pass.
"""

from __future__ import annotations

import io
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from livingroom.people.models import Resident, SmsCode, SmsOutbox, StaffRole
from livingroom.voice.models import Photo, Suggestion
from tests import factories as f
from tests.conftest import console_client
from tests.invariants import nothing_changes

pytestmark = pytest.mark.django_db

PHONE = "13812341234"
REFUSED = "The text contains a character that is not allowed."


def browser(user=None) -> Client:
    client = Client(raise_request_exception=False)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    if user is not None:
        client.force_login(user)
    return client


def urlencoded(client: Client, path: str, data: dict[str, str]):
    return client.post(path, urlencode(data), content_type="application/x-www-form-urlencoded")


def assert_refused_page(response) -> None:
    """The 400 error page of a NUL: HTML, the shared error template, the reason in words."""
    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"].startswith("text/html")
    assert "core/error.html" in [t.name for t in response.templates]
    assert REFUSED in response.content.decode()


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "red").save(out, format="JPEG")
    return out.getvalue()


# --- page forms ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        {"phone": "138\x0012341234"},  # in the form's own field
        {"phone": PHONE, "next": "/\x00"},  # in a field the form does not have
        {"phone": PHONE, "ne\x00xt": "/"},  # in a field's name
    ],
    ids=["value", "extra-field", "name"],
)
@pytest.mark.parametrize("encoding", ["multipart", "urlencoded"])
def test_the_sign_in_page_refuses_a_nul(data, encoding):
    client = browser()
    with nothing_changes():
        if encoding == "multipart":
            response = client.post("/login/", data)
        else:
            response = urlencoded(client, "/login/", data)
    assert_refused_page(response)
    assert (SmsCode.objects.count(), SmsOutbox.objects.count()) == (0, 0)
    assert "login_phone" not in client.session
    # Without the NUL, the same page sends a code and moves on.
    sent = client.post("/login/", {"phone": PHONE, "next": "/"})
    assert sent.status_code == 302 and sent["Location"].startswith("/login/code/")
    assert (SmsCode.objects.count(), SmsOutbox.objects.count()) == (1, 1)


def test_the_console_sign_in_refuses_a_nul():
    staff = f.staff_with_role(StaffRole.Role.COMMUNITY_WORKER, community=f.CommunityFactory())
    client = browser()
    with nothing_changes():
        response = client.post(
            "/console/login/",
            {"username": staff.username + "\x00", "password": f.STAFF_PASSWORD, "totp": "1"},
        )
    assert_refused_page(response)
    assert "_auth_user_id" not in client.session


def test_the_profile_page_refuses_a_nul_and_writes_no_resident(place):
    user = f.UserFactory()
    client = browser(user)
    good = {
        "real_name": "张三",
        "id_number": f.make_id_number(),
        "home_community": str(place["communities"][0].pk),
        "consent": "on",
    }
    for bad in ({**good, "real_name": "张\x00三"}, {**good, "id_number": good["id_number"] + "\x00"}):
        with nothing_changes():
            response = client.post("/me/profile/", bad)
        assert_refused_page(response)
        with nothing_changes():
            response = urlencoded(client, "/me/profile/", bad)
        assert_refused_page(response)
    assert not Resident.objects.filter(user=user).exists()
    saved = client.post("/me/profile/", good)
    assert saved.status_code == 302, saved.content[:300]
    assert Resident.objects.get(user=user).real_name == "张三"


def test_a_request_with_a_photo_and_a_nul_in_its_text_is_refused_whole(place):
    """The residents' voice form is multipart with photos: the NUL in the text refuses it all (no
    request, no photo); the same form with clean words is taken, its JPEG full of NUL bytes."""
    resident = f.ResidentFactory(home_community=place["communities"][0])
    client = browser(resident.user)
    photo = jpeg()
    assert b"\x00" in photo
    form = {
        "center": str(place["centers"][0].pk),
        "kind": "suggestion",
        "category": "facilities",
        "text": "希望二楼\x00增设药箱",
    }
    with nothing_changes():
        response = client.post(
            "/suggestions/new/", {**form, "photos": [SimpleUploadedFile("a.jpg", photo, "image/jpeg")]}
        )
    assert_refused_page(response)
    assert (Suggestion.objects.count(), Photo.objects.count()) == (0, 0)
    taken = client.post(
        "/suggestions/new/",
        {**form, "text": "希望二楼增设药箱", "photos": [SimpleUploadedFile("a.jpg", photo, "image/jpeg")]},
    )
    assert taken.status_code == 302, taken.content[:300]
    made = Suggestion.objects.get()
    assert (made.text, made.resident, made.photos.count()) == ("希望二楼增设药箱", resident, 1)


def test_a_console_form_refuses_a_nul(place):
    desk = f.staff_with_role(StaffRole.Role.COMMUNITY_WORKER, community=place["communities"][0])
    client = console_client(desk)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with nothing_changes():
        response = client.post(
            "/console/voice/suggestions/new/",
            {
                "center": str(place["centers"][0].pk),
                "kind": "help",
                "category": "services",
                "channel": "phone",
                "text": "来电希望上门\x00理发",
            },
        )
    assert_refused_page(response)
    assert Suggestion.objects.count() == 0


def test_a_nul_in_a_query_string_of_a_page():
    client = browser()
    with nothing_changes():
        response = client.get("/board/", {"center": "1\x00"})
    assert_refused_page(response)


# --- paths ------------------------------------------------------------------------------------------


PAGE_PATHS = [
    "/%00",
    "/login/%00",
    "/surveys/1%00/",
    "/suggestions/JY%00X/",
    "/voice/photos/1%00.jpg",
    "/console/voice/suggestions/1%00/",
    "/admin/%00/",
]


@pytest.mark.parametrize("path", PAGE_PATHS)
@pytest.mark.parametrize("who", ["visitor", "resident", "staff"])
def test_a_nul_in_a_page_path_is_a_bad_request_not_a_server_error(place, path, who):
    if who == "resident":
        client = browser(f.ResidentFactory(home_community=place["communities"][0]).user)
    elif who == "staff":
        client = console_client(
            f.staff_with_role(StaffRole.Role.COMMUNITY_WORKER, community=place["communities"][0])
        )
        client.raise_request_exception = False
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    else:
        client = browser()
    for method in ("get", "post"):
        with nothing_changes():
            response = getattr(client, method)(path)
        assert response.status_code == 400, (method, path, response.status_code, response.content[:300])
        assert_refused_page(response)


@pytest.mark.parametrize(
    "path",
    ["/api/v1/%00", "/api/v1/suggestions/JY%00X", "/api/v1/surveys/1%00", "/api/v1/me/suggestions%00"],
)
def test_a_nul_in_an_api_path_is_a_json_refusal(path):
    client = Client(raise_request_exception=False)
    for method in ("get", "post"):
        with nothing_changes():
            response = getattr(client, method)(path, content_type="application/json")
        assert response.status_code == 400, (method, path, response.content[:300])
        assert response["Content-Type"].startswith("application/json")
        body = response.json()
        assert (body["code"], body["field"]) == ("invalid_input", "path") and body["message"]


# --- malformed forms ------------------------------------------------------------------------------


def test_a_page_form_without_a_multipart_boundary_is_a_bad_request():
    """The NUL check reads the form before the view: a body Django cannot split is still a 400."""
    client = browser()
    with nothing_changes():
        response = client.post("/login/", b"phone=13812341234", content_type="multipart/form-data")
    assert response.status_code == 400, response.content[:300]
    assert SmsCode.objects.count() == 0


def test_an_api_form_without_a_multipart_boundary_is_a_json_refusal():
    client = Client(raise_request_exception=False)
    with nothing_changes():
        response = client.post("/api/v1/suggestions", b"text=x", content_type="multipart/form-data")
    assert 400 <= response.status_code < 500, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    assert set(response.json()) == {"code", "message", "field"}
