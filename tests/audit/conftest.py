"""Audit fixtures: a store per backend (SQLite file, PostgreSQL scratch schema)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from registry.store import Store, open_store
from registry.store.errors import PG_START_HINT, StoreUnavailable
from registry.store.scratch import DEFAULT_PG_URL, scratch_schema

PG_URL = os.environ.get("REGISTRY_TEST_PG_URL", DEFAULT_PG_URL)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """The operator's store, on SQLite or PostgreSQL (by parameter)."""
    if request.param == "sqlite":
        s = open_store(None, data_dir=tmp_path / "data")
        yield s
        s.close()
        return
    with ExitStack() as stack:
        try:
            url = stack.enter_context(scratch_schema(PG_URL, prefix="test_audit"))
        except StoreUnavailable as exc:
            pytest.fail(f"PostgreSQL unreachable: {exc}\nStart it with: {PG_START_HINT}")
        s = open_store(url, data_dir=tmp_path)
        yield s
        s.close()


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
