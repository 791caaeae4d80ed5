"""`livingroom backup` / `livingroom restore`: a consistent archive of every table, personal data
still encrypted, no keys inside, and a restore that proves every table came back exactly."""

from __future__ import annotations

import io
import json
import os
import shutil
import stat
import subprocess
import sys
import tarfile
import time

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from livingroom.core import backup
from livingroom.core.backup import BackupError, read_manifest, restore_backup, table_checksums, write_backup
from livingroom.core.dbtriggers import APPEND_ONLY_TABLES, create_triggers, drop_triggers
from livingroom.people.models import Resident, User
from livingroom.places.models import Street
from tests import factories as f
from tests.conftest import PG

pytestmark = pytest.mark.django_db(transaction=True)

DEMO_RESIDENT_PHONE = "13800138000"  # 李晓梅 (README)


def _empty_database() -> None:
    """What a new database looks like after `migrate`: only content types and permissions."""
    with connection.schema_editor() as editor:
        drop_triggers(editor, APPEND_ONLY_TABLES)  # SQLite's flush DELETEs the ledgers
    try:
        call_command("flush", interactive=False, verbosity=0)
    finally:
        with connection.schema_editor() as editor:
            create_triggers(editor, APPEND_ONLY_TABLES)


def _archive_text(path) -> str:
    with tarfile.open(path, "r:gz") as tar:
        return "".join(tar.extractfile(m).read().decode() for m in tar if m.isfile())


def _rewrite(path, out, *, manifest=None, table_file=None):
    """A copy of the archive with the manifest and/or one table file changed by a function."""
    with tarfile.open(path, "r:gz") as src, tarfile.open(out, "w:gz") as dst:
        for member in src:
            data = src.extractfile(member).read()
            if member.name == "manifest.json" and manifest:
                data = json.dumps(manifest(json.loads(data))).encode()
            elif table_file and member.name == f"tables/{table_file[0]}.jsonl":
                data = table_file[1](data)
            member.size = len(data)
            dst.addfile(member, io.BytesIO(data))
    return out


def _counts() -> dict[str, int]:
    return {t: rows for t, (rows, _) in table_checksums().items()}


@pytest.fixture
def demo_district(ledger_emptied_after, capsys):
    """The demo district (the richest data: every app, encrypted values, ledgers, photos). On
    PostgreSQL its thousands of small commits wait for the disk; they need not in a test."""
    fast = connection.vendor == "postgresql"
    if fast:
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit TO OFF")
    try:
        call_command("load_demo", residents=120)
    finally:
        if fast:
            with connection.cursor() as cursor:
                cursor.execute("SET synchronous_commit TO DEFAULT")
    capsys.readouterr()


def test_demo_district_round_trip(tmp_path, demo_district):
    before = table_checksums()
    resident = User.objects.get_by_phone(DEMO_RESIDENT_PHONE).resident
    id_clear = resident.id_number
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number FROM people_resident WHERE id = %s", [resident.pk])
        (id_cipher,) = cursor.fetchone()
    assert id_cipher.startswith("pii1.") and id_clear not in id_cipher

    started = time.monotonic()
    path = tmp_path / "demo.tar.gz"
    manifest = write_backup(path)
    backup_seconds = time.monotonic() - started
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert {t: (e.rows, e.sha256) for t, e in manifest.tables.items()} == before
    assert manifest.vendor == connection.vendor and "people.0001_initial" in manifest.migrations
    assert manifest.total_rows > 5000 and before["people_resident"][0] == Resident.objects.count()
    assert manifest.pii_key_ids and not manifest.skipped_tables

    # Encrypted stays encrypted, and nothing to decrypt it with is inside.
    text = _archive_text(path)
    assert id_cipher in text and id_clear not in text
    assert DEMO_RESIDENT_PHONE not in text
    assert settings.LIVINGROOM_PII_KEY not in text and settings.SECRET_KEY not in text

    # Not into a database that holds data: refused, nothing touched.
    with pytest.raises(BackupError, match="not empty"):
        restore_backup(path)
    assert table_checksums() == before

    _empty_database()
    assert Resident.objects.count() == 0 and Street.objects.count() == 0

    # A damaged or altered archive: refused, the target stays empty.
    tampered = _rewrite(
        path,
        tmp_path / "tampered.tar.gz",
        table_file=(
            "people_resident",
            lambda b: b.replace(id_cipher.encode(), id_cipher[:-4].encode() + b"AAAA"),
        ),
    )
    with pytest.raises(BackupError, match="people_resident: the archive's file does not match"):
        restore_backup(tampered)
    assert Resident.objects.count() == 0 and Street.objects.count() == 0

    started = time.monotonic()
    report = restore_backup(path)
    restore_seconds = time.monotonic() - started
    assert report.ok and len(report.tables) == len(before) and report.total_rows == manifest.total_rows
    assert table_checksums() == before

    # The site works on the restored data: decrypts with its key, new rows get fresh ids.
    assert User.objects.get_by_phone(DEMO_RESIDENT_PHONE).resident.id_number == id_clear
    street = f.StreetFactory()
    assert street.pk > max(Street.objects.exclude(pk=street.pk).values_list("pk", flat=True))
    print(  # the figures docs/decisions/0007 quotes (pytest -s)
        f"\n{connection.vendor}: {len(before)} tables, {manifest.total_rows} rows, "
        f"{path.stat().st_size} bytes; backup {backup_seconds:.1f} s, restore {restore_seconds:.1f} s"
    )


@pytest.fixture
def small(tmp_path):
    """A few rows in several apps and an archive of them."""
    f.ResidentFactory.create_batch(3)
    f.staff_with_role("district_official")
    path = tmp_path / "small.tar.gz"
    return write_backup(path), path


def test_restore_refuses_another_vendor(small, tmp_path):
    _, path = small
    other = "postgresql" if connection.vendor == "sqlite" else "sqlite"
    moved = _rewrite(path, tmp_path / "other.tar.gz", manifest=lambda m: {**m, "vendor": other})
    _empty_database()
    with pytest.raises(BackupError, match=f"taken from {other}"):
        restore_backup(moved)


def test_restore_refuses_another_migration_state(small, tmp_path):
    _, path = small
    older = _rewrite(
        path,
        tmp_path / "older.tar.gz",
        manifest=lambda m: {**m, "migrations": [x for x in m["migrations"] if x != "people.0001_initial"]},
    )
    _empty_database()
    with pytest.raises(BackupError, match=r"applied here only: people\.0001_initial"):
        restore_backup(older)
    assert User.objects.count() == 0


def test_restore_refuses_an_unknown_file(tmp_path):
    path = tmp_path / "notes.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        tar.addfile(tarfile.TarInfo("notes.txt"), io.BytesIO(b""))
    with pytest.raises(BackupError, match=r"does not start with manifest\.json"):
        restore_backup(path)
    (tmp_path / "junk.tar.gz").write_bytes(b"not gzip")
    with pytest.raises(BackupError, match="cannot read the archive"):
        restore_backup(tmp_path / "junk.tar.gz")


def test_a_database_that_stores_other_values_fails_verification_and_keeps_nothing(small, monkeypatch):
    manifest, path = small
    street_name = Street.objects.first().name
    _empty_database()
    decode = backup.decode_value
    monkeypatch.setattr(backup, "decode_value", lambda v: "变了" if v == street_name else decode(v))

    with pytest.raises(BackupError, match=r"differ from the manifest: .*places_street"):
        restore_backup(path)
    counts = _counts()
    assert sum(counts[t] for t in manifest.tables if t not in backup.MIGRATION_SEEDED_TABLES) == 0


def test_commands(small, tmp_path, capsys):
    manifest, _ = small
    out = tmp_path / "cli.tar.gz"
    call_command("backup", output=str(out))
    printed = capsys.readouterr().out
    assert f"{len(manifest.tables)} tables, {manifest.total_rows} rows" in printed
    assert read_manifest(out).tables["people_resident"].rows == 3
    with pytest.raises(CommandError, match="already exists"):
        call_command("backup", output=str(out))
    with pytest.raises(CommandError, match="not empty"):
        call_command("restore", str(out))

    _empty_database()
    call_command("restore", str(out))
    printed = capsys.readouterr().out
    assert "people_resident" in printed and "every table's row count and checksum verified" in printed
    assert User.objects.count() == 4


def test_default_path_is_under_var_backups(small, settings, tmp_path, capsys):
    settings.VAR_DIR = tmp_path
    call_command("backup")
    (made,) = (tmp_path / "backups").iterdir()
    assert made.name.startswith(f"livingroom-{connection.vendor}-") and made.name.endswith(".tar.gz")
    assert stat.S_IMODE((tmp_path / "backups").stat().st_mode) == 0o700
    assert str(made) in capsys.readouterr().out


@pytest.mark.skipif(
    PG, reason="SQLite files; the PostgreSQL round trip through the CLI is in docs/decisions/0007"
)
def test_cli_round_trip_on_sqlite_files(tmp_path):
    """The real commands on real files: migrate a site, copy it as a new empty one, back up, restore."""
    site, fresh = tmp_path / "site", tmp_path / "fresh"

    def livingroom(var, *args):
        env = {**os.environ, "LIVINGROOM_VAR_DIR": str(var)}
        env.pop("DATABASE_URL", None)
        done = subprocess.run(  # noqa: S603 - our own command
            [sys.executable, "-m", "livingroom", *args], env=env, capture_output=True, text=True, timeout=180
        )
        return done.returncode, done.stdout + done.stderr

    site.mkdir()
    assert livingroom(site, "migrate", "-v0")[0] == 0
    shutil.copytree(site, fresh, ignore=shutil.ignore_patterns("static"))  # same keys, same migrations

    code, out = livingroom(site, "backup")
    assert code == 0, out
    (archive,) = (site / "backups").iterdir()
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600 and f"{archive}: " in out
    code, out = livingroom(fresh, "restore", str(archive))
    assert code == 0, out
    assert "auth_permission" in out and "every table's row count and checksum verified" in out

    code, out = livingroom(fresh, "restore", str(archive.with_name("missing.tar.gz")))
    assert code == 1 and "cannot read the archive" in out
