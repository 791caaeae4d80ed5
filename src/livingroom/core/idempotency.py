"""Idempotency keys for writes from devices and apps.

``run_idempotent(scope=..., key=..., payload=..., action=fn)`` runs ``action`` once per
(scope, key), inside one transaction with the record of its answer. A replay with the same
payload returns the first answer; the same key with another payload is refused. Two concurrent
requests with one key cannot both act: the unique constraint makes the second one roll back and
return the first one's answer.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from livingroom.core.errors import Conflict, DomainError, InvalidInput
from livingroom.core.models import IdempotencyRecord

MAX_KEY_LENGTH = 100


def fingerprint(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def validate_key(key: str | None) -> str:
    key = (key or "").strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidInput(
            _("An Idempotency-Key header (1–100 printable characters) is required."),
            code="idempotency_key_required",
            field="Idempotency-Key",
        )
    return key


def _replay(record: IdempotencyRecord, print_: str) -> tuple[int, Any, bool]:
    if record.fingerprint != print_:
        raise Conflict(
            _("This idempotency key was already used for a different request."), code="idempotency_key_reused"
        )
    return record.status_code, record.response, True


def run_idempotent(
    *,
    scope: str,
    key: str,
    payload: Any,
    action: Callable[[], tuple[int, Any]],
    keep_refusals: bool = False,
) -> tuple[int, Any, bool]:
    """Returns ``(status, body, replayed)``. ``action`` returns ``(status, json-able body)``.

    The key is claimed first, in the same transaction as the action: a concurrent request with
    the same key waits on the unique index until the first one commits, then replays its answer
    (it never runs the action on a state the first one changed). With ``keep_refusals`` a
    ``DomainError`` raised by the action is kept as the answer too (its effects rolled back), so
    a retry of a refused device request gets the same refusal; otherwise it leaves no record.
    """
    key = validate_key(key)
    print_ = fingerprint(payload)
    existing = IdempotencyRecord.objects.filter(scope=scope, key=key).first()
    if existing is not None:
        return _replay(existing, print_)
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(
                scope=scope, key=key, fingerprint=print_, status_code=0, response={}
            )
            try:
                with transaction.atomic():
                    status, body = action()
            except DomainError as exc:
                if not keep_refusals:
                    raise
                status, body = exc.status, exc.as_dict()
            record.status_code, record.response = status, body
            record.save(update_fields=["status_code", "response"])
            return status, body, False
    except IntegrityError:
        existing = IdempotencyRecord.objects.filter(scope=scope, key=key).first()
        if existing is None:
            raise
        return _replay(existing, print_)
