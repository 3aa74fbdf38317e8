"""Gas used by mined transactions, from their receipts, read in JSON-RPC batches: the open-data
export's gas column (the anchoring transactions its event log names). One request per
`batch_size` transactions where the node accepts batches; one per transaction on the embedded
chain or a node that refuses batch requests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import TransactionNotFound
from web3.providers.eth_tester import EthereumTesterProvider

from registry.chain.tx import rpc_errors
from registry.errors import ChainUnavailable

__all__ = ["gas_used"]


def gas_used(w3: Web3, tx_hashes: Sequence[bytes], *, batch_size: int = 100) -> dict[bytes, int]:
    """gasUsed of each mined transaction, by hash. ChainUnavailable when the node does not
    answer or has no receipt for one of them (a pruned or lagging node)."""
    wanted = list(dict.fromkeys(bytes(h) for h in tx_hashes))
    out: dict[bytes, int] = {}
    embedded = isinstance(w3.provider, EthereumTesterProvider)
    for i in range(0, len(wanted), batch_size):
        chunk = wanted[i : i + batch_size]
        receipts = None if embedded else _batch(w3, chunk)
        if receipts is None:
            receipts = [_one(w3, h) for h in chunk]
        for tx, receipt in zip(chunk, receipts, strict=True):
            if receipt is None or receipt.get("gasUsed") is None:
                raise ChainUnavailable(f"the node has no receipt for transaction 0x{tx.hex()}")
            out[tx] = int(receipt["gasUsed"])
    return out


def _batch(w3: Web3, chunk: list[bytes]) -> list[Any] | None:
    """The receipts in one batch request; None when the node refuses batches."""
    try:
        with rpc_errors("eth_getTransactionReceipt (batch)"), w3.batch_requests() as batch:
            for tx in chunk:
                batch.add(w3.eth.get_transaction_receipt(HexBytes(tx)))
            return list(batch.execute())
    except ChainUnavailable:
        raise
    except Exception:  # a node that answers a batch with an error: one by one
        return None


def _one(w3: Web3, tx: bytes) -> Any:
    with rpc_errors("eth_getTransactionReceipt"):
        try:
            return w3.eth.get_transaction_receipt(HexBytes(tx))
        except TransactionNotFound:
            return None
