"""A short run of the load test (bench/load_bench.py) in CI: the production shape
(deploy/serve.sh) on throwaway servers, locust people and analyzers for 40 s.

The 5-minute run and its latency figures are in BENCHMARKS.md (``make bench``);
here only what must hold at any speed: no 5xx, no failed request, every finding
acknowledged is stored, and the follow-on work (classifications) all ran.
"""

import pytest

from bench.load_bench import run_load

pytestmark = [pytest.mark.slow, pytest.mark.faults]


def test_load_short_run_has_no_server_error_and_loses_nothing(
    postgres_server, migrated_template, redis_server, tmp_path
):
    figures = run_load(
        postgres=postgres_server,
        redis=redis_server,
        workdir=tmp_path,
        run_time="40s",
        persons=8,
        analyzers=2,
        with_insights=False,
        template=migrated_template,
    )
    assert figures["locust_exit"] == 0, figures["locust_tail"]
    assert figures["server_errors"] == 0, figures["statuses"]
    assert figures["failures"] == []
    assert len(figures["pages"]) > 50 and figures["acknowledged"] > 20  # real load
    assert figures["lost"] == 0
    assert figures["stored"] == figures["acknowledged"]
    assert figures["outbox_pending"] == 0
    assert set(figures["classifications"]) == {"succeeded"}
