"""Verification, public and rate-limited per client: a receipt, a sealed document, a file (with
or without its receipt), or a digest. The answer is the same JSON as `registry verify --json`.

A node that cannot be reached is not evidence against a document: the answer is 200 with
outcome ERROR (the checks say what could not be checked), never INVALID and never a 5xx.

Malformed input, one rule (docs/api.md, "Verifying"): whatever parses as JSON with `type`
RecordReceipt or SealedRecord is a verification request, and a malformed one (a bad field,
a duplicate key anywhere, an unsupported version, a receipt whose leaf is not its digest's)
is answered 200 with outcome TAMPERED and the `format` check failing with the field named.
Only a body that is not a verification request at all (not JSON, not an object, another
`type`) is 422.

A receipt, or a digest, without the document in hand is at best IN_FORCE (the record exists
and is in force; no document was checked), never VALID. A digest is a document's only when
the client says it hashed the file in hand (`digestKind=file`, or the `digest` of
POST /v1/verify, which is defined as the SHA-256 of the file in hand).
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from api.bodies import (
    INLINE_BYTES,
    json_body_any_of,
    multipart_body,
    off_loop,
    read_body,
    read_form,
)
from api.deps import DigestPath, RuntimeDep, VerifyLimit, hex32
from api.errors import InvalidField, problem_responses
from api.runtime import ApiRuntime
from api.schemas import EXAMPLE_RECEIPT, EXAMPLE_SEALED, HEX32, VerificationPublic, example_of
from registry.errors import InvalidInput
from registry.receipt import MAX_RECEIPT_BYTES, DigestKind, Receipt, parse_receipt
from registry.record import (
    MAX_DOCUMENT_BYTES,
    MAX_DOCUMENT_DEPTH,
    document_digest,
    nests_deeper_raw,
    parse_sealed_document,
)
from registry.service.verify import (
    Outcome,
    Verification,
    malformed_verification,
    verify_digest,
    verify_receipt,
)

router = APIRouter(prefix="/v1/verify", tags=["verify"], dependencies=[VerifyLimit])

RECEIPT_TYPE, SEALED_TYPE = "RecordReceipt", "SealedRecord"

VERIFY_MAX_BODY_BYTES = MAX_DOCUMENT_BYTES + MAX_RECEIPT_BYTES
"""Largest body of POST /v1/verify: the largest sealed document (4 MiB) plus room for its
receipt. Lower than the server's general body limit: verification is public."""

VERIFY_MAX_JSON_PART_BYTES = VERIFY_MAX_BODY_BYTES
"""Largest part of POST /v1/verify/file read as JSON (a sealed document or a receipt); a
larger document is a file (hashed, never parsed), a larger receipt is refused."""


def _verified() -> dict[int | str, dict[str, Any]]:
    example = example_of(VerificationPublic)
    return {
        200: {
            "model": VerificationPublic,
            "description": "The verdict and every check (an outage is outcome ERROR, not a 5xx; "
            "a malformed receipt or sealed document is outcome TAMPERED, not a 4xx).",
            "content": {"application/json": {"example": example}},
        },
        **problem_responses(413, 422, 429),
    }


# ------------------------------------------------------------------ reading the input


def _type_of(raw: bytes) -> str | None:
    """RecordReceipt or SealedRecord when `raw` is JSON of one of our types (read leniently,
    only to classify it: the strict parsers read it again), else None."""
    if len(raw) > MAX_DOCUMENT_BYTES or not raw.lstrip().startswith(b"{"):
        return None
    if nests_deeper_raw(raw, MAX_DOCUMENT_DEPTH):
        return None  # json.loads would recurse once per level: never hand it such text
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    if isinstance(value, dict) and value.get("type") in (RECEIPT_TYPE, SEALED_TYPE):
        return str(value["type"])
    return None


def _not_a_request(raw: bytes) -> InvalidField:
    """Why a body is not a verification request (422): not JSON, not an object, or an object
    of another `type`."""
    if nests_deeper_raw(raw, MAX_DOCUMENT_DEPTH):
        return InvalidField("body", f"nested deeper than {MAX_DOCUMENT_DEPTH} levels")
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        return InvalidField("body", f"malformed JSON: {exc}")
    if not isinstance(value, dict):
        return InvalidField("body", f"expected a JSON object, got {type(value).__name__}")
    return InvalidField(
        "body/type", "not a verification request: expected 'RecordReceipt' or 'SealedRecord'"
    )


def _receipt(raw: bytes, where: str) -> Receipt | Verification:
    """The receipt, or the TAMPERED verdict naming the malformed field."""
    try:
        return parse_receipt(raw, where=where)
    except InvalidInput as exc:
        return malformed_verification(str(exc), field=exc.field)


def _sealed(raw: bytes, where: str) -> tuple[Receipt | None, bytes] | Verification:
    """The sealed document's receipt (None when it has none yet) and its digest recomputed from
    its fields, or the TAMPERED verdict naming the malformed field."""
    try:
        document = parse_sealed_document(raw)
        return document.receipt, bytes(document_digest(document))
    except InvalidInput as exc:
        if not where:
            return malformed_verification(str(exc), field=exc.field)
        field = f"{where}/{exc.field}" if exc.field else where
        return malformed_verification(f"{where}/{exc}", field=field)


# ------------------------------------------------------------------ answering


async def _run(
    runtime: ApiRuntime,
    receipt: Receipt,
    digest: bytes | None,
    digest_kind: DigestKind | None,
    *,
    key: tuple[bytes, bytes | None] | None = None,
    generation: int = -1,
) -> Response:
    """Verify; inline when every chain answer is cached (no I/O), else in a worker thread.
    With a cache `key`, the encoded answer is kept for identical requests (while valid)."""
    kwargs: dict[str, Any] = {
        "trusted": runtime.trusted,
        "reader": runtime.reader,
        "digest": digest,
        "digest_kind": digest_kind,
    }
    if runtime.reader.is_warm(receipt):
        result = verify_receipt(receipt, **kwargs)
    else:
        result = await run_in_threadpool(verify_receipt, receipt, **kwargs)
    encoded = _encode(result)
    if key is not None:
        runtime.verifications.put(
            key, generation=generation, receipt=receipt, encoded=encoded, outcome=result.outcome
        )
    return _answer(runtime, encoded, result.outcome)


def _encode(result: Verification) -> bytes:
    return json.dumps(result.to_json(), ensure_ascii=False, separators=(",", ":")).encode()


def _answer(runtime: ApiRuntime, encoded: bytes, outcome: str) -> Response:
    runtime.metrics.verifications.labels(outcome).inc()
    if outcome == Outcome.ERROR:
        runtime.metrics.chain_errors.labels("verify").inc()
    return Response(encoded, media_type="application/json")


def _verdict(runtime: ApiRuntime, result: Verification) -> Response:
    return _answer(runtime, _encode(result), result.outcome)


async def _by_digest(runtime: ApiRuntime, digest: bytes, kind: DigestKind | None) -> Response:
    result = await run_in_threadpool(
        verify_digest,
        runtime.operator.receipt_for,
        digest,
        digest_kind=kind,
        trusted=runtime.trusted,
        reader=runtime.reader,
    )
    return _verdict(runtime, result)


async def _verify_sealed(
    runtime: ApiRuntime,
    raw: bytes,
    where: str,
    *,
    receipt: Receipt | None = None,
    key: tuple[bytes, bytes | None] | None = None,
    generation: int = -1,
) -> Response:
    """A sealed document: its own receipt (or `receipt`, given beside it), else the store's
    receipt for its recomputed digest (UNKNOWN when there is none)."""
    read = await off_loop(len(raw), _sealed, raw, where)
    if isinstance(read, Verification):
        return _verdict(runtime, read)
    own, digest = read
    chosen = receipt or own
    if chosen is None:
        return await _by_digest(runtime, digest, "record")
    return await _run(runtime, chosen, digest, "record", key=key, generation=generation)


# ------------------------------------------------------------------ routes

DigestQuery = Annotated[
    str | None,
    Query(
        pattern=HEX32,
        description="With a receipt: the SHA-256 of the file in hand (computed by the client, "
        "e.g. in the browser), checked against the receipt as a file's digest. Without it the "
        "receipt alone is checked: at best IN_FORCE, never VALID.",
    ),
]

DigestKindQuery = Annotated[
    Literal["file"] | None,
    Query(
        alias="digestKind",
        description="`file`: the digest is the SHA-256 the client computed from the file in "
        "hand, so the answer can be VALID. Absent: a digest looked up (typed, from a link); "
        "no document was checked, so the answer is at best IN_FORCE.",
    ),
]


@router.post(
    "",
    summary="Verify a receipt or a sealed document",
    description="Send a receipt (JSON, `type` RecordReceipt), optionally with `digest` = the "
    "SHA-256 of the file it belongs to, or a sealed document (`type` SealedRecord, possibly "
    "redacted): its digest is recomputed from its fields. A receipt alone is at best IN_FORCE. "
    "A malformed receipt or sealed document is outcome TAMPERED, the `format` check naming "
    "the field. Public, rate-limited per client.",
    responses=_verified(),
    openapi_extra=json_body_any_of(
        ["ReceiptModel", "SealedDocumentModel"],
        examples={
            "a-receipt": EXAMPLE_RECEIPT,
            "a-sealed-document": {**EXAMPLE_SEALED, "receipt": EXAMPLE_RECEIPT},
        },
    ),
)
async def verify_json(
    request: Request, runtime: RuntimeDep, digest: DigestQuery = None
) -> Response:
    generation = runtime.reader.generation
    raw = await read_body(request, max_bytes=VERIFY_MAX_BODY_BYTES)
    given = hex32(digest) if digest else None
    # Hashing the body for the answer cache and classifying it scan every byte: off the event
    # loop for a large body, so that one big request never stalls the others.
    key = await off_loop(len(raw), runtime.verifications.key, raw, given)
    hit = runtime.verifications.get(key)
    if hit is not None:  # the very same request, and nothing it depends on has changed
        return _answer(runtime, *hit)
    kind = await off_loop(len(raw), _type_of, raw)
    if kind is None:
        raise await off_loop(len(raw), _not_a_request, raw)
    if kind == SEALED_TYPE:
        if given is not None:
            raise InvalidField(
                "query.digest", "a sealed document's digest is recomputed from its fields"
            )
        return await _verify_sealed(runtime, raw, "", key=key, generation=generation)
    read = await off_loop(len(raw), _receipt, raw, "")
    if isinstance(read, Verification):
        return _verdict(runtime, read)
    return await _run(
        runtime, read, given, "file" if given else None, key=key, generation=generation
    )


@router.post(
    "/file",
    summary="Verify an uploaded file, sealed document or receipt",
    description="Multipart: `document` (any file, a sealed JSON document, or a receipt) and, "
    "for a file, optionally its `receipt`. A file is checked as a file (its SHA-256, bound to "
    "the kind `file`): a record's receipt never verifies a file. A file or a sealed document "
    "without a receipt is looked up by its digest in this registry's store. A receipt alone "
    "is at best IN_FORCE. Public, rate-limited per client.",
    responses=_verified(),
    openapi_extra=multipart_body(
        {
            "document": "The document to verify: any file, a sealed JSON document or a receipt.",
            "receipt": "The receipt of the file (JSON), when the document is a file.",
        },
        required=("document",),
        schema="VerifyFileForm",
    ),
)
async def verify_file(request: Request, runtime: RuntimeDep) -> Response:
    # The form is read here, after the rate limit (File() parameters would be read by FastAPI
    # before any dependency ran); the parts are read and hashed in a worker thread.
    form = await read_form(request, max_files=2, max_fields=2)
    try:
        document, receipt = form.get("document"), form.get("receipt")
        if not isinstance(document, UploadFile):
            raise InvalidField("body/document", "field required: a multipart file 'document'")
        if receipt is not None and not isinstance(receipt, UploadFile):
            raise InvalidField("body/receipt", "expected a file (the receipt's JSON)")
        size = (document.size or 0) + (receipt.size or 0 if receipt is not None else 0)
        given = await off_loop(max(size, INLINE_BYTES + 1), _read_parts, document, receipt)
    finally:
        await form.close()
    if isinstance(given, Verification):
        return _verdict(runtime, given)
    kind, raw, chosen, digest = given
    if kind == SEALED_TYPE:
        return await _verify_sealed(runtime, raw, "document", receipt=chosen)
    if kind == RECEIPT_TYPE and chosen is None:
        alone = await off_loop(len(raw), _receipt, raw, "document")
        if isinstance(alone, Verification):
            return _verdict(runtime, alone)
        return await _run(runtime, alone, None, None)
    if chosen is not None:
        return await _run(runtime, chosen, digest, "file")
    return await _by_digest(runtime, digest, "file")


def _read_parts(
    document: UploadFile, receipt: UploadFile | None
) -> tuple[str | None, bytes, Receipt | None, bytes] | Verification:
    """(In a worker thread.) The document's type (None: a file), its bytes when it may be JSON
    of ours, the receipt given beside it, and the document's SHA-256 as a file; or the TAMPERED
    verdict of a malformed receipt."""
    chosen: Receipt | None = None
    if receipt is not None:
        receipt_raw = _read_part(receipt, VERIFY_MAX_JSON_PART_BYTES)
        if receipt_raw is None or _type_of(receipt_raw) != RECEIPT_TYPE:
            raise InvalidField("receipt", "not a RecordReceipt JSON document")
        read = _receipt(receipt_raw, "receipt")
        if isinstance(read, Verification):
            return read
        chosen = read
    hasher = hashlib.sha256()
    head = bytearray()
    document.file.seek(0)
    while chunk := document.file.read(1 << 20):
        hasher.update(chunk)
        if len(head) <= VERIFY_MAX_JSON_PART_BYTES:
            head += chunk
    raw = bytes(head) if len(head) <= VERIFY_MAX_JSON_PART_BYTES else b""
    return _type_of(raw), raw, chosen, hasher.digest()


def _read_part(part: UploadFile, max_bytes: int) -> bytes | None:
    """A part's bytes, or None when it is larger than `max_bytes`."""
    part.file.seek(0)
    raw = part.file.read(max_bytes + 1)
    return raw if len(raw) <= max_bytes else None


@router.get(
    "/{digest}",
    summary="Verify a digest",
    description="This registry's store supplies the receipt of the record with this digest "
    "and the chain decides. With `digestKind=file` the digest is the SHA-256 of the file in "
    "hand (hashed in the browser) and the answer can be VALID; without it nothing was checked "
    "but the record itself: at best IN_FORCE (how the page looks up a replacement). A digest "
    "this registry did not anchor is UNKNOWN. Public, rate-limited.",
    responses=_verified(),
)
async def verify_by_digest(
    digest: DigestPath, runtime: RuntimeDep, digest_kind: DigestKindQuery = None
) -> Response:
    return await _by_digest(runtime, hex32(digest), digest_kind)


__all__ = ["router"]
