"""Linking chat channels to incidents."""

import logging

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from chat.models import ChannelLink
from postmortems.models import Incident, Severity, Team
from postmortems.permissions import can_edit_incident
from postmortems.services.incidents import incident_create

logger = logging.getLogger(__name__)


@transaction.atomic
def channel_link_create(
    *,
    provider: str,
    channel_id: str,
    incident: Incident,
    actor: AbstractBaseUser | None,
) -> ChannelLink:
    """Make the channel follow ``incident`` (moving it off any earlier incident).

    ``actor`` must be able to edit ``incident`` and, when the channel already
    follows another one, that one too (no moving another team's channel away);
    else PermissionDenied, saying which. None: the system, which may.
    """
    if actor is not None:
        current = (
            ChannelLink.objects.select_for_update()
            .select_related("incident")
            .filter(provider=provider, channel_id=channel_id)
            .first()
        )
        for target in (incident, current.incident if current else None):
            if target is not None and not can_edit_incident(actor, target):
                raise PermissionDenied(
                    f"You cannot edit {target.reference} in Hindsight."
                )
    link, created = ChannelLink.objects.update_or_create(
        provider=provider,
        channel_id=channel_id,
        defaults={
            "incident": incident,
            "linked_by": actor,
            "created_at": timezone.now(),
        },
    )
    logger.info(
        "%s channel %s %s %s by %s",
        provider,
        channel_id,
        "linked to" if created else "moved to",
        incident.reference,
        actor,
    )
    return link


@transaction.atomic
def chat_incident_declare(
    *,
    provider: str,
    channel_id: str,
    actor: AbstractBaseUser,
    team: Team,
    title: str,
    severity: str = Severity.SEV2,
) -> Incident:
    """Declare an incident from a channel, and link the channel to it."""
    incident = incident_create(
        actor=actor,
        title=title,
        severity=severity,
        team=team,
        started_at=timezone.now(),
    )
    channel_link_create(
        provider=provider, channel_id=channel_id, incident=incident, actor=actor
    )
    return incident


def channel_link_delete(*, link: ChannelLink, actor: AbstractBaseUser | None) -> None:
    """The channel stops following its incident (its timeline entries stay).

    ``actor`` must be able to edit the incident, else PermissionDenied.
    """
    if actor is not None and not can_edit_incident(actor, link.incident):
        raise PermissionDenied(
            f"You cannot edit {link.incident.reference} in Hindsight."
        )
    logger.info(
        "%s channel %s unlinked from %s by %s",
        link.provider,
        link.channel_id,
        link.incident.reference,
        actor,
    )
    link.delete()
