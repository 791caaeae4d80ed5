from __future__ import annotations

import getpass
import io
from typing import Any

import segno
from django.core.management.base import BaseCommand, CommandError, CommandParser

from livingroom.core.errors import DomainError
from livingroom.people import services
from livingroom.people.models import StaffRole


class Command(BaseCommand):
    help = "Creates a member of staff with a role and prints the TOTP enrolment QR code to scan."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=StaffRole.Role.values)
        parser.add_argument(
            "--place",
            default="",
            help="street code, community code, community code of the "
            "center, or organisation name, as the role needs",
        )
        parser.add_argument("--name", default="", help="display name")
        parser.add_argument("--password", default="", help="omit to be asked")

    def handle(self, *args: Any, **options: Any) -> None:
        password = options["password"] or getpass.getpass("Password: ")
        try:
            user, uri = services.staff_create(
                username=options["username"],
                password=password,
                role=options["role"],
                place=options["place"],
                display_name=options["name"],
            )
        except DomainError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from exc
        self.stdout.write(
            self.style.SUCCESS(f"Created {user.username}. Scan this with an authenticator app:")
        )
        buffer = io.StringIO()
        segno.make(uri, error="m").terminal(out=buffer, compact=True)
        self.stdout.write(buffer.getvalue())
        self.stdout.write(uri)
