"""make backup / make restore round-trip a populated database, every row intact."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from actions.models import ActionItem
from postmortems.backup import backup_database, database_fingerprint, restore_database
from postmortems.models import Incident, Postmortem

pytestmark = pytest.mark.django_db(transaction=True)


def test_backup_restore_round_trips_every_row(tmp_path):
    """GIVEN the demo corpus loaded
    WHEN it is backed up, then damaged (rows deleted and changed), then restored
    THEN every table has the same row count and checksum as before the damage."""
    call_command("load_demo")
    before = database_fingerprint()
    assert before["postmortems_incident"][0] >= 40

    path = backup_database(destination_dir=tmp_path)
    ActionItem.objects.all().delete()
    Postmortem.objects.filter(pk__in=Postmortem.objects.values("pk")[:5]).delete()
    Incident.objects.update(title="overwritten")
    assert database_fingerprint() != before

    restore_database(source=path)
    assert database_fingerprint() == before


def test_restore_of_a_missing_file_is_a_clear_error_and_changes_nothing(tmp_path):
    call_command("load_demo")
    before = database_fingerprint()
    with pytest.raises(CommandError, match="No backup file"):
        call_command("restore", str(tmp_path / "nope.sqlite3"), "--yes")
    assert database_fingerprint() == before
