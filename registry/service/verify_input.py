"""What the verifier was given, classified: a sealed document (its receipt inside), a W3C
Verifiable Credential of one (docs/credentials.md: the sealed document and its receipt inside,
plus the credential's own checks), a receipt alone, or an opaque file (PDF, image) with its
receipt alongside. The one reading of a verification's input, for the CLI, the API and the
auditor; a sealed document, credential or receipt that breaks a reading rule is carried as a
format error (its verdict is TAMPERED), never raised."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, BinaryIO

from registry.checks import Check
from registry.credential import (
    MAX_CREDENTIAL_BYTES,
    MAX_CREDENTIAL_DEPTH,
    VC_TYPE,
    is_credential,
    read_credential,
)
from registry.errors import InvalidInput
from registry.receipt import DigestKind, Receipt, parse_receipt
from registry.record import (
    MAX_DOCUMENT_BYTES,
    MAX_DOCUMENT_DEPTH,
    bytes_digest,
    document_digest,
    load_json_strict,
    nests_deeper_raw,
    parse_sealed_document,
)
from registry.types import to_hex

__all__ = [
    "CREDENTIAL_TYPE",
    "OA_TYPE",
    "RECEIPT_TYPE",
    "SEALED_TYPE",
    "VerificationInput",
    "json_request_input",
    "type_of",
    "upload_input",
    "verification_input",
]

RECEIPT_TYPE, SEALED_TYPE = "RecordReceipt", "SealedRecord"
CREDENTIAL_TYPE = VC_TYPE
"""What `type_of` answers for a W3C Verifiable Credential (its `type` names it)."""
OA_TYPE = "OpenAttestationV2"
"""What `type_of` answers for an OpenAttestation v2 wrapped document (no `type` of its own:
`signature.type` SHA3MerkleProof and a `data` object say what it is)."""
OA_KIND = "openattestation"


def looks_wrapped(value: Any) -> bool:
    """An OpenAttestation v2 wrapped document, by its shape alone (`verify_wrapped` then reads
    it strictly: a malformed one is TAMPERED, naming the field)."""
    return (
        isinstance(value, dict)
        and isinstance(value.get("signature"), dict)
        and value["signature"].get("type") == "SHA3MerkleProof"
        and "data" in value
    )


@dataclass(frozen=True)
class VerificationInput:
    """What to verify: a receipt and, when a document is in hand, its recomputed digest and
    what it was recomputed from ("file" bytes or a sealed "record")."""

    kind: str  # "file", "sealed-document", "credential", "receipt" or "openattestation"
    receipt: Receipt | dict[str, Any]
    digest: bytes | None
    digest_kind: DigestKind | None = None
    format_error: str | None = None
    """Set when a sealed document or receipt (identified by its `type`) breaks a reading
    rule: the verdict is TAMPERED with the format check naming the field (docs/receipt.md
    section 1), the same in CLI and API."""
    format_field: str | None = None
    """The field `format_error` names (None: the input as a whole)."""
    look_up: bool = False
    """No receipt was given (API inputs only; `receipt` is empty): the store's receipt for
    `digest`, if it has one, is verified."""
    extra_checks: tuple[Check, ...] = ()
    """A credential's own checks (registry.credential), decided offline and merged into the
    verdict; a failing one makes it TAMPERED."""
    issuer_name: str | None = None
    """The name a credential gives its issuer, held to the agency's name on the registry once
    the chain is read."""
    wrapped: dict[str, Any] | None = None
    """An OpenAttestation v2 wrapped document (kind "openattestation"), verified on its
    DocumentStore rather than through a receipt (registry/service/oa_verify.py)."""


_OUR_TYPES = (SEALED_TYPE, RECEIPT_TYPE)


def _typed_json(raw: bytes, *, where: str) -> dict[str, Any] | None:
    """`raw` as a JSON object if it is one of ours (a `type` we know, or a Verifiable
    Credential), else None: a file.

    Anything that looks like one of ours is read as strictly as the issuer writes it
    (duplicate keys, number spellings, depth): a reader that kept the first of two `name`
    keys would show what the digest never covered. A credential holds a sealed document and
    its data again, so it is read with its own, larger limits; anything else with the sealed
    document's."""
    head = raw[:4096].lstrip()
    credential = f'"{VC_TYPE}"'.encode() in raw
    wrapped = b'"SHA3MerkleProof"' in raw
    if not head.startswith(b"{") or not (
        credential or wrapped or any(f'"{t}"'.encode() in raw for t in _OUR_TYPES)
    ):
        return None
    if credential:
        value = load_json_strict(
            raw, where=where, max_bytes=MAX_CREDENTIAL_BYTES, max_depth=MAX_CREDENTIAL_DEPTH
        )
        if is_credential(value):
            assert isinstance(value, dict)
            return value
    # (Read again with the sealed document's limits when the larger ones were not its own.)
    value = load_json_strict(raw, where=where, max_bytes=MAX_DOCUMENT_BYTES)
    if isinstance(value, dict) and (value.get("type") in _OUR_TYPES or looks_wrapped(value)):
        return value
    return None


def _credential_input(value: dict[str, Any], where: str = "") -> VerificationInput:
    """A credential: the receipt and recomputed digest of the sealed document inside it (as a
    sealed document's), with the credential's own checks; a malformed one is a format error
    naming the field."""
    reading = read_credential(value)
    if reading.document is None or reading.document.receipt is None:
        field = reading.format_field
        error = reading.format_error or "the credential carries no sealed record"
        return VerificationInput(
            "credential",
            {},
            None,
            format_error=f"{where}: {error}" if where else error,
            format_field=field,
        )
    return VerificationInput(
        "credential",
        reading.document.receipt,
        bytes(document_digest(reading.document)),
        "record",
        extra_checks=reading.checks,
        issuer_name=reading.issuer_name,
    )


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
        kind = "credential" if f'"{VC_TYPE}"'.encode() in document else "sealed-document"
        return VerificationInput(kind, {}, None, format_error=str(exc), format_field=exc.field)
    if envelope is not None and looks_wrapped(envelope):
        if receipt_obj is not None:
            raise InvalidInput(
                "an OpenAttestation document is checked on its DocumentStore: verify it "
                "without --receipt",
                field="--receipt",
            )
        return VerificationInput(OA_KIND, {}, None, wrapped=envelope)
    if envelope is not None and is_credential(envelope):
        if receipt_obj is not None:
            raise InvalidInput(
                "a credential carries its receipt in its sealed record: verify it without "
                "--receipt",
                field="--receipt",
            )
        return _credential_input(envelope, where)
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


# ------------------------------------------------------------------ the API's inputs


def type_of(raw: bytes, *, max_bytes: int = MAX_DOCUMENT_BYTES) -> str | None:
    """RecordReceipt or SealedRecord when `raw` is JSON of one of our types, VerifiableCredential
    for a credential (within its own, larger limits), read leniently, only to classify it (the
    strict parsers read it again); else None: a file."""
    if len(raw) > max(max_bytes, MAX_CREDENTIAL_BYTES) or not raw.lstrip().startswith(b"{"):
        return None
    if nests_deeper_raw(raw, MAX_CREDENTIAL_DEPTH):
        return None  # json.loads would recurse once per level: never hand it such text
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    if is_credential(value):
        return CREDENTIAL_TYPE
    if looks_wrapped(value) and len(raw) <= max_bytes:
        return OA_TYPE
    if (
        isinstance(value, dict)
        and value.get("type") in _OUR_TYPES
        and len(raw) <= max_bytes
        and not nests_deeper_raw(raw, MAX_DOCUMENT_DEPTH)
    ):
        return str(value["type"])
    return None


def _not_a_request(raw: bytes) -> InvalidInput:
    """Why a body is not a verification request: not JSON, not an object, or an object of
    another `type`."""
    if nests_deeper_raw(raw, MAX_DOCUMENT_DEPTH):
        return InvalidInput(f"nested deeper than {MAX_DOCUMENT_DEPTH} levels", field="body")
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        return InvalidInput(f"malformed JSON: {exc}", field="body")
    if not isinstance(value, dict):
        return InvalidInput(f"expected a JSON object, got {type(value).__name__}", field="body")
    return InvalidInput(
        "not a verification request: expected 'RecordReceipt', 'SealedRecord', a "
        "VerifiableCredential or an OpenAttestation v2 wrapped document",
        field="body/type",
    )


def _malformed(kind: str, exc: InvalidInput, where: str = "") -> VerificationInput:
    """A sealed document or receipt that breaks a reading rule (TAMPERED, naming the field);
    inside a request part `where`, the field is named within it."""
    if not where:
        return VerificationInput(kind, {}, None, format_error=str(exc), format_field=exc.field)
    field = f"{where}/{exc.field}" if exc.field else where
    return VerificationInput(kind, {}, None, format_error=f"{where}/{exc}", format_field=field)


def _receipt_input(raw: bytes, digest: bytes | None) -> VerificationInput:
    try:
        receipt = parse_receipt(raw, where="")
    except InvalidInput as exc:
        return _malformed("receipt", exc)
    return VerificationInput("receipt", receipt, digest, "file" if digest else None)


def _sealed_input(raw: bytes, where: str, receipt: Receipt | None = None) -> VerificationInput:
    """A sealed document: `receipt` (given beside it) or its own, and its digest recomputed
    from its fields; with neither receipt, the digest is looked up."""
    try:
        document = parse_sealed_document(raw)
        digest = bytes(document_digest(document))
    except InvalidInput as exc:
        return _malformed("sealed-document", exc, where)
    chosen = receipt or document.receipt
    if chosen is None:
        return VerificationInput("sealed-document", {}, digest, "record", look_up=True)
    return VerificationInput("sealed-document", chosen, digest, "record")


def _credential_text_input(raw: bytes, where: str) -> VerificationInput:
    """A credential's text, read strictly (its own limits), then as `_credential_input`."""
    try:
        value = load_json_strict(
            raw, where="", max_bytes=MAX_CREDENTIAL_BYTES, max_depth=MAX_CREDENTIAL_DEPTH
        )
    except InvalidInput as exc:
        return _malformed("credential", exc, where)
    if not isinstance(value, dict):
        return _malformed("credential", InvalidInput("expected a JSON object"), where)
    return _credential_input(value, where)


def _wrapped_text_input(raw: bytes, where: str, digest: bytes | None) -> VerificationInput:
    """An OpenAttestation v2 wrapped document's text, read strictly."""
    if digest is not None:
        raise InvalidInput(
            "an OpenAttestation document's target hash is recomputed from its data",
            field="query.digest",
        )
    try:
        value = load_json_strict(raw, where="", max_bytes=MAX_DOCUMENT_BYTES)
    except InvalidInput as exc:
        return _malformed(OA_KIND, exc, where)
    assert isinstance(value, dict)
    return VerificationInput(OA_KIND, {}, None, wrapped=value)


def json_request_input(raw: bytes, *, digest: bytes | None = None) -> VerificationInput:
    """The body of `POST /v1/verify`: a receipt (with `digest`, the SHA-256 of the file in
    hand), a sealed document or a credential. InvalidInput (422) when it is not a verification
    request at all, or a sealed document or credential comes with a digest; a malformed one is
    a format error."""
    kind = type_of(raw)
    if kind is None:
        raise _not_a_request(raw)
    if kind == OA_TYPE:
        return _wrapped_text_input(raw, "", digest)
    if kind == CREDENTIAL_TYPE:
        if digest is not None:
            raise InvalidInput(
                "a credential's digest is recomputed from its sealed record", field="query.digest"
            )
        return _credential_text_input(raw, "")
    if kind == SEALED_TYPE:
        if digest is not None:
            raise InvalidInput(
                "a sealed document's digest is recomputed from its fields", field="query.digest"
            )
        return _sealed_input(raw, "")
    return _receipt_input(raw, digest)


def _read_part(part: BinaryIO, max_bytes: int) -> bytes | None:
    """A part's bytes, or None when it is larger than `max_bytes`."""
    part.seek(0)
    raw = part.read(max_bytes + 1)
    return raw if len(raw) <= max_bytes else None


def upload_input(
    document: BinaryIO, receipt: BinaryIO | None, *, max_json_bytes: int
) -> VerificationInput:
    """The parts of `POST /v1/verify/file` (read and hashed here: call it off the event loop):
    a file (its SHA-256, bound to the kind `file`) with or without its receipt, a sealed
    document, or a receipt alone. A part of at most `max_json_bytes` may be JSON of ours; a
    larger document is a file, a larger receipt is refused (InvalidInput)."""
    given: Receipt | None = None
    if receipt is not None:
        receipt_raw = _read_part(receipt, max_json_bytes)
        if receipt_raw is None or type_of(receipt_raw) != RECEIPT_TYPE:
            raise InvalidInput("not a RecordReceipt JSON document", field="receipt")
        try:
            given = parse_receipt(receipt_raw, where="receipt")
        except InvalidInput as exc:
            return _malformed("receipt", exc)
    hasher = hashlib.sha256()
    head = bytearray()
    document.seek(0)
    while chunk := document.read(1 << 20):
        hasher.update(chunk)
        if len(head) <= max_json_bytes:
            head += chunk
    raw = bytes(head) if len(head) <= max_json_bytes else b""
    kind = type_of(raw)
    if kind == OA_TYPE:
        if given is not None:
            raise InvalidInput(
                "an OpenAttestation document is checked on its DocumentStore: send it "
                "without a receipt",
                field="receipt",
            )
        return _wrapped_text_input(raw, "document", None)
    if kind == CREDENTIAL_TYPE:
        if given is not None:
            raise InvalidInput(
                "a credential carries its receipt in its sealed record: send it without one",
                field="receipt",
            )
        return _credential_text_input(raw, "document")
    if kind == SEALED_TYPE:
        return _sealed_input(raw, "document", given)
    if kind == RECEIPT_TYPE and given is None:
        try:
            alone = parse_receipt(raw, where="document")
        except InvalidInput as exc:
            return _malformed("receipt", exc)
        return VerificationInput("receipt", alone, None)
    if given is None:
        return VerificationInput("file", {}, hasher.digest(), "file", look_up=True)
    return VerificationInput("file", given, hasher.digest(), "file")
