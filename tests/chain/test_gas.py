"""`registry bench gas` figures meet the targets of issue 9, on the embedded chain and on anvil
(gas is counted, not timed)."""

from __future__ import annotations

import pytest

from registry.bench.gas import (
    ANCHOR_LOG_GAS,
    TARGETS,
    anchor_floor,
    calldata_gas,
    measure_gas,
    missed_targets,
)

EVERY_FUNCTION = (
    "deploy",
    "registerAgency",
    "proposeSigningKey",
    "confirmSigningKey",
    "suspendAgency",
    "reinstateAgency",
    "markCompromised",
    "moveAgency",
    "anchor",
    "revoke_leaf_depth17",
    "revoke_leaf_depth17_with_replacement",
    "revoke_batch",
    "revokeByAuthority_leaf_depth17",
)


def test_anchor_floor_arithmetic():
    assert calldata_gas(b"\0\1\0\xff") == 4 + 16 + 4 + 16
    assert ANCHOR_LOG_GAS == 375 + 3 * 375 + 8 * 32
    calldata = bytes(4) + b"\x11" * 32 + bytes(29) + b"\x01\x86\xa0"
    assert anchor_floor(calldata) == 21_000 + calldata_gas(calldata) + 2_100 + 22_100 + 1_756


@pytest.mark.parametrize("backend", ["embedded", pytest.param("anvil", marks=pytest.mark.anvil)])
def test_gas_targets_are_met(request, backend):
    rpc = request.getfixturevalue("anvil_node").url if backend == "anvil" else None
    figures = measure_gas(rpc)
    assert missed_targets(figures) == []
    for name in EVERY_FUNCTION:
        assert figures[name] > 21_000, name
    assert figures["anchor"] <= TARGETS["anchor_over_floor_ratio"] * figures["anchor_floor"]
    assert figures["anchor"] >= figures["anchor_floor"]  # the floor is a floor
    assert figures["revoke_leaf_depth17"] <= 73_280
    assert figures["revoke_leaf_depth17_with_replacement"] <= 95_000
    assert figures["revoke_batch"] <= 52_000
    assert figures["gas_per_record_batch_100000"] == figures["anchor"] / 100_000
    # flat and numeric, as `registry bench gas` prints it
    assert all(isinstance(v, int | float) for k, v in figures.items() if k != "node")
