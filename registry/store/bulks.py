"""The repository's bulk submissions: one row per `POST /v1/records/bulk` (written with its
records by `add_records(bulk_id=...)`), read back by the agency that made it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from registry.store.models import BulkItem, BulkSubmission, RecordStatus, table
from registry.store.sql import _records

_items = table(BulkItem)


@dataclass(frozen=True, slots=True)
class BulkRecord:
    """A record of a bulk submission, at its input position."""

    position: int
    digest: bytes
    reference: str | None
    status: str
    batch_id: int | None


def bulk_by_public_id(session: Session, public_id: str, *, agency_id: int) -> BulkSubmission | None:
    """The agency's bulk submission with this id (another agency's is never found)."""
    return session.scalars(
        select(BulkSubmission).where(
            BulkSubmission.public_id == public_id, BulkSubmission.agency_id == agency_id
        )
    ).first()


def bulk_status_counts(session: Session, bulk_id: int) -> dict[str, int]:
    """How many of the submission's records (by input position) are in each status (every
    status present, zero included)."""
    stmt = (
        select(_records.c.status, func.count())
        .select_from(_items.join(_records, _records.c.id == _items.c.record_id))
        .where(_items.c.bulk_id == bulk_id)
        .group_by(_records.c.status)
    )
    counts = {status.value: 0 for status in RecordStatus}
    counts.update({status: int(n) for status, n in session.execute(stmt)})
    return counts


def bulk_records(session: Session, bulk_id: int) -> list[BulkRecord]:
    """The submission's records in input order."""
    c = _records.c
    stmt = (
        select(_items.c.position, c.digest, c.reference, c.status, c.batch_id)
        .select_from(_items.join(_records, c.id == _items.c.record_id))
        .where(_items.c.bulk_id == bulk_id)
        .order_by(_items.c.position)
    )
    return [
        BulkRecord(int(pos), bytes(digest), reference, str(status), batch_id)
        for pos, digest, reference, status, batch_id in session.execute(stmt)
    ]
