"""Every way the classes the classifier reads change queues a full run.

The classifier reads each class's status, name, description, axis and
examples. A change to any of them, made on the class page or in the admin,
must reach the report without waiting for the nightly run: a full run is
queued once the change commits, and it recomputes instead of skipping.
"""

import json

import pytest
from django.test import Client
from django.urls import reverse

from insights import services
from insights.models import (
    ClassOrigin,
    ClassStatus,
    FailureClass,
    InsightRun,
    PostmortemClassification,
    RunKind,
    RunStatus,
)
from tests import factories

pytestmark = pytest.mark.django_db


def _proposed() -> FailureClass:
    """A class clustering proposed (written as a run writes it: no run queued)."""
    return FailureClass.objects.create(
        slug="proposed-queue-backlog",
        name="Queue backlog",
        status=ClassStatus.PROPOSED,
        origin=ClassOrigin.CLUSTER,
        terms=["queue", "backlog", "consumer"],
    )


def _page(client, reviewer):
    client.force_login(reviewer)
    return client


def _admin(client):
    admin = factories.UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    return client


def _admin_form(failure_class: FailureClass, **changes) -> dict:
    """The admin's change form as it comes filled, with ``changes`` made."""
    data = {
        "name": failure_class.name,
        "description": failure_class.description,
        "examples": json.dumps(failure_class.examples),
        "status": failure_class.status,
        "origin": failure_class.origin,
        "axis": failure_class.axis,
    }
    return {**data, **changes}


def _accepted_on_the_page(client, reviewer):
    proposed = _proposed()
    _page(client, reviewer).post(
        reverse("insights:class_accept", args=[proposed.slug]),
        {"name": "Queue backlog", "description": "Consumers fell behind."},
    )


def _renamed_on_the_page(client, reviewer):
    _page(client, reviewer).post(
        reverse("insights:class_rename", args=["dns"]), {"name": "Name resolution"}
    )


def _redescribed_on_the_page(client, reviewer):
    _page(client, reviewer).post(
        reverse("insights:class_rename", args=["dns"]),
        {"name": "DNS", "description": "Resolvers answered wrongly or not at all."},
    )


def _axis_changed_on_the_page(client, reviewer):
    _page(client, reviewer).post(
        reverse("insights:class_rename", args=["dns"]),
        {"name": FailureClass.objects.get(slug="dns").name, "axis": "change"},
    )


def _merged_on_the_page(client, reviewer):
    _page(client, reviewer).post(
        reverse("insights:class_merge", args=["dns"]), {"target": "network"}
    )


def _split_on_the_page(client, reviewer):
    row = PostmortemClassification.objects.exclude(failure_class=None).first()
    _page(client, reviewer).post(
        reverse("insights:class_split", args=[row.failure_class.slug]),
        {"name": "Split off", "postmortems": [row.postmortem_id]},
    )


def _added_in_the_admin(client, reviewer):
    response = _admin(client).post(
        reverse("admin:insights_failureclass_add"),
        {
            "slug": "queue-backlog",
            "name": "Queue backlog",
            "description": "Consumers fell behind and queues grew without bound.",
            "examples": "[]",
            "status": ClassStatus.ACCEPTED,
            "origin": ClassOrigin.PERSON,
            "axis": "mechanism",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]


def _redescribed_in_the_admin(client, reviewer):
    dns = FailureClass.objects.get(slug="dns")
    response = _admin(client).post(
        reverse("admin:insights_failureclass_change", args=[dns.pk]),
        _admin_form(dns, description="Resolvers answered wrongly or not at all."),
    )
    assert response.status_code == 302, response.content.decode()[:2000]


def _accepted_in_the_admin(client, reviewer):
    proposed = _proposed()
    response = _admin(client).post(
        reverse("admin:insights_failureclass_change", args=[proposed.pk]),
        _admin_form(proposed, status=ClassStatus.ACCEPTED),
    )
    assert response.status_code == 302, response.content.decode()[:2000]


def _deleted_in_the_admin(client, reviewer):
    dns = FailureClass.objects.get(slug="dns")
    response = _admin(client).post(
        reverse("admin:insights_failureclass_delete", args=[dns.pk]), {"post": "yes"}
    )
    assert response.status_code == 302


def _deleted_in_bulk_in_the_admin(client, reviewer):
    dns = FailureClass.objects.get(slug="dns")
    response = _admin(client).post(
        reverse("admin:insights_failureclass_changelist"),
        {"action": "delete_selected", "_selected_action": [dns.pk], "post": "yes"},
    )
    assert response.status_code == 302


CHANGES = [
    _accepted_on_the_page,
    _renamed_on_the_page,
    _redescribed_on_the_page,
    _axis_changed_on_the_page,
    _merged_on_the_page,
    _split_on_the_page,
    _added_in_the_admin,
    _redescribed_in_the_admin,
    _accepted_in_the_admin,
    _deleted_in_the_admin,
    _deleted_in_bulk_in_the_admin,
]


@pytest.mark.parametrize("change", CHANGES, ids=lambda f: f.__name__)
def test_every_change_to_what_the_classifier_reads_runs_the_pipeline_again(
    change, fake_model, corpus_postmortems, reviewer, django_capture_on_commit_callbacks
):
    """GIVEN a full run over the corpus
    WHEN a reviewer or an admin changes a class the classifier reads
    THEN a full run follows once the change commits, and it recomputes (its
    inputs changed) instead of skipping."""
    first = InsightRun.objects.create(kind=RunKind.FULL)
    assert services.insight_run_execute(run_id=first.pk) == RunStatus.SUCCEEDED
    with django_capture_on_commit_callbacks(execute=True):
        change(Client(), reviewer)
    after = InsightRun.objects.filter(kind=RunKind.FULL, pk__gt=first.pk)
    assert [run.status for run in after] == [RunStatus.SUCCEEDED]


def test_an_admin_save_that_changes_nothing_read_queues_no_run(
    fake_model, corpus_postmortems, django_capture_on_commit_callbacks
):
    dns = FailureClass.objects.get(slug="dns")
    with django_capture_on_commit_callbacks(execute=True):
        response = _admin(Client()).post(
            reverse("admin:insights_failureclass_change", args=[dns.pk]),
            _admin_form(dns),
        )
    assert response.status_code == 302
    assert not InsightRun.objects.exists()


def test_a_class_deleted_in_the_admin_leaves_its_confirmations_to_be_read_again(
    fake_model, corpus_postmortems, editor, django_capture_on_commit_callbacks
):
    """GIVEN a postmortem and a statement people put in a class
    WHEN an admin deletes that class
    THEN the run that follows classifies both again, instead of leaving them
    "confirmed" in no class."""
    from insights.models import CauseStatement

    first = InsightRun.objects.create(kind=RunKind.FULL)
    assert services.insight_run_execute(run_id=first.pk) == RunStatus.SUCCEEDED
    postmortem, other = corpus_postmortems["cert"][:2]
    dns = FailureClass.objects.get(slug="dns")
    services.postmortem_class_confirm(
        postmortem=postmortem, failure_class=dns, user=editor, retrain=False
    )
    statement = CauseStatement.objects.get(postmortem=other, key="root_cause")
    statement.failure_class = dns
    statement.source = "confirmed"
    statement.save()
    with django_capture_on_commit_callbacks(execute=True):
        _deleted_in_the_admin(Client(), None)
    row = PostmortemClassification.objects.get(postmortem=postmortem)
    assert row.failure_class is not None and not row.is_confirmed
    # Rewritten by the run (a new row).
    statement = CauseStatement.objects.get(postmortem=other, key="root_cause")
    assert statement.failure_class is not None and not statement.is_confirmed
