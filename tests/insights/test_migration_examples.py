"""Migration 0007 gives the starter classes their example statements."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from insights.models import FailureClass
from insights.taxonomy import load_taxonomy

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("insights", "0006_failure_class_axis")]


def test_examples_reach_every_starter_class_and_follow_a_merge():
    """GIVEN a database from before the examples, where a person had merged
    the DNS class into Network
    WHEN it migrates
    THEN every live starter class has its shipped examples, and Network also
    has DNS's, as a merge hands them on now."""
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps.get_model(
        "insights", "FailureClass"
    )
    network = old.objects.get(slug="network")
    old.objects.filter(slug="dns").update(status="merged", merged_into=network)

    MigrationExecutor(connection).migrate(leaves)

    shipped = {e["slug"]: e["examples"] for e in load_taxonomy()}
    stored = dict(FailureClass.objects.values_list("slug", "examples"))
    for slug in set(shipped) - {"dns", "network"}:
        assert stored[slug] == shipped[slug]
    assert sorted(stored["network"]) == sorted(shipped["network"] + shipped["dns"])
