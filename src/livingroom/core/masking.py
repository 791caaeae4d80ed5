"""The one masking function for personal data: pages, exports, logs and the API use it.

mask_name("张三")                 -> "张*"
mask_id_number("44030619900101123X") -> "4403**********123X"
mask_phone("13812341234")         -> "138****1234"
"""

from __future__ import annotations

import re
from typing import Literal

Kind = Literal["name", "id_number", "phone", "certificate", "text"]

ID_RE = re.compile(r"(?<![0-9])([1-9][0-9]{5})(18|19|20)([0-9]{2})([0-9]{7})([0-9Xx])(?![0-9A-Za-z])")
PHONE_RE = re.compile(r"(?<![0-9])(?:\+?86[- ]?)?(1[3-9][0-9])([0-9]{4})([0-9]{4})(?![0-9])")


def mask_name(value: str) -> str:
    value = (value or "").strip()
    if not value:
        return ""
    if value.isascii() and " " in value:  # "Li Wei" -> "L* W*"
        return " ".join(part[:1] + "*" * max(len(part) - 1, 1) for part in value.split())
    return value[0] + "*" * max(len(value) - 1, 1)


def mask_id_number(value: str) -> str:
    value = (value or "").strip()
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_phone(value: str) -> str:
    digits = re.sub(r"\D", "", value or "")
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if len(digits) < 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_certificate(value: str) -> str:
    value = (value or "").strip()
    if len(value) <= 4:
        return "*" * len(value)
    return "*" * (len(value) - 4) + value[-4:]


def mask_text(value: str) -> str:
    """Masks every ID number and mobile number found in free text (logs, notes)."""
    value = ID_RE.sub(lambda m: mask_id_number(m.group(0)), value)
    return PHONE_RE.sub(lambda m: m.group(1) + "****" + m.group(3), value)


def mask(value: str | None, kind: Kind) -> str:
    if value is None:
        return ""
    return {
        "name": mask_name,
        "id_number": mask_id_number,
        "phone": mask_phone,
        "certificate": mask_certificate,
        "text": mask_text,
    }[kind](value)
