from django.core.management.base import BaseCommand

from insights import services
from insights.models import InsightRun, RunKind


class Command(BaseCommand):
    help = "Run the insights pipeline now, in this process (used by `make demo`)."

    def handle(self, *args, **options):
        run = InsightRun.objects.create(kind=RunKind.FULL)
        status = services.insight_run_execute(run_id=run.pk)
        run.refresh_from_db()
        self.stdout.write(
            f"Insights run {run.pk}: {status}; counts {run.counts}; "
            f"timings {run.timings}"
        )
        if run.error:
            self.stderr.write(run.error)
