"""Audit events: ``audit_log("people.resident.profile_updated", actor=user, obj=resident, data={...})``."""

from __future__ import annotations

from typing import Any

from django.db import models

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
