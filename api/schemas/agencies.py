"""Agencies (public, from the chain's event log) and their administration: registering an
agency, its API tokens."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field
from pydantic.alias_generators import to_camel

from api.schemas.common import EXAMPLE_AGENCY, EXAMPLE_KEY, ApiModel, RequestModel, example_of

# ------------------------------------------------------------------ agencies


class KeyWindowPublic(ApiModel):
    public_key: str
    valid_from: str
    valid_until: str | None = Field(description="null while the key is current.")
    current: bool


class AgencyPublic(ApiModel):
    """An agency as the chain knows it, with every signing key it ever had."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        json_schema_extra={
            "example": {
                "address": EXAMPLE_AGENCY,
                "name": "Civil Registry Office",
                "status": "active",
                "account": EXAMPLE_AGENCY,
                "registeredAt": "2026-11-01T08:00:00Z",
                "statusChangedAt": "2026-11-01T08:00:00Z",
                "signingKey": EXAMPLE_KEY,
                "keys": [
                    {
                        "publicKey": EXAMPLE_KEY,
                        "validFrom": "2026-11-01T08:00:00Z",
                        "validUntil": None,
                        "current": True,
                    }
                ],
                "issuesHere": True,
            }
        },
    )

    address: str = Field(description="The agency's identity: its namespace on chain, for good.")
    name: str
    status: Literal["active", "suspended", "compromised", "none"] = Field(
        description="`compromised`: the registry authority marked its account compromised "
        "(anchors and revocations inside the window are void); active again once moved."
    )
    account: str | None = Field(
        description="The transaction account acting for it now (moved by the authority after "
        "a compromise; the identity stays)."
    )
    registered_at: str
    status_changed_at: str
    signing_key: str
    keys: list[KeyWindowPublic]
    issues_here: bool = Field(description="Whether this server's store knows the agency.")


class AgencyList(ApiModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        json_schema_extra={"example": {"agencies": [example_of(AgencyPublic)]}},
    )

    agencies: list[AgencyPublic]


# ------------------------------------------------------------------ admin


class AgencyCreate(RequestModel):
    """A new agency: its account and signing key are generated in the server's data directory
    (encrypted with the server's passphrase), registered on chain and in the store."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        json_schema_extra={"example": {"name": "Land Registry", "fundFromDev": False}},
    )

    name: str = Field(min_length=1, max_length=200, pattern=r".*[A-Za-z0-9].*")
    fund_from_dev: bool = Field(
        False, description="Fund the new account from the node's dev account (anvil, embedded)."
    )


class TokenCreate(RequestModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        json_schema_extra={"example": {"label": "issuing system, production"}},
    )

    label: str = Field(min_length=1, max_length=200, description="What the token is for.")


class TokenIssued(ApiModel):
    """A new API token. The token is shown this once: only its SHA-256 is stored."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        json_schema_extra={
            "example": {
                "id": 3,
                "token": "prr_3q2-7wEXAMPLEonly-dOnOtUsE",
                "scope": "agency",
                "agency": EXAMPLE_AGENCY,
                "label": "issuing system, production",
            }
        },
    )

    id: int
    token: str
    scope: Literal["agency", "admin"]
    agency: str | None
    label: str


class TokenPublic(ApiModel):
    id: int
    scope: Literal["agency", "admin"]
    agency: str | None
    label: str
    created_at: str
    revoked_at: str | None


class TokenList(ApiModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        json_schema_extra={
            "example": {
                "tokens": [
                    {
                        "id": 3,
                        "scope": "agency",
                        "agency": EXAMPLE_AGENCY,
                        "label": "issuing system, production",
                        "createdAt": "2026-11-23T09:00:00Z",
                        "revokedAt": None,
                    }
                ]
            }
        },
    )

    tokens: list[TokenPublic]
