from django.db import migrations

# Working days to respond / to resolve by request type (12345-style defaults; district staff change them).
DEFAULTS = {
    "consultation": (1, 3),
    "help": (1, 5),
    "complaint": (1, 5),
    "report": (1, 10),
    "suggestion": (2, 15),
}


def seed(apps, schema_editor):
    DeadlineRule = apps.get_model("voice", "DeadlineRule")
    for kind, (respond, resolve) in DEFAULTS.items():
        DeadlineRule.objects.get_or_create(
            kind=kind, category="", defaults={"respond_days": respond, "resolve_days": resolve}
        )


class Migration(migrations.Migration):
    dependencies = [("voice", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
