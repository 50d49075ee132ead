"""Each failure class keeps example cause statements the classifier learns
from; the starter classes take theirs from taxonomy.json."""

import json
from pathlib import Path

from django.db import migrations, models

TAXONOMY = json.loads(
    (Path(__file__).resolve().parent.parent / "taxonomy.json").read_text()
)


def fill_examples(apps, schema_editor):
    FailureClass = apps.get_model("insights", "FailureClass")
    for entry in TAXONOMY:
        FailureClass.objects.filter(slug=entry["slug"], origin="taxonomy").update(
            examples=entry.get("examples", [])
        )


class Migration(migrations.Migration):
    dependencies = [
        ("insights", "0006_failure_class_axis"),
    ]

    operations = [
        migrations.AddField(
            model_name="failureclass",
            name="examples",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="Typical cause statements of this class, one per item, "
                "as postmortems word them; the classifier learns from them beside "
                "the description, before anyone has confirmed a postmortem in the "
                "class.",
            ),
        ),
        migrations.RunPython(fill_examples, migrations.RunPython.noop),
    ]
