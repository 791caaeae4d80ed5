"""What points hold about a resident, for their data download (registered with
``people.personal_data`` in ``PointsConfig.ready``). An erasure changes nothing here: the ledger is
append-only and keeps its entries, whose account now belongs to the anonymised person; the
balance lapses with the points' validity (``points_expire``)."""

from __future__ import annotations

from typing import Any

from livingroom.people.models import Resident
from livingroom.people.personal_data import register
from livingroom.points.models import Account, Entry, Redemption


def export(resident: Resident) -> dict[str, Any]:
    accounts = Account.objects.filter(resident=resident).select_related("community").order_by("id")
    return {
        "accounts": [
            {"community": a.community.name, "balance": a.balance, "created_at": a.created_at.isoformat()}
            for a in accounts
        ],
        "entries": [
            {
                "community": e.account.community.name,
                "kind": e.kind,
                "amount": e.amount,
                "balance_after": e.balance_after,
                "reason": e.reason,
                "at": e.created_at.isoformat(),
            }
            for e in Entry.objects.filter(account__resident=resident)
            .select_related("account__community")
            .order_by("created_at", "id")
        ],
        "redemptions": [
            {
                "reward": r.reward.name,
                "quantity": r.quantity,
                "points": r.points,
                "channel": r.channel,
                "status": r.status,
                "at": r.occurred_at.isoformat(),
            }
            for r in Redemption.objects.filter(account__resident=resident)
            .select_related("reward")
            .order_by("occurred_at", "id")
        ],
    }


register("points", export=export)
