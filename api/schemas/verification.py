"""Verification answers: the verdict and each check's pass, fail or error."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field
from pydantic.alias_generators import to_camel

from api.schemas.common import EXAMPLE_AGENCY, ApiModel
from registry.checks import CheckName
from registry.vocabulary import Outcome, outcomes_described

# ------------------------------------------------------------------ verification


class CheckPublic(ApiModel):
    name: str = Field(description=", ".join(CheckName))
    status: Literal["pass", "fail", "skip", "error"] = Field(
        description="`error` means the check could not be run (node down): never a failure."
    )
    reason: str
    details: dict[str, str | int | bool | None]


class VerificationPublic(ApiModel):
    """The verdict and every named check: the same JSON as `registry verify --json`."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        json_schema_extra={
            "example": {
                "outcome": "VALID",
                "agency": EXAMPLE_AGENCY,
                "agencyName": "Civil Registry Office",
                "anchoredAt": "2026-11-23T10:00:00Z",
                "blockNumber": 2,
                "asOfBlock": 9,
                "chainSource": "mirror",
                "registry": "eip155:31337:0x5FbDB2315678afecb367f032d93F642f64180aa3",
                "country": "KZ",
                "registryName": "Republic of Kazakhstan public records registry",
                "revocationReason": None,
                "replacement": None,
                "checks": [
                    {
                        "name": "format",
                        "status": "pass",
                        "reason": "receipt version 2, well-formed",
                        "details": {},
                    },
                    {
                        "name": "revocation",
                        "status": "pass",
                        "reason": "neither the record nor its batch is revoked",
                        "details": {},
                    },
                ],
            }
        },
    )

    outcome: Outcome = Field(description=outcomes_described())
    agency: str | None = Field(description="The agency's identity address, as the chain has it.")
    agency_name: str | None
    anchored_at: str | None = Field(description="The anchor's block time, read from the chain.")
    block_number: int | None = Field(
        description="The anchor's block, read from the chain (`check()`), never the receipt's."
    )
    as_of_block: int | None = Field(
        None,
        description="The chain state the verdict reflects: the registry mirror's block (every "
        "anchor, revocation, key change and agency status up to it, to the confirmation "
        "depth), or the node's head block read in the same request. Null when the chain was "
        "not asked or the answer was cached.",
    )
    chain_source: Literal["mirror", "node"] | None = Field(
        None,
        description="Where the chain's answers came from: `mirror` (this server's registry "
        "mirror, followed from the contract's events) or `node` (asked now).",
    )
    registry: str | None = Field(
        None,
        description="The receipt's registry as CAIP-10 (`eip155:<chainId>:<address>`), once "
        "it is trusted.",
    )
    country: str | None = Field(
        None,
        description="The issuing country (ISO 3166-1 alpha-2) when a trust list this server "
        "holds names the registry (GET /v1/trust-list).",
    )
    registry_name: str | None = Field(None, description="The registry's name on that list.")
    revocation_reason: str | None
    replacement: str | None = Field(
        description="The digest the agency names as the replacement: a record to look up "
        "(GET /v1/verify/{digest}), not a verified document."
    )
    checks: list[CheckPublic]
