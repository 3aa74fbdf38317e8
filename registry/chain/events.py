"""The registry's event log: fetched in bounded block ranges with retry, decoded, and replayed
into the full registry state (agencies, keys, anchors, revocations) without any view call."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from web3 import Web3
from web3.exceptions import Web3RPCError

from registry.chain.contract import (
    AgencyInfo,
    AgencyStatus,
    AnchorInfo,
    KeyWindow,
    RegistryContract,
    RevocationInfo,
)
from registry.chain.tx import rpc_errors
from registry.errors import ChainUnavailable
from registry.types import Address

REGISTRY_EVENTS = (
    "AgencyRegistered",
    "AgencySuspended",
    "AgencyReinstated",
    "SigningKeyRotated",
    "Anchored",
    "Revoked",
    "RoleGranted",
    "RoleRevoked",
)


@dataclass(frozen=True)
class RegistryEvent:
    """One decoded event with its position and block time."""

    name: str
    args: dict[str, Any]
    block_number: int
    log_index: int
    tx_hash: bytes
    timestamp: int


@dataclass
class RegistryState:
    """Everything the contract stores, rebuilt from events alone."""

    admins: set[Address] = field(default_factory=set)
    agencies: dict[Address, AgencyInfo] = field(default_factory=dict)
    keys: dict[bytes, KeyWindow] = field(default_factory=dict)
    anchors: dict[bytes, AnchorInfo] = field(default_factory=dict)
    revocations: dict[tuple[Address, bytes], RevocationInfo] = field(default_factory=dict)
    anchor_tx: dict[bytes, tuple[bytes, int]] = field(default_factory=dict)


def fetch_events(
    registry: RegistryContract,
    *,
    from_block: int = 0,
    to_block: int | None = None,
    span: int = 5_000,
    retries: int = 4,
    backoff: float = 0.5,
    on_range: Callable[[int, int], None] | None = None,
) -> Iterator[RegistryEvent]:
    """Yield the registry's events in order, asking for at most `span` blocks per eth_getLogs
    (public and consortium nodes cap ranges) and retrying a failed range with backoff."""
    w3 = registry.w3
    with rpc_errors("eth_blockNumber"):
        head = w3.eth.block_number if to_block is None else to_block
    by_topic: dict[bytes, Any] = {}
    for name in REGISTRY_EVENTS:
        contract_event = registry.contract.events[name]()
        by_topic[bytes(Web3.keccak(text=contract_event.signature))] = contract_event
    timestamps: dict[int, int] = {}
    start = from_block
    while start <= head:
        end = min(start + span - 1, head)
        logs = _get_logs_with_retry(
            w3, registry.address, start, end, retries=retries, backoff=backoff
        )
        for log in logs:
            event = by_topic.get(bytes(log["topics"][0]))
            if event is None:
                continue
            decoded = event.process_log(log)
            number = int(log["blockNumber"])
            if number not in timestamps:
                with rpc_errors("eth_getBlockByNumber"):
                    timestamps[number] = int(w3.eth.get_block(number)["timestamp"])
            yield RegistryEvent(
                name=decoded["event"],
                args=dict(decoded["args"]),
                block_number=number,
                log_index=int(log["logIndex"]),
                tx_hash=bytes(log["transactionHash"]),
                timestamp=timestamps[number],
            )
        if on_range is not None:
            on_range(start, end)
        start = end + 1


def _get_logs_with_retry(
    w3: Web3, address: Address, start: int, end: int, *, retries: int, backoff: float
) -> list[Any]:
    delay = backoff
    for attempt in range(retries + 1):
        try:
            with rpc_errors("eth_getLogs"):
                return list(
                    w3.eth.get_logs({"address": address, "fromBlock": start, "toBlock": end})
                )
        except (ChainUnavailable, Web3RPCError) as exc:
            if attempt == retries:
                raise ChainUnavailable(
                    f"eth_getLogs blocks {start}-{end} failed after {retries + 1} tries: {exc}; "
                    "try a smaller --log-span or another node"
                ) from exc
            time.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")


def rebuild_state(events: Iterator[RegistryEvent] | list[RegistryEvent]) -> RegistryState:
    """Replay events into the registry state, exactly as the contract's storage evolves."""
    state = RegistryState()
    for ev in events:
        a = ev.args
        if ev.name == "RoleGranted" and int.from_bytes(a["role"], "big") == 0:
            state.admins.add(Address(a["account"]))
        elif ev.name == "RoleRevoked" and int.from_bytes(a["role"], "big") == 0:
            state.admins.discard(Address(a["account"]))
        elif ev.name == "AgencyRegistered":
            account = Address(a["account"])
            key = bytes(a["signingKey"])
            state.agencies[account] = AgencyInfo(
                address=account,
                status=AgencyStatus.ACTIVE,
                registered_at=ev.timestamp,
                status_changed_at=ev.timestamp,
                signing_key=key,
                name=a["name"],
            )
            state.keys[key] = KeyWindow(agency=account, valid_from=ev.timestamp, valid_until=0)
        elif ev.name in ("AgencySuspended", "AgencyReinstated"):
            account = Address(a["account"])
            old = state.agencies[account]
            status = AgencyStatus.SUSPENDED if ev.name == "AgencySuspended" else AgencyStatus.ACTIVE
            state.agencies[account] = AgencyInfo(
                address=account,
                status=status,
                registered_at=old.registered_at,
                status_changed_at=ev.timestamp,
                signing_key=old.signing_key,
                name=old.name,
            )
        elif ev.name == "SigningKeyRotated":
            account = Address(a["agency"])
            old_key, new_key = bytes(a["oldKey"]), bytes(a["newKey"])
            prev = state.keys[old_key]
            state.keys[old_key] = KeyWindow(prev.agency, prev.valid_from, ev.timestamp)
            state.keys[new_key] = KeyWindow(agency=account, valid_from=ev.timestamp, valid_until=0)
            old = state.agencies[account]
            state.agencies[account] = AgencyInfo(
                address=account,
                status=old.status,
                registered_at=old.registered_at,
                status_changed_at=old.status_changed_at,
                signing_key=new_key,
                name=old.name,
            )
        elif ev.name == "Anchored":
            root = bytes(a["root"])
            state.anchors[root] = AnchorInfo(
                agency=Address(a["agency"]),
                anchored_at=ev.timestamp,
                leaf_count=int(a["leafCount"]),
            )
            state.anchor_tx[root] = (ev.tx_hash, ev.block_number)
        elif ev.name == "Revoked":
            state.revocations[(Address(a["agency"]), bytes(a["hash"]))] = RevocationInfo(
                revoked_at=ev.timestamp,
                reason=int(a["reason"]),
                replacement=bytes(a["replacement"]),
            )
    return state
