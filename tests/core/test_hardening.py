"""Deployment hardening (issue 8): security headers and CSP, the production profile, session
limits, sign-in rate limits on every path, the admin behind the console sign-in, and the audit
log's retention, viewer and export."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.checks import run_checks
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from livingroom.core.audit import MIN_RETENTION_DAYS, audit_log, audit_prune
from livingroom.core.models import AuditEvent
from livingroom.people.auth import SESSION_LAST_SEEN, SESSION_STARTED
from livingroom.people.models import StaffRole
from livingroom.people.sms import latest_outbox_message
from tests.conftest import console_client, raw_rows, totp_now
from tests.factories import STAFF_PASSWORD, StaffFactory, staff_with_role

SRC = Path(__file__).resolve().parents[2] / "src" / "livingroom"


# --- headers and CSP ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_pages_carry_the_security_headers_and_a_csp_without_inline_scripts(client, place):
    response = client.get("/")
    csp = response["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";") if d.strip())
    assert directives["script-src"] == "'self'"
    assert "unsafe-inline" not in directives["script-src"] and "unsafe-eval" not in csp
    assert directives["default-src"] == "'self'" and directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    # The API answers carry them too.
    assert "Content-Security-Policy" in client.get("/api/v1/centers").headers


def test_no_template_has_an_inline_script_or_event_handler():
    """A CSP without 'unsafe-inline' would silently break them: pages use data attributes that
    web/app.js wires instead."""
    inline_script = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
    handler = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)
    offenders = []
    for path in SRC.rglob("templates/**/*.html"):
        text = path.read_text()
        if inline_script.search(text) or handler.search(text):
            offenders.append(str(path.relative_to(SRC)))
    assert offenders == []


def _production_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "LIVINGROOM_PII"))}
    env.update(
        DJANGO_SETTINGS_MODULE="livingroom.settings_production",
        DJANGO_SECRET_KEY="p" * 20 + "-Zq8vX2mN4kL7rT1yB6cW9eH3jF5gD0sA-" + "r" * 10,
        LIVINGROOM_PII_KEY="zHcVq1n0m5CSb4nqgI0oJxWw7b3J9L2y6fQ8a1R4s5E=",
        DJANGO_ALLOWED_HOSTS="living.example.cn",
        **extra,
    )
    return env


def test_production_profile_passes_check_deploy():
    done = subprocess.run(
        [sys.executable, "-m", "livingroom", "check", "--deploy", "--fail-level", "WARNING"],
        env=_production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout


def test_production_profile_refuses_to_start_without_its_secrets():
    env = _production_env()
    del env["LIVINGROOM_PII_KEY"]
    done = subprocess.run(
        [sys.executable, "-m", "livingroom", "check"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode != 0 and "LIVINGROOM_PII_KEY" in done.stderr


# --- sessions ----------------------------------------------------------------------------------


def _sms_client(phone: str) -> Client:
    client = Client()
    client.post("/login/", {"phone": phone})
    code = re.search(r"\d{6}", latest_outbox_message(phone).body).group(0)
    assert client.post("/login/code/", {"code": code}).status_code == 302
    return client


def _age_session(client: Client, *, idle: int = 0, since_sign_in: int = 0) -> None:
    session = client.session
    now = int(time.time())
    session[SESSION_LAST_SEEN] = now - idle
    session[SESSION_STARTED] = now - since_sign_in
    session.save()


@pytest.mark.django_db
def test_resident_sessions_end_after_thirty_idle_minutes(place):
    client = _sms_client("13812345678")
    assert client.get("/me/profile/").status_code == 200
    _age_session(client, idle=29 * 60, since_sign_in=29 * 60)
    assert client.get("/me/profile/").status_code == 200
    _age_session(client, idle=31 * 60, since_sign_in=31 * 60)
    response = client.get("/me/profile/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


@pytest.mark.django_db
def test_staff_sessions_end_twelve_hours_after_sign_in_even_when_busy(place, roles):
    client = console_client(roles["community"])
    _age_session(client, idle=60, since_sign_in=11 * 3600)
    assert client.get("/console/").status_code == 200
    _age_session(client, idle=60, since_sign_in=12 * 3600 + 60)
    response = client.get("/console/")
    assert response.status_code == 302 and response["Location"].startswith("/console/login/")
    assert settings.SESSION_COOKIE_AGE <= 12 * 3600


# --- sign-in limits ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_staff_password_failures_from_one_address_are_limited_across_accounts(place, settings):
    settings.LIVINGROOM_STAFF_FAILURES_PER_IP_PER_HOUR = 5
    victims = [staff_with_role(StaffRole.Role.DISTRICT_OFFICIAL) for _ in range(6)]
    client = Client()
    client.cookies["django_language"] = "en"
    for user in victims[:5]:  # password spraying: one wrong try per account, never a lockout
        page = client.post(
            "/console/login/", {"username": user.username, "password": "Wrong-1234567", "totp": "000000"}
        )
        assert page.status_code == 200
    last = victims[5]
    page = client.post(
        "/console/login/", {"username": last.username, "password": STAFF_PASSWORD, "totp": totp_now(last)}
    )
    assert page.status_code != 302 and "Too many requests" in page.content.decode()
    api = Client().post(
        "/api/v1/auth/staff-login",
        {"username": last.username, "password": STAFF_PASSWORD, "totp": totp_now(last)},
        content_type="application/json",
    )
    assert api.status_code == 429 and api.json()["code"] == "rate_limited"
    # Another address is not affected.
    other = Client(REMOTE_ADDR="10.0.0.9").post(
        "/console/login/", {"username": last.username, "password": STAFF_PASSWORD, "totp": totp_now(last)}
    )
    assert other.status_code == 302, other.context["form"].errors


@pytest.mark.django_db
def test_wrong_sms_codes_from_one_address_are_limited_across_phones(place, settings):
    settings.LIVINGROOM_SMS_FAILURES_PER_IP_PER_HOUR = 3
    api = Client()
    for i in range(3):
        phone = f"1391234560{i}"
        assert (
            api.post("/api/v1/auth/sms-code", {"phone": phone}, content_type="application/json").status_code
            == 202
        )
        wrong = api.post(
            "/api/v1/auth/login", {"phone": phone, "code": "000000"}, content_type="application/json"
        )
        assert wrong.status_code in (400, 401, 422)
    phone = "13912345609"
    api.post("/api/v1/auth/sms-code", {"phone": phone}, content_type="application/json")
    code = re.search(r"\d{6}", latest_outbox_message(phone).body).group(0)
    refused = api.post("/api/v1/auth/login", {"phone": phone, "code": code}, content_type="application/json")
    assert refused.status_code == 429 and refused.json()["code"] == "rate_limited"


# --- the admin ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_admin_has_no_password_only_sign_in(place, roles):
    admin = StaffFactory(is_superuser=True, is_staff=True)
    anonymous = Client()
    response = anonymous.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0] == "/console/login/?next=/admin/"
    response = anonymous.post("/admin/login/", {"username": admin.username, "password": STAFF_PASSWORD})
    assert response.status_code == 302 and response["Location"].startswith("/console/login/")
    assert "_auth_user_id" not in anonymous.session
    # With password + TOTP through the console it opens; a staff role without is_staff does not.
    assert console_client(admin).get("/admin/").status_code == 200
    response = console_client(roles["district"]).get("/admin/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/console/login/")


# --- the audit log -----------------------------------------------------------------------------


def _old_event(days: int) -> int:
    at = timezone.now() - dt.timedelta(days=days)
    event = audit_log("test.old")
    # Backdate by inserting a copy with an old time (events cannot be updated).
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO core_auditevent (at, action, actor_kind, actor_label, object_type, object_id, "
            "result, data, request_id) VALUES (%s, %s, 'system', 'system', '', '', 'ok', %s, '')",
            [at, f"test.aged.{days}", "{}"],
        )
    del event
    return AuditEvent.objects.get(action=f"test.aged.{days}").pk


@pytest.mark.django_db
def test_prune_keeps_the_retention_and_never_less_than_184_days(settings):
    settings.LIVINGROOM_AUDIT_RETENTION_DAYS = 200
    young, middle, old = _old_event(10), _old_event(190), _old_event(210)
    assert audit_prune() == 1
    left = set(AuditEvent.objects.values_list("pk", flat=True))
    assert {young, middle} <= left and old not in left
    assert AuditEvent.objects.filter(action="core.audit.pruned").count() == 1
    # A retention below the legal floor is refused by the system check and never applied.
    settings.LIVINGROOM_AUDIT_RETENTION_DAYS = 30
    assert [e.id for e in run_checks() if e.id == "livingroom.E001"] == ["livingroom.E001"]
    assert audit_prune() == 1  # the 190-day event; the 10-day one stays
    assert AuditEvent.objects.filter(pk=young).exists() and not AuditEvent.objects.filter(pk=middle).exists()
    assert MIN_RETENTION_DAYS == 184


@pytest.mark.django_db
def test_postgres_trigger_refuses_changes_and_deleting_events_younger_than_184_days():
    if connection.vendor != "postgresql":
        pytest.skip("the trigger is PostgreSQL's")
    young, old = _old_event(100), _old_event(185)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditevent WHERE id = %s", [young])
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditevent SET result = 'ok' WHERE id = %s", [old])
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditevent WHERE id = %s", [old])
    assert raw_rows(f"SELECT count(*) FROM core_auditevent WHERE id IN ({young}, {old})") == [(1,)]  # noqa: S608


@pytest.mark.django_db
def test_district_reads_filters_and_exports_the_audit_log(place, roles):
    audit_log("people.resident.pii_viewed", actor=roles["community"], data={"reason": "核验"})
    audit_log("test.other")
    client = console_client(roles["district"])
    page = client.get("/console/audit/?action=people.resident")
    assert page.status_code == 200
    assert [e.action for e in page.context["events"]] == ["people.resident.pii_viewed"]
    text = page.content.decode()
    assert "people.resident.pii_viewed" in text and "test.other" not in text
    export = client.get("/console/audit/?action=people.&format=xlsx")
    assert export.status_code == 200
    rows = list(load_workbook(io.BytesIO(export.content)).active.iter_rows(values_only=True))
    actions = [r[2] for r in rows[1:]]
    assert "people.resident.pii_viewed" in actions and "test.other" not in actions
    assert AuditEvent.objects.filter(action="core.audit.exported", actor=roles["district"]).count() == 1
    bad = client.get("/console/audit/?from=2026-05-01&to=2026-04-01")
    assert bad.status_code == 400 and bad.context["form"].errors["to"]
    for who in ("community", "street", "partner"):
        assert console_client(roles[who]).get("/console/audit/").status_code == 403
    assert Client().get("/console/audit/").status_code == 302


@pytest.mark.django_db
def test_audit_export_command_writes_json_lines(tmp_path):
    audit_log("test.exported", data={"n": 1})
    out = tmp_path / "audit.jsonl"
    day = timezone.localdate().isoformat()
    call_command("audit_export", "--from", day, "--to", day, "--output", str(out), stderr=io.StringIO())
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert {"at", "actor", "action", "object_type", "object_id", "result"} <= set(records[0])
    assert "test.exported" in [r["action"] for r in records]


# --- the database going away -------------------------------------------------------------------


@pytest.mark.django_db
def test_a_database_outage_is_a_503_with_retry_after_never_a_500(client, place, monkeypatch):
    from django.db import OperationalError

    from livingroom.places import selectors

    def down(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(selectors, "public_centers", down)
    api = client.get("/api/v1/centers")
    assert api.status_code == 503 and api["Retry-After"] == "5"
    assert api.json()["code"] == "service_unavailable"
    page = client.get("/centers/")
    assert page.status_code == 503 and page["Retry-After"] == "5"
    assert "<h1>" in page.content.decode()


def test_the_error_handler_answers_without_the_database(rf):
    from django.db import InterfaceError

    from livingroom.core.middleware import server_error

    response = server_error(rf.get("/api/v1/centers"), InterfaceError("connection already closed"))
    assert response.status_code == 503 and json.loads(response.content)["code"] == "service_unavailable"
    response = server_error(rf.get("/centers/"), ValueError("a bug"))
    assert response.status_code == 500 and b"<h1>" in response.content
