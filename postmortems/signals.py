"""What happened in the core, announced to the apps that react to it.

``postmortems`` is the core: it never imports the apps that react (notifications,
chat, issue trackers). They connect receivers to these signals in their
``AppConfig.ready()``. Every signal here is sent after the transaction that made
the change has committed, so a receiver never sees a change that was rolled back,
and a receiver that fails is logged and never undoes the change or fails the
request. Arguments are ids and plain values, so a receiver can hand them straight
to a Celery task.
"""

import logging

from django.db import transaction
from django.dispatch import Signal

logger = logging.getLogger(__name__)

# postmortem_id, from_status, to_status, actor_id, comment, event_id (the
# WorkflowEvent): a workflow step (submitted for review, approved, sent back,
# published).
postmortem_status_changed = Signal()
# postmortem_id, user_ids, actor_id: people newly named as reviewers.
postmortem_reviewers_added = Signal()
# postmortem_id, failure_class (a slug, "" when the file named none), actor_id: a
# postmortem created by manage.py import_postmortems (sent after commit).
postmortem_imported = Signal()
# postmortem_id -> a receiver returns the postmortem's failure-class slug or None.
# Asked (not announced) while exporting, so the export can name the class without
# the core importing insights; sent with send_robust, so a failing receiver is
# an unknown class, never a failed export.
root_cause_class_requested = Signal()
# finding_ids, incident_ids: alerts and findings still firing, sent once their
# follow-up has run (timeline written, past incidents matched: FindingMatch).
alert_fired = Signal()


def send_on_commit(signal: Signal, sender: object, **kwargs) -> None:
    """Send ``signal`` once the current transaction commits (at once outside one)."""

    def send() -> None:
        for receiver, result in signal.send_robust(sender=sender, **kwargs):
            if isinstance(result, Exception):
                logger.error(
                    "Receiver %r of %s failed: %r",
                    receiver,
                    sender,
                    result,
                    exc_info=(type(result), result, result.__traceback__),
                )

    transaction.on_commit(send)
