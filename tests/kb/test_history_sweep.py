"""A postmortem's newest version records what the postmortem holds, however it
was made.

The history page and its diffs compare versions, contributing factors and the
investigation log included (``Postmortem.list_parts``). A path that writes the
postmortem first and its factors after, without a version that records them,
leaves a history in which the factors were never there: the next edit then
shows them as added, by the wrong person.
"""

import pytest
from django.core.management import call_command

from postmortems.models import Incident, Postmortem
from postmortems.selectors import postmortem_list_parts
from tests.kb.test_render_sweep import PATHS, _write_postmortem
from tests.kb.test_render_sweep import people as people  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db

# The importer's own format with both lists (tests/postmortems/data/sre_good.md,
# the render sweep's file, has neither).
WITH_LISTS = """---
title: Checkout pool exhausted
severity: SEV2
started_at: 2026-03-02T10:00:00Z
contributing_factors:
  - kind: technical
    description: The pool size was left at its default of 10.
  - kind: detection_gap
    description: No alert on pool wait time.
hypotheses:
  - track: diagnosis
    status: confirmed
    text: The pool is exhausted.
    test: Compare pool waits with the error rate.
---

## Summary
Checkout failed for 20 minutes.

## Impact
One in five card payments failed.

## Root Causes
Every connection of the pool was held by slow report queries.
"""


def via_importer_with_lists(team, people, tmp_path):
    path = tmp_path / "with-lists.md"
    path.write_text(WITH_LISTS)
    call_command("import_postmortems", str(path), "--team", team.slug)
    return Incident.objects.latest("pk")


PATHS = {**PATHS, "importer-with-lists": via_importer_with_lists}


@pytest.mark.parametrize("path", PATHS)
def test_the_newest_version_records_the_factors_and_hypotheses_of_every_path(
    path, team, other_team, people, settings, tmp_path
):
    maker = PATHS[path]
    extra = {
        "pagerduty": {"settings": settings},
        "slack": {"settings": settings},
        "tracker-webhook": {"settings": settings},
        "demo-loader": {"tmp_path": tmp_path},
        "importer-with-lists": {"tmp_path": tmp_path},
    }.get(path, {})
    incident = maker(team, people, **extra)
    _write_postmortem(incident, people)

    postmortem = Postmortem.objects.get(incident=incident)
    holds = postmortem_list_parts(postmortem=postmortem)
    newest = postmortem.history.order_by("-history_id").first()

    if path == "importer-with-lists":
        assert len(holds["factors"]) == 2 and len(holds["hypotheses"]) == 1
    assert newest.list_parts == holds
    # No version of a new postmortem says its lists were "not recorded".
    assert all(row.list_parts for row in postmortem.history.all())
