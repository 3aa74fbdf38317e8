"""Service tests use the root fixtures: chain_env (tests/conftest.py) and store. The fault
tests (test_faults.py) add their own anvil node: `fault_env` (automined; tests switch mining off,
push the base fee, re-org). The issuing suite (test_issuing, test_revoking, test_crash) also
runs on an interval-mined anvil (`--block-time 2`, tests/chain_envs.py ISSUING_BACKENDS), on
SQLite only."""

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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The interval-mined chain runs on SQLite only: the store's part is the same on
    PostgreSQL, and each interval-mined test waits for real blocks."""
    keep, drop = [], []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        both = params.get("chain_env_session") == "anvil-interval" and params.get("store")
        (drop if both == "postgres" else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    """The fault tests run on SQLite only (the store's part is the same on PostgreSQL)."""
    store = open_store(None, data_dir=tmp_path / "data")
    yield store
    store.close()
