"""Operations: liveness, readiness (store and chain reachable), Prometheus metrics, and which
registry this server speaks for."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from api.deps import RuntimeDep
from api.errors import problem, problem_responses
from api.metrics import CONTENT_TYPE
from api.schemas import Health, Readiness, ServiceInfo, example_of
from registry.service.queries import check_chain_head, check_store
from registry.service.verify import node_failure

router = APIRouter(tags=["health"])


@router.get(
    "/healthz",
    summary="Liveness",
    description="200 while the process answers; says nothing about the chain or the store.",
    response_model=Health,
    responses={200: {"content": {"application/json": {"example": {"status": "ok"}}}}},
)
async def healthz() -> JSONResponse:
    return JSONResponse({"status": "ok"})


@router.get(
    "/readyz",
    summary="Readiness",
    description="200 when the store and the chain node both answer; 503 (problem+json naming "
    "which one failed, with Retry-After) otherwise.",
    response_model=Readiness,
    responses={
        200: {"content": {"application/json": {"example": example_of(Readiness)}}},
        **problem_responses(503),
    },
)
def readyz(runtime: RuntimeDep) -> JSONResponse:
    store = chain = "ok"
    block = -1
    try:
        check_store(runtime.operator.store)
    except Exception as exc:  # any failure means "not ready"; the detail names it
        store = f"unreachable: {type(exc).__name__}"
    try:
        block = check_chain_head(runtime.operator)
    except Exception as exc:
        # A stable reason, never the node's URL or the exception's text (logged, redacted).
        chain = f"unreachable: {node_failure(exc, where='readyz: the chain check')}"
        runtime.metrics.chain_errors.labels("readyz").inc()
    if store != "ok" or chain != "ok":
        return problem(
            503,
            slug="not-ready",
            detail=f"store: {store}; chain: {chain}",
            instance="/readyz",
            headers={"Retry-After": str(runtime.settings.api_retry_after)},
            store=store,
            chain=chain,
        )
    if not runtime.run_worker:
        worker = "disabled"
    else:
        worker = "running" if runtime.worker.running else "stopped"
    return JSONResponse(
        {"status": "ready", "store": store, "chain": chain, "blockNumber": block, "worker": worker}
    )


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    description="Records by state, batches by state, age of the oldest pending record and of "
    "the oldest unfinished batch, anchoring latency, verification outcomes, chain errors.",
    response_class=Response,
    responses={
        200: {
            "description": "Prometheus text exposition format.",
            "content": {
                "text/plain": {
                    "schema": {"type": "string"},
                    "example": 'registry_records{status="pending"} 12.0\n'
                    'registry_verifications_total{outcome="VALID"} 1042.0\n',
                }
            },
        }
    },
)
def metrics(runtime: RuntimeDep) -> Response:
    return Response(runtime.metrics.render(), media_type=CONTENT_TYPE)


@router.get(
    "/v1/info",
    summary="Which registry this server speaks for",
    description="The registry contract and chain id (check them against the ones you trust), "
    "the registries trusted for verification, whether anchors persist (not on the embedded "
    "chain), and the request limits.",
    response_model=ServiceInfo,
    responses={
        200: {"content": {"application/json": {"example": example_of(ServiceInfo)}}},
    },
)
async def info(runtime: RuntimeDep) -> JSONResponse:
    registry = runtime.operator.registry
    settings = runtime.settings
    return JSONResponse(
        {
            "registry": registry.address,
            "chainId": registry.chain_id,
            "mode": "embedded" if runtime.embedded else "node",
            "persistent": not runtime.embedded,
            "trusted": [{"chainId": t.chain_id, "registry": t.address} for t in runtime.trusted],
            "maxBulkRecords": settings.api_max_bulk_records,
            "maxBodyBytes": settings.api_max_body_bytes,
            "verifyRatePerSecond": settings.api_verify_rate,
        }
    )


__all__ = ["router"]
