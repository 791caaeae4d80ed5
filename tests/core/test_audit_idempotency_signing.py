import time

import pytest
from django.db import DatabaseError, connection, transaction

from livingroom.core import signing
from livingroom.core.audit import audit_log
from livingroom.core.errors import Conflict, InvalidInput, NotAuthenticated
from livingroom.core.idempotency import run_idempotent
from livingroom.core.models import AppendOnlyError, AuditEvent, IdempotencyRecord


@pytest.mark.django_db
def test_audit_events_are_append_only():
    event = audit_log("test.thing", data={"x": 1})
    event.action = "changed"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError), transaction.atomic():
            AuditEvent.objects.filter(pk=event.pk).update(action="sneaky")
        with pytest.raises(DatabaseError), transaction.atomic():
            AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.get(pk=event.pk).action == "test.thing"


@pytest.mark.django_db
def test_idempotent_replay_and_reuse():
    calls = []

    def action():
        calls.append(1)
        return 201, {"ok": len(calls)}

    assert run_idempotent(scope="s", key="k1", payload={"a": 1}, action=action) == (201, {"ok": 1}, False)
    assert run_idempotent(scope="s", key="k1", payload={"a": 1}, action=action) == (201, {"ok": 1}, True)
    with pytest.raises(Conflict) as exc:
        run_idempotent(scope="s", key="k1", payload={"a": 2}, action=action)
    assert exc.value.code == "idempotency_key_reused"
    assert run_idempotent(scope="other", key="k1", payload={"a": 2}, action=action)[2] is False
    assert len(calls) == 2
    for bad in ["", " ", "x" * 101, "bad\nkey"]:
        with pytest.raises(InvalidInput):
            run_idempotent(scope="s", key=bad, payload={}, action=action)


@pytest.mark.django_db
def test_a_failed_action_leaves_no_record():
    def action():
        AuditEvent.objects.create(action="half-written")
        raise InvalidInput(code="nope")

    with pytest.raises(InvalidInput):
        run_idempotent(scope="s", key="k2", payload={}, action=action)
    assert (
        not IdempotencyRecord.objects.exists()
        and not AuditEvent.objects.filter(action="half-written").exists()
    )


@pytest.mark.django_db
def test_signature_checks():
    secret = "s3cret"
    body = b'{"token": "x"}'
    headers = signing.signed_headers(secret, "dev_1", "POST", "/api/v1/devices/passes/verify", body)
    args = dict(
        secret=secret,
        scope="device:1",
        method="POST",
        path="/api/v1/devices/passes/verify",
        body=body,
        timestamp=headers["X-Timestamp"],
        nonce=headers["X-Nonce"],
        signature=headers["X-Signature"],
    )
    signing.verify(**args)
    with pytest.raises(NotAuthenticated) as exc:
        signing.verify(**args)
    assert exc.value.code == "request_replayed"
    fresh = signing.signed_headers(secret, "dev_1", "POST", "/api/v1/devices/passes/verify", body)
    base = dict(args, timestamp=fresh["X-Timestamp"], nonce=fresh["X-Nonce"], signature=fresh["X-Signature"])
    for change, code in [
        ({"body": b"{}"}, "signature_invalid"),
        ({"path": "/other"}, "signature_invalid"),
        ({"secret": "wrong"}, "signature_invalid"),
        ({"nonce": "short"}, "signature_invalid"),
        ({"timestamp": "abc"}, "signature_invalid"),
    ]:
        with pytest.raises(NotAuthenticated) as exc:
            signing.verify(**{**base, **change})
        assert exc.value.code == code
    stale_ts = str(int(time.time()) - 600)
    nonce = "a" * 32
    stale = signing.sign(secret, "POST", "/p", stale_ts, nonce, b"")
    with pytest.raises(NotAuthenticated) as exc:
        signing.verify(
            secret=secret,
            scope="d",
            method="POST",
            path="/p",
            body=b"",
            timestamp=stale_ts,
            nonce=nonce,
            signature=stale,
        )
    assert exc.value.code == "signature_expired"
