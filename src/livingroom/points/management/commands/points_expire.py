"""Expires points earned longer ago than ``LIVINGROOM_POINTS_VALID_DAYS`` (0: never), oldest first
(``points.services.points_expire``). Run it daily (cron: ``livingroom points_expire``); running it
twice expires nothing more.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from livingroom.points.services import points_expire


class Command(BaseCommand):
    help = "Expire points older than LIVINGROOM_POINTS_VALID_DAYS (or --days N), oldest first."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--days", type=int, default=None, help="points valid this many days (default: setting)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        written = points_expire(valid_days=options["days"])
        self.stdout.write(f"expiry entries written: {written}")
