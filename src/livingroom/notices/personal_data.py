"""The messages sent to a resident, for their data download and their erasure (registered with
``people.personal_data`` in ``NoticesConfig.ready``)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from livingroom.notices.models import Notice
from livingroom.people.models import Resident
from livingroom.people.personal_data import register


def export(resident: Resident) -> dict[str, Any]:
    return {
        "notices": [
            {
                "kind": n.kind,
                "params": n.params,
                "link": n.link,
                "created_at": n.created_at.isoformat(),
                "read_at": n.read_at.isoformat() if n.read_at else None,
                "sms_sent_at": n.sms_sent_at.isoformat() if n.sms_sent_at else None,
            }
            for n in Notice.objects.filter(user_id=resident.user_id).order_by("created_at", "id")
        ]
    }


def erase(resident: Resident) -> dict[str, int]:
    """Messages to the person serve no one once the account is closed: deleted."""
    with transaction.atomic(durable=True):
        deleted, _ = Notice.objects.filter(user_id=resident.user_id).delete()
    return {"notices_deleted": deleted}


register("notices", export=export, erase=erase, order=90)  # after the apps that send notices
