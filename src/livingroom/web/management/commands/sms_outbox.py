from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from livingroom.core.formatting import format_datetime
from livingroom.core.masking import mask_phone
from livingroom.people.models import SmsOutbox


class Command(BaseCommand):
    help = "Shows the latest messages of the outbox SMS backend (development)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("-n", type=int, default=10)

    def handle(self, *args: Any, **options: Any) -> None:
        for m in SmsOutbox.objects.all()[: options["n"]]:
            self.stdout.write(f"{format_datetime(m.created_at)}  {mask_phone(m.phone)}  {m.body}")
