"""The JSON-RPC node as the service sees it: block heads and times, nonces, transactions and
their receipts, the registry's logs, fees, signing and sending. Every read maps transport
failures to ChainUnavailable (`rpc_errors`), so no caller above the chain layer touches web3.

A `Node` is what a `RegistryContract` talks through (`registry.node`); the demo, the benchmarks
and the scripts also make one from the `Web3` that `connect()` returns.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import TransactionNotFound
from web3.providers.eth_tester import EthereumTesterProvider

from registry.chain.accounts import fund_from_dev_account
from registry.chain.tx import SignedTx, broadcast, fee_fields, prepare_transaction, rpc_errors
from registry.errors import ChainUnavailable
from registry.types import Address


@dataclass(frozen=True)
class BlockInfo:
    """A block's number, hash and time (Unix seconds), and its parent's hash."""

    number: int
    hash: bytes
    timestamp: int
    parent_hash: bytes = b""


@dataclass(frozen=True)
class MinedTx:
    """The receipt of a mined transaction: status 1 = success, 0 = reverted."""

    tx_hash: bytes
    block_number: int
    status: int
    gas_used: int
    contract_address: Address | None

    @property
    def succeeded(self) -> bool:
        return self.status == 1


def _block_info(raw: Any) -> BlockInfo:
    if raw is None or raw.get("hash") is None:
        raise ChainUnavailable("the node does not have that block (yet)")
    return BlockInfo(
        int(raw["number"] or 0),
        bytes(raw["hash"] or b""),
        int(raw["timestamp"]),
        bytes(raw.get("parentHash") or b""),
    )


class Node:
    """The node behind a `Web3` connection (embedded eth-tester or any JSON-RPC URL)."""

    def __init__(self, w3: Web3) -> None:
        self._w3 = w3
        self._batches = True  # until the node refuses a batch request

    # --------------------------------------------------------------- chain

    @property
    def embedded(self) -> bool:
        """Whether this is the in-process eth-tester chain."""
        return isinstance(self._w3.provider, EthereumTesterProvider)

    def chain_id(self) -> int:
        with rpc_errors("eth_chainId"):
            return int(self._w3.eth.chain_id)

    def head(self) -> int:
        """The latest block number."""
        with rpc_errors("eth_blockNumber"):
            return int(self._w3.eth.block_number)

    def block(self, number: int | str = "latest") -> BlockInfo:
        """A block by number (or "latest", "pending")."""
        with rpc_errors("eth_getBlockByNumber"):
            raw = self._w3.eth.get_block(number)  # type: ignore[arg-type]
        return _block_info(raw)

    def blocks(self, numbers: Sequence[int]) -> list[BlockInfo]:
        """The headers of several blocks, in the order asked: one JSON-RPC batch request where
        the node accepts batches, else one request each (the embedded chain, a node that
        refuses batches). A block the node does not have is ChainUnavailable."""
        wanted = list(numbers)
        if not wanted:
            return []
        if not self.embedded and self._batches:
            try:
                with (
                    rpc_errors("eth_getBlockByNumber (batch)"),
                    self._w3.batch_requests() as batch,
                ):
                    for number in wanted:
                        batch.add(self._w3.eth.get_block(number))
                    raws = batch.execute()
                return [_block_info(raw) for raw in raws]
            except ChainUnavailable:
                raise
            except Exception:  # a node that answers a batch with an error: one by one
                self._batches = False
        return [self.block(number) for number in wanted]

    def block_time(self, number: int | str = "latest") -> int:
        """A block's time (Unix seconds)."""
        return self.block(number).timestamp

    def genesis_hash(self) -> bytes:
        """The hash of block 0: names the chain (a store is bound to it)."""
        return self.block(0).hash

    def code(self, address: str, *, block: int | str = "latest") -> bytes:
        """The runtime code at `address` (empty: none) at `block`. An old block may not be
        served by a pruned node: its own error then comes through unchanged."""
        with rpc_errors("eth_getCode"):
            return bytes(
                self._w3.eth.get_code(Web3.to_checksum_address(address), block_identifier=block)  # type: ignore[arg-type]
            )

    def balance(self, address: str) -> int:
        """The account's balance in wei."""
        with rpc_errors("eth_getBalance"):
            return int(self._w3.eth.get_balance(Web3.to_checksum_address(address)))

    # -------------------------------------------------------- transactions

    def nonce(self, address: str, *, pending: bool = False) -> int:
        """The account's next nonce: counting mined transactions (default) or also those
        waiting in the node's pool (`pending`)."""
        with rpc_errors("eth_getTransactionCount"):
            return int(
                self._w3.eth.get_transaction_count(
                    Web3.to_checksum_address(address), "pending" if pending else "latest"
                )
            )

    def mined(self, tx_hash: bytes) -> MinedTx | None:
        """The receipt of a mined transaction; None while it is not mined (or unknown)."""
        with rpc_errors("eth_getTransactionReceipt"):
            try:
                raw = self._w3.eth.get_transaction_receipt(HexBytes(tx_hash))
            except TransactionNotFound:
                return None
        if raw is None or raw.get("blockNumber") is None:
            return None
        contract = raw.get("contractAddress")
        return MinedTx(
            tx_hash=bytes(tx_hash),
            block_number=int(raw["blockNumber"]),
            status=int(raw["status"]),
            gas_used=int(raw["gasUsed"]),
            contract_address=Address(Web3.to_checksum_address(contract)) if contract else None,
        )

    def transaction_known(self, tx_hash: bytes) -> bool:
        """Whether the node knows the transaction (waiting in its pool, or mined)."""
        with rpc_errors("eth_getTransactionByHash"):
            try:
                return self._w3.eth.get_transaction(HexBytes(tx_hash)) is not None
            except TransactionNotFound:
                return False

    def transaction_input(self, tx_hash: bytes) -> bytes:
        """A known transaction's calldata."""
        with rpc_errors("eth_getTransactionByHash"):
            return bytes(self._w3.eth.get_transaction(HexBytes(tx_hash))["input"])

    def fees(self, *, ceiling: int | None = None) -> dict[str, int]:
        """The fee fields a transaction sent now would carry (EIP-1559, else legacy)."""
        return fee_fields(self._w3, ceiling=ceiling)

    def prepare(
        self,
        account: LocalAccount,
        call: Any,
        *,
        abi: list[dict[str, Any]],
        action: str,
        margin: float = 1.2,
        nonce: int | None = None,
        fees: dict[str, int] | None = None,
        fee_ceiling: int | None = None,
    ) -> SignedTx:
        """Estimate, sign (not send) `call` from `account`: see `tx.prepare_transaction`."""
        return prepare_transaction(
            self._w3,
            account,
            call,
            abi=abi,
            action=action,
            margin=margin,
            nonce=nonce,
            fees=fees,
            fee_ceiling=fee_ceiling,
        )

    def broadcast(self, signed: SignedTx, *, action: str) -> None:
        """Send a signed transaction: see `tx.broadcast`."""
        broadcast(self._w3, signed, action=action)

    # ---------------------------------------------------------------- logs

    def logs(
        self,
        address: str,
        *,
        from_block: int,
        to_block: int,
        topics: Sequence[bytes] | None = None,
    ) -> list[Any]:
        """The raw logs of `address` in [from_block, to_block], optionally only those whose
        first topic is one of `topics`. Topics go to the node as hex strings: eth-tester's
        get_logs matches nothing when given HexBytes."""
        query: dict[str, Any] = {"address": address, "fromBlock": from_block, "toBlock": to_block}
        if topics is not None:
            query["topics"] = [["0x" + bytes(t).hex() for t in topics]]
        with rpc_errors("eth_getLogs"):
            return list(self._w3.eth.get_logs(query))  # type: ignore[arg-type]

    # ------------------------------------------------------ development only

    def fund_from_dev(self, address: str, wei: int = 10**20) -> None:
        """Send `wei` from the node's first unlocked dev account (eth-tester, anvil)."""
        with rpc_errors("fund from dev account"):
            fund_from_dev_account(self._w3, address, wei)

    def advance(self, seconds: int) -> None:
        """Move block time forward by `seconds` and mine a block (development nodes)."""
        provider: Any = self._w3.provider
        with rpc_errors("advance time"):
            if self.embedded:
                # eth-tester's clock is its pending block, which can run ahead of the latest.
                now = self.block_time("pending")
                provider.make_request("testing_timeTravel", [now + seconds])
                return
            now = self.block_time("latest")
            provider.make_request("evm_setNextBlockTimestamp", [now + seconds])
            provider.make_request("evm_mine", [])

    def serialize(self) -> None:
        """Make the in-process eth-tester chain safe to share between threads (an anchoring
        worker and request handlers): py-evm is not thread-safe, so its requests take turns.
        Nothing to do for a JSON-RPC node."""
        serialize_provider(self._w3)


def serialize_provider(w3: Web3) -> None:
    """`Node.serialize` for a bare `Web3` (idempotent)."""
    provider = w3.provider
    if not isinstance(provider, EthereumTesterProvider) or hasattr(provider, "_registry_lock"):
        return
    lock = threading.RLock()
    original = provider.make_request

    def make_request(method: Any, params: Any) -> Any:
        with lock:
            return original(method, params)

    provider.make_request = make_request  # type: ignore[method-assign]
    provider._registry_lock = lock  # type: ignore[attr-defined]
    provider._request_func_cache = (None, None)  # type: ignore[assignment]  # rebuild with it
