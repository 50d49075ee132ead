"""SEV0 and SEV1 postmortems need a detection and a prevention item by default."""

from django.db import migrations

DEFAULT_REQUIRED = {
    "SEV0": ["detection", "prevention"],
    "SEV1": ["detection", "prevention"],
    "SEV2": [],
    "SEV3": [],
}


def create_policies(apps, schema_editor):
    CoveragePolicy = apps.get_model("actions", "CoveragePolicy")
    for severity, categories in DEFAULT_REQUIRED.items():
        CoveragePolicy.objects.get_or_create(
            severity=severity, defaults={"required_categories": categories}
        )


class Migration(migrations.Migration):
    dependencies = [("actions", "0003_coverage_reminders_reviews")]
    operations = [migrations.RunPython(create_policies, migrations.RunPython.noop)]
