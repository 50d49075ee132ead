"""Linking chat channels to incidents."""

import logging

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from chat.models import ChannelLink
from postmortems.models import Incident, Severity, Team
from postmortems.services.incidents import incident_create

logger = logging.getLogger(__name__)


def channel_link_create(
    *,
    provider: str,
    channel_id: str,
    incident: Incident,
    actor: AbstractBaseUser | None,
) -> ChannelLink:
    """Make the channel follow ``incident`` (moving it off any earlier incident)."""
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
    """The channel stops following its incident (its timeline entries stay)."""
    logger.info(
        "%s channel %s unlinked from %s by %s",
        link.provider,
        link.channel_id,
        link.incident.reference,
        actor,
    )
    link.delete()
