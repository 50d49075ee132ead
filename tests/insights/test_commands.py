import json

import pytest
from django.core.management import call_command

from insights.models import InsightRun, PostmortemClassification, RunStatus

TINY = [
    {
        "id": "1",
        "text": "The TLS certificate expired; renewal was manual.",
        "labels": ["cert"],
    },
    {"id": "2", "text": "Our TLS certificate expired overnight.", "labels": ["cert"]},
    {"id": "3", "text": "The search indexer redelivered batches.", "labels": ["idx"]},
    {
        "id": "4",
        "text": "Search indexer batches were redelivered twice.",
        "labels": ["idx"],
    },
    {"id": "5", "text": "Status page updated late.", "labels": []},
]


def test_evaluate_insights_prints_metrics_without_the_database(
    tmp_path, capsys, fake_model
):
    """No django_db mark: any database access would fail this test."""
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("\n".join(json.dumps(r) for r in TINY))
    call_command("evaluate_insights", str(corpus))
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    for key in ("n", "classes", "clusters", "ami", "ari", "nmi", "v_measure"):
        assert key in result
    assert result["n"] == 4 and "noise_fraction" in result and "seconds" in result
    call_command(
        "evaluate_insights", str(corpus), "--train-fraction", "0.5", "--seed", "1"
    )
    supervised = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert "accuracy" in supervised and "macro_f1" in supervised
    assert supervised["n"] == 2


@pytest.mark.django_db
def test_run_insights_command_runs_the_pipeline(fake_model, corpus_postmortems, capsys):
    call_command("run_insights")
    assert "succeeded" in capsys.readouterr().out
    assert InsightRun.objects.get().status == RunStatus.SUCCEEDED
    assert PostmortemClassification.objects.count() == 8
