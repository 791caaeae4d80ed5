"""The ledger and the stock moves are append-only in the database too: a trigger refuses any
UPDATE or DELETE on their tables, whoever sends it (the ORM refuses first, see ``AppendOnly``)."""

from django.db import migrations

from livingroom.core.dbtriggers import append_only


class Migration(migrations.Migration):
    dependencies = [("points", "0001_initial")]
    operations = [append_only("points_entry", "points_stockmove")]
