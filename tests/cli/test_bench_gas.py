"""`registry bench gas --json`: the figures of issue #2, with anchor within 3% of its floor."""

from __future__ import annotations

import json

import pytest

KEYS = {
    "anchor",
    "anchor_floor",
    "revoke_leaf_depth17",
    "revoke_batch",
    "register_agency",
    "deploy",
    "gas_per_record_batch_100000",
}


@pytest.mark.parametrize("backend", ["embedded", pytest.param("anvil", marks=pytest.mark.anvil)])
def test_bench_gas_json(cli, backend, request):
    args = ["bench", "gas", "--json"]
    if backend == "anvil":
        args += ["--rpc", request.getfixturevalue("anvil_node").url]
    result = cli(*args)
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output.strip().splitlines()[-1])
    assert set(figures) >= KEYS
    assert figures["anchor_floor"] < figures["anchor"] <= figures["anchor_floor"] * 1.03
    assert (
        figures["gas_per_record_batch_100000"] < 47_886 / 10_000
    )  # vs OpenAttestation per document
    assert figures["gas_per_record_batch_100000"] == pytest.approx(figures["anchor"] / 100_000)
    assert figures["revoke_leaf_depth17"] > figures["revoke_batch"]
