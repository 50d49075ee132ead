"""Tell the labels runs derive from a postmortem's confirmed class apart from a
person's confirmation of the statement itself.

Runs stored both as confirmed statements and read them all back as people's
labels, so re-confirming a postmortem added a class instead of replacing the
old one. Stored rows that came from a postmortem confirmation are marked here;
the next run derives them afresh from the postmortem's current class.
"""

from django.db import migrations, models

# The starter taxonomy's classes of change when this migration was written.
CHANGE_CLASSES = {
    "config-change",
    "bad-deploy",
    "database-migration",
    "operational-command-error",
}


def mark_derived(apps, schema_editor):
    CauseStatement = apps.get_model("insights", "CauseStatement")
    ConfirmationEffect = apps.get_model("insights", "ConfirmationEffect")
    PostmortemClassification = apps.get_model("insights", "PostmortemClassification")
    confirmed_postmortems = {
        row["postmortem_id"]: row
        for row in PostmortemClassification.objects.filter(source="confirmed").values(
            "postmortem_id", "failure_class_id", "confirmed_at"
        )
    }
    # A person's confirmation of a statement always records an effect under
    # that statement's key; a derived label on a trigger or factor never does.
    own_keys = set(
        ConfirmationEffect.objects.values_list("postmortem_id", "statement_key")
    )
    derived = []
    for row in CauseStatement.objects.filter(source="confirmed").values(
        "pk",
        "postmortem_id",
        "key",
        "failure_class_id",
        "failure_class__slug",
        "confirmed_at",
    ):
        head = confirmed_postmortems.get(row["postmortem_id"])
        copied = head is not None and (
            head["failure_class_id"] == row["failure_class_id"]
            and head["confirmed_at"] == row["confirmed_at"]
        )
        unrecorded = (row["postmortem_id"], row["key"]) not in own_keys
        # Before classes of change were read from the trigger, a postmortem
        # confirmed as one put it on the root cause.
        change_on_root_cause = (
            head is not None
            and row["key"] == "root_cause"
            and row["failure_class__slug"] in CHANGE_CLASSES
        )
        if copied or unrecorded or change_on_root_cause:
            derived.append(row["pk"])
    for start in range(0, len(derived), 500):
        CauseStatement.objects.filter(pk__in=derived[start : start + 500]).update(
            from_postmortem=True
        )


class Migration(migrations.Migration):
    dependencies = [
        ("insights", "0004_embedding_cache_version"),
    ]

    operations = [
        migrations.AddField(
            model_name="causestatement",
            name="from_postmortem",
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(mark_derived, migrations.RunPython.noop),
    ]
