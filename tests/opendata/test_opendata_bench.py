"""`registry bench opendata`: the export of 1,000,000 records in 100 batches under 10 s (slow;
`make bench`), and the same code on a small chain in the default suite."""

from __future__ import annotations

import json
from typing import Any

import pytest

from registry.bench.opendata import measure_opendata


def test_bench_on_a_small_chain(cli: Any) -> None:
    result = cli(
        "bench", "opendata", "--records", "600", "--batches", "6", "--repeat", "1", "--json"
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output.strip().splitlines()[-1])
    assert figures["records"] == 600 and figures["batches"] == 6
    assert figures["events"] == 1 + 2 + 6 + 4 + 2 + 2  # role, agencies, anchors, the rest
    assert figures["seconds_median"] < 10


@pytest.mark.slow
@pytest.mark.anvil
def test_a_million_records_in_100_batches_export_in_under_10_s(anvil_node: Any) -> None:
    """On a real JSON-RPC node (the embedded chain's own receipt lookups scan its blocks: about
    3 s there on an idle machine, docs/opendata.md)."""
    figures = measure_opendata(1_000_000, batches=100, repeat=3, rpc=anvil_node.url)
    assert figures["seconds_median"] < 10, figures
    assert figures["export_traced_peak_mb"] < 50, figures  # streamed: no list of the records
