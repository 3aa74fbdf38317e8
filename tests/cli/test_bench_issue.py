"""`registry bench issue --json`: runs end to end (small) and reports records_per_s."""

from __future__ import annotations

import json

import pytest


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
