"""What the verifier was given, classified: a sealed document (its receipt inside), a receipt
alone, or an opaque file (PDF, image) with its receipt alongside. The one reading of a
verification's input, for the CLI, the API and the auditor; a sealed document or receipt that
breaks a reading rule is carried as a format error (its verdict is TAMPERED), never raised."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from registry.errors import InvalidInput
from registry.receipt import DigestKind, Receipt
from registry.record import (
    MAX_DOCUMENT_BYTES,
    bytes_digest,
    document_digest,
    load_json_strict,
    parse_sealed_document,
)
from registry.types import to_hex

__all__ = ["VerificationInput", "verification_input"]


@dataclass(frozen=True)
class VerificationInput:
    """What to verify: a receipt and, when a document is in hand, its recomputed digest and
    what it was recomputed from ("file" bytes or a sealed "record")."""

    kind: str  # "file", "sealed-document" or "receipt"
    receipt: Receipt | dict[str, Any]
    digest: bytes | None
    digest_kind: DigestKind | None = None
    format_error: str | None = None
    """Set when a sealed document or receipt (identified by its `type`) breaks a reading
    rule: the verdict is TAMPERED with the format check naming the field (docs/receipt.md
    section 1), the same in CLI and API."""
    format_field: str | None = None
    """The field `format_error` names (None: the input as a whole)."""


_OUR_TYPES = ("SealedRecord", "RecordReceipt")


def _typed_json(raw: bytes, *, where: str) -> dict[str, Any] | None:
    """`raw` as a JSON object if it is one of ours (a `type` we know), else None: a file.

    Anything that looks like one of ours is read as strictly as the issuer writes it
    (duplicate keys, number spellings, depth): a reader that kept the first of two `name`
    keys would show what the digest never covered."""
    head = raw[:4096].lstrip()
    if not head.startswith(b"{") or not any(f'"{t}"'.encode() in raw for t in _OUR_TYPES):
        return None
    value = load_json_strict(raw, where=where, max_bytes=MAX_DOCUMENT_BYTES)
    if isinstance(value, dict) and value.get("type") in _OUR_TYPES:
        return value
    return None


def verification_input(
    document: bytes | None, *, receipt: bytes | None = None, where: str = "document"
) -> VerificationInput:
    """Classify what the verifier was given: a sealed document (receipt inside), a receipt
    alone, or an opaque file (PDF, image) with its receipt alongside."""
    receipt_obj: dict[str, Any] | None = None
    if document is None and receipt is None:
        raise InvalidInput("nothing to verify: give a document, a receipt, or both")
    if receipt is not None:
        try:
            receipt_obj = _typed_json(receipt, where="receipt")
        except InvalidInput as exc:
            return VerificationInput(
                "receipt", {}, None, format_error=str(exc), format_field=exc.field
            )
        if receipt_obj is None or receipt_obj.get("type") != "RecordReceipt":
            raise InvalidInput("--receipt: not a RecordReceipt JSON document")
    if document is None:
        assert receipt_obj is not None
        return VerificationInput("receipt", receipt_obj, None)
    try:
        envelope = _typed_json(document, where=where)
    except InvalidInput as exc:
        return VerificationInput(
            "sealed-document", {}, None, format_error=str(exc), format_field=exc.field
        )
    if envelope is not None and envelope["type"] == "SealedRecord":
        try:
            doc = parse_sealed_document(envelope)
        except InvalidInput as exc:
            return VerificationInput(
                "sealed-document", {}, None, format_error=f"{where}: {exc}", format_field=where
            )
        chosen: Receipt | dict[str, Any] | None = receipt_obj or doc.receipt
        if chosen is None:
            raise InvalidInput(
                "the sealed document has no receipt yet; pass --receipt", field=where
            )
        recomputed = bytes(document_digest(doc))
        if recomputed != bytes(doc.digest):
            # The document's own statement of what it is disagrees with its contents.
            return VerificationInput(
                "sealed-document",
                chosen,
                recomputed,
                "record",
                format_error=(
                    f"{where}: digest: the stated digest {to_hex(bytes(doc.digest))} is not the "
                    f"digest of the disclosed data {to_hex(recomputed)}: the document was altered"
                ),
                format_field=where,
            )
        return VerificationInput("sealed-document", chosen, recomputed, "record")
    if envelope is not None and receipt_obj is None:
        return VerificationInput("receipt", envelope, None)
    if receipt_obj is None:
        raise InvalidInput("a file needs its receipt (--receipt RECEIPT.json)", field=where)
    return VerificationInput("file", receipt_obj, bytes_digest(document), "file")
