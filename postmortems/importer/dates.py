"""Dates and times as people write them in postmortems; UTC unless they say."""

import datetime as dt
import re

_DATE = r"\d{4}-\d{2}-\d{2}"


_TIME = r"\d{1,2}:\d{2}(?::\d{2})?"


_ZONE = r"(?:\s*(?:UTC|GMT|Z)|\s*[+-]\d{2}:?\d{2})?"


def parse_when(value: str) -> dt.datetime | None:
    """A date or date-time; without an offset it is UTC. None if unreadable."""
    value = value.strip().strip("*").strip()
    if not value:
        return None
    value = re.sub(r"\s*\((?:all times )?UTC\)\s*$", "", value, flags=re.IGNORECASE)
    value = re.sub(r"\s*(?:UTC|GMT)$", "Z", value)
    candidate = value.replace(" ", "T", 1) if re.match(_DATE + " ", value) else value
    try:
        if re.fullmatch(_DATE, candidate):
            parsed = dt.datetime.combine(dt.date.fromisoformat(candidate), dt.time())
        else:
            parsed = dt.datetime.fromisoformat(candidate.replace("TZ", "T"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def _combine(day: dt.date, time_text: str, zone: str) -> dt.datetime:
    parts = [int(part) for part in time_text.split(":")]
    hour, minute, second = (parts + [0])[:3]
    moment = dt.datetime.combine(day, dt.time(hour, minute, second))
    zone = zone.strip().replace(":", "")
    if zone in ("", "UTC", "GMT", "Z"):
        return moment.replace(tzinfo=dt.UTC)
    sign = 1 if zone[0] == "+" else -1
    offset = dt.timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5]))
    return moment.replace(tzinfo=dt.timezone(sign * offset)).astimezone(dt.UTC)
