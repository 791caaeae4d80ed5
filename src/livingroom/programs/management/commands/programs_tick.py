"""The courses clock: opening draws that are due, offered seats that lapsed, session reminders.

Run it every minute (cron: ``livingroom programs_tick``) or use ``livingroom clock --loop 15``,
which runs every clock of the platform; ``make run`` starts that beside the development server.
Each step is idempotent, so two clocks running at once do no harm.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from livingroom.programs.services import programs_tick


class Command(BaseCommand):
    help = "Make due opening draws, lapse offered seats, send session reminders (run every minute)."

    def handle(self, *args: Any, **options: Any) -> None:
        result = programs_tick()
        if result.draws or result.offers_expired or result.reminders or options["verbosity"] > 1:
            self.stdout.write(
                f"draws {result.draws}, offers lapsed {result.offers_expired}, reminders {result.reminders}"
            )
