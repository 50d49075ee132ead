"""Benchmark: the leadership dashboard and the filtered action-item list at scale.

Builds 50,000 action items over 5,000 postmortems and 50 teams (bulk_create) in a
throwaway database, then times full page renders through the Django test client
(middleware, selectors, templates) and reports median and p95 against the targets
(median < 150 ms, p95 < 300 ms).

    /work/main/.venv/bin/python bench/actions_bench.py        # SQLite and PostgreSQL
    /work/main/.venv/bin/python bench/actions_bench.py --backend sqlite --repeat 50

PostgreSQL is a throwaway database on 127.0.0.1:5432 (user postgres), created and
dropped by this script. Not a test: nothing here asserts.
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_MEDIAN_MS = 150.0
TARGET_P95_MS = 300.0
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--backend", choices=["sqlite", "postgres", "both"], default="both"
    )
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--postmortems", type=int, default=5_000)
    parser.add_argument("--teams", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# Parent: one child process per backend (settings read the database URL at import).


def run_backend(backend: str, args) -> dict | None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}
    env["DJANGO_SETTINGS_MODULE"] = "kb.settings"
    cleanup = None
    with tempfile.TemporaryDirectory(prefix="actions-bench-") as tmp:
        if backend == "sqlite":
            env["KB_DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
        else:
            import psycopg

            name = f"hindsight_actions_bench_{os.getpid()}"
            try:
                with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
                    conn.execute(f'CREATE DATABASE "{name}"')
            except psycopg.OperationalError as exc:
                print(f"PostgreSQL not reachable on 127.0.0.1:5432, skipped: {exc}")
                return None
            env["KB_DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{name}"

            def cleanup():
                with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

        command = [
            sys.executable,
            __file__,
            "--child",
            "--items",
            str(args.items),
            "--postmortems",
            str(args.postmortems),
            "--teams",
            str(args.teams),
            "--repeat",
            str(args.repeat),
        ]
        try:
            result = subprocess.run(
                command, cwd=ROOT, env=env, capture_output=True, text=True, check=False
            )
        finally:
            if cleanup:
                cleanup()
    sys.stderr.write(result.stderr[-3000:] if result.returncode else "")
    if result.returncode:
        print(f"{backend}: benchmark failed (exit {result.returncode})")
        return None
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.child:
        return child(args)
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    print(
        f"Action items benchmark: {args.items:,} items, {args.postmortems:,} "
        f"postmortems, {args.teams} teams, {args.repeat} timed requests per page"
    )
    print(f"Targets: median < {TARGET_MEDIAN_MS:.0f} ms, p95 < {TARGET_P95_MS:.0f} ms")
    results = []
    for backend in backends:
        report = run_backend(backend, args)
        if report is None:
            continue
        results += _results(backend, report)
        print()
        print(
            f"== {backend}: data built in {report['build_s']:.1f} s; load average "
            f"{report['load_before'][0]:.1f} before, {report['load_after'][0]:.1f} "
            f"after (2 cores shared)"
        )
        header = (
            f"{'page':<38} {'median ms':>9} {'p95 ms':>8} "
            f"{'median/target':>13} {'p95/target':>10} {'queries':>7} {'cpu ms':>7}"
        )
        print(header)
        print("-" * len(header))
        for row in report["pages"]:
            print(
                f"{row['page']:<38} {row['median_ms']:>9.1f} {row['p95_ms']:>8.1f} "
                f"{row['median_ms'] / TARGET_MEDIAN_MS:>13.2f} "
                f"{row['p95_ms'] / TARGET_P95_MS:>10.2f} {row['queries']:>7} "
                f"{row['cpu_ms']:>7.1f}"
            )
        print(
            "cpu ms: median CPU time of this process per request (on PostgreSQL "
            "the database server's share is not included)."
        )
    sys.path.insert(0, str(ROOT))
    from bench.report import emit

    emit("actions", results)  # the last line, for bench/run_all.py
    return 0


def _results(backend: str, report: dict) -> list:
    """The figures in bench/report.py's form (median and p95 per page)."""
    sys.path.insert(0, str(ROOT))
    from bench.report import Result

    results = []
    for row in report["pages"]:
        note = f"{backend}, {row['queries']} queries"
        results.append(
            Result(
                metric=f"{row['page']}, median",
                value=row["median_ms"],
                unit="ms",
                target=TARGET_MEDIAN_MS,
                note=note,
            )
        )
        results.append(
            Result(
                metric=f"{row['page']}, p95",
                value=row["p95_ms"],
                unit="ms",
                target=TARGET_P95_MS,
                note=note,
            )
        )
    return results


# Child: build the data and time the pages.


def child(args) -> int:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    users = build(args)
    build_s = time.perf_counter() - started

    # Query logging (DEBUG) would slow every query down; production runs without it.
    settings.DEBUG = False
    pages = [
        ("dashboard, organisation (admin)", users["admin"], "/actions/dashboard/"),
        (
            "dashboard, one team (admin)",
            users["admin"],
            "/actions/dashboard/?team=team-07",
        ),
        ("dashboard, organisation (editor)", users["editor"], "/actions/dashboard/"),
        (
            "list: team + open, page 1 (admin)",
            users["admin"],
            "/actions/?team=team-07&state=open",
        ),
        ("list: overdue, page 1 (admin)", users["admin"], "/actions/?overdue=true"),
        (
            "list: overdue, page 20 (editor)",
            users["editor"],
            "/actions/?overdue=true&page=20",
        ),
    ]
    from django.test import Client

    report = {
        "engine": connection.vendor,
        "build_s": build_s,
        "load_before": os.getloadavg(),
        "pages": [],
    }
    for label, user, url in pages:
        client = Client()
        client.force_login(user)
        for _ in range(3):  # warm caches and connections
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
        executed = []

        def count(execute, sql, params, many, context, executed=executed):
            executed.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            client.get(url)
        timings = []
        cpu = []
        for _ in range(args.repeat):
            begin = time.perf_counter()
            begin_cpu = time.process_time()
            response = client.get(url)
            timings.append((time.perf_counter() - begin) * 1000)
            cpu.append((time.process_time() - begin_cpu) * 1000)
            assert response.status_code == 200
        timings.sort()
        p95 = statistics.quantiles(timings, n=20, method="inclusive")[18]
        report["pages"].append(
            {
                "page": label,
                "median_ms": statistics.median(timings),
                "p95_ms": p95,
                "queries": len(executed),
                "cpu_ms": statistics.median(cpu),
            }
        )
    report["load_after"] = os.getloadavg()
    print(json.dumps(report))
    return 0


def build(args) -> dict:
    """Teams, people, incidents, postmortems and items, deterministic (seed 42)."""
    import datetime as dt

    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone

    from actions.models import ActionItem, Category, Status
    from postmortems.models import (
        Incident,
        Postmortem,
        PostmortemStatus,
        PostmortemTemplate,
        Profile,
        Role,
        Severity,
        Team,
        WorkflowEvent,
    )

    rng = random.Random(42)
    User = get_user_model()
    now = timezone.now()
    today = timezone.localdate()
    with transaction.atomic():
        teams = Team.objects.bulk_create(
            Team(slug=f"team-{i:02d}", name=f"Team {i:02d}") for i in range(args.teams)
        )
        users = User.objects.bulk_create(
            User(
                username=f"person{i}",
                first_name=f"Person{i}",
                last_name="Bench",
                email=f"person{i}@example.com",
            )
            for i in range(args.teams * 5)
        )
        admin = User.objects.create(username="boss", is_superuser=True, is_staff=True)
        editor = User.objects.create(username="ed")
        Profile.objects.bulk_create(
            [Profile(user=u, role=Role.EDITOR) for u in users]
            + [
                Profile(user=admin, role=Role.ADMIN),
                Profile(user=editor, role="editor"),
            ]
        )
        membership = Profile.teams.through
        profiles = {p.user_id: p.pk for p in Profile.objects.all()}
        membership.objects.bulk_create(
            membership(profile_id=profiles[u.pk], team_id=teams[i // 5].pk)
            for i, u in enumerate(users)
        )
        membership.objects.create(profile_id=profiles[editor.pk], team_id=teams[7].pk)

        template = PostmortemTemplate.objects.get(slug="google-sre")
        severities = [Severity.SEV0, Severity.SEV1, Severity.SEV2, Severity.SEV3]
        incidents = Incident.objects.bulk_create(
            Incident(
                title=f"Incident {i}",
                severity=rng.choices(severities, weights=[1, 3, 8, 6])[0],
                team=teams[i % args.teams],
                started_at=now - dt.timedelta(days=rng.randint(1, 720)),
            )
            for i in range(args.postmortems)
        )
        statuses = [
            PostmortemStatus.DRAFT,
            PostmortemStatus.IN_REVIEW,
            PostmortemStatus.APPROVED,
            PostmortemStatus.PUBLISHED,
        ]
        postmortems = Postmortem.objects.bulk_create(
            Postmortem(
                incident=incident,
                template=template,
                author=users[rng.randrange(len(users))],
                status=rng.choices(statuses, weights=[10, 5, 15, 70])[0],
            )
            for incident in incidents
        )
        WorkflowEvent.objects.bulk_create(
            WorkflowEvent(
                postmortem=pm,
                from_status=PostmortemStatus.DRAFT,
                to_status=PostmortemStatus.IN_REVIEW,
                actor=pm.author,
            )
            for pm in postmortems
            if pm.status == PostmortemStatus.IN_REVIEW
        )

        status_values = [
            Status.OPEN,
            Status.IN_PROGRESS,
            Status.BLOCKED,
            Status.DONE,
            Status.WONT_DO,
        ]
        batch = []
        for i in range(args.items):
            pm = postmortems[i % len(postmortems)]
            team_index = (i % len(postmortems)) % args.teams
            # Team 07 lags: fewer items done.
            weights = [30, 15, 10, 35, 10] if team_index == 7 else [12, 8, 4, 66, 10]
            status = rng.choices(status_values, weights=weights)[0]
            created = pm.incident.started_at + dt.timedelta(days=rng.randint(1, 10))
            due = created.date() + dt.timedelta(days=rng.choice([7, 30, 90, 180]))
            completed = None
            if status == Status.DONE:
                completed = min(
                    now,
                    dt.datetime.combine(due, dt.time(12), tzinfo=dt.UTC)
                    + dt.timedelta(days=rng.randint(-40, 25)),
                )
            batch.append(
                ActionItem(
                    title=f"Action item {i}",
                    category=rng.choice(Category.values),
                    priority=rng.choice(["P0", "P1", "P2", "P3"]),
                    team=teams[team_index],
                    owner=users[team_index * 5 + rng.randrange(5)],
                    postmortem=pm if rng.random() < 0.95 else None,
                    due_date=due if due > today - dt.timedelta(days=700) else today,
                    status=status,
                    status_reason="Waiting on vendor"
                    if status in (Status.BLOCKED, Status.WONT_DO)
                    else "",
                    verification_note="Checked" if status == Status.DONE else "",
                    completed_at=completed,
                    created_at=created,
                )
            )
        ActionItem.objects.bulk_create(batch, batch_size=2000)
    from django.db import connection

    if connection.vendor == "postgresql":
        # What autovacuum does soon after a bulk load: statistics for the planner
        # and the visibility map that lets index-only scans skip the table.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    return {"admin": admin, "editor": editor}


if __name__ == "__main__":
    sys.exit(main())
