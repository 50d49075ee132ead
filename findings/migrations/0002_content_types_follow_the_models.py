"""The moved models' content types now say app "findings".

Renamed, not recreated: permissions (``postmortems.add_finding`` becomes
``findings.add_finding``) and the rows that point at a content type (admin log
entries, group and user permissions) stay attached. Without this, the next
``migrate`` would create fresh "findings" content types and permissions and leave
people's grants on the stale "postmortems" ones.
"""

from django.db import migrations

MOVED = ["apikey", "finding", "findingmatch", "findingsuggestion", "idempotencyrecord"]


def rename(apps, schema_editor, *, old: str, new: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for model in MOVED:
        if ContentType.objects.using(db).filter(app_label=new, model=model).exists():
            continue  # already there (created by a migrate that ran without this)
        ContentType.objects.using(db).filter(app_label=old, model=model).update(
            app_label=new
        )


def forwards(apps, schema_editor):
    rename(apps, schema_editor, old="postmortems", new="findings")


def backwards(apps, schema_editor):
    rename(apps, schema_editor, old="findings", new="postmortems")


class Migration(migrations.Migration):
    dependencies = [
        ("findings", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
