"""Money is integer fen; time is stored in UTC and shown in Asia/Shanghai as 2026-11-26 14:30."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone


def format_fen(fen: int | None) -> str:
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    return f"{sign}¥{abs(fen) // 100}.{abs(fen) % 100:02d}"


def fen_to_yuan(fen: int) -> Decimal:
    """Integer fen as a yuan number with two decimals (a form's initial value, a spreadsheet cell)."""
    return (Decimal(fen) / 100).quantize(Decimal("0.01"))


def yuan_to_fen(yuan: str | int | Decimal) -> int:
    return int((Decimal(str(yuan)) * 100).quantize(Decimal(1)))


def format_datetime(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


def format_date(value: dt.date | None) -> str:
    return value.strftime("%Y-%m-%d") if value else ""


def format_percent(ratio: float | Decimal | None, digits: int = 1) -> str:
    if ratio is None:
        return "—"
    return f"{float(ratio) * 100:.{digits}f}%"


def local_today() -> dt.date:
    return timezone.localdate()
