"""Findings and API keys moved to the ``findings`` app (findings/migrations/0001).

State only: the tables stay as they are, under the same names (each moved model
sets ``db_table``), so no row is copied and nothing is rebuilt.
"""

from django.db import migrations

MOVED = ["findingsuggestion", "findingmatch", "idempotencyrecord", "finding", "apikey"]


class Migration(migrations.Migration):
    dependencies = [
        ("postmortems", "0009_postmortem_list_parts"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name=name) for name in MOVED],
            database_operations=[],
        ),
    ]
