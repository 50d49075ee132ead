"""Load the starter taxonomy of failure classes (idempotent; edits are kept)."""

import json
from pathlib import Path

from django.db import migrations

# get_or_create: classes people have edited since are left as they are.
TAXONOMY = json.loads(
    (Path(__file__).resolve().parent.parent / "taxonomy.json").read_text()
)


def load_taxonomy(apps, schema_editor):
    FailureClass = apps.get_model("insights", "FailureClass")
    for entry in TAXONOMY:
        FailureClass.objects.get_or_create(
            slug=entry["slug"],
            defaults={
                "name": entry["name"],
                "description": entry["description"],
                "status": "accepted",
                "origin": "taxonomy",
            },
        )


def unload_taxonomy(apps, schema_editor):
    FailureClass = apps.get_model("insights", "FailureClass")
    FailureClass.objects.filter(
        origin="taxonomy", slug__in=[e["slug"] for e in TAXONOMY]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("insights", "0001_initial")]

    operations = [migrations.RunPython(load_taxonomy, unload_taxonomy)]
