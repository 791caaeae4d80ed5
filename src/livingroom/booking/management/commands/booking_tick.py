"""The booking clock: release no-shows, suspend repeat no-shows, send reminders, lapse requests.

Run it every minute (cron or a systemd timer: ``livingroom booking_tick``), or keep it running
with ``--loop 60``; ``make run`` starts the loop beside the development server. Each step is
idempotent, so two clocks running at once do no harm.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from livingroom.booking.services import booking_tick

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Release no-shows, send reminders and lapse undecided requests (run every minute)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--loop", type=int, default=0, help="repeat every N seconds until stopped")

    def handle(self, *args: Any, **options: Any) -> None:
        while True:
            try:
                result = booking_tick()
            except Exception:
                if not options["loop"]:
                    raise
                # One failed pass (a locked database, a lost connection) must not stop the clock.
                logger.exception("booking tick failed; trying again in %s s", options["loop"])
                close_old_connections()
            else:
                if result.released or result.reminded or result.expired or options["verbosity"] > 1:
                    self.stdout.write(
                        f"released {result.released}, reminded {result.reminded}, lapsed {result.expired}"
                    )
            if not options["loop"]:
                return
            time.sleep(options["loop"])
