"""`registry bench audit --json`: the audit of 20,000 records by default; of 1,000,000 records
(10 batches of 100,000) in under 60 s in the slow suite."""

from __future__ import annotations

import json

import pytest


def _figures(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.output.strip().splitlines()[-1])


def test_bench_audit_small(cli):
    figures = _figures(cli("bench", "audit", "--records", "20000", "--json"))
    assert figures["records"] == 20_000 and figures["batches"] == 10
    assert figures["outcome"] == "clean" and figures["seconds_1m_measured"] is False
    assert figures["seconds_1m"] > figures["seconds"] > 0


@pytest.mark.slow
def test_bench_audit_one_million_under_60s(cli):
    figures = _figures(cli("bench", "audit", "--json"))
    assert figures["records"] == 1_000_000 and figures["seconds_1m_measured"] is True
    assert figures["seconds_1m"] < 60, figures
