"""The shipped demo corpus is realistic enough to demo every feature, and loads
idempotently."""

import datetime as dt
from collections import Counter

import pytest
from django.utils import timezone

from actions.models import ActionItem, Status
from postmortems.demo.loader import read_corpus
from postmortems.management.commands import load_demo as load_demo_command
from postmortems.models import Incident, Postmortem, Service, Team, TimelineEntry

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def corpus():
    return read_corpus()


def test_demo_corpus_covers_18_months_of_incidents(corpus):
    org, incidents = corpus
    starts = sorted(dt.datetime.fromisoformat(i["started_at"]) for i in incidents)
    assert len(incidents) >= 40
    assert (starts[-1] - starts[0]).days >= 500
    assert len(org["services"]) >= 8
    assert len(org["teams"]) >= 4


def test_demo_corpus_has_recurring_failure_classes(corpus):
    _, incidents = corpus
    classes = Counter(i["failure_class"] for i in incidents)
    assert len(classes) >= 10
    assert sum(1 for count in classes.values() if 3 <= count <= 6) >= 4


def test_demo_corpus_postmortems_are_complete(corpus):
    _, incidents = corpus
    for incident in incidents:
        assert 5 <= len(incident["timeline"]) <= 15, incident["key"]
        sections = incident["postmortem"]["sections"]
        assert sections["root_cause"].strip() and sections["trigger"].strip()
        assert incident["action_items"], incident["key"]


def test_load_demo_is_idempotent_and_shifts_dates_to_today():
    load_demo_command.Command().handle()
    counts = (
        Team.objects.count(),
        Service.objects.count(),
        Incident.objects.count(),
        Postmortem.objects.count(),
        TimelineEntry.objects.count(),
        ActionItem.objects.count(),
    )
    load_demo_command.Command().handle()
    assert counts == (
        Team.objects.count(),
        Service.objects.count(),
        Incident.objects.count(),
        Postmortem.objects.count(),
        TimelineEntry.objects.count(),
        ActionItem.objects.count(),
    )
    assert counts[2] >= 40
    latest = Incident.objects.order_by("-started_at").first().started_at
    assert timezone.now() - dt.timedelta(days=30) < latest <= timezone.now()
    overdue = ActionItem.objects.filter(
        status__in=[Status.OPEN, Status.IN_PROGRESS, Status.BLOCKED],
        due_date__lt=timezone.localdate(),
    )
    assert overdue.count() >= 8
    assert ActionItem.objects.filter(status=Status.WONT_DO).exists()
