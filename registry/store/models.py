"""The store's tables as typed SQLAlchemy 2 models.

Hashes, roots, signatures and transactions are raw bytes (32, 64, ...), never hex, so that a
digest compares and indexes the same way on SQLite and PostgreSQL. Times are UTC-aware
datetimes, except `Batch.anchored_at`, which is the chain's block time in Unix seconds.
The schema itself is owned by the Alembic migrations in `migrations/`; a test asserts that
the migrated schema equals these models.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from registry.vocabulary import RecordStatus

__all__ = [
    "Agency",
    "AgencyStatus",
    "ApiToken",
    "Base",
    "Batch",
    "BatchState",
    "BulkItem",
    "BulkSubmission",
    "DeliveryState",
    "DigestKind",
    "IdempotencyKey",
    "IdempotencyState",
    "JournalEntry",
    "MirrorBlock",
    "MirrorCursor",
    "MirrorEvent",
    "Record",
    "RecordStatus",
    "RegistryMeta",
    "Revocation",
    "RevocationState",
    "TokenScope",
    "UtcDateTime",
    "Webhook",
    "WebhookDelivery",
    "utcnow",
]


class DigestKind(StrEnum):
    """What a record's digest is the SHA-256 of."""

    FILE = "file"
    RECORD = "record"


class BatchState(StrEnum):
    """A batch's place in the anchoring pipeline; `confirmed` and `failed` are final."""

    SEALED = "sealed"
    SUBMITTED = "submitted"
    ANCHORED = "anchored"
    CONFIRMED = "confirmed"
    FAILED = "failed"


class AgencyStatus(StrEnum):
    """Mirror of the contract's agency status (a compromised agency is active again once the
    authority moves it to a new account)."""

    ACTIVE = "active"
    SUSPENDED = "suspended"
    COMPROMISED = "compromised"


class TokenScope(StrEnum):
    AGENCY = "agency"
    ADMIN = "admin"


class RevocationState(StrEnum):
    SUBMITTED = "submitted"
    CONFIRMED = "confirmed"


class DeliveryState(StrEnum):
    """A webhook delivery in the outbox: `pending` (due at `next_attempt_at`), `delivered`,
    `failed` (every attempt refused), `cancelled` (its webhook was deleted)."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
    CANCELLED = "cancelled"


class IdempotencyState(StrEnum):
    """An idempotency key: `processing` while its first request runs, then `done` (its answer
    kept for replay)."""

    PROCESSING = "processing"
    DONE = "done"


def utcnow() -> datetime:
    """The current time, UTC-aware (the only kind of datetime the store accepts)."""
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp that is always UTC-aware in Python, on SQLite (naive text) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: the store only accepts timezone-aware times")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# SQLite only auto-numbers an INTEGER PRIMARY KEY (the rowid); PostgreSQL gets 64-bit ids.
BigId = BigInteger().with_variant(Integer(), "sqlite")

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _one_of(column: str, values: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class Base(DeclarativeBase):
    """Declarative base with a naming convention, so migrations can name every constraint."""

    metadata = MetaData(naming_convention=NAMING)


class RegistryMeta(Base):
    """The one row saying which chain and registry contract this store belongs to."""

    __tablename__ = "registry_meta"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    chain_id: Mapped[int] = mapped_column(BigInteger)
    genesis_hash: Mapped[str] = mapped_column(String(66))
    registry_address: Mapped[str] = mapped_column(String(42))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Agency(Base):
    """An issuing agency: its identity address (EIP-55; the address it was registered with,
    which names it on chain for good), its current transaction account (the same until the
    authority moves it), and its current Ed25519 signing key (hex)."""

    __tablename__ = "agencies"
    __table_args__ = (CheckConstraint(_one_of("status", AgencyStatus), name="status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    address: Mapped[str] = mapped_column(String(42), unique=True)
    account: Mapped[str] = mapped_column(String(42), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default=AgencyStatus.ACTIVE.value)
    signing_public_key: Mapped[str] = mapped_column(String(66))
    # Start of the last compromise window the authority marked (Unix seconds), kept after a
    # move (the chain keeps every window: RegistryContract.compromises_of).
    compromised_since: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    @property
    def signing_key(self) -> bytes:
        """The signing public key as 32 raw bytes."""
        return bytes.fromhex(self.signing_public_key.removeprefix("0x"))


class ApiToken(Base):
    """An API token; only the SHA-256 of the token is kept, never the token."""

    __tablename__ = "api_tokens"
    __table_args__ = (
        CheckConstraint(_one_of("scope", TokenScope), name="scope"),
        CheckConstraint(
            "(scope = 'admin' AND agency_id IS NULL) "
            "OR (scope = 'agency' AND agency_id IS NOT NULL)",
            name="scope_agency",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    scope: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Batch(Base):
    """A sealed Merkle batch and the transaction that anchors its root."""

    __tablename__ = "batches"
    __table_args__ = (
        CheckConstraint(_one_of("state", BatchState), name="state"),
        Index(None, "state", "id"),
        # Anchors live in per-agency namespaces on chain; so do roots here.
        UniqueConstraint("agency_id", "root"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    state: Mapped[str] = mapped_column(String(16))
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    leaf_count: Mapped[int] = mapped_column(Integer)
    signature: Mapped[bytes] = mapped_column(LargeBinary(64))
    signing_public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    tx_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    tx_nonce: Mapped[int | None] = mapped_column(BigInteger)
    # The signed raw transaction, so a resend after a crash sends the very same transaction.
    tx_raw: Mapped[bytes | None] = mapped_column(LargeBinary)
    block_number: Mapped[int | None] = mapped_column(BigInteger)
    block_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    anchored_at: Mapped[int | None] = mapped_column(BigInteger)
    confirmations: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    sealed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Record(Base):
    """One submitted record: its digest, its agency, and where it sits in a batch."""

    __tablename__ = "records"
    __table_args__ = (
        CheckConstraint(_one_of("digest_kind", DigestKind), name="digest_kind"),
        CheckConstraint(_one_of("status", RecordStatus), name="status"),
        # A digest is unique per agency: one agency can never squat another's digest. The
        # public lookup by digest alone uses the digest index.
        UniqueConstraint("agency_id", "digest"),
        Index(None, "digest"),
        # Claiming: an agency's oldest pending records. Partial, so that sealing a record
        # (it stops being pending) adds no entry here, and the index stays as small as the
        # queue. Queries must spell status = 'pending' as a literal to use it.
        Index(
            "ix_records_pending",
            "agency_id",
            "id",
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
        # A batch's leaves, in order; pending records (no batch yet) are not indexed.
        Index(
            None,
            "batch_id",
            "leaf_index",
            unique=True,
            sqlite_where=text("batch_id IS NOT NULL"),
            postgresql_where=text("batch_id IS NOT NULL"),
        ),
        # An agency's own key for a record (its certificate number, a case reference): unique
        # per agency; records without one are not indexed.
        Index(
            "uq_records_agency_id_reference",
            "agency_id",
            "reference",
            unique=True,
            sqlite_where=text("reference IS NOT NULL"),
            postgresql_where=text("reference IS NOT NULL"),
        ),
        # An agency's records, newest first (GET /v1/records pages by id).
        Index(None, "agency_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    digest: Mapped[bytes] = mapped_column(LargeBinary(32))
    digest_kind: Mapped[str] = mapped_column(String(8))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    status: Mapped[str] = mapped_column(String(16), default=RecordStatus.PENDING.value)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id"))
    leaf_index: Mapped[int | None] = mapped_column(Integer)
    # The sealed structured record, encrypted with its agency's data key (AES-256-GCM, the
    # digest as associated data; registry.service.documents), never the clear JSON. NULL for
    # a file's digest, and once the contents are purged (retention).
    document: Mapped[str | None] = mapped_column(Text)
    # When the sealed contents were deleted (retention or download); digest, batch and
    # receipt stay. NULL: never purged.
    document_purged_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The agency's own key for the record (optional, unique per agency): looked up by it.
    reference: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Revocation(Base):
    """A revocation of a leaf (one record) or a root (a whole batch) of an agency, by the
    agency itself or by the registry authority (`by_authority`; the chain keeps both)."""

    __tablename__ = "revocations"
    __table_args__ = (
        CheckConstraint("reason BETWEEN 1 AND 5", name="reason"),
        CheckConstraint(_one_of("state", RevocationState), name="state"),
        UniqueConstraint("agency_id", "hash", "by_authority"),
        Index(None, "hash"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    # The revoked record, or NULL when the whole batch (hash == root) is revoked.
    record_id: Mapped[int | None] = mapped_column(ForeignKey("records.id"))
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    reason: Mapped[int] = mapped_column(SmallInteger)
    replacement: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    by_authority: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(16), default=RevocationState.SUBMITTED.value)
    tx_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    block_number: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class BulkSubmission(Base):
    """One `POST /v1/records/bulk` request: its public id, and (in `bulk_items`) its records in
    input order, so that its status and receipts can be asked for later."""

    __tablename__ = "bulk_submissions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    count: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class BulkItem(Base):
    """A record of a bulk submission at its input position (a record submitted twice in one
    request is at both positions)."""

    __tablename__ = "bulk_items"

    bulk_id: Mapped[int] = mapped_column(
        ForeignKey("bulk_submissions.id"), primary_key=True, autoincrement=False
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    record_id: Mapped[int] = mapped_column(BigId, ForeignKey("records.id"))


class Webhook(Base):
    """An agency's webhook: where its events are POSTed, and the secret that signs them,
    encrypted with the agency's data key (it must sign, so it cannot be kept as a hash)."""

    __tablename__ = "webhooks"
    __table_args__ = (Index(None, "agency_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    url: Mapped[str] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(Text)
    events: Mapped[str] = mapped_column(String(200))  # comma-separated event types
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class WebhookDelivery(Base):
    """The durable outbox: one delivery of one event to one webhook, written in the same
    transaction as the change it reports (a batch confirmed), so that no event is lost to a
    restart; the payload is frozen at its first attempt, retried with backoff."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        CheckConstraint(_one_of("state", DeliveryState), name="state"),
        UniqueConstraint("webhook_id", "event", "batch_id"),
        Index(None, "webhook_id", "id"),
        # What is due: pending deliveries only, so the index stays as small as the queue.
        Index(
            "ix_webhook_deliveries_due",
            "next_attempt_at",
            sqlite_where=text("state = 'pending'"),
            postgresql_where=text("state = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    event: Mapped[str] = mapped_column(String(40))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id"))
    payload: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default=DeliveryState.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class IdempotencyKey(Base):
    """An agency's `Idempotency-Key`: the fingerprint of the request that first used it and,
    once answered, that answer (replayed for the same request, refused for another)."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        CheckConstraint(_one_of("state", IdempotencyState), name="state"),
        UniqueConstraint("agency_id", "key"),
        Index(None, "expires_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[bytes] = mapped_column(LargeBinary(32))
    state: Mapped[str] = mapped_column(String(16))
    status_code: Mapped[int | None] = mapped_column(Integer)
    response: Mapped[str | None] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


class JournalEntry(Base):
    """One event of the append-only journal (the database refuses UPDATE and DELETE on it)."""

    __tablename__ = "journal"
    __table_args__ = (Index(None, "subject", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(Text)
    detail: Mapped[str | None] = mapped_column(Text)  # JSON object

    @property
    def data(self) -> dict[str, Any]:
        """The detail JSON as a dict (empty when there is none)."""
        return dict(json.loads(self.detail)) if self.detail else {}


class MirrorCursor(Base):
    """How far the registry mirror has followed the chain (one row): the last block applied
    (confirmed), its hash, when the follower last saw the mirror current (`synced_at`, Unix
    seconds), and counters that change when the agencies' events change (`agency_version`)
    and when the mirror was rewound after a re-organisation (`rewinds`)."""

    __tablename__ = "mirror_cursor"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    chain_id: Mapped[int] = mapped_column(BigInteger)
    registry_address: Mapped[str] = mapped_column(String(42))
    from_block: Mapped[int] = mapped_column(BigInteger)
    block_number: Mapped[int] = mapped_column(BigInteger)
    block_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    synced_at: Mapped[float] = mapped_column(Float)
    agency_version: Mapped[int] = mapped_column(BigInteger, default=0)
    rewinds: Mapped[int] = mapped_column(BigInteger, default=0)


class MirrorBlock(Base):
    """A block the mirror applied, with its hash: where a re-organisation is detected and how
    far back it is rewound (the recent ones are kept)."""

    __tablename__ = "mirror_blocks"

    number: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class MirrorEvent(Base):
    """One event of the registry's log, as the chain has it to the confirmation depth: its
    position, block hash and time, the agency it is about, its `subject` (the root of an
    anchor, the hash of a revocation, the key of a key event) and every argument (JSON,
    bytes as {"$b": hex})."""

    __tablename__ = "mirror_events"
    __table_args__ = (Index(None, "agency", "subject"),)

    block_number: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    log_index: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    block_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    tx_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    timestamp: Mapped[int] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(32))
    agency: Mapped[bytes | None] = mapped_column(LargeBinary(20))
    subject: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    args: Mapped[str] = mapped_column(Text)


def table(model: type[Base]) -> Table:
    """The Core table of a model, for bulk statements that bypass the ORM's per-row cost."""
    result = model.__table__
    assert isinstance(result, Table)
    return result
