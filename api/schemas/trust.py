"""The trust lists a verifier holds (docs/trust.md): which country registries it trusts, and
in which status windows."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field
from pydantic.alias_generators import to_camel

from api.schemas.common import ApiModel

EXAMPLE_REGISTRY_ID = "eip155:31337:0x5FbDB2315678afecb367f032d93F642f64180aa3"


class StatusPublic(ApiModel):
    status: Literal["granted", "withdrawn"]
    since: str


class TrustedRegistryPublic(ApiModel):
    """A country's registry on a held list."""

    country: str = Field(description="ISO 3166-1 alpha-2.")
    name: str
    registry: str = Field(description="CAIP-10: eip155:<chainId>:<address>.")
    chain_id: int
    address: str
    status: StatusPublic = Field(description="The current status.")
    history: list[StatusPublic] = Field(
        description="Every status, oldest first: anchors made while `granted` are trusted."
    )


class TrustListPublic(ApiModel):
    """One held list, checked when the server started."""

    sequence: int = Field(description="LoTESequenceNumber.")
    operator: str = Field(description="SchemeOperatorName: the publishing authority.")
    territory: str = Field(description="SchemeTerritory.")
    issued: str = Field(description="ListIssueDateTime.")
    next_update: str = Field(description="NextUpdate: after it the list is no longer used.")
    digest: str = Field(description="SHA-256 of the list's RFC 8785 canonical JSON.")
    signer: str = Field(description="The proof's verificationMethod (a did:key).")
    registries: list[TrustedRegistryPublic]
    document: dict[str, Any] = Field(description="The signed list itself, as held.")


class TrustLists(ApiModel):
    """Every trust list this server holds; empty when it trusts only configured registries."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        json_schema_extra={
            "example": {
                "lists": [
                    {
                        "sequence": 3,
                        "operator": "Alliance Secretariat",
                        "territory": "ZZ",
                        "issued": "2026-11-30T09:00:00Z",
                        "nextUpdate": "2027-02-28T09:00:00Z",
                        "digest": "0x" + "ab" * 32,
                        "signer": "did:key:z6Mk...#z6Mk...",
                        "registries": [
                            {
                                "country": "KZ",
                                "name": "Republic of Kazakhstan public records registry",
                                "registry": EXAMPLE_REGISTRY_ID,
                                "chainId": 31337,
                                "address": EXAMPLE_REGISTRY_ID.split(":")[2],
                                "status": {"status": "granted", "since": "2026-01-01T00:00:00Z"},
                                "history": [{"status": "granted", "since": "2026-01-01T00:00:00Z"}],
                            }
                        ],
                        "document": {"LoTE": {}, "proof": {}},
                    }
                ]
            }
        },
    )

    lists: list[TrustListPublic]
