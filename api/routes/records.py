"""Records: an agency submits (one, many, a file, a digest), anyone reads a record's status and
receipt by digest, the issuing agency downloads the sealed document (or it as a W3C Verifiable
Credential) and revokes or supersedes.

A submission is durable (stored as `pending`) before the answer is sent; the anchoring worker
batches and anchors it. With `wait=true` the answer waits (bounded) for the receipt.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from starlette.datastructures import UploadFile

from api.bodies import (
    INLINE_BYTES,
    json_body,
    multipart_body,
    off_loop,
    only_keys,
    read_body,
    read_form,
    read_model,
    seal_error,
    strict_object,
)
from api.deps import (
    ActiveAgencyDep,
    AgencyDep,
    DigestPath,
    RuntimeDep,
    TimeoutQuery,
    WaitQuery,
    hex32,
)
from api.errors import (
    PROBLEM_BASE,
    PROBLEM_MEDIA_TYPE,
    ApiError,
    InvalidField,
    problem_responses,
)
from api.runtime import ApiRuntime
from api.schemas import (
    EXAMPLE_RECEIPT,
    EXAMPLE_RECORD,
    EXAMPLE_SEALED,
    BulkSubmitted,
    DigestCreate,
    RecordPublic,
    RevocationCreate,
    RevocationPublic,
    example_of,
)
from api.views import record_view, revocation_view
from registry.errors import InvalidInput
from registry.receipt import receipt_to_json
from registry.service import records as service
from registry.service.agencies import AgencyRef
from registry.service.credentials import agency_credential
from registry.service.documents import DocumentPurged, DocumentUnreadable
from registry.service.revoking import InvalidReplacement
from registry.service.sealing import RecordRejected

router = APIRouter(prefix="/v1/records", tags=["records"])

WRITE_PROBLEMS = problem_responses(401, 403, 409, 413, 422, 503)

_SUBMITTED = {
    "description": "Stored as pending (202), or anchored with its receipt (200, after "
    "`wait=true` or when it was anchored before).",
    "headers": {"Location": {"description": "The record's URL.", "schema": {"type": "string"}}},
}


def _record_responses() -> dict[int | str, dict[str, Any]]:
    example = example_of(RecordPublic)
    pending = {**example, "status": "pending", "batch": None, "receipt": None}
    return {
        200: {
            "model": RecordPublic,
            **_SUBMITTED,
            "content": {"application/json": {"example": example}},
        },
        202: {
            "model": RecordPublic,
            **_SUBMITTED,
            "content": {"application/json": {"example": pending}},
        },
        **WRITE_PROBLEMS,
    }


# ------------------------------------------------------------------ helpers


async def _wait_anchored(
    runtime: ApiRuntime, agency: AgencyRef, digests: list[bytes], timeout: float | None
) -> None:
    """Wait until every one of the agency's digests is anchored, or the (bounded) time is up."""
    cap = runtime.settings.api_wait_timeout
    deadline = time.monotonic() + (cap if timeout is None else min(timeout, cap))
    runtime.worker.wake()
    interval = 0.05 if len(digests) == 1 else 0.2
    while True:
        if await run_in_threadpool(service.anchored, runtime.operator, agency, digests):
            return
        left = deadline - time.monotonic()
        if left <= 0:
            return
        await asyncio.sleep(min(interval, left))


async def _answer_one(
    runtime: ApiRuntime,
    agency: AgencyRef,
    digest: bytes,
    *,
    new: bool,
    wait: bool,
    timeout: float | None,
) -> JSONResponse:
    if wait:
        await _wait_anchored(runtime, agency, [digest], timeout)
    state, receipt = await run_in_threadpool(
        service.own_record_with_receipt, runtime.operator, agency, digest
    )
    return JSONResponse(
        record_view(state, receipt=receipt, new=new),
        status_code=200 if receipt is not None else 202,
        headers={"Location": f"/v1/records/0x{digest.hex()}"},
    )


async def _submit(
    runtime: ApiRuntime, agency: AgencyRef, items: list[tuple[bytes, str, str | None]]
) -> list[bool]:
    """Store the items as pending (durable on return); which of them were new."""
    return await run_in_threadpool(service.submit, runtime.keyring, agency, items)


# ------------------------------------------------------------------ submit


@router.post(
    "",
    summary="Submit one structured record",
    description="Seal a JSON record with the agency's salts and store it as pending (durable "
    "before the answer). The same record submitted again is the same record. With "
    "`wait=true`, wait (bounded by `timeout`) for the anchored receipt. Agency token.",
    status_code=202,
    response_model=RecordPublic,
    responses=_record_responses(),
    openapi_extra=json_body(
        "RecordCreate", examples={"birth-certificate": {"record": EXAMPLE_RECORD}}
    ),
)
async def submit_record(
    request: Request,
    agency: ActiveAgencyDep,
    runtime: RuntimeDep,
    wait: WaitQuery = False,
    timeout: TimeoutQuery = None,
) -> JSONResponse:
    limit = runtime.settings.max_record_bytes + 64
    raw = await read_body(request, max_bytes=limit)
    body = await off_loop(len(raw), strict_object, raw, max_bytes=limit)
    only_keys(body, ("record",))
    data = body["record"]
    if not isinstance(data, dict):
        raise InvalidField("body/record", "expected a JSON object")
    try:
        digest, document = await run_in_threadpool(
            service.seal_record, runtime.keyring, agency, data
        )
    except InvalidInput as exc:
        raise seal_error(exc, "body/record") from exc
    new = await _submit(runtime, agency, [(digest, "record", document)])
    return await _answer_one(runtime, agency, digest, new=new[0], wait=wait, timeout=timeout)


def _seal_all(
    runtime: ApiRuntime, agency: AgencyRef, records: list[Any]
) -> list[tuple[bytes, str, str | None]]:
    try:
        return service.seal_records(
            runtime.keyring, agency, records, max_record_bytes=runtime.settings.max_record_bytes
        )
    except RecordRejected as exc:
        where = f"body/records/{exc.index}"
        if exc.cause is None:
            raise InvalidField(where, exc.problem) from exc
        raise seal_error(exc.cause, where) from exc


@router.post(
    "/bulk",
    summary="Submit many structured records",
    description="Seal and store up to `api_max_bulk_records` records (default 10,000) in one "
    "request; all or none are stored. One item per record in input order. With `wait=true`, "
    "wait (bounded) for every receipt. Agency token.",
    status_code=202,
    response_model=BulkSubmitted,
    responses={
        200: {
            "model": BulkSubmitted,
            "description": "Every record anchored; each item carries its receipt.",
            "content": {"application/json": {"example": example_of(BulkSubmitted)}},
        },
        202: {
            "model": BulkSubmitted,
            "description": "Stored; not every record is anchored yet.",
            "content": {"application/json": {"example": example_of(BulkSubmitted)}},
        },
        **WRITE_PROBLEMS,
    },
    openapi_extra=json_body(
        "RecordBulkCreate",
        examples={"two-certificates": {"records": [EXAMPLE_RECORD, {**EXAMPLE_RECORD, "n": 2}]}},
    ),
)
async def submit_records(
    request: Request,
    agency: ActiveAgencyDep,
    runtime: RuntimeDep,
    wait: WaitQuery = False,
    timeout: TimeoutQuery = None,
) -> JSONResponse:
    settings = runtime.settings
    raw = await read_body(request, max_bytes=settings.api_max_body_bytes)
    body = await off_loop(len(raw), strict_object, raw, max_bytes=settings.api_max_body_bytes)
    only_keys(body, ("records",))
    records = body["records"]
    if not isinstance(records, list) or not records:
        raise InvalidField("body/records", "expected a non-empty array of records")
    if len(records) > settings.api_max_bulk_records:
        raise InvalidField(
            "body/records",
            f"{len(records)} records; at most {settings.api_max_bulk_records} per request",
        )
    items = await run_in_threadpool(_seal_all, runtime, agency, records)
    new = await _submit(runtime, agency, items)
    digests = [digest for digest, _, _ in items]
    if wait:
        await _wait_anchored(runtime, agency, digests, timeout)
    found = await run_in_threadpool(service.bulk_state, runtime.keyring, agency, digests)
    answer = [
        {
            "digest": "0x" + digest.hex(),
            "status": found.statuses[digest],
            "new": is_new,
            "receipt": (
                receipt_to_json(found.receipts[digest]) if digest in found.receipts else None
            ),
        }
        for digest, is_new in zip(digests, new, strict=True)
    ]
    anchored = sum(1 for item in answer if item["receipt"] is not None)
    return JSONResponse(
        {
            "count": len(answer),
            "new": sum(new),
            "existing": len(new) - sum(new),
            "anchored": anchored,
            "records": answer,
        },
        status_code=200 if anchored == len(answer) else 202,
    )


@router.post(
    "/file",
    summary="Submit a file (its SHA-256 is the record)",
    description="Upload a file (PDF, image, ...) as multipart `file`; the server keeps only its "
    "SHA-256 digest, never the file. To keep the file in-house, submit its digest with "
    "POST /v1/records/digest instead. Agency token.",
    status_code=202,
    response_model=RecordPublic,
    responses=_record_responses(),
    openapi_extra=multipart_body(
        {"file": "The file to issue."}, required=("file",), schema="SubmitFileForm"
    ),
)
async def submit_file(
    request: Request,
    agency: ActiveAgencyDep,
    runtime: RuntimeDep,
    wait: WaitQuery = False,
    timeout: TimeoutQuery = None,
) -> JSONResponse:
    # The form is read here, after the token was checked (a File() parameter would be read
    # by FastAPI before any dependency ran).
    form = await read_form(request, max_files=1, max_fields=1)
    try:
        file = form.get("file")
        if not isinstance(file, UploadFile):
            raise InvalidField("body/file", "field required: a multipart file named 'file'")
        digest, size = await off_loop((file.size or 0) + INLINE_BYTES + 1, _hash_file, file)
    finally:
        await form.close()
    if size == 0:
        raise InvalidField("file", "the file is empty")
    new = await _submit(runtime, agency, [(digest, "file", None)])
    return await _answer_one(runtime, agency, digest, new=new[0], wait=wait, timeout=timeout)


def _hash_file(file: UploadFile) -> tuple[bytes, int]:
    """SHA-256 and size of an uploaded file, read in chunks (in a worker thread)."""
    hasher = hashlib.sha256()
    size = 0
    file.file.seek(0)
    while chunk := file.file.read(1 << 20):
        hasher.update(chunk)
        size += len(chunk)
    return hasher.digest(), size


@router.post(
    "/digest",
    summary="Submit a file's digest",
    description="Submit the SHA-256 of a file the agency keeps (`sha256sum` of its bytes). "
    "Agency token.",
    status_code=202,
    response_model=RecordPublic,
    responses=_record_responses(),
    openapi_extra=json_body("DigestCreate", examples={"a-pdf": example_of(DigestCreate)}),
)
async def submit_digest(
    request: Request,
    agency: ActiveAgencyDep,
    runtime: RuntimeDep,
    wait: WaitQuery = False,
    timeout: TimeoutQuery = None,
) -> JSONResponse:
    body = await read_model(request, DigestCreate)
    digest = hex32(body.digest)
    new = await _submit(runtime, agency, [(digest, "file", None)])
    return await _answer_one(runtime, agency, digest, new=new[0], wait=wait, timeout=timeout)


# ------------------------------------------------------------------ read


@router.get(
    "/{digest}",
    summary="A record's status and receipt",
    description="Where the record is (pending, batched, anchored, revoked), its batch and, once "
    "anchored, its receipt. Public: a digest reveals nothing about the record's content.",
    response_model=RecordPublic,
    responses={
        200: {"content": {"application/json": {"example": example_of(RecordPublic)}}},
        **problem_responses(404, 422, 503),
    },
)
def get_record(digest: DigestPath, runtime: RuntimeDep) -> JSONResponse:
    state, receipt = service.public_record(runtime.operator, hex32(digest))
    return JSONResponse(record_view(state, receipt=receipt))


@router.get(
    "/{digest}/receipt",
    summary="A record's receipt",
    description="The receipt of an anchored record (docs/receipt.md): with any node of the "
    "chain it proves the record without this server. 409 while not anchored yet. Public.",
    responses={
        200: {
            "description": "The receipt.",
            "content": {
                "application/json": {
                    "schema": {"$ref": "#/components/schemas/ReceiptModel"},
                    "example": EXAMPLE_RECEIPT,
                }
            },
        },
        **problem_responses(404, 409, 422, 503),
    },
)
def get_receipt(digest: DigestPath, runtime: RuntimeDep) -> JSONResponse:
    return JSONResponse(receipt_to_json(service.public_receipt(runtime.operator, hex32(digest))))


class DocumentGone(ApiError):
    """The record's sealed contents were deleted under the retention rule (or after a
    download); its digest, batch and receipt remain."""

    status = 410
    slug = "document-purged"


class DocumentDamaged(ApiError):
    """The stored sealed document does not decrypt with the agency's data key."""

    status = 500
    slug = "document-unreadable"


_GONE: dict[int | str, dict[str, Any]] = {
    410: {
        "description": "Gone (RFC 9457 problem details): the sealed contents were deleted "
        "under the registry's retention rule; the receipt is still at "
        "/v1/records/{digest}/receipt.",
        "content": {
            PROBLEM_MEDIA_TYPE: {
                "schema": {"$ref": "#/components/schemas/Problem"},
                "example": {
                    "type": PROBLEM_BASE + DocumentGone.slug,
                    "title": "Gone",
                    "status": 410,
                    "detail": "the sealed contents of 0x9f86... were deleted on 2026-12-01 "
                    "under the registry's retention rule; its receipt remains",
                    "instance": "/v1/...",
                },
            }
        },
    }
}


@router.get(
    "/{digest}/document",
    summary="Download a sealed document",
    description="The sealed structured record with its receipt, as the citizen keeps it. It "
    "holds the record's personal data, so only the issuing agency may download it; the store "
    "keeps it encrypted with the agency's data key. Once the registry's retention rule (or "
    "`delete_document_after_download`) deleted the contents: 410 Gone (the receipt stays). "
    "Agency token.",
    responses={
        200: {
            "description": "The sealed document (attachment).",
            "content": {
                "application/json": {
                    "schema": {"$ref": "#/components/schemas/SealedDocumentModel"},
                    "example": {**EXAMPLE_SEALED, "receipt": EXAMPLE_RECEIPT},
                }
            },
        },
        **problem_responses(401, 403, 404, 409, 422, 503),
        **_GONE,
    },
)
def get_document(digest: DigestPath, agency: AgencyDep, runtime: RuntimeDep) -> JSONResponse:
    try:
        payload = service.sealed_document(runtime.keyring, agency, hex32(digest))
    except DocumentPurged as exc:
        raise DocumentGone(f"{exc} (the receipt is at /v1/records/{digest}/receipt)") from exc
    except DocumentUnreadable as exc:
        raise DocumentDamaged(str(exc)) from exc
    return JSONResponse(
        payload,
        headers={"Content-Disposition": f'attachment; filename="{digest}.sealed.json"'},
    )


_EXAMPLE_RECORD_RECEIPT: dict[str, Any] = {
    "type": "RecordReceipt",
    "version": 2,
    "digest": EXAMPLE_SEALED["digest"],
    "digestKind": "record",
    "leaf": "0x3506c2dd6902243b7a254df850f73b37206ca3227d2f14ef4677ad10af8d66ad",
    "merkle": {
        "root": "0xf8131ed4b0fa64422e67324767904a5566e5242c20cac80100618758967debc1",
        "proof": ["0xfc0d8d1546bfe17cc9ccba652463c38cb1b1a759a095286ec5f6e6be7e62c2f6"],
        "count": 2,
    },
    "anchor": {
        "chainId": 31337,
        "registry": "0x5FbDB2315678afecb367f032d93F642f64180aa3",
        "agency": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
        "blockNumber": 2,
        "anchoredAt": "2026-11-23T10:00:00Z",
    },
    "signature": {
        "alg": "Ed25519",
        "publicKey": "0x8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c",
        "value": "0xe05ba0ab9baa2c3deddcf17061b5149ef1f6f76c4be52935938cebc355a190f0"
        "26655109371f00b82abf5360a2017102c3b7f89841de37b6cf3af0622b8c5405",
    },
}
"""The receipt of EXAMPLE_SEALED, as docs/receipt.md section 6.6 has it (TEST key)."""

_EXAMPLE_REGISTRY = "eip155:31337:0x5FbDB2315678afecb367f032d93F642f64180aa3"
_EXAMPLE_KEY = "z6Mkon3Necd6NkkyfoGoHxid2znGc59LU3K7mubaRcFbLfLX"
_CONTEXTS = ["https://www.w3.org/ns/credentials/v2", "https://w3id.org/record-registry/v1"]
EXAMPLE_CREDENTIAL: dict[str, Any] = {
    "@context": _CONTEXTS,
    "id": f"urn:record-registry:{_EXAMPLE_REGISTRY}:{EXAMPLE_SEALED['digest']}",
    "type": ["VerifiableCredential", "RegistryRecordCredential"],
    "issuer": {
        "id": "did:pkh:eip155:31337:0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
        "name": "Civil Registry Office",
    },
    "validFrom": "2026-11-23T10:00:00Z",
    "credentialSubject": EXAMPLE_SEALED["data"],
    "credentialStatus": {
        "id": f"{_EXAMPLE_REGISTRY}#{EXAMPLE_SEALED['digest']}",
        "type": "RecordRegistryStatus",
        "registry": _EXAMPLE_REGISTRY,
        "digest": EXAMPLE_SEALED["digest"],
    },
    "evidence": [
        {"type": "SealedRecord", "document": {**EXAMPLE_SEALED, "receipt": _EXAMPLE_RECORD_RECEIPT}}
    ],
    "proof": {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-jcs-2022",
        "created": "2026-11-24T09:30:00Z",
        "verificationMethod": f"did:key:{_EXAMPLE_KEY}#{_EXAMPLE_KEY}",
        "proofPurpose": "assertionMethod",
        "@context": _CONTEXTS,
        "proofValue": "zW6dAe7qy8Ao81atKdeENryiBN1PPPMLPq1Np9jcwThPMAF2y24zkuJ4LiZHVRJWBhYVpUVDFi"
        "sH5EHA9NvBLUrf",
    },
}
"""A credential as GET /v1/records/{digest}/credential answers (docs/credentials.md): the
worked example of docs/receipt.md, signed with its TEST key. It verifies."""


@router.get(
    "/{digest}/credential",
    summary="Export a record as a W3C Verifiable Credential",
    description="The sealed structured record as a W3C Verifiable Credential 2.0 "
    "(docs/credentials.md): `credentialSubject` is the record's fields, the sealed document "
    "with its receipt rides along as `evidence` (so a verifier recomputes the anchored digest "
    "from the fields), `credentialStatus` points at the record on the registry's chain, and "
    "an eddsa-jcs-2022 proof by the agency key that signed the receipt (a did:key) lets any "
    "Data Integrity implementation check it. POST /v1/verify and `registry verify` check it "
    "in full. It holds the record's personal data, so only the issuing agency may export it, "
    "exactly as GET /v1/records/{digest}/document (and it counts as that download for "
    "`delete_document_after_download`). Agency token.",
    responses={
        200: {
            "description": "The credential (attachment).",
            "content": {"application/json": {"example": EXAMPLE_CREDENTIAL}},
        },
        **problem_responses(401, 403, 404, 409, 422, 503),
        **_GONE,
    },
)
def get_credential(digest: DigestPath, agency: AgencyDep, runtime: RuntimeDep) -> JSONResponse:
    try:
        payload = agency_credential(runtime.keyring, agency, hex32(digest))
    except DocumentPurged as exc:
        raise DocumentGone(f"{exc} (the receipt is at /v1/records/{digest}/receipt)") from exc
    except DocumentUnreadable as exc:
        raise DocumentDamaged(str(exc)) from exc
    return JSONResponse(
        payload,
        headers={"Content-Disposition": f'attachment; filename="{digest}.credential.json"'},
    )


# ------------------------------------------------------------------ revoke


def _replacement_error(exc: InvalidReplacement) -> InvalidField:
    """The service's refusal of a replacement (not a live record of this agency, anchored or
    pending here) as a field error on `body/replacement`. Its message names no other agency
    and no internal id."""
    return InvalidField("body/replacement", str(exc))


@router.post(
    "/{digest}/revoke",
    summary="Revoke or supersede a record",
    description="Revoke one of the agency's own anchored records on chain; reason 2 "
    "(superseded) names the replacement's digest, which must be a record of the same agency, "
    "anchored or pending in this registry (else 422 naming `body/replacement`, before any "
    "transaction). Another agency's record: 403. The node down: 503 with Retry-After. "
    "Agency token.",
    response_model=RevocationPublic,
    responses={
        200: {"content": {"application/json": {"example": example_of(RevocationPublic)}}},
        **problem_responses(401, 403, 404, 409, 413, 422, 503),
    },
    openapi_extra=json_body(
        "RevocationCreate", examples={"superseded": example_of(RevocationCreate)}
    ),
)
async def revoke(
    digest: DigestPath, request: Request, agency: ActiveAgencyDep, runtime: RuntimeDep
) -> JSONResponse:
    body = await read_model(request, RevocationCreate)
    return await run_in_threadpool(_revoke, runtime, agency, digest, body)


def _revoke(
    runtime: ApiRuntime, agency: AgencyRef, digest: str, body: RevocationCreate
) -> JSONResponse:
    value = hex32(digest)
    replacement = hex32(body.replacement) if body.replacement else None
    if body.reason == 2 and replacement is None:
        raise InvalidField(
            "body/replacement", "reason 2 (superseded) needs the replacement record's digest"
        )
    if body.reason != 2 and replacement is not None:
        raise InvalidField(
            "body/replacement", "only reason 2 (superseded) names a replacement record"
        )
    if replacement == value:
        raise InvalidField("body/replacement", "a record cannot supersede itself")
    try:
        result = service.revoke_own_record(
            runtime.keyring, agency, value, reason=body.reason, replacement=replacement
        )
    except InvalidReplacement as exc:
        raise _replacement_error(exc) from exc
    runtime.reader.forget()
    return JSONResponse(revocation_view(result))


__all__ = ["router"]
