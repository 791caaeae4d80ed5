"""Audit events: ``audit_log("people.resident.profile_updated", actor=user, obj=resident, data={...})``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from livingroom.core import context
from livingroom.core.models import AuditEvent


def audit_log(
    action: str,
    *,
    actor: Any = None,
    obj: models.Model | None = None,
    data: dict[str, Any] | None = None,
    device: Any = None,
    result: str = "ok",
) -> AuditEvent:
    ctx = context.current()
    if device is not None:
        kind, label, user = AuditEvent.ActorKind.DEVICE, f"device:{device.pk}", None
    elif actor is not None and getattr(actor, "is_authenticated", False):
        kind, label, user = AuditEvent.ActorKind.USER, actor.audit_label(), actor
    else:
        kind, label, user = AuditEvent.ActorKind.SYSTEM, "system", None
    return AuditEvent.objects.create(
        action=action,
        actor_kind=kind,
        actor=user,
        actor_label=label,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        result=result,
        data=data or {},
        ip=ctx.ip,
        request_id=ctx.request_id,
    )


# The legal floor: multi-level protection 2.0 (level 3) keeps audit records at least 184 days.
MIN_RETENTION_DAYS = 184


def audit_retention_days() -> int:
    from django.conf import settings

    return max(int(settings.LIVINGROOM_AUDIT_RETENTION_DAYS), MIN_RETENTION_DAYS)


def audit_prune(*, now: dt.datetime | None = None) -> int:
    """Deletes audit events older than the configured retention (never younger than 184 days;
    PostgreSQL's trigger refuses that too). Returns how many were deleted; the prune is itself
    recorded."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=audit_retention_days())
    with transaction.atomic(durable=True):
        deleted, _ = AuditEvent.objects.filter(at__lt=cutoff).delete()
        audit_log("core.audit.pruned", data={"before": cutoff.isoformat(), "deleted": deleted})
    return deleted


def audit_export_recorded(*, actor: Any = None, events: int, filters: dict[str, Any], via: str) -> AuditEvent:
    """An export of the audit log is itself an audit event (who took which events, and how)."""
    with transaction.atomic():
        return audit_log(
            "core.audit.exported",
            actor=actor,
            data={"events": events, "filters": {k: str(v) for k, v in filters.items() if v}, "via": via},
        )
