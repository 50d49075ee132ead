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

from actions.models import ActionItem
from actions.models import Status as ActionStatus
from postmortems.importer import ImportProblem, ParsedFile, PostmortemRecord
from postmortems.models import (
    Incident,
    IncidentStatus,
    Postmortem,
    PostmortemStatus,
    PostmortemTemplate,
    Service,
    Severity,
    Team,
    TimelineSource,
    WorkflowEvent,
)
from postmortems.services.incidents import incident_create
from postmortems.services.timeline import timeline_entry_create

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


@transaction.atomic
def postmortem_import_file(
    *,
    parsed: ParsedFile,
    team: Team,
    author: AbstractBaseUser,
    default_severity: str = Severity.SEV2,
    status: str = PostmortemStatus.PUBLISHED,
) -> ImportFileResult:
    """Create an incident and postmortem per record; all of the file or nothing."""
    if parsed.problems:
        raise ImportFileError(parsed.problems)
    problems: list[ImportProblem] = []
    template = PostmortemTemplate.objects.get(slug=IMPORT_TEMPLATE)
    teams = {t.slug: t for t in Team.objects.all()}
    services = {}
    for service in Service.objects.all():
        services[service.slug.lower()] = service
        services[service.name.lower()] = service
    people = {u.username: u for u in get_user_model().objects.filter(is_active=True)}

    result = ImportFileResult(path=parsed.path)
    for record in parsed.records:
        record_team = team
        if record.team:
            record_team = teams.get(record.team)
            if record_team is None:
                problems.append(_problem(record, f"unknown team {record.team!r}"))
                continue
        unknown = [name for name in record.services if name.lower() not in services]
        if unknown:
            problems.append(
                _problem(record, "unknown service(s): " + ", ".join(unknown))
            )
            continue
        if _already_imported(record):
            result.skipped.append(record.key)
            continue
        try:
            _write(
                record,
                record_team,
                services,
                people,
                template,
                author,
                result,
                default_severity=default_severity,
                status=status,
            )
        except ValidationError as exc:
            problems.append(_problem(record, _describe(exc)))
    if problems:
        # Raising inside the atomic block rolls back every row of this file.
        raise ImportFileError(problems)
    logger.info(
        "Imported %s postmortems from %s (%s already there)",
        len(result.created),
        parsed.path,
        len(result.skipped),
    )
    return result


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
    services: dict,
    people: dict,
    template: PostmortemTemplate,
    author: AbstractBaseUser,
    result: ImportFileResult,
    *,
    default_severity: str,
    status: str,
) -> None:
    incident = incident_create(
        actor=author,
        title=record.title,
        severity=record.severity or default_severity,
        team=team,
        status=IncidentStatus.RESOLVED,
        services=[services[name.lower()] for name in record.services],
        started_at=record.started_at,
        detected_at=record.detected_at,
        mitigated_at=record.mitigated_at,
        resolved_at=record.resolved_at,
        external_source=IMPORT_SOURCE,
        external_key=record.key,
        reason=f"Imported from {record.path}"[:100],
    )
    published = status == PostmortemStatus.PUBLISHED
    postmortem = Postmortem.objects.create(
        incident=incident,
        template=template,
        status=status,
        author=author,
        sections={
            k: v for k, v in record.sections.items() if k in template.section_keys
        },
        published_at=timezone.now() if published else None,
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
            author=None,
            source=TimelineSource.IMPORT,
        )
        result.timeline_entries += 1
    for item in record.action_items:
        done = item.done
        # Imported items are tracked like any other: the owner is matched by
        # username, the due date is left for the team to set.
        ActionItem.objects.create(
            title=item.title,
            category=item.category,
            team=team,
            postmortem=postmortem,
            owner=people.get(item.owner),
            status=ActionStatus.DONE if done else ActionStatus.OPEN,
            completed_at=timezone.now() if done else None,
            created_by=author,
        )
        result.action_items += 1
    result.created.append(incident.pk)
