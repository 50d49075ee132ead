"""Fixtures shared by every test."""

import os
import sys
import tempfile
from urllib.parse import urlsplit, urlunsplit

import pytest

from postmortems.models import Role
from tests import factories

# Tests that flush the database when they end (pytest-django runs them in a
# TransactionTestCase) or that need the machine to themselves.
_FLUSHING_FIXTURES = {"transactional_db", "live_server", "django_db_reset_sequences"}
_FLUSHES_DATABASE = pytest.StashKey[bool]()
# Tests that start their own servers and workers (PostgreSQL, Redis, Celery,
# Alertmanager, gunicorn) share one xdist worker, so at most one of them runs at a
# time, with one session-wide throwaway PostgreSQL, beside the fast tests.
SERIAL_GROUP = "servers"


def _flushes_database(item) -> bool:
    marker = item.get_closest_marker("django_db")
    if marker is not None and (
        marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences")
    ):
        return True
    return bool(_FLUSHING_FIXTURES & set(getattr(item, "fixturenames", ())))


def pytest_collection_modifyitems(items):
    """Transactional tests empty every table when they end, including the rows the
    migrations wrote (content types and permissions, templates, due policies, the
    failure taxonomy). Serially pytest-django runs them last; under xdist a worker
    runs other tests after them. So every such test runs with serialized rollback
    (the migrated rows are serialized once when the test database is made, and the
    flush does not re-run post_migrate), and ``pytest_runtest_teardown`` below
    loads those rows back after it. One source of truth: the migrations' own output.
    """
    for item in items:
        if item.get_closest_marker("slow") or item.get_closest_marker("faults"):
            item.add_marker(pytest.mark.xdist_group(SERIAL_GROUP))
        if not _flushes_database(item):
            continue
        item.stash[_FLUSHES_DATABASE] = True
        marker = item.get_closest_marker("django_db")
        kwargs = dict(marker.kwargs) if marker is not None else {}
        kwargs.setdefault("transaction", True)
        kwargs.setdefault("serialized_rollback", True)
        # Prepended, so that it is the closest django_db marker pytest-django reads.
        item.add_marker(
            pytest.mark.django_db(*getattr(marker, "args", ()), **kwargs), append=False
        )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """After a transactional test's flush, put the migrated rows back."""
    try:
        return (yield)
    finally:
        # With no next item the test databases are already destroyed.
        if nextitem is not None and item.stash.get(_FLUSHES_DATABASE, False):
            _restore_migrated_rows(item.config)


def _restore_migrated_rows(config) -> None:
    from django.db import connections
    from pytest_django.plugin import blocking_manager_key

    with config.stash[blocking_manager_key].unblock():
        for alias in connections:
            connection = connections[alias]
            contents = getattr(connection, "_test_serialized_contents", None)
            if contents:
                connection.creation.deserialize_db_from_string(contents)


# Under xdist each worker gets its own test database (pytest-django adds the
# suffix _gw0, _gw1 to the name) and, when the run uses Redis, its own Redis
# databases: worker N adds 2 * N to the numbers in KB_CACHE_URL and
# KB_CELERY_BROKER_URL. Otherwise one worker's cache.clear() (FLUSHDB), throttle
# counters and cached API keys would reach into the other worker's tests.
REDIS_DB_STRIDE = 2


def _worker_redis_url(url: str, worker: int) -> str:
    parts = urlsplit(url)
    if worker == 0 or parts.scheme not in ("redis", "rediss"):
        return url
    db = int(parts.path.strip("/") or 0) + REDIS_DB_STRIDE * worker
    return urlunsplit(parts._replace(path=f"/{db}"))


def pytest_configure(config):
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw"):
        return
    from django.conf import settings

    from kb.celery import app

    index = int(worker.removeprefix("gw"))
    for cache in settings.CACHES.values():
        if isinstance(cache.get("LOCATION"), str):
            cache["LOCATION"] = _worker_redis_url(cache["LOCATION"], index)
    broker = _worker_redis_url(settings.CELERY_BROKER_URL, index)
    settings.CELERY_BROKER_URL = app.conf.broker_url = broker


# The schemathesis run's case count (tests/kb/test_api_fuzz.py), printed at the end.
# Under xdist each worker sends its count to the controller, which adds them up.
_CASES_KEY = "schemathesis_cases_sent"
_WORKER_CASES = pytest.StashKey[int]()


def _cases_sent() -> int:
    module = sys.modules.get("tests.kb.test_api_fuzz")
    return module.CASES_SENT["count"] if module else 0


def pytest_sessionfinish(session):
    if hasattr(session.config, "workeroutput"):
        session.config.workeroutput[_CASES_KEY] = _cases_sent()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    sent = getattr(node, "workeroutput", {}).get(_CASES_KEY, 0)
    node.config.stash[_WORKER_CASES] = node.config.stash.get(_WORKER_CASES, 0) + sent


def pytest_terminal_summary(terminalreporter, config):
    count = _cases_sent() + config.stash.get(_WORKER_CASES, 0)
    if count:
        terminalreporter.write_line(f"schemathesis: {count} cases sent")


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
def _empty_cache():
    """Every test starts with an empty cache. Cached lookups (Slack accounts, API
    keys) are keyed by primary keys, which a rolled-back test frees for the next
    one, so they would leak from test to test in an order xdist and pytest-randomly
    change. Under xdist each worker has its own Redis database (see above)."""
    from django.core.cache import caches

    for cache in caches.all():
        cache.clear()


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
