"""Shared fixtures: chains by parameter (embedded eth-tester and a real anvil node), a deployed
registry with funded admin/agency accounts, each test isolated by an EVM snapshot."""

from __future__ import annotations

import os

# Key files written by the suite use a cheap scrypt cost (registry/keys.py): the real one costs
# about a second and 256 MiB per file, which would dominate the suite. Inherited by the
# subprocesses the tests start. One test checks the real cost.
os.environ["REGISTRY_INSECURE_TEST_KDF"] = "1"
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from chain_envs import BLOCK_TIME, CHAIN_BACKENDS, ChainEnv, build_chain_env

from registry.chain import connect
from registry.chain.devnode import AnvilNode, start_anvil
from registry.store import Store, open_store
from registry.store.errors import PG_START_HINT, StoreUnavailable
from registry.store.scratch import DEFAULT_PG_URL, scratch_schema

PG_URL = os.environ.get("REGISTRY_TEST_PG_URL", DEFAULT_PG_URL)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """An empty operator store, on SQLite (a temp file) or PostgreSQL (a scratch schema,
    dropped after); fails, never skips, when PostgreSQL is down."""
    if request.param == "sqlite":
        s = open_store(None, data_dir=tmp_path / "data")
        yield s
        s.close()
        return
    with ExitStack() as stack:
        try:
            url = stack.enter_context(scratch_schema(PG_URL, prefix="test"))
        except StoreUnavailable as exc:
            pytest.fail(f"PostgreSQL unreachable: {exc}\nStart it with: {PG_START_HINT}")
        s = open_store(url, data_dir=tmp_path)
        yield s
        s.close()


@pytest.fixture(scope="session")
def anvil_node() -> Iterator[AnvilNode]:
    """One anvil per test session on a free loopback port; fails (never skips) if missing."""
    node = start_anvil()
    yield node
    node.stop()


@pytest.fixture(scope="session")
def interval_anvil_node() -> Iterator[AnvilNode]:
    """An anvil started with `--block-time 2` (tests/chain_envs.py's ISSUING_BACKENDS)."""
    node = start_anvil(block_time=BLOCK_TIME)
    yield node
    node.stop()


NODES = {"anvil": "anvil_node", "anvil-interval": "interval_anvil_node"}


@pytest.fixture(scope="session", params=CHAIN_BACKENDS)
def chain_env_session(request: pytest.FixtureRequest) -> ChainEnv:
    kind = request.param
    node = NODES.get(kind)
    w3 = connect(request.getfixturevalue(node).url) if node else connect()
    return build_chain_env(kind, w3)


@pytest.fixture
def chain_env(chain_env_session: ChainEnv) -> Iterator[ChainEnv]:
    """The session's chain, rolled back to its state before the test when the test ends."""
    w3 = chain_env_session.w3
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    yield chain_env_session
    w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]
