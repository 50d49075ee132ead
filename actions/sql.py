"""Database expressions the dashboard needs to stay fast at 50,000 items."""

import datetime as dt

from django.db import connection
from django.db.models import Case as SqlCase
from django.db.models import CharField, DateField, F, Func, Q, Value, When
from django.db.models.functions import TruncDate


def utc_offset_segments(
    tz: dt.tzinfo, start: dt.datetime, end: dt.datetime
) -> list[tuple[dt.datetime | None, int]]:
    """``tz``'s UTC offsets between two instants: ``[(until, seconds), ...]``.

    Each offset holds until the instant given (the last one has ``None``).
    Transitions are found by a daily scan refined by bisection to the second.
    """

    def offset(moment: dt.datetime) -> int:
        return int(moment.astimezone(tz).utcoffset().total_seconds())

    segments = []
    current = offset(start)
    cursor = start
    while cursor < end:
        step = min(cursor + dt.timedelta(days=1), end)
        if offset(step) != current:
            low, high = cursor, step
            while high - low > dt.timedelta(seconds=1):
                middle = low + (high - low) / 2
                if offset(middle) == current:
                    low = middle
                else:
                    high = middle
            high = high.replace(microsecond=0)
            segments.append((high, current))
            current = offset(high)
            cursor = high
        else:
            cursor = step
    segments.append((None, current))
    return segments


def local_date(
    field: str, *, tz: dt.tzinfo, start: dt.datetime, end: dt.datetime
) -> object:
    """The calendar date of datetime column ``field`` in ``tz``.

    On SQLite Django converts time zones with a Python function per row, which
    dominates the dashboard at scale; here each stretch of constant UTC offset
    between ``start`` and ``end`` uses SQLite's built-in ``date()`` instead.
    Values outside the range take the nearest stretch's offset, so callers pick
    a range with a margin around the dates they compare against. Other databases
    convert natively.
    """
    if connection.vendor != "sqlite":
        return TruncDate(field, tzinfo=tz)
    whens = []
    default = None
    for until, seconds in utc_offset_segments(tz, start, end):
        shifted = Func(
            F(field),
            Value(f"{seconds:+d} seconds", output_field=CharField()),
            function="date",
            output_field=DateField(),
        )
        if until is None:
            default = shifted
        else:
            whens.append(When(Q(**{f"{field}__lt": until}), then=shifted))
    if not whens:
        return default
    return SqlCase(*whens, default=default, output_field=DateField())
