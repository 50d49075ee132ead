from django.core.management.base import BaseCommand

from postmortems.models.outbox import OutboxTask
from postmortems.outbox import relay_pending


class Command(BaseCommand):
    help = "Send Celery tasks that were saved while the broker was unreachable."

    def handle(self, *args, **options):
        sent = relay_pending()
        left = OutboxTask.objects.count()
        self.stdout.write(f"Sent {sent} pending task(s); {left} still pending.")
