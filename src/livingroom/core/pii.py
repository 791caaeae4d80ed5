"""Personal data at rest: AES-256-GCM field encryption and keyed-hash blind indexes.

* ``encrypt``/``decrypt`` produce ``pii1.<key id>.<base64(nonce|ciphertext)>``; old keys listed in
  ``LIVINGROOM_PII_OLD_KEYS`` still decrypt, so keys can be rotated (see docs/operations.md).
* ``blind_index`` is an HMAC-SHA256 of the normalised value under a key derived from the PII key;
  it serves lookups and unique constraints without storing the value in clear.
* ``EncryptedTextField`` is a model field that stores ciphertext and hands out plaintext.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from functools import lru_cache
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

PREFIX = "pii1"


def _decode_key(raw: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
    except ValueError as exc:  # binascii.Error is a ValueError
        raise ImproperlyConfigured("LIVINGROOM_PII_KEY must be urlsafe base64") from exc
    if len(key) < 32:
        raise ImproperlyConfigured("LIVINGROOM_PII_KEY must hold at least 32 random bytes")
    return key


def _derive(master: bytes, purpose: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(master)


@lru_cache(maxsize=8)
def _keyring(primary: str, old: tuple[str, ...]) -> tuple[str, dict[str, AESGCM], bytes]:
    keys: dict[str, AESGCM] = {}
    primary_id = ""
    for i, raw in enumerate((primary, *old)):
        master = _decode_key(raw)
        key_id = hashlib.sha256(master).hexdigest()[:8]
        keys[key_id] = AESGCM(_derive(master, "livingroom/pii-encryption"))
        if i == 0:
            primary_id = key_id
            index_key = _derive(master, "livingroom/blind-index")
    return primary_id, keys, index_key


def _ring() -> tuple[str, dict[str, AESGCM], bytes]:
    return _keyring(settings.LIVINGROOM_PII_KEY, tuple(settings.LIVINGROOM_PII_OLD_KEYS))


def encrypt(plaintext: str) -> str:
    key_id, keys, _ = _ring()
    nonce = os.urandom(12)
    sealed = keys[key_id].encrypt(nonce, plaintext.encode(), PREFIX.encode())
    return f"{PREFIX}.{key_id}.{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def decrypt(token: str) -> str:
    try:
        prefix, key_id, payload = token.split(".", 2)
    except ValueError as exc:
        raise ValueError("not an encrypted value") from exc
    if prefix != PREFIX:
        raise ValueError("not an encrypted value")
    _, keys, _ = _ring()
    if key_id not in keys:
        raise ValueError(f"no key {key_id} to decrypt this value")
    blob = base64.urlsafe_b64decode(payload)
    return keys[key_id].decrypt(blob[:12], blob[12:], PREFIX.encode()).decode()


def is_encrypted(value: str) -> bool:
    return value.startswith(PREFIX + ".")


def blind_index(value: str, *, purpose: str) -> str:
    """A keyed hash for equality lookups. ``purpose`` separates e.g. phones from ID numbers."""
    _, _, index_key = _ring()
    normalised = value.strip().upper()
    return hmac.new(index_key, f"{purpose}:{normalised}".encode(), hashlib.sha256).hexdigest()


def needs_rotation(token: str) -> bool:
    key_id, _, _ = _ring()
    return is_encrypted(token) and token.split(".", 2)[1] != key_id


class EncryptedTextField(models.TextField):
    """Stores ciphertext; Python code sees plaintext. Empty strings stay empty (nothing to hide).

    Filtering on this field is meaningless (ciphertexts are randomised): pair it with a
    blind-index column for lookups.
    """

    description = "Text encrypted at rest (AES-GCM)"

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        if is_encrypted(value):
            return value
        return encrypt(value)
