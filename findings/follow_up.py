"""A finding's follow-up, as the task runs it: the incident's due findings read
in chunks, followed up, and marked done. The finding rows are the outbox.

The follow-up itself (timeline entries, service links, draft suggestions, matches
to past incidents) is written by ``services.follow_up_steps``; this module runs it
and records that it ran. ``tasks.findings_follow_up`` calls
``incident_findings_follow_up`` and nothing else; ``findings.dispatch`` decides
when the task is sent and makes sure it is (how a lost follow-up is found again
is described there).

Every write of a finding sets ``Finding.follow_up_due`` in the same statement as
the rest of the row, to the time after which its follow-up counts as lost; the
run clears the field on each row as it read it, so a finding re-sent while a
follow-up waits in the queue keeps its new time, for the task that reads it.
"""

import datetime as dt
import logging

from django.db import OperationalError, transaction

from findings import similarity
from findings.models import Finding
from findings.services.follow_up_steps import (
    findings_link_services,
    findings_link_waiting_children,
    findings_record_timeline,
    findings_reread_postmortems,
    findings_sync_suggestions,
)
from findings.services.upsert import RESEND_AFTER, lock_in_write_order
from kb import cache
from postmortems import signals

logger = logging.getLogger(__name__)

# -- The claim: one queued task per incident ------------------------------------

# A claim outlives a lost task by no more than the relay's resend delay.
CLAIM_SECONDS = int(RESEND_AFTER.total_seconds())


def claim_key(incident_id: int) -> str:
    return f"findings:follow-up-queued:{incident_id}"


def claim_release(incident_id: int) -> None:
    """Called by the task before it reads: later findings need a task of their own.

    Whatever this process's KB_FOLLOW_UP_COALESCE says (the web's may differ), and
    never failing the task: a claim left held expires within ``RESEND_AFTER``.
    """
    try:
        cache.release(claim_key(incident_id))
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
    announce: bool = True,
) -> str:
    """Timeline, service links, suggestions and matches for these findings.

    Idempotent: every write is keyed (timeline dedupe keys, unique suggestions and
    matches), so running it twice changes nothing. Marks the findings done; with
    ``only_due`` (the task), findings that another run already followed up in
    their latest version are skipped. ``past``: the past incidents' vectors, when
    the caller follows up several batches. ``announce``: tell the other apps
    (chat) which findings still fire; the demo loader does not.
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
    if announce:
        # Before done(): a failure here leaves the findings due, for the retry.
        findings_reread_postmortems(findings=findings)
    done(findings)
    firing = [f for f in findings if f.ended_at is None]
    if firing and announce:
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
        set_due(None, pk__in=ids, follow_up_due=due) for due, ids in by_due.items()
    )


def set_due(due: dt.datetime | None, **condition) -> int:
    """Set ``follow_up_due`` on the findings matching ``condition``.

    Locked first, in the upsert's order, so that this cannot deadlock with one.
    """
    with transaction.atomic():
        locked = lock_in_write_order(**condition)
        if locked:
            Finding.objects.filter(pk__in=locked).update(follow_up_due=due)
    return len(locked)
