"""The registry's event log: fetched in bounded block ranges with retry, decoded, and replayed
into the full registry state (agencies, accounts, keys, anchors, revocations, compromise windows,
status history) without any view call."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from web3.exceptions import Web3RPCError

from registry.chain.contract import (
    AccountInfo,
    AgencyInfo,
    AgencyStatus,
    AnchorInfo,
    CheckResult,
    Compromise,
    KeyWindow,
    RegistryContract,
    RevocationInfo,
    StatusChange,
)
from registry.errors import ChainUnavailable
from registry.types import Address, checksum_address

REGISTRY_EVENTS = (
    "AgencyRegistered",
    "AgencySuspended",
    "AgencyReinstated",
    "AgencyCompromised",
    "AgencyMoved",
    "SigningKeyProposed",
    "SigningKeyRotated",
    "Anchored",
    "Revoked",
    "RevokedByAuthority",
    "RoleGranted",
    "RoleRevoked",
)

ZERO32 = b"\0" * 32
NOT_REVOKED = RevocationInfo(revoked_at=0, reason=0, replacement=ZERO32)


@dataclass(frozen=True)
class RegistryEvent:
    """One decoded event with its position and block time."""

    name: str
    args: dict[str, Any]
    block_number: int
    log_index: int
    tx_hash: bytes
    timestamp: int
    block_hash: bytes = b""


@dataclass
class RegistryState:
    """Everything the contract stores, rebuilt from events alone; each mapping holds what the
    view of the same name answers (agencies: agencyOf, accounts: accountOf, keys: keyOf,
    pending_keys: pendingKeyOf, anchors: anchorOf, revocations: revocationOf, compromises:
    compromisesOf, status_history: statusHistoryOf), keyed the way the view is asked."""

    admins: set[Address] = field(default_factory=set)
    agencies: dict[Address, AgencyInfo] = field(default_factory=dict)
    """By agency identity (the address it was registered with)."""
    accounts: dict[Address, AccountInfo] = field(default_factory=dict)
    """By transaction account, retired ones included: the agency it acts (acted) for."""
    keys: dict[tuple[Address, bytes], KeyWindow] = field(default_factory=dict)
    """By (agency, Ed25519 public key)."""
    pending_keys: dict[Address, bytes] = field(default_factory=dict)
    """Keys proposed by an agency and not confirmed yet, by agency."""
    anchors: dict[tuple[Address, bytes], AnchorInfo] = field(default_factory=dict)
    """By (agency, root)."""
    anchor_tx: dict[tuple[Address, bytes], tuple[bytes, int]] = field(default_factory=dict)
    """By (agency, root): the anchoring transaction's hash and block number."""
    revocations: dict[tuple[Address, bytes], RevocationInfo] = field(default_factory=dict)
    """By (agency, leaf or root): the stored revocation (`void` is not set here: see check)."""
    compromises: dict[Address, list[Compromise]] = field(default_factory=dict)
    """By agency: its compromise windows, oldest first."""
    status_history: dict[Address, list[StatusChange]] = field(default_factory=dict)
    """By agency: every status change, oldest first."""

    def agency_of_account(self, account: str) -> Address | None:
        """The agency a transaction account acts for now (None: none, or retired)."""
        info = self.accounts.get(_address(account))
        return info.agency if info is not None else None

    def void_since(self, agency: str, timestamp: int) -> int:
        """The `since` of the agency's compromise window holding `timestamp`, or 0 (as the
        contract's `check` computes it; both ends inclusive)."""
        for window in reversed(self.compromises.get(_address(agency), [])):
            if window.holds(timestamp):
                return window.since
        return 0

    def revocation_in_force(self, agency: str, hash_: bytes) -> RevocationInfo:
        """The revocation of `hash_` as `check` reports it: an agency revocation inside a
        compromise window is marked void; the authority's never is."""
        stored = self.revocations.get((_address(agency), bytes(hash_)), NOT_REVOKED)
        if stored.revoked_at == 0 or stored.by_authority:
            return stored
        return replace(stored, void=self.void_since(agency, stored.revoked_at) != 0)

    def check(self, *, agency: str, leaf: bytes, root: bytes, included: bool) -> CheckResult:
        """What the contract's `check(agency, leaf, proof, root)` answers, from the mirror;
        `included` is the Merkle proof's verdict, computed off chain (registry.merkle)."""
        address = _address(agency)
        anchor = self.anchors.get(
            (address, bytes(root)),
            AnchorInfo(agency=None, anchored_at=0, block_number=0, leaf_count=0),
        )
        if anchor.anchored_at == 0:
            return CheckResult(
                included=included,
                anchor=anchor,
                agency_status=AgencyStatus.NONE,
                agency_status_changed_at=0,
                void_since=0,
                leaf_revocation=NOT_REVOKED,
                root_revocation=NOT_REVOKED,
            )
        info = self.agencies[address]
        return CheckResult(
            included=included,
            anchor=anchor,
            agency_status=info.status,
            agency_status_changed_at=info.status_changed_at,
            void_since=self.void_since(address, anchor.anchored_at),
            leaf_revocation=(self.revocation_in_force(address, leaf) if included else NOT_REVOKED),
            root_revocation=self.revocation_in_force(address, root),
        )


def _address(value: str) -> Address:
    return checksum_address(value)


class EventFollower:
    """Follows a registry's event log from a block on: each `pages()` (or `poll()`) reads the
    blocks mined since the previous call, at most `span` blocks per eth_getLogs (public and
    consortium nodes cap ranges), retrying a failed range `retries` times with backoff, and
    yields the decoded events in order; `next_block` is where the next call starts. The one
    reader of the log: the verifier's cache invalidation, the event index, the audit replay.

    `names`: the events to read (all of the registry's by default), asked of the node by
    their first topic. `timestamps`: fetch each event's block time (one eth_getBlock per block
    holding events); without it `RegistryEvent.timestamp` is 0."""

    def __init__(
        self,
        registry: RegistryContract,
        *,
        from_block: int = 0,
        names: Sequence[str] = REGISTRY_EVENTS,
        span: int = 5_000,
        retries: int = 4,
        backoff: float = 0.5,
        timestamps: bool = True,
    ) -> None:
        if span < 1:
            raise ValueError(f"span {span}: must be at least 1 block")
        self.registry = registry
        self.next_block = from_block
        self.span = span
        self.retries = retries
        self.backoff = backoff
        self.timestamps = timestamps
        self._events = registry.event_topics(names)
        self._block_times: dict[int, int] = {}

    def pages(
        self, *, to_block: int | None = None
    ) -> Iterator[tuple[int, int, list[RegistryEvent]]]:
        """(first block, last block, its events) for every page from `next_block` to
        `to_block` (default: the node's head now); `next_block` moves past each page once
        it has been handed out."""
        head = self.registry.node.head() if to_block is None else to_block
        while self.next_block <= head:
            start = self.next_block
            end = min(start + self.span - 1, head)
            events = [self._decode(log) for log in self._logs(start, end)]
            self._block_times.clear()
            yield start, end, [event for event in events if event is not None]
            self.next_block = end + 1

    def poll(
        self,
        *,
        to_block: int | None = None,
        on_range: Callable[[int, int], None] | None = None,
    ) -> Iterator[RegistryEvent]:
        """The events of `pages()`, one by one; `on_range(first, last)` after each page."""
        for start, end, events in self.pages(to_block=to_block):
            yield from events
            if on_range is not None:
                on_range(start, end)

    def _decode(self, log: Any) -> RegistryEvent | None:
        event = self._events.get(bytes(log["topics"][0])) if log["topics"] else None
        if event is None:
            return None
        decoded = event.process_log(log)
        number = int(log["blockNumber"])
        timestamp = 0
        if self.timestamps:
            if number not in self._block_times:
                self._block_times[number] = self.registry.node.block_time(number)
            timestamp = self._block_times[number]
        return RegistryEvent(
            name=decoded["event"],
            args=dict(decoded["args"]),
            block_number=number,
            log_index=int(log["logIndex"]),
            tx_hash=bytes(log["transactionHash"]),
            timestamp=timestamp,
            block_hash=bytes(log["blockHash"] or b""),
        )

    def _logs(self, start: int, end: int) -> list[Any]:
        delay = self.backoff
        for attempt in range(self.retries + 1):
            try:
                return self.registry.node.logs(
                    self.registry.address, from_block=start, to_block=end, topics=list(self._events)
                )
            except (ChainUnavailable, Web3RPCError) as exc:
                if attempt == self.retries:
                    raise ChainUnavailable(
                        f"eth_getLogs blocks {start}-{end} failed after {self.retries + 1} "
                        f"tries: {exc}; try a smaller --log-span or another node"
                    ) from exc
                time.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")


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
    """Every registry event in [from_block, to_block] (default: the head), in order: one pass
    of an `EventFollower`."""
    follower = EventFollower(
        registry, from_block=from_block, span=span, retries=retries, backoff=backoff
    )
    return follower.poll(to_block=to_block, on_range=on_range)


def rebuild_state(events: Iterable[RegistryEvent]) -> RegistryState:
    """Replay events into the registry state, exactly as the contract's storage evolves."""
    return replay(RegistryState(), events)


def replay(state: RegistryState, events: Iterable[RegistryEvent]) -> RegistryState:
    """Apply `events` (in chain order) to `state`, in place; returns it."""
    for ev in events:
        handler = _HANDLERS.get(ev.name)
        if handler is not None:
            handler(state, ev)
    return state


def _set_status(state: RegistryState, agency: Address, status: AgencyStatus, at: int) -> None:
    """The contract's `_setStatus`: status, time, the current account's active flag, history."""
    info = replace(state.agencies[agency], status=status, status_changed_at=at)
    state.agencies[agency] = info
    if info.account is not None:
        account = state.accounts[info.account]
        state.accounts[info.account] = replace(account, active=status is AgencyStatus.ACTIVE)
    state.status_history[agency].append(StatusChange(status, at))


def _on_role(state: RegistryState, ev: RegistryEvent) -> None:
    if int.from_bytes(ev.args["role"], "big") != 0:  # only DEFAULT_ADMIN_ROLE is used
        return
    account = Address(ev.args["account"])
    if ev.name == "RoleGranted":
        state.admins.add(account)
    else:
        state.admins.discard(account)


def _on_registered(state: RegistryState, ev: RegistryEvent) -> None:
    agency, key, at = Address(ev.args["agency"]), bytes(ev.args["signingKey"]), ev.timestamp
    state.agencies[agency] = AgencyInfo(
        address=agency,
        status=AgencyStatus.ACTIVE,
        registered_at=at,
        status_changed_at=at,
        account=agency,
        signing_key=key,
        name=ev.args["name"],
    )
    state.accounts[agency] = AccountInfo(agency=agency, active=True, retired=False, not_before=0)
    state.keys[(agency, key)] = KeyWindow(agency=agency, valid_from=at, valid_until=0)
    state.status_history[agency] = [StatusChange(AgencyStatus.ACTIVE, at)]
    state.compromises[agency] = []


def _on_suspended(state: RegistryState, ev: RegistryEvent) -> None:
    _set_status(state, Address(ev.args["agency"]), AgencyStatus.SUSPENDED, ev.timestamp)


def _on_reinstated(state: RegistryState, ev: RegistryEvent) -> None:
    _set_status(state, Address(ev.args["agency"]), AgencyStatus.ACTIVE, ev.timestamp)


def _on_compromised(state: RegistryState, ev: RegistryEvent) -> None:
    agency, since = Address(ev.args["agency"]), int(ev.args["since"])
    windows = state.compromises[agency]
    if windows and windows[-1].until == 0:  # still open: the authority widened it
        windows[-1] = Compromise(since, 0)
    else:
        windows.append(Compromise(since, 0))
    state.pending_keys.pop(agency, None)  # the contract drops a proposal from a stolen account
    _set_status(state, agency, AgencyStatus.COMPROMISED, ev.timestamp)


def _on_moved(state: RegistryState, ev: RegistryEvent) -> None:
    agency, at = Address(ev.args["agency"]), ev.timestamp
    old, new = Address(ev.args["oldAccount"]), Address(ev.args["newAccount"])
    state.accounts[old] = AccountInfo(agency=None, active=False, retired=True, not_before=0)
    state.pending_keys.pop(agency, None)
    info = replace(state.agencies[agency], account=new)
    state.agencies[agency] = info
    windows = state.compromises[agency]
    if windows and windows[-1].until == 0:
        windows[-1] = Compromise(windows[-1].since, at)
    state.accounts[new] = AccountInfo(
        agency=agency, active=info.status is AgencyStatus.ACTIVE, retired=False, not_before=at + 1
    )
    if info.status is AgencyStatus.COMPROMISED:  # moving ends the compromise
        _set_status(state, agency, AgencyStatus.ACTIVE, at)


def _on_key_proposed(state: RegistryState, ev: RegistryEvent) -> None:
    state.pending_keys[Address(ev.args["agency"])] = bytes(ev.args["key"])


def _on_key_rotated(state: RegistryState, ev: RegistryEvent) -> None:
    agency, at = Address(ev.args["agency"]), ev.timestamp
    old_key, new_key = bytes(ev.args["oldKey"]), bytes(ev.args["newKey"])
    state.keys[(agency, old_key)] = replace(state.keys[(agency, old_key)], valid_until=at)
    state.keys[(agency, new_key)] = KeyWindow(agency=agency, valid_from=at, valid_until=0)
    state.agencies[agency] = replace(state.agencies[agency], signing_key=new_key)
    state.pending_keys.pop(agency, None)


def _on_anchored(state: RegistryState, ev: RegistryEvent) -> None:
    agency, root = Address(ev.args["agency"]), bytes(ev.args["root"])
    state.anchors[(agency, root)] = AnchorInfo(
        agency=agency,
        anchored_at=ev.timestamp,
        block_number=ev.block_number,
        leaf_count=int(ev.args["leafCount"]),
    )
    state.anchor_tx[(agency, root)] = (ev.tx_hash, ev.block_number)


def _on_revoked(state: RegistryState, ev: RegistryEvent) -> None:
    key = (Address(ev.args["agency"]), bytes(ev.args["hash"]))
    state.revocations[key] = RevocationInfo(
        revoked_at=ev.timestamp,
        reason=int(ev.args["reason"]),
        replacement=bytes(ev.args["replacement"]),
    )


def _on_revoked_by_authority(state: RegistryState, ev: RegistryEvent) -> None:
    # Overrides the agency's own revocation of the same hash, replacement included.
    key = (Address(ev.args["agency"]), bytes(ev.args["hash"]))
    state.revocations[key] = RevocationInfo(
        revoked_at=ev.timestamp,
        reason=int(ev.args["reason"]),
        replacement=ZERO32,
        by_authority=True,
    )


_HANDLERS: dict[str, Callable[[RegistryState, RegistryEvent], None]] = {
    "RoleGranted": _on_role,
    "RoleRevoked": _on_role,
    "AgencyRegistered": _on_registered,
    "AgencySuspended": _on_suspended,
    "AgencyReinstated": _on_reinstated,
    "AgencyCompromised": _on_compromised,
    "AgencyMoved": _on_moved,
    "SigningKeyProposed": _on_key_proposed,
    "SigningKeyRotated": _on_key_rotated,
    "Anchored": _on_anchored,
    "Revoked": _on_revoked,
    "RevokedByAuthority": _on_revoked_by_authority,
}
