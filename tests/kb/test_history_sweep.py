"""A postmortem's newest version records what the postmortem holds, however it
was made.

The history page and its diffs compare versions, contributing factors and the
investigation log included (``Postmortem.list_parts``). A path that writes the
postmortem first and its factors after, without a version that records them,
leaves a history in which the factors were never there: the next edit then
shows them as added, by the wrong person.
"""

import pytest

from postmortems.models import Postmortem
from postmortems.selectors import postmortem_list_parts
from tests.kb.test_render_sweep import PATHS, _write_postmortem
from tests.kb.test_render_sweep import people as people  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db


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
    }.get(path, {})
    incident = maker(team, people, **extra)
    _write_postmortem(incident, people)

    postmortem = Postmortem.objects.get(incident=incident)
    holds = postmortem_list_parts(postmortem=postmortem)
    newest = postmortem.history.order_by("-history_id").first()

    assert newest.list_parts == holds
    # No version of a new postmortem says its lists were "not recorded".
    assert all(row.list_parts for row in postmortem.history.all())
