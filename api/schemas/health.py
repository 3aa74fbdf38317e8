"""Liveness, readiness and what this server speaks for."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field
from pydantic.alias_generators import to_camel

from api.schemas.common import EXAMPLE_REGISTRY, ApiModel

# ------------------------------------------------------------------ health


class Health(ApiModel):
    model_config = ConfigDict(json_schema_extra={"example": {"status": "ok"}})

    status: Literal["ok"]


class Readiness(ApiModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        json_schema_extra={
            "example": {
                "status": "ready",
                "store": "ok",
                "chain": "ok",
                "blockNumber": 42,
                "worker": "running",
            }
        },
    )

    status: Literal["ready"]
    store: str
    chain: str
    block_number: int
    worker: Literal["running", "stopped", "disabled"]


class ServiceInfo(ApiModel):
    """Which registry this server speaks for, and its limits."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        json_schema_extra={
            "example": {
                "registry": EXAMPLE_REGISTRY,
                "chainId": 31337,
                "mode": "node",
                "persistent": True,
                "trusted": [{"chainId": 31337, "registry": EXAMPLE_REGISTRY}],
                "maxBulkRecords": 10000,
                "maxBodyBytes": 20971520,
                "verifyRatePerSecond": 20.0,
            }
        },
    )

    registry: str
    chain_id: int
    mode: Literal["embedded", "node"]
    persistent: bool = Field(
        description="False on the embedded chain: every anchor vanishes when the server stops."
    )
    trusted: list[dict[str, str | int]]
    max_bulk_records: int
    max_body_bytes: int
    verify_rate_per_second: float
