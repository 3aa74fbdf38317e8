"""The chain environment the chain tests share (a uniquely named module: conftest is not
importable): a deployed registry, two agencies and funded actors, on any node."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3

from registry.chain import RegistryContract, fund_from_dev_account, new_account
from registry.chain.tx import TxOptions

CHAIN_BACKENDS = ["embedded", pytest.param("anvil", marks=pytest.mark.anvil)]
"""The chains every chain-touching test runs on (tests/conftest.py's `chain_env`)."""

BLOCK_TIME = 2
"""Seconds between blocks of the interval-mined anvil (`--block-time 2`)."""

ISSUING_BACKENDS = [*CHAIN_BACKENDS, pytest.param("anvil-interval", marks=pytest.mark.anvil)]
"""The issuing suite's chains (test_issuing, test_revoking, test_crash): also an anvil that
mines a block every BLOCK_TIME seconds and none in between, so nothing may assume that a
transaction is mined the moment it is sent. Use as
`pytestmark = pytest.mark.parametrize("chain_env_session", ISSUING_BACKENDS, indirect=True)`.
On SQLite only (tests/service/conftest.py deselects PostgreSQL there): the store's part is the
same, and each interval-mined test waits for real blocks."""


@dataclass
class ChainEnv:
    """A chain with a deployed registry and funded actors (`kind`: embedded, anvil, hardhat)."""

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
        if self.kind == "embedded":
            # eth-tester's clock is its pending block, which can run ahead of the latest block
            # after a snapshot revert; counting from it never travels backwards.
            now = int(self.w3.eth.get_block("pending")["timestamp"])
            self.w3.provider.make_request("testing_timeTravel", [now + seconds])  # type: ignore[arg-type]
            return
        now = int(self.w3.eth.get_block("latest")["timestamp"])
        self.w3.provider.make_request("evm_setNextBlockTimestamp", [now + seconds])  # type: ignore[arg-type]
        self.mine()

    def mine(self, blocks: int = 1) -> None:
        for _ in range(blocks):
            self.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]


def build_chain_env(kind: str, w3: Web3) -> ChainEnv:
    """Deploy a registry on `w3` with two registered agencies and a funded outsider. On
    `anvil-interval` the set-up runs automined (ready in a second), then the node goes back to
    mining a block every BLOCK_TIME seconds."""
    if kind == "anvil-interval":
        w3.provider.make_request("evm_setAutomine", [True])  # type: ignore[arg-type]
        env = _deploy(kind, w3)
        w3.provider.make_request("evm_setAutomine", [False])  # type: ignore[arg-type]
        w3.provider.make_request("evm_setIntervalMining", [BLOCK_TIME])  # type: ignore[arg-type]
        return env
    return _deploy(kind, w3)


def _deploy(kind: str, w3: Web3) -> ChainEnv:
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
