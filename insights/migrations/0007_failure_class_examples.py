"""Each failure class keeps example cause statements the classifier learns
from; the starter classes take theirs from taxonomy.json."""

import json
from pathlib import Path

from django.db import migrations, models

import insights.models

TAXONOMY = json.loads(
    (Path(__file__).resolve().parent.parent / "taxonomy.json").read_text()
)


def fill_examples(apps, schema_editor):
    """Each starter class takes its examples; a starter class merged into
    another hands them on to the class that absorbed it, as merges do now."""
    FailureClass = apps.get_model("insights", "FailureClass")
    merged_into = dict(
        FailureClass.objects.exclude(merged_into=None).values_list(
            "pk", "merged_into_id"
        )
    )
    for entry in TAXONOMY:
        examples = entry.get("examples") or []
        for pk in FailureClass.objects.filter(
            slug=entry["slug"], origin="taxonomy"
        ).values_list("pk", flat=True):
            seen = {pk}
            while pk in merged_into and merged_into[pk] not in seen:
                pk = merged_into[pk]
                seen.add(pk)
            live = FailureClass.objects.get(pk=pk)
            live.examples = list(
                dict.fromkeys([*live.examples, *(e for e in examples if e)])
            )
            live.save(update_fields=["examples"])


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
                validators=[insights.models.validate_examples],
                help_text="Typical cause statements of this class, one per item, "
                "as postmortems word them; the classifier learns from them beside "
                "the description, before anyone has confirmed a postmortem in the "
                "class.",
            ),
        ),
        migrations.RunPython(fill_examples, migrations.RunPython.noop),
    ]
