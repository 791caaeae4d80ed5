"""Who may call what: every API operation and every page, for every role, across communities.

One table (``API_CASES`` and ``PAGE_CASES``) gives the expected answer of each operation for each
role; the guard tests below fail when the OpenAPI schema or the URL configuration gains an
operation or a page the table does not cover. A refused request (401/403/404/409, a redirect to a
sign-in page, a form re-shown with an error) must not change any data: the table test counts rows.

The world: sub-district 1 has communities c1 and c2, sub-district 2 has c3; each community has a
center and one resident (r1, r2, r3). "This community" is c1.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from openpyxl import load_workbook

from livingroom.core import signing
from livingroom.core.models import AuditEvent
from livingroom.people import services
from livingroom.people.models import (
    ApiToken,
    Dependant,
    EligibilityVerification,
    PassUse,
    Resident,
    StaffRole,
    User,
)
from livingroom.people.sms import latest_outbox_message
from livingroom.places.models import Device
from tests.conftest import Api, console_client, resident_api, staff_api, totp_now
from tests.factories import (
    STAFF_PASSWORD,
    ResidentFactory,
    SpaceFactory,
    device_for,
    make_id_number,
)
from tests.invariants import snapshot
from tests.openapi import OTHER_DEVICE, Matrix, param_cells

# --- roles and what each may see -----------------------------------------------------------------

STAFF = ("community", "other_community", "street", "district", "center", "partner")
RESIDENTS = ("resident", "other_resident")
ROLES = ("anonymous", *RESIDENTS, *STAFF, "device")
PAGE_ROLES = tuple(r for r in ROLES if r != "device")
# A kiosk of c3's center (the table's "device" stands in c1's): played on the device row and two
# rows it has no business with (tests/test_matrix_coverage.py wants it on every device operation).
DEVICES = ("device", OTHER_DEVICE)
OTHER_DEVICE_ROWS = {("POST", "/devices/passes/verify"), ("GET", "/me"), ("GET", "/staff/centers")}

# Indices of the communities (and so of their centers and residents) each member of staff covers.
CENTERS_SEEN = {
    "community": {0},
    "other_community": {2},
    "street": {0, 1},
    "district": {0, 1, 2},
    "center": {1},
    "partner": {2},
}
RESIDENTS_SEEN = {**CENTERS_SEEN, "partner": set()}
DESK = {"community": {0}, "other_community": {2}, "center": {1}}
MISSING = None  # a target id that does not exist
TARGETS = (0, 1, 2, MISSING)
MISSING_PK = 987654


@dataclass
class World:
    place: dict
    roles: dict[str, User]
    residents: list[Resident]
    device: Device
    secret: str

    @property
    def centers(self) -> list:
        return self.place["centers"]

    def center_pk(self, i: int | None) -> int:
        return MISSING_PK if i is None else self.centers[i].pk

    def resident_pk(self, i: int | None) -> int:
        return MISSING_PK if i is None else self.residents[i].pk

    def dependant_pk(self, i: int | None) -> int:
        """The family member of resident ``i`` (a child of r1, r2, r3)."""
        return MISSING_PK if i is None else Dependant.objects.get(resident=self.residents[i]).pk

    def user(self, role: str) -> User | None:
        if role == "resident":
            return self.residents[0].user
        if role == "other_resident":
            return self.residents[2].user
        return self.roles.get(role)


NAMES = (("张三", "zhangsan", "zs"), ("李四", "lisi", "ls"), ("王五", "wangwu", "ww"))


@pytest.fixture
def world(place, roles) -> World:
    residents = [
        ResidentFactory(home_community=c, real_name=n, name_pinyin=p, name_initials=i)
        for c, (n, p, i) in zip(place["communities"], NAMES, strict=True)
    ]
    for r in residents:
        Dependant.objects.create(resident=r, name="小明", birth_date=dt.date(2018, 5, 1), relation="child")
    device, secret = device_for(place["centers"][0])
    return World(place=place, roles=roles, residents=residents, device=device, secret=secret)


class DeviceApi(Api):
    """Signs every request as a registered device (see livingroom.core.signing)."""

    def __init__(self, key_id: str, secret: str) -> None:
        super().__init__()
        self.key_id, self.secret = key_id, secret

    def get(self, path: str, headers: dict | None = None, **params):
        assert not params, "signed GETs in this table carry no query"
        signed = signing.signed_headers(self.secret, self.key_id, "GET", "/api/v1" + path)
        return super().get(path, headers={**signed, **(headers or {})})

    def send(self, method: str, path: str, data=None, headers: dict | None = None, raw: bytes | None = None):
        body = raw if raw is not None else json.dumps(data if data is not None else {}).encode()
        signed = signing.signed_headers(self.secret, self.key_id, method, "/api/v1" + path, body)
        return super().send(method, path, headers={**signed, **(headers or {})}, raw=body)


def api_as(role: str, w: World) -> Api:
    if role == "anonymous":
        return Api()
    if role == "device":
        return DeviceApi(w.device.key_id, w.secret)
    if role == OTHER_DEVICE:
        other, secret = device_for(w.centers[2])
        return DeviceApi(other.key_id, secret)
    user = w.user(role)
    assert user is not None
    return resident_api(user) if role in RESIDENTS else staff_api(user)


def sms_session(phone: str) -> Client:
    """A browser signed in by SMS code through the resident pages."""
    client = Client()
    assert client.post("/login/", {"phone": phone}).status_code == 302
    code = re.search(r"\d{6}", latest_outbox_message(phone).body).group(0)
    assert client.post("/login/code/", {"code": code}).status_code == 302
    return client


def browser_as(role: str, w: World) -> Client:
    if role == "anonymous":
        return Client()
    user = w.user(role)
    assert user is not None
    return sms_session(user.phone) if role in RESIDENTS else console_client(user)


# --- what must not change when a request is refused ------------------------------------------------

# --- expected answers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Redirect:
    """A 302. ``login``: to a sign-in page with ``?next=`` the asked path (a refusal)."""

    to: str | Callable[[World], str]
    login: bool = False

    def location(self, w: World) -> str:
        return self.to(w) if callable(self.to) else self.to


@dataclass(frozen=True)
class FormError:
    """The page is shown again (200) with an error on the form: a refusal, nothing changes."""

    status: int = 200


Expected = int | Redirect | FormError
LOGIN = Redirect("/login/", login=True)
CONSOLE_LOGIN = Redirect("/console/login/", login=True)


def is_refusal(expected: Expected) -> bool:
    if isinstance(expected, Redirect):
        return expected.login
    return isinstance(expected, FormError) or expected >= 400


def anyone(status: int) -> Callable[[str], Expected]:
    return lambda role: status


def signed_in(ok: int, staff: int | None = None) -> Callable[[str], Expected]:
    """``/me/*``: any user with a token; staff get ``staff`` where it differs."""

    def expect(role: str) -> Expected:
        if role == "anonymous" or role in DEVICES:
            return 401
        return staff if role in STAFF and staff is not None else ok

    return expect


def staff_only(ok: int) -> Callable[[str], Expected]:
    return lambda role: ok if role in STAFF else 401


def staff_read(seen: dict[str, set[int]], target: int | None) -> Callable[[str], Expected]:
    def expect(role: str) -> Expected:
        if role not in STAFF:
            return 401
        return 200 if target in seen[role] else 404

    return expect


def desk_only(ok: int, target: int | None) -> Callable[[str], Expected]:
    """Reveal and verify: desk staff of the resident's community; officials in scope 403; else 404."""

    def expect(role: str) -> Expected:
        if role not in STAFF:
            return 401
        if target not in RESIDENTS_SEEN[role]:
            return 404
        return ok if target in DESK.get(role, set()) else 403

    return expect


def device_only(ok: int) -> Callable[[str], Expected]:
    """Any registered device: a pass is the resident's own, shown by them, and good at every
    center (as ``/staff/passes/verify`` is for staff of any scope)."""
    return lambda role: ok if role in DEVICES else 401


# --- API operations -------------------------------------------------------------------------------

Body = Callable[[World], dict] | None
Check = Callable[[World, str, Any], None] | None


@dataclass(frozen=True)
class ApiOp:
    method: str
    template: str  # as in the OpenAPI schema, without /api/v1
    expect: Callable[[str], Expected]
    target: int | None = MISSING
    body: Body = None
    check: Check = None
    codes: dict[int, str] | None = None  # refusal codes where they differ from REFUSAL_CODES

    def url(self, w: World) -> str:
        return self.template.format(
            center_id=w.center_pk(self.target),
            resident_id=w.resident_pk(self.target),
            dependant_id=w.dependant_pk(self.target),
        )

    def label(self) -> str:
        where = "{" in self.template and (f"#{self.target + 1}" if self.target is not None else "#missing")
        return f"{self.method} {self.template}{where or ''}"


_phones = iter(range(1000, 10000))


def _code_body(w: World) -> dict:
    phone = f"1390000{next(_phones):04d}"
    services.sms_code_request(phone=phone, ip="10.9.9.9")
    return {"phone": phone, "code": re.search(r"\d{6}", latest_outbox_message(phone).body).group(0)}


def _staff_login_body(w: World) -> dict:
    user = w.roles["community"]
    return {"username": user.username, "password": STAFF_PASSWORD, "totp": totp_now(user)}


def _profile_body(w: World) -> dict:
    return {
        "real_name": "赵六",
        "id_number": make_id_number(),
        "home_community_id": w.place["communities"][0].pk,
        "consent": True,
    }


def _pass_body(w: World) -> dict:
    return {"token": services.resident_pass_issue(user=w.residents[0].user).token, "purpose": "checkin"}


def _reveal_checked(w: World, role: str, response) -> None:
    if response.status_code == 200:
        resident = Resident.objects.get(pk=int(response.wsgi_request.path.split("/")[-2]))
        assert response.json() == {"id_number": resident.id_number}
        event = AuditEvent.objects.get(action="people.resident.pii_viewed")
        assert event.actor == w.user(role) and event.object_id == str(resident.pk)
        assert event.data == {"field": "id_number", "reason": "核对身份"}


def _verification_checked(w: World, role: str, response) -> None:
    if response.status_code == 201:
        verification = EligibilityVerification.objects.get()
        assert verification.verified_by == w.user(role) and verification.kind == "low_income"
        assert response.json()["id"] == verification.pk


def _pass_checked(w: World, role: str, response) -> None:
    if response.status_code == 200:
        assert response.json()["resident_id"] == w.residents[0].pk
        use = PassUse.objects.get()
        if role == "device":
            assert use.device == w.device and use.staff is None
        elif role == OTHER_DEVICE:
            assert use.device.center == w.centers[2] and use.staff is None
        else:
            assert use.staff == w.user(role) and use.device is None


def own_dependant(target: int | None) -> Callable[[str], Expected]:
    """A resident removes only their own family member (r1's is target 0); others find nothing."""

    def expect(role: str) -> Expected:
        if role in ("anonymous", "device"):
            return 401
        mine = {"resident": 0, "other_resident": 2}.get(role)
        return 204 if target is not None and target == mine else 404

    return expect


def _dependants_listed(w: World, role: str, response) -> None:
    if response.status_code == 200:
        names = [d["name"] for d in response.json()]
        assert names == (["小明"] if role in RESIDENTS else [])


def _dependant_added(w: World, role: str, response) -> None:
    if response.status_code == 201:
        added = Dependant.objects.get(pk=response.json()["id"])
        assert (added.resident.user, added.name, added.relation) == (w.user(role), "张小红", "child")
        assert AuditEvent.objects.filter(action="people.dependant.added", actor=w.user(role)).exists()


def _dependant_removed(w: World, role: str, response) -> None:
    removed = Dependant.objects.filter(removed_at__isnull=False)
    if response.status_code == 204:
        assert [d.resident.user for d in removed] == [w.user(role)]
    else:
        assert not removed.exists()


def _me_checked(w: World, role: str, response) -> None:
    if response.status_code == 200:
        body = response.json()
        assert body["id"] == w.user(role).pk
        assert body["is_staff_member"] == (role in STAFF)
        if role in RESIDENTS:
            assert body["profile"]["real_name"] == w.user(role).resident.real_name


def resident_token_only(ok: int) -> Callable[[str], Expected]:
    """A resident's own data: their token (or session); a staff token is refused like none."""
    return lambda role: ok if role in RESIDENTS else 401


def _data_checked(w: World, role: str, response) -> None:
    if response.status_code == 200:
        body = response.json()
        assert body["profile"]["id_number"] == w.user(role).resident.id_number
        others = [r for r in w.residents if r.user != w.user(role)]
        assert not any(r.id_number in response.content.decode() for r in others)
        assert (
            AuditEvent.objects.filter(action="people.personal_data.exported", actor=w.user(role)).count() == 1
        )


def _erasure_checked(w: World, role: str, response) -> None:
    from livingroom.people.models import ErasureRequest

    if response.status_code == 201:
        assert list(ErasureRequest.objects.values_list("user", "status")) == [(w.user(role).pk, "pending")]


API_OPS: list[ApiOp] = [
    ApiOp("POST", "/auth/sms-code", anyone(202), body=lambda w: {"phone": "13900009999"}),
    ApiOp("POST", "/auth/login", anyone(200), body=_code_body),
    ApiOp("POST", "/auth/staff-login", anyone(200), body=_staff_login_body),
    ApiOp("GET", "/me", signed_in(200), check=_me_checked),
    ApiOp("PUT", "/me/profile", signed_in(200), body=_profile_body),
    ApiOp("GET", "/me/pass", signed_in(200, staff=409)),
    ApiOp("POST", "/auth/logout", signed_in(204)),
    ApiOp("GET", "/health", anyone(200)),
    ApiOp("GET", "/streets", anyone(200)),
    ApiOp("GET", "/centers", anyone(200)),
    *(ApiOp("GET", "/centers/{center_id}", anyone(404 if t is None else 200), t) for t in TARGETS),
    ApiOp("GET", "/staff/centers", staff_only(200)),
    *(ApiOp("GET", "/staff/centers/{center_id}", staff_read(CENTERS_SEEN, t), t) for t in TARGETS),
    ApiOp("GET", "/staff/residents", staff_only(200)),
    *(ApiOp("GET", "/staff/residents/{resident_id}", staff_read(RESIDENTS_SEEN, t), t) for t in TARGETS),
    *(
        ApiOp(
            "POST",
            "/staff/residents/{resident_id}/reveal",
            desk_only(200, t),
            t,
            body=lambda w: {"reason": "核对身份"},
            check=_reveal_checked,
        )
        for t in TARGETS
    ),
    *(
        ApiOp(
            "POST",
            "/staff/residents/{resident_id}/verifications",
            desk_only(201, t),
            t,
            body=lambda w: {"kind": "low_income", "evidence_note": "低保证"},
            check=_verification_checked,
        )
        for t in TARGETS
    ),
    ApiOp("GET", "/me/dependants", signed_in(200), check=_dependants_listed),
    ApiOp(
        "POST",
        "/me/dependants",
        signed_in(201, staff=409),
        body=lambda w: {"name": "张小红", "birth_date": "2019-03-04", "relation": "child"},
        check=_dependant_added,
    ),
    *(
        ApiOp(
            "DELETE",
            "/me/dependants/{dependant_id}",
            own_dependant(t),
            t,
            check=_dependant_removed,
            codes={404: "dependant_not_found"},
        )
        for t in TARGETS
    ),
    ApiOp("POST", "/staff/passes/verify", staff_only(200), body=_pass_body, check=_pass_checked),
    ApiOp("POST", "/devices/passes/verify", device_only(200), body=_pass_body, check=_pass_checked),
    # personal data (tests/people/test_personal_data.py): a resident's own token only
    ApiOp("GET", "/me/data", resident_token_only(200), check=_data_checked),
    ApiOp("GET", "/me/erasure", resident_token_only(404), codes={404: "erasure_not_found"}),
    ApiOp("POST", "/me/erasure", resident_token_only(201), check=_erasure_checked),
    ApiOp("DELETE", "/me/erasure", resident_token_only(404), codes={404: "erasure_not_found"}),
]

REFUSAL_CODES = {403: "forbidden", 404: "not_found", 409: "profile_incomplete"}

API_CASES = [
    pytest.param(role, op, op.expect(role), id=f"{role}:{op.label()}") for op in API_OPS for role in ROLES
] + [
    pytest.param(OTHER_DEVICE, op, op.expect(OTHER_DEVICE), id=f"{OTHER_DEVICE}:{op.label()}")
    for op in API_OPS
    if (op.method, op.template) in OTHER_DEVICE_ROWS
]


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "op", "expected"), API_CASES)
def test_api_permissions(world, role, op, expected):
    client = api_as(role, world)
    body = op.body(world) if op.body else None
    before = snapshot()
    if op.method == "GET":
        response = client.get(op.url(world))
    else:
        response = client.send(op.method, op.url(world), body)
    assert response.status_code == expected, response.content[:300]
    if expected >= 400:
        payload = response.json()
        assert set(payload) == {"code", "message", "field"} and payload["message"]
        if expected == 401:
            signed = op.template.startswith("/devices/")
            assert payload["code"] == ("signature_missing" if signed else "not_authenticated")
        else:
            assert payload["code"] == (op.codes or REFUSAL_CODES).get(expected, REFUSAL_CODES[expected])
    if is_refusal(expected):
        assert snapshot() == before
    if op.check:
        op.check(world, role, response)


# --- pages ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PageOp:
    method: str
    route: str  # the Django URL pattern, as in the apps' urls.py
    expect: Callable[[str], Expected]
    target: int | None = MISSING
    query: str = ""
    body: dict | None = None

    def url(self, w: World) -> str:
        ids = {
            "center_id": w.center_pk(self.target),
            "resident_id": w.resident_pk(self.target),
            "dependant_id": MISSING_PK,
            "verification_id": MISSING_PK,
        }
        path = "/" + re.sub(r"<(?:int|id):(\w+)>", lambda m: str(ids[m.group(1)]), self.route)
        return f"{path}?{self.query}" if self.query else path

    def label(self) -> str:
        where = "<" in self.route and (f"#{self.target + 1}" if self.target is not None else "#missing")
        extra = f"?{self.query}" if self.query else ""
        action = f" {self.body['action']}" if self.body and "action" in self.body else ""
        return f"{self.method} /{self.route}{extra}{where or ''}{action}"


def console(ok: int) -> Callable[[str], Expected]:
    return lambda role: ok if role in STAFF else CONSOLE_LOGIN


def district_console(role: str) -> Expected:
    """A page for district officials (the audit log): other staff are refused."""
    if role not in STAFF:
        return CONSOLE_LOGIN
    return 200 if role == "district" else 403


def console_read(seen: dict[str, set[int]], target: int | None) -> Callable[[str], Expected]:
    def expect(role: str) -> Expected:
        if role not in STAFF:
            return CONSOLE_LOGIN
        return 200 if target in seen[role] else 404

    return expect


def console_act(target: int | None, desk_ok: Expected) -> Callable[[str], Expected]:
    """A reveal or verify form: desk staff succeed, officials in scope see an error, others 404."""

    def expect(role: str) -> Expected:
        if role not in STAFF:
            return CONSOLE_LOGIN
        if target not in RESIDENTS_SEEN[role]:
            return 404
        return desk_ok if target in DESK.get(role, set()) else FormError()

    return expect


def resident_page(resident_ok: Expected, staff_ok: Expected) -> Callable[[str], Expected]:
    def expect(role: str) -> Expected:
        if role == "anonymous":
            return LOGIN
        return resident_ok if role in RESIDENTS else staff_ok

    return expect


def own_center(role: str) -> Expected:
    if role == "anonymous":
        return LOGIN
    if role not in RESIDENTS:
        return Redirect("/me/profile/")
    index = 0 if role == "resident" else 2
    return Redirect(lambda w: f"/centers/{w.centers[index].pk}/")


def resident_page_url(target: int | None) -> Callable[[World], str]:
    return lambda w: f"/console/residents/{w.resident_pk(target)}/"


PROFILE_FORM = {"real_name": "赵六", "id_number": "", "home_community": "", "consent": "on"}

PAGE_OPS: list[PageOp] = [
    # console
    PageOp("GET", "console/", console(200)),
    PageOp("GET", "console/centers/", console(200)),
    PageOp("GET", "console/centers/", console(200), query="format=xlsx"),
    *(PageOp("GET", "console/centers/<id:center_id>/", console_read(CENTERS_SEEN, t), t) for t in TARGETS),
    PageOp("GET", "console/residents/", console(200)),
    PageOp("GET", "console/residents/", console(200), query="format=xlsx"),
    *(
        PageOp("GET", "console/residents/<id:resident_id>/", console_read(RESIDENTS_SEEN, t), t)
        for t in TARGETS
    ),
    *(
        PageOp(
            "POST",
            "console/residents/<id:resident_id>/",
            console_act(t, 200),
            t,
            body={"action": "reveal", "reason": "核对身份"},
        )
        for t in TARGETS
    ),
    *(
        PageOp(
            "POST",
            "console/residents/<id:resident_id>/",
            console_act(t, Redirect(resident_page_url(t))),
            t,
            body={"action": "verify", "kind": "low_income", "evidence_note": "低保证"},
        )
        for t in TARGETS
    ),
    # A credential photo: no such verification here (tests/meals/test_console.py opens real ones).
    *(
        PageOp(
            "GET",
            "console/residents/<id:resident_id>/verifications/<id:verification_id>/photo.jpg",
            console(404),
            t,
        )
        for t in TARGETS
    ),
    PageOp("GET", "console/login/", anyone(200)),
    PageOp("GET", "console/audit/", district_console),
    PageOp("GET", "console/audit/", district_console, query="format=xlsx"),
    # resident pages
    PageOp("GET", "me/profile/", resident_page(200, 200)),
    PageOp("POST", "me/profile/", resident_page(Redirect("/"), Redirect("/")), body=PROFILE_FORM),
    PageOp("GET", "me/pass/", resident_page(200, Redirect("/me/profile/"))),
    PageOp("GET", "me/pass/qr/", resident_page(200, 404)),
    PageOp("GET", "me/center/", own_center),
    PageOp("GET", "me/family/", resident_page(200, Redirect("/me/profile/"))),
    PageOp("GET", "me/notices/", resident_page(200, 200)),
    PageOp("POST", "me/family/<id:dependant_id>/remove/", resident_page(404, 404), MISSING, body={}),
    # personal data: the download serves the signed-in user's own; staff hold no resident data
    PageOp("GET", "me/data/", resident_page(200, 200)),
    PageOp("GET", "me/erasure/", resident_page(200, 200)),
    PageOp(
        "POST",
        "me/erasure/",
        resident_page(
            Redirect("/me/erasure/"), 200
        ),  # staff: the form says staff accounts are not erased here
        body={"action": "request", "confirm": "on"},
    ),
    PageOp(
        "POST",
        "me/erasure/",
        resident_page(Redirect("/me/erasure/"), Redirect("/me/erasure/")),
        body={"action": "cancel"},
    ),
    # public pages and sign-in
    PageOp("GET", "", anyone(200)),
    PageOp("GET", "centers/", anyone(200)),
    *(PageOp("GET", "centers/<id:center_id>/", anyone(404 if t is None else 200), t) for t in (0, 2, None)),
    PageOp("GET", "login/", anyone(200)),
    PageOp("GET", "login/code/", lambda role: 200 if role in RESIDENTS else Redirect("/login/")),
    PageOp("GET", "logout/", anyone(405)),
    PageOp(
        "POST",
        "logout/",
        lambda role: Redirect("/console/login/") if role in STAFF else Redirect("/"),
        body={},
    ),
    PageOp("POST", "settings/elderly/", anyone(302), body={"next": "/centers/"}),
    PageOp("GET", "dev/sms/", anyone(404)),
]

PAGE_CASES = [
    pytest.param(role, op, op.expect(role), id=f"{role}:{op.label()}")
    for op in PAGE_OPS
    for role in PAGE_ROLES
]


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "op", "expected"), PAGE_CASES)
def test_page_permissions(world, role, op, expected):
    client = browser_as(role, world)
    url = op.url(world)
    body = op.body
    if body is PROFILE_FORM:
        body = {**body, "id_number": make_id_number(), "home_community": world.place["communities"][0].pk}
    before = snapshot()
    response = client.post(url, body) if op.method == "POST" else client.get(url)
    if isinstance(expected, Redirect):
        assert response.status_code == 302, response.content[:300]
        location = expected.location(world)
        if expected.login:
            assert response["Location"] == f"{location}?{urlencode({'next': url})}"
        else:
            assert response["Location"] == location
    elif isinstance(expected, FormError):
        assert response.status_code == expected.status
        assert response.context["reveal_form"].errors or response.context["verify_form"].errors
    else:
        assert response.status_code == expected, response.content[:300]
    if expected == 404 and op.target is not None:
        # Not found means not shown: the page names neither the resident nor the center asked for.
        html = response.content.decode()
        assert world.residents[op.target].real_name not in html and world.centers[op.target].name not in html
    if is_refusal(expected):
        assert snapshot() == before
    if op.body and op.body.get("action") == "reveal" and response.status_code == 200:
        revealed = world.residents[op.target].id_number
        shown = revealed in response.content.decode()
        assert shown == (expected == 200)
        assert AuditEvent.objects.filter(action="people.resident.pii_viewed").count() == int(shown)


# --- guards: the table covers the whole API and every page ---------------------------------------


@pytest.mark.django_db
def test_table_covers_every_operation_in_the_openapi_schema(api):
    schema = api.get("/openapi.json").json()
    # This table covers the foundation; each later app guards its own operations by its tags
    # (booking: tests/booking/test_permissions.py).
    in_schema = {
        (method.upper(), path.removeprefix("/api/v1"))
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if not set(operation.get("tags", ())) & LATER_APP_TAGS
    }
    in_table = {(op.method, op.template) for op in API_OPS}
    assert in_schema - in_table == set(), "operations without a permission row"
    assert in_table - in_schema == set(), "rows for operations that no longer exist"
    for method, template in in_table:
        covered = {
            p.values[0] for p in API_CASES if (p.values[1].method, p.values[1].template) == (method, template)
        }
        assert covered - {OTHER_DEVICE} == set(ROLES), (method, template)
    assert OTHER_DEVICE_ROWS - in_table == set(), "other_device rows that are gone"


LATER_APP_TAGS = {
    "bookings",
    "staff: bookings",
    "devices: bookings",
    "programs",
    "staff: programs",
    "devices: programs",
    # tests/volunteering/test_api_permissions.py
    "volunteering",
    "staff: volunteering",
    "devices: volunteering",
    "points",
    "staff: points",
    "devices: vending",
    # tests/voice/test_api_permissions.py
    "voice",
    "staff: voice",
    # tests/meals/test_api_permissions.py
    "meals",
    "devices: canteen",
    "staff: meals",
}


def _routes(patterns, prefix: str = "") -> list[tuple[str, str | None]]:
    found: list[tuple[str, str | None]] = []
    for p in patterns:
        if isinstance(p, URLResolver):
            found += [
                (prefix + route, p.namespace or ns) for route, ns in _routes(p.url_patterns, str(p.pattern))
            ]
        elif isinstance(p, URLPattern):
            found.append((prefix + str(p.pattern), None))
    return found


def test_table_covers_every_page():
    # The project's own pages; the API, Django's admin and the language switch are not ours.
    ours = {
        route
        for route, ns in _routes(get_resolver().url_patterns)
        if ns in ("web", "people", "places", "notices")
    }
    assert ours, "no pages found: the URL walk is broken"
    assert ours - {op.route for op in PAGE_OPS} == set(), "pages without a permission row"
    assert {op.route for op in PAGE_OPS} - ours == set(), "rows for pages that no longer exist"
    console_pages = {r for r in ours if r.startswith("console/")}
    assert console_pages <= {op.route for op in PAGE_OPS}


# --- what each role sees --------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", STAFF)
def test_staff_lists_hold_only_what_the_role_covers(world, role):
    client = staff_api(world.user(role))
    centers = client.get("/staff/centers").json()
    assert sorted(c["id"] for c in centers) == sorted(world.centers[i].pk for i in CENTERS_SEEN[role])
    residents = client.get("/staff/residents").json()
    assert sorted(r["id"] for r in residents) == sorted(world.residents[i].pk for i in RESIDENTS_SEEN[role])
    # A search cannot widen the scope: every name, every phone tail, every ID number.
    for resident in world.residents:
        for q in (resident.name_initials, resident.real_name, resident.user.phone[-4:], resident.id_number):
            ids = [r["id"] for r in client.get("/staff/residents", q=q).json()]
            assert ids == ([resident.pk] if world.residents.index(resident) in RESIDENTS_SEEN[role] else [])
    # A street filter outside the scope finds nothing rather than another sub-district's centers.
    for street in world.place["streets"]:
        listed = {c["id"] for c in client.get("/staff/centers", street=street.pk).json()}
        assert listed <= {world.centers[i].pk for i in CENTERS_SEEN[role]}


@pytest.mark.django_db
@pytest.mark.parametrize("role", STAFF)
def test_console_lists_and_exports_hold_only_rows_in_scope(world, role):
    client = console_client(world.user(role))
    centers_seen = {world.centers[i].name for i in CENTERS_SEEN[role]}
    residents_seen = {world.place["communities"][i].name for i in RESIDENTS_SEEN[role]}

    page = client.get("/console/centers/")
    assert {c.name for c in page.context["rows"]} == centers_seen
    page = client.get("/console/residents/")
    assert {r.home_community.name for r, _age in page.context["rows"]} == residents_seen

    export = client.get("/console/centers/", {"format": "xlsx"})
    assert export.status_code == 200 and export["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = list(load_workbook(io.BytesIO(export.content)).active.values)
    assert len(rows) == 1 + len(centers_seen)
    assert {row[3] for row in rows[1:]} == centers_seen

    export = client.get("/console/residents/", {"format": "xlsx"})
    assert export.status_code == 200
    rows = list(load_workbook(io.BytesIO(export.content)).active.values)
    assert len(rows) == 1 + len(residents_seen)
    assert {row[5] for row in rows[1:]} == residents_seen
    for resident in world.residents:
        number = resident.id_number
        in_scope = resident.home_community.name in residents_seen
        # Only masked data: never a full ID number, name or phone, even in scope.
        assert all(number not in map(str, row) and resident.user.phone not in map(str, row) for row in rows)
        assert any(
            row[0] == resident.masked_name and row[1] == resident.masked_id_number for row in rows
        ) == (in_scope)


@pytest.mark.django_db
def test_public_center_detail_hides_office_spaces_staff_detail_shows_them(world):
    center = world.centers[0]
    SpaceFactory(center=center, name="自习室", area_m2=80)
    SpaceFactory(center=center, name="主任办公室", kind="office", is_office=True, area_m2=20)
    public = Api().get(f"/centers/{center.pk}").json()
    assert [s["name"] for s in public["spaces"]] == ["自习室"]
    staff = staff_api(world.roles["community"]).get(f"/staff/centers/{center.pk}").json()
    assert sorted(s["name"] for s in staff["spaces"]) == ["主任办公室", "自习室"]
    listed = Api().get("/centers").json()
    assert sorted(c["id"] for c in listed) == sorted(c.pk for c in world.centers)
    page = Client().get(f"/centers/{center.pk}/").content.decode()
    assert "自习室" in page and "主任办公室" not in page
    page = console_client(world.roles["community"]).get(f"/console/centers/{center.pk}/").content.decode()
    assert "自习室" in page and "主任办公室" in page


@pytest.mark.django_db
def test_reveal_is_audited_once_per_successful_reveal(world):
    worker = staff_api(world.roles["community"])
    resident = world.residents[0]
    for _ in range(2):
        response = worker.post(f"/staff/residents/{resident.pk}/reveal", {"reason": "办理残疾人证核验"})
        assert response.status_code == 200 and response.json()["id_number"] == resident.id_number
    events = AuditEvent.objects.filter(action="people.resident.pii_viewed")
    assert events.count() == 2
    assert {(e.actor_id, e.object_id, e.data["reason"]) for e in events} == {
        (world.roles["community"].pk, str(resident.pk), "办理残疾人证核验")
    }
    # Officials in scope are refused (403), others do not even find the resident (404); no event.
    for role, status, code in (
        ("street", 403, "forbidden"),
        ("district", 403, "forbidden"),
        ("other_community", 404, "not_found"),
        ("partner", 404, "not_found"),
    ):
        response = staff_api(world.roles[role]).post(
            f"/staff/residents/{resident.pk}/reveal", {"reason": "查看"}
        )
        assert (response.status_code, response.json()["code"]) == (status, code), role
    assert events.count() == 2


@pytest.mark.django_db
def test_sms_session_is_never_a_staff_session(world):
    """A member of staff who signs in by SMS (the resident way) reaches neither console nor staff API."""
    worker = world.roles["community"]
    worker.set_phone("13900006666")
    worker.save()
    client = sms_session("13900006666")
    response = client.get("/console/")
    assert response.status_code == 302 and response["Location"] == "/console/login/?next=%2Fconsole%2F"
    response = client.get("/api/v1/staff/centers")
    assert response.status_code == 401 and response.json()["code"] == "not_authenticated"
    # The session is a resident session: the resident API knows the user.
    assert client.get("/api/v1/me").json()["id"] == worker.pk


@pytest.mark.django_db
def test_resident_token_of_a_staff_member_is_refused_by_the_staff_api(world):
    worker = world.roles["community"]
    raw, _ = services.api_token_issue(user=worker, kind=ApiToken.Kind.RESIDENT)
    response = Api(raw).get("/staff/centers")
    assert response.status_code == 401 and response.json()["code"] == "not_authenticated"
    assert Api(raw).get("/me").json()["is_staff_member"] is True


@pytest.mark.django_db
def test_console_session_reaches_the_staff_api_and_writes_need_the_csrf_token(world):
    client = console_client(world.roles["community"])
    listed = client.get("/api/v1/staff/centers")
    assert listed.status_code == 200 and [c["id"] for c in listed.json()] == [world.centers[0].pk]
    client.handler.enforce_csrf_checks = True
    url = f"/api/v1/staff/residents/{world.residents[0].pk}/reveal"
    response = client.post(url, {"reason": "核对身份"}, content_type="application/json")
    assert response.status_code == 403 and response.json()["code"] == "csrf_failed"
    assert not AuditEvent.objects.filter(action="people.resident.pii_viewed").exists()
    token = client.get("/console/").context["csrf_token"]
    response = client.post(
        url, {"reason": "核对身份"}, content_type="application/json", headers={"X-CSRFToken": str(token)}
    )
    assert response.status_code == 200
    assert AuditEvent.objects.filter(action="people.resident.pii_viewed").count() == 1


@pytest.mark.django_db
def test_deactivated_role_loses_the_api_and_the_console_at_once(world):
    user = world.roles["community"]
    client, browser = staff_api(user), console_client(user)
    assert client.get("/staff/centers").status_code == 200
    assert browser.get("/console/").status_code == 200
    StaffRole.objects.filter(user=user).update(is_active=False)
    response = client.get("/staff/centers")
    assert response.status_code == 401 and response.json()["code"] == "not_authenticated"
    response = browser.get(f"/console/residents/{world.residents[0].pk}/")
    assert response.status_code == 302 and response["Location"].startswith("/console/login/?next=")


@pytest.mark.django_db
def test_revoked_expired_and_malformed_tokens_are_refused(world):
    user = world.roles["district"]
    revoked, token = services.api_token_issue(user=user, kind=ApiToken.Kind.STAFF)
    services.api_token_revoke(token=token, actor=user)
    expired, token = services.api_token_issue(user=user, kind=ApiToken.Kind.STAFF)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=token.created_at)
    for raw in (revoked, expired, "lr_" + "x" * 43, "", "lr_" + "x" * 200):
        response = Api(raw).get("/staff/centers")
        assert response.status_code == 401 and response.json()["code"] == "not_authenticated", raw
        assert response["WWW-Authenticate"] == "Bearer"
    response = Api().get("/staff/centers", headers={"Authorization": f"Basic {revoked}"})
    assert response.status_code == 401


@pytest.mark.django_db
def test_resident_session_writes_through_the_api_need_the_csrf_token(world):
    resident = world.residents[0]
    client = sms_session(resident.user.phone)
    client.handler.enforce_csrf_checks = True
    body = {
        "real_name": "赵六",
        "id_number": make_id_number(),
        "home_community_id": world.place["communities"][1].pk,
        "consent": True,
    }
    before = snapshot()
    response = client.put("/api/v1/me/profile", body, content_type="application/json")
    assert response.status_code == 403 and response.json()["code"] == "csrf_failed"
    assert snapshot() == before
    token = client.get("/me/profile/").context["csrf_token"]
    response = client.put(
        "/api/v1/me/profile", body, content_type="application/json", headers={"X-CSRFToken": str(token)}
    )
    assert response.status_code == 200 and response.json()["real_name"] == "赵六"


MATRIX = Matrix(
    api_roles=ROLES,
    api_cells=param_cells(API_CASES, lambda op: (op.method, op.template)),
    page_roles=PAGE_ROLES,
    page_cells=param_cells(PAGE_CASES, lambda op: (op.method, op.route)),
    devices_elsewhere=(OTHER_DEVICE,),
)
