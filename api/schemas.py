"""Request and response schemas of the HTTP API, separate from the store's table models.

JSON is camelCase (like the receipt format); Python attributes are snake_case. Every model
carries an example, so the OpenAPI document shows a complete exchange for every route.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from registry.vocabulary import BATCH_REASONS, Outcome, Reason, outcomes_described, reasons_listed

HEX32 = r"^0x[0-9a-fA-F]{64}$"
"""A 32-byte value as 0x + 64 hex digits (answers always use lower case)."""

EXAMPLE_DIGEST = "0xa413818bef46c4137cd0f93e3e3a5f076c93203564e31e0fd8f6683854be575b"
EXAMPLE_ROOT = "0x05be7d650024e4a14b167ae2a7a8079de0de4bd9a25569e5ccc23fff2e707bcb"
EXAMPLE_TX = "0x51e833ee3123f82369f3f2c54e1351264f742d64b6f9f92e48bc2d4ee65380c4"
EXAMPLE_AGENCY = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
EXAMPLE_REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
EXAMPLE_KEY = "0x8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c"

EXAMPLE_RECEIPT: dict[str, Any] = {
    "type": "RecordReceipt",
    "version": 2,
    "digest": EXAMPLE_DIGEST,
    "digestKind": "file",
    "leaf": "0x3ebf6aec4ed202871951731d652e9945ef16630caa28a656960d74f9b8430b0f",
    "merkle": {
        "root": EXAMPLE_ROOT,
        "proof": ["0x86a3d4b283ea1347df331cfbffd47c7cf037a867f4eda585dd43d042b3913d8a"],
        "count": 2,
    },
    "anchor": {
        "chainId": 31337,
        "registry": EXAMPLE_REGISTRY,
        "agency": EXAMPLE_AGENCY,
        "blockNumber": 2,
        "anchoredAt": "2026-11-23T10:00:00Z",
    },
    "signature": {
        "alg": "Ed25519",
        "publicKey": EXAMPLE_KEY,
        "value": "0xcfbf1798d5bb28060f684cb3f5e38740635f539b3f32ee8a1b08cbc1069066d9"
        "1b1c227a71b791cebc574e4e4ae83fdc29384b82c24a5ee26c0780a32b5c810a",
    },
}
"""The shape of a version-2 receipt (docs/receipt.md); v2 carries no transaction hash and no
position in the batch: nothing on chain proves them, so nothing shows them."""

EXAMPLE_RECORD: dict[str, Any] = {
    "type": "BirthCertificate",
    "number": "B-2026-000017",
    "child": {"given": "Mari", "family": "Tamm", "born": "2026-03-14"},
    "place": "Tallinn",
}

EXAMPLE_SEALED: dict[str, Any] = {
    "type": "SealedRecord",
    "version": 1,
    "data": {"name": "Ada Lovelace", "born": "1815-12-10", "languages": ["en", "fr"]},
    "salts": {
        "/name": "0x01010101010101010101010101010101",
        "/born": "0x02020202020202020202020202020202",
        "/languages/0": "0x03030303030303030303030303030303",
        "/languages/1": "0x04040404040404040404040404040404",
    },
    "redacted": [],
    "digest": "0x79376dbfa361546e383d0f23f31d873c3d120e4e50e6a4780045b4b574a3499d",
    "receipt": None,
}


def example_of(model: type[BaseModel]) -> dict[str, Any]:
    """The example a model declares (for OpenAPI response examples)."""
    extra = model.model_config.get("json_schema_extra")
    assert isinstance(extra, dict)
    example = extra["example"]
    assert isinstance(example, dict)
    return example


class ApiModel(BaseModel):
    """camelCase on the wire, snake_case in Python."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class RequestModel(ApiModel):
    """A request body: unknown fields are refused, naming the field."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


# ------------------------------------------------------------------ problems


class FieldError(ApiModel):
    field: str = Field(description="Where: `body.records.3./child/born`, `path.digest`, ...")
    message: str


class Problem(ApiModel):
    """RFC 9457 problem details: every 4xx and 5xx answer has this shape."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        json_schema_extra={
            "example": {
                "type": "urn:public-records-registry:problem:invalid-input",
                "title": "Unprocessable Content",
                "status": 422,
                "detail": "digest: expected 0x and 64 hex digits",
                "instance": "/v1/records/0x12",
                "errors": [{"field": "path.digest", "message": "expected 0x and 64 hex digits"}],
            }
        },
    )

    type: str = Field(description="A URN naming the kind of problem (see docs/api.md).")
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldError] | None = Field(None, description="Each malformed field (422).")


# ------------------------------------------------------------------ receipts and documents


class MerklePart(ApiModel):
    root: str = Field(pattern=HEX32)
    proof: list[str] = Field(max_length=64)
    count: int = Field(ge=1)


class AnchorPart(ApiModel):
    chain_id: int = Field(ge=1)
    registry: str
    agency: str = Field(description="The agency's identity address (its namespace on chain).")
    block_number: int = Field(ge=1)
    anchored_at: str = Field(description="Block time, YYYY-MM-DDTHH:MM:SSZ.")


class SignaturePart(ApiModel):
    alg: Literal["Ed25519"]
    public_key: str
    value: str


class ReceiptModel(ApiModel):
    """A version-2 record receipt (docs/receipt.md): a receipt and any node verify a record."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        json_schema_extra={"example": EXAMPLE_RECEIPT},
    )

    type: Literal["RecordReceipt"]
    version: Literal[2]
    digest: str = Field(pattern=HEX32)
    digest_kind: Literal["file", "record"]
    leaf: str = Field(pattern=HEX32)
    merkle: MerklePart
    anchor: AnchorPart
    signature: SignaturePart


class SealedDocumentModel(ApiModel):
    """A sealed structured record (docs/receipt.md section 2): data, salts, what was redacted,
    the digest, and the receipt once anchored."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        json_schema_extra={"example": EXAMPLE_SEALED},
    )

    type: Literal["SealedRecord"]
    version: Literal[1]
    data: dict[str, Any]
    salts: dict[str, str]
    redacted: list[str]
    digest: str = Field(pattern=HEX32)
    receipt: ReceiptModel | None


# ------------------------------------------------------------------ records


class RecordCreate(RequestModel):
    """One structured record to issue. It is sealed with the agency's salts (the same record
    sealed twice gets the same digest, so submitting it again is harmless)."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        json_schema_extra={"example": {"record": EXAMPLE_RECORD}},
    )

    record: dict[str, Any] = Field(description="The record: a JSON object with at least one field.")


class RecordBulkCreate(RequestModel):
    """Many structured records at once (at most `api_max_bulk_records`, default 10,000)."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        json_schema_extra={"example": {"records": [EXAMPLE_RECORD, {**EXAMPLE_RECORD, "n": 2}]}},
    )

    records: list[dict[str, Any]] = Field(min_length=1)


class DigestCreate(RequestModel):
    """A file's SHA-256, computed by the agency (the file itself never leaves it)."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        json_schema_extra={"example": {"digest": EXAMPLE_DIGEST}},
    )

    digest: str = Field(pattern=HEX32, description="SHA-256 of the file's bytes.")


class RevocationCreate(RequestModel):
    """Revoke, or supersede (reason 2 + the replacement's digest)."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        json_schema_extra={"example": {"reason": 2, "replacement": EXAMPLE_DIGEST}},
    )

    reason: int = Field(
        ge=int(min(Reason)), le=int(max(Reason)), description=reasons_listed() + "."
    )
    replacement: str | None = Field(
        None, pattern=HEX32, description="Digest of the record that supersedes it (reason 2)."
    )


class BatchRevocationCreate(RequestModel):
    """Revoke a whole batch: any reason but 2 (a batch is not superseded as a whole; records
    are), and no replacement."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        json_schema_extra={"example": {"reason": 1, "replacement": None}},
    )

    reason: Literal[1, 3, 4, 5] = Field(  # BATCH_REASONS (tests/test_vocabulary.py)
        description=reasons_listed(BATCH_REASONS) + " (2, superseded, is for single records)."
    )
    replacement: None = Field(None, description="Always null: a batch names no replacement.")


class RecordStatus(StrEnum):
    PENDING = "pending"
    BATCHED = "batched"
    ANCHORED = "anchored"
    REVOKED = "revoked"


class BatchPublic(ApiModel):
    """A batch: its Merkle root, where it is in the pipeline, and its anchoring transaction."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        json_schema_extra={
            "example": {
                "root": EXAMPLE_ROOT,
                "agency": EXAMPLE_AGENCY,
                "agencyName": "Civil Registry Office",
                "state": "confirmed",
                "count": 2,
                "txHash": EXAMPLE_TX,
                "blockNumber": 2,
                "anchoredAt": "2026-11-23T10:00:00Z",
                "sealedAt": "2026-11-23T09:59:58Z",
                "confirmedAt": "2026-11-23T10:00:01Z",
            }
        },
    )

    root: str
    agency: str
    agency_name: str
    state: Literal["sealed", "submitted", "anchored", "confirmed", "failed"]
    count: int
    tx_hash: str | None
    block_number: int | None
    anchored_at: str | None
    sealed_at: str | None
    confirmed_at: str | None


class RevocationState(ApiModel):
    reason: int
    reason_text: str
    replacement: str | None
    whole_batch: bool


class RecordPublic(ApiModel):
    """A record's place in the pipeline; the receipt once its batch is anchored."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        json_schema_extra={
            "example": {
                "digest": EXAMPLE_DIGEST,
                "digestKind": "file",
                "status": "anchored",
                "agency": EXAMPLE_AGENCY,
                "agencyName": "Civil Registry Office",
                "submittedAt": "2026-11-23T09:59:57Z",
                "batch": example_of(BatchPublic),
                "revocation": None,
                "receipt": EXAMPLE_RECEIPT,
                "new": True,
            }
        },
    )

    digest: str
    digest_kind: Literal["file", "record"]
    status: RecordStatus
    agency: str
    agency_name: str
    submitted_at: str | None
    batch: BatchPublic | None
    revocation: RevocationState | None
    receipt: ReceiptModel | None = Field(None, description="Present once anchored.")
    new: bool | None = Field(
        None, description="On submission: false when this digest was already submitted."
    )


class BulkItem(ApiModel):
    digest: str
    status: RecordStatus
    new: bool
    receipt: ReceiptModel | None = None


class BulkSubmitted(ApiModel):
    """The outcome of a bulk submission, one item per record, in input order."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        json_schema_extra={
            "example": {
                "count": 2,
                "new": 2,
                "existing": 0,
                "anchored": 0,
                "records": [
                    {"digest": EXAMPLE_DIGEST, "status": "pending", "new": True, "receipt": None},
                    {
                        "digest": EXAMPLE_SEALED["digest"],
                        "status": "pending",
                        "new": True,
                        "receipt": None,
                    },
                ],
            }
        },
    )

    count: int
    new: int
    existing: int
    anchored: int
    records: list[BulkItem]


class RevocationPublic(ApiModel):
    """A revocation as sent to the chain."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        json_schema_extra={
            "example": {
                "hash": "0x3ebf6aec4ed202871951731d652e9945ef16630caa28a656960d74f9b8430b0f",
                "root": EXAMPLE_ROOT,
                "wholeBatch": False,
                "reason": 2,
                "reasonText": "superseded",
                "replacement": EXAMPLE_DIGEST,
                "txHash": EXAMPLE_TX,
                "blockNumber": 7,
                "already": False,
            }
        },
    )

    hash: str = Field(description="The revoked leaf (one record) or root (a whole batch).")
    root: str
    whole_batch: bool
    reason: int
    reason_text: str
    replacement: str | None
    tx_hash: str | None = Field(
        description="The revoking transaction this server sent (an operator's record; "
        "verifiers read revocations from the chain's `check()`, never from here)."
    )
    block_number: int
    already: bool = Field(description="True when it was revoked before (nothing was sent).")


# ------------------------------------------------------------------ verification


class CheckPublic(ApiModel):
    name: str = Field(
        description="format, integrity, inclusion, signature, trust, anchored, agency, key, "
        "revocation"
    )
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
    revocation_reason: str | None
    replacement: str | None = Field(
        description="The digest the agency names as the replacement: a record to look up "
        "(GET /v1/verify/{digest}), not a verified document."
    )
    checks: list[CheckPublic]


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


class BatchList(ApiModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        json_schema_extra={
            "example": {
                "batches": [example_of(BatchPublic)],
                "nextBefore": None,
            }
        },
    )

    batches: list[BatchPublic]
    next_before: int | None = Field(
        description="Pass as `before` for the next (older) page; null on the last page."
    )


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


EXTRA_COMPONENTS: tuple[type[BaseModel], ...] = (
    Problem,
    ReceiptModel,
    SealedDocumentModel,
    RecordCreate,
    RecordBulkCreate,
    DigestCreate,
    RevocationCreate,
    BatchRevocationCreate,
    AgencyCreate,
    TokenCreate,
)
"""Schemas of bodies read raw (strict JSON, fast verification): added to the OpenAPI
components so that routes can refer to them."""
