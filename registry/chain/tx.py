"""Sending transactions from a local key: gas estimate with a margin, fees, N confirmations,
and contract custom errors decoded by name. Never assumes instant mining."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import rlp  # type: ignore[import-untyped]
from eth_abi.abi import decode as abi_decode
from eth_account.signers.local import LocalAccount
from eth_utils.abi import function_abi_to_4byte_selector
from eth_utils.address import to_checksum_address
from hexbytes import HexBytes
from web3 import Web3
from web3.contract.contract import ContractConstructor, ContractFunction
from web3.exceptions import (
    ContractCustomError,
    ContractLogicError,
    TimeExhausted,
    TransactionNotFound,
    Web3RPCError,
)

from registry.errors import ChainUnavailable, ContractRevert, TransactionFailed

T = TypeVar("T")

ContractCall = ContractFunction | ContractConstructor
"""Anything that can be estimated, built and signed: a function call or a deployment."""


@dataclass(frozen=True)
class TxOptions:
    """How to send: confirmations to wait for, time limits, gas margin."""

    confirmations: int = 1
    timeout: float = 120.0
    poll_interval: float = 0.2
    gas_margin: float = 1.2


@dataclass(frozen=True)
class SignedTx:
    """A signed transaction, ready to broadcast; its hash and nonce are known before sending."""

    raw: bytes
    tx_hash: bytes
    nonce: int
    sender: str


@dataclass(frozen=True)
class TxResult:
    """A mined transaction with at least the requested confirmations."""

    tx_hash: bytes
    block_number: int
    block_hash: bytes
    gas_used: int
    confirmations: int
    logs: tuple[Any, ...]


def decode_custom_error(
    abi: list[dict[str, Any]], raw: bytes | None
) -> tuple[str, dict[str, Any]] | None:
    """Name and arguments of the custom error encoded in revert data, if the ABI knows it."""
    if raw is None or len(raw) < 4:
        return None
    for item in abi:
        if item.get("type") != "error":
            continue
        if function_abi_to_4byte_selector(item) == raw[:4]:  # type: ignore[arg-type]
            types = [i["type"] for i in item["inputs"]]
            values = abi_decode(types, raw[4:])
            args = {}
            for spec, value in zip(item["inputs"], values, strict=True):
                if spec["type"] == "address":
                    value = to_checksum_address(value)
                elif isinstance(value, bytes):
                    value = "0x" + value.hex()
                args[spec["name"] or "arg"] = value
            return item["name"], args
    return None


def reverts() -> tuple[type[Exception], ...]:
    """Exceptions that mean "the contract reverted": web3's, and eth-tester's embedded
    provider's (once eth-tester is loaded: until then nothing can raise it, and importing it
    would load py-evm, the embedded chain, in every process that talks to a node)."""
    tester = sys.modules.get("eth_tester.exceptions")
    if tester is None:
        return (ContractLogicError,)
    return (ContractLogicError, tester.TransactionFailed)


def revert_data(exc: BaseException) -> bytes | None:
    """The raw revert data carried by a web3 or eth-tester revert exception, if any."""
    seen: BaseException | None = exc
    while seen is not None:
        data = getattr(seen, "data", None)
        if isinstance(data, dict):  # Hardhat (EDR): {"message": ..., "data": "0x..."}
            data = data.get("data")
        if isinstance(data, str) and data.startswith("0x"):
            return bytes.fromhex(data[2:])
        if seen.args and isinstance(seen.args[0], bytes):
            return seen.args[0]
        seen = seen.__cause__ or seen.__context__
    return None


def revert_to_error(
    abi: list[dict[str, Any]], exc: BaseException, action: str
) -> TransactionFailed:
    """Turn a revert exception into our ContractRevert naming the contract's custom error."""
    decoded = decode_custom_error(abi, revert_data(exc))
    if decoded is not None:
        name, args = decoded
        shown = ", ".join(f"{k}={v}" for k, v in args.items())
        return ContractRevert(name, args, f"{action} refused by the contract: {name}({shown})")
    return TransactionFailed(f"{action} reverted: {getattr(exc, 'message', None) or exc}")


@contextmanager
def rpc_errors(where: str) -> Iterator[None]:
    """Map transport failures (connection refused, timeout) to ChainUnavailable."""
    try:
        yield
    except reverts():
        raise
    except (TimeExhausted, TransactionNotFound, TransactionFailed):
        raise
    except Web3RPCError:
        raise
    except (OSError, ConnectionError, TimeoutError) as exc:
        raise ChainUnavailable(f"{where}: node unreachable ({type(exc).__name__}: {exc})") from exc
    except Exception as exc:
        # requests' exceptions derive from OSError; anything else from the transport as well.
        if type(exc).__module__.startswith(("requests", "urllib3", "aiohttp")):
            raise ChainUnavailable(f"{where}: node unreachable ({type(exc).__name__})") from exc
        raise


def fee_fields(w3: Web3, *, ceiling: int | None = None) -> dict[str, int]:
    """EIP-1559 fees when the chain has a base fee, else a legacy gas price (e.g. free-gas Besu).

    The base fee is the higher of the latest block's and the pending block's (the one the
    transaction will face, when the node tells). `ceiling` caps the fee per gas (wei)."""
    block = w3.eth.get_block("latest")
    latest_base = block.get("baseFeePerGas")
    if latest_base is None:
        price = int(w3.eth.gas_price)
        return {"gasPrice": price if ceiling is None else min(price, ceiling)}
    try:
        pending = w3.eth.get_block("pending").get("baseFeePerGas")
    except Exception:  # not every node serves the pending block; the latest one will do
        pending = None
    base = max(int(latest_base), int(pending or 0))
    try:
        tip = int(w3.eth.max_priority_fee)
    except (Web3RPCError, ValueError):
        tip = 10**9
    fees = {"maxFeePerGas": 2 * base + tip, "maxPriorityFeePerGas": tip}
    return fees if ceiling is None else _capped(fees, ceiling)


def _capped(fees: dict[str, int], ceiling: int) -> dict[str, int]:
    top = min(fees["maxFeePerGas"], ceiling)
    return {"maxFeePerGas": top, "maxPriorityFeePerGas": min(fees["maxPriorityFeePerGas"], top)}


REPLACEMENT_BUMP = (11, 10)
"""A replacement (same nonce) must raise every fee by at least 10% to enter the pool (geth's
default price bump, also anvil's); one more wei on top guards against rounding."""


def fees_of(raw: bytes) -> dict[str, int]:
    """The fee fields of a signed raw transaction (EIP-1559 type 2, or legacy)."""
    if raw[:1] == b"\x02":
        fields = rlp.decode(raw[1:])
        return {
            "maxPriorityFeePerGas": int.from_bytes(fields[2], "big"),
            "maxFeePerGas": int.from_bytes(fields[3], "big"),
        }
    if raw[:1] == b"\x01":
        return {"gasPrice": int.from_bytes(rlp.decode(raw[1:])[2], "big")}
    return {"gasPrice": int.from_bytes(rlp.decode(raw)[1], "big")}


def bumped_fees(
    old: dict[str, int], fresh: dict[str, int], *, ceiling: int | None = None
) -> dict[str, int] | None:
    """Fees for a replacement of a transaction sent with `old` fees: every field at least 10%
    (+1 wei) higher, and no lower than `fresh` (today's estimate). None when `ceiling` leaves
    no room for a valid replacement."""
    num, den = REPLACEMENT_BUMP
    bumped = {key: max(-(-value * num // den) + 1, fresh.get(key, 0)) for key, value in old.items()}
    if ceiling is None:
        return bumped
    if any(value > ceiling for value in bumped.values()):
        capped = {key: min(value, ceiling) for key, value in bumped.items()}
        if any(capped[key] < -(-old[key] * num // den) + 1 for key in old):
            return None
        return capped
    return bumped


def prepare_transaction(
    w3: Web3,
    account: LocalAccount,
    call: ContractCall,
    *,
    abi: list[dict[str, Any]],
    action: str,
    margin: float = 1.2,
    nonce: int | None = None,
    fees: dict[str, int] | None = None,
    fee_ceiling: int | None = None,
) -> SignedTx:
    """Estimate gas (a revert surfaces here, decoded), add the margin, sign with the local key.

    `fees` overrides the estimated fee fields (a replacement); `fee_ceiling` caps them (wei)."""
    with rpc_errors(action):
        try:
            gas = call.estimate_gas({"from": account.address})
        except reverts() as exc:
            raise revert_to_error(abi, exc, action) from exc
        if nonce is None:
            nonce = w3.eth.get_transaction_count(account.address, "pending")
        tx = call.build_transaction(
            {  # type: ignore[arg-type]
                "from": account.address,
                "nonce": nonce,
                "gas": int(gas * margin) + 1,
                "chainId": w3.eth.chain_id,
                **(fees or fee_fields(w3, ceiling=fee_ceiling)),  # type: ignore[typeddict-item]
            }
        )
    signed = account.sign_transaction(tx)  # type: ignore[arg-type]
    return SignedTx(
        raw=bytes(signed.raw_transaction),
        tx_hash=bytes(signed.hash),
        nonce=nonce,
        sender=account.address,
    )


class FeeTooLow(TransactionFailed):
    """The node refused a transaction for its fees: below the base fee, or a replacement that
    does not raise them enough."""


class NonceUsed(TransactionFailed):
    """The node refused a transaction because its nonce is already used on chain."""


_ALREADY_KNOWN = ("already known", "known transaction", "already imported")
_FEE_TOO_LOW = ("underpriced", "less than block base fee", "fee cap", "feecap", "fee too low")
_NONCE_USED = ("nonce too low",)


def broadcast(w3: Web3, signed: SignedTx, *, action: str) -> None:
    """Send a signed transaction; re-sending one the node already has is not an error.
    Refusals for fees (FeeTooLow) and for a used nonce (NonceUsed) are told apart."""
    with rpc_errors(action):
        try:
            w3.eth.send_raw_transaction(signed.raw)
        except Web3RPCError as exc:
            text = str(exc).lower()
            if any(marker in text for marker in _ALREADY_KNOWN):
                return
            refused = f"{action}: node refused the transaction: {exc}"
            if any(marker in text for marker in _FEE_TOO_LOW):
                raise FeeTooLow(refused) from exc
            if any(marker in text for marker in _NONCE_USED):
                raise NonceUsed(refused) from exc
            raise TransactionFailed(refused) from exc


def _poll(fn: Callable[[], T | None], *, timeout: float, interval: float, what: str) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value is not None:
            return value
        if time.monotonic() >= deadline:
            raise TimeExhausted(f"{what}: not done after {timeout:.0f}s")
        time.sleep(interval)


def wait_for_confirmations(
    w3: Web3, tx_hash: bytes, *, options: TxOptions, action: str, abi: list[dict[str, Any]]
) -> TxResult:
    """Wait until `tx_hash` is mined and has `options.confirmations` blocks (itself included)
    on top, re-reading the receipt at the end so a re-org is noticed."""

    def receipt() -> Any:
        with rpc_errors(action):
            try:
                return w3.eth.get_transaction_receipt(HexBytes(tx_hash))
            except TransactionNotFound:
                return None

    def confirmed() -> Any:
        r = receipt()
        if r is None:
            return None
        with rpc_errors(action):
            head = w3.eth.block_number
        return r if head - r["blockNumber"] + 1 >= options.confirmations else None

    try:
        mined = _poll(
            confirmed, timeout=options.timeout, interval=options.poll_interval, what=action
        )
    except TimeExhausted as exc:
        raise TransactionFailed(
            f"{action}: transaction 0x{tx_hash.hex()} not confirmed after {options.timeout:.0f}s; "
            "it may still be mined — it will be resumed, not re-sent"
        ) from exc
    if mined["status"] != 1:
        raise TransactionFailed(f"{action}: transaction 0x{tx_hash.hex()} reverted on chain")
    with rpc_errors(action):
        head = w3.eth.block_number
    return TxResult(
        tx_hash=tx_hash,
        block_number=int(mined["blockNumber"]),
        block_hash=bytes(mined["blockHash"]),
        gas_used=int(mined["gasUsed"]),
        confirmations=head - int(mined["blockNumber"]) + 1,
        logs=tuple(mined["logs"]),
    )


def send_transaction(
    w3: Web3,
    account: LocalAccount,
    call: ContractCall,
    *,
    abi: list[dict[str, Any]],
    action: str,
    options: TxOptions,
) -> TxResult:
    """Prepare, broadcast and confirm one contract call from a local key."""
    signed = prepare_transaction(
        w3, account, call, abi=abi, action=action, margin=options.gas_margin
    )
    broadcast(w3, signed, action=action)
    return wait_for_confirmations(w3, signed.tx_hash, options=options, action=action, abi=abi)


__all__ = [
    "ContractCustomError",
    "FeeTooLow",
    "NonceUsed",
    "SignedTx",
    "TxOptions",
    "TxResult",
    "broadcast",
    "bumped_fees",
    "decode_custom_error",
    "fee_fields",
    "fees_of",
    "prepare_transaction",
    "send_transaction",
    "wait_for_confirmations",
]
