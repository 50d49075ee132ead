"""The people and the postmortem every notification test starts from, and the
local Slack Web API for the chat channel's tests."""

import pytest

from postmortems.models import Role
from tests import factories
from tests.chat.conftest import _slack_server, slack  # noqa: F401 - fixtures


@pytest.fixture
def people(team):
    user = factories.UserFactory
    return {
        "author": user(
            username="author",
            first_name="Ada",
            email="ada@example.com",
            role=Role.EDITOR,
            teams=[team],
        ),
        "reviewer": user(
            username="rev",
            first_name="Rui",
            email="rui@example.com",
            role=Role.REVIEWER,
            teams=[team],
        ),
        "owner": user(
            username="owner",
            first_name="Oki",
            email="oki@example.com",
            role=Role.EDITOR,
            teams=[team],
        ),
        # Named a reviewer only once the postmortem is in review.
        "late": user(
            username="late",
            email="late@example.com",
            role=Role.REVIEWER,
            teams=[team],
        ),
    }


@pytest.fixture
def postmortem(team, people):
    return factories.PostmortemFactory(
        incident__team=team,
        incident__severity="SEV3",
        author=people["author"],
        reviewers=[people["reviewer"]],
    )
