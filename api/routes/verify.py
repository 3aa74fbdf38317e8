"""Verification, public and rate-limited per client: a receipt, a sealed document, a file (with
or without its receipt), or a digest. The answer is the same JSON as `registry verify --json`.

A node that cannot be reached is not evidence against a document: the answer is 200 with
outcome ERROR (the checks say what could not be checked), never INVALID and never a 5xx.

Malformed input, one rule (docs/api.md, "Verifying"): whatever parses as JSON with `type`
RecordReceipt or SealedRecord, or a `type` naming VerifiableCredential (a credential of a sealed
record, docs/credentials.md), is a verification request, and a malformed one (a bad field,
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
from registry.credential import MAX_CREDENTIAL_BYTES
from registry.receipt import MAX_RECEIPT_BYTES, DigestKind, Receipt
from registry.record import MAX_DOCUMENT_BYTES
from registry.service.verify import (
    Outcome,
    Verification,
    malformed_verification,
    verify_digest,
    verify_input,
    verify_receipt,
)
from registry.service.verify_input import VerificationInput, json_request_input, upload_input

router = APIRouter(prefix="/v1/verify", tags=["verify"], dependencies=[VerifyLimit])

VERIFY_MAX_BODY_BYTES = max(MAX_DOCUMENT_BYTES + MAX_RECEIPT_BYTES, MAX_CREDENTIAL_BYTES)
"""Largest body of POST /v1/verify: the largest sealed document (4 MiB) plus room for its
receipt, or the largest credential (that document and its data again). Lower than the
server's general body limit: verification is public."""

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


# ------------------------------------------------------------------ answering


async def _run(
    runtime: ApiRuntime,
    receipt: Receipt,
    digest: bytes | None,
    digest_kind: DigestKind | None,
    *,
    key: tuple[bytes, bytes | None] | None = None,
    generation: int = -1,
    given: VerificationInput | None = None,
) -> Response:
    """Verify; inline when every chain answer is cached (no I/O), else in a worker thread.
    With a cache `key`, the encoded answer is kept for identical requests (while valid).
    `given` brings a credential's own checks and issuer name (service/verify_input.py)."""
    kwargs: dict[str, Any] = {
        "trusted": runtime.trusted,
        "reader": runtime.reader,
        "digest": digest,
        "digest_kind": digest_kind,
    }
    if given is not None and given.kind == "credential":
        kwargs.update(extra_checks=given.extra_checks, issuer_name=given.issuer_name)
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


async def _answer_input(
    runtime: ApiRuntime,
    given: VerificationInput,
    *,
    key: tuple[bytes, bytes | None] | None = None,
    generation: int = -1,
) -> Response:
    """Verify what the service read from the request (service/verify_input.py): a malformed
    receipt or sealed document is TAMPERED naming the field; without a receipt, the store's
    receipt for the digest (UNKNOWN when there is none)."""
    if given.format_error is not None:
        return _verdict(
            runtime, malformed_verification(given.format_error, field=given.format_field)
        )
    if given.look_up:
        assert given.digest is not None
        return await _by_digest(runtime, given.digest, given.digest_kind)
    if given.wrapped is not None:  # OpenAttestation: its DocumentStore decides
        result = await run_in_threadpool(
            verify_input, given, trusted=runtime.trusted, reader=runtime.reader
        )
        return _verdict(runtime, result)
    assert isinstance(given.receipt, Receipt)
    return await _run(
        runtime,
        given.receipt,
        given.digest,
        given.digest_kind,
        key=key,
        generation=generation,
        given=given,
    )


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
    summary="Verify a receipt, a sealed document or a credential",
    description="Send a receipt (JSON, `type` RecordReceipt), optionally with `digest` = the "
    "SHA-256 of the file it belongs to, or a sealed document (`type` SealedRecord, possibly "
    "redacted): its digest is recomputed from its fields, or a W3C Verifiable Credential of a "
    "sealed record (GET /v1/records/{digest}/credential): its sealed record is verified and "
    "the credential held to it. A receipt alone is at best IN_FORCE. "
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
    read = await off_loop(len(raw), json_request_input, raw, digest=given)
    return await _answer_input(runtime, read, key=key, generation=generation)


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
        # Read and hashed in a worker thread, whatever the size (a part is a spooled file).
        read = await off_loop(
            INLINE_BYTES + 1,
            upload_input,
            document.file,
            receipt.file if receipt is not None else None,
            max_json_bytes=VERIFY_MAX_JSON_PART_BYTES,
        )
    finally:
        await form.close()
    return await _answer_input(runtime, read)


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
