"""Write parsed postmortem files (``postmortems.importer``) to the database.

All of a file or nothing of it: every record of one file is written in one
transaction, and any problem (an unknown team or service, timestamps out of order)
rolls the whole file back and is reported with the file's line number.
"""

import logging
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from postmortems import extensions
from postmortems.importer import ImportProblem, ParsedFile, PostmortemRecord
from postmortems.models import (
    ContributingFactor,
    ContributingFactorKind,
    Hypothesis,
    HypothesisStatus,
    HypothesisTrack,
    Incident,
    IncidentStatus,
    Postmortem,
    PostmortemStatus,
    PostmortemTemplate,
    Service,
    Severity,
    Team,
    TimelineKind,
    TimelineSource,
    WorkflowEvent,
)
from postmortems.services.incidents import incident_create
from postmortems.services.postmortems import postmortem_version_record
from postmortems.services.timeline import timeline_entry_create
from postmortems.signals import postmortem_imported, send_on_commit

logger = logging.getLogger(__name__)

IMPORT_SOURCE = "import"
IMPORT_TEMPLATE = "google-sre"


class ImportFileError(Exception):
    """The file was not imported; ``problems`` say where and why."""

    def __init__(self, problems: list[ImportProblem]):
        self.problems = problems
        super().__init__("; ".join(str(problem) for problem in problems))


class ImportFileRefused(Exception):
    """The file was not read at all; the message says why."""


def import_source_read(*, path: Path, max_bytes: int) -> str:
    """The text of ``path``: a regular file of at most ``max_bytes`` UTF-8 bytes.

    Anything else is refused before it is opened: a FIFO would block the import
    forever and a link to a device such as /dev/zero would fill the memory.
    """
    try:
        info = os.stat(path)  # follows links: the target is what gets read
    except OSError as exc:
        raise ImportFileRefused(f"cannot read: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise ImportFileRefused(
            f"not a regular file ({_file_kind(info.st_mode)}); only regular files "
            "are imported"
        )
    if info.st_size > max_bytes:
        raise ImportFileRefused(_too_large(info.st_size, max_bytes))
    try:
        # O_NONBLOCK: if a FIFO replaced the file since the stat, opening it must
        # not wait for a writer (the fstat below then refuses it).
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise ImportFileRefused(f"cannot read: {exc.strerror}") from None
    with os.fdopen(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise ImportFileRefused("not a regular file; only regular files are read")
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ImportFileRefused(_too_large(len(data), max_bytes))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileRefused(
            f"not UTF-8 text (byte {exc.start + 1}); save the file as UTF-8"
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _file_kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a file"


def _too_large(size: int, limit: int) -> str:
    return (
        f"{size:,} bytes or more; files over {limit:,} bytes are not read "
        "(KB_IMPORT_MAX_FILE_BYTES): split the file"
    )


@dataclass
class ImportFileResult:
    path: str
    created: list[int] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    timeline_entries: int = 0
    action_items: int = 0


def default_import_author() -> AbstractBaseUser | None:
    """The first admin (superuser or admin role), by id."""
    return (
        get_user_model()
        .objects.filter(Q(is_superuser=True) | Q(profile__role="admin"), is_active=True)
        .order_by("pk")
        .first()
    )


def import_templates() -> list[dict]:
    """The postmortem templates as plain data, for ``postmortems.importer``."""
    return [
        {
            "slug": template.slug,
            "name": template.name,
            "sections": [(row["key"], row["title"]) for row in template.sections],
        }
        for template in PostmortemTemplate.objects.all()
    ]


@dataclass
class _Known:
    """What a file's names are matched against, read once per file."""

    teams: dict
    services: dict
    people: dict
    templates: dict

    @classmethod
    def load(cls) -> "_Known":
        teams, services = {}, {}
        for team in Team.objects.all():
            teams[team.slug.lower()] = teams[team.name.lower()] = team
        for service in Service.objects.all():
            services[service.slug.lower()] = service
            services[service.name.lower()] = service
        people = {
            u.username: u for u in get_user_model().objects.filter(is_active=True)
        }
        templates = {t.slug: t for t in PostmortemTemplate.objects.all()}
        return cls(teams, services, people, templates)


@transaction.atomic
def postmortem_import_file(
    *,
    parsed: ParsedFile,
    team: Team,
    author: AbstractBaseUser,
    default_severity: str = Severity.SEV2,
    status: str = PostmortemStatus.PUBLISHED,
) -> ImportFileResult:
    """Create an incident and postmortem per record; all of the file or nothing.

    A record's own team, status, author, template and people (an exported file's
    front matter) win over the command's defaults.
    """
    if parsed.problems:
        raise ImportFileError(parsed.problems)
    problems: list[ImportProblem] = []
    known = _Known.load()

    result = ImportFileResult(path=parsed.path)
    for record in parsed.records:
        record_team = team
        if record.team:
            record_team = known.teams.get(record.team.lower())
            if record_team is None:
                problems.append(_problem(record, f"unknown team {record.team!r}"))
                continue
        unknown = [
            name for name in record.services if name.lower() not in known.services
        ]
        if unknown:
            problems.append(
                _problem(record, "unknown service(s): " + ", ".join(unknown))
            )
            continue
        if _already_imported(record):
            result.skipped.append(record.key)
            continue
        wrong = _unknown_names(record, known)
        if wrong:
            problems += [_problem(record, message) for message in wrong]
            continue
        try:
            _write(
                record,
                record_team,
                known,
                author,
                result,
                default_severity=default_severity,
                status=record.status or status,
            )
        except ValidationError as exc:
            problems.append(_problem(record, _describe(exc)))
    if problems:
        # Raising inside the atomic block rolls back every row of this file.
        raise ImportFileError(problems)
    if result.created:
        for hook in extensions.import_hooks:
            hook(incident_ids=list(result.created))
    logger.info(
        "Imported %s postmortems from %s (%s already there)",
        len(result.created),
        parsed.path,
        len(result.skipped),
    )
    return result


def _unknown_names(record: PostmortemRecord, known: _Known) -> list[str]:
    """What the record names that is not here (people, template, kinds)."""
    messages = []
    people = [record.author, *record.reviewers, *record.roles.values()]
    people += [row["settled_by"] for row in record.hypotheses]
    people += [entry.author for entry in record.timeline]
    people += [item.owner for item in record.action_items if item.status]
    missing = sorted({name for name in people if name and name not in known.people})
    if missing:
        messages.append("unknown people: " + ", ".join(missing))
    if record.template and record.template not in known.templates:
        messages.append(f"unknown template {record.template!r}")
    item_teams = {item.team for item in record.action_items if item.team}
    for name in sorted(item_teams - set(known.teams)):
        messages.append(f"unknown team {name!r} for an action item")
    checks = [
        ("contributing factor kind", ContributingFactorKind.values, "kind", None),
        ("hypothesis track", HypothesisTrack.values, "track", "hypotheses"),
        ("hypothesis status", HypothesisStatus.values, "status", "hypotheses"),
    ]
    for label, allowed, key, rows in checks:
        values = getattr(record, rows or "contributing_factors")
        for value in {row[key] for row in values} - set(allowed):
            messages.append(f"unknown {label} {value!r}: use " + ", ".join(allowed))
    kinds = {entry.kind for entry in record.timeline} - set(TimelineKind.values)
    for kind in sorted(kinds):
        messages.append(f"unknown timeline kind {kind!r}")
    for check in extensions.import_checks:
        messages += check(record=record)
    return messages


def _problem(record: PostmortemRecord, message: str) -> ImportProblem:
    return ImportProblem(record.path, record.line, message)


def _describe(exc: ValidationError) -> str:
    if hasattr(exc, "message_dict"):
        return " ".join(
            message for messages in exc.message_dict.values() for message in messages
        )
    return " ".join(exc.messages)


def _already_imported(record: PostmortemRecord) -> bool:
    return Incident.objects.filter(
        external_source=IMPORT_SOURCE, external_key=record.key
    ).exists()


def _write(
    record: PostmortemRecord,
    team: Team,
    known: _Known,
    author: AbstractBaseUser,
    result: ImportFileResult,
    *,
    default_severity: str,
    status: str,
) -> None:
    person = known.people.get
    roles = {role: person(name) for role, name in record.roles.items()}
    incident = incident_create(
        actor=author,
        title=record.title,
        severity=record.severity or default_severity,
        team=team,
        status=IncidentStatus.RESOLVED,
        services=[known.services[name.lower()] for name in record.services],
        started_at=record.started_at,
        detected_at=record.detected_at,
        acknowledged_at=record.acknowledged_at,
        mitigated_at=record.mitigated_at,
        resolved_at=record.resolved_at,
        near_miss=record.near_miss,
        external_source=IMPORT_SOURCE,
        external_key=record.key,
        reason=f"Imported from {record.path}"[:100],
        **roles,
    )
    template = known.templates[record.template or IMPORT_TEMPLATE]
    published = status == PostmortemStatus.PUBLISHED
    impact = record.impact
    postmortem = Postmortem(
        incident=incident,
        template=template,
        status=status,
        author=person(record.author) or author,
        sections={
            k: v for k, v in record.sections.items() if k in template.section_keys
        },
        five_whys=record.five_whys,
        impact_users_affected=impact.get("users_affected"),
        impact_revenue_usd=impact.get("revenue_usd"),
        impact_error_budget_pct=impact.get("error_budget_pct"),
        impact_regions=impact.get("regions", []),
        published_at=(record.published_at or timezone.now()) if published else None,
    )
    # Its version is recorded once its factors and investigation log exist.
    postmortem.skip_history_when_saving = True
    postmortem.save()
    del postmortem.skip_history_when_saving
    postmortem.reviewers.set([person(name) for name in record.reviewers])
    ContributingFactor.objects.bulk_create(
        ContributingFactor(
            postmortem=postmortem,
            kind=row["kind"],
            description=row["description"],
            position=index,
        )
        for index, row in enumerate(record.contributing_factors)
    )
    Hypothesis.objects.bulk_create(
        Hypothesis(
            postmortem=postmortem,
            track=row["track"],
            status=row["status"],
            text=row["text"],
            test=row["test"],
            settled_by=person(row["settled_by"]),
            settled_at=row["settled_at"],
        )
        for row in record.hypotheses
    )
    postmortem_version_record(
        postmortem=postmortem,
        actor=author,
        reason=f"Imported from {record.path}"[:100],
    )
    if status != PostmortemStatus.DRAFT:
        WorkflowEvent.objects.create(
            postmortem=postmortem,
            from_status=PostmortemStatus.DRAFT,
            to_status=status,
            actor=author,
            comment=f"Imported from {record.path}, line {record.line}.",
        )
    for entry in record.timeline:
        timeline_entry_create(
            incident=incident,
            actor=author,
            occurred_at=entry.occurred_at,
            kind=entry.kind,
            text=entry.text,
            author=person(entry.author),
            source=TimelineSource.IMPORT,
        )
        result.timeline_entries += 1
    for write_items in extensions.import_action_item_writers:
        result.action_items += write_items(
            record=record,
            postmortem=postmortem,
            team=team,
            teams=known.teams,
            people=known.people,
            actor=author,
        )
    result.created.append(incident.pk)
    send_on_commit(
        postmortem_imported,
        sender=Postmortem,
        postmortem_id=postmortem.pk,
        failure_class=record.failure_class,
        actor_id=author.pk,
    )
