import datetime as dt

from django.core.management.base import BaseCommand

from postmortems import extensions
from postmortems.models.outbox import OutboxTask
from postmortems.outbox import RELAY_GRACE, relay_pending


class Command(BaseCommand):
    help = (
        "Send Celery tasks that were saved while the broker was unreachable, and "
        "the work other apps keep due in their own rows (findings' follow-ups)."
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
        others = "".join(
            f" and {relay.sent_label.format(count=relay.send())}"
            for relay in extensions.relays
        )
        left = OutboxTask.objects.count()
        waiting = "".join(
            f", {relay.pending_label.format(count=relay.pending())}"
            for relay in extensions.relays
        )
        self.stdout.write(
            f"Sent {sent} pending task(s){others}; {left} task(s) still pending"
            f"{waiting}."
        )
