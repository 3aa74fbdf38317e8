"""Verification, public and rate-limited per client: a receipt, a sealed document, a file (with
or without its receipt), or a digest. The answer is the same JSON as `registry verify --json`.

A node that cannot be reached is not evidence against a document: the answer is 200 with
outcome ERROR (the checks say what could not be checked), never INVALID and never a 5xx.
A malformed receipt or document is 422 naming the field.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Annotated, Any

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from api.bodies import json_body_any_of, loose_object
from api.deps import DigestPath, RuntimeDep, VerifyLimit, hex32
from api.errors import InvalidField, problem_responses
from api.runtime import ApiRuntime
from api.schemas import EXAMPLE_RECEIPT, EXAMPLE_SEALED, HEX32, VerificationPublic, example_of
from registry.errors import InvalidInput
from registry.receipt import Receipt, parse_receipt
from registry.record import document_digest, parse_sealed_document
from registry.service.verify import Outcome, Verification, verify_digest, verify_receipt

router = APIRouter(prefix="/v1/verify", tags=["verify"], dependencies=[VerifyLimit])

_PATH = re.compile(r"^([A-Za-z_][\w.\[\]/-]*): (.*)$", re.DOTALL)


def _verified() -> dict[int | str, dict[str, Any]]:
    example = example_of(VerificationPublic)
    return {
        200: {
            "model": VerificationPublic,
            "description": "The verdict and every check (an outage is outcome ERROR, not a 5xx).",
            "content": {"application/json": {"example": example}},
        },
        **problem_responses(413, 422, 429),
    }


def _field_error(exc: InvalidInput, where: str, *, receipt: bool = False) -> InvalidField:
    """A parser's `path: problem` message as a field error under `where` (a JSON pointer).
    A standalone receipt's parser calls its top level `receipt`."""
    match = _PATH.match(str(exc))
    if match is None:
        return InvalidField(where, str(exc))
    path = re.sub(r"\[(\d+)\]", r"/\1", match.group(1)).replace(".", "/")
    if receipt and path == "receipt":
        path = ""
    return InvalidField(f"{where}/{path}".rstrip("/"), match.group(2))


def _receipt(obj: dict[str, Any], where: str) -> Receipt:
    try:
        return parse_receipt(obj)
    except InvalidInput as exc:
        raise _field_error(exc, where, receipt=True) from exc


async def _run(
    runtime: ApiRuntime,
    receipt: Receipt,
    digest: bytes | None,
    *,
    key: tuple[bytes, bytes | None] | None = None,
    generation: int = -1,
) -> Response:
    """Verify; inline when every chain answer is cached (no I/O), else in a worker thread.
    With a cache `key`, the encoded answer is kept for identical requests (while valid)."""
    if runtime.reader.is_warm(receipt):
        result = verify_receipt(
            receipt, trusted=runtime.trusted, reader=runtime.reader, digest=digest
        )
    else:
        result = await run_in_threadpool(
            verify_receipt,
            receipt,
            trusted=runtime.trusted,
            reader=runtime.reader,
            digest=digest,
        )
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


DigestQuery = Annotated[
    str | None,
    Query(
        pattern=HEX32,
        description="With a receipt: the SHA-256 of the file in hand (computed by the client, "
        "e.g. in the browser), checked against the receipt's digest.",
    ),
]


@router.post(
    "",
    summary="Verify a receipt or a sealed document",
    description="Send a receipt (JSON, `type` RecordReceipt), optionally with `digest` = the "
    "SHA-256 of the file it belongs to, or a sealed document (`type` SealedRecord, possibly "
    "redacted): its digest is recomputed from its fields. Public, rate-limited per client.",
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
    obj = loose_object(raw)
    kind = obj.get("type")
    if kind == "RecordReceipt":
        receipt = _receipt(obj, "body")
        return await _run(runtime, receipt, given, key=key, generation=generation)
    if kind == "SealedRecord":
        if digest is not None:
            raise InvalidField(
                "query.digest", "a sealed document's digest is recomputed from its fields"
            )
        try:
            document = parse_sealed_document(obj)
        except InvalidInput as exc:
            raise _field_error(exc, "body") from exc
        if document.receipt is None:
            raise InvalidField("body/receipt", "the sealed document has no receipt yet")
        return await _run(
            runtime,
            document.receipt,
            bytes(document_digest(document)),
            key=key,
            generation=generation,
        )
    raise InvalidField("body/type", "expected 'RecordReceipt' or 'SealedRecord'")


def _typed(raw: bytes) -> dict[str, Any] | None:
    """`raw` as one of our JSON documents (receipt or sealed document), else None (a file)."""
    if not raw.lstrip().startswith(b"{"):
        return None
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    if isinstance(value, dict) and value.get("type") in ("SealedRecord", "RecordReceipt"):
        return value
    return None


@router.post(
    "/file",
    summary="Verify an uploaded file, sealed document or receipt",
    description="Multipart: `document` (any file, a sealed JSON document, or a receipt) and, "
    "for a file, optionally its `receipt`. A file without a receipt is looked up by its "
    "SHA-256 in this registry's store. Public, rate-limited per client.",
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
    envelope = _typed(raw)
    receipt_obj: dict[str, Any] | None = None
    if receipt_raw is not None:
        receipt_obj = _typed(receipt_raw)
        if receipt_obj is None or receipt_obj.get("type") != "RecordReceipt":
            raise InvalidField("receipt", "not a RecordReceipt JSON document")
    if envelope is not None and envelope["type"] == "SealedRecord":
        try:
            sealed = parse_sealed_document(envelope)
        except InvalidInput as exc:
            raise _field_error(exc, "document") from exc
        if receipt_obj is not None:
            chosen = _receipt(receipt_obj, "receipt")
        elif sealed.receipt is not None:
            chosen = sealed.receipt
        else:
            raise InvalidField("document/receipt", "the sealed document has no receipt yet")
        return await _run(runtime, chosen, bytes(document_digest(sealed)))
    if envelope is not None and receipt_obj is None:
        return await _run(runtime, _receipt(envelope, "document"), None)
    digest = hashlib.sha256(raw).digest()
    if receipt_obj is not None:
        return await _run(runtime, _receipt(receipt_obj, "receipt"), digest)
    return await _by_digest(runtime, digest)


async def _by_digest(runtime: ApiRuntime, digest: bytes) -> Response:
    result = await run_in_threadpool(
        verify_digest,
        runtime.operator.receipt_for,
        digest,
        trusted=runtime.trusted,
        reader=runtime.reader,
    )
    return _answer(runtime, _encode(result), result.outcome)


@router.get(
    "/{digest}",
    summary="Verify a digest",
    description="Verify the record with this digest (the SHA-256 of a file, hashed in the "
    "browser, or a record digest): this registry's store supplies the receipt and the chain "
    "decides. A digest this registry did not anchor is UNKNOWN. Public, rate-limited.",
    responses=_verified(),
)
async def verify_by_digest(digest: DigestPath, runtime: RuntimeDep) -> Response:
    return await _by_digest(runtime, hex32(digest))


__all__ = ["router"]
