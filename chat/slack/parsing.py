"""Checking the shape of what Slack sends. Pure: raises BadRequest with a reason."""

import re
from urllib.parse import parse_qs

from kb import safejson

CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,30}$")
MESSAGE_TS = re.compile(r"^\d{9,11}\.\d{1,9}$")


class BadRequest(Exception):
    """The body is not what Slack sends: answered with 400, nothing written."""


def json_object(body: bytes) -> dict:
    try:
        # The API's bounded reader: deep nesting, lone surrogates, NULs and
        # numbers no column holds are a 400 naming the field, not a 500.
        payload = safejson.loads(body)
    except safejson.JsonRefused as exc:
        raise BadRequest(f"The body is not usable JSON: {exc.sentence()}") from None
    if not isinstance(payload, dict):
        raise BadRequest("The body is not a JSON object.")
    return payload


def form(body: bytes, *, required: tuple[str, ...]) -> dict[str, str]:
    """A form body (slash commands, interactions) as single values."""
    try:
        parsed = parse_qs(
            body.decode("utf-8"), keep_blank_values=True, strict_parsing=True
        )
    except (ValueError, UnicodeDecodeError):
        raise BadRequest(
            "The body is not a form (application/x-www-form-urlencoded)."
        ) from None
    values = {key: items[-1] for key, items in parsed.items()}
    for key, value in values.items():
        problem = safejson.text_problem(key) or safejson.text_problem(value)
        if problem:
            raise BadRequest(f'Form field "{key[:40]}": {problem}')
    missing = [name for name in required if name not in values]
    if missing:
        raise BadRequest(f"Missing form field(s): {', '.join(missing)}.")
    return values


def text(value: object, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise BadRequest(f"{name} must be a non-empty string.")
    return value


def channel_id(value: object, name: str = "channel") -> str:
    value = text(value, name)
    if not CHANNEL_ID.match(value):
        raise BadRequest(f"{name} is not a Slack channel id: {value[:40]!r}.")
    return value


def message_ts(value: object, name: str = "ts") -> str:
    value = text(value, name)
    if not MESSAGE_TS.match(value):
        raise BadRequest(f"{name} is not a Slack message ts: {value[:40]!r}.")
    return value


def mapping(value: object, name: str) -> dict:
    if not isinstance(value, dict):
        raise BadRequest(f"{name} must be an object.")
    return value
