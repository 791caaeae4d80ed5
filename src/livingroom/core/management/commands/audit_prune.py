from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from livingroom.core.audit import audit_prune, audit_retention_days


class Command(BaseCommand):
    help = "Deletes audit events older than LIVINGROOM_AUDIT_RETENTION_DAYS (never younger than 184 days)."

    def handle(self, *args: Any, **options: Any) -> None:
        deleted = audit_prune()
        self.stdout.write(f"audit events older than {audit_retention_days()} days deleted: {deleted}")
