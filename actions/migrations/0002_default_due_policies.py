"""Default due dates by priority; admins change them."""

from django.db import migrations

DEFAULT_DAYS = {"P0": 7, "P1": 30, "P2": 90, "P3": 180}


def create_policies(apps, schema_editor):
    DuePolicy = apps.get_model("actions", "DuePolicy")
    for priority, days in DEFAULT_DAYS.items():
        DuePolicy.objects.get_or_create(priority=priority, defaults={"days": days})


class Migration(migrations.Migration):
    dependencies = [("actions", "0001_initial")]
    operations = [migrations.RunPython(create_policies, migrations.RunPython.noop)]
