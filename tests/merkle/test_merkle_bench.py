"""registry.bench.merkle: a quick smoke run by default, the 1,000,000-leaf target under -m slow."""

from __future__ import annotations

import pytest

from registry.bench.merkle import bench_merkle, compare_keccak_backends
from registry.merkle import KECCAK_BACKEND


def test_bench_merkle_reports_what_the_cli_prints() -> None:
    result = bench_merkle(2_000)
    assert result["leaves"] == 2_000
    assert result["keccak_backend"] == KECCAK_BACKEND
    assert result["seconds_root"] > 0
    assert result["seconds_proofs"] > 0
    assert result["seconds_total"] == pytest.approx(
        result["seconds_root"] + result["seconds_proofs"]
    )
    assert result["seconds_1m"] == pytest.approx(result["seconds_total"] * 500)


def test_compare_keccak_backends_measures_the_one_in_use() -> None:
    results = compare_keccak_backends(calls=200, repeat=1)
    assert "registry.merkle.keccak256" in results
    assert "safe-pysha3 sha3.keccak_256" in results
    assert all(ns > 0 for ns in results.values())


@pytest.mark.slow
def test_one_million_leaves_root_and_all_proofs_under_ten_seconds() -> None:
    result = bench_merkle(1_000_000)
    assert result["seconds_total"] < 10, result
