"""Personal data at rest: dump the whole database raw and find no ID number, disability
certificate number, health note, evidence note, phone number or secret in clear; nor in the log
of the requests that wrote them.

Residents are made through the real services and the API (``tests.people.test_personal_data``
builds a life: profile, verified disability with certificate and photo, a rehab note, bookings,
a course, volunteering, points, a meal, a request with a photo); then every table is read with a
raw cursor (``SELECT *``, nothing decoded by a model field) and, on SQLite, the database file's
bytes are read too (the in-memory test database is first copied to a file with SQLite's backup).

A guard keeps it so: every model field whose name suggests sensitive data is encrypted
(``core.pii.EncryptedTextField``) or is named below with the reason it need not be.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.db import connection

from livingroom.core import masking
from livingroom.core.pii import EncryptedTextField
from livingroom.people.models import EligibilityVerification, Resident, User, id_number_index
from tests import factories as f
from tests.conftest import Api, resident_api, staff_api
from tests.people.test_personal_data import build_life, build_stage, raw_dump


def _api_resident(stage, phone: str, id_number: str, certificate: str, evidence: str) -> Resident:
    """A resident who signs up through the API, and is verified by desk staff through the API."""
    from livingroom.people.sms import latest_outbox_message

    api = Api()
    assert api.post("/auth/sms-code", {"phone": phone}).status_code == 202
    code = re.search(r"\d{6}", latest_outbox_message(phone).body).group(0)
    token = api.post("/auth/login", {"phone": phone, "code": code}).json()["token"]
    me = Api(token)
    community = stage.place["communities"][0].pk
    body = {"real_name": "黄桂英", "id_number": id_number, "home_community_id": community, "consent": True}
    assert me.put("/me/profile", body).status_code == 200
    assert me.get("/me").status_code == 200
    resident = Resident.objects.get(user__phone_hash=User.objects.get_by_phone(phone).phone_hash)
    desk = staff_api(stage.desk)
    verified = desk.post(
        f"/staff/residents/{resident.pk}/verifications",
        {"kind": "disabled", "credential_number": certificate, "evidence_note": evidence},
    )
    assert verified.status_code == 201, verified.content
    assert desk.get(f"/staff/residents?q={phone}").json()[0]["id"] == resident.pk
    assert desk.get(f"/staff/residents?q={id_number}").json()[0]["id"] == resident.pk
    assert desk.post(f"/staff/residents/{resident.pk}/reveal", {"reason": "核对身份"}).status_code == 200
    assert me.get("/me/data").status_code == 200
    # Refusals are logged (django.request): the values sent must not be.
    taken = resident_api(f.UserFactory()).put("/me/profile", {**body, "real_name": "冒名者"})
    assert (taken.status_code, taken.json()["code"]) == (409, "id_number_taken")
    assert Api(token).get(f"/staff/residents?q={id_number}").status_code == 401
    return resident


def _sqlite_file_bytes() -> bytes | None:
    """The SQLite database's bytes as they would be in its file: the file itself, or the in-memory
    test database serialised by SQLite (through this connection, so with this test's rows)."""
    if connection.vendor != "sqlite":
        return None
    name = str(connection.settings_dict["NAME"])
    if Path(name).is_file():
        return Path(name).read_bytes()
    return connection.connection.serialize()


@pytest.mark.django_db
def test_no_clear_personal_data_in_the_database_or_the_logs(place, roles, caplog):
    caplog.set_level(logging.DEBUG)
    stage = build_stage(place, roles)
    lives = [build_life(stage), build_life(stage, name="周建华", child="周小宝")]
    phone, id_number = "13800138002", f.make_id_number(birth=dt.date(1953, 6, 9))
    certificate, evidence = "44030619530609D201", "双下肢瘫痪，需轮椅；残疾证原件已核验"
    api_resident = _api_resident(stage, phone, id_number, certificate, evidence)

    clear: dict[str, str] = {}
    for i, life in enumerate(lives):
        clear.update({f"{k}#{i}": v for k, v in life.clear_values().items()})
    clear.update(
        {
            "phone#api": phone,
            "id_number#api": id_number,
            "certificate#api": certificate,
            "evidence#api": evidence,
        }
    )
    # Secrets of the staff who signed in (their TOTP seeds) and of the devices are held the same way.
    for i, user in enumerate(User.objects.exclude(totp_secret="")):
        clear[f"totp#{i}"] = user.totp_secret
    photos = [v.credential_photo for v in EligibilityVerification.objects.exclude(credential_photo="")]
    assert len(photos) == 2 and all(base64.b64decode(p)[:2] == b"\xff\xd8" for p in photos)
    for i, photo in enumerate(photos):
        clear[f"credential_photo#{i}"] = photo
    assert all(len(v) >= 8 for v in clear.values())

    dump, rows = raw_dump()
    assert rows > 100
    leaks = [label for label, value in clear.items() if value in dump]
    assert leaks == []
    # Lower-case "x" and spaced phone forms are not there either.
    for label, value in clear.items():
        if label.startswith("id_number"):
            assert value.lower() not in dump
        if label.startswith("phone"):
            assert f"{value[:3]} {value[3:7]} {value[7:]}" not in dump
    # What serves lookups is there: keyed hashes and the last four digits; the masked forms may be.
    assert id_number_index(id_number) in dump
    assert Resident.objects.get(pk=api_resident.pk).user.phone_tail == phone[-4:]

    file_bytes = _sqlite_file_bytes()
    if file_bytes is not None:
        assert id_number_index(id_number).encode() in file_bytes, "the copy holds this test's rows"
        assert [label for label, value in clear.items() if value.encode() in file_bytes] == []
        raw_photos = [base64.b64decode(p) for p in photos]
        assert not any(p in file_bytes for p in raw_photos)

    logged = "\n".join(
        record.getMessage() + (str(record.exc_text or "")) + str(getattr(record, "args", ""))
        for record in caplog.records
    )
    assert [label for label, value in clear.items() if value in logged] == []
    print(  # the figures for the report (pytest -s)
        f"\npii at rest: {rows} rows in {len(connection.introspection.table_names())} tables dumped, "
        f"{len(clear)} clear values checked, {len(caplog.records)} log records, "
        f"file bytes {'checked' if file_bytes is not None else 'n/a'} ({len(file_bytes or b'')})"
    )


# --- the guard --------------------------------------------------------------------------------------

SENSITIVE_NAME = re.compile(
    r"id_number|certificate|credential|health|diagnos|disab|phone|rehab|medical|illness|evidence|secret|totp|note",
    re.IGNORECASE,
)
SENSITIVE_MODEL = re.compile(r"rehab|health|medical|diagnos", re.IGNORECASE)

# Fields whose name suggests sensitive data but that hold none in clear, with the reason.
ALLOWED = {
    "places.Center.phone": "the center's public service phone, not a person's",
    "people.User.phone_hash": "keyed hash (blind index) for look-ups and uniqueness",
    "people.User.phone_tail": "the last four digits for the desk's search; the masked form shows them too",
    "people.User.totp_last_step": "a counter of used TOTP steps, not the secret",
    "people.Resident.id_number_hash": "keyed hash (blind index) for look-ups and uniqueness",
    "people.SmsCode.phone_hash": "keyed hash (blind index)",
    "people.SmsOutbox.phone_hash": "keyed hash (blind index)",
    "meals.Menu.note": "a canteen's note on a day's menu, about no one",
    "volunteering.Correction.decision_note": "the organiser's answer about service hours",
    "volunteering.Certificate.id_number_masked": "the masked ID number printed on the certificate",
    "voice.Engagement.notes": "staff notes of a forum or home visit: the topics raised (see the docs)",
    "voice.Suggestion.done_note": "what the center carried out, shown on the public board",
    "voice.SuggestionEvent.note": "the steps of a request; a resident's own notes go on erasure",
    "voice.Extension.decision_note": "a supervisor's decision on more working days",
}


def _sensitive_fields() -> dict[str, object]:
    found = {}
    for model in apps.get_models():
        for fld in model._meta.concrete_fields:
            text_like = fld.get_internal_type() in ("TextField", "CharField")
            if SENSITIVE_NAME.search(fld.name) or (SENSITIVE_MODEL.search(model.__name__) and text_like):
                found[f"{model._meta.label}.{fld.name}"] = fld
    return found


def test_every_sensitive_field_is_encrypted_or_allowed_with_a_reason():
    fields = _sensitive_fields()
    unprotected = sorted(
        n for n, fld in fields.items() if not isinstance(fld, EncryptedTextField) and n not in ALLOWED
    )
    assert unprotected == []
    # The allowlist names only fields that exist and are not encrypted (no stale reasons).
    assert sorted(n for n in ALLOWED if n not in fields or isinstance(fields[n], EncryptedTextField)) == []
    # And the fields the design names are encrypted.
    for name in (
        "people.Resident.id_number",
        "people.User.phone",
        "people.EligibilityVerification.credential_number",
        "people.EligibilityVerification.evidence_note",
        "people.EligibilityVerification.credential_photo",
        "booking.RehabNote.text",
    ):
        assert isinstance(fields[name], EncryptedTextField), name


@pytest.mark.django_db
def test_a_resident_token_reads_own_data_in_clear_only(place, roles):
    """The download is the one place a resident's own values leave in clear: to the resident."""
    stage = build_stage(place, roles)
    life = build_life(stage)
    body = resident_api(life.user).get("/me/data").json()
    assert body["profile"]["id_number"] == life.id_number
    seen = staff_api(stage.desk).get(f"/staff/residents/{life.resident.pk}").json()
    assert seen["id_number_masked"] == masking.mask_id_number(life.id_number)
    assert life.id_number not in str(seen) and life.phone not in str(seen)
