"""Database triggers shared by the apps' migrations: append-only tables (ledgers) refuse every
``UPDATE`` and ``DELETE``, whoever sends it, on PostgreSQL and SQLite."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import migrations

# Every append-only table of the project (tests lift the triggers to empty a SQLite database).
APPEND_ONLY_TABLES = ("points_entry", "points_stockmove", "meals_entry")


def create_triggers(schema_editor: Any, tables: Sequence[str]) -> None:
    vendor = schema_editor.connection.vendor
    for table in tables:
        if vendor == "postgresql":
            schema_editor.execute(
                f"""
                CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger AS $$
                BEGIN
                  RAISE EXCEPTION '{table} is append-only'
                    USING ERRCODE = 'integrity_constraint_violation';
                END;
                $$ LANGUAGE plpgsql;
                CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
                  FOR EACH ROW EXECUTE FUNCTION {table}_append_only();
                """
            )
        elif vendor == "sqlite":
            for op in ("UPDATE", "DELETE"):
                schema_editor.execute(
                    f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END;"
                )


def drop_triggers(schema_editor: Any, tables: Sequence[str]) -> None:
    vendor = schema_editor.connection.vendor
    for table in tables:
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};")
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {table}_append_only();")
        elif vendor == "sqlite":
            for op in ("update", "delete"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_{op};")


def append_only(*tables: str) -> migrations.RunPython:
    """A migration operation that makes ``tables`` append-only (and undoes it on the way back)."""

    def forwards(apps: Any, editor: Any) -> None:
        create_triggers(editor, tables)

    def backwards(apps: Any, editor: Any) -> None:
        drop_triggers(editor, tables)

    return migrations.RunPython(forwards, backwards)
