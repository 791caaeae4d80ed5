"""``livingroom backup [--output PATH]``: the whole database in one archive (docs/operations.md).

Reads every table in one consistent snapshot while the site keeps running; encrypted personal
data stays encrypted, and the keys (``LIVINGROOM_PII_KEY``, ``DJANGO_SECRET_KEY``) are not inside.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone

from livingroom.core.backup import BackupError, write_backup


class Command(BaseCommand):
    help = "Back up the database to one .tar.gz archive (mode 0600) with a checksummed manifest."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output",
            "-o",
            help="Where to write the archive (default: var/backups/livingroom-<vendor>-<UTC time>.tar.gz).",
        )
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args: Any, **options: Any) -> None:
        vendor = connections[options["database"]].vendor
        if options["output"]:
            path = Path(options["output"])
        else:
            stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
            folder = Path(settings.VAR_DIR) / "backups"
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            path = folder / f"livingroom-{vendor}-{stamp}.tar.gz"
        if path.exists():
            raise CommandError(f"{path} already exists; choose another --output")
        try:
            manifest = write_backup(path, using=options["database"])
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        for name in manifest.skipped_tables:
            self.stderr.write(f"warning: table {name} is not a Django model's and was not backed up")
        self.stdout.write(
            f"{path}: {len(manifest.tables)} tables, {manifest.total_rows} rows, "
            f"{manifest.archive_bytes} bytes, {manifest.seconds:.1f} s ({vendor})"
        )
        self.stdout.write(
            "The PII key and DJANGO_SECRET_KEY are not in the archive: keep them apart, in the secret store."
        )
