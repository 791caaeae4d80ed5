from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from livingroom.notices import catalogue
from livingroom.notices.models import Notice
from livingroom.people.models import User


@dataclass(frozen=True)
class RenderedNotice:
    id: int
    kind: str
    title: str
    body: str
    link: str
    created_at: dt.datetime
    read: bool


def notices_of(user: User, *, limit: int = 50) -> list[RenderedNotice]:
    rows = Notice.objects.filter(user=user).order_by("-created_at", "-id")[:limit]
    out = []
    for n in rows:
        title, body = catalogue.render(n.kind, n.params)
        out.append(RenderedNotice(n.pk, n.kind, title, body, n.link, n.created_at, n.read_at is not None))
    return out


def unread_count(user: User) -> int:
    return Notice.objects.filter(user=user, read_at__isnull=True).count()
