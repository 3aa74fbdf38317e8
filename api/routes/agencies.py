"""Agencies, public: who may issue in this registry, their status, and every signing key with
its validity window, read from the chain's event log (not from this server's store)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from web3 import Web3

from api.deps import AddressPath, RuntimeDep
from api.errors import problem_responses
from api.schemas import AgencyList, AgencyPublic, example_of
from api.views import agency_view
from registry.errors import UnknownAgency
from registry.store import repo

router = APIRouter(prefix="/v1/agencies", tags=["agencies"])


def _known_here(runtime: RuntimeDep) -> set[str]:
    with runtime.operator.store.session() as session:
        return {a.address for a in repo.list_agencies(session)}


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
    state = runtime.events.state()
    here = _known_here(runtime)
    agencies = [
        agency_view(info, runtime.events.keys_of(address), issues_here=address in here)
        for address, info in state.agencies.items()
    ]
    return JSONResponse({"agencies": agencies})


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
    account = Web3.to_checksum_address(address)
    info = runtime.events.state().agencies.get(account)
    if info is None:
        raise UnknownAgency(
            f"{account} is not an agency of registry {runtime.operator.registry.address}"
        )
    keys = runtime.events.keys_of(account)
    return JSONResponse(agency_view(info, keys, issues_here=account in _known_here(runtime)))


__all__ = ["router"]
