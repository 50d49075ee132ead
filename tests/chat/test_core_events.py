"""The two events chat needed from the core: an item became overdue, an alert
fired (after its follow-up matched it with past incidents)."""

import datetime as dt

import pytest
from django.utils import timezone

from actions import signals as action_signals
from actions.services import reminders_send
from findings.follow_up import findings_follow_up
from postmortems import signals
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def received():
    calls = []

    def receiver(signal, sender, **kwargs):
        calls.append((signal, kwargs))

    hooked = [signals.alert_fired, action_signals.action_items_overdue]
    for signal in hooked:
        signal.connect(receiver, weak=False)
    yield calls
    for signal in hooked:
        signal.disconnect(receiver)


def test_reminders_announce_each_overdue_item_after_commit(
    team, received, django_capture_on_commit_callbacks
):
    today = timezone.localdate()
    owner = factories.UserFactory(teams=[team])
    late = factories.ActionItemFactory(
        team=team, owner=owner, due_date=today - dt.timedelta(days=1)
    )
    factories.ActionItemFactory(team=team, owner=owner, due_date=today)  # not late
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        reminders_send()
    assert received == []
    for callback in callbacks:
        callback()
    assert received == [
        (
            action_signals.action_items_overdue,
            {"items": [{"item_id": late.pk, "due_date": late.due_date.isoformat()}]},
        )
    ]


def test_follow_up_announces_the_findings_still_firing(
    team, received, django_capture_on_commit_callbacks
):
    incident = factories.IncidentFactory(team=team)
    firing = factories.FindingFactory(incident=incident)
    factories.FindingFactory(incident=incident, ended_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        findings_follow_up(finding_ids=[firing.pk, firing.pk + 1])
    assert received == [
        (
            signals.alert_fired,
            {"finding_ids": [firing.pk], "incident_ids": [incident.pk]},
        )
    ]


def test_follow_up_of_resolved_alerts_announces_nothing(
    team, received, django_capture_on_commit_callbacks
):
    resolved = factories.FindingFactory(
        incident=factories.IncidentFactory(team=team), ended_at=timezone.now()
    )
    with django_capture_on_commit_callbacks(execute=True):
        findings_follow_up(finding_ids=[resolved.pk])
    assert received == []
