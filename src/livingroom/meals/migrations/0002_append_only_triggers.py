"""The meal ledger is append-only in the database too: a trigger refuses any UPDATE or DELETE
on its table, whoever sends it (the ORM refuses first, see ``core.models.AppendOnly``)."""

from django.db import migrations

from livingroom.core.dbtriggers import append_only


class Migration(migrations.Migration):
    dependencies = [("meals", "0001_initial")]
    operations = [append_only("meals_entry")]
