"""Batches: public reads (root, state, transaction, block, size) for auditors, and the
revocation of a whole batch by the agency that anchored it."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from api.bodies import json_body, read_model
from api.deps import ActiveAgencyDep, RootPath, RuntimeDep, hex32
from api.errors import problem_responses
from api.runtime import ApiRuntime
from api.schemas import (
    BatchList,
    BatchPublic,
    BatchRecordList,
    BatchRevocationCreate,
    RevocationPublic,
    example_of,
)
from api.views import batch_view, revocation_view
from registry.service.agencies import AgencyRef
from registry.service.records import (
    MAX_PAGE,
    batches_page,
    public_batch,
    public_batch_records,
    revoke_own_batch,
)

router = APIRouter(prefix="/v1/batches", tags=["batches"])

State = Literal["sealed", "submitted", "anchored", "confirmed", "failed"]


@router.get(
    "",
    summary="List batches, newest first",
    description="Batches of this registry's store, newest first, optionally of one agency or "
    "state; page with `before` (the `nextBefore` of the previous page). Public.",
    response_model=BatchList,
    responses={
        200: {"content": {"application/json": {"example": example_of(BatchList)}}},
        **problem_responses(422, 503),
    },
)
def get_batches(
    runtime: RuntimeDep,
    agency: Annotated[
        str | None,
        Query(pattern=r"^0x[0-9a-fA-F]{40}$", description="Only this agency's batches."),
    ] = None,
    state: Annotated[State | None, Query(description="Only batches in this state.")] = None,
    before: Annotated[
        int | None, Query(ge=1, le=2**62, description="Only batches older than this cursor.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="Batches per page.")] = 50,
) -> JSONResponse:
    page, next_before = batches_page(
        runtime.operator, agency_address=agency, state=state, before_id=before, limit=limit
    )
    return JSONResponse({"batches": [batch_view(b) for b in page], "nextBefore": next_before})


@router.get(
    "/{root}",
    summary="One batch by its Merkle root",
    description="A batch's state in the pipeline, its anchoring transaction and block, and its "
    "record count; its records are listed at GET /v1/batches/{root}/records. Public.",
    response_model=BatchPublic,
    responses={
        200: {"content": {"application/json": {"example": example_of(BatchPublic)}}},
        **problem_responses(404, 422, 503),
    },
)
def get_batch(root: RootPath, runtime: RuntimeDep) -> JSONResponse:
    return JSONResponse(batch_view(public_batch(runtime.operator, hex32(root))))


@router.get(
    "/{root}/records",
    summary="A batch's records, in leaf order",
    description="The records sealed into the batch: each one's position (`leafIndex`), "
    "digest, kind and status, a page at a time (`after`: the `nextAfter` of the previous "
    "page; `limit` 1-500, default 100), with the batch itself. Public: a digest reveals "
    "nothing of a record's content, and the agencies' own references are not shown.",
    response_model=BatchRecordList,
    responses={
        200: {"content": {"application/json": {"example": example_of(BatchRecordList)}}},
        **problem_responses(404, 422, 503),
    },
)
def get_batch_records(
    root: RootPath,
    runtime: RuntimeDep,
    after: Annotated[
        int | None, Query(ge=0, le=2**32, description="Only records after this leaf index.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Records per page.")] = 100,
) -> JSONResponse:
    page = public_batch_records(runtime.operator, hex32(root), after=after, limit=limit)
    return JSONResponse(
        {
            "batch": batch_view(page.batch),
            "records": [
                {
                    "leafIndex": r.leaf_index,
                    "digest": r.digest,
                    "digestKind": r.digest_kind,
                    "status": r.status,
                }
                for r in page.records
            ],
            "nextAfter": page.next_after,
        }
    )


@router.post(
    "/{root}/revoke",
    summary="Revoke a whole batch",
    description="Revoke every record of one of the agency's own batches at once, on chain "
    "(any reason but 2, superseded: a batch is not superseded as a whole). Another agency's "
    "batch: 403. The node down: 503 with Retry-After. Agency token.",
    response_model=RevocationPublic,
    responses={
        200: {
            "content": {
                "application/json": {
                    "example": {
                        **example_of(RevocationPublic),
                        "wholeBatch": True,
                        "reason": 1,
                        "reasonText": "issued in error",
                        "replacement": None,
                    }
                }
            }
        },
        **problem_responses(401, 403, 404, 409, 413, 415, 422, 503),
    },
    openapi_extra=json_body(
        "BatchRevocationCreate", examples={"issued-in-error": {"reason": 1, "replacement": None}}
    ),
)
async def revoke_whole_batch(
    root: RootPath, request: Request, agency: ActiveAgencyDep, runtime: RuntimeDep
) -> JSONResponse:
    # The body is read only now, after the agency's token was checked.
    body = await read_model(request, BatchRevocationCreate)
    return await run_in_threadpool(_revoke_whole_batch, runtime, agency, root, body)


def _revoke_whole_batch(
    runtime: ApiRuntime, agency: AgencyRef, root: str, body: BatchRevocationCreate
) -> JSONResponse:
    result = revoke_own_batch(runtime.keyring, agency, hex32(root), reason=body.reason)
    runtime.reader.forget()
    return JSONResponse(revocation_view(result))


__all__ = ["router"]
