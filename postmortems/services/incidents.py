"""Writes to incidents: declare, edit, and correct a timestamp with a reason.

Every save goes through ``_save`` so django-simple-history records who made the
change and why; the correction history on the incident page is read from it.
"""

import datetime as dt
import logging
from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from postmortems.metrics import LIFECYCLE_LABELS
from postmortems.models import (
    LIFECYCLE_FIELDS,
    Incident,
    IncidentStatus,
    Postmortem,
    Role,
    Service,
    Team,
)
from postmortems.permissions import has_role, is_admin, team_ids

logger = logging.getLogger(__name__)

# Fields the incident form and the API may change (services are set separately).
EDITABLE_FIELDS = (
    "title",
    "severity",
    "status",
    "team",
    "commander",
    "comms_lead",
    "ops_lead",
    "scribe",
    *LIFECYCLE_FIELDS,
    "near_miss",
)
REASON_DECLARED = "Declared"
REASON_EDITED = "Edited"
# simple-history keeps the reason in a 100-character column.
REASON_MAX_LENGTH = 100


def _check_team(team: Team, actor: AbstractBaseUser | None) -> None:
    """People file and move incidents only into their own teams (admins anywhere).

    Without an actor the write is the system's (an alert): the caller chose the
    team from its own configuration.
    """
    if actor is None or is_admin(actor) or team.pk in team_ids(actor):
        return
    raise ValidationError(
        {"team": "You can only file incidents for a team you belong to."}
    )


def _check_resolution(incident: Incident) -> None:
    if incident.status == IncidentStatus.RESOLVED and incident.resolved_at is None:
        raise ValidationError(
            {"resolved_at": "A resolved incident needs the time it was resolved."}
        )


def locked_timestamps(incident: Incident) -> set[str]:
    """Lifecycle fields that only a correction may change.

    Once the postmortem is approved, the times it was reviewed against are fixed:
    every timestamp that has a value. One still empty (an incident approved
    before it was resolved) can be filled in once.
    """
    if not Postmortem.objects.filter(incident_id=incident.pk).public().exists():
        return set()
    stored = Incident.objects.filter(pk=incident.pk).values(*LIFECYCLE_FIELDS).get()
    return {name for name, value in stored.items() if value is not None}


def _save(incident: Incident, *, actor: AbstractBaseUser | None, reason: str) -> None:
    incident.full_clean()
    incident._history_user = actor
    incident._change_reason = reason
    try:
        incident.save()
    finally:
        # The attributes would otherwise be reused by a later save of this object.
        del incident._history_user
        del incident._change_reason


@transaction.atomic
def incident_create(
    *,
    actor: AbstractBaseUser | None,
    title: str,
    severity: str,
    team: Team,
    started_at: dt.datetime,
    status: str = IncidentStatus.INVESTIGATING,
    services: Iterable[Service] = (),
    commander: AbstractBaseUser | None = None,
    comms_lead: AbstractBaseUser | None = None,
    ops_lead: AbstractBaseUser | None = None,
    scribe: AbstractBaseUser | None = None,
    detected_at: dt.datetime | None = None,
    acknowledged_at: dt.datetime | None = None,
    mitigated_at: dt.datetime | None = None,
    resolved_at: dt.datetime | None = None,
    near_miss: bool = False,
    external_source: str = "",
    external_key: str = "",
    reason: str = REASON_DECLARED,
) -> Incident:
    """Declare an incident; timestamps must be in lifecycle order."""
    if not external_source:
        # An incident from outside (an alert, an import) is filed where its
        # source's configuration or the operator's --team says, not by a person.
        _check_team(team, actor)
    incident = Incident(
        external_source=external_source,
        external_key=external_key,
        title=title,
        severity=severity,
        status=status,
        team=team,
        commander=commander,
        comms_lead=comms_lead,
        ops_lead=ops_lead,
        scribe=scribe,
        started_at=started_at,
        detected_at=detected_at,
        acknowledged_at=acknowledged_at,
        mitigated_at=mitigated_at,
        resolved_at=resolved_at,
        near_miss=near_miss,
    )
    if not external_source:
        # An imported record may be resolved with no known end time.
        _check_resolution(incident)
    _save(incident, actor=actor, reason=reason)
    incident.services.set(list(services))
    logger.info("Incident %s declared by %s", incident.pk, actor)
    return incident


@transaction.atomic
def incident_update(
    *,
    incident: Incident,
    actor: AbstractBaseUser | None,
    services: Iterable[Service] | None = None,
    reason: str = REASON_EDITED,
    **changes,
) -> Incident:
    """Change the given fields (see ``EDITABLE_FIELDS``) and, if given, services."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"incident_update() cannot change {sorted(unknown)}")
    # Compared with the stored row: a ModelForm has already changed ``incident``.
    stored = Incident.objects.select_for_update().get(pk=incident.pk)
    if "team" in changes and changes["team"].pk != stored.team_id:
        _check_team(changes["team"], actor)
    locked = locked_timestamps(stored)
    moved = {
        name: "Locked: the postmortem is approved. A reviewer corrects it with a "
        "reason (the incident page, or POST …/correct-timestamp/)."
        for name in sorted(locked)
        if name in changes and changes[name] != getattr(stored, name)
    }
    if moved:
        for name in moved:
            setattr(incident, name, getattr(stored, name))
        raise ValidationError(moved)
    for name, value in changes.items():
        setattr(incident, name, value)
    _check_resolution(incident)
    _save(incident, actor=actor, reason=reason[:REASON_MAX_LENGTH])
    if services is not None:
        incident.services.set(list(services))
    return incident


@transaction.atomic
def incident_correct_timestamp(
    *,
    incident: Incident,
    actor: AbstractBaseUser,
    field: str,
    value: dt.datetime | None,
    reason: str,
) -> Incident:
    """A reviewer corrects one lifecycle timestamp; the reason is recorded."""
    if not has_role(actor, Role.REVIEWER):
        raise PermissionDenied("Only reviewers and admins correct timestamps.")
    if field not in LIFECYCLE_FIELDS:
        raise ValidationError({"field": f"{field!r} is not an incident timestamp."})
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Say why the timestamp is being corrected."})
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationError(
            {"reason": f"Keep the reason to {REASON_MAX_LENGTH} characters."}
        )
    if field == "started_at" and value is None:
        raise ValidationError({"value": "An incident always has a start time."})
    if getattr(incident, field) == value:
        raise ValidationError(
            {"value": f"That is already the {LIFECYCLE_LABELS[field]} time."}
        )
    previous = getattr(incident, field)
    setattr(incident, field, value)
    try:
        _save(incident, actor=actor, reason=reason)
    except ValidationError as exc:
        setattr(incident, field, previous)
        # Report ordering problems against the value being corrected.
        messages = exc.message_dict.get(field) or [
            message for messages in exc.message_dict.values() for message in messages
        ]
        raise ValidationError({"value": messages}) from exc
    logger.info(
        "Incident %s: %s corrected by %s (%s)", incident.pk, field, actor, reason
    )
    return incident
