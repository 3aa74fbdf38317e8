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
from dataclasses import dataclass
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3

from registry.chain import RegistryContract, connect, fund_from_dev_account, new_account
from registry.chain.devnode import AnvilNode, start_anvil
from registry.chain.tx import TxOptions
from registry.store import Store, open_store
from registry.store.errors import PG_START_HINT, StoreUnavailable
from registry.store.scratch import DEFAULT_PG_URL, scratch_schema

CHAIN_BACKENDS = ["embedded", pytest.param("anvil", marks=pytest.mark.anvil)]
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


@dataclass
class ChainEnv:
    """A chain with a deployed registry and funded actors."""

    kind: str
    w3: Web3
    registry: RegistryContract
    admin: LocalAccount
    agency_a: LocalAccount
    agency_b: LocalAccount
    outsider: LocalAccount
    key_a: bytes
    key_b: bytes

    def advance(self, seconds: int) -> None:
        """Move block time forward by `seconds` and mine a block."""
        # eth-tester's clock is its pending block, which can run ahead of the latest block
        # after a snapshot revert; counting from it never travels backwards.
        now = int(
            self.w3.eth.get_block("latest" if self.kind == "anvil" else "pending")["timestamp"]
        )
        if self.kind == "anvil":
            self.w3.provider.make_request("evm_setNextBlockTimestamp", [now + seconds])  # type: ignore[arg-type]
            self.mine()
        else:
            self.w3.provider.make_request("testing_timeTravel", [now + seconds])  # type: ignore[arg-type]

    def mine(self, blocks: int = 1) -> None:
        for _ in range(blocks):
            self.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]


@pytest.fixture(scope="session", params=CHAIN_BACKENDS)
def chain_env_session(request: pytest.FixtureRequest) -> ChainEnv:
    kind = request.param
    w3 = connect(request.getfixturevalue("anvil_node").url) if kind == "anvil" else connect()
    admin, agency_a, agency_b, outsider = (new_account() for _ in range(4))
    for account in (admin, agency_a, agency_b, outsider):
        fund_from_dev_account(w3, account.address)
    registry, _ = RegistryContract.deploy(w3, admin, options=TxOptions(poll_interval=0.02))
    key_a, key_b = b"\xa1" * 32, b"\xb1" * 32
    registry.register_agency(
        admin, account=agency_a.address, name="Civil Registry Office", signing_key=key_a
    )
    registry.register_agency(
        admin, account=agency_b.address, name="Ministry of Education", signing_key=key_b
    )
    return ChainEnv(kind, w3, registry, admin, agency_a, agency_b, outsider, key_a, key_b)


@pytest.fixture
def chain_env(chain_env_session: ChainEnv) -> Iterator[ChainEnv]:
    """The session's chain, rolled back to its state before the test when the test ends."""
    w3 = chain_env_session.w3
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    yield chain_env_session
    w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]
