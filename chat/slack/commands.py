"""The ``/hindsight`` slash command: link, unlink, declare, help.

``handle`` gets the verified, well-formed form and answers (status, Slack message).
A user is who their Slack email says they are in Hindsight, with that user's
permissions. Whatever the person got wrong (a typo, a missing right, an unknown
email) is a 200 with an ephemeral message saying so: Slack shows a command's
reply only on HTTP 200. Only bad signatures and malformed bodies are 4xx, before
``handle`` runs.
"""

import logging
import re

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError

from chat import messages, selectors, services
from chat.choices import Provider
from chat.providers import get_provider
from chat.providers.base import ChatError
from chat.slack.events import Answer
from postmortems.models import Incident, Role, Severity, Team
from postmortems.permissions import has_role, team_ids

logger = logging.getLogger(__name__)

USAGE = (
    "Usage:\n"
    "/hindsight link INC-42: this channel follows incident INC-42 (messages marked "
    "with the team's reaction join its timeline)\n"
    "/hindsight declare [team:slug] [SEV0-SEV3] title: declare an incident and link "
    "this channel to it\n"
    "/hindsight unlink: this channel stops following its incident"
)
INCIDENT_KEY = re.compile(r"^(?:INC-?|#)?(\d{1,12})$", re.IGNORECASE)


def _reply(text: str, *, in_channel: bool = False) -> Answer:
    """Shown only to the person unless ``in_channel`` (refusals: nothing written)."""
    return Answer(
        200,
        {"response_type": "in_channel" if in_channel else "ephemeral", "text": text},
    )


def handle(form: dict[str, str]) -> Answer:
    channel_id = form["channel_id"]
    words = form["text"].split()
    verb = words[0].lower() if words else "help"
    if verb == "help":
        return _reply(USAGE)
    if verb == "link":
        return _link(form, channel_id, words[1:])
    if verb == "declare":
        return _declare(form, channel_id, words[1:])
    if verb == "unlink":
        return _unlink(form, channel_id)
    return _reply(f"Unknown subcommand {verb[:40]!r}.\n{USAGE}")


def _user(form: dict[str, str]):
    """The Hindsight user behind the Slack user, or an Answer saying why not."""
    try:
        chat_user = get_provider(Provider.SLACK).resolve_user(user_id=form["user_id"])
    except ChatError as exc:
        logger.warning("Slack users.info failed: %s", exc)
        return None, _reply("Slack did not say who you are; try again shortly.")
    user = selectors.user_for_email(chat_user.email)
    if user is None:
        return None, _reply(
            "Your Slack email matches no Hindsight account (ask an admin to set your "
            "email in Hindsight).",
        )
    return user, None


def _url(incident: Incident) -> str:
    return settings.SITE_URL.rstrip("/") + incident.get_absolute_url()


def _link(form, channel_id: str, args: list[str]) -> Answer:
    match = INCIDENT_KEY.match(args[0]) if len(args) == 1 else None
    if match is None:
        return _reply("Say which incident: /hindsight link INC-42")
    incident = (
        Incident.objects.select_related("team").filter(pk=int(match.group(1))).first()
    )
    if incident is None:
        return _reply(f"No incident INC-{match.group(1)}.")
    user, refusal = _user(form)
    if refusal:
        return refusal
    try:
        services.channel_link_create(
            provider=Provider.SLACK,
            channel_id=channel_id,
            incident=incident,
            actor=user,
        )
    except PermissionDenied as exc:
        return _reply(str(exc))
    return _reply(
        messages.incident_linked(
            reference=incident.reference, title=incident.title, url=_url(incident)
        ),
        in_channel=True,
    )


def _unlink(form, channel_id: str) -> Answer:
    link = selectors.channel_link(provider=Provider.SLACK, channel_id=channel_id)
    if link is None:
        return _reply("This channel follows no incident.")
    user, refusal = _user(form)
    if refusal:
        return refusal
    try:
        services.channel_link_delete(link=link, actor=user)
    except PermissionDenied as exc:
        return _reply(str(exc))
    return _reply(
        f"This channel no longer follows {link.incident.reference}.",
        in_channel=True,
    )


def _declare(form, channel_id: str, args: list[str]) -> Answer:
    user, refusal = _user(form)
    if refusal:
        return refusal
    mine = team_ids(user)
    team = None
    if args and args[0].lower().startswith("team:"):
        slug = args[0][len("team:") :].lower()
        team = Team.objects.filter(slug=slug).first()
        if team is None:
            return _reply(f"No team {slug[:40]!r}.")
        args = args[1:]
    severity = Severity.SEV2
    if args and args[0].upper() in Severity.values:
        severity, args = args[0].upper(), args[1:]
    title = " ".join(args).strip()
    if not title:
        return _reply(
            "Give the incident a title: /hindsight declare SEV2 Checkout is slow"
        )
    if team is None:
        teams = list(Team.objects.filter(pk__in=mine).order_by("name"))
        if len(teams) != 1:
            slugs = ", ".join(t.slug for t in teams) or "none"
            return _reply(
                f"Name the team: /hindsight declare team:<slug> {title} "
                f"(yours: {slugs}).",
            )
        team = teams[0]
    if not has_role(user, Role.EDITOR) or team.pk not in mine:
        return _reply(f"You cannot declare incidents for {team.name}.")
    try:
        incident = services.chat_incident_declare(
            provider=Provider.SLACK,
            channel_id=channel_id,
            actor=user,
            team=team,
            title=title,
            severity=severity,
        )
    except ValidationError as exc:
        return _reply("; ".join(exc.messages))
    except PermissionDenied as exc:
        return _reply(str(exc))
    return _reply(
        f"{incident.reference} declared ({severity}, {team.name}). "
        + messages.incident_linked(
            reference=incident.reference, title=incident.title, url=_url(incident)
        ),
        in_channel=True,
    )
