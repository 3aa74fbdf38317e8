"""Agencies, public: who may issue in this registry, their status, and every signing key with
its validity window, read from the chain's event log (not from this server's store)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import AddressPath, RuntimeDep
from api.errors import problem_responses
from api.schemas import AgencyList, AgencyPublic, example_of
from api.views import agency_view
from registry.service.agencies import public_agencies, public_agency

router = APIRouter(prefix="/v1/agencies", tags=["agencies"])


@router.get(
    "",
    summary="List the registry's agencies",
    description="Every agency registered on chain, its status, and its signing keys with their "
    "validity windows (rebuilt from the contract's events). Public.",
    response_model=AgencyList,
    responses={
        200: {"content": {"application/json": {"example": example_of(AgencyList)}}},
        **problem_responses(503),
    },
)
def list_agencies(runtime: RuntimeDep) -> JSONResponse:
    agencies = public_agencies(runtime.events, runtime.operator.store)
    return JSONResponse({"agencies": [agency_view(agency) for agency in agencies]})


@router.get(
    "/{address}",
    summary="One agency, with its keys",
    description="An agency by account address: status (and since when), and every Ed25519 "
    "signing key it has had, with the window in which receipts signed by it are valid. Public.",
    response_model=AgencyPublic,
    responses={
        200: {"content": {"application/json": {"example": example_of(AgencyPublic)}}},
        **problem_responses(404, 422, 503),
    },
)
def get_agency(address: AddressPath, runtime: RuntimeDep) -> JSONResponse:
    return JSONResponse(agency_view(public_agency(runtime.events, runtime.operator.store, address)))


__all__ = ["router"]
