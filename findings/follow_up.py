"""A finding's follow-up, from end to end: scheduled on commit, claimed, run by
the task, marked done, and relayed when it was lost. The finding rows are the
outbox.

The follow-up itself (timeline entries, service links, draft suggestions, matches
to past incidents) is written by ``services.follow_up_steps``; this module decides
when it runs and makes sure it does. ``tasks.findings_follow_up`` calls
``incident_findings_follow_up`` and nothing else.

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

from celery import current_app
from django.conf import settings
from django.db import DatabaseError, OperationalError, transaction
from django.utils import timezone

from findings import similarity
from findings.models import Finding
from findings.services.follow_up_steps import (
    findings_link_services,
    findings_link_waiting_children,
    findings_record_timeline,
    findings_sync_suggestions,
)
from findings.services.upsert import (
    RESEND_AFTER,
    IngestResult,
    follow_up_deadline,
    lock_in_write_order,
)
from kb import cache
from postmortems import extensions, outbox, signals

logger = logging.getLogger(__name__)

# The task's name from when findings lived in postmortems: messages already
# queued, and workers not yet upgraded, know it by this name.
TASK_NAME = "postmortems.findings.follow_up"


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
        if coalesce and not cache.claim(_claim_key(incident_id), _CLAIM_SECONDS):
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
            claim_release(incident_id)
        try:
            _set_due(timezone.now(), pk__in=finding_ids, follow_up_due__isnull=False)
        except DatabaseError:
            # Still due at the later time: the relay sends it then.
            logger.exception("Could not mark findings %s as due", finding_ids)
        break  # the broker is down for the other incidents too
    return sent


# -- The claim: one queued task per incident ------------------------------------

# A claim outlives a lost task by no more than the relay's resend delay.
_CLAIM_SECONDS = int(RESEND_AFTER.total_seconds())


def _claim_key(incident_id: int) -> str:
    return f"findings:follow-up-queued:{incident_id}"


def claim_release(incident_id: int) -> None:
    """Called by the task before it reads: later findings need a task of their own.

    Whatever this process's KB_FOLLOW_UP_COALESCE says (the web's may differ), and
    never failing the task: a claim left held expires within ``RESEND_AFTER``.
    """
    try:
        cache.release(_claim_key(incident_id))
    except Exception:
        logger.exception("Could not release the follow-up claim of %s", incident_id)


# -- Running: what the task does ------------------------------------------------


def incident_findings_follow_up(*, incident_id: int, chunk: int = 500) -> str:
    """Follow up the findings of this incident that are due, ``chunk`` at a time.

    Releases the incident's claim first: a finding committed after this point
    sends a task of its own, so this run stops at the findings that were there
    when it started. A finding whose follow-up keeps failing is logged and left
    due (the relay tries it again) without holding up the others.
    """
    claim_release(incident_id)
    # Read once for the whole run, chunks and one-by-one retries alike.
    past = similarity.PastIncidents()
    due = Finding.objects.filter(incident_id=incident_id, follow_up_due__isnull=False)
    last = due.order_by("-pk").values_list("pk", flat=True).first()
    done_count = failed = after = 0
    while last is not None:
        ids = list(
            due.filter(pk__gt=after, pk__lte=last)
            .order_by("pk")
            .values_list("pk", flat=True)[:chunk]
        )
        if not ids:
            break
        try:
            findings_follow_up(finding_ids=ids, only_due=True, past=past)
        except OperationalError:
            raise  # the database: the task retries
        except Exception:  # noqa: BLE001 - retried one by one, and logged there
            # One bad finding must not hold up the rest: one at a time.
            for pk in ids:
                try:
                    findings_follow_up(finding_ids=[pk], only_due=True, past=past)
                except OperationalError:
                    raise
                except Exception:
                    logger.exception("Follow-up of finding %s failed", pk)
                    failed += 1
        done_count += len(ids)
        after = ids[-1]
    result = f"incident {incident_id}: followed up {done_count - failed} findings"
    return result + (f", {failed} failed (left due)" if failed else "")


def findings_follow_up(
    *,
    finding_ids: list[int],
    only_due: bool = False,
    past: similarity.PastIncidents | None = None,
) -> str:
    """Timeline, service links, suggestions and matches for these findings.

    Idempotent: every write is keyed (timeline dedupe keys, unique suggestions and
    matches), so running it twice changes nothing. Marks the findings done; with
    ``only_due`` (the task), findings that another run already followed up in
    their latest version are skipped. ``past``: the past incidents' vectors, when
    the caller follows up several batches.
    """
    findings = list(
        Finding.objects.filter(pk__in=finding_ids)
        .select_related("incident", "service")
        .order_by("pk")
    )
    if not findings:
        return "no findings (deleted?)"
    if only_due:
        findings = [f for f in findings if f.follow_up_due is not None]
        if not findings:
            return "already followed up"
    findings_link_waiting_children(findings=findings)
    linked = findings_link_services(findings=findings)
    entries = findings_record_timeline(findings=findings)
    suggestions = findings_sync_suggestions(findings=findings)
    matches = similarity.match_past_incidents(findings=findings, past=past)
    done(findings)
    firing = [f for f in findings if f.ended_at is None]
    if firing:
        signals.send_on_commit(
            signals.alert_fired,
            sender=Finding,
            finding_ids=[f.pk for f in firing],
            incident_ids=sorted({f.incident_id for f in firing}),
        )
    return (
        f"{len(findings)} findings: {linked} service links, {entries} timeline "
        f"entries, {suggestions} suggestions, {matches} matches"
    )


def done(findings: list[Finding]) -> int:
    """Clear the due time of findings whose follow-up just ran on this data.

    A row written again since it was read keeps its (new) time, for its own task.
    """
    by_due: dict[dt.datetime, list[int]] = {}
    for finding in findings:
        if finding.follow_up_due is not None:
            by_due.setdefault(finding.follow_up_due, []).append(finding.pk)
    return sum(
        _set_due(None, pk__in=ids, follow_up_due=due) for due, ids in by_due.items()
    )


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
            count = _set_due(pushed_to, incident_id=incident_id, follow_up_due__lte=now)
            if not _send(incident_id=incident_id):
                _set_due(now, incident_id=incident_id, follow_up_due=pushed_to)
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
    # By name: findings.tasks calls this module (FindingsConfig.ready() imports
    # it, so the task is registered in every process).
    task = current_app.tasks[TASK_NAME]
    try:
        task.apply_async(kwargs=kwargs, retry=False)
    except outbox.BROKER_ERRORS as exc:
        logger.warning(
            "Broker unavailable; the follow-up (%s) waits for the relay: %s",
            kwargs,
            exc,
        )
        return False
    return True


def _set_due(due: dt.datetime | None, **condition) -> int:
    """Set ``follow_up_due`` on the findings matching ``condition``.

    Locked first, in the upsert's order, so that this cannot deadlock with one.
    """
    with transaction.atomic():
        locked = lock_in_write_order(**condition)
        if locked:
            Finding.objects.filter(pk__in=locked).update(follow_up_due=due)
    return len(locked)
