"""Read-only answers from the store for status pages and metrics: batches, record states,
receipts by digest, pipeline counts, and the store's liveness (`check_store`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from registry.receipt import Receipt
from registry.service.issuing import Issuer
from registry.service.operator import Operator
from registry.store import Store, repo
from registry.store.models import (
    Agency,
    Batch,
    Revocation,
)


def check_chain_head(operator: Operator) -> int:
    """The node's latest block number; ChainUnavailable when it does not answer."""
    return operator.registry.node.head()


def check_store(store: Store) -> None:
    """One round trip to the store; StoreUnavailable/OperationalError when it is down."""
    store.ping()


def _iso(moment: datetime | int | None) -> str | None:
    if moment is None:
        return None
    if isinstance(moment, int):
        moment = datetime.fromtimestamp(moment, tz=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _hex(value: bytes | None) -> str | None:
    return None if value is None else "0x" + bytes(value).hex()


@dataclass(frozen=True)
class BatchSummary:
    """A batch as the public sees it: root, state, transaction, block, size."""

    id: int
    root: str
    agency: str
    agency_name: str
    state: str
    count: int
    tx_hash: str | None
    block_number: int | None
    anchored_at: str | None
    sealed_at: str | None
    confirmed_at: str | None
    attempts: int
    last_error: str | None


def _summary(batch: Batch, agency: Agency) -> BatchSummary:
    return BatchSummary(
        id=batch.id,
        root=_hex(batch.root) or "",
        agency=agency.address,
        agency_name=agency.name,
        state=batch.state,
        count=batch.leaf_count,
        tx_hash=_hex(batch.tx_hash),
        block_number=batch.block_number,
        anchored_at=_iso(batch.anchored_at),
        sealed_at=_iso(batch.sealed_at),
        confirmed_at=_iso(batch.confirmed_at),
        attempts=batch.attempts,
        last_error=batch.last_error,
    )


def batch_summary(
    store: Store, root: bytes, *, agency_id: int | None = None
) -> BatchSummary | None:
    """The batch with this root (of this agency: roots are per agency, as on chain)."""
    with store.session() as session:
        batch = repo.batch_by_root(session, root, agency_id=agency_id)
        if batch is None:
            return None
        agency = repo.agency_by_id(session, batch.agency_id)
        assert agency is not None
        return _summary(batch, agency)


def list_batches(
    store: Store,
    *,
    agency_id: int | None = None,
    state: str | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[BatchSummary]:
    """Batches, newest first, optionally of one agency or state; page with `before_id`."""
    with store.session() as session:
        rows = repo.list_batches(
            session, agency_id=agency_id, state=state, before_id=before_id, limit=limit
        )
        return [_summary(batch, agency) for batch, agency in rows]


@dataclass(frozen=True)
class RecordState:
    """Where a record is: its status, its agency, its batch, its revocation."""

    digest: bytes
    kind: str
    status: str
    agency_id: int
    agency: str
    agency_name: str
    submitted_at: str | None
    has_document: bool
    batch: BatchSummary | None
    revocation_reason: int | None
    replacement: str | None
    revoked_whole_batch: bool
    reference: str | None = None
    """The agency's own key for the record (shown to that agency only)."""


def record_state(
    store: Store, digest: bytes, *, agency_id: int | None = None
) -> RecordState | None:
    """The agency's record with this digest; with no agency, the public lookup (several
    agencies may hold one digest: the store's choice, see repo.record_by_digest)."""
    with store.session() as session:
        rec = repo.record_by_digest(session, digest, agency_id=agency_id)
        if rec is None:
            return None
        agency = repo.agency_by_id(session, rec.agency_id)
        assert agency is not None
        batch = None
        revocation: Revocation | None = None
        whole_batch = False
        if rec.batch_id is not None:
            found = repo.batch_by_id(session, rec.batch_id)
            assert found is not None
            batch = _summary(found, agency)
            revocation = repo.confirmed_revocation_of(
                session, batch_id=rec.batch_id, record_id=rec.id
            )
            # As the revoke answer says it (and as the chain has it): the revoked hash is the
            # batch's root. A one-record batch's leaf is its root, so revoking that record
            # revokes the batch, whichever route asked.
            whole_batch = revocation is not None and bytes(revocation.hash) == bytes(found.root)
        return RecordState(
            digest=bytes(rec.digest),
            kind=rec.digest_kind,
            status=rec.status,
            agency_id=agency.id,
            agency=agency.address,
            agency_name=agency.name,
            submitted_at=_iso(rec.created_at),
            has_document=rec.document is not None,
            batch=batch,
            revocation_reason=None if revocation is None else revocation.reason,
            replacement=None if revocation is None else _hex(revocation.replacement),
            revoked_whole_batch=whole_batch,
            reference=rec.reference,
        )


def record_statuses(
    store: Store, digests: list[bytes], *, agency_id: int
) -> dict[bytes, tuple[str, int | None]]:
    """(status, batch id) of each of these digests that the agency holds in the store
    (digests are unique per agency only)."""
    with store.session() as session:
        return repo.record_statuses(session, digests, agency_id=agency_id)


def receipts_of(issuer: Issuer, digests: list[bytes]) -> dict[bytes, Receipt]:
    """Receipts of those of the issuer's digests that are anchored, built a batch at a time."""
    statuses = record_statuses(issuer.store, digests, agency_id=issuer.agency_id)
    wanted = set(digests)
    batches = sorted(
        {batch for status, batch in statuses.values() if status in _DONE and batch is not None}
    )
    out: dict[bytes, Receipt] = {}
    for batch_id in batches:
        for receipt in issuer.receipts(batch_id):
            if receipt.digest in wanted:
                out[bytes(receipt.digest)] = receipt
    return out


_DONE = ("anchored", "revoked")
"""Record statuses that have a receipt (a revoked record keeps its receipt: verifying it
says REVOKED)."""


# ------------------------------------------------------------------ metrics


@dataclass(frozen=True)
class PipelineStats:
    """What the issuing pipeline holds right now."""

    records: dict[str, int]
    batches: dict[str, int]
    oldest_pending_age: float
    oldest_unfinished_batch_age: float


def pipeline_stats(store: Store) -> PipelineStats:
    now = datetime.now(UTC)
    with store.session() as session:
        records = repo.counts_by_status(session)
        batches = repo.counts_by_batch_state(session)
        oldest_pending = repo.oldest_pending_created_at(session)
        oldest_batch = repo.oldest_unfinished_sealed_at(session)

    def age(moment: datetime | None) -> float:
        if moment is None:
            return 0.0
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return max(0.0, (now - moment).total_seconds())

    return PipelineStats(records, batches, age(oldest_pending), age(oldest_batch))
