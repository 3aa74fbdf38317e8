"""The registry rebuilt from its event log alone (`read_registry`: one `ChainSnapshot`), the
event-log checks that need no store (anchors and revocations in compromise windows, anchors
between a suspension and a reinstatement), and two snapshots compared (`compare_snapshots`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from registry.chain import AgencyStatus, RegistryContract, RevocationInfo
from registry.chain.events import RegistryEvent, RegistryState, fetch_events, rebuild_state
from registry.errors import ChainUnavailable, InvalidInput
from registry.service.audit.findings import (
    _STATUS_NAMES,
    Finding,
    FindingKind,
    Progress,
    _iso,
    _replacement_text,
    checksum,
)
from registry.types import Address, to_hex

# ---------------------------------------------------------------- the chain


@dataclass
class ChainSnapshot:
    """The registry as its event log shows it at `to_block`, plus what only the order of
    events reveals: suspension intervals, agency moves, key proposals, and what the compromise
    windows make void (anchors and revocations by an agency inside one of its windows)."""

    address: Address
    chain_id: int
    from_block: int
    to_block: int
    state: RegistryState
    events: list[RegistryEvent]
    suspensions: dict[Address, list[tuple[int, int | None]]] = field(default_factory=dict)
    """Per agency, (suspended at, reinstated at or None) in block time."""
    moves: list[tuple[Address, Address, Address, int]] = field(default_factory=list)
    """(agency, old account, new account, at), in chain order."""
    agency_revocations: dict[tuple[Address, bytes], RevocationInfo] = field(default_factory=dict)
    """By (agency, hash): the agency's own Revoked events, even where the authority's
    revocation later overrode them in the contract's storage."""
    void_anchors: dict[tuple[Address, bytes], int] = field(default_factory=dict)
    """By (agency, root): the `since` of the compromise window the anchor falls in."""
    void_revocations: dict[tuple[Address, bytes], int] = field(default_factory=dict)
    """By (agency, hash): the `since` of the window the agency's own revocation falls in."""
    findings: list[Finding] = field(default_factory=list)

    def agency_identity(self, address: str) -> Address | None:
        """The agency an address names: itself if it is an agency's identity, else the agency
        it is (or was) the transaction account of."""
        a = checksum(address)
        if a in self.state.agencies:
            return a
        for agency, old, new, _ in self.moves:
            if a in (old, new):
                return agency
        return None

    def agency_name(self, agency: Address | None) -> str:
        info = self.state.agencies.get(agency) if agency is not None else None
        return info.name if info is not None else str(agency)


def log_range(
    registry: RegistryContract, *, from_block: int, to_block: int | None, span: int
) -> int:
    """The last block of a read of the event log from `from_block` to `to_block` (default:
    the node's head), the options checked: InvalidInput naming the one at fault."""
    if span < 1:
        raise InvalidInput(f"--log-span {span}: must be at least 1 block")
    if from_block < 0:
        raise InvalidInput(f"--from-block {from_block}: must not be negative")
    head = registry.node.head()
    if to_block is None:
        return head
    if not from_block <= to_block <= head:
        raise InvalidInput(
            f"--to-block {to_block}: must be between --from-block {from_block} and the "
            f"node's head {head}"
        )
    return to_block


def read_registry(
    registry: RegistryContract,
    *,
    from_block: int = 0,
    to_block: int | None = None,
    span: int = 5_000,
    retries: int = 4,
    backoff: float = 0.5,
    progress: Progress | None = None,
) -> ChainSnapshot:
    """Rebuild the registry from its events in [from_block, to_block] (default: the head),
    asking for `span` blocks per eth_getLogs with `retries` retries. Raises ChainUnavailable
    when the node cannot answer, InvalidInput when the log does not start at the deployment."""
    head = log_range(registry, from_block=from_block, to_block=to_block, span=span)
    _check_from_block(registry, from_block)
    total = max(head - from_block + 1, 0)

    def on_range(start: int, end: int) -> None:
        if progress is not None:
            progress("events", end - from_block + 1, total)

    if progress is not None:
        progress("events", 0, total)
    events = list(
        fetch_events(
            registry,
            from_block=from_block,
            to_block=head,
            span=span,
            retries=retries,
            backoff=backoff,
            on_range=on_range,
        )
    )
    try:
        state = rebuild_state(events)
    except KeyError as exc:
        raise InvalidInput(
            f"the event log from block {from_block} names an agency or key registered before "
            "it; --from-block must be the registry's deployment block (or 0)"
        ) from exc
    snapshot = ChainSnapshot(
        address=registry.address,
        chain_id=registry.chain_id,
        from_block=from_block,
        to_block=head,
        state=state,
        events=events,
    )
    _replay_suspensions(snapshot)
    _replay_compromises(snapshot)
    return snapshot


def _check_from_block(registry: RegistryContract, from_block: int) -> None:
    """Refuse a --from-block after the deployment (the log would miss events). Needs the
    code at an old block, which a pruned node may not serve: then the check is skipped."""
    if from_block == 0:
        return
    try:
        code = registry.code_at(from_block - 1)
    except ChainUnavailable:
        raise
    except Exception:  # a pruned node: "missing trie node" and the like
        return
    if code:
        deployed = deployment_block(registry, before=from_block - 1)
        where = (
            f"its deployment block is {deployed}: pass --from-block {deployed}"
            if deployed is not None
            else "pass its deployment block (or 0)"
        )
        raise InvalidInput(
            f"--from-block {from_block}: the registry already existed at block "
            f"{from_block - 1}, so its earlier events would be missed; {where}"
        )


def deployment_block(registry: RegistryContract, *, before: int) -> int | None:
    """The block the registry was deployed in (its code first present), at or before `before`
    where it has code: a binary search over eth_getCode, about log2(before) requests. None
    when the node cannot say (a pruned node)."""
    low, high = 0, before  # no code at low - 1 (assumed for 0); code at high
    try:
        if registry.code_at(0):
            return 0
        while high - low > 1:
            middle = (low + high) // 2
            if registry.code_at(middle):
                high = middle
            else:
                low = middle
    except ChainUnavailable:
        raise
    except Exception:  # a pruned node: "missing trie node" and the like
        return None
    return high


def _replay_suspensions(snapshot: ChainSnapshot) -> None:
    """Suspension intervals per agency, and any Anchored event inside one (in event order)."""
    suspended: dict[Address, int] = {}
    for ev in snapshot.events:
        if ev.name == "AgencySuspended":
            agency = Address(ev.args["agency"])
            suspended[agency] = ev.timestamp
            snapshot.suspensions.setdefault(agency, []).append((ev.timestamp, None))
        elif ev.name in ("AgencyReinstated", "AgencyCompromised"):
            # Either ends the suspension: the agency is active again, or its status is now
            # "compromised" (which the compromise replay accounts for). A move keeps it.
            agency = Address(ev.args["agency"])
            if suspended.pop(agency, None) is None:
                continue
            intervals = snapshot.suspensions.get(agency)
            if intervals and intervals[-1][1] is None:
                intervals[-1] = (intervals[-1][0], ev.timestamp)
        elif ev.name == "Anchored":
            agency = Address(ev.args["agency"])
            if agency in suspended:
                root = to_hex(bytes(ev.args["root"]))
                snapshot.findings.append(
                    Finding(
                        FindingKind.ANCHORED_WHILE_SUSPENDED,
                        f"root {root} by {agency}",
                        f"anchored by {agency} in block {ev.block_number} "
                        f"({_iso(ev.timestamp)}) after its suspension at "
                        f"{_iso(suspended[agency])} and before any reinstatement",
                    )
                )


def _replay_compromises(snapshot: ChainSnapshot) -> None:
    """With the compromise windows as they stand at the end of the log (the authority marks
    an agency compromised after the theft, so a window reaches back over earlier events):
    every anchor, own revocation and key proposal of an agency inside one of its windows.
    Anchors and revocations there are void for every verifier; a key proposed from a stolen
    account and then confirmed by the authority is worth a look."""
    state = snapshot.state
    proposed: dict[tuple[Address, bytes], RegistryEvent] = {}
    for ev in snapshot.events:
        if ev.name == "AgencyMoved":
            agency = Address(ev.args["agency"])
            old, new = Address(ev.args["oldAccount"]), Address(ev.args["newAccount"])
            snapshot.moves.append((agency, old, new, ev.timestamp))
            continue
        if ev.name not in ("Anchored", "Revoked", "SigningKeyProposed", "SigningKeyRotated"):
            continue
        agency = Address(ev.args["agency"])
        if ev.name == "SigningKeyProposed":
            proposed[(agency, bytes(ev.args["key"]))] = ev
            continue
        if ev.name == "SigningKeyRotated":
            key = bytes(ev.args["newKey"])
            proposal = proposed.get((agency, key))
            since = state.void_since(agency, proposal.timestamp) if proposal else 0
            if proposal is not None and since:
                snapshot.findings.append(
                    Finding(
                        FindingKind.KEY_PROPOSED_IN_COMPROMISE_WINDOW,
                        f"key {to_hex(key)} of {agency}",
                        f"proposed at {_iso(proposal.timestamp)} (block "
                        f"{proposal.block_number}), inside {snapshot.agency_name(agency)}'s "
                        f"compromise window from {_iso(since)}, and confirmed by the authority "
                        f"at {_iso(ev.timestamp)} (block {ev.block_number}): the proposal may "
                        "have come from the thief",
                    )
                )
            continue
        since = state.void_since(agency, ev.timestamp)
        if ev.name == "Revoked":
            hash_ = bytes(ev.args["hash"])
            snapshot.agency_revocations[(agency, hash_)] = RevocationInfo(
                revoked_at=ev.timestamp,
                reason=int(ev.args["reason"]),
                replacement=bytes(ev.args["replacement"]),
            )
        if not since:
            continue
        name = snapshot.agency_name(agency)
        if ev.name == "Anchored":
            root = bytes(ev.args["root"])
            snapshot.void_anchors[(agency, root)] = since
            snapshot.findings.append(
                Finding(
                    FindingKind.ANCHOR_IN_COMPROMISE_WINDOW,
                    f"root {to_hex(root)} by {agency}",
                    f"anchored at {_iso(ev.timestamp)} (block {ev.block_number}, "
                    f"{int(ev.args['leafCount'])} records), inside {name}'s compromise window "
                    f"from {_iso(since)}: void, none of its receipts verifies",
                )
            )
        else:
            snapshot.void_revocations[(agency, hash_)] = since
            snapshot.findings.append(
                Finding(
                    FindingKind.REVOCATION_IN_COMPROMISE_WINDOW,
                    f"revocation {to_hex(hash_)} by {agency}",
                    f"revoked at {_iso(ev.timestamp)} (block {ev.block_number}, reason "
                    f"{int(ev.args['reason'])}), inside {name}'s compromise window from "
                    f"{_iso(since)}: void, verifiers ignore it",
                )
            )


def _suspended_at(snapshot: ChainSnapshot, agency: Address, ts: int) -> tuple[int, int | None]:
    """The suspension interval of `agency` strictly containing `ts`, or (0, 0) if none."""
    for start, end in snapshot.suspensions.get(agency, []):
        if start < ts and (end is None or ts < end):
            return start, end
    return 0, 0


def _chain_summary(snapshot: ChainSnapshot) -> dict[str, int]:
    state = snapshot.state
    statuses = Counter(a.status for a in state.agencies.values())
    return {
        "blocks": snapshot.to_block - snapshot.from_block + 1,
        "events": len(snapshot.events),
        "agencies": len(state.agencies),
        "agencies_suspended": statuses[AgencyStatus.SUSPENDED],
        "agencies_compromised": statuses[AgencyStatus.COMPROMISED],
        "compromise_windows": sum(len(w) for w in state.compromises.values()),
        "agency_moves": len(snapshot.moves),
        "signing_keys": len(state.keys),
        "signing_keys_pending": len(state.pending_keys),
        "anchors": len(state.anchors),
        "anchors_void": len(snapshot.void_anchors),
        "anchored_records": sum(a.leaf_count for a in state.anchors.values()),
        "revocations": len(state.revocations),
        "revocations_by_authority": sum(1 for r in state.revocations.values() if r.by_authority),
        "revocations_void": len(snapshot.void_revocations),
    }


# ---------------------------------------------------------------- two deployments


def _agency_facts(state: RegistryState) -> dict[str, str]:
    return {
        addr: f"{info.name!r}, {_STATUS_NAMES[info.status]}, key {to_hex(info.signing_key)}, "
        f"account {info.account}, {len(state.compromises.get(addr, []))} compromise window(s)"
        for addr, info in state.agencies.items()
    }


def _key_facts(state: RegistryState) -> dict[str, str]:
    facts = {
        f"{to_hex(key)} of {agency}": "current" if w.valid_until == 0 else "retired"
        for (agency, key), w in state.keys.items()
    }
    for agency, key in state.pending_keys.items():
        facts.setdefault(f"{to_hex(key)} of {agency}", "proposed, not confirmed")
    return facts


def _anchor_facts(snapshot: ChainSnapshot) -> dict[str, str]:
    return {
        f"{to_hex(root)} by {agency}": f"{a.leaf_count} records"
        + (", void (compromise window)" if (agency, root) in snapshot.void_anchors else "")
        for (agency, root), a in snapshot.state.anchors.items()
    }


def _revocation_facts(snapshot: ChainSnapshot) -> dict[str, str]:
    return {
        f"{to_hex(hash_)} by {agency}": f"reason {r.reason}, replacement "
        f"{_replacement_text(r.replacement)}"
        + (", by the authority" if r.by_authority else "")
        + (", void (compromise window)" if (agency, hash_) in snapshot.void_revocations else "")
        for (agency, hash_), r in snapshot.state.revocations.items()
    }


def compare_snapshots(first: ChainSnapshot, second: ChainSnapshot) -> list[Finding]:
    """What one deployment has and the other lacks, or has differently, agency by agency:
    agencies (name, status, current key and account, number of compromise windows), signing
    keys (current, retired or only proposed), anchors (record count, void or not) and
    revocations (reason, replacement, by whom, void or not). Times and blocks are not compared:
    a migration re-anchors at new times."""
    findings = []
    facts: list[tuple[str, Callable[[ChainSnapshot], dict[str, str]]]] = [
        ("agency", lambda snap: _agency_facts(snap.state)),
        ("key", lambda snap: _key_facts(snap.state)),
        ("anchor", _anchor_facts),
        ("revocation", _revocation_facts),
    ]
    for what, of in facts:
        a, b = of(first), of(second)
        for key in sorted(a.keys() | b.keys()):
            subject = f"{what} {key}"
            if key not in b:
                findings.append(Finding(FindingKind.ONLY_IN_FIRST, subject, a[key]))
            elif key not in a:
                findings.append(Finding(FindingKind.ONLY_IN_SECOND, subject, b[key]))
            elif a[key] != b[key]:
                findings.append(
                    Finding(FindingKind.DIFFERS, subject, f"first: {a[key]}; second: {b[key]}")
                )
    return findings


def iter_event_rows(snapshot: ChainSnapshot, name: str) -> Iterator[RegistryEvent]:
    """The snapshot's events of one name, in chain order (for exports)."""
    return (ev for ev in snapshot.events if ev.name == name)
