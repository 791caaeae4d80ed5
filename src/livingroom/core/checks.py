"""System checks of the platform's own settings (``livingroom check``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, register

from livingroom.core.audit import MIN_RETENTION_DAYS


@register()
def audit_retention(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    days = settings.LIVINGROOM_AUDIT_RETENTION_DAYS
    if days < MIN_RETENTION_DAYS:
        return [
            Error(
                f"LIVINGROOM_AUDIT_RETENTION_DAYS is {days}; audit events must be kept at least "
                f"{MIN_RETENTION_DAYS} days.",
                id="livingroom.E001",
            )
        ]
    return []
