"""Sending findings' follow-up task durably, with the finding row as its outbox.

Every write of a finding sets ``Finding.follow_up_due`` in the same statement as
the rest of the row, to the time after which the follow-up counts as lost
(``RESEND_AFTER`` from now). After commit the task is sent to the broker; the task
clears the field once it has done the work for the row as it last read it. So:

- the broker is down when the request commits: the field is set to now, and the
  relay (``follow_ups_relay``, every minute by beat and in ``manage.py
  relay_outbox``) sends the follow-up as soon as the broker takes it;
- the process dies between commit and send, or the broker loses the queued task
  (Redis keeps nothing on disk): the relay sends it once ``RESEND_AFTER`` passes;
- a finding re-sent while its follow-up waits in the queue: the field changes, so
  whichever task reads the newest row clears it, and the others find it cleared
  and do nothing.

The relay pushes the field on by ``RESEND_AFTER`` whenever it sends, so a slow
queue gets at most one extra copy per finding per period, and a copy that finds
the work done costs one query. This replaces a separate outbox row per post (an
insert in the request and a delete after it), which cost two of a single post's
round trips to the database.
"""

import datetime as dt
import logging

from django.db import DatabaseError, transaction
from django.utils import timezone

from postmortems import outbox
from postmortems.findings.services.upsert import (
    follow_up_due,
    lock_in_write_order,
)
from postmortems.models import Finding

logger = logging.getLogger(__name__)

# Finding ids per relayed task.
RELAY_CHUNK = 100


def follow_up_send_on_commit(finding_ids: list[int]) -> None:
    """Send the follow-up of these (just written) findings after commit."""
    if finding_ids:
        transaction.on_commit(lambda: follow_up_send(finding_ids))


def follow_up_send(finding_ids: list[int]) -> bool:
    """Send one follow-up task; True when the broker accepted it.

    When it is refused the findings are due at once, for the relay.
    """
    from postmortems.findings import tasks

    try:
        tasks.findings_follow_up.apply_async(
            kwargs={"finding_ids": finding_ids}, retry=False
        )
    except outbox.BROKER_ERRORS as exc:
        logger.warning(
            "Broker unavailable; the follow-up of %d finding(s) waits for the "
            "relay: %s",
            len(finding_ids),
            exc,
        )
        try:
            _set_due(finding_ids, timezone.now(), follow_up_due__isnull=False)
        except DatabaseError:
            # Still due at the later time: the relay sends it then.
            logger.exception("Could not mark findings %s as due", finding_ids)
        return False
    return True


def follow_ups_relay(*, limit: int = 1000, now: dt.datetime | None = None) -> int:
    """Send the follow-ups that are due; returns how many findings were covered.

    Stops at the first refusal: the broker is still down, the next run tries again.
    """
    now = now or timezone.now()
    due = list(
        Finding.objects.filter(follow_up_due__lte=now)
        .order_by("follow_up_due", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    sent = 0
    for start in range(0, len(due), RELAY_CHUNK):
        chunk = due[start : start + RELAY_CHUNK]
        # Pushed on before sending, so that the task reads (and clears) the new
        # time; a refused send makes them due at once again.
        _set_due(chunk, follow_up_due(timezone.now()), follow_up_due__lte=now)
        if not follow_up_send(chunk):
            break
        sent += len(chunk)
    return sent


def follow_ups_pending() -> int:
    """Findings whose follow-up has not run yet (sent or not)."""
    return Finding.objects.filter(follow_up_due__isnull=False).count()


def follow_ups_done(findings: list[Finding]) -> int:
    """Clear the due time of findings whose follow-up just ran on this data.

    A row written again since it was read keeps its (new) time, for its own task.
    """
    by_due: dict[dt.datetime, list[int]] = {}
    for finding in findings:
        if finding.follow_up_due is not None:
            by_due.setdefault(finding.follow_up_due, []).append(finding.pk)
    return sum(_set_due(ids, None, follow_up_due=due) for due, ids in by_due.items())


def _set_due(ids: list[int], due: dt.datetime | None, **condition) -> int:
    """Set ``follow_up_due`` on the rows of ``ids`` that still match ``condition``.

    Locked first, in the upsert's order, so that this cannot deadlock with one.
    """
    with transaction.atomic():
        locked = lock_in_write_order(ids, **condition)
        if locked:
            Finding.objects.filter(pk__in=locked).update(follow_up_due=due)
    return len(locked)
