"""Backups of the whole database as one archive, and their verified restore (docs/decisions/0007).

An archive (``.tar.gz``) holds ``manifest.json`` and one JSON-lines file per Django-managed table.
The manifest names the vendor, the applied migrations and, per table, its columns, its row count
and the SHA-256 of its file. Values are copied as the database holds them, through raw cursors,
never through model fields: encrypted personal data stays ciphertext in the archive, and neither
the PII key nor ``SECRET_KEY`` is in it (they live in the environment, not in the database).

* ``write_backup(path)`` reads every table inside ONE read-only snapshot (PostgreSQL
  ``REPEATABLE READ READ ONLY``; SQLite a deferred read transaction, a WAL snapshot), so the
  archive is consistent while the site keeps running.
* ``restore_backup(path)`` loads an archive into a freshly migrated database of the same vendor and
  migration state, in one transaction with foreign-key checks deferred, resets the sequences, and
  recomputes every table's row count and checksum from the database; any difference rolls back.
* ``table_checksums()`` gives ``{table: (rows, sha256)}`` of the current database, in the same
  encoding as the archive (tests and operators compare two databases with it).
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import hashlib
import io
import ipaddress
import json
import math
import os
import tarfile
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, BinaryIO

import django
from django.apps import apps
from django.core.management.color import no_style
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model

from livingroom.core import pii

FORMAT = "livingroom-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
BATCH = 1000

# Tables that ``migrate`` itself fills on an empty database: content types and permissions
# (Django's post_migrate) and rows written by data migrations. A restore target may hold these
# rows; they are replaced by the archive's. Every other table must be empty.
MIGRATION_SEEDED_TABLES = frozenset({"django_content_type", "auth_permission", "voice_deadlinerule"})

_TEXT_PK_TYPES = {"CharField", "TextField", "SlugField", "EmailField", "FilePathField"}


class BackupError(Exception):
    """The archive cannot be written or restored; the message says why (nothing was changed)."""


@dataclass
class TableEntry:
    name: str
    columns: list[str]
    rows: int
    sha256: str
    bytes: int = 0

    def as_json(self) -> dict[str, Any]:
        return {"columns": self.columns, "rows": self.rows, "sha256": self.sha256, "bytes": self.bytes}


@dataclass
class Manifest:
    vendor: str
    created_at: str
    migrations: list[str]
    tables: dict[str, TableEntry]
    pii_key_ids: list[str] = field(default_factory=list)
    skipped_tables: list[str] = field(default_factory=list)
    django_version: str = ""
    seconds: float = 0.0
    archive_bytes: int = 0

    @property
    def total_rows(self) -> int:
        return sum(t.rows for t in self.tables.values())

    def as_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created_at": self.created_at,
            "vendor": self.vendor,
            "django_version": self.django_version,
            "migrations": self.migrations,
            "pii_key_ids": self.pii_key_ids,
            "skipped_tables": self.skipped_tables,
            "tables": {name: t.as_json() for name, t in self.tables.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Manifest:
        if data.get("format") != FORMAT:
            raise BackupError("not a Living Room backup (manifest.json has no livingroom-backup format)")
        if data.get("format_version") != FORMAT_VERSION:
            raise BackupError(
                f"backup format version {data.get('format_version')} is not supported "
                f"(this version reads {FORMAT_VERSION})"
            )
        try:
            tables = {
                name: TableEntry(name, list(t["columns"]), int(t["rows"]), str(t["sha256"]), int(t["bytes"]))
                for name, t in data["tables"].items()
            }
            return cls(
                vendor=str(data["vendor"]),
                created_at=str(data["created_at"]),
                migrations=list(data["migrations"]),
                tables=tables,
                pii_key_ids=list(data.get("pii_key_ids", [])),
                skipped_tables=list(data.get("skipped_tables", [])),
                django_version=str(data.get("django_version", "")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise BackupError(f"the manifest is malformed ({exc!r})") from exc


@dataclass
class TableCheck:
    name: str
    rows: int
    expected_rows: int
    sha256: str
    expected_sha256: str

    @property
    def ok(self) -> bool:
        return self.rows == self.expected_rows and self.sha256 == self.expected_sha256


@dataclass
class Report:
    manifest: Manifest
    tables: list[TableCheck]
    seconds: float
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(t.ok for t in self.tables)

    @property
    def total_rows(self) -> int:
        return sum(t.rows for t in self.tables)


# --- Values: raw database values <-> JSON, stable enough to checksum ---------------------------


def encode_value(value: Any) -> Any:
    """A database value as JSON; non-JSON types are tagged (``{"$dt": ...}``) so they come back."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"$float": repr(value)}
    if isinstance(value, dt.datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, dt.time):
        return {"$time": value.isoformat()}
    if isinstance(value, dt.timedelta):
        return {"$td": [value.days, value.seconds, value.microseconds]}
    if isinstance(value, decimal.Decimal):
        return {"$dec": str(value)}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$b64": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, uuid.UUID):
        return {"$uuid": str(value)}
    if isinstance(value, ipaddress.IPv4Address | ipaddress.IPv6Address):
        return {"$ip": str(value)}
    if isinstance(value, dict | list):  # a driver that parses JSON columns itself
        return {"$json": json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))}
    raise BackupError(f"cannot back up a value of type {type(value).__name__}")


_DECODERS: dict[str, Callable[[Any], Any]] = {
    "$float": float,
    "$dt": dt.datetime.fromisoformat,
    "$date": dt.date.fromisoformat,
    "$time": dt.time.fromisoformat,
    "$td": lambda v: dt.timedelta(days=v[0], seconds=v[1], microseconds=v[2]),
    "$dec": decimal.Decimal,
    "$b64": base64.b64decode,
    "$uuid": uuid.UUID,
    "$ip": str,
    "$json": str,
}


def decode_value(value: Any) -> Any:
    if isinstance(value, dict):
        ((tag, raw),) = value.items()
        try:
            return _DECODERS[tag](raw)
        except KeyError:
            raise BackupError(f"unknown value tag {tag!r} in the archive") from None
    return value


def _line(row: tuple[Any, ...] | list[Any]) -> bytes:
    return (
        json.dumps([encode_value(v) for v in row], ensure_ascii=False, separators=(",", ":")) + "\n"
    ).encode()


# --- Tables ------------------------------------------------------------------------------------


def _models_by_table() -> dict[str, type[Model]]:
    found: dict[str, type[Model]] = {}
    for model in apps.get_models(include_auto_created=True):
        opts = model._meta
        if opts.managed and not opts.proxy and not opts.swapped:
            found.setdefault(opts.db_table, model)
    return found


def _tables(connection: BaseDatabaseWrapper) -> tuple[dict[str, type[Model]], list[str]]:
    """Django-managed tables that exist (sorted), and the other tables (skipped, for the record)."""
    models = _models_by_table()
    with connection.cursor() as cursor:
        existing = set(connection.introspection.table_names(cursor, include_views=False))
    managed = {t: m for t, m in sorted(models.items()) if t in existing}
    ignored = {"django_migrations", "sqlite_sequence"}
    skipped = sorted(t for t in existing - set(managed) - ignored if not t.startswith("sqlite_"))
    return managed, skipped


def _columns(connection: BaseDatabaseWrapper, table: str) -> list[str]:
    """The table's columns as the database has them, in its order (cheaper than introspection)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)} LIMIT 0")  # noqa: S608
        return [c[0] for c in cursor.description]


def _select_sql(connection: BaseDatabaseWrapper, table: str, columns: list[str], model: type[Model]) -> str:
    qn = connection.ops.quote_name
    # SQLite: a unary plus hides the declared type, so the driver's converters (bool, datetime...)
    # leave the stored value alone: the archive holds exactly what the file holds.
    prefix = "+" if connection.vendor == "sqlite" else ""
    cols = ", ".join(prefix + qn(c) for c in columns)
    pk = model._meta.pk
    assert pk is not None
    order = qn(pk.column)
    if connection.vendor == "postgresql" and pk.get_internal_type() in _TEXT_PK_TYPES:
        order += ' COLLATE "C"'  # the same order whatever the database's collation
    return f"SELECT {cols} FROM {qn(table)} ORDER BY {order}"  # noqa: S608 - names from Django's models


def _rows(connection: BaseDatabaseWrapper, sql: str) -> Iterator[tuple[Any, ...]]:
    cursor = connection.chunked_cursor()
    try:
        cursor.execute(sql)
        while batch := cursor.fetchmany(BATCH):
            yield from batch
    finally:
        cursor.close()


def _dump_table(
    connection: BaseDatabaseWrapper,
    table: str,
    columns: list[str],
    model: type[Model],
    out: BinaryIO | None,
    key_ids: set[str] | None = None,
) -> TableEntry:
    digest, rows, size = hashlib.sha256(), 0, 0
    for row in _rows(connection, _select_sql(connection, table, columns, model)):
        if key_ids is not None:
            for v in row:
                if isinstance(v, str) and pii.is_encrypted(v):
                    key_ids.add(v.split(".", 2)[1])
        line = _line(row)
        digest.update(line)
        rows += 1
        size += len(line)
        if out is not None:
            out.write(line)
    return TableEntry(table, columns, rows, digest.hexdigest(), size)


def table_checksums(using: str = DEFAULT_DB_ALIAS) -> dict[str, tuple[int, str]]:
    """``{table: (rows, sha256)}`` for every Django-managed table, as an archive would record them."""
    connection = connections[using]
    managed, _ = _tables(connection)
    result = {}
    for table, model in managed.items():
        entry = _dump_table(connection, table, _columns(connection, table), model, None)
        result[table] = (entry.rows, entry.sha256)
    return result


def _applied_migrations(connection: BaseDatabaseWrapper) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT app, name FROM django_migrations")
        return sorted({f"{app}.{name}" for app, name in cursor.fetchall()})


# --- Backup ------------------------------------------------------------------------------------


@contextmanager
def _snapshot(connection: BaseDatabaseWrapper) -> Iterator[None]:
    """One read-only transaction: every table is read as of the same moment."""
    connection.ensure_connection()
    if connection.in_atomic_block or not connection.get_autocommit():
        raise BackupError("a backup must run outside any transaction")
    begin = {
        "postgresql": "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
        "sqlite": "BEGIN DEFERRED",  # in WAL mode, the first read fixes the snapshot
    }.get(connection.vendor)
    if begin is None:
        raise BackupError(f"backups support SQLite and PostgreSQL, not {connection.vendor}")
    with connection.cursor() as cursor:
        cursor.execute(begin)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ROLLBACK")  # read only: nothing to keep


def _add_file(tar: tarfile.TarFile, name: str, source: BinaryIO, size: int, mtime: float) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, 0o600, int(mtime)
    source.seek(0)
    tar.addfile(info, source)


def write_backup(path: str | os.PathLike[str], using: str = DEFAULT_DB_ALIAS) -> Manifest:
    """Writes the whole database to ``path`` (a ``.tar.gz``, mode 0600); returns its manifest."""
    started = time.monotonic()
    connection = connections[using]
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    key_ids: set[str] = set()
    with tempfile.TemporaryDirectory(prefix="livingroom-backup-", dir=target.parent) as tmp:
        spool: list[tuple[str, Path]] = []
        with _snapshot(connection):
            migrations = _applied_migrations(connection)
            managed, skipped = _tables(connection)
            entries: dict[str, TableEntry] = {}
            for table, model in managed.items():
                file = Path(tmp) / f"{table}.jsonl"
                with file.open("wb") as out:
                    entries[table] = _dump_table(
                        connection, table, _columns(connection, table), model, out, key_ids
                    )
                spool.append((table, file))
        manifest = Manifest(
            vendor=connection.vendor,
            created_at=now.isoformat(timespec="seconds"),
            migrations=migrations,
            tables=entries,
            pii_key_ids=sorted(key_ids),
            skipped_tables=skipped,
            django_version=django.get_version(),
        )
        partial = target.with_name(target.name + ".partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
                body = json.dumps(manifest.as_json(), ensure_ascii=False, indent=1).encode()
                _add_file(tar, MANIFEST, io.BytesIO(body), len(body), now.timestamp())
                for table, file in spool:
                    with file.open("rb") as source:
                        _add_file(tar, f"tables/{table}.jsonl", source, file.stat().st_size, now.timestamp())
            os.chmod(partial, 0o600)
            os.replace(partial, target)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    manifest.seconds = time.monotonic() - started
    manifest.archive_bytes = target.stat().st_size
    return manifest


# --- Restore -----------------------------------------------------------------------------------


def read_manifest(path: str | os.PathLike[str]) -> Manifest:
    try:
        with tarfile.open(path, mode="r:gz") as tar:
            member = tar.next()
            if member is None or member.name != MANIFEST:
                raise BackupError("the archive does not start with manifest.json")
            source = tar.extractfile(member)
            assert source is not None
            return Manifest.from_json(json.loads(source.read()))
    except (OSError, tarfile.TarError, json.JSONDecodeError, EOFError) as exc:
        raise BackupError(f"cannot read the archive {os.fspath(path)}: {exc}") from exc


def _check_target(connection: BaseDatabaseWrapper, manifest: Manifest) -> dict[str, type[Model]]:
    if manifest.vendor != connection.vendor:
        raise BackupError(
            f"this backup was taken from {manifest.vendor} and the target database is "
            f"{connection.vendor}: restore it into a {manifest.vendor} database"
        )
    applied = set(_applied_migrations(connection))
    wanted = set(manifest.migrations)
    if applied != wanted:
        missing, extra = sorted(wanted - applied), sorted(applied - wanted)
        raise BackupError(
            "the target's migrations differ from the backup's: "
            + (
                f"not applied here: {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}; "
                if missing
                else ""
            )
            + (
                f"applied here only: {', '.join(extra[:5])}{' ...' if len(extra) > 5 else ''}; "
                if extra
                else ""
            )
            + "migrate the target to the backup's state (same version of the software) first"
        )
    managed, _ = _tables(connection)
    if set(managed) != set(manifest.tables):
        raise BackupError(
            "the target's tables differ from the backup's: "
            f"missing here {sorted(set(manifest.tables) - set(managed))}, "
            f"not in the backup {sorted(set(managed) - set(manifest.tables))}"
        )
    qn = connection.ops.quote_name
    full = []
    with connection.cursor() as cursor:
        for table, entry in manifest.tables.items():
            if set(_columns(connection, table)) != set(entry.columns):
                raise BackupError(f"table {table}: the target's columns differ from the backup's")
            if table in MIGRATION_SEEDED_TABLES:
                continue
            cursor.execute(f"SELECT 1 FROM {qn(table)} LIMIT 1")  # noqa: S608 - Django's table names
            if cursor.fetchone():
                full.append(table)
    if full:
        raise BackupError(
            "the target database is not empty (rows in "
            + ", ".join(full[:8])
            + (" ..." if len(full) > 8 else "")
            + "): restore only into a new database on which `livingroom migrate` has just run"
        )
    return managed


def _insert(connection: BaseDatabaseWrapper, entry: TableEntry, source: IO[bytes]) -> tuple[int, str]:
    qn = connection.ops.quote_name
    sql = (
        f"INSERT INTO {qn(entry.name)} ({', '.join(qn(c) for c in entry.columns)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(entry.columns))})"
    )
    digest, rows, batch = hashlib.sha256(), 0, []
    with connection.cursor() as cursor:
        for line in source:
            digest.update(line)
            rows += 1
            values = json.loads(line)
            if len(values) != len(entry.columns):
                raise BackupError(f"table {entry.name}: row {rows} has {len(values)} values")
            batch.append([decode_value(v) for v in values])
            if len(batch) >= BATCH:
                cursor.executemany(sql, batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
    return rows, digest.hexdigest()


def restore_backup(path: str | os.PathLike[str], using: str = DEFAULT_DB_ALIAS) -> Report:
    """Loads the archive into an empty, migrated database and verifies every table against the
    manifest; on any difference nothing is kept (``BackupError``)."""
    started = time.monotonic()
    connection = connections[using]
    manifest = read_manifest(path)
    connection.ensure_connection()
    if connection.in_atomic_block:
        raise BackupError("a restore must run outside any transaction")
    managed = _check_target(connection, manifest)
    warnings = []
    keyring = set(pii._ring()[1])
    if missing_keys := sorted(set(manifest.pii_key_ids) - keyring):
        warnings.append(
            "encrypted values in this backup use PII key id(s) "
            + ", ".join(missing_keys)
            + " that this installation does not hold: set LIVINGROOM_PII_KEY (or LIVINGROOM_PII_OLD_KEYS)"
            " to the key of the backed-up site, or those values cannot be read"
        )
    qn = connection.ops.quote_name
    try:
        with connection.constraint_checks_disabled(), transaction.atomic(using=using, durable=True):
            with connection.cursor() as cursor:
                for table in sorted(MIGRATION_SEEDED_TABLES & set(manifest.tables)):
                    cursor.execute(f"DELETE FROM {qn(table)}")  # noqa: S608 - Django's table names
            seen = set()
            with tarfile.open(path, mode="r:gz") as tar:
                for member in tar:
                    if member.name == MANIFEST:
                        continue
                    table = member.name.removeprefix("tables/").removesuffix(".jsonl")
                    entry = manifest.tables.get(table)
                    source = tar.extractfile(member) if member.isfile() else None
                    if entry is None or source is None or table in seen:
                        raise BackupError(f"the archive holds an unexpected member {member.name!r}")
                    seen.add(table)
                    rows, sha = _insert(connection, entry, source)
                    if (rows, sha) != (entry.rows, entry.sha256):
                        raise BackupError(
                            f"table {table}: the archive's file does not match its manifest "
                            f"({rows} rows, expected {entry.rows}; checksum differs: "
                            f"{sha != entry.sha256}); the archive is damaged or was altered"
                        )
            if missing := sorted(set(manifest.tables) - seen):
                raise BackupError(f"the archive lacks the files of {', '.join(missing[:8])}")
            connection.check_constraints(table_names=sorted(manifest.tables))
            with connection.cursor() as cursor:
                for sql in connection.ops.sequence_reset_sql(no_style(), list(managed.values())):
                    cursor.execute(sql)
            checks = []
            for table, entry in manifest.tables.items():
                found = _dump_table(connection, table, entry.columns, managed[table], None)
                checks.append(TableCheck(table, found.rows, entry.rows, found.sha256, entry.sha256))
            if bad := [c for c in checks if not c.ok]:
                raise BackupError(
                    "after loading, these tables differ from the manifest: "
                    + ", ".join(f"{c.name} ({c.rows}/{c.expected_rows} rows)" for c in bad[:8])
                    + "; nothing was kept"
                )
    except (tarfile.TarError, EOFError, OSError, ValueError) as exc:  # ValueError: bad JSON, tags
        raise BackupError(f"cannot read the archive {os.fspath(path)}: {exc}; nothing was kept") from exc
    except DatabaseError as exc:
        raise BackupError(f"the database refused the archive's rows ({exc}); nothing was kept") from exc
    from django.contrib.contenttypes.models import ContentType

    ContentType.objects.clear_cache()
    return Report(manifest, checks, time.monotonic() - started, warnings)
