import datetime as dt

from django.core.management.base import BaseCommand

from postmortems.models.outbox import OutboxTask
from postmortems.outbox import RELAY_GRACE, relay_pending


class Command(BaseCommand):
    help = "Send Celery tasks that were saved while the broker was unreachable."

    def add_arguments(self, parser):
        parser.add_argument(
            "--min-age",
            type=float,
            default=RELAY_GRACE.total_seconds(),
            help=(
                "Send only tasks pending at least this many seconds (default "
                f"{RELAY_GRACE.total_seconds():g}, leaving fresh ones to their own "
                "on-commit send). 0 right after a broker outage sends them all; a "
                "task sent twice is harmless (tasks are idempotent)."
            ),
        )

    def handle(self, *args, min_age: float, **options):
        sent = relay_pending(grace=dt.timedelta(seconds=min_age))
        left = OutboxTask.objects.count()
        self.stdout.write(f"Sent {sent} pending task(s); {left} still pending.")
