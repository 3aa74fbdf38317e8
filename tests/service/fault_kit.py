"""Chains for the fault tests: our own anvil nodes (one automined, whose mining the tests
switch off and on; one with `--block-time 2`), a deployed registry and a funded agency."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3

from registry.chain import RegistryContract, connect, fund_from_dev_account, new_account
from registry.chain.devnode import AnvilNode
from registry.chain.tx import TxOptions


@dataclass
class FaultEnv:
    """What the service tests need of a chain (the fields of tests/conftest.py's ChainEnv)."""

    kind: str
    w3: Web3
    registry: RegistryContract
    admin: LocalAccount
    agency_a: LocalAccount
    block_time: float | None = None

    def rpc(self, method: str, *params: Any) -> Any:
        reply = self.w3.provider.make_request(method, list(params))  # type: ignore[arg-type]
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result")

    def mine(self, blocks: int = 1) -> None:
        for _ in range(blocks):
            self.rpc("evm_mine")

    def automine(self, on: bool) -> None:
        self.rpc("evm_setAutomine", on)

    @contextmanager
    def miner(self, every: float = 0.1) -> Iterator[None]:
        """Another party producing a block every `every` seconds."""
        stop = threading.Event()

        def run() -> None:
            while not stop.wait(every):
                self.mine()

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()

    def pool_size(self) -> int:
        return int(self.rpc("txpool_status")["pending"], 16)

    def tx_known(self, tx_hash: bytes) -> bool:
        return self.rpc("eth_getTransactionByHash", "0x" + tx_hash.hex()) is not None

    def nonce(self) -> int:
        """Transactions the agency account has mined (its nonce on chain)."""
        return int(self.w3.eth.get_transaction_count(self.agency_a.address, "latest"))


def deploy_env(node: AnvilNode, *, kind: str, block_time: float | None = None) -> FaultEnv:
    """Deploy the registry and register agency A on `node` (set up with automine on, so an
    interval-mined node is ready in a second; its interval mining is restored after)."""
    w3 = connect(node.url)
    if block_time is not None:
        w3.provider.make_request("evm_setAutomine", [True])  # type: ignore[arg-type]
    admin, agency_a = new_account(), new_account()
    for account in (admin, agency_a):
        fund_from_dev_account(w3, account.address)
    registry, _ = RegistryContract.deploy(w3, admin, options=TxOptions(poll_interval=0.02))
    registry.register_agency(
        admin, account=agency_a.address, name="Civil Registry Office", signing_key=b"\xa1" * 32
    )
    env = FaultEnv(kind, w3, registry, admin, agency_a, block_time)
    if block_time is not None:
        env.automine(False)
        env.rpc("evm_setIntervalMining", int(block_time))
    return env


def wait_until(check: Callable[[], Any], *, timeout: float, what: str) -> Any:
    """Poll `check` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"not within {timeout:.0f}s: {what}")
        time.sleep(0.02)
