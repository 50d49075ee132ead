"""A postmortem downloaded as Markdown imports back to the same postmortem.

Every demo postmortem (all three templates, every status) is exported through the
page's Markdown download, the database is emptied of incidents and postmortems,
the files are imported with ``manage.py import_postmortems``, and every field the
file carries is compared.
"""

from io import StringIO

import pytest
import yaml
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from actions.models import ActionItem
from insights.models import PostmortemClassification
from postmortems.management.commands import load_demo as load_demo_command
from postmortems.models import Incident, Postmortem

pytestmark = pytest.mark.django_db


def _user(user) -> str | None:
    return user.username if user is not None else None


def snapshot(postmortem: Postmortem) -> dict:
    """Every field an exported file carries, as plain comparable values."""
    incident = postmortem.incident
    classification = PostmortemClassification.objects.filter(
        postmortem=postmortem
    ).first()
    return {
        "title": incident.title,
        "severity": incident.severity,
        "team": incident.team.slug,
        "services": sorted(s.slug for s in incident.services.all()),
        "times": [
            getattr(incident, name)
            for name in (
                "started_at",
                "detected_at",
                "acknowledged_at",
                "mitigated_at",
                "resolved_at",
            )
        ],
        "roles": [
            _user(getattr(incident, role))
            for role in ("commander", "comms_lead", "ops_lead", "scribe")
        ],
        "template": postmortem.template.slug,
        "status": postmortem.status,
        "author": _user(postmortem.author),
        "reviewers": sorted(_user(u) for u in postmortem.reviewers.all()),
        "sections": {
            key: text.strip()
            for key, text in (postmortem.sections or {}).items()
            if text.strip()
        },
        "five_whys": list(postmortem.five_whys),
        "impact": [
            postmortem.impact_users_affected,
            postmortem.impact_revenue_usd,
            postmortem.impact_error_budget_pct,
            list(postmortem.impact_regions),
        ],
        "published_at": postmortem.published_at,
        # The class a person confirmed is what the file carries; insights may
        # infer one for an unclassified postmortem once it is imported.
        "failure_class": classification.failure_class.slug
        if classification and classification.is_confirmed
        else None,
        "contributing_factors": [
            (f.kind, f.description) for f in postmortem.contributing_factors.all()
        ],
        "hypotheses": sorted(
            (h.track, h.status, h.text, h.test, _user(h.settled_by), h.settled_at)
            for h in postmortem.hypotheses.all()
        ),
        "timeline": sorted(
            (e.occurred_at, e.kind, e.text, _user(e.author))
            for e in incident.timeline.all()
        ),
        "action_items": sorted(
            (
                i.title,
                i.description,
                i.category,
                i.priority,
                i.status,
                _user(i.owner),
                i.team.slug,
                i.due_date,
            )
            for i in postmortem.action_items.all()
        ),
    }


def _differences(before: dict, after: dict) -> list[str]:
    problems = []
    for key in sorted(set(before) | set(after)):
        if key not in after:
            problems.append(f"{key}: not imported")
            continue
        if key not in before:
            problems.append(f"{key}: imported but never exported")
            continue
        for field, value in before[key].items():
            if after[key][field] != value:
                problems.append(
                    f"{key} {field}: exported {value!r}, imported {after[key][field]!r}"
                )
    return problems


def test_every_demo_postmortem_exported_as_markdown_imports_back_the_same(
    client, tmp_path, django_capture_on_commit_callbacks
):
    """GIVEN the demo corpus (45 postmortems, three templates, every status)
    WHEN each is downloaded as Markdown, the incidents are deleted, and the files
    are imported THEN every postmortem comes back with every exported field equal,
    its failure class included."""
    load_demo_command.Command().handle()
    client.force_login(get_user_model().objects.get(username="demo"))
    exported = {}
    for postmortem in Postmortem.objects.select_related("incident"):
        response = client.get(
            reverse("postmortems:postmortem_export_markdown", args=[postmortem.pk])
        )
        assert response.status_code == 200
        (tmp_path / f"{postmortem.pk}.md").write_bytes(response.content)
        exported[postmortem.incident.title] = snapshot(postmortem)
    assert len(exported) == 45
    classified = [s for s in exported.values() if s["failure_class"]]
    assert classified, "the demo has confirmed failure classes to export"
    templates = {s["template"] for s in exported.values()}
    assert templates == {"google-sre", "rfo", "config-change"}

    ActionItem.objects.all().delete()
    Incident.objects.all().delete()
    assert not Postmortem.objects.exists()
    out, err = StringIO(), StringIO()
    # Insights records the imported class when the file's transaction commits.
    with django_capture_on_commit_callbacks(execute=True):
        call_command(
            "import_postmortems",
            str(tmp_path),
            "--team",
            "payments",
            "--author",
            "demo",
            stdout=out,
            stderr=err,
        )
    assert "45 file(s): 45 postmortem(s) imported" in out.getvalue(), err.getvalue()

    imported = {
        p.incident.title: snapshot(p)
        for p in Postmortem.objects.select_related("incident")
    }
    problems = _differences(exported, imported)
    assert not problems, "\n".join(problems[:40])


def test_export_front_matter_names_the_failure_class(client):
    load_demo_command.Command().handle()
    classification = PostmortemClassification.objects.exclude(
        failure_class=None
    ).first()
    client.force_login(classification.postmortem.author)
    response = client.get(
        reverse(
            "postmortems:postmortem_export_markdown",
            args=[classification.postmortem.pk],
        )
    )
    header = response.content.decode().split("---\n", 2)[1]
    assert yaml.safe_load(header)["root_cause_class"] == (
        classification.failure_class.slug
    )
