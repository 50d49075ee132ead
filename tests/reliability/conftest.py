"""Throwaway PostgreSQL and Redis servers for the fault tests (tests/procs.py).

The PostgreSQL cluster is made once per session and migrated once into a template
database; each test gets its own copy (CREATE DATABASE ... TEMPLATE, a second).
Each test gets its own redis-server. Outside CI a missing binary skips the test
with the reason; in CI (CI set) it fails, so these tests always run there.
"""

import uuid

import pytest

from tests import procs

unavailable = procs.unavailable


@pytest.fixture(scope="session")
def postgres_server():
    try:
        server = procs.PostgresServer()
    except procs.Unavailable as exc:
        unavailable(str(exc))
    try:
        server.init().start()
        yield server
    finally:
        server.destroy()


@pytest.fixture(scope="session")
def migrated_template(postgres_server) -> str:
    """A migrated Hindsight database to copy (data migrations included)."""
    name = "kb_template"
    url = postgres_server.create_database(name)
    procs.manage(procs.django_env(KB_DATABASE_URL=url), "migrate", "-v0")
    return name


@pytest.fixture
def database_url(postgres_server, migrated_template):
    name = f"kb_{uuid.uuid4().hex[:10]}"
    url = postgres_server.create_database(name, template=migrated_template)
    yield url
    postgres_server.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def redis_server(tmp_path):
    try:
        server = procs.RedisServer(tmp_path)
    except procs.Unavailable as exc:
        unavailable(str(exc))
    server.start()
    yield server
    server.stop()
