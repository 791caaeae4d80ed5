"""Request signing for devices (vending machines, kiosks, counters, canteen terminals).

A device sends these headers with every request::

    X-Device-Key:  the device's public key id
    X-Timestamp:   Unix seconds
    X-Nonce:       16–64 random characters, never reused
    X-Signature:   hex HMAC-SHA256(secret, canonical_string)

where ``canonical_string`` is ``METHOD\\nPATH?QUERY\\nTIMESTAMP\\nNONCE\\nSHA256_HEX(BODY)``.
The server accepts a timestamp within the window (5 minutes by default) and a nonce it has not
seen from that device; a replayed request is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from livingroom.core.errors import NotAuthenticated
from livingroom.core.models import RequestNonce

_DIGITS = re.compile(r"[0-9]{1,1000}")
_NONCE = re.compile(r"[0-9A-Za-z]{16,64}")
_HEX64 = re.compile(r"[0-9a-f]{64}")


def canonical_string(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    return "\n".join([method.upper(), path, timestamp, nonce, hashlib.sha256(body).hexdigest()])


def sign(secret: str, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    message = canonical_string(method, path, timestamp, nonce, body)
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def signed_headers(secret: str, key_id: str, method: str, path: str, body: bytes = b"") -> dict[str, str]:
    """What a device (or a test, or the benchmark) sends."""
    timestamp = str(int(time.time()))
    nonce = secrets.token_hex(16)
    return {
        "X-Device-Key": key_id,
        "X-Timestamp": timestamp,
        "X-Nonce": nonce,
        "X-Signature": sign(secret, method, path, timestamp, nonce, body),
    }


def verify(
    *,
    secret: str,
    scope: str,
    method: str,
    path: str,
    body: bytes,
    timestamp: str,
    nonce: str,
    signature: str,
) -> None:
    """Raises ``NotAuthenticated`` with a specific code unless the request is fresh and genuine."""
    # Headers are text from the open network: only ASCII of the documented shapes goes further.
    if not _DIGITS.fullmatch(timestamp or "") or not _NONCE.fullmatch(nonce or ""):
        raise NotAuthenticated(_("The request is not signed correctly."), code="signature_invalid")
    expected = sign(secret, method, path, timestamp, nonce, body)
    given = (signature or "").lower()
    if not _HEX64.fullmatch(given) or not hmac.compare_digest(expected, given):
        raise NotAuthenticated(_("The request signature does not match."), code="signature_invalid")
    if abs(int(time.time()) - int(timestamp)) > settings.LIVINGROOM_DEVICE_SIGNATURE_WINDOW:
        raise NotAuthenticated(
            _("The request timestamp is outside the allowed window; check the device clock."),
            code="signature_expired",
        )
    try:
        with transaction.atomic():
            RequestNonce.objects.create(scope=scope, nonce=nonce)
    except IntegrityError:
        raise NotAuthenticated(_("This request was already received."), code="request_replayed") from None
