"""Administration by the registry authority (admin token): register, suspend and reinstate
agencies — on chain with the authority's key, and in the store — and issue or revoke API
tokens. A new token is shown once; only its SHA-256 is stored."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from api.bodies import json_body, read_model
from api.deps import AddressPath, AdminDep, RuntimeDep
from api.errors import problem_responses
from api.runtime import ApiRuntime
from api.schemas import (
    AgencyCreate,
    AgencyPublic,
    TokenCreate,
    TokenIssued,
    TokenList,
    example_of,
)
from api.views import agency_view, token_view
from registry.service.admin import register_agency, set_agency_active_held
from registry.service.agencies import public_agency
from registry.service.tokens import issue_agency_token, list_api_tokens, revoke_api_token

router = APIRouter(prefix="/v1/admin", tags=["admin"])

_AGENCY_EXAMPLE = example_of(AgencyPublic)


def _agency_json(runtime: ApiRuntime, address: str) -> dict[str, object]:
    """The agency as the chain has it now (this server just changed it)."""
    return agency_view(public_agency(runtime.events, runtime.operator.store, address, fresh=True))


@router.post(
    "/agencies",
    summary="Register an agency",
    description="Generate the agency's account and Ed25519 signing key in the server's data "
    "directory (encrypted with the server's passphrase), register it on chain with the "
    "authority's key, add it to the store; its keys are loaded for anchoring at once. "
    "Then issue it a token. Admin token.",
    status_code=201,
    response_model=AgencyPublic,
    responses={
        201: {"content": {"application/json": {"example": _AGENCY_EXAMPLE}}},
        **problem_responses(401, 403, 409, 413, 422, 503),
    },
    openapi_extra=json_body("AgencyCreate", examples={"land-registry": example_of(AgencyCreate)}),
)
async def create_agency(request: Request, _admin: AdminDep, runtime: RuntimeDep) -> JSONResponse:
    # The body is read only now, after the admin token was checked.
    body = await read_model(request, AgencyCreate)
    return await run_in_threadpool(_create_agency, runtime, body)


def _create_agency(runtime: ApiRuntime, body: AgencyCreate) -> JSONResponse:
    agency = register_agency(
        runtime.keyring, body.name, fund_from_dev=body.fund_from_dev or runtime.embedded
    )
    return JSONResponse(
        _agency_json(runtime, agency.address),
        status_code=201,
        headers={"Location": f"/v1/agencies/{agency.address}"},
    )


def _set_active(runtime: ApiRuntime, address: str, *, active: bool) -> JSONResponse:
    agency = set_agency_active_held(runtime.keyring, address, active=active)
    runtime.reader.forget()
    if active:
        runtime.worker.retry_now(agency.id)
    return JSONResponse(_agency_json(runtime, agency.address))


@router.post(
    "/agencies/{address}/suspend",
    summary="Suspend an agency",
    description="On chain and in the store: the agency can no longer anchor or revoke, and its "
    "token can no longer submit. Records it anchored before stay valid. Admin token.",
    response_model=AgencyPublic,
    responses={
        200: {
            "content": {"application/json": {"example": {**_AGENCY_EXAMPLE, "status": "suspended"}}}
        },
        **problem_responses(401, 403, 404, 409, 422, 503),
    },
)
def suspend(address: AddressPath, _admin: AdminDep, runtime: RuntimeDep) -> JSONResponse:
    return _set_active(runtime, address, active=False)


@router.post(
    "/agencies/{address}/reinstate",
    summary="Reinstate a suspended agency",
    description="On chain and in the store: the agency may issue and revoke again. Admin token.",
    response_model=AgencyPublic,
    responses={
        200: {"content": {"application/json": {"example": _AGENCY_EXAMPLE}}},
        **problem_responses(401, 403, 404, 409, 422, 503),
    },
)
def reinstate(address: AddressPath, _admin: AdminDep, runtime: RuntimeDep) -> JSONResponse:
    return _set_active(runtime, address, active=True)


@router.post(
    "/agencies/{address}/tokens",
    summary="Issue an agency API token",
    description="A new token acting for this agency only. The token is in this answer and "
    "nowhere else: the store keeps its SHA-256. Admin token.",
    status_code=201,
    response_model=TokenIssued,
    responses={
        201: {"content": {"application/json": {"example": example_of(TokenIssued)}}},
        **problem_responses(401, 403, 404, 413, 422, 503),
    },
    openapi_extra=json_body("TokenCreate", examples={"issuing-system": example_of(TokenCreate)}),
)
async def create_token(
    address: AddressPath, request: Request, _admin: AdminDep, runtime: RuntimeDep
) -> JSONResponse:
    body = await read_model(request, TokenCreate)
    return await run_in_threadpool(_create_token, runtime, address, body)


def _create_token(runtime: ApiRuntime, address: str, body: TokenCreate) -> JSONResponse:
    token_id, token, agency = issue_agency_token(runtime.operator.store, address, label=body.label)
    return JSONResponse(
        {
            "id": token_id,
            "token": token,
            "scope": "agency",
            "agency": agency.address,
            "label": body.label,
        },
        status_code=201,
        headers={"Cache-Control": "no-store"},
    )


@router.get(
    "/tokens",
    summary="List API tokens",
    description="Every token's id, scope, agency, label and dates (never the token). Admin token.",
    response_model=TokenList,
    responses={
        200: {"content": {"application/json": {"example": example_of(TokenList)}}},
        **problem_responses(401, 403, 503),
    },
)
def get_tokens(_admin: AdminDep, runtime: RuntimeDep) -> JSONResponse:
    tokens = list_api_tokens(runtime.operator.store)
    return JSONResponse({"tokens": [token_view(token) for token in tokens]})


@router.delete(
    "/tokens/{token_id}",
    summary="Revoke an API token",
    description="The token stops working at once; revoking it again changes nothing. The last "
    "admin token cannot be revoked (409: that would lock every administrator out; create "
    "another first). Admin token.",
    responses={
        200: {
            "description": "The revoked token.",
            "content": {
                "application/json": {
                    "schema": {"$ref": "#/components/schemas/TokenPublic"},
                    "example": {
                        **example_of(TokenList)["tokens"][0],
                        "revokedAt": "2026-11-24T08:00:00Z",
                    },
                }
            },
        },
        **problem_responses(401, 403, 404, 409, 422, 503),
    },
)
def delete_token(
    token_id: Annotated[int, Path(ge=1, le=2**31 - 1, description="The token's id.")],
    _admin: AdminDep,
    runtime: RuntimeDep,
) -> JSONResponse:
    return JSONResponse(token_view(revoke_api_token(runtime.operator.store, token_id)))


__all__ = ["router"]
