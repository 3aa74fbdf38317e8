"""Receipts and sealed documents in folders (`collect_folder`, `verify_item`,
`audit_receipts`), verified against the rebuilt registry only (no live read), the audited
registry being the only trusted one; and the receipts held checked against the store.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from registry.chain import KeyWindow, RegistryContract
from registry.chain.contract import CheckResult
from registry.chain.events import RegistryState
from registry.checks import CheckName, CheckStatus
from registry.errors import InvalidInput
from registry.merkle import process_proof
from registry.receipt import MAX_RECEIPT_BYTES, Receipt, parse_receipt
from registry.service.audit.findings import Finding, FindingKind, Progress, checksum
from registry.service.audit.replay import ChainSnapshot
from registry.service.verify import (
    ChainAnswer,
    ChainReader,
    Outcome,
    TrustedRegistry,
    Verification,
    verification_input,
    verify_receipt,
)
from registry.service.verify_input import type_of
from registry.store import Store, repo
from registry.types import Address, to_hex

# ---------------------------------------------------------------- receipts and documents


@dataclass
class _SnapshotReader(ChainReader):
    """A ChainReader that answers from the rebuilt state instead of view calls: one snapshot
    of the chain for the whole audit, and no request per receipt against a rate-limited node.
    Its `check` is the contract's `check(agency, leaf, proof, root)` computed from the mirror
    (compromise windows and void revocations included)."""

    snapshot: RegistryState = field(default_factory=RegistryState)

    def answer(self, receipt: Receipt) -> ChainAnswer:
        return ChainAnswer(self.check(receipt))  # key and name: from the snapshot below

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
    """The `type` of a JSON file of ours ("RecordReceipt", "SealedRecord"), else None: read by
    the verifier's one classifier (`verify_input.type_of`), so a file nested too deep to parse
    is a file, never a crash."""
    try:
        if path.stat().st_size > _JSON_FILE_BYTES:
            return None
        return type_of(path.read_bytes(), max_bytes=_JSON_FILE_BYTES)
    except OSError:
        return None


_JSON_FILE_BYTES = 16 * 1024 * 1024
"""Largest file of a receipts folder read as JSON of ours; a larger one is a document."""


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
        roots = {r.merkle.root for _, r in held}
        for bid, root, address in repo.batch_ids_by_root(session, roots):
            batches[(checksum(address), root)] = bid
        for name, receipt in held:
            batch_id = batches.get((receipt.anchor.agency, receipt.merkle.root))
            if batch_id is None:
                continue  # reported as root_not_in_store
            row = repo.record_in_batch(session, batch_id, receipt.digest)
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


def verify_folder(registry: RegistryContract, folder: Path) -> list[ItemResult]:
    """Every item of `folder` (`collect_folder`), verified live on the registry's node with
    the named checks of `registry verify`, `registry` being the only trusted one."""
    items = collect_folder(folder)
    trusted = TrustedRegistry(registry.chain_id, registry.address)
    reader = ChainReader(registry_for=lambda chain_id, address: registry)
    return [verify_item(item, trusted=trusted, reader=reader) for item in items]


def folder_exit_code(results: Sequence[ItemResult]) -> int:
    """1 if anything is definitely not valid (or in force, for a receipt alone), else 3 if
    anything could not be checked, else 0."""
    outcomes = [r.verification.outcome if r.verification else None for r in results]
    fine = (Outcome.VALID, Outcome.IN_FORCE, Outcome.ERROR)
    if any(o is None or o not in fine for o in outcomes):
        return 1
    return 3 if Outcome.ERROR in outcomes else 0
