"""Helpers shared by the chain tests: batches built with registry.merkle, revert assertions by
custom-error name, block times, and calls executed in the latest block's second."""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract

from registry.chain import RegistryContract
from registry.chain.artifact import registry_artifact
from registry.chain.tx import TxResult, revert_to_error
from registry.chain.tx import reverts as contract_reverts
from registry.errors import ContractRevert
from registry.merkle import KIND_RECORD, MerkleTree

ZERO = b"\0" * 32


@dataclass(frozen=True)
class Batch:
    """A batch of records as the issuer builds it (kind-bound leaves, OZ tree)."""

    tree: MerkleTree
    digests: tuple[bytes, ...]

    @property
    def root(self) -> bytes:
        return bytes(self.tree.root)

    @property
    def count(self) -> int:
        return self.tree.count

    def leaf(self, index: int) -> bytes:
        return bytes(self.tree.leaf(index))

    def proof(self, index: int) -> list[bytes]:
        return self.tree.proof(index)


def make_batch(label: str, size: int = 4, kind: int = KIND_RECORD) -> Batch:
    """`size` records whose digests are SHA-256 of "<label>/<i>"."""
    digests = tuple(hashlib.sha256(f"{label}/{i}".encode()).digest() for i in range(size))
    return Batch(MerkleTree.from_digests(digests, kind), digests)


@contextmanager
def reverts(name: str) -> Iterator[pytest.ExceptionInfo[ContractRevert]]:
    """The block must be refused by the contract with the custom error `name`."""
    with pytest.raises(ContractRevert) as info:
        yield info
    assert info.value.error_name == name, str(info.value)


def raw_contract(w3: Web3, registry: RegistryContract) -> Contract:
    """The deployed registry as an attacker reaches it: the test's own `Web3` and the committed
    ABI, no binding in between (for calls the binding refuses to build)."""
    abi = registry_artifact().abi
    return w3.eth.contract(address=Web3.to_checksum_address(registry.address), abi=abi)


def block_time(registry: RegistryContract, result: TxResult) -> int:
    """The timestamp of the block that mined `result`."""
    return registry.node.block_time(result.block_number)


def latest_time(registry: RegistryContract) -> int:
    return registry.node.block_time("latest")


def call_in_latest_block(registry: RegistryContract, sender: LocalAccount, call: Any) -> Any:
    """Execute a transaction's call (eth_call from `sender`) in the context of the latest block,
    i.e. in the very second that block was mined; a revert comes back as ContractRevert."""
    try:
        return call.call({"from": sender.address}, block_identifier="latest")
    except contract_reverts() as exc:
        # eth-tester's eth_call puts the revert data in its message as a bytes literal, which
        # registry.chain.tx.revert_data does not read; anvil's carries it in `data`.
        message = str(exc.args[0]) if exc.args else ""
        if message.startswith("execution reverted: b"):
            raw = ast.literal_eval(message.removeprefix("execution reverted: "))
            raise revert_to_error(registry.abi, type(exc)(raw), "eth_call") from exc
        raise revert_to_error(registry.abi, exc, "eth_call") from exc


def advance(env: Any, seconds: int) -> None:
    """Move block time forward by `seconds` and mine (ChainEnv.advance, for every node)."""
    env.advance(seconds)
