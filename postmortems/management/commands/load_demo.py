from django.core.management.base import BaseCommand, CommandError

from postmortems import extensions
from postmortems.demo.loader import DemoCorpusError, load_demo


class Command(BaseCommand):
    help = (
        "Load the shipped demo corpus (idempotent: running it again changes nothing)."
    )

    def handle(self, *args, **options):
        try:
            result = load_demo()
            self.stdout.write(
                self.style.SUCCESS(
                    f"Demo loaded: {result.teams} teams, {result.services} "
                    f"services, {result.people} people, {len(result.incidents)} "
                    "incidents."
                )
            )
            # What other apps add to the demo (action items, the classes people
            # confirmed, analyzer findings), registered in their ready(), in
            # INSTALLED_APPS order.
            for loader in extensions.demo_loaders:
                self.stdout.write(self.style.SUCCESS(loader()))
        except DemoCorpusError as exc:
            raise CommandError(f"The demo corpus is malformed: {exc}") from exc
