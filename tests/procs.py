"""Throwaway servers and Hindsight processes for fault tests and load benchmarks.

Everything here starts its own process on a free loopback port and stops only what
it started: the machine's shared PostgreSQL (5432) and Redis (6379) are never
touched, because other people use them.

- ``RedisServer``: ``redis-server --save "" --appendonly no`` on a free port.
- ``PostgresServer``: ``initdb`` + ``pg_ctl`` in a temp directory (run as the
  ``postgres`` OS user when we are root), trust auth, loopback only.
- ``django_env()``, ``manage()``, ``shell()``: Django in a subprocess against them.
- ``celery_worker()``, ``gunicorn()``: the product's own processes, logging to files.

Used by tests/reliability/ (and tests/insights/test_worker_kill.py) and by
bench/faults_bench.py and bench/load_bench.py, which import it by path.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PG_BIN = Path(os.environ.get("KB_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
# A production-shaped secret for KB_DEBUG=0 processes (throwaway, never deployed).
TEST_SECRET_KEY = "reliability-tests-only-" + "x" * 48


class Unavailable(RuntimeError):
    """A binary the test needs is not installed here."""


def unavailable(reason: str) -> NoReturn:
    """Skip a test whose server binary is missing here; in CI that is a failure."""
    import pytest

    if os.environ.get("CI"):
        pytest.fail(f"{reason} (required in CI)")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_until(predicate: Callable[[], object], *, timeout: float, what: str):
    """Poll ``predicate`` until it returns something truthy; return that value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.2)


def stop(process: subprocess.Popen | None, sig: int = signal.SIGTERM) -> None:
    """Stop a process we started (and its children: it leads its own group)."""
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, sig)
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    except ProcessLookupError:
        pass


def kill(process: subprocess.Popen) -> None:
    """SIGKILL the process and its children at once, as a machine loss would."""
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


class RedisServer:
    """A throwaway redis-server on a free port that keeps nothing on disk."""

    def __init__(self, directory: Path):
        binary = shutil.which("redis-server")
        if binary is None:
            raise Unavailable("redis-server is not installed (apt-get install redis)")
        self.binary = binary
        self.directory = Path(directory)
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> RedisServer:
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_until(lambda: port_open(self.port), timeout=20, what="redis-server")
        return self

    def stop(self) -> None:
        """Kill it (the outage). It keeps nothing on disk: queued messages go too."""
        if self.process is not None and self.process.poll() is None:
            kill(self.process)
        wait_until(lambda: not port_open(self.port), timeout=10, what="redis to stop")


class PostgresServer:
    """A throwaway PostgreSQL cluster in a temp directory, trust auth, loopback only.

    As root, initdb and pg_ctl run as the ``postgres`` OS user (PostgreSQL refuses
    to run as root); the directory is made in /tmp so that user can reach it.
    """

    def __init__(self):
        initdb = PG_BIN / "initdb"
        if not initdb.exists():
            found = shutil.which("initdb")
            if found is None:
                raise Unavailable(
                    f"PostgreSQL server binaries not found in {PG_BIN} "
                    "(apt-get install postgresql, or set KB_TEST_PG_BIN)"
                )
            self.bin = Path(found).parent
        else:
            self.bin = PG_BIN
        self.directory = Path(tempfile.mkdtemp(prefix="kb-pg-"))
        self.data = self.directory / "data"
        self.log = self.directory / "server.log"
        self.port = free_port()
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.directory, user="postgres", group="postgres")
            self._as_user = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str, timeout: float = 120) -> None:
        result = subprocess.run(
            [*self._as_user, *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=self.directory,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"{' '.join(args[:2])} failed: {result.stderr[-2000:]}"
                f"{self.log.read_text()[-2000:] if self.log.exists() else ''}"
            )

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def init(self) -> PostgresServer:
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )
        return self

    def start(self) -> PostgresServer:
        options = " ".join(
            [
                f"-p {self.port}",
                "-c listen_addresses=127.0.0.1",
                f"-c unix_socket_directories={self.directory}",
                "-c max_connections=100",
                # A throwaway: durability across an OS crash is not what we test
                # (WAL still reaches the OS at each commit, so a crash of
                # PostgreSQL itself loses nothing; synchronous_commit=off would
                # lose acknowledged commits, and test_postgres_restart sees it).
                "-c fsync=off",
                "-c full_page_writes=off",
            ]
        )
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )
        return self

    def stop(self, mode: str = "fast") -> None:
        """``fast`` disconnects clients and shuts down cleanly; ``immediate`` is a
        crash (recovery runs at the next start)."""
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"
        )

    def psql(self, sql: str, database: str = "postgres") -> str:
        result = subprocess.run(
            [
                str(self.bin / "psql"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-d",
                database,
                "-v",
                "ON_ERROR_STOP=1",
                "-tAc",
                sql,
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        if result.returncode != 0:
            raise RuntimeError(f"psql {sql!r}: {result.stderr}")
        return result.stdout.strip()

    def create_database(self, name: str, template: str | None = None) -> str:
        clause = f' TEMPLATE "{template}"' if template else ""
        self.psql(f'CREATE DATABASE "{name}"{clause}')
        return self.url(name)

    def destroy(self) -> None:
        try:
            self.stop("immediate")
        except RuntimeError:
            pass
        shutil.rmtree(self.directory, ignore_errors=True)


def django_env(**overrides: str) -> dict[str, str]:
    """The environment of a production-shaped Hindsight process (KB_DEBUG=0)."""
    env = {
        key: value
        for key, value in os.environ.items()
        # The caller's own KB_ settings (CI points them at the shared servers)
        # must not leak into a process meant for the throwaway ones.
        if not key.startswith("KB_") and key != "DJANGO_SETTINGS_MODULE"
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "kb.settings",
            "PYTHONPATH": str(ROOT),
            "KB_DEBUG": "0",
            "KB_SECRET_KEY": TEST_SECRET_KEY,
            "KB_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "KB_SECURE_SSL_REDIRECT": "0",
            "KB_SECURE_COOKIES": "0",
            "KB_STATIC_MANIFEST": "0",
            "KB_EMBEDDER": "insights.embeddings.FakeEmbedder",
            "KB_EMBEDDING_MODEL": "fake-hashing-bow",
            "KB_LOG_LEVEL": "WARNING",
        }
    )
    env.update(overrides)
    return env


def manage(env: dict[str, str], *args: str, timeout: float = 300) -> str:
    result = subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {args[0]} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def shell(env: dict[str, str], code: str, timeout: float = 300):
    """Run Django code in a fresh process; return the JSON it prints last."""
    out = manage(env, "shell", "-c", code, timeout=timeout)
    return json.loads(out.strip().splitlines()[-1])


def celery_worker(
    env: dict[str, str],
    *,
    name: str,
    log: Path,
    app: str = "kb",
    pool: str = "prefork",
    concurrency: int = 1,
) -> subprocess.Popen:
    """``celery worker`` as deploy/serve.sh runs it; INFO log (one line per task)."""
    handle = open(log, "ab")  # noqa: SIM115 - the child keeps it open
    return subprocess.Popen(
        [
            PYTHON,
            "-m",
            "celery",
            "-A",
            app,
            "worker",
            f"--pool={pool}",
            f"--concurrency={concurrency}",
            f"--hostname={name}@%h",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def worker_ready(log: Path) -> bool:
    return log.exists() and " ready." in log.read_text(errors="replace")


def succeeded_tasks(log: Path) -> list[tuple[str, str]]:
    """(task name, task id) of every "Task ... succeeded" line in a worker log."""
    done = []
    for line in log.read_text(errors="replace").splitlines():
        marker = line.find("Task ")
        if marker < 0 or " succeeded in " not in line:
            continue
        label = line[marker + 5 :].split(" ", 1)[0]  # name[id]
        name, _, task_id = label.partition("[")
        done.append((name, task_id.rstrip("]")))
    return done


def gunicorn(
    env: dict[str, str],
    *,
    port: int,
    log: Path,
    workers: int = 2,
    threads: int = 4,
) -> subprocess.Popen:
    """gunicorn with deploy/gunicorn.conf.py (the production settings)."""
    handle = open(log, "ab")  # noqa: SIM115 - the child keeps it open
    process = subprocess.Popen(
        [
            str(Path(PYTHON).with_name("gunicorn")),
            "-c",
            "deploy/gunicorn.conf.py",
            "--access-logfile",
            "/dev/null",
        ],
        cwd=ROOT,
        env={
            **env,
            "KB_BIND": f"127.0.0.1:{port}",
            "KB_WEB_WORKERS": str(workers),
            "KB_WEB_THREADS": str(threads),
        },
        stdout=handle,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    wait_until(
        lambda: _http_ok(f"http://127.0.0.1:{port}/healthz") or process.poll(),
        timeout=120,
        what="gunicorn to serve /healthz",
    )
    if process.poll() is not None:
        raise RuntimeError(f"gunicorn exited: {log.read_text()[-3000:]}")
    return process


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def query(url: str, sql: str, *params) -> list[tuple]:
    """Read a throwaway database directly (no Django process to start)."""
    import psycopg

    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        return conn.execute(sql, params).fetchall()
