from __future__ import annotations

import json
import os

import pyotp
import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client

from livingroom.core.dbtriggers import APPEND_ONLY_TABLES, create_triggers, drop_triggers
from livingroom.people.models import ApiToken, StaffRole
from livingroom.people.services import api_token_issue
from tests import factories as f

PG = os.environ.get("DATABASE_URL", "").startswith("postgres")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "concurrency" in item.keywords and not PG:
            item.add_marker(pytest.mark.skip(reason="concurrency tests need PostgreSQL (DATABASE_URL)"))


@pytest.fixture(autouse=True)
def _tasks_run_at_once(settings):
    """Background tasks run in the test's own thread as they are enqueued (no worker in tests)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


class Api:
    """A JSON client for /api/v1 with an optional bearer token."""

    def __init__(self, token: str | None = None) -> None:
        self.client = Client(raise_request_exception=False)
        self.token = token

    def _headers(self, extra: dict | None) -> dict:
        headers = dict(extra or {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def get(self, path: str, headers: dict | None = None, **params):
        return self.client.get("/api/v1" + path, params, headers=self._headers(headers))

    def send(self, method: str, path: str, data=None, headers: dict | None = None, raw: bytes | None = None):
        body = raw if raw is not None else json.dumps(data if data is not None else {}).encode()
        return self.client.generic(
            method, "/api/v1" + path, body, content_type="application/json", headers=self._headers(headers)
        )

    def post(self, path: str, data=None, **kw):
        return self.send("POST", path, data, **kw)

    def put(self, path: str, data=None, **kw):
        return self.send("PUT", path, data, **kw)


@pytest.fixture
def ledger_emptied_after(transactional_db):
    """After a transactional (live-server) test on SQLite, empties the append-only tables (points
    entries, stock moves, meal entries) with their triggers lifted for the moment: Django empties a SQLite
    database with DELETE, which the triggers refuse (PostgreSQL's TRUNCATE passes them)."""
    yield
    if connection.vendor != "sqlite":
        return
    with connection.schema_editor() as editor:
        drop_triggers(editor, APPEND_ONLY_TABLES)
        for table in APPEND_ONLY_TABLES:
            editor.execute(f"DELETE FROM {table}")  # noqa: S608 - our own table names
        create_triggers(editor, APPEND_ONLY_TABLES)


@pytest.fixture
def api():
    return Api()


@pytest.fixture
def place(db):
    """Two sub-districts, three communities with a center each: the smallest world to test scopes."""
    s1, s2 = f.StreetFactory(name="西乡街道"), f.StreetFactory(name="新安街道")
    c1 = f.CommunityFactory(street=s1, name="固戍社区")
    c2 = f.CommunityFactory(street=s1, name="龙珠社区")
    c3 = f.CommunityFactory(street=s2, name="宝民社区")
    centers = [f.CenterFactory(community=c) for c in (c1, c2, c3)]
    return {"streets": (s1, s2), "communities": (c1, c2, c3), "centers": centers}


@pytest.fixture
def roles(place):
    """One member of staff per role, scoped to the ``place`` fixture's first community/street."""
    s1, _ = place["streets"]
    c1, _c2, c3 = place["communities"]
    org = f.OrganizationFactory()
    org.centers.set([place["centers"][2]])
    return {
        "district": f.staff_with_role(StaffRole.Role.DISTRICT_OFFICIAL),
        "street": f.staff_with_role(StaffRole.Role.STREET_OFFICIAL, street=s1),
        "community": f.staff_with_role(StaffRole.Role.COMMUNITY_WORKER, community=c1),
        "other_community": f.staff_with_role(StaffRole.Role.COMMUNITY_WORKER, community=c3),
        "center": f.staff_with_role(StaffRole.Role.CENTER_STAFF, center=place["centers"][1]),
        "partner": f.staff_with_role(StaffRole.Role.PARTNER_STAFF, organization=org),
    }


def staff_api(user) -> Api:
    raw, _ = api_token_issue(user=user, kind=ApiToken.Kind.STAFF)
    return Api(raw)


def resident_api(user) -> Api:
    raw, _ = api_token_issue(user=user, kind=ApiToken.Kind.RESIDENT)
    return Api(raw)


def totp_now(user) -> str:
    return pyotp.TOTP(user.totp_secret).now()


def console_client(user) -> Client:
    """A browser-like client signed in to the console with password + TOTP."""
    client = Client()
    response = client.post(
        "/console/login/", {"username": user.username, "password": f.STAFF_PASSWORD, "totp": totp_now(user)}
    )
    assert response.status_code == 302, response.content[:500]
    return client


def raw_rows(sql: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()
