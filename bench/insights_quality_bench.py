"""Insights quality: Hindsight beside plain baselines, on the same vectors.

For every corpus (the project's synthetic corpus, the demo postmortems, and
every ``*.jsonl`` in ``KB_INSIGHTS_CORPORA_DIR``, labelled corpora in the format
``insights.evaluation.read_corpus`` reads, kept outside the repository):

- unsupervised: AMI and ARI of Hindsight and of k-means (true k and best
  silhouette k), agglomerative, HDBSCAN, BERTopic, tf-idf + k-means and
  zero-shot, mean and spread over 5 seeds; the target is Hindsight at 1.2x the
  best baseline;
- 25% confirmed (a different random quarter per seed): accuracy and macro-F1
  of Hindsight and of logistic regression and k-NN trained on the same items;
  the target is Hindsight at logistic regression + 0.05;
- how learnable the labels are: logistic regression with 80% of the
  records labelled (5-fold, 5 shuffles), beside always answering the
  commonest label;
- the demo as the product runs it (load_demo, one full run in a scratch
  database): how many unconfirmed postmortems land in the class their
  incident file names (``failure_class``), as their primary class and among
  the classes they are counted in (with the mean number of counted classes);
  the target is 20 of 23.

Vectors come from all-MiniLM-L6-v2 and are cached on disk outside the
repository (bench/vector_cache.py). Usage: ``python bench/insights_quality_bench.py
[--seeds 5] [--corpus NAME ...]``. Prints a table per corpus, then the JSON line
run_all.py reads.
"""

import argparse
import glob
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB_PATH = ROOT / "var" / "bench" / "insights_quality.sqlite3"
SYNTHETIC = ROOT / "tests" / "insights" / "data" / "labelled_root_causes.jsonl"
DEMO_DIR = ROOT / "postmortems" / "demo" / "incidents"


def setup_django() -> None:
    DB_PATH.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{DB_PATH}{suffix}").unlink(missing_ok=True)
    os.environ["KB_DATABASE_URL"] = f"sqlite:///{DB_PATH}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kb.settings")
    os.environ.setdefault("KB_LOG_LEVEL", "WARNING")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import django

    django.setup()


def demo_records() -> list[dict]:
    """Each demo postmortem's text as insights reads it, and its intended class."""
    from insights.services.inputs import postmortem_text

    records = []
    for path in sorted(glob.glob(str(DEMO_DIR / "*.json"))):
        data = json.loads(Path(path).read_text())
        post = data["postmortem"]
        factors = [f["description"] for f in post.get("contributing_factors", [])]
        records.append(
            {
                "id": data["key"],
                "text": postmortem_text(post["sections"], factors),
                "labels": [data["failure_class"]],
            }
        )
    return records


def corpora(wanted: set[str]) -> dict[str, list[dict]]:
    from django.conf import settings

    from insights.evaluation import read_corpus

    found = {"synthetic": read_corpus(SYNTHETIC), "demo": demo_records()}
    for path in sorted(
        glob.glob(os.path.join(settings.KB_INSIGHTS_CORPORA_DIR, "*.jsonl"))
    ):
        found[Path(path).stem] = read_corpus(path)
    return {k: v for k, v in found.items() if not wanted or k in wanted}


def demo_in_product(embedder) -> tuple[int, int, list[str]]:
    """Load the demo into a scratch database and run insights as the product
    does; count unconfirmed postmortems whose primary class is their intended
    class (see demo_memberships for every class they are counted in)."""
    from django.core.management import call_command

    from insights import services
    from insights.models import InsightRun, PostmortemClassification, RunKind

    call_command("migrate", verbosity=0)
    call_command("load_demo", verbosity=0)
    run = InsightRun.objects.create(kind=RunKind.FULL)
    services.insight_run_execute(run_id=run.pk, embedder=embedder)
    intended = {}
    for path in glob.glob(str(DEMO_DIR / "*.json")):
        data = json.loads(Path(path).read_text())
        intended[data["title"]] = (data["failure_class"], data["class_confirmed"])
    right, total, wrong = 0, 0, []
    for row in PostmortemClassification.objects.select_related(
        "postmortem__incident", "failure_class"
    ).order_by("postmortem_id"):
        want, confirmed = intended[row.postmortem.incident.title]
        if confirmed:
            continue
        total += 1
        got = row.failure_class.slug if row.failure_class else None
        right += got == want
        if got != want:
            wrong.append(f"{row.postmortem.incident.title[:60]}: {want} -> {got}")
    return right, total, wrong


def demo_memberships() -> tuple[int, int, float, list[str]]:
    """After demo_in_product: unconfirmed postmortems whose intended class is
    among the classes they are counted in (confirmed, or inferred by the
    calibrated classifier at or above the threshold from a validated kind of
    statement), their number, and the mean number of counted classes per
    postmortem (so that putting everything everywhere cannot look good)."""
    from insights.selectors import memberships_of
    from postmortems.models import Postmortem

    intended = {}
    for path in glob.glob(str(DEMO_DIR / "*.json")):
        data = json.loads(Path(path).read_text())
        intended[data["title"]] = (data["failure_class"], data["class_confirmed"])
    titles = dict(Postmortem.objects.values_list("pk", "incident__title"))
    unconfirmed = sorted(pk for pk, t in titles.items() if not intended[t][1])
    counted: dict[int, set[str]] = {pk: set() for pk in unconfirmed}
    for m in memberships_of(unconfirmed):
        if m["counted"]:
            counted[m["postmortem"]].add(m["failure_class"])
    right, lines = 0, []
    for pk in unconfirmed:
        want = intended[titles[pk]][0]
        right += want in counted[pk]
        if want not in counted[pk]:
            got = ", ".join(sorted(counted[pk])) or "none counted"
            lines.append(f"{titles[pk][:60]}: {want} not in ({got})")
    mean = sum(len(c) for c in counted.values()) / max(1, len(unconfirmed))
    return right, len(unconfirmed), mean, lines


def wrong_headlines() -> tuple[int, int, list[str]]:
    """The report's "came back after remediation" headlines on the demo run,
    and those that rest on a wrong class: a counted incident after remediation
    whose intended class (the incident file's) is another."""
    from django.contrib.auth import get_user_model

    from insights.selectors import report_data

    intended = {}
    for path in glob.glob(str(DEMO_DIR / "*.json")):
        data = json.loads(Path(path).read_text())
        intended[data["title"]] = data["failure_class"]
    admin = get_user_model().objects.filter(is_superuser=True).order_by("pk").first()
    report = report_data(user=admin)
    bad, lines = 0, []
    for c in report.came_back:
        after = {i.key for i in c.recurrence.after}
        wrong = [
            m
            for m in c.counted
            if m.incident.postmortem_id in after
            and intended[m.incident.title] != c.slug
        ]
        bad += bool(wrong)
        lines += [
            f"{c.slug} <- {m.incident.title[:50]} ({intended[m.incident.title]}, "
            f"{m.statement_kind}, {m.confidence:.2f})"
            for m in wrong
        ]
    return bad, len(report.came_back), lines


def table(name: str, summary: dict) -> None:
    print(f"\n{name}")
    keys = ["ami", "ari", "accuracy", "macro_f1"]
    print(f"  {'method':42}" + "".join(f"{k:>16}" for k in keys))
    for method, figures in summary.items():
        cells = "".join(
            f"{figures[k]['mean']:>9.3f} ±{figures[k]['sd']:.3f}"
            if k in figures
            else " " * 16
            for k in keys
        )
        print(f"  {method:42}{cells}")


def main() -> None:
    from bench.report import Result, emit

    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--corpus", action="append", default=[])
    parser.add_argument("--no-demo-run", action="store_true")
    args = parser.parse_args()
    setup_django()
    from django.conf import settings

    from bench.vector_cache import DiskCachedEmbedder
    from insights import evaluation
    from insights.services.inputs import get_embedder

    embedder = DiskCachedEmbedder(get_embedder(), settings.KB_INSIGHTS_CORPORA_DIR)
    seeds = list(range(args.seeds))
    results: list[Result] = []
    details = {}
    for name, records in corpora(set(args.corpus)).items():
        unsupervised = evaluation.summarise(
            evaluation.compare(records, embedder, seeds=seeds)
        )
        table(f"{name}: unsupervised ({len(records)} records)", unsupervised)
        supervised = evaluation.summarise(
            evaluation.compare(records, embedder, seeds=seeds, train_fraction=0.25)
        )
        table(f"{name}: 25% confirmed", supervised)
        details[name] = {"unsupervised": unsupervised, "supervised": supervised}
        ours = unsupervised["Hindsight"]
        for key in ("ami", "ari"):
            best_name, best = max(
                (
                    (m, f[key]["mean"])
                    for m, f in unsupervised.items()
                    if m != "Hindsight"
                ),
                key=lambda x: x[1],
            )
            results.append(
                Result(
                    f"{name}: unsupervised {key.upper()}",
                    ours[key]["mean"],
                    "",
                    target=round(1.2 * best, 4),
                    better="higher",
                    reference={
                        "metric": best_name,
                        "value": best,
                        "ratio": ours[key]["mean"] / best if best else None,
                    },
                    note=f"sd {ours[key]['sd']:.3f}, 1.2x best baseline",
                )
            )
        learnt, spread, majority = evaluation.learnability(records, embedder)
        print(
            f"{name}: logistic regression with 80% labelled (5-fold, 5 shuffles): "
            f"{learnt:.3f} ±{spread:.3f}; always the commonest label: {majority:.3f}"
        )
        results.append(
            Result(
                f"{name}: logistic regression with 80% labelled (5-fold)",
                round(learnt, 4),
                "",
                reference={
                    "metric": "always the commonest label",
                    "value": round(majority, 3),
                },
                note=f"sd {spread:.3f}; not a target: how learnable the labels are",
            )
        )
        lr = supervised["logistic regression"]["accuracy"]["mean"]
        for method in ("Hindsight", "Hindsight, above its abstention threshold only"):
            if method not in supervised:
                continue
            figures = supervised[method]["accuracy"]
            results.append(
                Result(
                    f"{name}: 25% confirmed, accuracy of {method}",
                    figures["mean"],
                    "",
                    target=round(lr + 0.05, 4),
                    better="higher",
                    reference={"metric": "logistic regression", "value": lr},
                    note=f"sd {figures['sd']:.3f}",
                )
            )
    if not args.no_demo_run:
        right, total, wrong = demo_in_product(embedder)
        print(f"\ndemo, as the product runs it: {right} of {total} unconfirmed")
        for line in wrong:
            print(f"  wrong: {line}")
        results.append(
            Result(
                f"demo: unconfirmed postmortems with their intended class as primary "
                f"(of {total})",
                right,
                "postmortems",
                target=20,
                better="higher",
            )
        )
        right, total, mean, missed = demo_memberships()
        print(
            f"demo: {right} of {total} unconfirmed counted in their intended "
            f"class among others (mean {mean:.2f} counted classes each)"
        )
        for line in missed:
            print(f"  missed: {line}")
        results.append(
            Result(
                f"demo: unconfirmed postmortems counted in their intended class, "
                f"among others (of {total}; mean {mean:.2f} counted classes each)",
                right,
                "postmortems",
                target=20,
                better="higher",
            )
        )
        bad, headlines, lines = wrong_headlines()
        print(f"demo: {bad} of {headlines} 'came back' headlines on a wrong class")
        for line in lines:
            print(f"  wrong: {line}")
        results.append(
            Result(
                f"demo: 'came back after remediation' headlines on a wrong class "
                f"(of {headlines})",
                bad,
                "headlines",
                target=0,
            )
        )
    out = Path(settings.KB_INSIGHTS_CORPORA_DIR) / "last_quality_bench.json"
    out.write_text(json.dumps(details, indent=1))
    emit("insights_quality", results)


if __name__ == "__main__":
    main()
