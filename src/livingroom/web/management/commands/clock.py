"""Every clock of the platform in one loop: bookings (no-shows, reminders, lapsed requests),
courses (opening draws, lapsed offers, reminders), volunteer shifts (reminders), residents'
requests (overdue flags, escalation, closing unrated ones), meals (uncollected orders, credential
reminders) and erasure requests whose cooling-off has passed.

``livingroom clock`` runs one pass; ``--loop 15`` repeats every 15 s until stopped (``make run``
starts it beside the development server). A failed pass is logged and the loop goes on.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from livingroom.booking.services import booking_tick
from livingroom.meals.services import meals_tick
from livingroom.people.services import erasure_tick
from livingroom.programs.services import programs_tick
from livingroom.voice.services import voice_tick
from livingroom.volunteering.services import volunteering_tick

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Run the booking, course, volunteering and voice clocks once, or every N seconds with --loop N."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--loop", type=int, default=0, help="repeat every N seconds until stopped")

    def handle(self, *args: Any, **options: Any) -> None:
        while True:
            for name, tick in (
                ("booking", booking_tick),
                ("programs", programs_tick),
                ("volunteering", volunteering_tick),
                ("voice", voice_tick),
                ("meals", meals_tick),
                ("erasure", erasure_tick),
            ):
                try:
                    result = tick()
                except Exception:
                    if not options["loop"]:
                        raise
                    logger.exception("%s clock pass failed; trying again in %s s", name, options["loop"])
                    close_old_connections()
                    continue
                counts = result if isinstance(result, dict) else vars(result)
                if any(counts.values()) or options["verbosity"] > 1:
                    self.stdout.write(f"{name}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
            if not options["loop"]:
                return
            time.sleep(options["loop"])
