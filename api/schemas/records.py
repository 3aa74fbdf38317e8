"""Records, batches and revocations: what an agency submits, what anyone reads back."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field
from pydantic.alias_generators import to_camel

from api.schemas.common import (
    EXAMPLE_AGENCY,
    EXAMPLE_DIGEST,
    EXAMPLE_RECEIPT,
    EXAMPLE_RECORD,
    EXAMPLE_ROOT,
    EXAMPLE_SEALED,
    EXAMPLE_TX,
    HEX32,
    ApiModel,
    ReceiptModel,
    RequestModel,
    example_of,
)
from registry.vocabulary import BATCH_REASONS, Reason, RecordStatus, reasons_listed

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
