import datetime as dt

from django.core.management.base import BaseCommand

from postmortems.findings.services.follow_up_outbox import (
    follow_ups_pending,
    follow_ups_relay,
)
from postmortems.models.outbox import OutboxTask
from postmortems.outbox import RELAY_GRACE, relay_pending


class Command(BaseCommand):
    help = (
        "Send Celery tasks that were saved while the broker was unreachable, and "
        "findings' follow-ups that are due."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--min-age",
            type=float,
            default=RELAY_GRACE.total_seconds(),
            help=(
                "Send only outbox tasks pending at least this many seconds (default "
                f"{RELAY_GRACE.total_seconds():g}, leaving fresh ones to their own "
                "on-commit send). 0 right after a broker outage sends them all; a "
                "task sent twice is harmless (tasks are idempotent). Findings' "
                "follow-ups are sent when due: at once if the broker refused them, "
                "otherwise when they have not run within 5 minutes."
            ),
        )

    def handle(self, *args, min_age: float, **options):
        sent = relay_pending(grace=dt.timedelta(seconds=min_age))
        findings = follow_ups_relay()
        left = OutboxTask.objects.count()
        waiting = follow_ups_pending()
        self.stdout.write(
            f"Sent {sent} pending task(s) and the follow-up of {findings} "
            f"finding(s); {left} task(s) still pending, {waiting} finding "
            "follow-up(s) not yet run."
        )
