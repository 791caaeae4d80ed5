from __future__ import annotations

from typing import Any

import pyotp
from django.core.management.base import BaseCommand, CommandError, CommandParser

from livingroom.people.models import User


class Command(BaseCommand):
    help = "Prints the current TOTP code of a staff account (for demo and development sign-in)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"]).first()
        if user is None or not user.totp_secret:
            raise CommandError("No staff account with a TOTP secret by that name.")
        self.stdout.write(pyotp.TOTP(user.totp_secret).now())
