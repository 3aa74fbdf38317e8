"""The repository's batches: claiming pending records, sealing them into a batch, and the
batch's way through the pipeline (submitted, anchored, confirmed, failed)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, literal_column, select, text, update
from sqlalchemy.orm import Session

from registry.errors import InvalidInput
from registry.store.db import begin_write
from registry.store.errors import (
    ClaimLost,
    InvalidTransition,
    NotFound,
)
from registry.store.models import (
    Agency,
    Batch,
    BatchState,
    Record,
    RecordStatus,
    utcnow,
)
from registry.store.records import RecordRow
from registry.store.sql import (
    _batches,
    _bytes32,
    _hex,
    _is_postgres,
    _pg_execute,
    _records,
    _rowcount,
    append_event,
)
from registry.store.webhooks import enqueue_batch_confirmed

# ---------------------------------------------------------------- batches


# A literal, not a bound parameter: only then can the planners use the partial index.
_PENDING = _records.c.status == literal_column("'pending'")


def pending_summary(session: Session, *, agency_id: int) -> tuple[int, datetime | None]:
    """How many records of the agency are pending, and when the oldest was submitted.

    Reads only the pending-records index (and one row), however large the table grows.
    """
    where = (_PENDING, _records.c.agency_id == agency_id)
    count = session.execute(select(func.count()).select_from(_records).where(*where)).scalar()
    oldest = session.execute(
        select(_records.c.created_at).where(*where).order_by(_records.c.id).limit(1)
    ).scalar()
    return int(count or 0), oldest


def claim_pending(session: Session, *, agency_id: int, limit: int) -> list[tuple[int, bytes, str]]:
    """Lock and return up to `limit` of the agency's oldest pending records as
    (id, digest, digest kind): the kind is bound into the record's Merkle leaf.

    Seal them with `seal_batch` in the same transaction. PostgreSQL: FOR NO KEY UPDATE SKIP
    LOCKED, so concurrent workers get disjoint records. SQLite: BEGIN IMMEDIATE, so workers
    take turns (call it first in its transaction for that).
    """
    begin_write(session)
    stmt = (
        select(_records.c.id, _records.c.digest, _records.c.digest_kind)
        .where(_PENDING, _records.c.agency_id == agency_id)
        .order_by(_records.c.id)
        .limit(limit)
        # NO KEY: the key never changes, so foreign-key checks (revocations) need not wait.
        .with_for_update(skip_locked=True, key_share=True)
    )
    return [(row_id, digest, kind) for row_id, digest, kind in session.execute(stmt).all()]


_MARK_BATCHED = {
    # leaf_index = position in the id list; one statement whatever the batch size.
    "postgresql": (
        "UPDATE records SET status = 'batched', batch_id = %(batch_id)s, leaf_index = v.ord - 1 "
        "FROM unnest(%(ids)b::bigint[]) WITH ORDINALITY AS v(id, ord) "
        "WHERE records.id = v.id AND records.status = 'pending' "
        "AND records.agency_id = %(agency_id)s"
    ),
    "sqlite": (
        "UPDATE records SET status = 'batched', batch_id = :batch_id, leaf_index = j.key "
        "FROM json_each(:ids) AS j "
        # Unary + keeps SQLite from driving the join by the claim index (a scan per id):
        # the id list drives it, one primary-key lookup per id.
        "WHERE records.id = j.value AND +records.status = 'pending' "
        "AND +records.agency_id = :agency_id"
    ),
}


def seal_batch(
    session: Session,
    *,
    agency_id: int,
    record_ids: Sequence[int],
    root: bytes,
    signature: bytes,
    public_key: bytes,
    leaf_count: int,
) -> int:
    """Insert a sealed batch and attach its records (leaf_index = position in `record_ids`).

    Call in the transaction of `claim_pending`. Raises ClaimLost if any record is no longer
    pending for this agency; the caller's transaction must then be rolled back.
    """
    _bytes32(root, "root")
    _bytes32(public_key, "public_key")
    if len(signature) != 64:
        raise InvalidInput("signature: expected 64 bytes (Ed25519)")
    if leaf_count != len(record_ids) or not record_ids:
        raise InvalidInput(f"leaf_count {leaf_count} != {len(record_ids)} records (and > 0)")
    if len(set(record_ids)) != len(record_ids):
        raise InvalidInput("record_ids: a record appears twice")
    begin_write(session)
    now = utcnow()
    batch_id = session.execute(
        insert(_batches)
        .values(
            agency_id=agency_id,
            state=BatchState.SEALED.value,
            root=root,
            leaf_count=leaf_count,
            signature=signature,
            signing_public_key=public_key,
            confirmations=0,
            attempts=0,
            created_at=now,
            sealed_at=now,
        )
        .returning(_batches.c.id)
    ).scalar_one()
    params = {"batch_id": batch_id, "agency_id": agency_id}
    if _is_postgres(session):
        sql = _MARK_BATCHED["postgresql"]
        _, updated = _pg_execute(session, sql, {**params, "ids": list(record_ids)})
    else:
        result = session.execute(
            text(_MARK_BATCHED["sqlite"]), {**params, "ids": json.dumps(list(record_ids))}
        )
        updated = _rowcount(result)
    if updated != len(record_ids):
        raise ClaimLost(
            f"only {updated} of {len(record_ids)} records were still pending for "
            f"agency #{agency_id}: claim and seal in one transaction"
        )
    append_event(
        session,
        kind="batch.sealed",
        subject=f"batch:{batch_id}",
        detail={"agency_id": agency_id, "root": _hex(root), "leaf_count": leaf_count},
    )
    return int(batch_id)


def batch_by_id(session: Session, batch_id: int) -> Batch | None:
    return session.get(Batch, batch_id)


def batch_by_root(session: Session, root: bytes, *, agency_id: int | None = None) -> Batch | None:
    """The agency's batch with this root (roots are unique per agency); with `agency_id`
    None, the earliest batch of any agency with it."""
    stmt = select(Batch).where(Batch.root == root)
    if agency_id is not None:
        stmt = stmt.where(Batch.agency_id == agency_id)
    return session.scalars(stmt.order_by(Batch.id)).first()


def unfinished_batches(session: Session, *, agency_id: int | None = None) -> list[Batch]:
    """Batches sealed, submitted or anchored but not confirmed: what to resume after a crash."""
    unfinished = (BatchState.SEALED, BatchState.SUBMITTED, BatchState.ANCHORED)
    stmt = select(Batch).where(Batch.state.in_([s.value for s in unfinished]))
    if agency_id is not None:
        stmt = stmt.where(Batch.agency_id == agency_id)
    return list(session.scalars(stmt.order_by(Batch.id)))


def batch_digests(session: Session, batch_id: int) -> list[bytes]:
    """The batch's digests in leaf order (the tree also needs the kinds: `batch_leaves`)."""
    stmt = (
        select(_records.c.digest)
        .where(_records.c.batch_id == batch_id)
        .order_by(_records.c.leaf_index)
    )
    return list(session.scalars(stmt))


def batch_leaves(session: Session, batch_id: int) -> list[tuple[bytes, str]]:
    """The batch's (digest, digest kind) pairs in leaf order: what its Merkle tree (the kind is
    bound into each leaf) and its receipts need."""
    stmt = (
        select(_records.c.digest, _records.c.digest_kind)
        .where(_records.c.batch_id == batch_id)
        .order_by(_records.c.leaf_index)
    )
    return [(digest, kind) for digest, kind in session.execute(stmt).all()]


def records_of_batch(session: Session, batch_id: int) -> list[RecordRow]:
    """The batch's records in leaf order, read in bulk."""
    c = _records.c
    stmt = (
        select(c.id, c.digest, c.digest_kind, c.status, c.leaf_index, c.document)
        .where(c.batch_id == batch_id)
        .order_by(c.leaf_index)
    )
    return [RecordRow(*row) for row in session.execute(stmt)]


def batch_records_page(
    session: Session, batch_id: int, *, after_index: int | None = None, limit: int = 100
) -> list[tuple[int, bytes, str, str]]:
    """(leaf index, digest, digest kind, status) of up to `limit` of the batch's records after
    leaf `after_index`, in leaf order (a page of the public listing: no document, no
    reference)."""
    c = _records.c
    stmt = select(c.leaf_index, c.digest, c.digest_kind, c.status).where(c.batch_id == batch_id)
    if after_index is not None:
        stmt = stmt.where(c.leaf_index > after_index)
    rows = session.execute(stmt.order_by(c.leaf_index).limit(limit))
    return [(int(i), bytes(d), str(k), str(st)) for i, d, k, st in rows]


def _transition(
    session: Session,
    batch_id: int,
    *,
    allowed: Iterable[BatchState],
    values: dict[str, Any],
    kind: str,
    detail: dict[str, Any],
) -> None:
    """Move a batch to a new state if it is in one of `allowed`; journal it."""
    begin_write(session)
    allowed_values = [s.value for s in allowed]
    result = session.execute(
        update(Batch)
        .where(Batch.id == batch_id, Batch.state.in_(allowed_values))
        .values(**values)
        .execution_options(synchronize_session="fetch")
    )
    if _rowcount(result) != 1:
        current = session.scalar(select(Batch.state).where(Batch.id == batch_id))
        if current is None:
            raise NotFound(f"batch #{batch_id} is not in the store")
        raise InvalidTransition(
            f"batch #{batch_id} is {current}; it can only become {values.get('state')} "
            f"from {' or '.join(allowed_values)}"
        )
    append_event(session, kind=kind, subject=f"batch:{batch_id}", detail=detail)


def mark_submitted(
    session: Session, batch_id: int, *, tx_hash: bytes, nonce: int, raw_tx: bytes
) -> None:
    """Record the signed anchoring transaction; commit BEFORE sending it, so a resend after a
    crash sends the same transaction (same nonce), never a second anchor."""
    _bytes32(tx_hash, "tx_hash")
    _transition(
        session,
        batch_id,
        # From anchored too: a reorg can drop the block, and the same tx is sent again.
        allowed=(BatchState.SEALED, BatchState.SUBMITTED, BatchState.ANCHORED),
        values={
            "state": BatchState.SUBMITTED.value,
            "tx_hash": tx_hash,
            "tx_nonce": nonce,
            "tx_raw": raw_tx,
            "submitted_at": utcnow(),
        },
        kind="batch.submitted",
        detail={"tx_hash": _hex(tx_hash), "nonce": nonce},
    )


def mark_anchored(
    session: Session, batch_id: int, *, block_number: int, block_hash: bytes, anchored_at: int
) -> None:
    """Record the block that includes the anchor (not yet confirmed)."""
    _bytes32(block_hash, "block_hash")
    _transition(
        session,
        batch_id,
        # From sealed too: found on chain by anchorOf(root) when its tx hash was never saved.
        allowed=(BatchState.SEALED, BatchState.SUBMITTED, BatchState.ANCHORED),
        values={
            "state": BatchState.ANCHORED.value,
            "block_number": block_number,
            "block_hash": block_hash,
            "anchored_at": anchored_at,
        },
        kind="batch.anchored",
        detail={"block_number": block_number, "block_hash": _hex(block_hash)},
    )


def mark_confirmed(session: Session, batch_id: int, *, confirmations: int) -> None:
    """Mark an anchored batch confirmed and its records anchored (receipts can be issued),
    and queue the `records.anchored` deliveries of the agency's webhooks."""
    _transition(
        session,
        batch_id,
        allowed=(BatchState.ANCHORED,),
        values={
            "state": BatchState.CONFIRMED.value,
            "confirmations": confirmations,
            "confirmed_at": utcnow(),
        },
        kind="batch.confirmed",
        detail={"confirmations": confirmations},
    )
    session.execute(
        update(Record)
        .where(Record.batch_id == batch_id, Record.status == RecordStatus.BATCHED.value)
        .values(status=RecordStatus.ANCHORED.value)
        .execution_options(synchronize_session=False)
    )
    # The agency's webhooks hear of it: queued in this very transaction (the durable outbox).
    enqueue_batch_confirmed(session, batch_id)


def mark_failed(session: Session, batch_id: int, *, error: str) -> None:
    """Give up on a batch (e.g. the contract refused it); its records stay attached to it."""
    _transition(
        session,
        batch_id,
        allowed=(BatchState.SEALED, BatchState.SUBMITTED, BatchState.ANCHORED),
        values={"state": BatchState.FAILED.value, "last_error": error},
        kind="batch.failed",
        detail={"error": error},
    )


def record_attempt(session: Session, batch_id: int, *, error: str | None) -> None:
    """Count one anchoring attempt and keep its error (None: it went through)."""
    begin_write(session)
    result = session.execute(
        update(Batch)
        .where(Batch.id == batch_id)
        .values(attempts=Batch.attempts + 1, last_error=error)
        .execution_options(synchronize_session="fetch")
    )
    if _rowcount(result) != 1:
        raise NotFound(f"batch #{batch_id} is not in the store")
    if error is not None:
        append_event(
            session, kind="batch.retry", subject=f"batch:{batch_id}", detail={"error": error}
        )


# ---------------------------------------------------------------- reads for status and audit


def list_batches(
    session: Session,
    *,
    agency_id: int | None = None,
    state: str | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[tuple[Batch, Agency]]:
    """(batch, its agency), newest first, optionally of one agency or state; page with
    `before_id`."""
    stmt = select(Batch, Agency).join(Agency, Agency.id == Batch.agency_id)
    if agency_id is not None:
        stmt = stmt.where(Batch.agency_id == agency_id)
    if state is not None:
        stmt = stmt.where(Batch.state == state)
    if before_id is not None:
        stmt = stmt.where(Batch.id < before_id)
    rows = session.execute(stmt.order_by(Batch.id.desc()).limit(limit)).all()
    return [(batch, agency) for batch, agency in rows]


def all_batches(session: Session) -> list[Batch]:
    """Every batch, oldest first."""
    return list(session.scalars(select(Batch).order_by(Batch.id)))


def confirmed_batch_ids(session: Session, *, agency_id: int) -> list[int]:
    """Ids of the agency's confirmed batches, oldest first."""
    stmt = (
        select(Batch.id)
        .where(Batch.agency_id == agency_id, Batch.state == BatchState.CONFIRMED.value)
        .order_by(Batch.id)
    )
    return list(session.scalars(stmt))


def counts_by_batch_state(session: Session) -> dict[str, int]:
    """How many batches are in each state (every state present, zero included)."""
    counts = {state.value: 0 for state in BatchState}
    for state, count in session.execute(select(Batch.state, func.count()).group_by(Batch.state)):
        counts[state] = int(count)
    return counts


def oldest_unfinished_sealed_at(session: Session) -> datetime | None:
    """When the oldest batch not yet confirmed (sealed, submitted, anchored) was sealed."""
    unfinished = [
        BatchState.SEALED.value,
        BatchState.SUBMITTED.value,
        BatchState.ANCHORED.value,
    ]
    return session.execute(
        select(func.min(Batch.sealed_at)).where(Batch.state.in_(unfinished))
    ).scalar()


def batch_latency_bounds(
    session: Session, batch_id: int
) -> tuple[datetime | None, datetime | None]:
    """(when the batch was confirmed, when its oldest record was submitted)."""
    confirmed = session.scalar(select(Batch.confirmed_at).where(Batch.id == batch_id))
    oldest = session.scalar(select(func.min(Record.created_at)).where(Record.batch_id == batch_id))
    return confirmed, oldest


def batch_record_rows(session: Session, batch_id: int) -> list[tuple[int, int | None, bytes, str]]:
    """(record id, leaf index, digest, digest kind) of a batch in leaf order: one pass over its
    index."""
    stmt = (
        select(_records.c.id, _records.c.leaf_index, _records.c.digest, _records.c.digest_kind)
        .where(_records.c.batch_id == batch_id)
        .order_by(_records.c.leaf_index)
    )
    return [(int(i), idx, bytes(d), str(k)) for i, idx, d, k in session.execute(stmt)]


def batch_stored_documents(
    session: Session, batch_id: int
) -> list[tuple[int, int | None, bytes, str]]:
    """(record id, leaf index, digest, stored document) of the batch's records that still hold
    a document (clear or encrypted)."""
    stmt = select(
        _records.c.id, _records.c.leaf_index, _records.c.digest, _records.c.document
    ).where(_records.c.batch_id == batch_id, _records.c.document.is_not(None))
    return [(rid, idx, d, doc) for rid, idx, d, doc in session.execute(stmt)]


def batch_ids_by_root(session: Session, roots: Iterable[bytes]) -> list[tuple[int, bytes, str]]:
    """(batch id, root, agency address) of every batch whose root is one of these."""
    stmt = (
        select(Batch.id, Batch.root, Agency.address)
        .join(Agency, Agency.id == Batch.agency_id)
        .where(Batch.root.in_(set(roots)))
    )
    return [(int(bid), bytes(root), address) for bid, root, address in session.execute(stmt)]


def record_in_batch(session: Session, batch_id: int, digest: bytes) -> tuple[int, str] | None:
    """(record id, digest kind) of the batch's record with this digest, or None."""
    row = session.execute(
        select(_records.c.id, _records.c.digest_kind).where(
            _records.c.batch_id == batch_id, _records.c.digest == digest
        )
    ).first()
    return None if row is None else (row[0], row[1])
