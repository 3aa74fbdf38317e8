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

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from api.bodies import json_body_any_of
from api.deps import DigestPath, RuntimeDep, VerifyLimit, hex32
from api.errors import InvalidField, problem_responses
from api.runtime import ApiRuntime
from api.schemas import EXAMPLE_RECEIPT, EXAMPLE_SEALED, HEX32, VerificationPublic, example_of
from registry.errors import InvalidInput
from registry.receipt import DigestKind, Receipt, parse_receipt
from registry.record import (
    MAX_DOCUMENT_BYTES,
    MAX_DOCUMENT_DEPTH,
    document_digest,
    nests_deeper,
    parse_sealed_document,
)
from registry.service.api_support import malformed_verification
from registry.service.verify import Outcome, Verification, verify_digest, verify_receipt

router = APIRouter(prefix="/v1/verify", tags=["verify"], dependencies=[VerifyLimit])

RECEIPT_TYPE, SEALED_TYPE = "RecordReceipt", "SealedRecord"


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
    if nests_deeper(raw, MAX_DOCUMENT_DEPTH):
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
    if nests_deeper(raw, MAX_DOCUMENT_DEPTH):
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
        return malformed_verification(str(exc))


def _sealed(raw: bytes, where: str) -> tuple[Receipt | None, bytes] | Verification:
    """The sealed document's receipt (None when it has none yet) and its digest recomputed from
    its fields, or the TAMPERED verdict naming the malformed field."""
    try:
        document = parse_sealed_document(raw)
        return document.receipt, bytes(document_digest(document))
    except InvalidInput as exc:
        return malformed_verification(f"{where}/{exc}" if where else str(exc))


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
    read = _sealed(raw, where)
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
    raw = await request.body()
    given = hex32(digest) if digest else None
    key = runtime.verifications.key(raw, given)
    hit = runtime.verifications.get(key)
    if hit is not None:  # the very same request, and nothing it depends on has changed
        return _answer(runtime, *hit)
    kind = _type_of(raw)
    if kind is None:
        raise _not_a_request(raw)
    if kind == SEALED_TYPE:
        if given is not None:
            raise InvalidField(
                "query.digest", "a sealed document's digest is recomputed from its fields"
            )
        return await _verify_sealed(runtime, raw, "", key=key, generation=generation)
    read = _receipt(raw, "")
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
)
async def verify_file(
    document: Annotated[UploadFile, File(description="The document to verify.")],
    runtime: RuntimeDep,
    receipt: Annotated[
        UploadFile | None, File(description="The receipt of the file (JSON).")
    ] = None,
) -> Response:
    raw = await document.read()
    receipt_raw = await receipt.read() if receipt is not None else None
    chosen: Receipt | None = None
    if receipt_raw is not None:
        if _type_of(receipt_raw) != RECEIPT_TYPE:
            raise InvalidField("receipt", "not a RecordReceipt JSON document")
        read = _receipt(receipt_raw, "receipt")
        if isinstance(read, Verification):
            return _verdict(runtime, read)
        chosen = read
    kind = _type_of(raw)
    if kind == SEALED_TYPE:
        return await _verify_sealed(runtime, raw, "document", receipt=chosen)
    if kind == RECEIPT_TYPE and chosen is None:
        alone = _receipt(raw, "document")
        if isinstance(alone, Verification):
            return _verdict(runtime, alone)
        return await _run(runtime, alone, None, None)
    digest = hashlib.sha256(raw).digest()
    if chosen is not None:
        return await _run(runtime, chosen, digest, "file")
    return await _by_digest(runtime, digest, "file")


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
