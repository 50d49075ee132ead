"""Each provider against the local fake: the exact requests sent, and what the
documented answers mean."""

import base64

import pytest

from tests.trackers.fake_server import fixture
from trackers.providers import get_provider
from trackers.providers.base import IssueDraft, TrackerError
from trackers.providers.linear import CREATE, FETCH

DRAFT = {
    "title": "Add alerting on pool saturation",
    "description": "Page when the pool is 90% used.\n\nSee the postmortem.",
    "labels": ["postmortem", "hindsight"],
}


def test_jira_create_issue_sends_the_documented_request(fake_tracker):
    fake_tracker.route(
        "POST", "/rest/api/3/issue", 201, fixture("jira", "create_issue_response.json")
    )

    issue = get_provider("jira").create_issue(
        IssueDraft(project="OPS", issue_type="Task", **DRAFT)
    )

    (sent,) = fake_tracker.requests
    assert (sent.method, sent.path) == ("POST", "/rest/api/3/issue")
    token = base64.b64encode(b"hindsight@example.com:jira-token").decode()
    assert sent.headers["authorization"] == f"Basic {token}"
    assert sent.json == {
        "fields": {
            "project": {"key": "OPS"},
            "summary": "Add alerting on pool saturation",
            "issuetype": {"name": "Task"},
            "description": {
                "type": "doc",
                "version": 1,
                "content": [
                    {
                        "type": "paragraph",
                        "content": [
                            {"type": "text", "text": "Page when the pool is 90% used."}
                        ],
                    },
                    {
                        "type": "paragraph",
                        "content": [{"type": "text", "text": "See the postmortem."}],
                    },
                ],
            },
            "labels": ["postmortem", "hindsight"],
        }
    }
    assert (issue.key, issue.id, issue.status) == ("OPS-24", "10000", "open")
    assert issue.url == f"{fake_tracker.url}/browse/OPS-24"


def test_github_create_issue_sends_the_documented_request(fake_tracker):
    fake_tracker.route(
        "POST",
        "/repos/octocat/Hello-World/issues",
        201,
        fixture("github", "create_issue_response.json"),
    )

    issue = get_provider("github").create_issue(
        IssueDraft(project="octocat/Hello-World", **DRAFT)
    )

    (sent,) = fake_tracker.requests
    assert (sent.method, sent.path) == ("POST", "/repos/octocat/Hello-World/issues")
    assert sent.headers["authorization"] == "Bearer github-token"
    assert sent.headers["accept"] == "application/vnd.github+json"
    assert sent.headers["x-github-api-version"] == "2022-11-28"
    assert sent.json == {
        "title": DRAFT["title"],
        "body": DRAFT["description"],
        "labels": ["postmortem", "hindsight"],
    }
    assert issue.key == "octocat/Hello-World#1347"
    assert issue.url == "https://github.com/octocat/Hello-World/issues/1347"
    assert (issue.status, issue.state) == ("open", "open")


def test_linear_create_issue_sends_the_documented_mutation(fake_tracker):
    fake_tracker.route(
        "POST", "/graphql", 200, fixture("linear", "create_issue_response.json")
    )
    team_id = "72b2a2dc-6f4f-4423-9d34-24b5bd10634a"

    issue = get_provider("linear").create_issue(
        IssueDraft(project=team_id, **{**DRAFT, "labels": ["label-uuid"]})
    )

    (sent,) = fake_tracker.requests
    assert (sent.method, sent.path) == ("POST", "/graphql")
    assert sent.headers["authorization"] == "lin_api_key"
    assert sent.json == {
        "query": CREATE,
        "variables": {
            "input": {
                "teamId": team_id,
                "title": DRAFT["title"],
                "description": DRAFT["description"],
                "labelIds": ["label-uuid"],
            }
        },
    }
    assert "issueCreate(input: $input)" in CREATE
    assert (issue.key, issue.status, issue.state) == ("ENG-123", "open", "Todo")
    assert issue.id == "9cfb482a-81e3-4154-b5b9-2c805e70a02d"


@pytest.mark.parametrize(
    "provider, method, path, body, key, expected",
    [
        (
            "jira",
            "GET",
            "/rest/api/3/issue/OPS-24",
            fixture("jira", "get_issue_in_progress.json"),
            "OPS-24",
            ("in_progress", "In Progress"),
        ),
        (
            "github",
            "GET",
            "/repos/octocat/Hello-World/issues/1347",
            fixture("github", "get_issue_closed_not_planned.json"),
            "octocat/Hello-World#1347",
            ("wont_do", "closed (not planned)"),
        ),
        (
            "linear",
            "POST",
            "/graphql",
            fixture("linear", "get_issue_started.json"),
            "ENG-123",
            ("in_progress", "In Progress"),
        ),
    ],
)
def test_fetch_issue_reads_the_state(
    fake_tracker, provider, method, path, body, key, expected
):
    fake_tracker.route(method, path, 200, body)

    issue = get_provider(provider).fetch_issue(key)

    (sent,) = fake_tracker.requests
    assert (sent.method, sent.path) == (method, path)
    if provider == "jira":
        assert sent.query == {"fields": "status,resolution,updated"}
    if provider == "linear":
        assert sent.json == {"query": FETCH, "variables": {"id": "ENG-123"}}
    assert (issue.status, issue.state) == expected
    assert issue.key == key


@pytest.mark.parametrize(
    "category, resolution, expected",
    [
        ("new", None, "open"),
        ("indeterminate", None, "in_progress"),
        ("done", "Done", "done"),
        ("done", "Won't Do", "wont_do"),
        ("done", "Duplicate", "wont_do"),
    ],
)
def test_jira_status_category_and_resolution_map_to_statuses(
    fake_tracker, category, resolution, expected
):
    body = fixture("jira", "get_issue_in_progress.json")
    body["fields"]["status"]["statusCategory"]["key"] = category
    body["fields"]["resolution"] = {"name": resolution} if resolution else None
    fake_tracker.route("GET", "/rest/api/3/issue/OPS-24", 200, body)

    assert get_provider("jira").fetch_issue("OPS-24").status == expected


@pytest.mark.parametrize(
    "provider, method, path, error_fixture, status",
    [
        ("jira", "POST", "/rest/api/3/issue", "create_issue_error.json", 400),
        (
            "github",
            "POST",
            "/repos/octocat/Hello-World/issues",
            "create_issue_error.json",
            422,
        ),
        ("linear", "POST", "/graphql", "create_issue_error.json", 200),
    ],
)
def test_a_refused_create_is_a_permanent_error_with_the_trackers_message(
    fake_tracker, provider, method, path, error_fixture, status
):
    fake_tracker.route(method, path, status, fixture(provider, error_fixture))
    project = {"jira": "OPS", "github": "octocat/Hello-World", "linear": "t"}[provider]

    with pytest.raises(TrackerError) as caught:
        get_provider(provider).create_issue(IssueDraft(project=project, **DRAFT))

    assert caught.value.transient is False
    expected = {
        "jira": "project: Specify a valid project ID or key",
        "github": "Validation Failed",
        "linear": "Argument Validation Error",
    }[provider]
    assert expected in str(caught.value)


@pytest.mark.parametrize("provider", ["jira", "github", "linear"])
@pytest.mark.parametrize("status", [429, 502, 503])
def test_an_overloaded_or_down_tracker_is_a_transient_error(
    fake_tracker, provider, status
):
    path = {
        "jira": "/rest/api/3/issue",
        "github": "/repos/octocat/Hello-World/issues",
        "linear": "/graphql",
    }[provider]
    fake_tracker.route("POST", path, status, {"message": "try later"})

    with pytest.raises(TrackerError) as caught:
        get_provider(provider).create_issue(
            IssueDraft(project="octocat/Hello-World", **DRAFT)
        )
    assert caught.value.transient is True


@pytest.mark.parametrize("provider", ["jira", "github", "linear"])
def test_an_unreachable_tracker_is_a_transient_error(settings, provider):
    dead = "http://127.0.0.1:9"  # discard port: nothing listens
    settings.KB_JIRA_BASE_URL = settings.KB_GITHUB_API_URL = dead
    settings.KB_LINEAR_API_URL = dead
    with pytest.raises(TrackerError) as caught:
        get_provider(provider).fetch_issue(
            {"jira": "OPS-1", "github": "a/b#1", "linear": "ENG-1"}[provider]
        )
    assert caught.value.transient is True
    assert "could not be reached" in str(caught.value)


@pytest.mark.parametrize(
    "provider, text, project, key",
    [
        ("jira", "OPS-12", "OPS", "OPS-12"),
        ("jira", "ops-12", "OPS", "OPS-12"),
        ("jira", "https://acme.atlassian.net/browse/OPS-12", "", "OPS-12"),
        ("jira", "12", "OPS", "OPS-12"),
        ("github", "acme/api#7", "", "acme/api#7"),
        ("github", "#7", "acme/api", "acme/api#7"),
        ("github", "https://github.com/acme/api/issues/7", "", "acme/api#7"),
        ("linear", "ENG-5", "", "ENG-5"),
        ("linear", "https://linear.app/acme/issue/ENG-5/fix-the-pool", "", "ENG-5"),
    ],
)
def test_parse_key_accepts_keys_and_urls(provider, text, project, key):
    assert get_provider(provider).parse_key(text, project=project) == key


@pytest.mark.parametrize("provider", ["jira", "github", "linear"])
@pytest.mark.parametrize("text", ["", "not an issue", "https://example.com/x"])
def test_parse_key_refuses_anything_else_with_an_example(provider, text):
    with pytest.raises(ValueError, match="such as|owner/repo#12"):
        get_provider(provider).parse_key(text, project="")
