"""Writes to an incident's timeline. Permission checks happen in the views."""

import datetime as dt
import logging

from django.contrib.auth.models import AbstractBaseUser

from postmortems.models import Incident, TimelineEntry, TimelineSource

logger = logging.getLogger(__name__)


def timeline_entry_create(
    *,
    incident: Incident,
    actor: AbstractBaseUser | None,
    occurred_at: dt.datetime,
    kind: str,
    text: str,
    author: AbstractBaseUser | None,
    source: str = TimelineSource.MANUAL,
) -> TimelineEntry:
    """Add one entry. ``author`` is who did or saw it (None when unknown)."""
    entry = TimelineEntry(
        incident=incident,
        occurred_at=occurred_at,
        kind=kind,
        text=text.strip(),
        author=author,
        source=source,
    )
    entry.full_clean()
    entry.save()
    return entry


def timeline_entry_update(
    *,
    entry: TimelineEntry,
    actor: AbstractBaseUser | None,
    occurred_at: dt.datetime,
    kind: str,
    text: str,
    author: AbstractBaseUser | None,
) -> TimelineEntry:
    """Change an entry's time, kind, text and author."""
    entry.occurred_at = occurred_at
    entry.kind = kind
    entry.text = text.strip()
    entry.author = author
    entry.full_clean()
    entry.save()
    return entry


def timeline_entry_delete(
    *, entry: TimelineEntry, actor: AbstractBaseUser | None
) -> None:
    """Remove an entry for good (the timeline keeps no history of its own)."""
    logger.info(
        "Timeline entry %s of incident %s deleted by %s",
        entry.pk,
        entry.incident_id,
        actor,
    )
    entry.delete()
