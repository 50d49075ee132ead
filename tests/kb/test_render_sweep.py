"""Every page and export renders for objects made through every creation path, as
every role, with the template engine failing on a missing variable.

Objects reach Hindsight through the pages, the REST API, Alertmanager, PagerDuty,
Robusta, native findings, the importer, the demo loader, Slack (a declared
incident, a pinned message) and a tracker's webhook; each path leaves rows
with different gaps (no author, no reviewer, a change made by an integration). The
sweep builds one set of objects through one path, gives each incident a postmortem
written through its page (when the path made none), then requests every GET route
of the authorisation matrix (tests/kb/authz_matrix.py) whose objects exist, as
every role. The answer must be 200, a redirect, 403 or 404: never an error, never
a template that reads a variable that is not there.
"""

import copy
import datetime as dt
import json
import shutil
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.core.management import call_command
from django.test import Client, TestCase
from django.urls import reverse
from django.utils import timezone

from actions.demo import load_demo_action_items
from actions.models import ActionItem
from findings.demo.loader import DEMO_FINDINGS, load_demo_findings
from findings.integrations.pagerduty import parser as pagerduty
from findings.models import Finding, FindingSuggestion
from notifications.messages import build_message
from notifications.models import Channel, Notification, NotificationKind
from postmortems.demo.loader import DEMO_DIR, load_demo
from postmortems.models import Incident, Postmortem, PostmortemTemplate, Role
from tests import factories
from tests.chat import conftest as chat
from tests.chat import slack_server
from tests.findings.integrations.test_integrations import (
    ALERTMANAGER_FIRING,
    RESOLVED,
    ROBUSTA,
    TRIGGERED,
    resolved,
)
from tests.findings.test_api import finding as native_finding
from tests.kb.authz_matrix import ROUTES
from tests.trackers.conftest import KEYS, sign
from tests.trackers.fake_server import fixture_bytes
from trackers.models import TrackerConfig, TrackerLink

pytestmark = pytest.mark.django_db

DATA = Path(__file__).resolve().parent.parent / "postmortems" / "data"
PD_SECRET = "sweep-pagerduty-secret"
ROLES = ("anonymous", "viewer", "editor", "reviewer", "admin", "outsider")
# Objects a route can be built from, as the catalogue names them.
OBJECT_NAMES = ("incident", "entry", "draft", "item", "finding", "suggestion")


class MissingTemplateVariable(Exception):
    pass


class _FailOnMissing(str):
    """``string_if_invalid`` that raises: Django formats it with the variable."""

    def __contains__(self, key):
        return key == "%s"

    def __mod__(self, variable):
        raise MissingTemplateVariable(f"missing template variable: {variable}")


@pytest.fixture
def strict_templates(settings):
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["OPTIONS"]["string_if_invalid"] = _FailOnMissing("%s")
    settings.TEMPLATES = templates


@pytest.fixture
def people(team, other_team):
    user = factories.UserFactory
    admin = user(username="admin", role=Role.ADMIN)
    admin.is_staff = admin.is_superuser = True
    admin.save()
    return {
        "viewer": user(username="viewer", role=Role.VIEWER, teams=[team]),
        "editor": user(username="editor", role=Role.EDITOR, teams=[team]),
        "reviewer": user(username="reviewer", role=Role.REVIEWER, teams=[team]),
        "admin": admin,
        "outsider": user(username="outsider", role=Role.EDITOR, teams=[other_team]),
    }


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _api(client: Client, url: str, payload, **headers):
    return client.post(
        url, json.dumps(payload), content_type="application/json", headers=headers
    )


def _key(team, scope: str) -> str:
    from findings.services import api_key_create

    return api_key_create(name=scope, team=team, scopes=[scope])[1]


def _local(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


# --- creation paths: each makes rows as a user or a machine would -------------------


def via_pages(team, people):
    editor, reviewer = people["editor"], people["reviewer"]
    client = _signed_in(editor)
    started = timezone.now() - dt.timedelta(hours=3)
    response = client.post(
        reverse("postmortems:incident_create"),
        {
            "title": "Checkout returns 502 for card payments",
            "severity": "SEV2",
            "status": "resolved",
            "team": team.pk,
            "started_at": _local(started),
            "detected_at": _local(started + dt.timedelta(minutes=4)),
            "resolved_at": _local(started + dt.timedelta(hours=1)),
        },
    )
    assert response.status_code == 302, response.content[:2000]
    incident = Incident.objects.latest("pk")
    client.post(
        reverse("postmortems:timeline_entry_create", args=[incident.pk]),
        {
            "occurred_at": _local(started + dt.timedelta(minutes=10)),
            "kind": "action",
            "text": "Rolled back deploy 4812.",
        },
    )
    # A reviewer corrects a timestamp (a change with a person and a reason).
    _signed_in(reviewer).post(
        reverse("postmortems:incident_correct", args=[incident.pk]),
        {
            "field": "detected_at",
            "value": _local(started + dt.timedelta(minutes=6)),
            "reason": "The pager log shows six minutes.",
        },
    )
    return incident


def via_api(team, people):
    client = _signed_in(people["editor"])
    response = _api(
        client,
        "/api/v1/incidents/",
        {
            "title": "Login is slow for everyone",
            "severity": "SEV3",
            "team": team.slug,
            "started_at": "2026-05-01T10:00:00Z",
            "detected_at": "2026-05-01T10:05:00Z",
        },
    )
    assert response.status_code == 201, response.content
    incident = Incident.objects.get(pk=response.json()["id"])
    response = _api(
        client,
        "/api/v1/postmortems/",
        {
            "incident": incident.pk,
            "template": PostmortemTemplate.objects.first().slug,
            "reviewers": [people["reviewer"].username],
        },
    )
    assert response.status_code == 201, response.content
    _api(
        client,
        "/api/v1/action-items/",
        {
            "title": "Alert on login latency",
            "team": team.slug,
            "owner": people["editor"].username,
            "postmortem": response.json()["id"],
        },
    )
    _api(
        _signed_in(people["reviewer"]),
        f"/api/v1/incidents/{incident.pk}/correct-timestamp/",
        {
            "field": "detected_at",
            "value": "2026-05-01T10:06:00Z",
            "reason": "The pager log shows 10:06.",
        },
    )
    return incident


def via_alertmanager(team, people):
    factories.ServiceFactory(slug="checkout", name="Checkout API", team=team)
    key = _key(team, "alerts:write")
    client = Client(headers={"Authorization": f"Bearer {key}"})
    url = "/api/v1/integrations/alertmanager/"
    assert _api(client, url, ALERTMANAGER_FIRING).status_code in (200, 201)
    # The alert resolves the incident: a timestamp change made by no person.
    assert _api(client, url, resolved(ALERTMANAGER_FIRING)).status_code == 200
    return Incident.objects.latest("pk")


def via_pagerduty(team, people, settings):
    settings.KB_PAGERDUTY_WEBHOOK_SECRETS = [PD_SECRET]
    factories.ServiceFactory(slug="checkout", name="Checkout API", team=team)
    key = _key(team, "alerts:write")
    for event in (TRIGGERED, RESOLVED):
        body = json.dumps(event).encode()
        response = Client().post(
            "/api/v1/integrations/pagerduty/",
            body,
            content_type="application/json",
            headers={
                "Authorization": f"Api-Key {key}",
                "X-PagerDuty-Signature": pagerduty.sign(body, PD_SECRET),
            },
        )
        assert response.status_code in (200, 201), response.content
    return Incident.objects.latest("pk")


def via_robusta(team, people):
    factories.ServiceFactory(slug="checkout", name="Checkout API", team=team)
    key = _key(team, "alerts:write")
    client = Client(headers={"Authorization": f"Bearer {key}"})
    response = _api(client, "/api/v1/integrations/robusta/", ROBUSTA)
    assert response.status_code in (200, 201), response.content
    return Incident.objects.latest("pk")


def via_native_findings(team, people):
    factories.ServiceFactory(slug="checkout-web", name="Checkout Web", team=team)
    key = _key(team, "findings:write")
    client = Client(headers={"Authorization": f"Api-Key {key}"})
    child = native_finding(2, parent_fingerprint="checkout-5xx-1")
    for payload in (native_finding(1), child):
        response = _api(client, "/api/v1/findings/", payload)
        assert response.status_code in (200, 201), response.content
    return Incident.objects.latest("pk")


def via_importer(team, people):
    factories.ServiceFactory(slug="checkout", name="Checkout", team=team)
    factories.UserFactory(username="jennifer", teams=[team])
    call_command("import_postmortems", str(DATA / "sre_good.md"), "--team", team.slug)
    return Incident.objects.latest("pk")


def via_demo_loader(team, people, tmp_path):
    """One demo incident with its findings (the whole corpus takes too long)."""
    corpus = tmp_path / "demo"
    (corpus / "incidents").mkdir(parents=True)
    shutil.copy(DEMO_DIR / "org.json", corpus / "org.json")
    findings = json.loads(DEMO_FINDINGS.read_text())
    key = next(iter(findings["incidents"]))
    shutil.copy(DEMO_DIR / "incidents" / f"{key}.json", corpus / "incidents")
    findings["incidents"] = {key: findings["incidents"][key]}
    (tmp_path / "findings.json").write_text(json.dumps(findings))
    load_demo(directory=corpus)
    load_demo_action_items(directory=corpus)
    load_demo_findings(path=tmp_path / "findings.json")
    return Incident.objects.get(external_key=key)


def via_slack(team, people, settings):
    """Slack: an editor declares the incident with /hindsight in a channel, then a
    message of someone Hindsight does not know is pinned to its timeline."""
    state, httpd = slack_server.start()
    try:
        settings.KB_SLACK_API_URL = state.url
        settings.KB_SLACK_BOT_TOKEN = chat.BOT_TOKEN
        settings.KB_SLACK_SIGNING_SECRET = chat.SIGNING_SECRET
        people["editor"].email = "editor@example.com"
        people["editor"].save()
        info = slack_server.fixture("web_api/users.info.json")
        info["user"]["profile"]["email"] = people["editor"].email
        state.answers["users.info"] = (200, info)
        command = {
            **slack_server.fixture("commands/link.json"),
            "channel_id": chat.CHANNEL,
            "text": f"declare team:{team.slug} SEV2 Card payments fail at checkout",
        }
        body = urlencode(command).encode()
        with TestCase.captureOnCommitCallbacks(execute=True):
            declared = Client().post(
                reverse("chat:slack_commands"),
                data=body,
                content_type="application/x-www-form-urlencoded",
                **chat.sign(body),
            )
        assert declared.status_code == 200, declared.content
        incident = Incident.objects.latest("pk")
        assert incident.title == "Card payments fail at checkout", declared.content
        # The pinned message's author is nobody Hindsight knows.
        stranger = slack_server.fixture("web_api/users.info.json")
        stranger["user"]["profile"]["email"] = "stranger@elsewhere.example"
        state.answers["users.info"] = (200, stranger)
        history = slack_server.fixture("web_api/conversations.history.json")
        history["messages"][0]["reactions"] = [
            {"name": "pushpin", "users": ["U123ABC456"], "count": 1}
        ]
        state.answers["conversations.history"] = (200, history)
        event = slack_server.fixture("events/reaction_added.json")
        event["event"]["item"]["channel"] = chat.CHANNEL
        body = json.dumps(event).encode()
        with TestCase.captureOnCommitCallbacks(execute=True):
            pinned = Client().post(
                reverse("chat:slack_events"),
                data=body,
                content_type="application/json",
                **chat.sign(body),
            )
        assert pinned.status_code == 200, pinned.content
        assert incident.timeline.filter(author=None).exists()
        return incident
    finally:
        httpd.shutdown()
        httpd.server_close()


def via_tracker_webhook(team, people, settings):
    """Jira: an item's linked issue is closed, and its webhook marks the item done
    (a status change, with a verification note, made by no person)."""
    settings.KB_JIRA_WEBHOOK_SECRET = "jira-secret"
    incident = via_pages(team, people)
    _write_postmortem(incident, people)
    postmortem = Postmortem.objects.get(incident=incident)
    TrackerConfig.objects.create(team=team, provider="jira", project="OPS")
    item = factories.ActionItemFactory(
        team=team, owner=people["editor"], postmortem=postmortem
    )
    TrackerLink.objects.create(
        item=item, provider="jira", remote_key=KEYS["jira"], remote_status="open"
    )
    body = fixture_bytes("jira", "webhook_issue_updated.json")
    response = Client().post(
        reverse("tracker-webhook", args=["jira"]),
        data=body,
        content_type="application/json",
        **sign("jira", body),
    )
    assert response.status_code == 200, response.content
    item.refresh_from_db()
    assert item.status == "done"
    return incident


PATHS = {
    "pages": via_pages,
    "api": via_api,
    "alertmanager": via_alertmanager,
    "pagerduty": via_pagerduty,
    "robusta": via_robusta,
    "native-findings": via_native_findings,
    "importer": via_importer,
    "demo-loader": via_demo_loader,
    "slack": via_slack,
    "tracker-webhook": via_tracker_webhook,
}


def _write_postmortem(incident, people) -> None:
    """Paths that open incidents only: the team's editor starts the postmortem
    through its page, so the postmortem pages show the path's timeline too."""
    if Postmortem.objects.filter(incident=incident).exists():
        return
    own_team = people["editor"].profile.teams.filter(pk=incident.team_id).exists()
    # A demo team's incident: the admin writes it.
    author = people["editor"] if own_team else people["admin"]
    response = _signed_in(author).post(
        reverse("postmortems:postmortem_create", args=[incident.pk]),
        {
            "template": PostmortemTemplate.objects.first().pk,
            "reviewers": [people["reviewer"].pk],
            # Started from the record, as the page offers by default, so every
            # page also renders drafted sections, factors and hypotheses.
            "draft": "on",
        },
    )
    assert response.status_code == 302, response.content[:2000]


def _objects(incident) -> dict:
    postmortem = Postmortem.objects.filter(incident=incident).first()
    finding = Finding.objects.filter(incident=incident).order_by("pk").first()
    items = ActionItem.objects.filter(postmortem=postmortem) if postmortem else []
    found = {
        "incident": incident,
        # The newest: the one the path itself wrote (a Slack pin, an alert).
        "entry": incident.timeline.order_by("pk").last(),
        "draft": postmortem,
        "item": items[0] if items else None,
        "finding": finding,
        "suggestion": FindingSuggestion.objects.filter(finding__incident=incident)
        .order_by("pk")
        .first(),
    }
    return {name: obj for name, obj in found.items() if obj is not None}


def _urls(objects: dict) -> list[str]:
    urls = []
    for route in ROUTES:
        if "GET" not in route.methods or route.methods["GET"][0] == "post-only":
            continue
        names = set(route.objects.values())
        if names - set(OBJECT_NAMES):
            continue  # built from objects no creation path makes (classes, runs)
        if not names <= set(objects):
            continue
        kwargs = {key: objects[name].pk for key, name in route.objects.items()}
        urls.append(reverse(route.name, kwargs=kwargs))
    return urls


def _clients(people) -> dict[str, Client]:
    clients = {"anonymous": Client(raise_request_exception=True)}
    for role in ROLES[1:]:
        client = Client(raise_request_exception=True)
        client.force_login(people[role])
        clients[role] = client
    return clients


@pytest.mark.parametrize("path", PATHS)
def test_every_page_renders_for_objects_from_every_path(
    path, team, other_team, people, settings, tmp_path, strict_templates
):
    maker = PATHS[path]
    extra = {
        via_pagerduty: {"settings": settings},
        via_slack: {"settings": settings},
        via_tracker_webhook: {"settings": settings},
        via_demo_loader: {"tmp_path": tmp_path},
    }.get(maker, {})
    incident = maker(team, people, **extra)
    _write_postmortem(incident, people)
    objects = _objects(incident)
    urls = _urls(objects)
    assert any("/incidents/" in url for url in urls)

    problems = []
    for role, client in _clients(people).items():
        for url in urls:
            try:
                status = client.get(url).status_code
            except Exception as exc:  # noqa: BLE001 - every error is a finding
                problems.append(f"{role} GET {url}: {type(exc).__name__}: {exc}")
                continue
            if status not in (200, 301, 302, 401, 403, 404, 405):
                problems.append(f"{role} GET {url}: {status}")
    problems += _notification_problems(objects, people)
    assert not problems, f"{len(problems)} failures:\n" + "\n".join(problems)


def _notification_problems(objects: dict, people) -> list[str]:
    """Every kind of notification about the path's objects, on every channel, as
    its message (email and chat text) and on the recipient's notifications page,
    with no person behind it (an integration's change)."""
    subjects = {
        NotificationKind.REVIEW_REQUESTED: objects.get("draft"),
        NotificationKind.POSTMORTEM_APPROVED: objects.get("draft"),
        NotificationKind.POSTMORTEM_SENT_BACK: objects.get("draft"),
        NotificationKind.ACTION_ITEM_ASSIGNED: objects.get("item"),
    }
    problems = []
    for role in ("editor", "outsider"):
        recipient = people[role]
        for kind, subject in subjects.items():
            if subject is None:
                continue
            for channel in Channel.values:
                notification = Notification.objects.create(
                    user=recipient,
                    kind=kind,
                    channel=channel,
                    key=f"sweep:{kind}",
                    object_id=subject.pk,
                    comment="Add the pool size to the timeline.",
                )
                try:
                    build_message(notification)
                except Exception as exc:  # noqa: BLE001 - every error is a finding
                    problems.append(
                        f"{role} {kind} over {channel}: {type(exc).__name__}: {exc}"
                    )
        try:
            status = _signed_in(recipient).get(reverse("notifications:preferences"))
        except Exception as exc:  # noqa: BLE001
            problems.append(f"{role} notifications page: {type(exc).__name__}: {exc}")
            continue
        if status.status_code != 200:
            problems.append(f"{role} notifications page: {status.status_code}")
    return problems


def test_strict_templates_fail_on_a_missing_variable(strict_templates):
    """The sweep's template setting turns a missing variable into an error."""
    from django.template import engines

    template = engines["django"].from_string("{{ incident.nothing_here }}")
    with pytest.raises(MissingTemplateVariable):
        template.render({"incident": object()})
