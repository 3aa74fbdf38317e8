"""`registry bench api --json` runs end to end (tiny figures here; the real run is in the
README and the closing note) and its last line is one JSON object with the figures."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from registry.cli import app as cli

pytestmark = pytest.mark.anvil


def test_bench_api_json_last_line() -> None:
    result = CliRunner().invoke(
        cli,
        [
            "bench",
            "api",
            "--records",
            "40",
            "--distinct",
            "10",
            "--cold",
            "5",
            "--verifications",
            "300",
            "--concurrency",
            "4",
            "--seconds",
            "10",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output.strip().splitlines()[-1])
    for key in ("verify_per_s", "verify_p50_ms", "verify_p99_ms", "submit_records_per_s"):
        assert figures[key] > 0, key
    assert figures["verify_failures"] == 0 and figures["verify_cold_failures"] == 0
