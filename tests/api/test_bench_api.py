"""`registry bench api --json` runs end to end (tiny figures here; the real run, 20,000 cold
receipts, is in the closing note) and its last line is one JSON object with the figures: the
cold, warm and repeat_cache phases apart, with 1 and 2 server processes and their ratio."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from registry.cli import app as cli

pytestmark = pytest.mark.anvil

PHASE_FIELDS = ("per_s", "p50_ms", "p90_ms", "p99_ms", "count", "errors")


def test_bench_api_json_phases_and_workers() -> None:
    cold = 30
    result = CliRunner().invoke(
        cli,
        [
            "bench",
            "api",
            "--cold",
            str(cold),
            "--repeat",
            "200",
            "--distinct",
            "10",
            "--concurrency",
            "4",
            "--seconds",
            "30",
            "--clients",
            "1",
            "--compare-workers",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output.strip().splitlines()[-1])
    assert figures["headline"] == "cold"
    assert set(figures["ratio_2_to_1"]) == {"cold_per_s", "warm_per_s", "repeat_cache_per_s"}
    for run, workers in ((figures["workers_1"], 1), (figures["workers_2"], 2)):
        assert run["workers"] == workers and run["issued_records_per_s"] > 0
        assert run["load_client"]["processes"] >= 1
        for phase in ("cold", "warm", "repeat_cache"):
            assert all(key in run[phase] for key in PHASE_FIELDS), phase
            assert run[phase]["per_s"] > 0 and run[phase]["errors"] == 0, (phase, run[phase])
        # cold: every receipt distinct and sent once; warm: the same receipts, once each
        assert run["cold"]["count"] == run["cold"]["distinct_receipts"] == cold
        assert run["warm"]["count"] == run["warm"]["distinct_receipts"] == cold
        assert run["repeat_cache"]["count"] == 200
        assert run["repeat_cache"]["distinct_receipts"] == 10
    # One process, so /metrics shows every answer: in the cold phase neither the cache of whole
    # answers nor a cached chain answer served a request (never verified before); in the warm
    # phase no whole answer either; the repeat_cache phase is what that cache serves.
    caches = {p: figures["workers_1"][p]["server_caches"] for p in ("cold", "warm", "repeat_cache")}
    assert caches["cold"]["verifications"] == {"hits": 0, "misses": cold}
    assert caches["cold"].get("chain_answers", {}).get("hits", 0) == 0
    assert caches["warm"]["verifications"] == {"hits": 0, "misses": cold}
    assert caches["repeat_cache"]["verifications"]["hits"] >= 190
    assert "server_caches" not in figures["workers_2"]["cold"]  # one process's view: left out
