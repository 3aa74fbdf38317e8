"""Service tests use the root fixtures: chain_env (tests/conftest.py) and store. The fault
tests (test_faults.py) add their own anvil nodes: `fault_env` (automined; tests switch mining
off, push the base fee, re-org) and `interval_env` (`--block-time 2`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fault_kit import FaultEnv, deploy_env

from registry.chain.devnode import AnvilNode, start_anvil
from registry.store import Store, open_store


@pytest.fixture(scope="session")
def fault_node() -> Iterator[AnvilNode]:
    node = start_anvil()
    yield node
    node.stop()


@pytest.fixture(scope="session")
def fault_env_session(fault_node: AnvilNode) -> FaultEnv:
    return deploy_env(fault_node, kind="anvil")


@pytest.fixture
def fault_env(fault_env_session: FaultEnv) -> Iterator[FaultEnv]:
    """Our own anvil, rolled back after the test, automine and base fee as before."""
    env = fault_env_session
    snapshot = env.rpc("evm_snapshot")
    yield env
    env.automine(True)
    env.rpc("evm_revert", snapshot)


@pytest.fixture(scope="session")
def interval_node() -> Iterator[AnvilNode]:
    """anvil started with `--block-time 2`: a block every two seconds, none in between."""
    node = start_anvil(block_time=2)
    yield node
    node.stop()


@pytest.fixture(scope="session")
def interval_env_session(interval_node: AnvilNode) -> FaultEnv:
    return deploy_env(interval_node, kind="anvil", block_time=2)


@pytest.fixture
def interval_env(interval_env_session: FaultEnv) -> Iterator[FaultEnv]:
    env = interval_env_session
    snapshot = env.rpc("evm_snapshot")
    yield env
    env.rpc("evm_revert", snapshot)


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    """The fault tests run on SQLite only (the store's part is the same on PostgreSQL)."""
    store = open_store(None, data_dir=tmp_path / "data")
    yield store
    store.close()
