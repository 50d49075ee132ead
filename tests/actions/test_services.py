"""Rules of the action-item services: reasons, verification, due policy, history,
and leadership decisions applied to items."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from actions import services
from actions.models import ActionItem, Decision, DuePolicy, Status
from tests import factories

pytestmark = pytest.mark.django_db


def _create(team, **kwargs):
    defaults = {"title": "Alert on queue depth", "category": "detection"}
    return services.action_item_create(team=team, **{**defaults, **kwargs})


def test_action_item_create_defaults_due_date_from_admin_edited_policy(team):
    DuePolicy.objects.filter(priority="P1").update(days=14)
    item = _create(team, priority="P1")
    assert item.due_date == timezone.localdate() + dt.timedelta(days=14)


def test_action_item_create_keeps_an_explicit_due_date(team):
    when = dt.date(2027, 1, 31)
    assert _create(team, due_date=when).due_date == when


@pytest.mark.parametrize("status", [Status.BLOCKED, Status.WONT_DO])
def test_action_item_set_status_requires_a_reason(team, editor, status):
    item = _create(team)
    with pytest.raises(ValidationError) as excinfo:
        services.action_item_set_status(item=item, status=status, actor=editor)
    assert "status_reason" in excinfo.value.message_dict
    item.refresh_from_db()
    assert item.status == Status.OPEN


def test_action_item_model_clean_requires_a_reason(team):
    item = factories.ActionItemFactory(team=team)
    item.status = Status.WONT_DO
    with pytest.raises(ValidationError) as excinfo:
        item.full_clean()
    assert "won't be done" in excinfo.value.message_dict["status_reason"][0]


def test_action_item_set_status_done_needs_note_and_stamps_completion(team, editor):
    item = _create(team)
    with pytest.raises(ValidationError):
        services.action_item_set_status(item=item, status=Status.DONE, actor=editor)
    services.action_item_set_status(
        item=item,
        status=Status.DONE,
        actor=editor,
        verification_note="Synthetic check pages on-call.",
    )
    assert item.completed_at is not None
    services.action_item_set_status(item=item, status=Status.OPEN, actor=editor)
    item.refresh_from_db()
    assert item.completed_at is None
    assert item.status == Status.OPEN


def test_action_item_update_records_who_changed_what(team, editor, reviewer):
    item = _create(team, created_by=editor)
    services.action_item_update(item=item, actor=reviewer, priority="P0")
    records = list(item.history.order_by("history_date", "history_id"))
    assert [r.history_user for r in records] == [editor, reviewer]
    change = records[1].diff_against(records[0]).changes
    assert [(c.field, c.old, c.new) for c in change] == [("priority", "P2", "P0")]


def test_action_item_update_refuses_a_status_without_reason(team, editor):
    item = _create(team)
    with pytest.raises(ValidationError):
        services.action_item_update(item=item, actor=editor, status=Status.BLOCKED)
    assert ActionItem.objects.get(pk=item.pk).status == Status.OPEN


def _review(user):
    return services.leadership_review_create(
        date=timezone.localdate(), recorded_by=user, attendees=[user]
    )


def test_review_decision_wont_do_closes_with_note_as_reason(team, reviewer):
    item = _create(team)
    services.review_decision_record(
        review=_review(reviewer),
        item=item,
        decision=Decision.WONT_DO,
        note="Service is being retired in Q1.",
        actor=reviewer,
    )
    item.refresh_from_db()
    assert item.status == Status.WONT_DO
    assert item.status_reason == "Service is being retired in Q1."


def test_review_decision_wont_do_without_note_is_refused(team, reviewer):
    item = _create(team)
    with pytest.raises(ValidationError):
        services.review_decision_record(
            review=_review(reviewer),
            item=item,
            decision=Decision.WONT_DO,
            actor=reviewer,
        )
    assert ActionItem.objects.get(pk=item.pk).status == Status.OPEN


def test_review_decision_escalate_raises_priority_and_keeps_the_trail(team, reviewer):
    item = _create(team, priority="P2")
    decision = services.review_decision_record(
        review=_review(reviewer),
        item=item,
        decision=Decision.ESCALATE,
        note="Customer-facing risk.",
        actor=reviewer,
    )
    item.refresh_from_db()
    assert item.priority == "P1"
    assert decision.previous_priority == "P2"
    latest = item.history.first()
    assert latest.history_user == reviewer
    assert latest.history_change_reason.startswith("Leadership review")


def test_review_decision_redate_needs_a_date(team, reviewer):
    item = _create(team)
    with pytest.raises(ValidationError):
        services.review_decision_record(
            review=_review(reviewer),
            item=item,
            decision=Decision.REDATE,
            actor=reviewer,
        )


def test_review_decision_accept_risk_leaves_the_item_unchanged(team, reviewer):
    item = _create(team)
    before = (item.status, item.priority, item.due_date)
    services.review_decision_record(
        review=_review(reviewer),
        item=item,
        decision=Decision.ACCEPT_RISK,
        note="Low blast radius.",
        actor=reviewer,
    )
    item.refresh_from_db()
    assert (item.status, item.priority, item.due_date) == before
    assert item.review_decisions.get().decision == Decision.ACCEPT_RISK
