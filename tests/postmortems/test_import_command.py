"""``manage.py import_postmortems``: whole files or nothing, with a clear summary."""

import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from actions.models import ActionItem
from actions.models import Status as ActionStatus
from postmortems.models import (
    Incident,
    Postmortem,
    PostmortemStatus,
    TimelineEntry,
    WorkflowEvent,
)
from tests import factories

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent / "data"


@pytest.fixture
def org(team, other_team, admin_user):
    factories.ServiceFactory(slug="checkout", name="Checkout", team=team)
    factories.UserFactory(username="jennifer", teams=[team])
    return admin_user


def _run(*args):
    out, err = StringIO(), StringIO()
    try:
        call_command("import_postmortems", *args, stdout=out, stderr=err)
    except CommandError as exc:
        return out.getvalue(), err.getvalue(), exc
    return out.getvalue(), err.getvalue(), None


def test_import_markdown_creates_incident_postmortem_timeline_and_actions(org, team):
    out, err, exc = _run(str(DATA / "sre_good.md"), "--team", "payments")
    assert exc is None, err
    incident = Incident.objects.get()
    assert incident.title == "Shakespeare search outage"
    assert incident.team == team
    assert incident.severity == "SEV1"
    assert [s.slug for s in incident.services.all()] == ["checkout"]
    assert incident.resolved_at.isoformat() == "2015-10-21T16:00:00+00:00"
    postmortem = incident.postmortem
    assert postmortem.status == PostmortemStatus.PUBLISHED
    assert postmortem.author == org  # the first admin by default
    assert postmortem.template.slug == "google-sre"
    assert "Borgmon" in postmortem.section("detection")
    assert "out of practice" in postmortem.section("went_wrong")
    assert TimelineEntry.objects.filter(incident=incident).count() == 5
    items = ActionItem.objects.filter(postmortem=postmortem).order_by("pk")
    assert [(i.status, i.owner and i.owner.username) for i in items] == [
        (ActionStatus.DONE, "jennifer"),
        (ActionStatus.OPEN, None),
    ]
    assert WorkflowEvent.objects.get(postmortem=postmortem).to_status == "published"
    assert "imported 1 postmortem(s) with 5 timeline entries and 2 action items" in out
    assert (
        "1 file(s): 1 postmortem(s) imported, 0 already there, 0 file(s) failed."
        in (out)
    )


def test_import_jsonl_creates_one_postmortem_per_line(org, other_team):
    out, err, exc = _run(
        str(DATA / "good.jsonl"), "--team", "payments", "--author", "jennifer"
    )
    assert exc is None, err
    first, second = Postmortem.objects.order_by("incident__started_at")
    assert first.incident.title == "Card processor timeouts"
    assert first.author.username == "jennifer"
    assert first.section("trigger") == "Processor maintenance."
    assert first.incident.team.slug == "payments"
    # A line's own team wins over --team.
    assert second.incident.team == other_team
    assert second.incident.severity == "SEV2"  # the default
    assert "2 postmortem(s) imported" in out


def test_import_twice_skips_what_is_already_there(org):
    _run(str(DATA / "good.jsonl"), "--team", "payments")
    out, _, exc = _run(str(DATA / "good.jsonl"), "--team", "payments")
    assert exc is None
    assert Incident.objects.count() == 2
    assert "0 postmortem(s) imported, 2 already there" in out


def test_import_malformed_jsonl_reports_the_line_and_writes_nothing(org, tmp_path):
    path = tmp_path / "mixed.jsonl"
    path.write_text(
        '{"title": "Good one", "date": "2025-01-01", "text": "fine"}\n'
        '{"title": "Also good", "date": "2025-01-02", "text": "fine"}\n'
        '{"title": "Broken", "date": "2025-01-03", "text": "no closing brace"\n'
    )
    out, err, exc = _run(str(path), "--team", "payments")
    assert exc is not None
    assert f"{path}: NOT imported, nothing written:" in err
    assert f"{path}:3: not valid JSON" in err
    assert "1 file(s) failed" in str(exc)
    assert not Incident.objects.exists()
    assert not Postmortem.objects.exists()


def test_import_unknown_service_rolls_back_the_whole_file(org, tmp_path):
    path = tmp_path / "refs.jsonl"
    path.write_text(
        '{"title": "Fine", "date": "2025-01-01", "text": "ok"}\n'
        '{"title": "Bad ref", "date": "2025-01-02", "text": "x", '
        '"services": ["nope"]}\n'
    )
    _, err, exc = _run(str(path), "--team", "payments")
    assert exc is not None
    assert f"{path}:2: unknown service(s): nope" in err
    assert not Incident.objects.exists()


def test_import_markdown_missing_sections_is_reported(org, tmp_path):
    path = tmp_path / "thin.md"
    path.write_text("# Thin\n\nDate: 2025-01-02\n\n## Summary\nSomething broke.\n")
    _, err, exc = _run(str(path), "--team", "payments")
    assert exc is not None
    assert f"{path}:1: missing required section(s): ## Impact, ## Root Causes" in err
    assert not Incident.objects.exists()


def test_import_good_and_bad_files_together_imports_only_the_good(org, tmp_path):
    shutil.copy(DATA / "sre_good.md", tmp_path / "a.md")
    (tmp_path / "b.jsonl").write_text("{oops\n")
    out, err, exc = _run(str(tmp_path), "--team", "payments")
    assert exc is not None
    assert (
        "2 file(s): 1 postmortem(s) imported, 0 already there, 1 file(s) failed."
        in (str(exc))
    )
    assert Incident.objects.count() == 1


def test_import_timestamps_out_of_order_are_reported_with_the_line(org, tmp_path):
    path = tmp_path / "order.jsonl"
    path.write_text(
        '{"title": "Back to the future", "date": "2025-01-02T10:00:00Z", '
        '"text": "x", "resolved_at": "2025-01-02T09:00:00Z"}\n'
    )
    _, err, exc = _run(str(path), "--team", "payments")
    assert exc is not None
    assert f"{path}:1: Resolved cannot be before started" in err


def test_import_needs_a_known_team_and_author(org):
    _, _, exc = _run(str(DATA / "good.jsonl"), "--team", "nope")
    assert "No team 'nope'" in str(exc)
    _, _, exc = _run(str(DATA / "good.jsonl"), "--team", "payments", "--author", "x")
    assert "No user 'x' for --author." in str(exc)


def test_import_as_draft(org):
    _run(str(DATA / "good.jsonl"), "--team", "payments", "--status", "draft")
    assert set(Postmortem.objects.values_list("status", flat=True)) == {"draft"}
    assert not WorkflowEvent.objects.exists()


def test_import_refuses_action_items_of_unknown_kinds_and_keeps_known_ones(
    org, team, client, draft_postmortem, tmp_path
):
    """GIVEN a postmortem exported with its action item WHEN the file comes back
    with an unknown category THEN nothing is imported and the message names the
    item; with the file as exported, the item is created again."""
    draft_postmortem.sections["impact"] = "Some payments failed."
    draft_postmortem.save()
    factories.ActionItemFactory(
        postmortem=draft_postmortem, team=team, title="Alert on pool saturation"
    )
    client.force_login(org)
    exported = client.get(
        reverse("postmortems:postmortem_export_markdown", args=[draft_postmortem.pk])
    ).content.decode()
    ActionItem.objects.all().delete()
    Incident.objects.all().delete()
    bad = tmp_path / "bad" / "pm.md"
    bad.parent.mkdir()
    bad.write_text(exported.replace("category: detection", "category: bogus"))
    _, err, exc = _run(str(bad), "--team", "payments")
    assert exc is not None
    assert "action item 'Alert on pool saturation': unknown category 'bogus'" in err
    assert not Incident.objects.exists()

    good = tmp_path / "good.md"
    good.write_text(exported)
    _, err, exc = _run(str(good), "--team", "payments")
    assert exc is None, err
    item = ActionItem.objects.get()
    assert (item.title, item.category, item.postmortem.incident.title) == (
        "Alert on pool saturation",
        "detection",
        draft_postmortem.incident.title,
    )
