"""``manage.py import_postmortems PATH [PATH...]``: Markdown and JSONL postmortems.

Each file is imported whole or not at all; problems are printed with the file and
line. Directories are searched for .md, .markdown and .jsonl files.
"""

from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from postmortems.importer import JSONL_SUFFIXES, MARKDOWN_SUFFIXES, parse_file
from postmortems.models import PostmortemStatus, Severity, Team
from postmortems.services.imports import (
    ImportFileError,
    ImportFileRefused,
    default_import_author,
    import_source_read,
    import_templates,
    postmortem_import_file,
)

SUFFIXES = MARKDOWN_SUFFIXES + JSONL_SUFFIXES


class Command(BaseCommand):
    help = (
        "Import postmortems from Markdown files written with the Google SRE "
        "template's headings and from JSONL files ({title, date, text, ...} per "
        "line). A file with any problem is reported with its line and nothing of "
        "it is written."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", help="Files or directories.")
        parser.add_argument(
            "--team",
            required=True,
            help="Slug of the team that owns imported incidents (a record's own "
            "`team` wins).",
        )
        parser.add_argument(
            "--author",
            help="Username recorded as the postmortems' author (default: the "
            "first admin).",
        )
        parser.add_argument(
            "--severity",
            default=Severity.SEV2,
            choices=Severity.values,
            help="Severity for records that do not give one (default: SEV2).",
        )
        parser.add_argument(
            "--status",
            default=PostmortemStatus.PUBLISHED,
            choices=[PostmortemStatus.DRAFT, PostmortemStatus.PUBLISHED],
            help="Status of the imported postmortems (default: published, as "
            "they are finished documents).",
        )

    def handle(self, *args, **options):
        team = Team.objects.filter(slug=options["team"]).first()
        if team is None:
            known = ", ".join(Team.objects.values_list("slug", flat=True)) or "none"
            raise CommandError(f"No team {options['team']!r} (teams: {known}).")
        author = self._author(options["author"])
        files = self._files(options["paths"])

        templates = import_templates()
        imported = skipped = failed = 0
        for path in files:
            try:
                text = import_source_read(
                    path=path, max_bytes=settings.KB_IMPORT_MAX_FILE_BYTES
                )
            except ImportFileRefused as exc:
                failed += 1
                self.stderr.write(
                    self.style.ERROR(f"{path}: NOT imported, nothing written: {exc}")
                )
                continue
            parsed = parse_file(
                str(path),
                text,
                max_entries=settings.KB_IMPORT_MAX_ENTRIES,
                max_timeline_lines=settings.KB_IMPORT_MAX_TIMELINE_LINES,
                templates=templates,
            )
            for warning in parsed.warnings:
                self.stdout.write(self.style.WARNING(f"  warning {warning}"))
            try:
                result = postmortem_import_file(
                    parsed=parsed,
                    team=team,
                    author=author,
                    default_severity=options["severity"],
                    status=options["status"],
                )
            except ImportFileError as exc:
                failed += 1
                self.stderr.write(
                    self.style.ERROR(f"{path}: NOT imported, nothing written:")
                )
                for problem in exc.problems:
                    self.stderr.write(f"  {problem}")
                continue
            imported += len(result.created)
            skipped += len(result.skipped)
            if result.created:
                note = (
                    f", {len(result.skipped)} already imported"
                    if result.skipped
                    else ""
                )
                message = (
                    f"{path}: imported {len(result.created)} postmortem(s) with "
                    f"{result.timeline_entries} timeline entries and "
                    f"{result.action_items} action items{note}"
                )
            else:
                message = f"{path}: nothing new, {len(result.skipped)} already imported"
            self.stdout.write(self.style.SUCCESS(message))

        summary = (
            f"{len(files)} file(s): {imported} postmortem(s) imported, "
            f"{skipped} already there, {failed} file(s) failed."
        )
        if failed:
            raise CommandError(summary)
        self.stdout.write(summary)

    def _author(self, username: str | None):
        if username:
            author = get_user_model().objects.filter(username=username).first()
            if author is None:
                raise CommandError(f"No user {username!r} for --author.")
            return author
        author = default_import_author()
        if author is None:
            raise CommandError("No admin user to record as author: pass --author.")
        return author

    def _files(self, paths: list[str]) -> list[Path]:
        files: list[Path] = []
        for raw in paths:
            path = Path(raw)
            if path.is_dir():
                files.extend(
                    sorted(
                        p
                        for p in path.rglob("*")
                        if p.suffix.lower() in SUFFIXES and not p.is_dir()
                    )
                )
            elif path.exists():
                files.append(path)
            else:
                raise CommandError(f"{raw}: no such file or directory.")
        if not files:
            raise CommandError("No .md, .markdown or .jsonl files found.")
        return files
