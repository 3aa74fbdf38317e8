"""Auditing: re-check the whole registry from the chain's event log alone (protocol v2).

An auditor trusts neither the operator's server nor its database. This module rebuilds every
agency (identity, current transaction account, status history, compromise windows, moves),
signing key (with its validity window, per agency; proposals not yet confirmed), anchor and
revocation (per agency; the authority's apart) from the registry's events, then checks against
that rebuilt state:

* the event log itself: anchors and revocations an agency made inside one of its compromise
  windows (void for every verifier: reported as such), a confirmed key whose proposal came
  from a compromised account, an anchor between a suspension and a reinstatement;
* receipts and documents in folders, with the named checks of `verify_receipt` (kind-bound
  leaves, the v2 root message naming the agency), the audited registry being the only trusted
  one (a receipt naming any other registry or chain id is a forged or foreign receipt);
* the operator's store, agency by agency: every batch's (kind, digest) leaves recompute to
  its root, every root its agency anchored is in the store and every confirmed batch is on
  chain under its agency, the agency's own revocations agree both ways, every replacement
  named on chain is a record of the same agency, and every batch was signed by a key of its
  agency that was valid when the root was anchored.

Each problem is one `Finding` (kind, subject, detail). An outage is never a finding: the
audit's outcome is then COULD_NOT_CHECK. Scripts in scripts/ reuse the reading, folder and
comparison helpers here.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session
from web3 import Web3

from registry import keys
from registry.chain import AgencyStatus, AnchorInfo, KeyWindow, RegistryContract, RevocationInfo
from registry.chain.contract import CheckResult
from registry.chain.events import RegistryEvent, RegistryState, fetch_events, rebuild_state
from registry.checks import CheckName, CheckStatus
from registry.errors import ChainUnavailable, InvalidInput, RegistryError
from registry.merkle import KIND_FILE, KIND_RECORD, LEAF_KINDS, MerkleTree, process_proof
from registry.receipt import MAX_RECEIPT_BYTES, Receipt, parse_receipt
from registry.record import document_digest, parse_sealed_document
from registry.service import documents
from registry.service.verify import (
    ChainReader,
    Outcome,
    TrustedRegistry,
    Verification,
    verification_input,
    verify_receipt,
)
from registry.store import Store
from registry.store.errors import StoreUnavailable, WrongStore
from registry.store.models import (
    Agency,
    Batch,
    BatchState,
    Record,
    RegistryMeta,
    Revocation,
    RevocationState,
)
from registry.types import Address, to_hex

__all__ = [
    "AuditOutcome",
    "AuditReport",
    "ChainSnapshot",
    "Finding",
    "FindingKind",
    "FolderItem",
    "ItemResult",
    "Progress",
    "audit_receipts",
    "audit_registry",
    "audit_store",
    "checksum",
    "collect_folder",
    "compare_snapshots",
    "could_not_check",
    "iter_event_rows",
    "read_registry",
    "verify_item",
]

ZERO32 = b"\0" * 32
MAX_LISTED = 20
"""At most this many leaf indexes are spelled out in one finding's detail."""

Progress = Callable[[str, int, int], None]
"""progress(phase, done, total): phase is "events" (blocks), "store" (records) or "files"."""


class FindingKind(StrEnum):
    """What an audit can find wrong; the value is the name used in reports."""

    # the event log
    ANCHORED_WHILE_SUSPENDED = "anchored_while_suspended"
    ANCHOR_IN_COMPROMISE_WINDOW = "anchor_in_compromise_window"
    REVOCATION_IN_COMPROMISE_WINDOW = "revocation_in_compromise_window"
    KEY_PROPOSED_IN_COMPROMISE_WINDOW = "key_proposed_in_compromise_window"
    # the operator's store against the chain
    TAMPERED_RECORD = "tampered_record"
    MISSING_RECORD = "missing_record"
    MISPLACED_RECORD = "misplaced_record"
    ROOT_NOT_IN_STORE = "root_not_in_store"
    ROOT_NOT_ON_CHAIN = "root_not_on_chain"
    ANCHOR_MISMATCH = "anchor_mismatch"
    REVOCATION_MISSING_IN_STORE = "revocation_missing_in_store"
    REVOCATION_MISSING_ON_CHAIN = "revocation_missing_on_chain"
    REVOCATION_MISMATCH = "revocation_mismatch"
    REPLACEMENT_NOT_AGENCY_RECORD = "replacement_not_agency_record"
    AGENCY_MISMATCH = "agency_mismatch"
    # signatures and keys (store batches and receipts)
    SIGNATURE_INVALID = "signature_invalid"
    KEY_OUTSIDE_WINDOW = "key_outside_window"
    KEY_NOT_OF_AGENCY = "key_not_of_agency"
    # receipts and documents
    FORGED_RECEIPT = "forged_receipt"
    TAMPERED_DOCUMENT = "tampered_document"
    RECEIPT_INVALID = "receipt_invalid"
    RECEIPT_MISSING = "receipt_missing"
    # two deployments compared (scripts/compare_deployments.py)
    ONLY_IN_FIRST = "only_in_first"
    ONLY_IN_SECOND = "only_in_second"
    DIFFERS = "differs"


@dataclass(frozen=True, order=True)
class Finding:
    """One problem: what kind, about what (a root, a record, a file), and why in words."""

    kind: FindingKind
    subject: str
    detail: str

    def to_json(self) -> dict[str, str]:
        return {"kind": str(self.kind), "subject": self.subject, "detail": self.detail}


class AuditOutcome(StrEnum):
    """clean: nothing found; findings: at least one; could_not_check: an outage stopped it."""

    CLEAN = "clean"
    FINDINGS = "findings"
    COULD_NOT_CHECK = "could_not_check"

    @property
    def exit_code(self) -> int:
        return {"clean": 0, "findings": 1, "could_not_check": 3}[self.value]


@dataclass(frozen=True)
class AuditReport:
    """The audit's result: outcome, what was covered (summary counts), every finding."""

    outcome: AuditOutcome
    registry: str
    chain_id: int | None
    from_block: int
    to_block: int | None
    summary: dict[str, int]
    findings: tuple[Finding, ...]
    seconds: float
    error: str | None = None

    def by_kind(self) -> dict[str, int]:
        """How many findings of each kind."""
        return dict(sorted(Counter(str(f.kind) for f in self.findings).items()))

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "RegistryAudit",
            "version": 1,
            "outcome": str(self.outcome),
            "registry": self.registry,
            "chainId": self.chain_id,
            "fromBlock": self.from_block,
            "toBlock": self.to_block,
            "seconds": round(self.seconds, 3),
            "error": self.error,
            "summary": self.summary,
            "findingsByKind": self.by_kind(),
            "findings": [f.to_json() for f in self.findings],
        }


def could_not_check(
    reason: str, *, registry: str, chain_id: int | None = None, from_block: int = 0
) -> AuditReport:
    """The report of an audit that an outage (node or database down) stopped."""
    return AuditReport(
        outcome=AuditOutcome.COULD_NOT_CHECK,
        registry=registry,
        chain_id=chain_id,
        from_block=from_block,
        to_block=None,
        summary={},
        findings=(),
        seconds=0.0,
        error=reason,
    )


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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
    if span < 1:
        raise InvalidInput(f"--log-span {span}: must be at least 1 block")
    if from_block < 0:
        raise InvalidInput(f"--from-block {from_block}: must not be negative")
    head = registry.node.head()
    if to_block is not None:
        if not from_block <= to_block <= head:
            raise InvalidInput(
                f"--to-block {to_block}: must be between --from-block {from_block} and the "
                f"node's head {head}"
            )
        head = to_block
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
        raise InvalidInput(
            f"--from-block {from_block}: the registry already existed at block "
            f"{from_block - 1}, so its earlier events would be missed; pass its deployment block"
        )


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


# ---------------------------------------------------------------- the store


@dataclass(frozen=True)
class _BatchRow:
    id: int
    agency_id: int
    state: str
    root: bytes
    leaf_count: int
    signature: bytes
    public_key: bytes
    block_number: int | None
    anchored_at: int | None


@contextmanager
def _store_errors(store: Store | None) -> Iterator[None]:
    """A database that drops the connection mid-audit is an outage (could not check); one
    whose schema is not the registry's is bad input."""
    if store is None:
        yield
        return
    try:
        yield
    except (OperationalError, InterfaceError) as exc:
        raise StoreUnavailable(f"the store {store.url} stopped answering: {exc.orig}") from exc
    except DBAPIError as exc:
        raise InvalidInput(
            f"--db {store.url}: cannot read it as a registry store ({exc.orig}); is it the "
            "store of another version of the registry?"
        ) from exc


def _store_is_registry_store(store: Store) -> None:
    """Refuse a database without the registry's tables (a wrong --db)."""
    try:
        tables = set(inspect(store.engine).get_table_names())
    except DBAPIError as exc:
        raise StoreUnavailable(f"cannot read the store {store.url}: {exc.orig}") from exc
    if not {"batches", "records", "revocations", "agencies"} <= tables:
        raise InvalidInput(f"--db {store.url}: not a registry store (no batches/records tables)")


def audit_store(
    snapshot: ChainSnapshot, store: Store, *, progress: Progress | None = None
) -> tuple[list[Finding], dict[str, int]]:
    """Check the operator's store against the chain snapshot, agency by agency; returns
    (findings, counts).

    Per batch: one indexed read of (id, leaf index, digest, kind) in leaf order, the Merkle
    root recomputed over the kind-bound leaves (a 100,000-record batch takes a fraction of a
    second), then its signature and signing key. Then roots, revocations (and their
    replacements) and agencies both ways."""
    _store_is_registry_store(store)
    findings: list[Finding] = []
    with store.session() as session:
        _check_binding(session, snapshot)
        agencies = {a.id: a for a in session.scalars(select(Agency))}
        batches = [_batch_row(b) for b in session.scalars(select(Batch).order_by(Batch.id))]
    address_of = {
        a.id: snapshot.agency_identity(a.address) or checksum(a.address) for a in agencies.values()
    }
    total = sum(b.leaf_count for b in batches)
    done = 0
    if progress is not None:
        progress("store", 0, total)
    by_root: dict[tuple[Address | None, bytes], _BatchRow] = {
        (address_of.get(b.agency_id), b.root): b for b in batches
    }
    records = 0
    for batch in batches:
        with store.session() as session:
            rows = _batch_records(session, batch.id)
            records += len(rows)
            findings.extend(_check_batch_records(session, batch, rows))
        findings.extend(_check_batch_chain(snapshot, batch, address_of.get(batch.agency_id)))
        done += batch.leaf_count
        if progress is not None:
            progress("store", done, total)
    with store.session() as session:
        findings.extend(_unbatched_records(session))
        revocations = list(session.scalars(select(Revocation).order_by(Revocation.id)))
        findings.extend(_check_replacements(session, snapshot, address_of))
    findings.extend(_check_roots(snapshot, by_root, address_of.values()))
    findings.extend(_check_revocations(snapshot, revocations, address_of))
    findings.extend(_check_agencies(snapshot, agencies.values()))
    counts = {
        "store_agencies": len(agencies),
        "store_batches": len(batches),
        "store_records": records,
        "store_revocations": len(revocations),
    }
    return findings, counts


def _check_binding(session: Session, snapshot: ChainSnapshot) -> None:
    """Refuse a store that belongs to another registry or chain (a wrong --db)."""
    meta = session.get(RegistryMeta, 1)
    if meta is None:
        return
    if meta.chain_id != snapshot.chain_id or meta.registry_address != snapshot.address:
        raise WrongStore(
            f"--db belongs to registry {meta.registry_address} on chain {meta.chain_id}, "
            f"not to the audited {snapshot.address} on chain {snapshot.chain_id}"
        )


def _batch_row(b: Batch) -> _BatchRow:
    return _BatchRow(
        id=b.id,
        agency_id=b.agency_id,
        state=b.state,
        root=bytes(b.root),
        leaf_count=int(b.leaf_count),
        signature=bytes(b.signature),
        public_key=bytes(b.signing_public_key),
        block_number=b.block_number,
        anchored_at=b.anchored_at,
    )


_rec = Record.__table__.c
_KIND_CODES = {"file": KIND_FILE, "record": KIND_RECORD}


def _batch_records(session: Session, batch_id: int) -> list[tuple[int, int | None, bytes, int]]:
    """(record id, leaf index, digest, leaf kind) of a batch in leaf order: one pass over its
    index. An unknown kind is 0, which no leaf has (the batch then cannot recompute)."""
    stmt = (
        select(_rec.id, _rec.leaf_index, _rec.digest, _rec.digest_kind)
        .where(_rec.batch_id == batch_id)
        .order_by(_rec.leaf_index)
    )
    return [
        (int(i), idx, bytes(d), _KIND_CODES.get(str(k), 0))
        for i, idx, d, k in session.execute(stmt)
    ]


def _spell(indexes: Sequence[int]) -> str:
    shown = ", ".join(str(i) for i in indexes[:MAX_LISTED])
    return shown + (f" and {len(indexes) - MAX_LISTED} more" if len(indexes) > MAX_LISTED else "")


def _check_batch_records(
    session: Session, batch: _BatchRow, rows: list[tuple[int, int | None, bytes, int]]
) -> list[Finding]:
    """Leaf indexes 0..leaf_count-1 each held once, and the (kind, digest) leaves recompute to
    the root."""
    subject = f"batch #{batch.id} root {to_hex(batch.root)}"
    findings: list[Finding] = []
    indexes = [idx for _, idx, _, _ in rows]
    if indexes == list(range(batch.leaf_count)):
        bad_kind = [rid for rid, _, _, kind in rows if kind not in LEAF_KINDS]
        if bad_kind:
            return [
                Finding(
                    FindingKind.TAMPERED_RECORD,
                    f"record #{rid}",
                    f"in {subject}: its digest kind is neither 'file' nor 'record'",
                )
                for rid in bad_kind[:MAX_LISTED]
            ]
        tree = MerkleTree.from_digests([d for _, _, d, _ in rows], [k for *_, k in rows])
        if tree.root != batch.root:
            findings.extend(_pinpoint_tampered(session, batch, subject, tree.root))
        return findings
    misplaced = [
        (rid, idx) for rid, idx, _, _ in rows if idx is None or not 0 <= idx < batch.leaf_count
    ]
    for rid, idx in misplaced[:MAX_LISTED]:
        findings.append(
            Finding(
                FindingKind.MISPLACED_RECORD,
                f"record #{rid}",
                f"in {subject} at leaf index {idx}, outside 0..{batch.leaf_count - 1}",
            )
        )
    present = {idx for idx in indexes if idx is not None}
    missing = [i for i in range(batch.leaf_count) if i not in present]
    if missing:
        findings.append(
            Finding(
                FindingKind.MISSING_RECORD,
                subject,
                f"{len(missing)} of {batch.leaf_count} records missing from the store, at leaf "
                f"index {_spell(missing)}: the root cannot be recomputed",
            )
        )
    return findings


def _pinpoint_tampered(
    session: Session, batch: _BatchRow, subject: str, recomputed: bytes
) -> list[Finding]:
    """Name the altered rows when the store kept their sealed documents in clear (structured
    records stored before encryption at rest); a file's digest, or an encrypted document, has
    nothing to be checked against but the root."""
    stmt = select(_rec.id, _rec.leaf_index, _rec.digest, _rec.document).where(
        _rec.batch_id == batch.id, _rec.document.is_not(None)
    )
    found = []
    for rid, idx, digest, document in session.execute(stmt):
        if documents.is_encrypted(document):
            # Encrypted at rest with a key the auditor does not hold: the row cannot name
            # itself; the batch-level finding below stands for it.
            continue
        try:
            actual = bytes(document_digest(parse_sealed_document(document)))
        except RegistryError:
            actual = b""
        if actual != bytes(digest):
            found.append(
                Finding(
                    FindingKind.TAMPERED_RECORD,
                    f"record #{rid}",
                    f"leaf {idx} of {subject}: its stored digest {to_hex(bytes(digest))} is "
                    "not the digest of its stored document",
                )
            )
    if found:
        return found
    return [
        Finding(
            FindingKind.TAMPERED_RECORD,
            subject,
            f"its {batch.leaf_count} stored leaves recompute to root {to_hex(recomputed)}, "
            "not to its root: at least one record row was altered",
        )
    ]


def _check_batch_chain(
    snapshot: ChainSnapshot, batch: _BatchRow, agency: Address | None
) -> list[Finding]:
    """For a batch whose root its agency anchored: anchor facts, signature (over the v2
    message, which names the agency), key window, suspension. A root anchored only by another
    agency is not this batch's anchor (front-running gains the copier nothing)."""
    if agency is None:
        return []
    anchor = snapshot.state.anchors.get((agency, batch.root))
    if anchor is None or anchor.agency is None:
        return []
    subject = f"batch #{batch.id} root {to_hex(batch.root)}"
    findings: list[Finding] = []
    differences = []
    if batch.leaf_count != anchor.leaf_count:
        differences.append(
            f"leaf count on chain {anchor.leaf_count}, in the store {batch.leaf_count}"
        )
    if batch.state == BatchState.FAILED:
        differences.append("the store marks it failed, yet the root is anchored")
    if batch.state == BatchState.CONFIRMED:
        if batch.anchored_at != anchor.anchored_at:
            claimed = "none" if batch.anchored_at is None else _iso(batch.anchored_at)
            differences.append(f"anchored at {_iso(anchor.anchored_at)}, the store says {claimed}")
        if batch.block_number != anchor.block_number:
            differences.append(
                f"anchored in block {anchor.block_number}, the store says {batch.block_number}"
            )
    if differences:
        findings.append(Finding(FindingKind.ANCHOR_MISMATCH, subject, "; ".join(differences)))
    if not keys.verify_root_signature(
        batch.public_key,
        batch.signature,
        chain_id=snapshot.chain_id,
        registry=snapshot.address,
        agency=agency,
        root=batch.root,
    ):
        findings.append(
            Finding(
                FindingKind.SIGNATURE_INVALID,
                subject,
                f"the stored signature is not key {to_hex(batch.public_key)}'s signature over "
                f"this root for agency {agency} on chain {snapshot.chain_id} registry "
                f"{snapshot.address}",
            )
        )
    findings.extend(_key_findings(snapshot, subject, batch.public_key, anchor))
    if batch.anchored_at is not None:
        start, end = _suspended_at(snapshot, agency, batch.anchored_at)
        if start:
            until = "still suspended" if end is None else f"reinstated {_iso(end)}"
            findings.append(
                Finding(
                    FindingKind.ANCHORED_WHILE_SUSPENDED,
                    subject,
                    f"the store says anchored at {_iso(batch.anchored_at)}, while {agency} "
                    f"was suspended (since {_iso(start)}, {until})",
                )
            )
    return findings


def _key_findings(
    snapshot: ChainSnapshot, subject: str, public_key: bytes, anchor: AnchorInfo
) -> list[Finding]:
    """The signing key must be a confirmed key of the anchoring agency, valid at the anchor's
    block time (a key only proposed, or another agency's, is not)."""
    agency = anchor.agency
    if agency is None:
        return []
    name = snapshot.agency_name(agency)
    window = snapshot.state.keys.get((agency, bytes(public_key)))
    if window is None:
        owners = sorted(str(a) for a, k in snapshot.state.keys if k == bytes(public_key))
        pending = snapshot.state.pending_keys.get(agency) == bytes(public_key)
        owner = (
            "a key it proposed and the authority has not confirmed"
            if pending
            else f"a key of {', '.join(owners)}"
            if owners
            else "no agency's key"
        )
        return [
            Finding(
                FindingKind.KEY_NOT_OF_AGENCY,
                subject,
                f"signed with key {to_hex(public_key)}, {owner}, not a key of {name} "
                f"({agency}) that anchored the root",
            )
        ]
    if not window.valid_at(anchor.anchored_at):
        until = _iso(window.valid_until) if window.valid_until else "now"
        return [
            Finding(
                FindingKind.KEY_OUTSIDE_WINDOW,
                subject,
                f"signed with {name}'s key {to_hex(public_key)}, valid "
                f"{_iso(window.valid_from)} to {until}, but anchored at "
                f"{_iso(anchor.anchored_at)}",
            )
        ]
    return []


def _unbatched_records(session: Session) -> list[Finding]:
    """Records that claim to be batched, anchored or revoked but belong to no batch."""
    stmt = (
        select(_rec.id, _rec.status)
        .where(_rec.batch_id.is_(None), _rec.status != "pending")
        .limit(MAX_LISTED)
    )
    return [
        Finding(
            FindingKind.MISPLACED_RECORD,
            f"record #{rid}",
            f"status {status} but in no batch: no receipt can prove it",
        )
        for rid, status in session.execute(stmt)
    ]


def _check_roots(
    snapshot: ChainSnapshot,
    by_root: dict[tuple[Address | None, bytes], _BatchRow],
    served_agencies: Iterable[Address],
) -> list[Finding]:
    """Every root an agency of the store anchored has its batch of that agency in the store
    (void anchors are reported once, as such); every confirmed batch's root is on chain under
    its agency. Other agencies' anchors are theirs and their operators' business."""
    findings = []
    state = snapshot.state
    served = {agency for agency, _ in by_root} | set(served_agencies)
    for (agency, root), anchor in state.anchors.items():
        if agency not in served:
            continue  # another operator's agency (or one copying a root: its own namespace)
        if (agency, root) in by_root or (agency, root) in snapshot.void_anchors:
            continue
        tx, block = state.anchor_tx.get((agency, root), (b"", 0))
        findings.append(
            Finding(
                FindingKind.ROOT_NOT_IN_STORE,
                f"root {to_hex(root)} by {agency}",
                f"anchored by {snapshot.agency_name(agency)} ({agency}, {anchor.leaf_count} "
                f"records) in block {block}, tx {to_hex(tx)}, at {_iso(anchor.anchored_at)}; "
                "the store has no batch of that agency with this root",
            )
        )
    for (batch_agency, root), batch in by_root.items():
        if batch.state != BatchState.CONFIRMED or (batch_agency, root) in state.anchors:
            continue
        if batch.block_number is not None and batch.block_number > snapshot.to_block:
            continue  # confirmed after the audit read the chain
        others = sorted(str(a) for a, r in state.anchors if r == root)
        also = f"; the root is anchored by {', '.join(others)} instead" if others else ""
        findings.append(
            Finding(
                FindingKind.ROOT_NOT_ON_CHAIN,
                f"batch #{batch.id} root {to_hex(root)}",
                f"the store says confirmed in block {batch.block_number}, but no Anchored "
                f"event of {batch_agency} up to block {snapshot.to_block} has this root{also}",
            )
        )
    return findings


def _replacement_text(value: bytes | None) -> str:
    return "none" if value is None or value == ZERO32 else to_hex(value)


def _check_revocations(
    snapshot: ChainSnapshot,
    revocations: Iterable[Revocation],
    address_of: dict[int, Address],
) -> list[Finding]:
    """Revocations on chain and in the store agree, the agencies' own and the authority's
    apart: same (agency, hash), reason, replacement. Void ones (an agency's inside one of its
    compromise windows) are reported once, as such; other agencies' are not this store's."""
    findings = []
    in_store: set[tuple[Address, bytes, bool]] = set()
    on_chain_all: dict[tuple[Address, bytes, bool], RevocationInfo] = {
        (agency, hash_, False): info
        for (agency, hash_), info in snapshot.agency_revocations.items()
    }
    on_chain_all.update(
        ((agency, hash_, True), info)
        for (agency, hash_), info in snapshot.state.revocations.items()
        if info.by_authority
    )
    for rev in revocations:
        agency = address_of.get(rev.agency_id)
        if agency is None:
            continue
        by_authority = bool(getattr(rev, "by_authority", False))
        key = (agency, bytes(rev.hash), by_authority)
        in_store.add(key)
        who = "the authority" if by_authority else agency
        subject = f"revocation {to_hex(bytes(rev.hash))} by {who}"
        on_chain = on_chain_all.get(key)
        if on_chain is None:
            late = rev.block_number is not None and rev.block_number > snapshot.to_block
            if rev.state == RevocationState.CONFIRMED and not late:
                event = "RevokedByAuthority" if by_authority else "Revoked"
                findings.append(
                    Finding(
                        FindingKind.REVOCATION_MISSING_ON_CHAIN,
                        subject,
                        f"the store says confirmed (reason {rev.reason}), but no {event} event "
                        "has it: verifiers still see the record as valid",
                    )
                )
            continue
        replacement = bytes(rev.replacement) if rev.replacement is not None else ZERO32
        differences = []
        if on_chain.reason != rev.reason:
            differences.append(f"reason on chain {on_chain.reason}, in the store {rev.reason}")
        if on_chain.replacement != replacement:
            differences.append(
                f"replacement on chain {_replacement_text(on_chain.replacement)}, in the store "
                f"{_replacement_text(replacement)}"
            )
        if differences:
            findings.append(
                Finding(FindingKind.REVOCATION_MISMATCH, subject, "; ".join(differences))
            )
    served = set(address_of.values())
    for (agency, hash_, by_authority), info in on_chain_all.items():
        if agency not in served or (agency, hash_, by_authority) in in_store:
            continue
        if not by_authority and (agency, hash_) in snapshot.void_revocations:
            continue
        who = "the authority" if by_authority else agency
        findings.append(
            Finding(
                FindingKind.REVOCATION_MISSING_IN_STORE,
                f"revocation {to_hex(hash_)} by {who}",
                f"revoked on chain at {_iso(info.revoked_at)} (reason {info.reason}, "
                f"replacement {_replacement_text(info.replacement)}"
                f"{', of ' + str(agency) + ' records' if by_authority else ''}); the store has "
                "no such revocation",
            )
        )
    return findings


def _check_replacements(
    session: Session, snapshot: ChainSnapshot, address_of: dict[int, Address]
) -> list[Finding]:
    """Every replacement named on chain (a supersession that is not void) is a record of the
    same agency in the store: anything else sends citizens to a record that does not exist or
    is another agency's."""
    id_of = {address: agency_id for agency_id, address in address_of.items()}
    findings = []
    for (agency, hash_), info in snapshot.agency_revocations.items():
        if not any(info.replacement) or (agency, hash_) in snapshot.void_revocations:
            continue
        if agency not in id_of:
            continue  # not an agency this store serves
        owners = {
            int(a)
            for (a,) in session.execute(
                select(_rec.agency_id).where(_rec.digest == info.replacement)
            )
        }
        if id_of[agency] in owners:
            continue
        where = (
            "the store holds it only as another agency's record"
            if owners
            else "the store holds no record with that digest"
        )
        findings.append(
            Finding(
                FindingKind.REPLACEMENT_NOT_AGENCY_RECORD,
                f"revocation {to_hex(hash_)} by {agency}",
                f"superseded at {_iso(info.revoked_at)} naming {to_hex(info.replacement)} as "
                f"the replacement, which is not a record of {snapshot.agency_name(agency)}: "
                f"{where}",
            )
        )
    return findings


_STATUS_NAMES = {
    AgencyStatus.ACTIVE: "active",
    AgencyStatus.SUSPENDED: "suspended",
    AgencyStatus.COMPROMISED: "compromised",
    AgencyStatus.NONE: "none",
}


def _check_agencies(snapshot: ChainSnapshot, agencies: Iterable[Agency]) -> list[Finding]:
    """Each agency of the store is registered on chain with the same key and status."""
    findings = []
    for agency in agencies:
        identity = snapshot.agency_identity(agency.address)
        subject = f"agency {agency.name} ({checksum(agency.address)})"
        info = snapshot.state.agencies.get(identity) if identity else None
        if info is None:
            findings.append(
                Finding(FindingKind.AGENCY_MISMATCH, subject, "not registered on chain")
            )
            continue
        differences = []
        if info.signing_key != agency.signing_key:
            differences.append(
                f"current key on chain {to_hex(info.signing_key)}, in the store "
                f"{agency.signing_public_key}"
            )
        account = getattr(agency, "account", None)
        if account and info.account is not None and checksum(account) != info.account:
            differences.append(
                f"transaction account on chain {info.account}, in the store {checksum(account)}"
            )
        chain_status = _STATUS_NAMES[info.status]
        if chain_status != agency.status:
            differences.append(f"{chain_status} on chain, {agency.status} in the store")
        if differences:
            findings.append(Finding(FindingKind.AGENCY_MISMATCH, subject, "; ".join(differences)))
    return findings


# ---------------------------------------------------------------- receipts and documents


@dataclass
class _SnapshotReader(ChainReader):
    """A ChainReader that answers from the rebuilt state instead of view calls: one snapshot
    of the chain for the whole audit, and no request per receipt against a rate-limited node.
    Its `check` is the contract's `check(agency, leaf, proof, root)` computed from the mirror
    (compromise windows and void revocations included)."""

    snapshot: RegistryState = field(default_factory=RegistryState)

    def check(self, receipt: Receipt) -> CheckResult:
        root = receipt.merkle.root
        included = process_proof(receipt.leaf, list(receipt.merkle.proof)) == root
        return self.snapshot.check(
            agency=receipt.anchor.agency, leaf=receipt.leaf, root=root, included=included
        )

    def key_window(self, chain_id: int, address: str, agency: str, public_key: bytes) -> KeyWindow:
        return self.snapshot.keys.get(
            (checksum(agency), bytes(public_key)),
            KeyWindow(agency=None, valid_from=0, valid_until=0),
        )

    def agency_name(self, chain_id: int, address: str, agency: str) -> str:
        info = self.snapshot.agencies.get(checksum(agency))
        return info.name if info else agency


def _no_live_reads(chain_id: int, address: str) -> RegistryContract:
    raise AssertionError("the audit answers from its snapshot, never from live views")


@dataclass(frozen=True)
class FolderItem:
    """One thing to verify from a folder: a document and/or its receipt, or a problem."""

    name: str
    document: Path | None
    receipt: Path | None
    problem: str | None = None


def _json_type(path: Path) -> str | None:
    """The `type` of a small JSON file of ours ("RecordReceipt", "SealedRecord"), else None."""
    try:
        if path.stat().st_size > 16 * 1024 * 1024:
            return None
        raw = path.read_bytes().lstrip()
        if not raw.startswith(b"{"):
            return None
        value = json.loads(raw)
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    kind = value.get("type") if isinstance(value, dict) else None
    return kind if isinstance(kind, str) else None


def _files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise InvalidInput(f"{folder}: not a folder")
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))


def collect_folder(folder: Path, *, receipts_only: bool = False) -> list[FolderItem]:
    """What to verify in `folder` (recursively): every `*.sealed.json` or other sealed
    document; every file with its `NAME.receipt.json` (NAME = the file's full name or its stem);
    every receipt with no document. With `receipts_only`, every .json file must be a receipt
    (or a sealed document) and other files are ignored."""
    files = _files(folder)
    items: list[FolderItem] = []
    receipts = {p for p in files if p.name.endswith(".receipt.json")}
    if receipts_only:
        for path in files:
            if path.suffix != ".json":
                continue
            kind = _json_type(path)
            if kind == "SealedRecord":
                items.append(FolderItem(_rel(folder, path), path, None))
            elif kind == "RecordReceipt":
                items.append(FolderItem(_rel(folder, path), None, path))
            else:
                items.append(
                    FolderItem(_rel(folder, path), None, path, "not a RecordReceipt JSON file")
                )
        return items
    used: set[Path] = set()
    for path in files:
        if path in receipts:
            continue
        if path.suffix == ".json" and _json_type(path) == "SealedRecord":
            pair = _pair(path, receipts)
            items.append(FolderItem(_rel(folder, path), path, pair))
            if pair:
                used.add(pair)
            continue
        if path.suffix == ".json" and _json_type(path) == "RecordReceipt":
            items.append(FolderItem(_rel(folder, path), None, path))
            continue
        pair = _pair(path, receipts)
        if pair is None:
            items.append(
                FolderItem(
                    _rel(folder, path),
                    path,
                    None,
                    f"no receipt next to it ({path.name}.receipt.json or {path.stem}.receipt.json)",
                )
            )
        else:
            used.add(pair)
            items.append(FolderItem(_rel(folder, path), path, pair))
    for path in sorted(receipts - used):
        items.append(FolderItem(_rel(folder, path), None, path))
    return items


def _rel(folder: Path, path: Path) -> str:
    return str(path.relative_to(folder))


def _pair(path: Path, receipts: set[Path]) -> Path | None:
    for name in (f"{path.name}.receipt.json", f"{path.stem}.receipt.json"):
        candidate = path.with_name(name)
        if candidate in receipts:
            return candidate
    return None


def _read(path: Path, limit: int | None = None) -> bytes:
    try:
        with path.open("rb") as f:
            return f.read() if limit is None else f.read(limit + 1)
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read ({exc.strerror})") from exc


@dataclass(frozen=True)
class ItemResult:
    """One folder item's verification: its outcome, or the finding that stopped it."""

    item: FolderItem
    verification: Verification | None
    finding: Finding | None


def verify_item(
    item: FolderItem,
    *,
    trusted: TrustedRegistry,
    reader: ChainReader,
    state: RegistryState | None = None,
) -> ItemResult:
    """Verify one folder item; name the first problem as a finding (None if VALID, REVOKED or
    SUPERSEDED: a revocation is the registry working, not a fault). `state`, when given,
    lets a key failure be named precisely (outside its window, or not the agency's)."""
    if item.problem is not None:
        kind = FindingKind.RECEIPT_MISSING if item.receipt is None else FindingKind.RECEIPT_INVALID
        return ItemResult(item, None, Finding(kind, item.name, item.problem))
    try:
        document = _read(item.document) if item.document else None
        receipt = _read(item.receipt, MAX_RECEIPT_BYTES) if item.receipt else None
        given = verification_input(document, receipt=receipt, where=item.name)
    except InvalidInput as exc:
        return ItemResult(item, None, Finding(FindingKind.RECEIPT_INVALID, item.name, str(exc)))
    result = verify_receipt(
        given.receipt,
        trusted=[trusted],
        reader=reader,
        digest=given.digest,
        digest_kind=given.digest_kind,
    )
    return ItemResult(item, result, _finding_of(item.name, given.receipt, result, trusted, state))


_NOT_A_FAULT = (Outcome.VALID, Outcome.IN_FORCE, Outcome.REVOKED, Outcome.SUPERSEDED, Outcome.ERROR)
"""Outcomes that are no finding: a receipt alone in force, a revocation (the registry working),
an outage (never evidence)."""


def _finding_of(
    name: str,
    receipt: Receipt | dict[str, Any],
    result: Verification,
    trusted: TrustedRegistry,
    state: RegistryState | None,
) -> Finding | None:
    """The finding a verification amounts to, named after the first check that failed."""
    if result.outcome in _NOT_A_FAULT:
        return None
    checks = {c.name: c for c in result.checks}

    def failed(check: str) -> str | None:
        c = checks.get(check)
        return c.reason if c is not None and c.status is CheckStatus.FAIL else None

    if (reason := failed(CheckName.INTEGRITY)) is not None:
        return Finding(FindingKind.TAMPERED_DOCUMENT, name, reason)
    if (reason := failed(CheckName.FORMAT)) is not None:
        return Finding(FindingKind.RECEIPT_INVALID, name, reason)
    if failed(CheckName.TRUST) is not None:
        parsed = receipt if isinstance(receipt, Receipt) else parse_receipt(receipt)
        a = parsed.anchor
        proof_ok = failed(CheckName.INCLUSION) is None and failed(CheckName.SIGNATURE) is None
        return Finding(
            FindingKind.FORGED_RECEIPT,
            name,
            f"names registry {a.registry} on chain {a.chain_id}, not the audited registry "
            f"{trusted.address} on chain {trusted.chain_id}"
            + ("; its proof and signature are valid" if proof_ok else ""),
        )
    if (reason := failed(CheckName.INCLUSION)) is not None:
        return Finding(FindingKind.RECEIPT_INVALID, name, reason)
    if result.outcome is Outcome.UNKNOWN:
        reason = failed(CheckName.ANCHORED) or "root not anchored"
        return Finding(FindingKind.RECEIPT_INVALID, name, f"UNKNOWN: {reason}")
    if (reason := failed(CheckName.SIGNATURE)) is not None:
        return Finding(FindingKind.SIGNATURE_INVALID, name, reason)
    agency_check = checks.get(CheckName.AGENCY)
    if agency_check is not None and agency_check.details.get("void"):
        return Finding(FindingKind.ANCHOR_IN_COMPROMISE_WINDOW, name, agency_check.reason)
    if (reason := failed(CheckName.KEY)) is not None:
        kind = FindingKind.KEY_NOT_OF_AGENCY
        if state is not None:
            parsed = receipt if isinstance(receipt, Receipt) else parse_receipt(receipt)
            if (parsed.anchor.agency, parsed.signature.public_key) in state.keys:
                kind = FindingKind.KEY_OUTSIDE_WINDOW
        elif "not at the anchor time" in reason:
            kind = FindingKind.KEY_OUTSIDE_WINDOW
        return Finding(kind, name, reason)
    bad = [c for c in result.checks if c.status is CheckStatus.FAIL]
    reason = "; ".join(c.reason for c in bad) or str(result.outcome)
    return Finding(FindingKind.RECEIPT_INVALID, name, f"{result.outcome}: {reason}")


def audit_receipts(
    snapshot: ChainSnapshot,
    items: Sequence[FolderItem],
    *,
    store: Store | None = None,
    progress: Progress | None = None,
) -> tuple[list[Finding], dict[str, int]]:
    """Verify every folder item against the snapshot; with a store, also check that each
    receipt's record is in the store at the receipt's leaf index."""
    trusted = TrustedRegistry(snapshot.chain_id, snapshot.address)
    reader = _SnapshotReader(registry_for=_no_live_reads, snapshot=snapshot.state)
    findings: list[Finding] = []
    outcomes: Counter[str] = Counter()
    held: list[tuple[str, Receipt]] = []
    for n, item in enumerate(items, 1):
        result = verify_item(item, trusted=trusted, reader=reader, state=snapshot.state)
        if result.finding is not None:
            findings.append(result.finding)
        if result.verification is not None:
            outcomes[str(result.verification.outcome)] += 1
            if result.finding is None and store is not None:
                held.append((item.name, _receipt_of(item)))
        if progress is not None:
            progress("files", n, len(items))
    if store is not None and held:
        findings.extend(_receipts_in_store(store, held))
    counts = {
        "files_checked": len(items),
        "files_valid": outcomes[Outcome.VALID],
        "files_in_force": outcomes[Outcome.IN_FORCE],
        "files_revoked": outcomes[Outcome.REVOKED] + outcomes[Outcome.SUPERSEDED],
    }
    return findings, counts


def _receipt_of(item: FolderItem) -> Receipt:
    """The receipt an item verified with (its own file, else the one inside the document)."""
    raw = _read(item.receipt) if item.receipt else None
    given = verification_input(_read(item.document) if item.document else None, receipt=raw)
    r = given.receipt
    return r if isinstance(r, Receipt) else parse_receipt(r)


def _receipts_in_store(store: Store, held: list[tuple[str, Receipt]]) -> list[Finding]:
    """A receipt a holder has proves a record of its agency in its batch: the operator's store
    must hold that record (same digest and kind) in that agency's batch with that root."""
    findings = []
    with store.session() as session:
        batches: dict[tuple[Address, bytes], int] = {}
        stmt = (
            select(Batch.id, Batch.root, Agency.address)
            .join(Agency, Agency.id == Batch.agency_id)
            .where(Batch.root.in_({r.merkle.root for _, r in held}))
        )
        for bid, root, address in session.execute(stmt):
            batches[(checksum(address), bytes(root))] = int(bid)
        for name, receipt in held:
            batch_id = batches.get((receipt.anchor.agency, receipt.merkle.root))
            if batch_id is None:
                continue  # reported as root_not_in_store
            row = session.execute(
                select(_rec.id, _rec.digest_kind).where(
                    _rec.batch_id == batch_id, _rec.digest == receipt.digest
                )
            ).first()
            where = f"batch #{batch_id}"
            if row is None:
                findings.append(
                    Finding(
                        FindingKind.MISSING_RECORD,
                        f"record {to_hex(receipt.digest)}",
                        f"{name} proves it is a record of {where}; the store has no such "
                        "record there",
                    )
                )
            elif str(row[1]) != receipt.digest_kind:
                findings.append(
                    Finding(
                        FindingKind.TAMPERED_RECORD,
                        f"record #{row[0]}",
                        f"{name} proves a {receipt.digest_kind} digest in {where}; the store "
                        f"holds it as a {row[1]}",
                    )
                )
    return findings


# ---------------------------------------------------------------- the whole audit


def audit_registry(
    registry: RegistryContract,
    *,
    store: Store | None = None,
    receipts_dir: Path | None = None,
    documents_dir: Path | None = None,
    from_block: int = 0,
    to_block: int | None = None,
    log_span: int = 5_000,
    retries: int = 4,
    backoff: float = 0.5,
    progress: Progress | None = None,
) -> AuditReport:
    """Audit `registry` from its event log, and optionally the operator's store and folders
    of receipts and documents. An outage gives a COULD_NOT_CHECK report, never findings."""
    started = time.perf_counter()
    items: list[FolderItem] = []
    if receipts_dir is not None:
        items += collect_folder(receipts_dir, receipts_only=True)
    if documents_dir is not None:
        items += collect_folder(documents_dir)
    try:
        snapshot = read_registry(
            registry,
            from_block=from_block,
            to_block=to_block,
            span=log_span,
            retries=retries,
            backoff=backoff,
            progress=progress,
        )
        findings = list(snapshot.findings)
        summary = _chain_summary(snapshot)
        if store is not None:
            with _store_errors(store):
                store_findings, counts = audit_store(snapshot, store, progress=progress)
            findings += store_findings
            summary.update(counts)
        if items:
            with _store_errors(store):
                file_findings, counts = audit_receipts(
                    snapshot, items, store=store, progress=progress
                )
            findings += file_findings
            summary.update(counts)
    except (ChainUnavailable, StoreUnavailable) as exc:
        report = could_not_check(
            str(exc), registry=registry.address, chain_id=registry.chain_id, from_block=from_block
        )
        return _with_time(report, started)
    unique = sorted(set(findings), key=lambda f: (list(FindingKind).index(f.kind), f.subject))
    summary["findings"] = len(unique)
    return AuditReport(
        outcome=AuditOutcome.FINDINGS if unique else AuditOutcome.CLEAN,
        registry=snapshot.address,
        chain_id=snapshot.chain_id,
        from_block=snapshot.from_block,
        to_block=snapshot.to_block,
        summary=summary,
        findings=tuple(unique),
        seconds=time.perf_counter() - started,
    )


def _with_time(report: AuditReport, started: float) -> AuditReport:
    return AuditReport(
        outcome=report.outcome,
        registry=report.registry,
        chain_id=report.chain_id,
        from_block=report.from_block,
        to_block=report.to_block,
        summary=report.summary,
        findings=report.findings,
        seconds=time.perf_counter() - started,
        error=report.error,
    )


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


def checksum(address: str) -> Address:
    """An address in EIP-55 form, or InvalidInput naming it."""
    if not Web3.is_address(address):
        raise InvalidInput(f"{address!r}: not a 20-byte hex address")
    return Address(Web3.to_checksum_address(address))
