"""Every kind of notice and its words. Apps register theirs; a notice is rendered when shown.

``register("booking.confirmed", title=_("Booking confirmed"), body=_("%(space)s, %(when)s"))``
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class NoticeKind:
    title: str | Promise
    body: str | Promise


_KINDS: dict[str, NoticeKind] = {}
_FALLBACK = NoticeKind(title=_("Message"), body="")


def register(kind: str, *, title: str | Promise, body: str | Promise) -> None:
    _KINDS[kind] = NoticeKind(title=title, body=body)


def render(kind: str, params: dict[str, Any]) -> tuple[str, str]:
    """(title, body) in the active language; a missing parameter never breaks the page."""
    entry = _KINDS.get(kind, _FALLBACK)
    safe = _Defaulting(params)
    return str(entry.title) % safe, str(entry.body) % safe


class _Defaulting(dict):  # type: ignore[type-arg]
    def __missing__(self, key: str) -> str:
        return "…"
