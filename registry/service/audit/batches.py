"""The store's batches against the chain: every batch's (kind, digest) leaves recompute to its
root (the tampered leaves pinpointed), every confirmed batch is anchored under its agency, and
every batch was signed by a key of its agency valid when the root was anchored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from registry import keys
from registry.chain import AnchorInfo
from registry.errors import RegistryError
from registry.merkle import KIND_FILE, KIND_RECORD, LEAF_KINDS, MerkleTree
from registry.record import document_digest, parse_sealed_document
from registry.service import documents
from registry.service.audit.findings import MAX_LISTED, Finding, FindingKind, _iso
from registry.service.audit.replay import ChainSnapshot, _suspended_at
from registry.store import repo
from registry.store.models import (
    Batch,
    BatchState,
)
from registry.types import Address, to_hex

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

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


_KIND_CODES = {"file": KIND_FILE, "record": KIND_RECORD}


def _batch_records(session: Session, batch_id: int) -> list[tuple[int, int | None, bytes, int]]:
    """(record id, leaf index, digest, leaf kind) of a batch in leaf order: one pass over its
    index. An unknown kind is 0, which no leaf has (the batch then cannot recompute)."""
    return [
        (i, idx, d, _KIND_CODES.get(k, 0))
        for i, idx, d, k in repo.batch_record_rows(session, batch_id)
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
    found = []
    for rid, idx, digest, document in repo.batch_stored_documents(session, batch.id):
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
