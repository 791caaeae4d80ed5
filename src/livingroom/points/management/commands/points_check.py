"""Checks the books: every account's cached balance equals the sum of its ledger entries and every
reward's stock equals the sum of its stock moves (``points.services.ledger_check``).

``livingroom points_check`` prints ``ledger OK: N accounts, M rewards`` and exits 0, or prints each
problem and exits 1 (for cron and monitoring).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from livingroom.points.models import Account, Reward
from livingroom.points.services import ledger_check


class Command(BaseCommand):
    help = "Check that every points balance equals its entries and every stock its moves; exit 1 if not."

    def handle(self, *args: Any, **options: Any) -> None:
        problems = ledger_check()
        for p in problems:
            if p.what == "account":
                self.stdout.write(f"account {p.object_id}: balance {p.cached}, entries sum to {p.summed}")
            else:
                self.stdout.write(f"reward {p.object_id}: stock {p.cached}, moves sum to {p.summed}")
        if problems:
            raise CommandError(f"{len(problems)} ledger problem(s)", returncode=1)
        self.stdout.write(f"ledger OK: {Account.objects.count()} accounts, {Reward.objects.count()} rewards")
