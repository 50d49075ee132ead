"""The core announces workflow steps and assignments after commit, for the apps
that react to them (notifications, chat, trackers)."""

import pytest

from actions import signals as action_signals
from actions.models import Category, Status
from actions.services import action_item_create, action_item_set_status
from postmortems import signals
from postmortems.models import PostmortemStatus, WorkflowEvent
from postmortems.services.postmortems import postmortem_submit
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def received():
    calls = []

    def receiver(signal, sender, **kwargs):
        calls.append((signal, kwargs))

    hooked = [
        signals.postmortem_status_changed,
        signals.postmortem_reviewers_added,
        action_signals.action_item_assigned,
        action_signals.action_item_status_changed,
    ]
    for signal in hooked:
        signal.connect(receiver, weak=False)
    yield calls
    for signal in hooked:
        signal.disconnect(receiver)


def test_postmortem_submit_announces_the_step_after_commit(
    draft_postmortem, editor, received, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        postmortem_submit(postmortem=draft_postmortem, actor=editor)
    assert received == []  # nothing before commit
    for callback in callbacks:
        callback()
    steps = [k for s, k in received if s is signals.postmortem_status_changed]
    event = WorkflowEvent.objects.get(postmortem=draft_postmortem)
    assert steps == [
        {
            "postmortem_id": draft_postmortem.pk,
            "from_status": PostmortemStatus.DRAFT,
            "to_status": PostmortemStatus.IN_REVIEW,
            "actor_id": editor.pk,
            "comment": "",
            "event_id": event.pk,
        }
    ]


def test_action_item_assignment_and_status_are_announced_once(
    team, editor, received, django_capture_on_commit_callbacks
):
    owner = factories.UserFactory(teams=[team])
    with django_capture_on_commit_callbacks(execute=True):
        item = action_item_create(
            title="Alert on pool saturation",
            category=Category.DETECTION,
            team=team,
            owner=owner,
            created_by=editor,
        )
    with django_capture_on_commit_callbacks(execute=True):
        action_item_set_status(item=item, status=Status.IN_PROGRESS, actor=editor)
    assigned = [k for s, k in received if s is action_signals.action_item_assigned]
    moved = [k for s, k in received if s is action_signals.action_item_status_changed]
    assert assigned == [
        {"item_id": item.pk, "owner_id": owner.pk, "actor_id": editor.pk}
    ]
    assert moved == [
        {
            "item_id": item.pk,
            "from_status": Status.OPEN,
            "to_status": Status.IN_PROGRESS,
            "actor_id": editor.pk,
        }
    ]


def test_a_failing_receiver_never_fails_the_write(
    draft_postmortem, editor, django_capture_on_commit_callbacks
):
    def broken(**kwargs):
        raise RuntimeError("chat is down")

    signals.postmortem_status_changed.connect(broken, weak=False)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            postmortem_submit(postmortem=draft_postmortem, actor=editor)
    finally:
        signals.postmortem_status_changed.disconnect(broken)
    draft_postmortem.refresh_from_db()
    assert draft_postmortem.status == PostmortemStatus.IN_REVIEW
