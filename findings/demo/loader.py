"""Demo findings: three fictional analyzers on the demo incidents.

``findings/demo/findings.json`` holds findings keyed by demo incident key:
api-tracer (good and early), storage-probe (takes over from api-tracer on storage
trouble: its findings name an api-tracer finding as parent) and log-anomaly-scanner
(noisy and late). Each finding is in the native API format and is validated as
such; ``offset_minutes`` places it relative to the incident's detection, and
``verdict`` is what the postmortem's reviewer settled.

Idempotent: findings are keyed by (team, dedupe key); loading again leaves the same
rows. Incidents missing from the corpus are skipped and reported.
"""

import datetime as dt
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from findings import follow_up, validation
from findings.models import Finding, FindingSource
from postmortems.demo.loader import DEMO_SOURCE, DemoCorpusError
from postmortems.models import Incident, Postmortem, Service

logger = logging.getLogger(__name__)

DEMO_FINDINGS = Path(__file__).resolve().parent / "findings.json"


@dataclass
class DemoFindingsResult:
    findings: int = 0
    incidents: int = 0
    analyzers: set[str] = field(default_factory=set)
    skipped: list[str] = field(default_factory=list)


@transaction.atomic
def load_demo_findings(*, path: Path = DEMO_FINDINGS) -> DemoFindingsResult:
    """Create or update the demo findings; run their follow-up inline."""
    data = json.loads(path.read_text())
    wanted = data["incidents"]
    incidents = {
        incident.external_key: incident
        for incident in Incident.objects.filter(
            external_source=DEMO_SOURCE, external_key__in=list(wanted)
        ).select_related("team")
    }
    reviewers = {}
    for postmortem in Postmortem.objects.filter(
        incident__in=incidents.values()
    ).prefetch_related("reviewers"):
        people = sorted(postmortem.reviewers.all(), key=lambda user: user.username)
        reviewers[postmortem.incident_id] = people[0] if people else None
    slugs = {
        item["finding"].get("service")
        for items in wanted.values()
        for item in items
        if item["finding"].get("service")
    }
    service_ids = dict(Service.objects.filter(slug__in=slugs).values_list("slug", "pk"))

    result = DemoFindingsResult()
    touched: list[int] = []
    for key, items in wanted.items():
        incident = incidents.get(key)
        if incident is None:
            result.skipped.append(key)
            continue
        result.incidents += 1
        base = incident.detected_at or incident.started_at
        for position, item in enumerate(items):
            payload = {**item["finding"], "incident_id": incident.pk}
            record, errors = validation.validate_finding(payload)
            if errors:
                raise DemoCorpusError(f"findings.json {key}[{position}]: {errors}")
            seen = base + dt.timedelta(minutes=item["offset_minutes"])
            verdict = item.get("verdict", "")
            reviewer = reviewers.get(incident.pk) if verdict else None
            settled = (incident.resolved_at or seen) + dt.timedelta(days=3)
            finding, _ = Finding.objects.update_or_create(
                team=incident.team,
                dedupe_key=record.dedupe_key,
                defaults={
                    "incident": incident,
                    "source": FindingSource.API,
                    "analyzer": record.analyzer,
                    "analyzer_version": record.analyzer_version,
                    "fingerprint": record.fingerprint,
                    "service_id": service_ids.get(record.service),
                    "severity": record.severity,
                    "title": record.title,
                    "summary": record.summary,
                    "root_cause": record.root_cause,
                    "root_cause_class": record.root_cause_class,
                    "root_cause_confidence": record.root_cause_confidence,
                    "evidence": record.evidence,
                    "suggested_actions": record.suggested_actions,
                    "raw": payload,
                    "started_at": seen - dt.timedelta(minutes=1),
                    "first_seen_at": seen,
                    "last_seen_at": seen,
                    # Linked below, by dedupe key, like any late parent.
                    "parent": None,
                    "parent_key": record.parent_dedupe_key,
                    "verdict": verdict,
                    "verdict_by": reviewer,
                    "verdict_at": settled if verdict else None,
                },
            )
            touched.append(finding.pk)
            result.findings += 1
            result.analyzers.add(record.analyzer)

    # The follow-up every ingested finding gets, run inline: the demo's findings
    # end as ingest's would (parents, service links, timeline, suggestions,
    # matches to past incidents). Not announced: loading the demo on a site with
    # Slack set up must not post its made-up alerts to real channels.
    follow_up.findings_follow_up(finding_ids=touched, announce=False)
    if result.skipped:
        logger.warning(
            "Demo findings: no demo incident for %s", ", ".join(result.skipped)
        )
    return result


def demo_findings_load() -> str:
    """``manage.py load_demo``'s step for findings: load them, say what was loaded."""
    result = load_demo_findings()
    return (
        f"Demo findings: {result.findings} from {len(result.analyzers)} analyzers "
        f"on {result.incidents} incidents."
    )
