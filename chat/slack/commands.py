"""The ``/hindsight`` slash command: link, unlink, declare, help.

``handle`` gets the verified form and answers (status, Slack message). A user is
who their Slack email says they are in Hindsight, with that user's permissions.
"""

import logging
import re

from django.conf import settings
from django.core.exceptions import ValidationError

from chat import messages, selectors, services
from chat.choices import Provider
from chat.providers import get_provider
from chat.providers.base import ChatError
from chat.slack.events import Answer
from chat.slack.parsing import BadRequest
from postmortems.models import Incident, Role, Severity, Team
from postmortems.permissions import can_edit_incident, has_role, team_ids

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


def _reply(status: int, text: str, *, in_channel: bool = False) -> Answer:
    body = {"response_type": "in_channel" if in_channel else "ephemeral", "text": text}
    if status >= 400:
        body["error"] = text
    return Answer(status, body)


def handle(form: dict[str, str]) -> Answer:
    channel_id = form["channel_id"]
    words = form["text"].split()
    verb = words[0].lower() if words else "help"
    if verb == "help":
        return _reply(200, USAGE)
    if verb == "link":
        return _link(form, channel_id, words[1:])
    if verb == "declare":
        return _declare(form, channel_id, words[1:])
    if verb == "unlink":
        return _unlink(form, channel_id)
    raise BadRequest(f"Unknown subcommand {verb[:40]!r}.\n{USAGE}")


def _user(form: dict[str, str]):
    """The Hindsight user behind the Slack user, or an Answer saying why not."""
    try:
        chat_user = get_provider(Provider.SLACK).resolve_user(user_id=form["user_id"])
    except ChatError as exc:
        logger.warning("Slack users.info failed: %s", exc)
        return None, _reply(503, "Slack did not say who you are; try again shortly.")
    user = selectors.user_for_email(chat_user.email)
    if user is None:
        return None, _reply(
            403,
            "Your Slack email matches no Hindsight account (ask an admin to set your "
            "email in Hindsight).",
        )
    return user, None


def _url(incident: Incident) -> str:
    return settings.SITE_URL.rstrip("/") + incident.get_absolute_url()


def _link(form, channel_id: str, args: list[str]) -> Answer:
    match = INCIDENT_KEY.match(args[0]) if len(args) == 1 else None
    if match is None:
        raise BadRequest("Say which incident: /hindsight link INC-42")
    incident = (
        Incident.objects.select_related("team").filter(pk=int(match.group(1))).first()
    )
    if incident is None:
        return _reply(404, f"No incident INC-{match.group(1)}.")
    user, refusal = _user(form)
    if refusal:
        return refusal
    if not can_edit_incident(user, incident):
        return _reply(403, f"You cannot edit {incident.reference} in Hindsight.")
    services.channel_link_create(
        provider=Provider.SLACK, channel_id=channel_id, incident=incident, actor=user
    )
    return _reply(
        200,
        messages.incident_linked(
            reference=incident.reference, title=incident.title, url=_url(incident)
        ),
        in_channel=True,
    )


def _unlink(form, channel_id: str) -> Answer:
    link = selectors.channel_link(provider=Provider.SLACK, channel_id=channel_id)
    if link is None:
        return _reply(404, "This channel follows no incident.")
    user, refusal = _user(form)
    if refusal:
        return refusal
    if not can_edit_incident(user, link.incident):
        return _reply(403, f"You cannot edit {link.incident.reference} in Hindsight.")
    services.channel_link_delete(link=link, actor=user)
    return _reply(
        200,
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
            raise BadRequest(f"No team {slug[:40]!r}.")
        args = args[1:]
    severity = Severity.SEV2
    if args and args[0].upper() in Severity.values:
        severity, args = args[0].upper(), args[1:]
    title = " ".join(args).strip()
    if not title:
        raise BadRequest(
            "Give the incident a title: /hindsight declare SEV2 Checkout is slow"
        )
    if team is None:
        teams = list(Team.objects.filter(pk__in=mine).order_by("name"))
        if len(teams) != 1:
            slugs = ", ".join(t.slug for t in teams) or "none"
            return _reply(
                400,
                f"Name the team: /hindsight declare team:<slug> {title} "
                f"(yours: {slugs}).",
            )
        team = teams[0]
    if not has_role(user, Role.EDITOR) or team.pk not in mine:
        return _reply(403, f"You cannot declare incidents for {team.name}.")
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
        raise BadRequest("; ".join(exc.messages)) from None
    return _reply(
        200,
        f"{incident.reference} declared ({severity}, {team.name}). "
        + messages.incident_linked(
            reference=incident.reference, title=incident.title, url=_url(incident)
        ),
        in_channel=True,
    )
