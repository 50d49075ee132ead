"""Slack's three request URLs (events, slash commands, interactivity).

Each verifies Slack's signature over the raw body before reading it: unsigned,
badly signed or replayed (older than five minutes) requests get 401, bodies
Hindsight cannot read 400, and none of them writes anything. Well-formed requests
get 200, also when Hindsight ignores them (events) or refuses what a person asked
(slash commands answer with an ephemeral message: Slack shows only a 200's).
"""

import logging
import time

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from chat.choices import Provider
from chat.providers import get_provider
from chat.providers.base import RequestRejected
from chat.slack import commands, events, interactions, parsing
from chat.slack.parsing import BadRequest

logger = logging.getLogger(__name__)


def _answer(request: HttpRequest, handler) -> JsonResponse:
    body = request.body
    try:
        get_provider(Provider.SLACK).verify_request(
            headers=request.headers, body=body, now=time.time()
        )
    except RequestRejected as exc:
        logger.warning("Refused a Slack request to %s: %s", request.path, exc)
        return JsonResponse({"error": str(exc)}, status=401)
    try:
        answer = handler(body)
    except BadRequest as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    return JsonResponse(answer.body, status=answer.status)


@csrf_exempt
@login_not_required
@require_POST
def slack_events(request: HttpRequest) -> JsonResponse:
    return _answer(request, lambda body: events.handle(parsing.json_object(body)))


@csrf_exempt
@login_not_required
@require_POST
def slack_commands(request: HttpRequest) -> JsonResponse:
    required = ("command", "text", "channel_id", "user_id")
    return _answer(
        request, lambda body: commands.handle(parsing.form(body, required=required))
    )


@csrf_exempt
@login_not_required
@require_POST
def slack_interactions(request: HttpRequest) -> JsonResponse:
    return _answer(
        request,
        lambda body: interactions.handle(parsing.form(body, required=("payload",))),
    )
