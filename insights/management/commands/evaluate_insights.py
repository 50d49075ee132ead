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
        parser.add_argument(
            "--seeds",
            type=int,
            default=None,
            help="Score Hindsight beside the baselines (k-means, agglomerative, "
            "HDBSCAN, BERTopic, tf-idf + k-means, zero-shot; with "
            "--train-fraction logistic regression and k-NN) over this many "
            "seeds, on the same vectors, and print means and spreads.",
        )

    def handle(self, *args, **options):
        fraction = options["train_fraction"]
        if fraction is not None and not 0 < fraction < 1:
            raise CommandError("--train-fraction must be between 0 and 1.")
        try:
            records = evaluation.read_corpus(options["corpus"])
        except (OSError, ValueError) as exc:
            raise CommandError(f"Cannot read {options['corpus']}: {exc}") from exc
        if options["seeds"] is not None:
            if options["seeds"] < 1:
                raise CommandError("--seeds must be at least 1.")
            comparison = evaluation.compare(
                records,
                services.get_embedder(),
                seeds=range(options["seeds"]),
                train_fraction=fraction,
            )
            summary = evaluation.summarise(comparison)
            for method, figures in summary.items():
                cells = "  ".join(
                    f"{k} {v['mean']:.3f}±{v['sd']:.3f}" for k, v in figures.items()
                )
                self.stdout.write(f"{method:40} {cells}")
            self.stdout.write(
                json.dumps(
                    {
                        "n": comparison["n"],
                        "classes": comparison["classes"],
                        "seeds": comparison["seeds"],
                        "train_fraction": fraction,
                        "methods": summary,
                        "model": settings.KB_EMBEDDING_MODEL,
                    }
                )
            )
            return
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
