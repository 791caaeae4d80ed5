from __future__ import annotations

import os
from typing import Any

import pyotp
from django.core.management.base import BaseCommand, CommandParser

from livingroom.web.demo.loader import (
    DEMO_PASSWORD,
    DEMO_RESIDENTS,
    DEMO_STAFF,
    is_loaded,
    load_demo,
    totp_secret_for,
)


class Command(BaseCommand):
    help = "Loads the demo district (Bao'an: 10 sub-districts, 124 communities, staff, residents)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--if-empty", action="store_true", help="Do nothing when places already exist.")
        parser.add_argument("--residents", type=int, default=300)

    def handle(self, *args: Any, **options: Any) -> None:
        if is_loaded():
            if options["if_empty"]:
                self.stdout.write("Demo district already loaded.")
                print_signins(self.stdout)
                return
            self.stderr.write("The database already holds places; use a fresh database.")
            raise SystemExit(1)
        result = load_demo(residents=options["residents"])
        self.stdout.write(self.style.SUCCESS("Loaded the demo district."))
        for key_id, secret in result["devices"].items():  # type: ignore[attr-defined]
            self.stdout.write(f"  device {key_id}  secret {secret}")
        print_signins(self.stdout)


def print_signins(out: Any) -> None:
    base = f"http://{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
    out.write("\nDemo sign-ins")
    out.write(
        f"  Residents: {base}/login/  phone "
        + ", ".join(p for p, *_ in DEMO_RESIDENTS)
        + "  (the code is in the SMS outbox: /dev/sms/ or `livingroom sms_outbox`)"
    )
    out.write(f"  Staff:     {base}/console/login/  password {DEMO_PASSWORD}")
    out.write("             + the current TOTP code: `livingroom demo_totp USERNAME`")
    for username in [a.username for a in DEMO_STAFF] + ["admin"]:
        secret = totp_secret_for(username)
        out.write(f"    {username:<9} TOTP secret {secret}  (now: {pyotp.TOTP(secret).now()})")
