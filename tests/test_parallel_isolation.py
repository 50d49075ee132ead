"""The suite runs in parallel (pytest-xdist, ``make test``): after a test that
flushes the database, the next test on that worker still finds every row the
migrations wrote (tests/conftest.py)."""

import pytest
from django.apps import apps
from django.core.management import call_command

from tests.conftest import _restore_migrated_rows


def _row_counts() -> dict[str, int]:
    return {
        model._meta.label: model._base_manager.count() for model in apps.get_models()
    }


@pytest.mark.django_db(transaction=True)
def test_restore_puts_back_every_row_the_migrations_wrote(request):
    """GIVEN the migrated test database WHEN a transactional test's flush empties it
    THEN the restore brings back every row of every model, data migrations' rows
    (templates, due policies, the taxonomy) and content types/permissions alike."""
    before = _row_counts()
    assert before["contenttypes.ContentType"] > 0
    assert before["auth.Permission"] > 0
    seeded = {label for label, count in before.items() if count}
    assert {
        "postmortems.PostmortemTemplate",
        "actions.DuePolicy",
        "actions.CoveragePolicy",
        "insights.FailureClass",
    } <= seeded

    call_command("flush", interactive=False, inhibit_post_migrate=True, verbosity=0)
    assert not any(_row_counts().values())

    _restore_migrated_rows(request.config)

    assert _row_counts() == before
