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
        except DemoCorpusError as exc:
            raise CommandError(f"The demo corpus is malformed: {exc}") from exc
        # The classes people confirmed in the demo story (insights learns from them).
        from insights.services import demo_classes_confirm

        confirmed = demo_classes_confirm(loaded=result.incidents)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo loaded: {result.teams} teams, {result.services} services, "
                f"{result.people} people, {len(result.incidents)} incidents, "
                f"{result.action_items} action items, {confirmed} classes confirmed."
            )
        )
        # What other apps add to the demo (analyzer findings on the demo
        # incidents: findings.demo), registered in their ready().
        for loader in extensions.demo_loaders:
            self.stdout.write(self.style.SUCCESS(loader()))
