"""Fixtures shared by every test."""

import os
import tempfile

import pytest

from postmortems.models import Role
from tests import factories


def pytest_collection_modifyitems(items):
    """Transactional tests empty every table afterwards, including the rows data
    migrations ship (templates, due policies, the failure taxonomy). Serialized
    rollback puts those rows back before each such test."""
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker is None or not marker.kwargs.get("transaction"):
            continue
        if "serialized_rollback" not in marker.kwargs:
            # First, so that it is the closest marker: appended, it would come
            # after a @pytest.mark.django_db(transaction=True) on the test itself,
            # which would then flush without it and renumber the content types
            # under every later serialized-rollback test.
            item.add_marker(
                pytest.mark.django_db(**marker.kwargs, serialized_rollback=True),
                append=False,
            )


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """On SQLite, test against a file, not Django's shared-cache in-memory database.

    Shared-cache SQLite locks whole tables and answers "database table is locked"
    at once (busy timeouts do not apply), so tests that write from several threads
    (tests/findings/test_concurrency.py) would fail for a reason
    production never meets. A file with WAL behaves like the real db.sqlite3.
    """
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        database.setdefault("TEST", {})["NAME"] = os.path.join(
            tempfile.gettempdir(), f"hindsight-test-{os.getpid()}.sqlite3"
        )


@pytest.fixture(autouse=True)
def _celery_eager(settings):
    """Tasks run inline in tests; on-commit enqueueing is checked explicitly."""
    from kb.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture
def broker_down():
    """Point Celery at a port where nothing listens, with eager mode off.

    Setting ``task_always_eager`` back to True in a test means "the broker is back".
    """
    from kb.celery import app

    saved = {
        key: app.conf[key]
        for key in ("broker_url", "broker_write_url", "task_always_eager")
    }
    app.conf.broker_url = app.conf.broker_write_url = "redis://127.0.0.1:1/0"
    app.conf.task_always_eager = False
    # Forget pooled connections to the real broker (CI runs this suite on Redis).
    app._pool = None
    app.amqp._producer_pool = None
    yield
    app.conf.update(saved)
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture(autouse=True)
def _fake_embeddings(settings):
    """Insights embeds with its deterministic fake unless a test asks for the real
    model (saving a postmortem queues an insights task, which runs inline here)."""
    settings.KB_EMBEDDER = "insights.embeddings.FakeEmbedder"
    settings.KB_EMBEDDING_MODEL = "fake-hashing-bow"


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    """PBKDF2 costs about half a second per user; tests need no strong hashing."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def team(db):
    return factories.TeamFactory(slug="payments", name="Payments")


@pytest.fixture
def other_team(db):
    return factories.TeamFactory(slug="identity", name="Identity")


@pytest.fixture
def editor(team):
    return factories.UserFactory(username="editor", role=Role.EDITOR, teams=[team])


@pytest.fixture
def reviewer(team):
    return factories.UserFactory(username="reviewer", role=Role.REVIEWER, teams=[team])


@pytest.fixture
def viewer(team):
    return factories.UserFactory(username="viewer", role=Role.VIEWER, teams=[team])


@pytest.fixture
def admin_user(db):
    user = factories.UserFactory(username="admin", role=Role.ADMIN)
    user.is_staff = True
    user.is_superuser = True
    user.save()
    return user


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


# Browser tests: Debian's chromium, never a downloaded browser.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    import shutil

    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Browser tests need Debian's chromium (apt-get install chromium).")
    return {
        **browser_type_launch_args,
        "executable_path": executable,
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture
def screenshot_dir():
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "artifacts" / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def login(live_server):
    """Sign ``user`` in through the real login form of ``page``."""

    def _login(page, username: str, password: str = "pw") -> None:
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: "/accounts/login/" not in url)

    return _login


# Postmortem documents (tests/postmortems/).
@pytest.fixture
def other_reviewer(team):
    return factories.UserFactory(
        username="reviewer2", first_name="Rita", role=Role.REVIEWER, teams=[team]
    )


@pytest.fixture
def draft_postmortem(team, editor, reviewer):
    """A team draft written by ``editor``, with ``reviewer`` named to review it."""
    service = factories.ServiceFactory(slug="checkout", name="Checkout", team=team)
    return factories.PostmortemFactory(
        incident__team=team,
        incident__services=[service],
        author=editor,
        reviewers=[reviewer],
    )


# Findings and API keys (the findings app).
@pytest.fixture
def make_api_key(db):
    """``make_api_key(team, scopes=[...], **fields)`` -> (ApiKey, secret)."""
    from findings.services import api_key_create

    def _make(team, scopes=("findings:write",), name="analyzer", **fields):
        api_key, secret = api_key_create(name=name, team=team, scopes=list(scopes))
        if fields:
            for attribute, value in fields.items():
                setattr(api_key, attribute, value)
            api_key.save()
        return api_key, secret

    return _make


@pytest.fixture
def findings_key(team, make_api_key):
    """The secret of a findings:write key of the ``team`` fixture."""
    return make_api_key(team, scopes=["findings:write"])[1]


@pytest.fixture
def alerts_key(team, make_api_key):
    """The secret of an alerts:write key of the ``team`` fixture."""
    return make_api_key(team, scopes=["alerts:write"], name="alertmanager")[1]
