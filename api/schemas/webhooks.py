"""Webhooks: what an agency registers, what it reads back, and what a delivery carries."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field
from pydantic.alias_generators import to_camel

from api.schemas.common import (
    EXAMPLE_AGENCY,
    EXAMPLE_DIGEST,
    EXAMPLE_ROOT,
    EXAMPLE_TX,
    ApiModel,
    RequestModel,
    example_of,
)

EXAMPLE_WEBHOOK_ID = "wh_3f9a1c0e7b2d4a6f8e1c5b9d"
EXAMPLE_URL = "https://records.civil-registry.example/hooks/registry"
EVENT = Literal["records.anchored"]


class WebhookCreate(RequestModel):
    """A webhook to register: where to POST, and which events (default: records.anchored)."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        json_schema_extra={"example": {"url": EXAMPLE_URL, "events": ["records.anchored"]}},
    )

    url: str = Field(
        max_length=2048,
        description="An http(s) URL whose host is a public address (loopback, private and "
        "link-local addresses are refused unless the operator allows them).",
    )
    events: list[EVENT] | None = Field(None, min_length=1, max_length=8)


class WebhookPublic(ApiModel):
    """A webhook as its agency reads it (never its secret)."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        json_schema_extra={
            "example": {
                "id": EXAMPLE_WEBHOOK_ID,
                "url": EXAMPLE_URL,
                "events": ["records.anchored"],
                "createdAt": "2026-11-23T09:00:00Z",
            }
        },
    )

    id: str
    url: str
    events: list[str]
    created_at: str


class WebhookIssued(WebhookPublic):
    """A webhook just registered, with the secret that signs its deliveries: shown this once
    (the server keeps it encrypted with the agency's data key, and never shows it again)."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        json_schema_extra={
            "example": {
                **example_of(WebhookPublic),
                "secret": "whsec_q8oB3kz1M2d0pYV7xJ4nRt6wE9sLc5aHf0gUiK2mZbQ",
            }
        },
    )

    secret: str = Field(
        description="HMAC-SHA256 key of `X-Registry-Signature` (its UTF-8 bytes). Shown once."
    )


class WebhookList(ApiModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        json_schema_extra={"example": {"webhooks": [example_of(WebhookPublic)]}},
    )

    webhooks: list[WebhookPublic]


class WebhookDeleted(ApiModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        json_schema_extra={
            "example": {"id": EXAMPLE_WEBHOOK_ID, "deleted": True, "cancelledDeliveries": 0}
        },
    )

    id: str
    deleted: bool
    cancelled_deliveries: int = Field(description="Deliveries still to make, now cancelled.")


class DeliveryPublic(ApiModel):
    """One delivery of one event to the webhook."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        json_schema_extra={
            "example": {
                "id": "dlv_17",
                "event": "records.anchored",
                "state": "pending",
                "attempts": 2,
                "lastStatus": 503,
                "lastError": "the receiver answered 503",
                "nextAttemptAt": "2026-11-23T10:00:40Z",
                "createdAt": "2026-11-23T10:00:01Z",
                "deliveredAt": None,
            }
        },
    )

    id: str = Field(description="Also the `X-Registry-Delivery` header and the payload's `id`.")
    event: str
    state: Literal["pending", "delivered", "failed", "cancelled"]
    attempts: int
    last_status: int | None
    last_error: str | None
    next_attempt_at: str | None
    created_at: str
    delivered_at: str | None


class DeliveryList(ApiModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        json_schema_extra={"example": {"deliveries": [example_of(DeliveryPublic)]}},
    )

    deliveries: list[DeliveryPublic]


EXAMPLE_EVENT: dict[str, Any] = {
    "id": "dlv_17",
    "type": "records.anchored",
    "createdAt": "2026-11-23T10:00:02Z",
    "agency": EXAMPLE_AGENCY,
    "batch": {
        "root": EXAMPLE_ROOT,
        "count": 1,
        "blockNumber": 2,
        "anchoredAt": "2026-11-23T10:00:00Z",
        "txHash": EXAMPLE_TX,
    },
    "records": [
        {
            "digest": EXAMPLE_DIGEST,
            "reference": "B-2026-000017",
            "receiptUrl": f"/v1/records/{EXAMPLE_DIGEST}/receipt",
        }
    ],
    "recordsComplete": True,
    "recordsUrl": f"/v1/batches/{EXAMPLE_ROOT}/records",
}


class WebhookEventRecord(ApiModel):
    digest: str
    reference: str | None
    receipt_url: str


class WebhookEventBatch(ApiModel):
    root: str
    count: int
    block_number: int | None
    anchored_at: str | None
    tx_hash: str | None


class WebhookEvent(ApiModel):
    """The body of a `records.anchored` delivery (POSTed to the webhook's URL with
    `X-Registry-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, t + "." + body)>`,
    `X-Registry-Event`, `X-Registry-Delivery`)."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        json_schema_extra={"example": EXAMPLE_EVENT},
    )

    id: str
    type: EVENT
    created_at: str
    agency: str
    batch: WebhookEventBatch
    records: list[WebhookEventRecord] = Field(
        description="The batch's records in leaf order (the first 1,000 of a larger batch)."
    )
    records_complete: bool
    records_url: str
