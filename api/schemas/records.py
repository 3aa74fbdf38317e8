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

REFERENCE = r"^[A-Za-z0-9][A-Za-z0-9._:~+@-]{0,127}$"
"""An agency's own reference for a record (registry.service.records.REFERENCE)."""

EXAMPLE_REFERENCE = "B-2026-000017"
EXAMPLE_BULK_ID = "bulk_5d1f0c9a2b7e4f8a91c3d6e2"

_REFERENCE_TEXT = (
    "The agency's own key for the record (its certificate number, a case reference): "
    "optional, unique per agency, 1-128 letters, digits and . _ : ~ + @ -. Reusing it for "
    "another record: 409. Look the record up by it: GET /v1/records/by-reference/{reference}."
)


class RecordCreate(RequestModel):
    """One structured record to issue, wrapped: `{"record": {...}}`. It is sealed with the
    agency's salts (the same record sealed twice gets the same digest, so submitting it again
    is harmless)."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        json_schema_extra={"example": {"record": EXAMPLE_RECORD, "reference": EXAMPLE_REFERENCE}},
    )

    record: dict[str, Any] = Field(description="The record: a JSON object with at least one field.")
    reference: str | None = Field(None, pattern=REFERENCE, description=_REFERENCE_TEXT)


class RecordBulkCreate(RequestModel):
    """Many structured records at once (at most `api_max_bulk_records`, default 10,000)."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        json_schema_extra={
            "example": {
                "records": [EXAMPLE_RECORD, {**EXAMPLE_RECORD, "n": 2}],
                "references": [EXAMPLE_REFERENCE, None],
            }
        },
    )

    records: list[dict[str, Any]] = Field(min_length=1)
    references: list[str | None] | None = Field(
        None,
        description="One reference (or null) per record, in the same order (see "
        "RecordCreate.reference).",
    )


class DigestCreate(RequestModel):
    """A file's SHA-256, computed by the agency (the file itself never leaves it)."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        json_schema_extra={"example": {"digest": EXAMPLE_DIGEST, "reference": "LIC-77-0042"}},
    )

    digest: str = Field(pattern=HEX32, description="SHA-256 of the file's bytes.")
    reference: str | None = Field(None, pattern=REFERENCE, description=_REFERENCE_TEXT)


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
    reference: str | None = Field(
        None,
        description="The agency's own reference, shown to the issuing agency only (its "
        "submissions, GET /v1/records/by-reference/...); null in public reads.",
    )


class BulkItem(ApiModel):
    digest: str
    status: RecordStatus
    new: bool
    reference: str | None = None
    receipt: ReceiptModel | None = None


class BulkSubmitted(ApiModel):
    """The outcome of a bulk submission, one item per record, in input order."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        json_schema_extra={
            "example": {
                "bulkId": EXAMPLE_BULK_ID,
                "count": 2,
                "new": 2,
                "existing": 0,
                "anchored": 0,
                "records": [
                    {
                        "digest": EXAMPLE_DIGEST,
                        "status": "pending",
                        "new": True,
                        "reference": EXAMPLE_REFERENCE,
                        "receipt": None,
                    },
                    {
                        "digest": EXAMPLE_SEALED["digest"],
                        "status": "pending",
                        "new": True,
                        "reference": None,
                        "receipt": None,
                    },
                ],
            }
        },
    )

    bulk_id: str = Field(
        description="Ask for its status at GET /v1/records/bulk/{bulkId} (also in Location) "
        "and, once every record is anchored, its receipts at .../receipts."
    )
    count: int
    new: int
    existing: int
    anchored: int
    records: list[BulkItem]


class BulkStatusPublic(ApiModel):
    """Where a bulk submission's records are, by input position."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        json_schema_extra={
            "example": {
                "bulkId": EXAMPLE_BULK_ID,
                "count": 2,
                "submittedAt": "2026-11-23T09:59:57Z",
                "statuses": {"pending": 0, "batched": 0, "anchored": 2, "revoked": 0},
                "anchored": 2,
                "complete": True,
                "receipts": f"/v1/records/bulk/{EXAMPLE_BULK_ID}/receipts",
            }
        },
    )

    bulk_id: str
    count: int = Field(description="Records submitted (a record given twice counts twice).")
    submitted_at: str
    statuses: dict[str, int] = Field(description="How many records are in each status.")
    anchored: int = Field(description="Records with a receipt (anchored, or revoked since).")
    complete: bool = Field(description="Every record has its receipt.")
    receipts: str | None = Field(description="Where the receipts are, once complete.")


class RecordSummary(ApiModel):
    """A record in its agency's listing."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        json_schema_extra={
            "example": {
                "digest": EXAMPLE_DIGEST,
                "digestKind": "record",
                "status": "anchored",
                "reference": EXAMPLE_REFERENCE,
                "submittedAt": "2026-11-23T09:59:57Z",
                "batchRoot": EXAMPLE_ROOT,
                "blockNumber": 2,
                "anchoredAt": "2026-11-23T10:00:00Z",
            }
        },
    )

    digest: str
    digest_kind: Literal["file", "record"]
    status: RecordStatus
    reference: str | None
    submitted_at: str
    batch_root: str | None
    block_number: int | None
    anchored_at: str | None


class RecordList(ApiModel):
    """A page of the agency's own records, newest first."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        json_schema_extra={
            "example": {
                "records": [example_of(RecordSummary)],
                "nextCursor": "eyJiZWZvcmUiOjQyLCJzY29wZSI6IjFhMmIzYzRkNWU2ZjdhOGI5YzBkMWUyZiJ9",
            }
        },
    )

    records: list[RecordSummary]
    next_cursor: str | None = Field(
        description="Pass as `cursor` (with the same filters) for the next, older page; null "
        "on the last page. Opaque, and good for this agency's listing only."
    )


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


class BatchRecordPublic(ApiModel):
    leaf_index: int = Field(description="The record's position in the batch as sealed.")
    digest: str
    digest_kind: Literal["file", "record"]
    status: RecordStatus


class BatchRecordList(ApiModel):
    """A page of a batch's records, in leaf order."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        json_schema_extra={
            "example": {
                "batch": example_of(BatchPublic),
                "records": [
                    {
                        "leafIndex": 0,
                        "digest": EXAMPLE_DIGEST,
                        "digestKind": "file",
                        "status": "anchored",
                    },
                    {
                        "leafIndex": 1,
                        "digest": EXAMPLE_SEALED["digest"],
                        "digestKind": "record",
                        "status": "anchored",
                    },
                ],
                "nextAfter": None,
            }
        },
    )

    batch: BatchPublic
    records: list[BatchRecordPublic]
    next_after: int | None = Field(
        description="Pass as `after` for the next page; null on the last page."
    )
