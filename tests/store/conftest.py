"""Store fixtures: one `store` per test, on a temporary SQLite file and on PostgreSQL.

PostgreSQL tests use a fresh, uniquely named schema per test in the `test` database (dropped
afterwards), so they are isolated and safe under pytest-xdist. If the server is unreachable
they fail, never skip, with the command that starts it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from store_helpers import ADDRESS_A, ADDRESS_B

from registry.store import Store, add_agency, open_store
from registry.store.errors import PG_START_HINT, StoreUnavailable
from registry.store.scratch import DEFAULT_PG_URL, scratch_schema

PG_URL = os.environ.get("REGISTRY_TEST_PG_URL", DEFAULT_PG_URL)
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A URL pointing at a fresh PostgreSQL schema; fails loudly if the server is down."""
    with ExitStack() as stack:
        try:
            url = stack.enter_context(scratch_schema(PG_URL, prefix="test_store"))
        except StoreUnavailable as exc:
            unreachable = str(exc)
        else:
            yield url
            return
    pytest.fail(
        f"PostgreSQL is needed by the store tests and is not reachable: {unreachable}\n"
        f"Start it with: {PG_START_HINT}",
        pytrace=False,
    )


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty database: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store' / 'registry.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
def store(store_url: str, tmp_path: Path) -> Iterator[Store]:
    """An open, migrated store (closed after the test)."""
    opened = open_store(store_url, data_dir=tmp_path)
    yield opened
    opened.close()


@pytest.fixture
def pg_store(pg_url: str, tmp_path: Path) -> Iterator[Store]:
    """A PostgreSQL store, for what only PostgreSQL does (row locks)."""
    opened = open_store(pg_url, data_dir=tmp_path)
    yield opened
    opened.close()


@pytest.fixture
def agencies(store: Store) -> tuple[int, int]:
    """Two agencies, A and B, by id."""
    with store.session() as session:
        a = add_agency(session, address=ADDRESS_A, name="Agency A", signing_public_key=b"\xa1" * 32)
        b = add_agency(session, address=ADDRESS_B, name="Agency B", signing_public_key=b"\xb1" * 32)
        return a.id, b.id
