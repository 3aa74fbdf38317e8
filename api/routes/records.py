"""Records: an agency submits (one, many, a file, a digest), lists its own records and finds
one by its own reference, follows a bulk submission; anyone reads a record's status and receipt
by digest; the issuing agency downloads the sealed document (or it as a W3C Verifiable
Credential) and revokes or supersedes.

A submission is durable (stored as `pending`) before the answer is sent; the anchoring worker
batches and anchors it. With `wait=true` the answer waits (bounded) for the receipt. With an
`Idempotency-Key` header, a repeat of the request gets the first answer again, and another
request with the same key is refused (422).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import UploadFile

from api.bodies import (
    INLINE_BYTES,
    JSON,
    json_body,
    multipart_body,
    off_loop,
    read_body,
    read_form,
    read_model,
    require_media_type,
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
    EXAMPLE_BULK_ID,
    EXAMPLE_DIGEST,
    EXAMPLE_RECEIPT,
    EXAMPLE_RECORD,
    EXAMPLE_REFERENCE,
    EXAMPLE_SEALED,
    BulkStatusPublic,
    BulkSubmitted,
    DigestCreate,
    RecordList,
    RecordPublic,
    RevocationCreate,
    RevocationPublic,
    example_of,
)
from api.views import record_view, revocation_view
from registry.errors import InvalidInput
from registry.receipt import receipt_to_json
from registry.service import idempotency
from registry.service import records as service
from registry.service.agencies import AgencyRef
from registry.service.credentials import agency_credential
from registry.service.documents import DocumentPurged, DocumentUnreadable
from registry.service.revoking import InvalidReplacement
from registry.service.sealing import RecordRejected

router = APIRouter(prefix="/v1/records", tags=["records"])

WRITE_PROBLEMS = problem_responses(401, 403, 409, 413, 415, 422, 503)

_SUBMITTED = {
    "description": "Stored as pending (202), or anchored with its receipt (200, after "
    "`wait=true` or when it was anchored before). With an `Idempotency-Key` seen before for "
    "the same request: that first answer again, with `Idempotent-Replayed: true`.",
    "headers": {
        "Location": {"description": "The record's URL.", "schema": {"type": "string"}},
        "Idempotent-Replayed": {
            "description": "`true` when this is the kept answer of an earlier request with "
            "the same Idempotency-Key.",
            "schema": {"type": "string"},
        },
    },
}

_IDEMPOTENCY_PARAMETER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Any unique string of 1-255 visible ASCII characters (a UUID). The same "
    "key with the same request (route and content) within `api_idempotency_hours` (24 h) gets "
    "the first answer again; with another request: 422 `idempotency-key-reused`; while the "
    "first still runs: 409 with Retry-After. Keys are per agency.",
    "schema": {"type": "string", "maxLength": 255},
    "example": "5f0c7a52-3c3e-4f63-9d55-2b1e1f7d1a90",
}


def _with_idempotency(extra: dict[str, Any]) -> dict[str, Any]:
    """`openapi_extra` plus the optional Idempotency-Key header."""
    return {**extra, "parameters": [_IDEMPOTENCY_PARAMETER]}


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
        record_view(state, receipt=receipt, new=new, own=True),
        status_code=200 if receipt is not None else 202,
        headers={"Location": f"/v1/records/0x{digest.hex()}"},
    )


async def _idempotent(
    request: Request,
    runtime: ApiRuntime,
    agency: AgencyRef,
    *,
    content: Any,
    answer: Callable[[], Awaitable[Response]],
) -> Response:
    """`answer()`, under the request's Idempotency-Key if it has one: a repeat of the same
    request (route and `content`) gets the kept answer, another request with the key is
    refused, a request that fails keeps nothing (registry.service.idempotency)."""
    key = request.headers.get(idempotency.HEADER)
    if key is None:
        return await answer()
    operator = runtime.operator
    fingerprint = idempotency.fingerprint(f"POST {request.url.path}", content)
    found = await run_in_threadpool(
        idempotency.begin_idempotent, operator, agency, key=key, fingerprint=fingerprint
    )
    if isinstance(found, idempotency.StoredAnswer):
        headers = {"Idempotent-Replayed": "true"}
        if found.location is not None:
            headers["Location"] = found.location
        return Response(found.body, status_code=found.status_code, media_type=JSON, headers=headers)
    try:
        response = await answer()
    except BaseException:
        await run_in_threadpool(idempotency.release_key, operator, found)
        raise
    await run_in_threadpool(
        lambda: idempotency.keep_answer(
            operator,
            found,
            status_code=response.status_code,
            body=bytes(response.body).decode("utf-8"),
            location=response.headers.get("location"),
        )
    )
    return response


def _reference_of(body: dict[str, Any], where: str = "body/reference") -> str | None:
    return service.check_reference(body.get("reference"), field=where)


def _wrapped(body: dict[str, Any], name: str, shape: str, allowed: tuple[str, ...]) -> None:
    """The body is `shape`: `name` present (else 422 saying the shape expected, the usual
    mistake being a record sent bare), and no key but `allowed`."""
    if name not in body:
        raise InvalidField(
            f"body/{name}",
            f"field required: expected {shape} (the {name.rstrip('s')} goes inside "
            f'"{name}", not at the top level)',
        )
    for key in body:
        if key not in allowed:
            raise InvalidField(f"body/{key}", f"unknown field; expected {shape}")


# ------------------------------------------------------------------ submit


@router.post(
    "",
    summary="Submit one structured record",
    description="Seal a JSON record with the agency's salts and store it as pending (durable "
    'before the answer). The body is `{"record": {...}}`, optionally with the agency\'s own '
    '`"reference"` (unique per agency; reused for another record: 409). The same record '
    "submitted again is the same record. With `wait=true`, wait (bounded by `timeout`) for "
    "the anchored receipt. Content-Type must be application/json (else 415). Agency token.",
    status_code=202,
    response_model=RecordPublic,
    responses=_record_responses(),
    openapi_extra=_with_idempotency(
        json_body(
            "RecordCreate",
            examples={
                "birth-certificate": {"record": EXAMPLE_RECORD, "reference": EXAMPLE_REFERENCE}
            },
        )
    ),
)
async def submit_record(
    request: Request,
    agency: ActiveAgencyDep,
    runtime: RuntimeDep,
    wait: WaitQuery = False,
    timeout: TimeoutQuery = None,
) -> Response:
    require_media_type(request, JSON)
    limit = runtime.settings.max_record_bytes + 64 + 256
    raw = await read_body(request, max_bytes=limit)
    body = await off_loop(len(raw), strict_object, raw, max_bytes=limit)
    _wrapped(body, "record", '{"record": {...}}', ("record", "reference"))
    data = body["record"]
    if not isinstance(data, dict):
        raise InvalidField("body/record", 'expected a JSON object: {"record": {...}}')
    reference = _reference_of(body)
    try:
        digest, document = await run_in_threadpool(
            service.seal_record, runtime.keyring, agency, data
        )
    except InvalidInput as exc:
        raise seal_error(exc, "body/record") from exc

    async def answer() -> Response:
        new = await run_in_threadpool(
            service.submit,
            runtime.keyring,
            agency,
            [(digest, "record", document)],
            references=None if reference is None else [reference],
        )
        return await _answer_one(runtime, agency, digest, new=new[0], wait=wait, timeout=timeout)

    content = {"digest": digest.hex(), "reference": reference}
    return await _idempotent(request, runtime, agency, content=content, answer=answer)


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


def _references(body: dict[str, Any], count: int) -> list[str | None] | None:
    given = body.get("references")
    if given is None:
        return None
    if not isinstance(given, list) or len(given) != count:
        raise InvalidField(
            "body/references", f"expected an array of {count} references (or nulls), one per record"
        )
    return [
        service.check_reference(value, field=f"body/references/{n}")
        for n, value in enumerate(given)
    ]


@router.post(
    "/bulk",
    summary="Submit many structured records",
    description="Seal and store up to `api_max_bulk_records` records (default 10,000) in one "
    'request, `{"records": [...], "references": [...]}` (references optional, one per record '
    "or null); all or none are stored. One item per record in input order, and a `bulkId` "
    "(also in `Location`): GET /v1/records/bulk/{bulkId} for its status, .../receipts for "
    "its receipts once anchored. With `wait=true`, wait (bounded) for every receipt. "
    "Agency token.",
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
            "headers": {
                "Location": {
                    "description": "The bulk submission's status URL.",
                    "schema": {"type": "string"},
                }
            },
            "content": {"application/json": {"example": example_of(BulkSubmitted)}},
        },
        **WRITE_PROBLEMS,
    },
    openapi_extra=_with_idempotency(
        json_body(
            "RecordBulkCreate",
            examples={
                "two-certificates": {
                    "records": [EXAMPLE_RECORD, {**EXAMPLE_RECORD, "n": 2}],
                    "references": [EXAMPLE_REFERENCE, None],
                }
            },
        )
    ),
)
async def submit_records(
    request: Request,
    agency: ActiveAgencyDep,
    runtime: RuntimeDep,
    wait: WaitQuery = False,
    timeout: TimeoutQuery = None,
) -> Response:
    require_media_type(request, JSON)
    settings = runtime.settings
    raw = await read_body(request, max_bytes=settings.api_max_body_bytes)
    body = await off_loop(len(raw), strict_object, raw, max_bytes=settings.api_max_body_bytes)
    _wrapped(body, "records", '{"records": [{...}, ...]}', ("records", "references"))
    records = body["records"]
    if not isinstance(records, list) or not records:
        raise InvalidField("body/records", "expected a non-empty array of records")
    if len(records) > settings.api_max_bulk_records:
        raise InvalidField(
            "body/records",
            f"{len(records)} records; at most {settings.api_max_bulk_records} per request",
        )
    references = _references(body, len(records))
    items = await run_in_threadpool(_seal_all, runtime, agency, records)
    digests = [digest for digest, _, _ in items]

    async def answer() -> Response:
        stored = await run_in_threadpool(
            lambda: service.submit_bulk(runtime.keyring, agency, items, references=references)
        )
        if wait:
            await _wait_anchored(runtime, agency, digests, timeout)
        found = await run_in_threadpool(service.bulk_state, runtime.keyring, agency, digests)
        listed = [
            {
                "digest": "0x" + digest.hex(),
                "status": found.statuses[digest],
                "new": is_new,
                "reference": None if references is None else references[n],
                "receipt": (
                    receipt_to_json(found.receipts[digest]) if digest in found.receipts else None
                ),
            }
            for n, (digest, is_new) in enumerate(zip(digests, stored.new, strict=True))
        ]
        anchored = sum(1 for item in listed if item["receipt"] is not None)
        return JSONResponse(
            {
                "bulkId": stored.bulk_id,
                "count": len(listed),
                "new": sum(stored.new),
                "existing": len(stored.new) - sum(stored.new),
                "anchored": anchored,
                "records": listed,
            },
            status_code=200 if anchored == len(listed) else 202,
            headers={"Location": f"/v1/records/bulk/{stored.bulk_id}"},
        )

    # The request's meaning: its records' digests (the agency's salts are fixed, so the same
    # records seal to the same digests) and references, not the bytes that carried them.
    content = {"digests": [d.hex() for d in digests], "references": references}
    return await _idempotent(request, runtime, agency, content=content, answer=answer)


@router.post(
    "/file",
    summary="Submit a file (its SHA-256 is the record)",
    description="Upload a file (PDF, image, ...) as multipart `file` (and optionally a "
    "`reference` field: the agency's own key for it); the server keeps only its SHA-256 "
    "digest, never the file. To keep the file in-house, submit its digest with "
    "POST /v1/records/digest instead. Content-Type must be multipart/form-data (else 415). "
    "Agency token.",
    status_code=202,
    response_model=RecordPublic,
    responses=_record_responses(),
    openapi_extra=_with_idempotency(
        multipart_body(
            {"file": "The file to issue.", "reference": "The agency's own key (optional)."},
            required=("file",),
            schema="SubmitFileForm",
        )
    ),
)
async def submit_file(
    request: Request,
    agency: ActiveAgencyDep,
    runtime: RuntimeDep,
    wait: WaitQuery = False,
    timeout: TimeoutQuery = None,
) -> Response:
    # The form is read here, after the token was checked (a File() parameter would be read
    # by FastAPI before any dependency ran).
    form = await read_form(request, max_files=1, max_fields=1)
    try:
        file = form.get("file")
        if not isinstance(file, UploadFile):
            raise InvalidField("body/file", "field required: a multipart file named 'file'")
        given = form.get("reference")
        if isinstance(given, UploadFile):
            raise InvalidField("body/reference", "expected a text field, not a file")
        reference = service.check_reference(given, field="body/reference")
        digest, size = await off_loop((file.size or 0) + INLINE_BYTES + 1, _hash_file, file)
    finally:
        await form.close()
    if size == 0:
        raise InvalidField("file", "the file is empty")

    async def answer() -> Response:
        new = await run_in_threadpool(
            service.submit,
            runtime.keyring,
            agency,
            [(digest, "file", None)],
            references=None if reference is None else [reference],
        )
        return await _answer_one(runtime, agency, digest, new=new[0], wait=wait, timeout=timeout)

    content = {"digest": digest.hex(), "reference": reference}
    return await _idempotent(request, runtime, agency, content=content, answer=answer)


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
    description="Submit the SHA-256 of a file the agency keeps (`sha256sum` of its bytes), "
    "optionally with the agency's own `reference` for it. Agency token.",
    status_code=202,
    response_model=RecordPublic,
    responses=_record_responses(),
    openapi_extra=_with_idempotency(
        json_body("DigestCreate", examples={"a-pdf": example_of(DigestCreate)})
    ),
)
async def submit_digest(
    request: Request,
    agency: ActiveAgencyDep,
    runtime: RuntimeDep,
    wait: WaitQuery = False,
    timeout: TimeoutQuery = None,
) -> Response:
    body = await read_model(request, DigestCreate)
    digest = hex32(body.digest)
    reference = body.reference

    async def answer() -> Response:
        new = await run_in_threadpool(
            service.submit,
            runtime.keyring,
            agency,
            [(digest, "file", None)],
            references=None if reference is None else [reference],
        )
        return await _answer_one(runtime, agency, digest, new=new[0], wait=wait, timeout=timeout)

    content = {"digest": digest.hex(), "reference": reference}
    return await _idempotent(request, runtime, agency, content=content, answer=answer)


# ------------------------------------------------------------------ an agency's own records

RecordState = Literal["pending", "batched", "anchored", "revoked"]
ReferencePath = Annotated[
    str,
    Path(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:~+@-]{0,127}$",
        description="The agency's own reference for the record.",
        examples=[EXAMPLE_REFERENCE],
    ),
]
BulkIdPath = Annotated[
    str,
    Path(
        pattern=r"^bulk_[0-9a-f]{24}$",
        description="A bulk submission's id (`bulkId` of its answer).",
        examples=[EXAMPLE_BULK_ID],
    ),
]


@router.get(
    "",
    summary="List the agency's own records, newest first",
    description="The records of the token's agency (and no other's), newest first, "
    "optionally in one `state` and submitted in [`since`, `until`) (ISO 8601 times). Page "
    "with `cursor` (the `nextCursor` of the previous page, with the same filters): pages are "
    "stable under new submissions, which come before the first page, never into a later "
    "one. The cursor is opaque and good for this agency's listing only (422 otherwise). "
    "`limit` 1-500 (default 50). Agency token.",
    response_model=RecordList,
    responses={
        200: {"content": {"application/json": {"example": example_of(RecordList)}}},
        **problem_responses(401, 403, 422, 503),
    },
)
def list_records(
    agency: AgencyDep,
    runtime: RuntimeDep,
    state: Annotated[RecordState | None, Query(description="Only records in this state.")] = None,
    since: Annotated[
        datetime | None,
        Query(
            description="Only records submitted at or after this time (ISO 8601; UTC if no "
            "offset).",
            examples=["2026-11-23T00:00:00Z"],
        ),
    ] = None,
    until: Annotated[
        datetime | None,
        Query(description="Only records submitted before this time (ISO 8601)."),
    ] = None,
    cursor: Annotated[
        str | None,
        Query(max_length=200, description="`nextCursor` of the previous page."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE, description="Records per page.")] = 50,
) -> JSONResponse:
    page = service.agency_records_page(
        runtime.operator,
        agency,
        status=state,
        since=since,
        until=until,
        cursor=cursor,
        limit=limit,
    )
    return JSONResponse(
        {
            "records": [
                {
                    "digest": r.digest,
                    "digestKind": r.digest_kind,
                    "status": r.status,
                    "reference": r.reference,
                    "submittedAt": r.submitted_at,
                    "batchRoot": r.batch_root,
                    "blockNumber": r.block_number,
                    "anchoredAt": r.anchored_at,
                }
                for r in page.records
            ],
            "nextCursor": page.next_cursor,
        }
    )


@router.get(
    "/by-reference/{reference}",
    summary="One of the agency's records by its own reference",
    description="The record the token's agency submitted with this `reference`: its status "
    "and, once anchored, its receipt (as GET /v1/records/{digest}). Only the agency's own "
    "references are looked up: one used only by another agency is 404, exactly like one "
    "nobody uses. Agency token.",
    response_model=RecordPublic,
    responses={
        200: {
            "content": {
                "application/json": {
                    "example": {**example_of(RecordPublic), "reference": EXAMPLE_REFERENCE}
                }
            }
        },
        **problem_responses(401, 403, 404, 422, 503),
    },
)
def get_record_by_reference(
    reference: ReferencePath, agency: AgencyDep, runtime: RuntimeDep
) -> JSONResponse:
    state, receipt = service.own_record_by_reference(runtime.operator, agency, reference)
    return JSONResponse(record_view(state, receipt=receipt, own=True))


def _bulk_view(status: service.BulkStatus) -> dict[str, Any]:
    return {
        "bulkId": status.bulk_id,
        "count": status.count,
        "submittedAt": status.submitted_at,
        "statuses": status.statuses,
        "anchored": status.anchored,
        "complete": status.complete,
        "receipts": f"/v1/records/bulk/{status.bulk_id}/receipts" if status.complete else None,
    }


@router.get(
    "/bulk/{bulk_id}",
    summary="A bulk submission's status",
    description="How many of the submission's records are pending, batched, anchored or "
    "revoked, and whether every one has its receipt (then `receipts` says where they are). "
    "Only the agency that submitted it may ask (any other id: 404). Agency token.",
    response_model=BulkStatusPublic,
    responses={
        200: {"content": {"application/json": {"example": example_of(BulkStatusPublic)}}},
        **problem_responses(401, 403, 404, 422, 503),
    },
)
def get_bulk(bulk_id: BulkIdPath, agency: AgencyDep, runtime: RuntimeDep) -> JSONResponse:
    return JSONResponse(_bulk_view(service.bulk_status(runtime.operator, agency, bulk_id)))


_EXAMPLE_LINE = {
    "position": 0,
    "digest": EXAMPLE_DIGEST,
    "reference": EXAMPLE_REFERENCE,
    "receipt": EXAMPLE_RECEIPT,
}


@router.get(
    "/bulk/{bulk_id}/receipts",
    summary="A bulk submission's receipts (JSON lines)",
    description="Once every record of the submission is anchored: one JSON object per line "
    "(`application/x-ndjson`), in input order, each with the record's `position`, `digest`, "
    "`reference` and `receipt`. Before that: 409 with Retry-After (GET /v1/records/bulk/"
    "{bulkId} says how far it is). Agency token.",
    response_class=Response,
    responses={
        200: {
            "description": "The receipts, one JSON object per line (attachment).",
            "content": {"application/x-ndjson": {"example": json.dumps(_EXAMPLE_LINE) + "\n"}},
        },
        **problem_responses(401, 403, 404, 409, 422, 503),
    },
)
def get_bulk_receipts(bulk_id: BulkIdPath, agency: AgencyDep, runtime: RuntimeDep) -> Response:
    lines = service.bulk_receipts(runtime.keyring, agency, bulk_id)
    body = "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines)
    return Response(
        body,
        media_type="application/x-ndjson",
        headers={
            "Content-Disposition": f'attachment; filename="{bulk_id}.receipts.jsonl"',
        },
    )


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
        **problem_responses(401, 403, 404, 409, 413, 415, 422, 503),
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
