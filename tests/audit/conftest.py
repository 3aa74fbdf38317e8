"""Audit fixtures: a store per backend (SQLite file, PostgreSQL scratch schema)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from registry.store.scratch import DEFAULT_PG_URL

PG_URL = os.environ.get("REGISTRY_TEST_PG_URL", DEFAULT_PG_URL)


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """Invoke the `registry` CLI in-process, isolated from the caller's REGISTRY_* settings."""
    from typer.testing import CliRunner

    from registry.cli import app

    for name in list(os.environ):
        if name.startswith("REGISTRY_") and name != "REGISTRY_TEST_PG_URL":
            monkeypatch.delenv(name)
    monkeypatch.setenv("REGISTRY_DATA_DIR", str(tmp_path / "cli-data"))
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, list(args))

    return invoke
