"""Each failure class says its axis: a change (read from triggers) or a
mechanism. Starter classes take theirs from taxonomy.json; a class a class of
change was merged into reads triggers too, as merges do from now on."""

import json
from pathlib import Path

from django.db import migrations, models

TAXONOMY = json.loads(
    (Path(__file__).resolve().parent.parent / "taxonomy.json").read_text()
)


def set_axes(apps, schema_editor):
    FailureClass = apps.get_model("insights", "FailureClass")
    changes = {e["slug"] for e in TAXONOMY if e.get("axis") == "change"}
    FailureClass.objects.filter(slug__in=changes).update(axis="change")
    merged_into = dict(
        FailureClass.objects.exclude(merged_into=None).values_list(
            "pk", "merged_into_id"
        )
    )
    targets = set()
    for pk in FailureClass.objects.filter(
        slug__in=changes, pk__in=merged_into
    ).values_list("pk", flat=True):
        seen = {pk}
        while pk in merged_into and merged_into[pk] not in seen:
            pk = merged_into[pk]
            seen.add(pk)
        targets.add(pk)
    FailureClass.objects.filter(pk__in=targets).update(axis="change")


class Migration(migrations.Migration):
    dependencies = [
        ("insights", "0005_statement_from_postmortem"),
    ]

    operations = [
        migrations.AddField(
            model_name="failureclass",
            name="axis",
            field=models.CharField(
                choices=[
                    ("change", "A change that set incidents off"),
                    ("mechanism", "How things failed"),
                ],
                default="mechanism",
                max_length=10,
            ),
        ),
        migrations.RunPython(set_axes, migrations.RunPython.noop),
    ]
