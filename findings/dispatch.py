"""Sending a finding's follow-up: on commit, claimed per incident, and relayed
when it was lost. The finding rows are the outbox.

``findings.follow_up`` runs the follow-up (``tasks.findings_follow_up`` calls it);
this module decides when that task is sent and makes sure it is.

Every write of a finding sets ``Finding.follow_up_due`` in the same statement as
the rest of the row, to the time after which its follow-up counts as lost
(``RESEND_AFTER`` from now). After commit a follow-up task is sent for each
incident written to; the task follows up that incident's findings that are due and
clears the field on each row as it read it. So:

- the broker is down when the request commits: the rows are due at once, and the
  relay (``relay``, every minute by beat and in ``manage.py relay_outbox``,
  through ``postmortems.extensions.relays``) sends their follow-up as soon as the
  broker takes it;
- the process dies between commit and send, or the broker loses the queued task
  (Redis keeps nothing on disk): the relay sends it once ``RESEND_AFTER`` passes;
- a finding re-sent while a follow-up waits in the queue: the field changes, so
  whichever task reads the newest row clears it, and the others skip it.

With ``KB_FOLLOW_UP_COALESCE`` (on with the Redis cache) a request sends the task
only if none is waiting for the incident: it claims ``follow-up-queued:<id>`` in
the cache, and the task releases the claim before it reads the findings. A finding
committed before the release is read by that task; one whose request finds the
claim released sends a new task. An alert storm on one incident then costs one
task per worker pickup, not one per finding (and a request saves the broker
publish, the most expensive step of a single post after the database).

The relay pushes the field on by ``RESEND_AFTER`` whenever it sends, so a slow
queue gets at most one extra copy per period, and a copy that finds the work done
costs one query.
"""

import datetime as dt
import logging

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone

from findings import follow_up, tasks
from findings.models import Finding
from findings.services.upsert import IngestResult, follow_up_deadline
from kb import cache
from postmortems import extensions, outbox

logger = logging.getLogger(__name__)


# -- Scheduling: after the request's commit -------------------------------------


def send_on_commit(result: IngestResult) -> None:
    """Send the follow-up of the findings just written (per incident) after commit."""
    finding_ids, incident_ids = result.finding_ids, sorted(result.incident_ids)
    if finding_ids:
        # Robust: the findings are committed, so an unexpected error here must not
        # turn the response into a 500; the rows stay due and the relay sends them.
        transaction.on_commit(
            lambda: schedule(finding_ids=finding_ids, incident_ids=incident_ids),
            robust=True,
        )


def schedule(*, finding_ids: list[int], incident_ids: list[int]) -> int:
    """Send a follow-up task per incident unless one is already waiting; returns
    how many were sent."""
    sent = 0
    coalesce = settings.KB_FOLLOW_UP_COALESCE
    for incident_id in incident_ids:
        if coalesce and not cache.claim(
            follow_up.claim_key(incident_id), follow_up.CLAIM_SECONDS
        ):
            continue  # a queued task will read these findings
        try:
            accepted = _send(incident_id=incident_id)
        except Exception:
            logger.exception("Sending the follow-up of incident %s failed", incident_id)
            accepted = False
        if accepted:
            sent += 1
            continue
        if coalesce:
            follow_up.claim_release(incident_id)
        try:
            follow_up.set_due(
                timezone.now(), pk__in=finding_ids, follow_up_due__isnull=False
            )
        except DatabaseError:
            # Still due at the later time: the relay sends it then.
            logger.exception("Could not mark findings %s as due", finding_ids)
        break  # the broker is down for the other incidents too
    return sent


# -- The relay: follow-ups that were refused or lost ----------------------------


def relay(*, page: int = 1000, now: dt.datetime | None = None) -> int:
    """Send the follow-up of every incident with findings due; returns how many
    findings were covered.

    Stops at the first refusal: the broker is still down, the next run tries again.
    Each sent finding's due time moves on, so every page read is a new one.
    """
    now = now or timezone.now()
    sent = 0
    while True:
        incidents = list(
            Finding.objects.filter(follow_up_due__lte=now)
            .order_by("incident_id")
            .values_list("incident_id", flat=True)
            .distinct()[:page]
        )
        for incident_id in incidents:
            # Pushed on before sending, so that the task reads (and clears) the
            # new time; a refused send makes them due at once again.
            pushed_to = follow_up_deadline(max(now, timezone.now()))
            count = follow_up.set_due(
                pushed_to, incident_id=incident_id, follow_up_due__lte=now
            )
            if not _send(incident_id=incident_id):
                follow_up.set_due(now, incident_id=incident_id, follow_up_due=pushed_to)
                return sent
            sent += count
        if len(incidents) < page:
            return sent


def pending() -> int:
    """Findings whose follow-up has not run yet (sent or not)."""
    return Finding.objects.filter(follow_up_due__isnull=False).count()


# Registered by FindingsConfig.ready(): the core's relay task calls it.
RELAY = extensions.Relay(
    sent_label="the follow-up of {count} finding(s)",
    pending_label="{count} finding follow-up(s) not yet run",
    send=relay,
    pending=pending,
)


def _send(**kwargs) -> bool:
    """Send one follow-up task; True when the broker accepted it."""
    try:
        tasks.findings_follow_up.apply_async(kwargs=kwargs, retry=False)
    except outbox.BROKER_ERRORS as exc:
        logger.warning(
            "Broker unavailable; the follow-up (%s) waits for the relay: %s",
            kwargs,
            exc,
        )
        return False
    return True
