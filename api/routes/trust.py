"""The trust lists this server holds (docs/trust.md), public: which country registries its
verdicts trust, in which status windows, and the signed lists themselves."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import RuntimeDep
from api.schemas import example_of
from api.schemas.trust import TrustLists
from api.views import trust_list_view

router = APIRouter(prefix="/v1/trust-list", tags=["trust"])


@router.get(
    "",
    summary="The trust lists this server holds",
    description="Each signed alliance trust list this server verifies against (checked at "
    "start: signed by a pinned publisher key, not past its next update, never older than a "
    "version seen before), with every country registry it names and its status history. "
    "An empty `lists`: the server trusts only its own and configured registries. Public.",
    response_model=TrustLists,
    responses={200: {"content": {"application/json": {"example": example_of(TrustLists)}}}},
)
async def trust_lists(runtime: RuntimeDep) -> JSONResponse:
    return JSONResponse({"lists": [trust_list_view(trust) for trust in runtime.trust_lists]})


__all__ = ["router"]
