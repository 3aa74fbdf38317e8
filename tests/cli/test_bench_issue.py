"""`registry bench issue --json`: runs end to end (small) and reports records_per_s and the
peak resident set (issue 12: it must not grow with the number of records)."""

from __future__ import annotations

import json

import pytest

from registry.bench import issue as bench_issue


@pytest.mark.parametrize("backend", ["embedded", pytest.param("anvil", marks=pytest.mark.anvil)])
def test_bench_issue_small(cli, backend, request):
    args = ["bench", "issue", "--records", "500", "--batch-size", "200", "--json"]
    if backend == "anvil":
        args += ["--rpc", request.getfixturevalue("anvil_node").url]
    result = cli(*args)
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output.strip().splitlines()[-1])
    assert figures["records"] == 500 and figures["records_per_s"] > 0
    assert set(figures["phases_s"]) == {"issue_to_confirmed", "receipts"}
    assert 0 < figures["peak_rss_mb"] < 100_000
    assert figures["peak_rss_workers_mb"] >= 0


def test_bench_records_are_made_lazily() -> None:
    """The bench feeds the job a generator, not a list of every record."""
    records = bench_issue.synthetic_certificates(3)
    assert iter(records) is records
    assert [r["number"] for r in records] == ["B-2026-0000000", "B-2026-0000001", "B-2026-0000002"]
