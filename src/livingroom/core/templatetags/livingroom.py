"""Template filters shared by every page: money, dates, percentages, masks, labels."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _

from livingroom.core import formatting, masking

register = template.Library()


@register.filter
def fen(value: int | None) -> str:
    return formatting.format_fen(value)


@register.filter
def percent(value: float | None) -> str:
    return formatting.format_percent(value)


@register.filter
def pct_number(value: float | None) -> str:
    """0.22 -> "22.0", for CSS widths."""
    return f"{max(0.0, min(float(value or 0), 1.0)) * 100:.1f}"


@register.filter
def datetime_local(value: dt.datetime | None) -> str:
    return formatting.format_datetime(value)


@register.filter
def date_iso(value: dt.date | None) -> str:
    return formatting.format_date(value)


@register.filter
def mask(value: str | None, kind: str) -> str:
    return masking.mask(value, kind)  # type: ignore[arg-type]


@register.filter
def in_use(spaces: Any) -> list:
    today = timezone.localdate()
    return [s for s in spaces if s.in_use_on(today)]


@register.filter
def public_only(spaces: Any) -> list:
    return [s for s in spaces if not s.is_office]


@register.filter
def eligibility_label(kind: str) -> str:
    labels = {
        "elderly_60": _("Elderly (60+)"),
        "elderly_70": _("Elderly (70+)"),
        "elderly_80": _("Elderly (80+)"),
        "rider": _("Delivery rider / courier"),
        "disabled": _("Disabled"),
        "low_income": _("Low income / special hardship"),
        "park_worker": _("Industrial-park worker"),
    }
    return str(labels.get(kind, kind))


@register.filter
def hours_on_weekday(opening_hours: Any, weekday: int | None = None) -> str:
    """ "09:00–21:00" for today (or ``weekday``), "" when closed."""
    day = timezone.localdate().weekday() if weekday is None else weekday
    periods = [h for h in opening_hours if h.weekday == day]
    return ", ".join(f"{h.opens:%H:%M}–{h.closes:%H:%M}" for h in periods)
