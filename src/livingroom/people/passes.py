"""The resident pass token: compact, signed, short-lived, single-use.

``LR1.`` + base64url(resident id: 8 bytes | issued at: 4 bytes | nonce: 12 bytes | HMAC: 16 bytes)

The HMAC-SHA256 key is derived from SECRET_KEY. The token carries no personal data; the nonce is
recorded when a pass is accepted (``PassUse``), so each pass works once.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct
import time
from dataclasses import dataclass

from django.conf import settings
from django.utils.crypto import salted_hmac

PREFIX = "LR1."
_LAYOUT = struct.Struct(">QI12s")


@dataclass(frozen=True)
class PassClaims:
    resident_id: int
    issued_at: int
    nonce: str


def _mac(body: bytes) -> bytes:
    key = salted_hmac("livingroom.people.pass", "pass-key", secret=settings.SECRET_KEY).digest()
    return hmac.new(key, body, hashlib.sha256).digest()[:16]


def encode(resident_id: int, issued_at: int) -> str:
    body = _LAYOUT.pack(resident_id, issued_at, os.urandom(12))
    return PREFIX + base64.urlsafe_b64encode(body + _mac(body)).decode().rstrip("=")


def decode(token: str) -> PassClaims | None:
    """The claims of a genuine token, or None for anything malformed or forged."""
    if not isinstance(token, str) or not token.startswith(PREFIX) or len(token) > 80:
        return None
    raw = token[len(PREFIX) :]
    try:
        blob = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
    except (binascii.Error, ValueError):
        return None
    if len(blob) != _LAYOUT.size + 16:
        return None
    body, mac = blob[: _LAYOUT.size], blob[_LAYOUT.size :]
    if not hmac.compare_digest(mac, _mac(body)):
        return None
    resident_id, issued_at, nonce = _LAYOUT.unpack(body)
    return PassClaims(resident_id=resident_id, issued_at=issued_at, nonce=nonce.hex())


def fresh_claims(token: str, *, shown_at: float | None = None) -> PassClaims:
    """The claims of a genuine pass that was fresh when shown (``shown_at``, Unix seconds; now by
    default), or the refusal: ``pass_invalid`` / ``pass_expired``."""
    from livingroom.people import errors

    claims = decode((token or "").strip())
    if claims is None:
        raise errors.PassInvalid(field="token")
    age = (time.time() if shown_at is None else shown_at) - claims.issued_at
    if age > settings.LIVINGROOM_PASS_TTL or age < -5:
        raise errors.PassExpired(field="token")
    return claims
