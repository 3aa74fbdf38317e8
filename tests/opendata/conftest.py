"""Open-data fixtures: the `registry` CLI in-process, isolated from the caller's settings."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[..., Any]:
    from typer.testing import CliRunner

    from registry.cli import app

    for name in list(os.environ):
        if name.startswith("REGISTRY_") and name != "REGISTRY_TEST_PG_URL":
            monkeypatch.delenv(name)
    monkeypatch.setenv("REGISTRY_DATA_DIR", str(tmp_path / "cli-data"))
    runner = CliRunner()

    def invoke(*args: str) -> Any:
        return runner.invoke(app, list(args))

    return invoke
