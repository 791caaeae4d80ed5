"""Reads of the core tables: the audit log, for district officials and auditors."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from livingroom.core.errors import PermissionDenied
from livingroom.core.models import AuditEvent
from livingroom.core.scopes import StaffScope


def audit_events(
    *,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    action: str = "",
    actor: str = "",
    result: str = "",
) -> QuerySet[AuditEvent]:
    """Events between two local dates (inclusive), newest first. ``action`` matches a prefix
    (``people.`` or ``people.staff_login``); ``actor`` the start of the actor's label."""
    events = AuditEvent.objects.all()
    tz = timezone.get_current_timezone()
    if date_from:
        events = events.filter(at__gte=dt.datetime.combine(date_from, dt.time.min, tzinfo=tz))
    if date_to:
        events = events.filter(
            at__lt=dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
        )
    if action:
        events = events.filter(action__startswith=action)
    if actor:
        events = events.filter(actor_label__startswith=actor)
    if result:
        events = events.filter(result=result)
    return events.order_by("-at", "-id")


def audit_events_for(scope: StaffScope, **filters: Any) -> QuerySet[AuditEvent]:
    """The audit log as a member of staff may read it: district officials (the auditors) only."""
    if not scope.district:
        raise PermissionDenied()
    return audit_events(**filters)


def audit_record(event: AuditEvent) -> dict[str, Any]:
    """One event as exported: time (ISO, local), actor, event, object and result."""
    return {
        "id": event.pk,
        "at": timezone.localtime(event.at).isoformat(),
        "actor_kind": event.actor_kind,
        "actor": event.actor_label,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "result": event.result,
        "ip": event.ip or "",
        "request_id": event.request_id,
        "data": event.data,
    }


def audit_records(events: QuerySet[AuditEvent]) -> Iterator[dict[str, Any]]:
    for event in events.iterator(chunk_size=2000):
        yield audit_record(event)
