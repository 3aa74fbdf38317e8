"""What `registry issue` reads and writes: the files, JSON records and JSON-lines files it is
given (`collect_inputs`, sealing each record as it goes), and the receipts and sealed documents
it writes back (`write_outputs`)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from registry import record
from registry.errors import InvalidInput, RegistryError
from registry.receipt import receipt_to_json

if TYPE_CHECKING:
    from registry.service.operator import Operator


@dataclass(frozen=True)
class IssueItem:
    """One thing to issue: a file's bytes, or a structured record (already sealed)."""

    source: str
    digest: bytes
    kind: str  # "file" | "record"
    sealed: record.SealedDocument | None = None


def collect_inputs(
    paths: Sequence[Path],
    *,
    seal: Callable[[dict[str, Any]], record.SealedDocument],
    max_record_bytes: int = 1 << 20,
    as_files: bool = False,
) -> Iterator[IssueItem]:
    """Expand what `registry issue` was given: files, JSON records (*.json holding an object),
    directories (recursively, sorted), JSON-lines files (*.jsonl, one record per line).
    `as_files`: every file is a file (its SHA-256 anchored), JSON or not."""
    for path in paths:
        if path.is_dir():
            children = sorted(p for p in path.rglob("*") if p.is_file())
            yield from collect_inputs(
                children, seal=seal, max_record_bytes=max_record_bytes, as_files=as_files
            )
            continue
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InvalidInput(f"{path}: cannot read ({exc.strerror})") from exc
        if as_files:
            yield IssueItem(str(path), bytes(record.bytes_digest(data)), "file")
        elif path.suffix == ".jsonl":
            for n, line in enumerate(data.splitlines(), start=1):
                if not line.strip():
                    continue
                try:
                    rec = record.parse_record_json(line, max_bytes=max_record_bytes)
                except RegistryError as exc:
                    raise InvalidInput(f"{path}:{n}: {exc}") from exc
                sealed = seal(rec)
                yield IssueItem(f"{path}:{n}", bytes(sealed.digest), "record", sealed)
        elif path.suffix == ".json" and data.lstrip().startswith(b"{"):
            try:
                rec = record.parse_record_json(data, max_bytes=max_record_bytes)
            except RegistryError as exc:
                raise InvalidInput(f"{path}: {exc}") from exc
            sealed = seal(rec)
            yield IssueItem(str(path), bytes(sealed.digest), "record", sealed)
        else:
            yield IssueItem(str(path), bytes(record.bytes_digest(data)), "file")


def sealed_json(item: IssueItem) -> str | None:
    """The sealed document to keep in the store (without receipt), compact JSON."""
    if item.sealed is None:
        return None
    return json.dumps(record.to_json(item.sealed), separators=(",", ":"))


def write_outputs(
    op: Operator,
    items: Sequence[IssueItem],
    out: Path,
    *,
    agency_id: int | None = None,
    data_key: bytes | None = None,
) -> list[Path]:
    """Write a receipt per file and a sealed document (with receipt) per record into `out`
    (the records of `agency_id`; None: the public lookup), decrypting the stored documents with
    the agency's `data_key` (the issuer holds it)."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    # A record of a JSON-lines file is named after its line, zero-padded to the width of the
    # file's last line number (at least 4: birth-0001 ... birth-0010), so names sort in order.
    widths: dict[str, int] = {}
    for item in items:
        path, _, line = item.source.rpartition(":") if item.kind == "record" else ("", "", "")
        if line.isdigit():
            widths[path] = max(widths.get(path, 4), len(line))
    for item in items:
        path, _, line = item.source.rpartition(":")
        if item.kind != "record" or not line.isdigit() or path not in widths:
            path, line = item.source, ""
        name = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(path).name)
        if item.kind == "file":
            target = out / f"{name}.receipt.json"
            payload: dict[str, Any] = receipt_to_json(
                op.receipt_for(item.digest, agency_id=agency_id)
            )
        else:
            stem = Path(name).stem + (f"-{int(line):0{widths[path]}d}" if line else "")
            target = out / f"{stem}.sealed.json"
            payload = op.sealed_document_for(item.digest, agency_id=agency_id, data_key=data_key)
        target.write_text(json.dumps(payload, indent=2) + "\n")
        written.append(target)
    return written
