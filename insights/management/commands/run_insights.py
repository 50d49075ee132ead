from django.core.management.base import BaseCommand

from insights import services
from insights.models import InsightRun, RunKind, RunStatus


class Command(BaseCommand):
    help = "Run the insights pipeline now, in this process (used by `make demo`)."

    def handle(self, *args, **options):
        run = InsightRun.objects.create(kind=RunKind.FULL)
        try:
            status = services.insight_run_execute(run_id=run.pk)
        except services.RunNotClaimed:
            # A worker's full run is running: this one waits for it, and the
            # worker runs it next.
            running = (
                InsightRun.objects.filter(kind=RunKind.FULL, status=RunStatus.RUNNING)
                .order_by("pk")
                .first()
            )
            self.stdout.write(
                f"Insights run {run.pk} is waiting: run "
                f"{running.pk if running else '?'} is running in a worker. The "
                "worker sends this one when that run ends (the outbox relay "
                "does, if the worker stops)."
            )
            return
        run.refresh_from_db()
        self.stdout.write(
            f"Insights run {run.pk}: {status}; counts {run.counts}; "
            f"timings {run.timings}"
        )
        if run.error:
            self.stderr.write(run.error)
