"""Service fixtures: a store per backend (SQLite file, PostgreSQL scratch schema) and an issuer
for agency A on the test chain."""

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
    if request.param == "sqlite":
        s = open_store(None, data_dir=tmp_path / "data")
        yield s
        s.close()
        return
    with ExitStack() as stack:
        try:
            url = stack.enter_context(scratch_schema(PG_URL, prefix="test_service"))
        except StoreUnavailable as exc:
            pytest.fail(f"PostgreSQL unreachable: {exc}\nStart it with: {PG_START_HINT}")
        s = open_store(url, data_dir=tmp_path)
        yield s
        s.close()
