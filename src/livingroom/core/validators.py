"""Validators for Chinese identifiers: python-stdnum and phonenumbers, never hand-rolled."""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass

import phonenumbers
from django.utils.translation import gettext_lazy as _
from stdnum import exceptions as stdnum_exc
from stdnum import numdb
from stdnum.cn import ric, uscc

from livingroom.core.errors import InvalidInput


def normalize_phone(raw: str, *, field: str = "phone") -> str:
    """A mainland mobile number as 11 digits (``13812341234``), or ``invalid_phone``."""
    text = (raw or "").strip()
    if not text or len(text) > 32:
        raise InvalidInput(
            _("Enter a valid mainland China mobile number."), code="invalid_phone", field=field
        )
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException as exc:
        raise InvalidInput(
            _("Enter a valid mainland China mobile number."), code="invalid_phone", field=field
        ) from exc
    if (
        number.country_code != 86
        or not phonenumbers.is_valid_number(number)
        or phonenumbers.number_type(number)
        not in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
    ):
        raise InvalidInput(
            _("Enter a valid mainland China mobile number."), code="invalid_phone", field=field
        )
    return str(number.national_number)


def _region_known(number: str) -> bool:
    """The first six digits name a county in python-stdnum's table (at any time: a number keeps
    the code it was issued with, so we do not require the county to exist in the birth year)."""
    parts = numdb.get("cn/loc").info(number[:6])
    return len(parts) == 2 and all(props for _, props in parts)


@dataclass(frozen=True)
class IdNumber:
    number: str
    birth_date: dt.date
    sex: str  # "M" or "F"


def parse_id_number(raw: str, *, field: str = "id_number", today: dt.date | None = None) -> IdNumber:
    """A resident ID card number (18 digits, check digit verified), with birth date and sex."""
    text = ric.compact((raw or "").strip().upper())
    if len(text) != 18 or not text[:17].isdigit() or not (text[17].isdigit() or text[17] == "X"):
        raise InvalidInput(
            _("An ID number has 18 characters: 17 digits and a digit or X."),
            code="id_number_format",
            field=field,
        )
    if text[-1] != ric.calc_check_digit(text):
        raise InvalidInput(
            _("The ID number's check digit is wrong; please check the number."),
            code="id_number_checksum",
            field=field,
        )
    try:
        ric.get_birth_date(text)
    except stdnum_exc.InvalidComponent as exc:
        raise InvalidInput(
            _("The birth date in this ID number is not a real date."),
            code="id_number_birth_date",
            field=field,
        ) from exc
    if not _region_known(text):
        raise InvalidInput(
            _("The region code in this ID number does not exist."), code="id_number_region", field=field
        )
    number = text
    birth = ric.get_birth_date(number)
    today = today or dt.date.today()
    if birth > today or birth.year < today.year - 130:
        raise InvalidInput(
            _("The birth date in this ID number is not possible."), code="id_number_birth_date", field=field
        )
    sex = "M" if int(number[16]) % 2 == 1 else "F"
    return IdNumber(number=number, birth_date=birth, sex=sex)


def normalize_uscc(raw: str, *, field: str = "uscc") -> str:
    """A unified social credit code (organisations), check character verified."""
    try:
        return str(uscc.validate((raw or "").strip().upper()))
    except stdnum_exc.ValidationError as exc:
        raise InvalidInput(
            _("Enter a valid unified social credit code."), code="invalid_uscc", field=field
        ) from exc


MAX_DB_ID = 2**63 - 1  # the largest value a bigint primary key can hold on any supported database


def parse_id(value: str | None) -> int | None:
    """A row id from a query string (``?street=12``), or None when absent, malformed or out of range."""
    text = (value or "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 19:
        return None
    number = int(text)
    return number if 1 <= number <= MAX_DB_ID else None


def search_text(raw: str | None, *, max_length: int = 50) -> str:
    """What a search box sent, made safe to query with: full-width letters and digits folded
    (NFKC), control characters (NUL among them) dropped, trimmed and shortened."""
    text = unicodedata.normalize("NFKC", raw or "")
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cc")
    return text.strip()[:max_length]
