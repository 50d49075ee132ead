"""Reads of the chat app."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from chat.choices import Provider
from chat.models import (
    DEFAULT_REACTION,
    ChannelLink,
    PinnedMessage,
    TeamChatSettings,
)
from findings.models import FindingMatch
from postmortems.models import Incident, Team


def team_settings(team: Team | None) -> TeamChatSettings:
    """The team's chat settings; unsaved defaults when it has none."""
    if team is None:
        return TeamChatSettings()
    found = TeamChatSettings.objects.filter(team=team).first()
    return found or TeamChatSettings(team=team)


def channels_for(
    *, incident: Incident | None, team: Team | None, flag: str
) -> list[str]:
    """Channels to tell: the incident's linked ones and the team's, if the team's
    settings turn this notification (``flag``) on."""
    config = team_settings(team)
    if not getattr(config, flag):
        return []
    channels = []
    if incident is not None:
        channels += list(
            ChannelLink.objects.filter(incident=incident, provider=Provider.SLACK)
            .order_by("pk")
            .values_list("channel_id", flat=True)
        )
    if config.channel_id:
        channels.append(config.channel_id)
    return list(dict.fromkeys(channels))


def channel_link(*, provider: str, channel_id: str) -> ChannelLink | None:
    return (
        ChannelLink.objects.select_related("incident", "incident__team")
        .filter(provider=provider, channel_id=channel_id)
        .first()
    )


def reaction_for(link: ChannelLink) -> str:
    """The reaction that pins a message in this channel (its incident's team's)."""
    config = team_settings(link.incident.team)
    return config.reaction or DEFAULT_REACTION


def user_for_email(email: str) -> AbstractBaseUser | None:
    """The one active Hindsight user with this email, or None (none or several)."""
    if not email:
        return None
    users = list(
        get_user_model()
        .objects.filter(email__iexact=email, is_active=True)
        .select_related("profile")[:2]
    )
    return users[0] if len(users) == 1 else None


def pinned_message(
    *, provider: str, channel_id: str, message_ts: str
) -> PinnedMessage | None:
    return PinnedMessage.objects.filter(
        provider=provider, channel_id=channel_id, message_ts=message_ts
    ).first()


def alert_matches_visible_to_the_team(*, finding_ids: list[int]) -> QuerySet:
    """The findings' matches whose past incident and action item the incident's
    team may read: its own, or those of a public (approved, published) postmortem.

    A match names them in the team's channels; another team's draft must not leak.
    """
    return FindingMatch.objects.filter(
        finding_id__in=finding_ids
    ).visible_to_incident_team()
