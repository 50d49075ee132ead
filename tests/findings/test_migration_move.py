"""A database populated before findings became an app migrates across the move.

The models moved from ``postmortems`` to ``findings`` by state alone
(postmortems 0010, findings 0001) and their content types were renamed (findings
0002): every row stays where it was, readable through the new models, and an API
key made before the move still authenticates.
"""

import re

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from rest_framework_api_key.crypto import KeyGenerator

from findings.models import ApiKey, Finding, FindingMatch, IdempotencyRecord
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)

# The last migrations before the move; findings had none.
BEFORE = [("postmortems", "0009_postmortem_list_parts"), ("findings", None)]
# What would rebuild or copy a table rather than leave it be.
REBUILD = re.compile(
    r"\b(CREATE|DROP|ALTER)\s+TABLE\b|\bINSERT\s+INTO\b.*\bSELECT\b", re.I
)


def _migrate(targets) -> list[str]:
    """Migrate to ``targets``; the SQL statements run on the way."""
    statements: list[str] = []

    def record(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    executor = MigrationExecutor(connection)
    with connection.execute_wrapper(record):
        executor.migrate(targets)
    ContentType.objects.clear_cache()
    return statements


def _leaves() -> list[tuple[str, str]]:
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def test_a_populated_database_migrates_across_the_move(client):
    """GIVEN a database at the migrations before the move, with findings, their
    suggestions and matches, an API key, an idempotency record, and a person
    granted a permission on findings
    WHEN it migrates to the latest migrations
    THEN no table was created, dropped or rebuilt, every row reads through the
    findings models, the permission still holds, and the key authenticates."""
    # Core rows: their tables do not change across the move.
    team = factories.TeamFactory(slug="payments")
    service = factories.ServiceFactory(slug="checkout-web", team=team)
    incident = factories.IncidentFactory(team=team, title="Checkout 5xx")
    past = factories.IncidentFactory(team=team, title="Last month's 5xx")
    item = factories.ActionItemFactory(team=team, title="Pool size guard")
    reader = factories.UserFactory(username="auditor")

    _migrate(BEFORE)
    # The models as the applied migrations left them (Finding in postmortems).
    old = (
        MigrationExecutor(connection)
        ._create_project_state(with_applied_migrations=True)
        .apps
    )
    key, prefix, hashed = KeyGenerator().generate()
    api_key = old.get_model("postmortems", "ApiKey").objects.create(
        id=f"{prefix}.{hashed[-20:]}",
        prefix=prefix,
        hashed_key=hashed,
        name="alertmanager-prod",
        team_id=team.pk,
        scopes=["read", "alerts:write"],
    )
    OldFinding = old.get_model("postmortems", "Finding")
    parent = OldFinding.objects.create(
        team_id=team.pk,
        incident_id=incident.pk,
        analyzer="api-tracer",
        fingerprint="checkout-5xx",
        dedupe_key="api-tracer:checkout-5xx",
        title="Checkout 5xx above 5%",
        service_id=service.pk,
        evidence=[{"kind": "metric", "url": "https://grafana.example/d/1"}],
        follow_up_due=timezone.now(),
    )
    child = OldFinding.objects.create(
        team_id=team.pk,
        incident_id=incident.pk,
        analyzer="storage-probe",
        fingerprint="replica-lag",
        dedupe_key="storage-probe:replica-lag",
        title="Replica lag above 30 s",
        parent_id=parent.pk,
        parent_key=parent.dedupe_key,
        verdict="confirmed",
    )
    old.get_model("postmortems", "FindingSuggestion").objects.create(
        finding_id=child.pk,
        dedupe_key="a" * 64,
        kind="file_bug",
        title="Alert on replica disk above 85%",
        category="prevention",
    )
    old.get_model("postmortems", "FindingMatch").objects.create(
        incident_id=incident.pk,
        finding_id=parent.pk,
        past_incident_id=past.pk,
        action_item_id=item.pk,
        reason="Same service, same symptom",
    )
    old.get_model("postmortems", "IdempotencyRecord").objects.create(
        api_key_id=api_key.pk,
        key="retry-1",
        request_hash="b" * 64,
        status_code=201,
        response={"id": parent.pk},
    )
    OldContentType = old.get_model("contenttypes", "ContentType")
    old_type = OldContentType.objects.get(app_label="postmortems", model="finding")
    permission = Permission.objects.get(
        content_type_id=old_type.pk, codename="view_finding"
    )
    reader.user_permissions.add(permission)

    statements = _migrate(_leaves())

    assert [sql for sql in statements if REBUILD.search(sql)] == []
    moved_parent = Finding.objects.get(pk=parent.pk)
    moved_child = Finding.objects.select_related("parent").get(pk=child.pk)
    assert (moved_parent.incident, moved_parent.service) == (incident, service)
    assert moved_parent.follow_up_due is not None  # the relay still owes it
    assert moved_child.parent == moved_parent
    assert moved_child.verdict == "confirmed"
    assert [s.title for s in moved_child.suggestions.all()] == [
        "Alert on replica disk above 85%"
    ]
    match = FindingMatch.objects.get()
    assert (match.finding, match.past_incident, match.action_item_id) == (
        moved_parent,
        past,
        item.pk,
    )
    assert IdempotencyRecord.objects.get().api_key == ApiKey.objects.get()
    assert list(incident.findings.order_by("pk")) == [moved_parent, moved_child]
    # The content type was renamed, not replaced: the grant follows it.
    assert ContentType.objects.get_for_model(Finding).pk == old_type.pk
    assert not ContentType.objects.filter(app_label="postmortems", model="finding")
    reader = type(reader).objects.get(pk=reader.pk)
    assert reader.has_perm("findings.view_finding")

    response = client.get(
        "/api/v1/findings/", headers={"Authorization": f"Api-Key {key}"}
    )
    assert response.status_code == 200
    assert {row["id"] for row in response.json()["results"]} == {parent.pk, child.pk}


def test_the_move_migrates_back_to_the_old_app_labels():
    """Rolling back the move gives the content types back to postmortems."""
    finding_type = ContentType.objects.get_for_model(Finding)

    _migrate(BEFORE)
    assert ContentType.objects.get(pk=finding_type.pk).app_label == "postmortems"

    _migrate(_leaves())
    assert ContentType.objects.get(pk=finding_type.pk).app_label == "findings"
