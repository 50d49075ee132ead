"""The authorisation matrix, kept as data: every URL pattern x every role x own-team
and other-team objects, with the status each request must get.

Roles are the people (anonymous, viewer, editor, reviewer, admin) and an API key
of each scope (key-findings, key-alerts, key-read; owned by the own team). A policy
that does not name the key roles treats them as anonymous (pages ignore keys); the
API's endpoints for people refuse a valid key with a 403: a key is only accepted by
the machine endpoints written for it (findings/auth.py).

A route names the catalogue objects its URL is built from (tests/kb/catalogue.py)
and, per HTTP method, a policy and the status an allowed request gets ("ok": for a
write that is the answer to its (usually empty, so invalid) body). A policy maps
each role to a status, or to a pair (own team's object, other team's object).

test_authz_matrix.py runs every cell; a meta-test fails when a URL pattern is not
listed here, so a new URL cannot ship unclassified. The Django admin is covered by
one rule there (staff only), not listed route by route.
"""

import dataclasses

OK = "ok"  # the route's success status for that method
LOGIN = "login"  # a redirect to the login page

# An API key on an API endpoint for people.
KEYS_REFUSED = {"key-findings": 403, "key-alerts": 403, "key-read": 403}

# Role -> status, or role -> (own team's object, other team's object).
POLICIES: dict[str, dict] = {
    # Probes, the login and password-reset pages, the API schema and its docs.
    "public": {
        "anonymous": OK,
        "viewer": OK,
        "editor": OK,
        "reviewer": OK,
        "admin": OK,
    },
    # Any page any signed-in person reads; objects that are not private (incidents,
    # reviews, classes) read the same for both teams.
    "page-read": {
        "anonymous": LOGIN,
        "viewer": OK,
        "editor": OK,
        "reviewer": OK,
        "admin": OK,
    },
    # A draft or in-review postmortem (and what hangs off it): its team, author,
    # named reviewers and admins; everyone else gets a 404, never a 403.
    "private-draft": {
        "anonymous": LOGIN,
        "viewer": (OK, 404),
        "editor": (OK, 404),
        "reviewer": (OK, 404),
        "admin": OK,
    },
    # Editors of the object's team (and admins) change it; a viewer of the team is
    # refused (403); another team's object does not exist for them (404).
    "team-write": {
        "anonymous": LOGIN,
        "viewer": (403, 404),
        "editor": (OK, 404),
        "reviewer": (OK, 404),
        "admin": OK,
    },
    # Starting a postmortem: incidents are readable by everyone, so another team's
    # incident is refused with a 403 (nothing private to hide).
    "incident-team-write": {
        "anonymous": LOGIN,
        "viewer": 403,
        "editor": (OK, 403),
        "reviewer": (OK, 403),
        "admin": OK,
    },
    # Reviewers of the object's team (and admins): timestamp corrections, decisions.
    "team-reviewer": {
        "anonymous": LOGIN,
        "viewer": (403, 404),
        "editor": (403, 404),
        "reviewer": (OK, 404),
        "admin": OK,
    },
    # Approve and send back: only a named reviewer who is not the author; an admin
    # who is not named is refused too.
    "named-reviewer": {
        "anonymous": LOGIN,
        "viewer": (403, 404),
        "editor": (403, 404),
        "reviewer": (OK, 404),
        "admin": 403,
    },
    # Publish an approved (so public) postmortem: its author or an admin.
    "author-or-admin": {
        "anonymous": LOGIN,
        "viewer": 403,
        "editor": (OK, 403),
        "reviewer": 403,
        "admin": OK,
    },
    # The role is checked before the object: a viewer is refused whatever the pk.
    "editor-then-visible": {
        "anonymous": LOGIN,
        "viewer": 403,
        "editor": (OK, 404),
        "reviewer": (OK, 404),
        "admin": OK,
    },
    # Pages without an object that need a role.
    "editor-only": {
        "anonymous": LOGIN,
        "viewer": 403,
        "editor": OK,
        "reviewer": OK,
        "admin": OK,
    },
    "reviewer-only": {
        "anonymous": LOGIN,
        "viewer": 403,
        "editor": 403,
        "reviewer": OK,
        "admin": OK,
    },
    # GET on a POST-only page.
    "post-only": {
        "anonymous": LOGIN,
        "viewer": 405,
        "editor": 405,
        "reviewer": 405,
        "admin": 405,
    },
    # The API for people: no session is a 401 (with a WWW-Authenticate challenge);
    # a valid API key is a 403 that says keys are not accepted here.
    "api-read": {
        "anonymous": 401,
        "viewer": OK,
        "editor": OK,
        "reviewer": OK,
        "admin": OK,
        **KEYS_REFUSED,
    },
    "api-private-draft": {
        "anonymous": 401,
        "viewer": (OK, 404),
        "editor": (OK, 404),
        "reviewer": (OK, 404),
        "admin": OK,
        **KEYS_REFUSED,
    },
    "api-editor": {
        "anonymous": 401,
        "viewer": 403,
        "editor": OK,
        "reviewer": OK,
        "admin": OK,
        **KEYS_REFUSED,
    },
    # Role first (viewers 403 whatever the object), then own team only (404).
    "api-team-write": {
        "anonymous": 401,
        "viewer": 403,
        "editor": (OK, 404),
        "reviewer": (OK, 404),
        "admin": OK,
        **KEYS_REFUSED,
    },
    # Visibility first (another team's private item is a 404), then the role.
    "api-visible-team-write": {
        "anonymous": 401,
        "viewer": (403, 404),
        "editor": (OK, 404),
        "reviewer": (OK, 404),
        "admin": OK,
        **KEYS_REFUSED,
    },
    # API approve and send back: the role first (viewers 403), then another
    # team's draft does not exist (404), then only a named reviewer who is not
    # the author, so an admin who is not named is refused.
    "api-named-reviewer": {
        "anonymous": 401,
        "viewer": 403,
        "editor": (403, 404),
        "reviewer": (OK, 404),
        "admin": 403,
        **KEYS_REFUSED,
    },
    # API publish of an approved postmortem: its author or an admin; writes to
    # another team's postmortem are 404 in the API.
    "api-author-or-admin": {
        "anonymous": 401,
        "viewer": 403,
        "editor": (OK, 404),
        "reviewer": (403, 404),
        "admin": OK,
        **KEYS_REFUSED,
    },
    "api-team-reviewer": {
        "anonymous": 401,
        "viewer": 403,
        "editor": (403, 404),
        "reviewer": (OK, 404),
        "admin": OK,
        **KEYS_REFUSED,
    },
    # Finding actions: the incident's editors; incidents are readable by everyone,
    # so another team's finding is a 403 (nothing private to hide).
    "incident-team-reviewer": {
        "anonymous": LOGIN,
        "viewer": 403,
        "editor": 403,
        "reviewer": (OK, 403),
        "admin": OK,
    },
    # The machine API (findings, webhooks): API keys by scope; no key is a 401
    # with a WWW-Authenticate challenge.
    "machine-read": {
        "anonymous": 401,
        "viewer": OK,
        "editor": OK,
        "reviewer": OK,
        "admin": OK,
        "key-findings": 403,
        "key-alerts": 403,
        "key-read": OK,
    },
    # A key reads its own team's findings only; people read every finding.
    "machine-read-team": {
        "anonymous": 401,
        "viewer": OK,
        "editor": OK,
        "reviewer": OK,
        "admin": OK,
        "key-findings": 403,
        "key-alerts": 403,
        "key-read": (OK, 404),
    },
    "machine-findings-write": {
        "anonymous": 401,
        "viewer": 403,
        "editor": 403,
        "reviewer": 403,
        "admin": 403,
        "key-findings": OK,
        "key-alerts": 403,
        "key-read": 403,
    },
    # Issue-tracker webhooks: the body's signature is the only credential (the
    # matrix signs it, as Jira does); a session or an API key changes nothing.
    # Unsigned bodies get 401 (tests/trackers/test_webhooks.py).
    "tracker-signed": {
        "anonymous": OK,
        "viewer": OK,
        "editor": OK,
        "reviewer": OK,
        "admin": OK,
    },
    # Webhooks take API keys only: a browser session is not a credential there.
    "machine-alerts-write": {
        "anonymous": 401,
        "viewer": 401,
        "editor": 401,
        "reviewer": 401,
        "admin": 401,
        "key-findings": 403,
        "key-alerts": OK,
        "key-read": 403,
    },
    # Slack's request URLs (chat/slack/views.py): only Slack's signature of the body
    # is a credential there; a session or an API key is not, and GET is refused.
    "slack-signed": {
        "anonymous": 401,
        "viewer": 401,
        "editor": 401,
        "reviewer": 401,
        "admin": 401,
    },
    "slack-get": {
        "anonymous": 405,
        "viewer": 405,
        "editor": 405,
        "reviewer": 405,
        "admin": 405,
    },
}


@dataclasses.dataclass(frozen=True)
class Route:
    name: str
    # URL kwarg -> catalogue object ("incident", "draft", ...). An object of a team
    # is checked for both team cases; otherwise once.
    objects: dict = dataclasses.field(default_factory=dict)
    # Method -> (policy, status when allowed).
    methods: dict = dataclasses.field(default_factory=dict)
    # Body of the write (catalogue object names in braces become their pk/slug).
    body: dict = dataclasses.field(default_factory=dict)
    api: bool = False
    # Sign the body as PagerDuty does (X-PagerDuty-Signature), or "jira" as
    # Jira does (X-Hub-Signature).
    signed: bool | str = False

    @property
    def team_scoped(self) -> bool:
        from tests.kb.catalogue import TEAM_OBJECTS

        return any(name in TEAM_OBJECTS for name in self.objects.values())


def page(name, objects=None, body=None, **methods) -> Route:
    return Route(name, objects or {}, methods, body or {})


def api(name, objects=None, body=None, signed=False, **methods) -> Route:
    return Route(name, objects or {}, methods, body or {}, api=True, signed=signed)


READ = ("page-read", 200)
POST_ONLY = ("post-only", 405)
INC = {"pk": "incident"}
ENTRY = {"pk": "incident", "entry_pk": "entry"}
DRAFT = {"pk": "draft"}
ITEM = {"pk": "item"}
CLASS = {"slug": "failure_class"}
FINDING = {"pk": "finding"}
SUGGESTION = {"pk": "suggestion"}

ROUTES = [
    # kb ------------------------------------------------------------------------
    page("home", GET=("page-read", 302)),
    page("healthz", GET=("public", 200)),
    page("readyz", GET=("public", 200)),
    page("favicon", GET=("public", 301)),
    # Django's auth pages: login and password reset work signed out.
    page("login", GET=("public", 200), POST=("public", 200)),
    page("logout", GET=("page-read", 405), POST=("public", 302)),
    page("password_change", GET=READ, POST=READ),
    page("password_change_done", GET=READ),
    page("password_reset", GET=("public", 200), POST=("public", 200)),
    page("password_reset_done", GET=("public", 200)),
    page(
        "password_reset_confirm",
        {"uidb64": "MQ", "token": "invalid-token"},
        GET=("public", 200),
    ),
    page("password_reset_complete", GET=("public", 200)),
    # postmortems: incidents and timelines ----------------------------------------
    page("postmortems:incident_list", GET=READ),
    page(
        "postmortems:incident_create",
        GET=("editor-only", 200),
        POST=("editor-only", 400),
    ),
    page("postmortems:incident_detail", INC, GET=READ),
    page(
        "postmortems:incident_edit",
        INC,
        GET=("team-write", 200),
        POST=("team-write", 400),
    ),
    page(
        "postmortems:incident_correct",
        INC,
        GET=POST_ONLY,
        POST=("team-reviewer", 422),
    ),
    page("postmortems:timeline_entries", INC, GET=READ),
    page(
        "postmortems:timeline_entry_create",
        INC,
        GET=POST_ONLY,
        POST=("team-write", 422),
    ),
    page(
        "postmortems:timeline_entry_edit",
        ENTRY,
        GET=("team-write", 302),
        POST=("team-write", 422),
    ),
    page(
        "postmortems:timeline_entry_delete",
        ENTRY,
        GET=POST_ONLY,
        POST=("team-write", 302),
    ),
    # postmortems: the document -----------------------------------------------------
    page("postmortems:postmortem_list", GET=READ),
    page("postmortems:postmortem_detail", DRAFT, GET=("private-draft", 200)),
    page(
        "postmortems:postmortem_create",
        INC,
        GET=("incident-team-write", 200),
        POST=("incident-team-write", 200),
    ),
    page(
        "postmortems:postmortem_edit",
        DRAFT,
        GET=("team-write", 200),
        POST=("team-write", 400),
    ),
    page("postmortems:markdown_preview", GET=POST_ONLY, POST=READ),
    page("postmortems:blame_check", GET=POST_ONLY, POST=READ),
    page(
        "postmortems:postmortem_submit",
        DRAFT,
        GET=POST_ONLY,
        POST=("team-write", 302),
    ),
    page(
        "postmortems:postmortem_approve",
        {"pk": "in_review"},
        GET=POST_ONLY,
        POST=("named-reviewer", 302),
    ),
    page(
        "postmortems:postmortem_send_back",
        {"pk": "in_review"},
        body={"comment": "Please add the pool graph."},
        GET=POST_ONLY,
        POST=("named-reviewer", 302),
    ),
    page(
        "postmortems:postmortem_publish",
        {"pk": "approved"},
        GET=POST_ONLY,
        POST=("author-or-admin", 302),
    ),
    page(
        "postmortems:postmortem_accept_drafted",
        DRAFT,
        GET=POST_ONLY,
        POST=("team-write", 302),
    ),
    page(
        "postmortems:comment_create",
        DRAFT,
        body={"body": "Could we add the pool graph?"},
        GET=POST_ONLY,
        POST=("team-write", 302),
    ),
    page("postmortems:postmortem_history", DRAFT, GET=("private-draft", 200)),
    page("postmortems:postmortem_export_markdown", DRAFT, GET=("private-draft", 200)),
    page("postmortems:postmortem_print", DRAFT, GET=("private-draft", 200)),
    page("postmortems:postmortem_export_pdf", DRAFT, GET=("private-draft", 200)),
    # postmortems: analyzer findings ------------------------------------------------
    page("findings:analyzer_scorecards", GET=READ),
    page("findings:incident_findings", INC, GET=READ),
    page("findings:finding_detail", FINDING, GET=READ),
    page(
        "findings:finding_add_to_timeline",
        FINDING,
        GET=POST_ONLY,
        POST=("incident-team-write", 302),
    ),
    page(
        "findings:finding_verdict",
        FINDING,
        body={"verdict": "confirmed"},
        GET=POST_ONLY,
        POST=("incident-team-reviewer", 302),
    ),
    page(
        "findings:finding_suggestion_accept",
        SUGGESTION,
        GET=POST_ONLY,
        POST=("incident-team-write", 302),
    ),
    page(
        "findings:finding_suggestion_dismiss",
        SUGGESTION,
        GET=POST_ONLY,
        POST=("incident-team-write", 302),
    ),
    # actions -------------------------------------------------------------------------
    page("actions:item_list", GET=READ),
    page("actions:item_export", GET=READ),
    page("actions:my_items", GET=READ),
    page("actions:item_create", GET=("editor-only", 200), POST=("editor-only", 200)),
    page("actions:dashboard", GET=READ),
    page("actions:review_list", GET=READ),
    page(
        "actions:review_create",
        GET=("reviewer-only", 200),
        POST=("reviewer-only", 200),
    ),
    page("actions:review_detail", {"pk": "review"}, GET=READ),
    page("actions:item_detail", ITEM, GET=("private-draft", 200)),
    page(
        "actions:item_edit",
        ITEM,
        GET=("team-write", 200),
        POST=("team-write", 200),
    ),
    page("actions:item_status", ITEM, GET=POST_ONLY, POST=("team-write", 400)),
    page(
        "actions:item_decision",
        ITEM,
        GET=POST_ONLY,
        POST=("team-reviewer", 400),
    ),
    page("actions:postmortem_items", DRAFT, GET=("private-draft", 200)),
    page(
        "actions:postmortem_item_new",
        DRAFT,
        GET=("team-write", 200),
        POST=("team-write", 200),
    ),
    page(
        "actions:postmortem_item_edit",
        {"pk": "draft", "item_pk": "item"},
        GET=("team-write", 200),
        POST=("team-write", 200),
    ),
    # insights ------------------------------------------------------------------------
    page("insights:report", GET=READ),
    page("insights:report_markdown", GET=READ),
    page("insights:report_print", GET=READ),
    page("insights:run_start", GET=POST_ONLY, POST=("editor-only", 302)),
    page("insights:run_progress", {"pk": "insight_run"}, GET=READ),
    page("insights:class_detail", CLASS, GET=READ),
    page("insights:class_accept", CLASS, GET=POST_ONLY, POST=("reviewer-only", 302)),
    page("insights:class_rename", CLASS, GET=POST_ONLY, POST=("reviewer-only", 302)),
    page(
        "insights:class_merge",
        CLASS,
        body={"target": "{merge_target}"},
        GET=POST_ONLY,
        POST=("reviewer-only", 302),
    ),
    page("insights:class_split", CLASS, GET=POST_ONLY, POST=("reviewer-only", 302)),
    page(
        "insights:postmortem_confirm",
        DRAFT,
        body={"failure_class": "{failure_class}"},
        GET=POST_ONLY,
        POST=("editor-then-visible", 302),
    ),
    page(
        "insights:statement_confirm",
        {"pk": "draft", "key": "root_cause"},
        body={"failure_class": "{failure_class}"},
        GET=POST_ONLY,
        POST=("editor-then-visible", 302),
    ),
    # notifications -------------------------------------------------------------------
    page("notifications:preferences", GET=READ, POST=("page-read", 302)),
    # chat: Slack calls these, signed (tests/chat/test_slack_requests.py) --------
    page("chat:slack_events", GET=("slack-get", 405), POST=("slack-signed", 200)),
    page("chat:slack_commands", GET=("slack-get", 405), POST=("slack-signed", 200)),
    page(
        "chat:slack_interactions",
        GET=("slack-get", 405),
        POST=("slack-signed", 200),
    ),
    # API (router) ----------------------------------------------------------------
    api("api-root", GET=("api-read", 200)),
    api("api-schema", GET=("public", 200)),
    api("api-docs", GET=("public", 200)),
    api("team-list", GET=("api-read", 200)),
    api("team-detail", {"pk": "team"}, GET=("api-read", 200)),
    api("service-list", GET=("api-read", 200)),
    api("service-detail", {"pk": "service"}, GET=("api-read", 200)),
    api("incident-list", GET=("api-read", 200), POST=("api-editor", 400)),
    api(
        "incident-detail",
        INC,
        GET=("api-read", 200),
        PATCH=("api-team-write", 200),
    ),
    api(
        "incident-correct-timestamp",
        INC,
        body={
            "field": "detected_at",
            "value": "2026-05-01T10:06:00Z",
            "reason": "The pager log shows 10:06.",
        },
        POST=("api-team-reviewer", 200),
    ),
    api("postmortem-list", GET=("api-read", 200), POST=("api-editor", 400)),
    api(
        "postmortem-detail",
        DRAFT,
        GET=("api-private-draft", 200),
        PATCH=("api-team-write", 200),
    ),
    # The review workflow over the API: the same services, so the same people.
    api(
        "postmortem-submit",
        DRAFT,
        body={"acknowledge_blame": True},
        POST=("api-team-write", 200),
    ),
    api("postmortem-approve", {"pk": "in_review"}, POST=("api-named-reviewer", 200)),
    api(
        "postmortem-send-back",
        {"pk": "in_review"},
        body={"comment": "Please add the pool graph."},
        POST=("api-named-reviewer", 200),
    ),
    api("postmortem-publish", {"pk": "approved"}, POST=("api-author-or-admin", 200)),
    api("action-item-list", GET=("api-read", 200), POST=("api-editor", 400)),
    api(
        "action-item-detail",
        ITEM,
        GET=("api-private-draft", 200),
        PATCH=("api-visible-team-write", 200),
        DELETE=("api-visible-team-write", 204),
    ),
    api("failure-class-list", GET=("api-read", 200)),
    api("failure-class-detail", CLASS, GET=("api-read", 200)),
    api("insight-run-list", GET=("api-read", 200)),
    api("insight-run-detail", {"pk": "insight_run"}, GET=("api-read", 200)),
    api("insight-run-start", POST=("api-editor", 202)),
    api("class-membership-list", GET=("api-read", 200)),
    # The machine API: an empty body is a 400 for an allowed key.
    api(
        "finding-list",
        GET=("machine-read", 200),
        POST=("machine-findings-write", 400),
    ),
    api("finding-detail", FINDING, GET=("machine-read-team", 200)),
    api("integration-alertmanager-list", POST=("machine-alerts-write", 400)),
    api("integration-pagerduty-list", signed=True, POST=("machine-alerts-write", 400)),
    api("integration-robusta-list", POST=("machine-alerts-write", 400)),
    # trackers ------------------------------------------------------------------------
    page("trackers:item_tracker", ITEM, GET=POST_ONLY, POST=("team-write", 302)),
    api(
        "tracker-webhook",
        {"provider": "jira"},
        signed="jira",
        GET=("public", 405),
        POST=("tracker-signed", 400),
    ),
]

MATRIX = {route.name: route for route in ROUTES}


def expected(policy: str, role: str, case: str, ok: int):
    """The status (or LOGIN) a role must get for an object of ``case``."""
    rules = POLICIES[policy]
    # API keys are anonymous to everything not written for machines.
    value = rules.get(role, rules["anonymous"])
    if isinstance(value, tuple):
        value = value[0] if case in ("own", "none") else value[1]
    return ok if value == OK else value
