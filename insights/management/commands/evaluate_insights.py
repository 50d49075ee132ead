import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from insights import evaluation, services


class Command(BaseCommand):
    help = (
        "Score the insights pipeline against a labelled JSON-lines corpus "
        '({"id", "text", "labels": [...]}). Never touches the database; prints '
        "one JSON object on its last line."
    )

    # Nothing here needs the database, not even the system checks.
    requires_system_checks: list = []

    def add_arguments(self, parser):
        parser.add_argument("corpus")
        parser.add_argument(
            "--train-fraction",
            type=float,
            default=None,
            help="Treat this seeded random fraction of records as confirmed by people.",
        )
        parser.add_argument("--seed", type=int, default=0)

    def handle(self, *args, **options):
        fraction = options["train_fraction"]
        if fraction is not None and not 0 < fraction < 1:
            raise CommandError("--train-fraction must be between 0 and 1.")
        try:
            records = evaluation.read_corpus(options["corpus"])
        except (OSError, ValueError) as exc:
            raise CommandError(f"Cannot read {options['corpus']}: {exc}") from exc
        # The embedder is used directly, without the database's vector cache.
        result = evaluation.evaluate(
            records,
            services.get_embedder(),
            train_fraction=fraction,
            seed=options["seed"],
            params=services.current_params(),
        )
        result["model"] = settings.KB_EMBEDDING_MODEL
        self.stdout.write(json.dumps(result, sort_keys=False))
