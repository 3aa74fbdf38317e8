"""`registry bench gas --json`: every function's gas and the protocol v2 targets of issue 9."""

from __future__ import annotations

import json

import pytest

KEYS = {
    "anchor",
    "anchor_floor",
    "revoke_leaf_depth17",
    "revoke_batch",
    "registerAgency",
    "proposeSigningKey",
    "confirmSigningKey",
    "markCompromised",
    "moveAgency",
    "revokeByAuthority_leaf_depth17",
    "revoke_leaf_depth17_with_replacement",
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
    assert figures["revoke_leaf_depth17"] <= 73_280  # TrustVC, one leaf with a depth-17 proof
    assert figures["revoke_leaf_depth17_with_replacement"] <= 95_000
    assert figures["revoke_batch"] <= 52_000
