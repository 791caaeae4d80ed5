"""Audit events stay append-only on PostgreSQL, now with a legal floor for retention: UPDATE is
always refused; DELETE only of events older than 184 days (the minimum kept under multi-level
protection 2.0), so ``livingroom audit_prune`` can apply a longer configured retention while no
one — not the application, not a person with SQL — can remove a recent event."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION core_auditevent_append_only() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'DELETE' AND OLD.at < now() - interval '184 days' THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'audit events are append-only (events younger than 184 days are kept)'
    USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
"""
PREVIOUS = """
CREATE OR REPLACE FUNCTION core_auditevent_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'audit events are append-only';
END;
$$ LANGUAGE plpgsql;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PREVIOUS)


class Migration(migrations.Migration):
    dependencies = [("core", "0004_audit_append_only_trigger")]
    operations = [migrations.RunPython(forwards, backwards)]
