"""Every write rule, through every path that can break it: the same refusal.

A rule (who may be a reviewer, the verification note on done, the reason for
won't do, the timestamp lock after approval, the coverage policy, fields the
server decides, which team an object may move to, whose postmortem an item may
hang off) lives once, in its service. This sweep lists each rule with every page
and API request that could break it and expects each one to be refused the same
way: a 400 naming the field (422 through the API, which keeps 400 for requests
that do not match its schema; 403 for a permission), and nothing stored.

Pages that answer htmx (the action-item panel on the postmortem page) show the
form again with the error as a 200, because htmx 2 does not swap 4xx answers.
"""

import dataclasses
import json
from collections.abc import Callable

import pytest
from django.utils import timezone

from actions.models import ActionItem
from postmortems.models import Incident, Postmortem, PostmortemStatus, Severity
from tests import factories
from tests.kb.catalogue import OTHER, OWN, build_catalogue

pytestmark = pytest.mark.django_db

FORM_TIME = "%Y-%m-%dT%H:%M"


@dataclasses.dataclass(frozen=True)
class Case:
    """One request that tries to break one rule."""

    rule: str
    path: str
    actor: str
    send: Callable  # (client, cat, ctx) -> response
    status: int
    field: str  # the field the refusal names ("" for a permission refusal)
    state: Callable  # (cat, ctx) -> what must not change
    text: str = ""  # for htmx panels: words of the error shown in the form
    setup: Callable | None = None  # (cat, ctx): the state the rule applies to


def _json(client, method, url, body):
    return client.generic(
        method, url, json.dumps(body), content_type="application/json"
    )


# --- Context: objects a rule needs beyond the catalogue --------------------------


def _ctx(cat) -> dict:
    own = cat.cases[OWN]
    reviewer = cat.users["reviewer"]
    # A draft the reviewer wrote, so the reviewer can try to review their own.
    reviewers_draft = factories.PostmortemFactory(
        incident__team=own.team, author=reviewer, reviewers=[cat.users["admin"]]
    )
    # An approved SEV2 postmortem whose incident is still open (not resolved).
    open_incident = factories.IncidentFactory(
        team=own.team, status="monitoring", resolved_at=None
    )
    approved_open = factories.PostmortemFactory(
        incident=open_incident,
        author=cat.users["editor"],
        reviewers=[reviewer],
        status=PostmortemStatus.APPROVED,
    )
    # A SEV1 in review with no action items: the coverage policy refuses approval.
    sev1 = factories.PostmortemFactory(
        incident__team=own.team,
        incident__severity=Severity.SEV1,
        author=cat.users["editor"],
        reviewers=[reviewer],
        status=PostmortemStatus.IN_REVIEW,
    )
    other_published = factories.PostmortemFactory(
        incident__team=cat.cases[OTHER].team,
        author=cat.users["other_editor"],
        status=PostmortemStatus.PUBLISHED,
    )
    return {
        "reviewers_draft": reviewers_draft,
        "approved_open": approved_open,
        "sev1": sev1,
        "other_published": other_published,
    }


# --- What must not change ---------------------------------------------------------


def _postmortem_state(pk):
    def state(cat, ctx):
        target = pk(cat, ctx)
        postmortem = Postmortem.objects.get(pk=getattr(target, "pk", target))
        return (
            postmortem.status,
            postmortem.version,
            postmortem.author_id,
            sorted(postmortem.reviewers.values_list("pk", flat=True)),
        )

    return state


def _postmortem_count(cat, ctx):
    return Postmortem.objects.count()


def _item_state(cat, ctx):
    item = ActionItem.objects.get(pk=cat.cases[OWN].item.pk)
    return (item.status, item.status_reason, item.verification_note, item.team_id)


def _items(cat, ctx):
    return sorted(
        ActionItem.objects.values_list("pk", "status", "team_id", "postmortem_id")
    )


def _incident_state(pk):
    def state(cat, ctx):
        incident = Incident.objects.get(pk=pk(cat, ctx))
        return (incident.team_id, incident.detected_at, incident.history.count())

    return state


# --- Requests ---------------------------------------------------------------------


def _own_incident(cat, ctx):
    return cat.cases[OWN].incident


def _template(cat):
    return cat.cases[OWN].draft.template


def _page_start(reviewer_key):
    def send(client, cat, ctx):
        return client.post(
            f"/incidents/{_own_incident(cat, ctx).pk}/postmortem/new/",
            {"template": _template(cat).pk, "reviewers": [_user(cat, reviewer_key).pk]},
        )

    return send


def _api_start(reviewer_key):
    def send(client, cat, ctx):
        return _json(
            client,
            "POST",
            "/api/v1/postmortems/",
            {
                "incident": _own_incident(cat, ctx).pk,
                "template": _template(cat).slug,
                "reviewers": [_user(cat, reviewer_key).username],
            },
        )

    return send


def _draft_for(actor):
    def draft(cat, ctx):
        return ctx["reviewers_draft"] if actor == "reviewer" else cat.cases[OWN].draft

    return draft


def _page_edit(draft, reviewer_key):
    def send(client, cat, ctx):
        postmortem = draft(cat, ctx)
        return client.post(
            f"/postmortems/{postmortem.pk}/edit/",
            {
                "version": postmortem.version,
                "section_summary": "Rewritten.",
                "reviewers": [_user(cat, reviewer_key).pk],
            },
        )

    return send


def _api_edit(draft, reviewer_key):
    def send(client, cat, ctx):
        postmortem = draft(cat, ctx)
        return _json(
            client,
            "PATCH",
            f"/api/v1/postmortems/{postmortem.pk}/",
            {"reviewers": [_user(cat, reviewer_key).username]},
        )

    return send


def _user(cat, key):
    return cat.users[key]


def _reviewer_cases(rule, actor, reviewer_key):
    draft = _draft_for(actor)
    return [
        Case(rule, "page: start", actor, _page_start(reviewer_key), 400,
             "reviewers", _postmortem_count),
        Case(rule, "api: create", actor, _api_start(reviewer_key), 400,
             "reviewers", _postmortem_count),
        Case(rule, "page: editor", actor, _page_edit(draft, reviewer_key), 400,
             "reviewers", _postmortem_state(draft)),
        Case(rule, "api: patch", actor, _api_edit(draft, reviewer_key), 400,
             "reviewers", _postmortem_state(draft)),
    ]  # fmt: skip


def _item_form(cat, **extra):
    data = {
        "title": "Alert on pool saturation",
        "category": "detection",
        "priority": "P1",
        "team": cat.cases[OWN].team.pk,
        "status": "open",
    }
    data.update(extra)
    return data


def _item_api_body(cat, **extra):
    body = {
        "title": "Alert on pool saturation",
        "category": "detection",
        "priority": "P1",
        "team": cat.cases[OWN].team.slug,
    }
    body.update(extra)
    return body


def _status_cases(rule, status, field, text):
    """Every path that sets an item's status: create and change, page and API."""
    blank = {"status": status, "status_reason": "", "verification_note": ""}
    item = lambda cat: cat.cases[OWN].item  # noqa: E731
    draft = lambda cat: cat.cases[OWN].draft  # noqa: E731
    return [
        Case(rule, "page: status form", "editor",
             lambda c, cat, ctx: c.post(f"/actions/{item(cat).pk}/status/", blank),
             400, field, _item_state),
        Case(rule, "page: edit form", "editor",
             lambda c, cat, ctx: c.post(
                 f"/actions/{item(cat).pk}/edit/", _item_form(cat, **blank)),
             400, field, _item_state),
        Case(rule, "page: panel edit", "editor",
             lambda c, cat, ctx: c.post(
                 f"/actions/postmortem/{draft(cat).pk}/items/{item(cat).pk}/edit/",
                 _item_form(cat, **blank)),
             200, field, _item_state, text),
        Case(rule, "page: new item", "editor",
             lambda c, cat, ctx: c.post("/actions/new/", _item_form(cat, **blank)),
             400, field, _items),
        Case(rule, "page: panel new", "editor",
             lambda c, cat, ctx: c.post(
                 f"/actions/postmortem/{draft(cat).pk}/items/new/",
                 _item_form(cat, **blank)),
             200, field, _items, text),
        Case(rule, "api: patch", "editor",
             lambda c, cat, ctx: _json(
                 c, "PATCH", f"/api/v1/action-items/{item(cat).pk}/", blank),
             400, field, _item_state),
        Case(rule, "api: patch status only", "editor",
             lambda c, cat, ctx: _json(
                 c, "PATCH", f"/api/v1/action-items/{item(cat).pk}/",
                 {"status": status}),
             400, field, _item_state),
        Case(rule, "api: put", "editor",
             lambda c, cat, ctx: _json(
                 c, "PUT", f"/api/v1/action-items/{item(cat).pk}/",
                 _item_api_body(cat, **blank)),
             400, field, _item_state),
        Case(rule, "api: create", "editor",
             lambda c, cat, ctx: _json(
                 c, "POST", "/api/v1/action-items/", _item_api_body(cat, **blank)),
             400, field, _items),
    ]  # fmt: skip


def _incident_form(incident, **extra):
    local = timezone.localtime
    data = {
        "title": incident.title,
        "severity": incident.severity,
        "status": incident.status,
        "team": incident.team_id,
    }
    for name in ("started_at", "detected_at", "acknowledged_at", "mitigated_at",
                 "resolved_at"):  # fmt: skip
        value = getattr(incident, name)
        data[name] = local(value).strftime(FORM_TIME) if value else ""
    data.update(extra)
    return data


def _locked_incident(cat, ctx):
    return ctx["approved_open"].incident


def _page_move_detected(client, cat, ctx):
    incident = _locked_incident(cat, ctx)
    return client.post(
        f"/incidents/{incident.pk}/edit/",
        _incident_form(incident, detected_at="2026-05-01T10:01"),
    )


def _api_move_detected(client, cat, ctx):
    incident = _locked_incident(cat, ctx)
    return _json(
        client,
        "PATCH",
        f"/api/v1/incidents/{incident.pk}/",
        {"detected_at": "2026-05-01T10:01:00Z"},
    )


def _page_approve(client, cat, ctx):
    return client.post(f"/postmortems/{ctx['sev1'].pk}/approve/", {"comment": "ok"})


def _api_approve(client, cat, ctx):
    return _json(client, "POST", f"/api/v1/postmortems/{ctx['sev1'].pk}/approve/", {})


def _sev1_state(cat, ctx):
    return _postmortem_state(lambda cat, ctx: ctx["sev1"].pk)(cat, ctx)


def _page_incident_team(client, cat, ctx):
    incident = cat.cases[OWN].incident
    return client.post(
        f"/incidents/{incident.pk}/edit/",
        _incident_form(incident, team=cat.cases[OTHER].team.pk),
    )


def _api_incident_team(client, cat, ctx):
    incident = cat.cases[OWN].incident
    return _json(
        client, "PATCH", f"/api/v1/incidents/{incident.pk}/", {"team": "identity"}
    )


def _page_declare_for_other(client, cat, ctx):
    return client.post(
        "/incidents/new/",
        _incident_form(cat.cases[OWN].incident, team=cat.cases[OTHER].team.pk),
    )


def _api_declare_for_other(client, cat, ctx):
    return _json(
        client,
        "POST",
        "/api/v1/incidents/",
        {
            "title": "Declared for another team",
            "severity": "SEV2",
            "team": "identity",
            "started_at": "2026-05-01T10:00:00Z",
        },
    )


def _incident_count(cat, ctx):
    return Incident.objects.count()


def _other_team_item_cases():
    item = lambda cat: cat.cases[OWN].item  # noqa: E731
    draft = lambda cat: cat.cases[OWN].draft  # noqa: E731
    other = lambda cat: cat.cases[OTHER].team  # noqa: E731
    rule = "team moves"
    return [
        Case(rule, "page: edit item to another team", "editor",
             lambda c, cat, ctx: c.post(f"/actions/{item(cat).pk}/edit/",
                                        _item_form(cat, team=other(cat).pk)),
             400, "team", _item_state),
        Case(rule, "page: panel edit to another team", "editor",
             lambda c, cat, ctx: c.post(
                 f"/actions/postmortem/{draft(cat).pk}/items/{item(cat).pk}/edit/",
                 _item_form(cat, team=other(cat).pk)),
             200, "team", _item_state, "valid choice"),
        Case(rule, "page: new item for another team", "editor",
             lambda c, cat, ctx: c.post("/actions/new/",
                                        _item_form(cat, team=other(cat).pk)),
             400, "team", _items),
        Case(rule, "api: patch item to another team", "editor",
             lambda c, cat, ctx: _json(c, "PATCH",
                                       f"/api/v1/action-items/{item(cat).pk}/",
                                       {"team": "identity"}),
             400, "team", _item_state),
        Case(rule, "api: create item for another team", "editor",
             lambda c, cat, ctx: _json(c, "POST", "/api/v1/action-items/",
                                       _item_api_body(cat, team="identity")),
             400, "team", _items),
        Case(rule, "page: incident to another team", "editor", _page_incident_team,
             400, "team", _incident_state(lambda cat, ctx: cat.cases[OWN].incident.pk)),
        Case(rule, "api: incident to another team", "editor", _api_incident_team,
             400, "team", _incident_state(lambda cat, ctx: cat.cases[OWN].incident.pk)),
        Case(rule, "page: declare for another team", "editor",
             _page_declare_for_other, 400, "team", _incident_count),
        Case(rule, "api: declare for another team", "editor",
             _api_declare_for_other, 400, "team", _incident_count),
    ]  # fmt: skip


def _attach_cases():
    """Items hang only off postmortems of the editor's own team."""
    item = lambda cat: cat.cases[OWN].item  # noqa: E731
    target = lambda ctx: ctx["other_published"]  # noqa: E731
    rule = "item on another team's postmortem"
    return [
        Case(rule, "page: new item ?postmortem=", "editor",
             lambda c, cat, ctx: c.post(
                 f"/actions/new/?postmortem={target(ctx).pk}", _item_form(cat)),
             403, "", _items),
        Case(rule, "page: new item form ?postmortem=", "editor",
             lambda c, cat, ctx: c.get(f"/actions/new/?postmortem={target(ctx).pk}"),
             403, "", _items),
        Case(rule, "page: panel new", "editor",
             lambda c, cat, ctx: c.post(
                 f"/actions/postmortem/{target(ctx).pk}/items/new/", _item_form(cat)),
             403, "", _items),
        Case(rule, "api: create", "editor",
             lambda c, cat, ctx: _json(c, "POST", "/api/v1/action-items/",
                                       _item_api_body(cat, postmortem=target(ctx).pk)),
             403, "", _items),
        Case(rule, "api: patch", "editor",
             lambda c, cat, ctx: _json(c, "PATCH",
                                       f"/api/v1/action-items/{item(cat).pk}/",
                                       {"postmortem": target(ctx).pk}),
             403, "", _items),
    ]  # fmt: skip


def _protected_cases():
    draft = lambda cat, ctx: cat.cases[OWN].draft  # noqa: E731
    rule = "protected fields"
    return [
        Case(rule, "page: editor posts author and status", "editor",
             lambda c, cat, ctx: c.post(
                 f"/postmortems/{draft(cat, ctx).pk}/edit/",
                 {"version": 1, "author": cat.users["other_editor"].pk,
                  "status": "published", "reviewers": [cat.users["reviewer"].pk]}),
             302, "", lambda cat, ctx: _postmortem_state(draft)(cat, ctx)[:3:2]),
        Case(rule, "api: patch author and status", "editor",
             lambda c, cat, ctx: _json(
                 c, "PATCH", f"/api/v1/postmortems/{draft(cat, ctx).pk}/",
                 {"author": "other-editor", "status": "published"}),
             200, "", lambda cat, ctx: _postmortem_state(draft)(cat, ctx)[:3:2]),
    ]  # fmt: skip


def _resolution_cases():
    """A resolved incident needs its resolution time, however it is written."""
    incident = lambda cat: cat.cases[OWN].incident  # noqa: E731
    rule = "resolved needs its time"
    state = _incident_state(lambda cat, ctx: cat.cases[OWN].incident.pk)
    return [
        Case(rule, "page: declare", "editor",
             lambda c, cat, ctx: c.post("/incidents/new/", _incident_form(
                 incident(cat), status="resolved", resolved_at="")),
             400, "resolved_at", _incident_count),
        Case(rule, "page: edit", "editor",
             lambda c, cat, ctx: c.post(
                 f"/incidents/{incident(cat).pk}/edit/",
                 _incident_form(incident(cat), status="resolved", resolved_at="")),
             400, "resolved_at", state),
        Case(rule, "api: create", "editor",
             lambda c, cat, ctx: _json(c, "POST", "/api/v1/incidents/", {
                 "title": "Declared resolved", "severity": "SEV2",
                 "team": "payments", "status": "resolved",
                 "started_at": "2026-05-01T10:00:00Z"}),
             400, "resolved_at", _incident_count),
        Case(rule, "api: patch", "editor",
             lambda c, cat, ctx: _json(
                 c, "PATCH", f"/api/v1/incidents/{incident(cat).pk}/",
                 {"status": "resolved", "resolved_at": None}),
             400, "resolved_at", state),
    ]  # fmt: skip


def _cleared_note_cases():
    """A done item keeps a verification note: clearing it is refused."""
    rule = "done needs a verification note"

    def done(cat, ctx):
        ActionItem.objects.filter(pk=cat.cases[OWN].item.pk).update(
            status="done", verification_note="The drill paged us."
        )

    def done_item(cat):
        return cat.cases[OWN].item

    return [
        Case(rule, "page: edit form clears the note", "editor",
             lambda c, cat, ctx: c.post(
                 f"/actions/{done_item(cat).pk}/edit/",
                 _item_form(cat, status="done", verification_note="")),
             400, "verification_note", _item_state, setup=done),
        Case(rule, "api: patch clears the note", "editor",
             lambda c, cat, ctx: _json(
                 c, "PATCH", f"/api/v1/action-items/{done_item(cat).pk}/",
                 {"verification_note": ""}),
             400, "verification_note", _item_state, setup=done),
    ]  # fmt: skip


def _link_to_tracker(cat, ctx):
    """The own item follows a Jira issue: its tracker reference is the link's."""
    from trackers.models import TrackerLink

    item = cat.cases[OWN].item
    ActionItem.objects.filter(pk=item.pk).update(
        tracker_provider="jira",
        tracker_key="OPS-1",
        tracker_url="https://example.atlassian.net/browse/OPS-1",
    )
    TrackerLink.objects.create(
        item=item,
        provider="jira",
        remote_key="OPS-1",
        remote_url="https://example.atlassian.net/browse/OPS-1",
    )


def _tracker_reference_state(cat, ctx):
    return tuple(
        ActionItem.objects.filter(pk=cat.cases[OWN].item.pk)
        .values_list("tracker_provider", "tracker_key", "tracker_url")
        .get()
    )


def _tracker_lock_cases():
    """Every path that edits an item's tracker reference while a tracker
    integration follows the item's issue."""
    rule = "tracker reference follows the linked issue"
    item = lambda cat: cat.cases[OWN].item  # noqa: E731
    draft = lambda cat: cat.cases[OWN].draft  # noqa: E731
    moved = {
        "tracker_provider": "jira",
        "tracker_key": "OPS-2",
        "tracker_url": "https://example.atlassian.net/browse/OPS-2",
    }
    text = "unlink it on the item's page first"
    return [
        Case(rule, "page: edit form", "editor",
             lambda c, cat, ctx: c.post(
                 f"/actions/{item(cat).pk}/edit/", _item_form(cat, **moved)),
             400, "tracker_key", _tracker_reference_state, setup=_link_to_tracker),
        Case(rule, "page: panel edit", "editor",
             lambda c, cat, ctx: c.post(
                 f"/actions/postmortem/{draft(cat).pk}/items/{item(cat).pk}/edit/",
                 _item_form(cat, **moved)),
             200, "tracker_key", _tracker_reference_state, text,
             setup=_link_to_tracker),
        Case(rule, "api: patch", "editor",
             lambda c, cat, ctx: _json(
                 c, "PATCH", f"/api/v1/action-items/{item(cat).pk}/",
                 {"tracker_key": "OPS-2"}),
             400, "tracker_key", _tracker_reference_state, setup=_link_to_tracker),
        Case(rule, "api: put", "editor",
             lambda c, cat, ctx: _json(
                 c, "PUT", f"/api/v1/action-items/{item(cat).pk}/",
                 _item_api_body(cat, **moved)),
             400, "tracker_key", _tracker_reference_state, setup=_link_to_tracker),
    ]  # fmt: skip


CASES = [
    *_reviewer_cases("reviewer is the author", "reviewer", "reviewer"),
    *_reviewer_cases("reviewer cannot approve", "editor", "viewer"),
    *_reviewer_cases("reviewer of another team", "editor", "other_reviewer"),
    *_status_cases("done needs a verification note", "done", "verification_note",
                   "how we know it worked"),
    *_status_cases("won't do needs a reason", "wont_do", "status_reason",
                   "won't be done"),
    *_tracker_lock_cases(),
    Case("timestamp lock", "page: incident edit", "editor", _page_move_detected,
         400, "detected_at", _incident_state(lambda cat, ctx: _locked_incident(
             cat, ctx).pk)),
    Case("timestamp lock", "api: incident patch", "editor", _api_move_detected,
         400, "detected_at", _incident_state(lambda cat, ctx: _locked_incident(
             cat, ctx).pk)),
    Case("coverage policy", "page: approve", "reviewer", _page_approve, 302, "",
         _sev1_state, "needs at least one action item"),
    Case("coverage policy", "api: approve", "reviewer", _api_approve, 400, "",
         _sev1_state, "needs at least one action item"),
    *_other_team_item_cases(),
    *_attach_cases(),
    *_protected_cases(),
    *_resolution_cases(),
    *_cleared_note_cases(),
]  # fmt: skip


def _fields_named(response) -> set[str]:
    """The fields a refusal names: the keys of a JSON error (at any depth, or the
    field a problem-details entry points at), or a page form's fields in error."""
    if response["Content-Type"].startswith(("application/json", "application/problem")):
        names: set[str] = set()

        def walk(node):
            if isinstance(node, dict):
                names.update(node)
                for key in ("attr", "field", "name", "pointer"):
                    if isinstance(node.get(key), str):
                        names.add(node[key].rsplit("/", 1)[-1])
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)

        walk(response.json())
        return names
    names = set()
    for context in response.context or []:
        for value in context.flatten().values():
            errors = getattr(value, "errors", None)
            if isinstance(errors, dict):
                names.update(name for name, messages in errors.items() if messages)
    return names


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.rule} | {c.path}")
def test_rule_is_enforced_on_every_path(client, case):
    cat = build_catalogue()
    ctx = _ctx(cat)
    if case.setup is not None:
        case.setup(cat, ctx)
    before = case.state(cat, ctx)
    client.force_login(cat.users[case.actor])

    response = case.send(client, cat, ctx)

    # The API answers a well-formed request that a rule refuses 422, naming the
    # field (docs/api.md); pages answer 400.
    api_rule = case.path.startswith("api") and case.status == 400
    expected = 422 if api_rule else case.status
    assert response.status_code == expected, response.content[:3000]
    body = response.content.decode()
    if case.field and expected in (200, 400, 422):
        assert case.field in _fields_named(response), body[:3000]
    if case.text:
        if case.status == 302:
            body = client.get(response["Location"]).content.decode()
        assert case.text in body.replace("&#x27;", "'"), body[:3000]
    assert case.state(cat, ctx) == before, "nothing is stored by a refused write"
