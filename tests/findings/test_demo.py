"""Demo findings: three analyzers on the demo incidents, loaded idempotently."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from findings.demo.loader import load_demo_findings
from findings.models import Finding, FindingMatch, FindingSuggestion
from findings.selectors import analyzer_scorecards

pytestmark = pytest.mark.django_db


def test_load_demo_loads_findings_from_three_analyzers_idempotently():
    out = StringIO()
    call_command("load_demo", stdout=out)
    counts = (
        Finding.objects.count(),
        FindingSuggestion.objects.count(),
        FindingMatch.objects.count(),
    )

    result = load_demo_findings()

    assert "Demo findings: 26 from 3 analyzers on 11 incidents." in out.getvalue()
    assert result.skipped == []
    assert (
        Finding.objects.count(),
        FindingSuggestion.objects.count(),
        FindingMatch.objects.count(),
    ) == counts
    assert set(Finding.objects.values_list("analyzer", flat=True)) == {
        "api-tracer",
        "storage-probe",
        "log-anomaly-scanner",
    }
    # storage-probe takes over from api-tracer.
    chained = Finding.objects.filter(analyzer="storage-probe", parent__isnull=False)
    assert chained.exists()
    assert {f.parent.analyzer for f in chained} == {"api-tracer"}
    # The good analyzer scores well, the noisy one does not.
    cards = {card.analyzer: card for card in analyzer_scorecards()}
    assert cards["api-tracer"].confirmed_share == 1.0
    assert cards["api-tracer"].median_lead_seconds > 0
    assert cards["log-anomaly-scanner"].confirmed_share == 0.0
    assert cards["log-anomaly-scanner"].median_lead_seconds < 0
    assert counts[2] > 0  # "this looks like INC-N" on later incidents


def test_load_demo_findings_skips_incidents_missing_from_the_corpus(tmp_path):
    path = tmp_path / "findings.json"
    path.write_text('{"incidents": {"no-such-incident": []}}')

    result = load_demo_findings(path=path)

    assert result.skipped == ["no-such-incident"]
    assert Finding.objects.count() == 0


def follow_up_state() -> dict:
    """Everything a finding's follow-up writes, as comparable values."""
    from findings.models import Finding as F
    from postmortems.models import Incident, TimelineEntry

    return {
        "parents": set(F.objects.values_list("pk", "parent_id")),
        "due": set(F.objects.values_list("follow_up_due", flat=True)),
        "services": set(
            Incident.services.through.objects.values_list("incident_id", "service_id")
        ),
        "timeline": set(
            TimelineEntry.objects.values_list("incident_id", "kind", "dedupe_key")
        ),
        "suggestions": set(
            FindingSuggestion.objects.values_list("finding_id", "dedupe_key", "title")
        ),
        "matches": set(
            FindingMatch.objects.values_list(
                "finding_id", "past_incident_id", "action_item_id", "reason"
            )
        ),
    }


def test_load_demo_findings_leaves_nothing_for_ingests_follow_up_to_do():
    """GIVEN the demo loaded, its incidents' services cleared and its findings
    loaded again
    WHEN every demo finding is made due and ingest's follow-up task runs on it
    THEN nothing changes: the demo ran the same follow-up (parents, service links,
    timeline entries, suggestions, similar incidents), not a part of it."""
    from findings import tasks
    from postmortems.models import Incident

    call_command("load_demo", stdout=StringIO())
    Incident.services.through.objects.all().delete()
    load_demo_findings()
    loaded = follow_up_state()
    Finding.objects.update(follow_up_due=timezone.now())

    for incident_id in set(Finding.objects.values_list("incident_id", flat=True)):
        tasks.findings_follow_up(incident_id=incident_id)

    assert follow_up_state() == loaded
    assert loaded["matches"] and loaded["suggestions"] and loaded["services"]


def test_load_demo_findings_tell_no_chat_channel_about_their_made_up_alerts(
    django_capture_on_commit_callbacks,
):
    """GIVEN a site whose apps listen for alerts still firing (chat posts them to
    team channels) WHEN the demo's findings are loaded THEN nothing is announced:
    the demo's alerts never happened."""
    from postmortems import signals

    call_command("load_demo", stdout=StringIO())
    heard = []

    def receiver(sender, **kwargs):
        heard.append(kwargs["finding_ids"])

    signals.alert_fired.connect(receiver, weak=False)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            load_demo_findings()
    finally:
        signals.alert_fired.disconnect(receiver)

    assert Finding.objects.filter(ended_at__isnull=True).exists()
    assert heard == []
