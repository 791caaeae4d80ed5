"""``livingroom restore PATH``: load an archive of ``livingroom backup`` into a new database.

The target must be of the same vendor, migrated to the same migrations and hold no data. Every
table's row count and checksum are recomputed from the database after loading and compared with
the archive's manifest; on any difference nothing is kept and the command exits 1.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS

from livingroom.core.backup import BackupError, restore_backup


class Command(BaseCommand):
    help = "Restore a `livingroom backup` archive into an empty, migrated database, verifying every table."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="The .tar.gz archive written by `livingroom backup`.")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = restore_backup(options["path"], using=options["database"])
        except BackupError as exc:
            raise CommandError(str(exc), returncode=1) from exc
        if options["verbosity"] >= 1:
            for t in report.tables:
                self.stdout.write(f"  {t.name:<40} {t.rows:>8} rows  sha256 {t.sha256[:16]}  OK")
        for warning in report.warnings:
            self.stderr.write(f"warning: {warning}")
        m = report.manifest
        self.stdout.write(
            f"Restored the backup of {m.created_at} ({m.vendor}): {len(report.tables)} tables, "
            f"{report.total_rows} rows, every table's row count and checksum verified, "
            f"{report.seconds:.1f} s"
        )
