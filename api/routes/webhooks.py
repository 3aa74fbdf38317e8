"""Webhooks: an agency registers URLs that hear, signed, when its records are anchored (the
delivery, its signature and retries: registry/service/webhooks.py and docs/api.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from api.bodies import json_body, read_model
from api.deps import ActiveAgencyDep, AgencyDep, RuntimeDep
from api.errors import problem_responses
from api.runtime import ApiRuntime
from api.schemas import (
    EXAMPLE_WEBHOOK_ID,
    DeliveryList,
    WebhookCreate,
    WebhookDeleted,
    WebhookIssued,
    WebhookList,
    example_of,
)
from registry.service.agencies import AgencyRef
from registry.service.webhooks import (
    WebhookInfo,
    delete_webhook,
    register_webhook,
    webhook_deliveries,
    webhooks_of,
)

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])

WebhookIdPath = Annotated[
    str,
    Path(
        pattern=r"^wh_[0-9a-f]{24}$",
        description="A webhook's id (`id` of its registration).",
        examples=[EXAMPLE_WEBHOOK_ID],
    ),
]


def _when(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _view(hook: WebhookInfo) -> dict[str, Any]:
    return {
        "id": hook.id,
        "url": hook.url,
        "events": hook.events,
        "createdAt": _when(hook.created_at),
    }


@router.post(
    "",
    summary="Register a webhook",
    description="POST the agency's events to `url`: `records.anchored` when one of its "
    "batches is confirmed (the batch, its records' digests and references). Each delivery "
    "is signed, `X-Registry-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, t + '.' + "
    "body)>`, with the `secret` of this answer, shown once; it is retried with exponential "
    "backoff until the receiver answers 2xx. Only http(s) URLs whose host is a public "
    "address (loopback, private, link-local: 422 `unsafe-url`, unless the operator allows "
    "them). At most 10 per agency. Agency token.",
    status_code=201,
    response_model=WebhookIssued,
    responses={
        201: {
            "description": "Registered; the secret is shown this once.",
            "headers": {
                "Location": {
                    "description": "The webhook's deliveries.",
                    "schema": {"type": "string"},
                }
            },
            "content": {"application/json": {"example": example_of(WebhookIssued)}},
        },
        **problem_responses(401, 403, 413, 415, 422, 503),
    },
    openapi_extra=json_body("WebhookCreate", examples={"anchored": example_of(WebhookCreate)}),
)
async def create_webhook(
    request: Request, agency: ActiveAgencyDep, runtime: RuntimeDep
) -> JSONResponse:
    body = await read_model(request, WebhookCreate)
    return await run_in_threadpool(_create, runtime, agency, body)


def _create(runtime: ApiRuntime, agency: AgencyRef, body: WebhookCreate) -> JSONResponse:
    created = register_webhook(
        runtime.keyring,
        agency,
        url=body.url,
        events=None if body.events is None else list(body.events),
    )
    return JSONResponse(
        {**_view(created), "secret": created.secret},
        status_code=201,
        headers={"Location": f"/v1/webhooks/{created.id}/deliveries"},
    )


@router.get(
    "",
    summary="The agency's webhooks",
    description="Every webhook the token's agency registered and did not delete (never their "
    "secrets). Agency token.",
    response_model=WebhookList,
    responses={
        200: {"content": {"application/json": {"example": example_of(WebhookList)}}},
        **problem_responses(401, 403, 503),
    },
)
def list_webhooks(agency: AgencyDep, runtime: RuntimeDep) -> JSONResponse:
    return JSONResponse({"webhooks": [_view(h) for h in webhooks_of(runtime.operator, agency)]})


@router.delete(
    "/{webhook_id}",
    summary="Delete a webhook",
    description="Stop calling the webhook; what it still had to deliver is cancelled. Another "
    "agency's webhook is 404, like one that does not exist. Agency token.",
    response_model=WebhookDeleted,
    responses={
        200: {"content": {"application/json": {"example": example_of(WebhookDeleted)}}},
        **problem_responses(401, 403, 404, 422, 503),
    },
)
def remove_webhook(
    webhook_id: WebhookIdPath, agency: AgencyDep, runtime: RuntimeDep
) -> JSONResponse:
    cancelled = delete_webhook(runtime.operator, agency, webhook_id)
    return JSONResponse({"id": webhook_id, "deleted": True, "cancelledDeliveries": cancelled})


@router.get(
    "/{webhook_id}/deliveries",
    summary="A webhook's latest deliveries",
    description="The webhook's last 50 deliveries, newest first: event, state (pending, "
    "delivered, failed, cancelled), attempts, the receiver's last status or error, the next "
    "attempt. Another agency's webhook is 404. Agency token.",
    response_model=DeliveryList,
    responses={
        200: {"content": {"application/json": {"example": example_of(DeliveryList)}}},
        **problem_responses(401, 403, 404, 422, 503),
    },
)
def list_deliveries(
    webhook_id: WebhookIdPath, agency: AgencyDep, runtime: RuntimeDep
) -> JSONResponse:
    deliveries = webhook_deliveries(runtime.operator, agency, webhook_id)
    return JSONResponse(
        {
            "deliveries": [
                {
                    "id": d.id,
                    "event": d.event,
                    "state": d.state,
                    "attempts": d.attempts,
                    "lastStatus": d.last_status,
                    "lastError": d.last_error,
                    "nextAttemptAt": _when(d.next_attempt_at),
                    "createdAt": _when(d.created_at),
                    "deliveredAt": _when(d.delivered_at),
                }
                for d in deliveries
            ]
        }
    )


__all__ = ["router"]
