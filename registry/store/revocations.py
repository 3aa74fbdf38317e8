"""The repository's revocations: recorded when sent, confirmed from the chain."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from registry.errors import InvalidInput
from registry.store.batches import batch_by_id
from registry.store.db import begin_write
from registry.store.errors import (
    NotFound,
    WrongAgency,
)
from registry.store.models import (
    Record,
    RecordStatus,
    Revocation,
    RevocationState,
)
from registry.store.sql import _bytes32, _hex, append_event

# ---------------------------------------------------------------- revocations


def add_revocation(
    session: Session,
    *,
    agency_id: int,
    batch_id: int,
    hash: bytes,
    reason: int,
    replacement: bytes | None = None,
    record_id: int | None = None,
    tx_hash: bytes | None = None,
    by_authority: bool = False,
) -> Revocation:
    """Record a revocation about to be sent: of one record (`record_id`, `hash` = its leaf)
    or of the whole batch (`record_id` None, `hash` = the root), by the agency or (with
    `by_authority`) by the registry authority.

    Idempotent per (agency, hash, by_authority): asking again returns the existing revocation.
    The batch (and record) must be the agency's own: WrongAgency otherwise, before any
    transaction.
    """
    _bytes32(hash, "hash")
    if replacement is not None:
        _bytes32(replacement, "replacement")
    if not 1 <= reason <= 5:
        raise InvalidInput(f"revocation reason {reason}: expected 1..5")
    begin_write(session)
    batch = batch_by_id(session, batch_id)
    if batch is None:
        raise NotFound(f"batch #{batch_id} is not in the store")
    if batch.agency_id != agency_id:
        raise WrongAgency("that batch belongs to another agency; refusing to revoke it")
    if record_id is None and hash != batch.root:
        raise InvalidInput("revoking a whole batch: hash must be the batch root")
    if record_id is not None:
        record = session.get(Record, record_id)
        if record is None or record.batch_id != batch_id:
            raise NotFound(f"record #{record_id} is not in batch #{batch_id}")
    existing = session.scalars(
        select(Revocation).where(
            Revocation.agency_id == agency_id,
            Revocation.hash == hash,
            Revocation.by_authority == by_authority,
        )
    ).first()
    if existing is not None:
        return existing
    revocation = Revocation(
        agency_id=agency_id,
        batch_id=batch_id,
        record_id=record_id,
        hash=hash,
        reason=reason,
        replacement=replacement,
        by_authority=by_authority,
        state=RevocationState.SUBMITTED.value,
        tx_hash=tx_hash,
    )
    session.add(revocation)
    session.flush()
    append_event(
        session,
        kind="revocation.submitted",
        subject=f"revocation:{revocation.id}",
        detail={
            "batch_id": batch_id,
            "record_id": record_id,
            "hash": _hex(hash),
            "reason": reason,
            "replacement": None if replacement is None else _hex(replacement),
            "by_authority": by_authority,
        },
    )
    return revocation


def _revocation(session: Session, revocation_id: int) -> Revocation:
    revocation = session.get(Revocation, revocation_id)
    if revocation is None:
        raise NotFound(f"revocation #{revocation_id} is not in the store")
    return revocation


def mark_revocation_sent(session: Session, revocation_id: int, *, tx_hash: bytes) -> Revocation:
    """Record the hash of the revoking transaction."""
    _bytes32(tx_hash, "tx_hash")
    begin_write(session)
    revocation = _revocation(session, revocation_id)
    revocation.tx_hash = tx_hash
    session.flush()
    return revocation


def confirm_revocation(
    session: Session, revocation_id: int, *, block_number: int, tx_hash: bytes | None = None
) -> Revocation:
    """Mark a revocation confirmed on chain and its record(s) revoked."""
    begin_write(session)
    revocation = _revocation(session, revocation_id)
    if revocation.state == RevocationState.CONFIRMED.value:
        return revocation
    revocation.state = RevocationState.CONFIRMED.value
    revocation.block_number = block_number
    if tx_hash is not None:
        revocation.tx_hash = _bytes32(tx_hash, "tx_hash")
    session.flush()
    target = (
        Record.id == revocation.record_id
        if revocation.record_id is not None
        else Record.batch_id == revocation.batch_id
    )
    session.execute(
        update(Record)
        .where(target)
        .values(status=RecordStatus.REVOKED.value)
        .execution_options(synchronize_session="fetch")
    )
    append_event(
        session,
        kind="revocation.confirmed",
        subject=f"revocation:{revocation_id}",
        detail={"hash": _hex(revocation.hash), "block_number": block_number},
    )
    return revocation


def list_revocations(
    session: Session,
    *,
    agency_id: int | None = None,
    batch_id: int | None = None,
    state: str | None = None,
) -> list[Revocation]:
    """Revocations, oldest first, optionally of one agency, batch or state."""
    stmt = select(Revocation)
    if agency_id is not None:
        stmt = stmt.where(Revocation.agency_id == agency_id)
    if batch_id is not None:
        stmt = stmt.where(Revocation.batch_id == batch_id)
    if state is not None:
        stmt = stmt.where(Revocation.state == state)
    return list(session.scalars(stmt.order_by(Revocation.id)))


def revocation_by_hash(
    session: Session, hash: bytes, *, agency_id: int | None = None
) -> Revocation | None:
    """The (first) revocation of this leaf or root, of one agency or of any."""
    stmt = select(Revocation).where(Revocation.hash == hash)
    if agency_id is not None:
        stmt = stmt.where(Revocation.agency_id == agency_id)
    return session.scalars(stmt.order_by(Revocation.id)).first()


def confirmed_revocation_of(
    session: Session, *, batch_id: int, record_id: int
) -> Revocation | None:
    """The first confirmed revocation that revokes this record of this batch: of the record
    itself or of its whole batch."""
    return session.scalars(
        select(Revocation)
        .where(
            Revocation.batch_id == batch_id,
            (Revocation.record_id == record_id) | (Revocation.record_id.is_(None)),
            Revocation.state == "confirmed",
        )
        .order_by(Revocation.id)
    ).first()
