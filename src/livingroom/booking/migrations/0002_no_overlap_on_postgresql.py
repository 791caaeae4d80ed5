"""On PostgreSQL, the database itself refuses overlapping active bookings (btree_gist exclusion).

1. One unit (a seat, a therapist, a room) is never booked twice at the same time.
2. A booking of the whole room never overlaps a booking of one of its parts: same space,
   overlapping time and ``whole_space`` different.

Only pending, confirmed and checked-in bookings count; cancelled, refused and released
(no-show) ones free the time. On SQLite the services check and insert inside one
``BEGIN IMMEDIATE`` transaction instead (see booking/services.py).
"""

from django.db import migrations

ACTIVE = "status IN ('pending', 'confirmed', 'checked_in')"
CREATE = f"""
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE booking_booking ADD CONSTRAINT booking_unit_no_overlap EXCLUDE USING gist (
  resource_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&
) WHERE ({ACTIVE});
ALTER TABLE booking_booking ADD CONSTRAINT booking_room_and_parts_no_overlap EXCLUDE USING gist (
  space_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&, whole_space WITH <>
) WHERE ({ACTIVE});
"""
DROP = """
ALTER TABLE booking_booking DROP CONSTRAINT IF EXISTS booking_unit_no_overlap;
ALTER TABLE booking_booking DROP CONSTRAINT IF EXISTS booking_room_and_parts_no_overlap;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("booking", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
