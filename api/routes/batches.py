"""Batches: public reads (root, state, transaction, block, size) for auditors, and the
revocation of a whole batch by the agency that anchored it."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from web3 import Web3

from api.bodies import json_body, read_model
from api.deps import ActiveAgencyDep, RootPath, RuntimeDep, hex32
from api.errors import Forbidden, NotAnchored, problem_responses
from api.runtime import ApiRuntime
from api.schemas import (
    BatchList,
    BatchPublic,
    BatchRevocationCreate,
    RevocationPublic,
    example_of,
)
from api.views import batch_view, revocation_view
from registry.service.queries import batch_summary, list_batches
from registry.service.revoking import revoke_batch
from registry.store import repo
from registry.store.errors import NotFound
from registry.store.models import Agency

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
    agency_id = None
    if agency is not None:
        with runtime.operator.store.session() as session:
            found = repo.agency_by_address(session, Web3.to_checksum_address(agency))
        if found is None:
            return JSONResponse({"batches": [], "nextBefore": None})
        agency_id = found.id
    page = list_batches(
        runtime.operator.store, agency_id=agency_id, state=state, before_id=before, limit=limit
    )
    next_before = page[-1].id if len(page) == limit else None
    return JSONResponse({"batches": [batch_view(b) for b in page], "nextBefore": next_before})


@router.get(
    "/{root}",
    summary="One batch by its Merkle root",
    description="A batch's state in the pipeline, its anchoring transaction and block, and its "
    "record count. Public.",
    response_model=BatchPublic,
    responses={
        200: {"content": {"application/json": {"example": example_of(BatchPublic)}}},
        **problem_responses(404, 422, 503),
    },
)
def get_batch(root: RootPath, runtime: RuntimeDep) -> JSONResponse:
    summary = batch_summary(runtime.operator.store, hex32(root))
    if summary is None:
        raise NotFound(f"no batch with root {root} in this registry")
    return JSONResponse(batch_view(summary))


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
        **problem_responses(401, 403, 404, 409, 413, 422, 503),
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
    runtime: ApiRuntime, agency: Agency, root: str, body: BatchRevocationCreate
) -> JSONResponse:
    value = hex32(root)
    summary = batch_summary(runtime.operator.store, value, agency_id=agency.id)
    if summary is None:
        # Roots are per agency: another agency may hold this root too (said, never named).
        if batch_summary(runtime.operator.store, value) is not None:
            raise Forbidden(f"batch {root} belongs to another agency; only it may revoke it")
        raise NotFound(f"no batch with root {root} in this registry")
    if summary.state != "confirmed":
        raise NotAnchored(f"batch {root} is {summary.state}; it can be revoked once anchored")
    issuer = runtime.keyring.issuer_for(agency)
    with runtime.keyring.sending(issuer.account.address):
        result = revoke_batch(
            store=runtime.operator.store,
            registry=runtime.operator.registry,
            account=issuer.account,
            agency_id=agency.id,
            root=value,
            reason=body.reason,
        )
    runtime.reader.forget()
    return JSONResponse(revocation_view(result))


__all__ = ["router"]
