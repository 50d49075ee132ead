"""Back up and restore the whole database: pg_dump/pg_restore, or SQLite's backup API.

``database_fingerprint()`` gives every table's row count and a checksum of its rows,
so a restore can be checked row for row against the database it came from.
"""

import hashlib
import os
import sqlite3
import subprocess
from pathlib import Path

from django.db import connection
from django.utils import timezone


class BackupError(RuntimeError):
    """A backup or restore failed; the message says why."""


def _pg_env_and_args() -> tuple[dict, list[str]]:
    db = connection.settings_dict
    env = {**os.environ}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    args = [
        "--host",
        db.get("HOST") or "127.0.0.1",
        "--port",
        str(db.get("PORT") or 5432),
    ]
    if db.get("USER"):
        args += ["--username", db["USER"]]
    return env, args


def backup_database(*, destination_dir: Path) -> Path:
    """Write a consistent copy of the database into ``destination_dir``."""
    destination_dir.mkdir(parents=True, exist_ok=True)
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    if connection.vendor == "postgresql":
        target = destination_dir / f"hindsight-{stamp}.pgdump"
        env, args = _pg_env_and_args()
        _run(
            ["pg_dump", *args, "--format=custom", "--no-owner", "--file", str(target),
             connection.settings_dict["NAME"]],
            env,
        )  # fmt: skip
        return target
    if connection.vendor == "sqlite":
        target = destination_dir / f"hindsight-{stamp}.sqlite3"
        connection.ensure_connection()
        with sqlite3.connect(target) as copy:
            connection.connection.backup(copy)
        copy.close()
        return target
    raise BackupError(f"Backups are not supported on {connection.vendor}.")


def restore_database(*, source: Path) -> None:
    """Replace the database's contents with the backup at ``source``."""
    if not source.is_file():
        raise BackupError(f"No backup file at {source}.")
    if connection.vendor == "postgresql":
        if source.suffix != ".pgdump":
            raise BackupError(f"{source.name} is not a PostgreSQL backup (.pgdump).")
        env, args = _pg_env_and_args()
        connection.close()
        _run(
            ["pg_restore", *args, "--clean", "--if-exists", "--no-owner",
             "--single-transaction", "--dbname", connection.settings_dict["NAME"],
             str(source)],
            env,
        )  # fmt: skip
        return
    if connection.vendor == "sqlite":
        if source.suffix != ".sqlite3":
            raise BackupError(f"{source.name} is not a SQLite backup (.sqlite3).")
        connection.ensure_connection()
        with sqlite3.connect(source) as backup:
            backup.backup(connection.connection)
        backup.close()
        return
    raise BackupError(f"Restores are not supported on {connection.vendor}.")


def _run(command: list[str], env: dict) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed: {result.stderr.strip()}")


def database_fingerprint() -> dict[str, tuple[int, str]]:
    """{table: (row count, sha256 of its rows in primary-key order)} for every table."""
    fingerprint = {}
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names(cursor)):
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"SELECT * FROM {quoted} ORDER BY 1")  # noqa: S608
            digest = hashlib.sha256()
            count = 0
            for row in cursor.fetchall():
                digest.update(repr(tuple(_normalise(v) for v in row)).encode())
                count += 1
            fingerprint[table] = (count, digest.hexdigest())
    return fingerprint


def _normalise(value):
    # Drivers return memoryview for binary columns; compare their bytes.
    if isinstance(value, memoryview):
        return bytes(value)
    return value
