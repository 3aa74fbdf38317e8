"""Export a registry, rebuilt from its event log alone, to CSV files for auditors (protocol v2):
`registry export --rpc URL --registry ADDR --out export/`.

Writes into the folder, one row per fact, every fact scoped to its agency:
anchors.csv (every anchored batch root, and whether a compromise window makes it void),
revocations.csv (every revocation, the agency's own and the registry authority's, with its
reason, replacement and whether it is void), agencies.csv (identity, current transaction
account, status), keys.csv (every signing key with its validity window, and keys proposed but
not confirmed), compromises.csv (every compromise window), status_history.csv (every status
change, never overwritten) and moves.csv (every move to a new transaction account).
Needs only a JSON-RPC node: not the operator's server or database.

The chain names a revoked record by its Merkle leaf (a hash of its kind and digest), never by
the record digest that receipts carry: revocations.csv has both columns, `digest` filled for
every leaf a receipt of `digests_from` (a folder of receipts and sealed documents) proves.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from registry.errors import InvalidInput
from registry.merkle import leaf_hash
from registry.receipt import MAX_RECEIPT_BYTES
from registry.service.audit.replay import ChainSnapshot, iter_event_rows
from registry.service.verify_input import verification_input
from registry.types import Address, to_hex
from registry.vocabulary import REASON_TEXT, AgencyStatus, Reason

STATUS = {status: status.label for status in AgencyStatus}


def iso(ts: int) -> str:
    return "" if ts == 0 else datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def reason_text(code: int) -> str:
    try:
        return REASON_TEXT[Reason(code)]
    except ValueError:
        return ""


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
    """Write one CSV file; returns the number of data rows."""
    count = 0
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for row in rows:
            writer.writerow(row)
            count += 1
    return count


def digests_of_leaves(folder: Path) -> dict[bytes, bytes]:
    """Leaf -> record digest for every receipt and sealed document under `folder` (files that
    are neither are skipped): what lets revocations be listed by the digest receipts carry."""
    from registry.merkle import KIND_FILE, KIND_RECORD

    if not folder.is_dir():
        raise InvalidInput(f"{folder}: not a folder", field="--receipts")
    found: dict[bytes, bytes] = {}
    for path in sorted(folder.rglob("*.json")):
        try:
            if path.stat().st_size > MAX_RECEIPT_BYTES * 16:
                continue
            raw = path.read_bytes()
            given = verification_input(raw, where=str(path))
        except (OSError, ValueError, InvalidInput):
            continue
        receipt: Any = given.receipt
        if receipt is None or given.format_error is not None:
            continue
        if isinstance(receipt, dict):
            try:
                digest = bytes.fromhex(str(receipt["digest"])[2:])
                kind = KIND_RECORD if receipt.get("digestKind") == "record" else KIND_FILE
            except (KeyError, ValueError):
                continue
        else:
            digest = bytes(receipt.digest)
            kind = KIND_RECORD if receipt.digest_kind == "record" else KIND_FILE
        if len(digest) == 32:
            found[bytes(leaf_hash(kind, digest))] = digest
    return found


def _revocation_rows(
    snapshot: ChainSnapshot, names: dict[Address, str], digests: dict[bytes, bytes]
) -> Iterator[list[object]]:
    """Revoked (the agency's own) and RevokedByAuthority events, in chain order."""
    for ev in snapshot.events:
        if ev.name not in ("Revoked", "RevokedByAuthority"):
            continue
        agency, hash_, root = (
            Address(ev.args["agency"]),
            bytes(ev.args["hash"]),
            bytes(ev.args["root"]),
        )
        by_authority = ev.name == "RevokedByAuthority"
        replacement = b"" if by_authority else bytes(ev.args["replacement"])
        void = "" if by_authority else iso(snapshot.void_revocations.get((agency, hash_), 0))
        yield [
            agency,
            names.get(agency, ""),
            to_hex(hash_),
            to_hex(digests[hash_]) if hash_ in digests else "",
            "batch" if hash_ == root else "record",
            to_hex(root),
            "authority" if by_authority else "agency",
            int(ev.args["reason"]),
            reason_text(int(ev.args["reason"])),
            to_hex(replacement) if any(replacement) else "",
            void,
            ev.block_number,
            to_hex(ev.tx_hash),
            iso(ev.timestamp),
        ]


def export_snapshot(
    snapshot: ChainSnapshot, out: Path, *, digests: dict[bytes, bytes] | None = None
) -> dict[str, int]:
    """Write the CSV files of `snapshot` into `out`; returns rows per file. `digests` (leaf ->
    record digest, `digests_of_leaves`) names revoked records by their digest."""
    if out.exists() and not out.is_dir():
        raise InvalidInput(f"{out}: exists and is not a folder", field="--out")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidInput(f"{out}: cannot create ({exc.strerror})", field="--out") from exc
    state = snapshot.state
    names = {address: info.name for address, info in state.agencies.items()}
    anchors = (
        (
            to_hex(bytes(ev.args["root"])),
            ev.args["agency"],
            names.get(ev.args["agency"], ""),
            int(ev.args["leafCount"]),
            ev.block_number,
            to_hex(ev.tx_hash),
            iso(ev.timestamp),
            ev.timestamp,
            iso(snapshot.void_anchors.get((ev.args["agency"], bytes(ev.args["root"])), 0)),
        )
        for ev in iter_event_rows(snapshot, "Anchored")
    )
    agencies = (
        (
            address,
            info.name,
            info.account or "",
            STATUS[info.status],
            to_hex(info.signing_key),
            iso(info.registered_at),
            iso(info.status_changed_at),
        )
        for address, info in state.agencies.items()
    )
    keys: list[tuple[object, ...]] = [
        (
            to_hex(key),
            agency,
            names.get(agency, ""),
            "confirmed",
            iso(window.valid_from),
            iso(window.valid_until) if window.valid_until else "current",
        )
        for (agency, key), window in state.keys.items()
    ]
    keys += [
        (to_hex(key), agency, names.get(agency, ""), "proposed", "", "")
        for agency, key in state.pending_keys.items()
    ]
    compromises = (
        (agency, names.get(agency, ""), iso(w.since), iso(w.until) if w.until else "open")
        for agency, windows in state.compromises.items()
        for w in windows
    )
    history = (
        (agency, names.get(agency, ""), STATUS[change.status], iso(change.at))
        for agency, changes in state.status_history.items()
        for change in changes
    )
    moves = (
        (agency, names.get(agency, ""), old, new, iso(at))
        for agency, old, new, at in snapshot.moves
    )
    files: list[tuple[str, Sequence[str], Iterable[Sequence[object]]]] = [
        (
            "anchors.csv",
            (
                "root",
                "agency",
                "agency_name",
                "leaf_count",
                "block_number",
                "tx_hash",
                "anchored_at",
                "anchored_at_unix",
                "void_since",
            ),
            anchors,
        ),
        (
            "revocations.csv",
            (
                "agency",
                "agency_name",
                "hash",
                "digest",
                "scope",
                "root",
                "by",
                "reason",
                "reason_text",
                "replacement",
                "void_since",
                "block_number",
                "tx_hash",
                "revoked_at",
            ),
            _revocation_rows(snapshot, names, digests or {}),
        ),
        (
            "agencies.csv",
            (
                "agency",
                "name",
                "account",
                "status",
                "signing_key",
                "registered_at",
                "status_changed_at",
            ),
            agencies,
        ),
        ("keys.csv", ("key", "agency", "agency_name", "state", "valid_from", "valid_until"), keys),
        ("compromises.csv", ("agency", "agency_name", "since", "until"), compromises),
        ("status_history.csv", ("agency", "agency_name", "status", "at"), history),
        ("moves.csv", ("agency", "agency_name", "old_account", "new_account", "at"), moves),
    ]
    try:
        return {name: write_csv(out / name, header, rows) for name, header, rows in files}
    except OSError as exc:
        raise InvalidInput(f"{out}: cannot write ({exc.strerror})", field="--out") from exc
