"""A team's tracker configuration refuses a project the tracker cannot have."""

import pytest
from django.core.exceptions import ValidationError

from postmortems.tasks import outbox_relay
from trackers.models import TrackerConfig

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "provider, project, ok",
    [
        ("jira", "OPS", True),
        ("jira", "ops", False),
        ("jira", "https://acme.atlassian.net/browse/OPS", False),
        ("github", "acme/platform", True),
        ("github", "acme", False),
        ("github", "https://github.com/acme/platform", False),
        ("linear", "72b2a2dc-6f4f-4423-9d34-24b5bd10634a", True),
        ("linear", "ENG", False),
    ],
)
def test_tracker_config_checks_the_project_format(team, provider, project, ok):
    config = TrackerConfig(team=team, provider=provider, project=project)
    if ok:
        config.full_clean()
        return
    with pytest.raises(ValidationError) as caught:
        config.full_clean()
    assert "project" in caught.value.message_dict


def test_tracker_config_labels_are_a_clean_list(team):
    config = TrackerConfig(team=team, provider="github", labels=" a, ,b ,c")
    assert config.label_list == ["a", "b", "c"]


def test_the_one_relay_sends_every_apps_waiting_work():
    """One beat entry resends what waits in every app's rows: the core's outbox,
    findings' follow-ups, chat messages, tracker links and notifications."""
    said = outbox_relay()
    assert said.startswith("sent 0 task(s) and ")
    for part in (
        "the follow-up of 0 finding(s)",
        "0 chat message(s)",
        "0 notification(s)",
        "the sync of 0 tracker link(s)",
    ):
        assert part in said
