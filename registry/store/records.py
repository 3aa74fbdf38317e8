"""The repository's records: adding them in bulk (one round trip per chunk), reading them,
and the plain documents kept beside them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from registry.errors import InvalidInput, ReferenceTaken
from registry.store.agencies import _agency
from registry.store.db import begin_write
from registry.store.models import (
    BatchState,
    BulkItem,
    BulkSubmission,
    Record,
    RecordStatus,
    table,
    utcnow,
)
from registry.store.sql import (
    _CHUNK,
    _KINDS,
    _batches,
    _chunks,
    _is_postgres,
    _pg_execute,
    _records,
    _rowcount,
    append_event,
)

# ---------------------------------------------------------------- records


@dataclass(frozen=True, slots=True)
class AddResult:
    """Outcome of `add_records`: one id per item given (in order), and which were new."""

    ids: list[int]
    new_ids: list[int]
    existing_ids: list[int]


@dataclass(frozen=True, slots=True)
class RecordRow:
    """A record as read in bulk (no ORM object per row)."""

    id: int
    digest: bytes
    digest_kind: str
    status: str
    leaf_index: int | None
    document: str | None


# One statement per chunk: the digests travel as binary arrays, not as a 50,000-row VALUES
# list (which psycopg would have to parse and the server to plan).
_PG_INSERT_RECORDS = (
    "INSERT INTO records (digest, digest_kind, agency_id, status, document, created_at) "
    "SELECT u.digest, u.kind, %(agency_id)s, 'pending', u.document, %(created_at)s "
    "FROM unnest(%(digests)b::bytea[], %(kinds)b::text[], %(documents)b::text[]) "
    "WITH ORDINALITY AS u(digest, kind, document, ord) "
    "ORDER BY u.ord "  # ids follow submission order
    "ON CONFLICT (agency_id, digest) DO NOTHING RETURNING id, digest"
)
_PG_INSERT_REFERENCED_RECORDS = (
    "INSERT INTO records (digest, digest_kind, agency_id, status, document, reference, "
    "created_at) "
    "SELECT u.digest, u.kind, %(agency_id)s, 'pending', u.document, u.reference, "
    "%(created_at)s "
    "FROM unnest(%(digests)b::bytea[], %(kinds)b::text[], %(documents)b::text[], "
    "%(references)b::text[]) "
    "WITH ORDINALITY AS u(digest, kind, document, reference, ord) "
    "ORDER BY u.ord "
    "ON CONFLICT (agency_id, digest) DO NOTHING RETURNING id, digest"
)
_SQLITE_INSERT_RECORDS = (
    "INSERT INTO records (digest, digest_kind, agency_id, status, document, reference, "
    "created_at) VALUES (?, ?, ?, 'pending', ?, ?, ?) ON CONFLICT (agency_id, digest) DO NOTHING"
)


def _insert_new_records(
    session: Session,
    agency_id: int,
    rows: Sequence[tuple[bytes, str, str | None]],
    references: dict[bytes, str],
) -> dict[bytes, int]:
    """Insert the rows whose digest the agency does not hold yet (each with its reference,
    if any); return {digest: id} of those."""
    now = utcnow()
    connection = session.connection()
    new: dict[bytes, int] = {}
    if _is_postgres(session):
        for chunk in _chunks(rows):
            params: dict[str, Any] = {
                "agency_id": agency_id,
                "created_at": now,
                "digests": [row[0] for row in chunk],
                "kinds": [row[1] for row in chunk],
                "documents": [row[2] for row in chunk],
            }
            sql = _PG_INSERT_RECORDS
            if references:
                params["references"] = [references.get(row[0]) for row in chunk]
                sql = _PG_INSERT_REFERENCED_RECORDS
            rows_back, _ = _pg_execute(session, sql, params)
            new.update((d, i) for i, d in rows_back)
        return new
    # SQLite: one writer at a time, and a transaction whose snapshot went stale cannot start
    # writing (SQLITE_BUSY_SNAPSHOT), so the rows this call inserts are exactly those numbered
    # above the largest id it saw before inserting.
    created_at = _db_value(session, _records.c.created_at.type, now)
    before = connection.execute(select(func.max(_records.c.id))).scalar() or 0
    connection.exec_driver_sql(
        _SQLITE_INSERT_RECORDS,
        [
            (digest, kind, agency_id, document, references.get(digest), created_at)
            for digest, kind, document in rows
        ],
    )
    stmt = select(_records.c.id, _records.c.digest).where(_records.c.id > before)
    new.update((d, i) for i, d in connection.execute(stmt).all())  # one fetch, not row by row
    return new


def _db_value(session: Session, type_: Any, value: object) -> object:
    """`value` as the driver receives it (for raw executemany, converted once, not per row)."""
    dialect = session.get_bind().dialect
    process = type_.dialect_impl(dialect).bind_processor(dialect)
    return process(value) if process is not None else value


def _pair_references(
    items: Sequence[tuple[bytes, str, str | None]], references: Sequence[str | None]
) -> dict[bytes, str]:
    """{digest: reference} of the items given one; ReferenceTaken when the request itself
    gives one reference to two records, or two references to one record."""
    if len(references) != len(items):
        raise InvalidInput(f"{len(references)} references for {len(items)} records")
    by_digest: dict[bytes, str] = {}
    by_reference: dict[str, bytes] = {}
    for (digest, _, _), reference in zip(items, references, strict=True):
        if reference is None:
            continue
        if by_reference.setdefault(reference, digest) != digest:
            raise ReferenceTaken(
                f"reference {reference!r} is given to two different records of this request",
                reference=reference,
            )
        if by_digest.setdefault(digest, reference) != reference:
            raise ReferenceTaken(
                f"record 0x{digest.hex()} is given two references in this request "
                f"({by_digest[digest]!r} and {reference!r})",
                reference=reference,
            )
    return by_digest


def _check_references(session: Session, agency_id: int, wanted: dict[bytes, str]) -> list[bytes]:
    """Refuse (ReferenceTaken) a reference that already names another of the agency's records,
    or a record that already has another reference; return the digests, already stored
    without a reference, that get theirs now. Only this agency's rows are read: another
    agency's references are its own business and never block or show here."""
    c = _records.c
    by_reference = {reference: digest for digest, reference in wanted.items()}
    for refs in _chunks(list(by_reference)):
        stmt = select(c.reference, c.digest).where(c.agency_id == agency_id, c.reference.in_(refs))
        for reference, digest in session.execute(stmt):
            if bytes(digest) != by_reference[reference]:
                raise ReferenceTaken(
                    f"reference {reference!r} already names another record of this agency "
                    f"(0x{bytes(digest).hex()})",
                    reference=reference,
                )
    attach: list[bytes] = []
    for digests in _chunks(list(wanted)):
        stmt = select(c.digest, c.reference).where(c.agency_id == agency_id, c.digest.in_(digests))
        for raw, reference in session.execute(stmt):
            digest = bytes(raw)
            if reference is None:
                attach.append(digest)
            elif reference != wanted[digest]:
                raise ReferenceTaken(
                    f"record 0x{digest.hex()} already has the reference {reference!r}; a record "
                    "keeps the reference it was first given",
                    reference=wanted[digest],
                )
    return attach


def add_records(
    session: Session,
    *,
    agency_id: int,
    items: Sequence[tuple[bytes, str, str | None]],
    references: Sequence[str | None] | None = None,
    bulk_id: str | None = None,
) -> AddResult:
    """Add records `(digest, kind, document)` as pending, and commit: durable on return.

    Idempotent per agency: a digest the same agency already submitted is reported in
    `existing_ids`, not added twice (also when it repeats within `items`). Digests are unique
    per agency, not globally: another agency holding the same digest neither blocks this one
    nor is revealed to it. Race-free: two workers adding the same digest for the same agency
    at once both get the one row.

    `references` (one per item, or None each) are the agency's own keys for its records,
    unique per agency: a reference already naming another of its records, or a record that
    already has another one, raises ReferenceTaken and nothing is stored. A record stored
    before without a reference gets the one given now. `bulk_id` records the items, in
    input order, as that bulk submission (its status and receipts are asked for by it).
    """
    rows: list[tuple[bytes, str, str | None]] = []
    seen: set[bytes] = set()
    for n, (digest, kind, document) in enumerate(items):
        if not isinstance(digest, bytes) or len(digest) != 32:
            raise InvalidInput(f"record {n}: digest must be 32 bytes")
        if kind not in _KINDS:
            raise InvalidInput(f"record {n}: digest kind {kind!r} is not 'file' or 'record'")
        if digest not in seen:
            seen.add(digest)
            rows.append((digest, kind, document))
    wanted = _pair_references(items, references) if references is not None else {}
    if not rows:
        return AddResult([], [], [])
    begin_write(session)
    try:
        _agency(session, agency_id)
        attach = _check_references(session, agency_id, wanted) if wanted else []
        ids = _insert_new_records(session, agency_id, rows, wanted)
        new = set(ids)
        missing = [row[0] for row in rows if row[0] not in ids]
        for chunk in _chunks(missing):
            found = select(_records.c.id, _records.c.digest).where(
                _records.c.agency_id == agency_id, _records.c.digest.in_(chunk)
            )
            for row_id, digest in session.execute(found):
                ids[digest] = row_id
        if attach:
            session.connection().execute(
                update(_records)
                .where(_records.c.id == bindparam("rid"))
                .values(reference=bindparam("ref")),
                [{"rid": ids[digest], "ref": wanted[digest]} for digest in attach],
            )
        new_ids = sorted(ids[d] for d in new)
        if new_ids:
            append_event(
                session,
                kind="record.submitted",
                subject=f"agency:{agency_id}",
                detail={"count": len(new_ids), "first_id": new_ids[0], "last_id": new_ids[-1]},
            )
        if bulk_id is not None:
            _add_bulk(session, agency_id, bulk_id, [ids[d] for d, _, _ in items])
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        # Two requests giving one reference to two records at once: the unique index decides.
        if wanted and "reference" in str(exc.orig):
            raise ReferenceTaken(
                "a reference of this request was just given to another record of this agency",
                reference=next(iter(wanted.values())),
            ) from exc
        raise
    except BaseException:
        session.rollback()
        raise
    existing_ids = sorted(ids[row[0]] for row in rows if row[0] not in new)
    return AddResult([ids[d] for d, _, _ in items], new_ids, existing_ids)


_bulk_items = table(BulkItem)


def _add_bulk(session: Session, agency_id: int, public_id: str, record_ids: list[int]) -> None:
    """The bulk submission `public_id`: its records in input order."""
    bulk = BulkSubmission(public_id=public_id, agency_id=agency_id, count=len(record_ids))
    session.add(bulk)
    session.flush()
    rows = [
        {"bulk_id": bulk.id, "position": n, "record_id": rid} for n, rid in enumerate(record_ids)
    ]
    for chunk in _chunks(rows):
        session.execute(insert(_bulk_items), list(chunk))


_IN_FORCE_FIRST = (RecordStatus.ANCHORED.value, RecordStatus.REVOKED.value)


def record_by_digest(
    session: Session, digest: bytes, *, agency_id: int | None = None, kind: str | None = None
) -> Record | None:
    """The agency's record with this digest; with `agency_id` None (the public lookup, where
    several agencies may hold one digest) the earliest anchored one, else the earliest one.
    `kind` ("file" or "record": what the caller hashed) puts records of that kind first, so
    another agency anchoring the same 32 bytes as the other kind cannot shadow a record."""
    stmt = select(Record).where(Record.digest == digest)
    if agency_id is not None:
        stmt = stmt.where(Record.agency_id == agency_id)
    rows = list(session.scalars(stmt.order_by(Record.id)))
    rows.sort(
        key=lambda r: (
            kind is not None and r.digest_kind != kind,
            agency_id is None and r.status not in _IN_FORCE_FIRST,
        )
    )
    return rows[0] if rows else None


@dataclass(frozen=True, slots=True)
class ListedRecord:
    """A record as an agency's listing shows it: what it is, where it is, its batch."""

    id: int
    digest: bytes
    digest_kind: str
    status: str
    reference: str | None
    created_at: datetime
    batch_root: bytes | None
    block_number: int | None
    anchored_at: int | None


def agency_records(
    session: Session,
    *,
    agency_id: int,
    status: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[ListedRecord]:
    """The agency's records, newest first (by id: a record submitted later never moves an
    older one to another page), optionally in one status and submitted in [since, until);
    `before_id` pages on. Only this agency's rows, whatever the arguments."""
    c, b = _records.c, _batches.c
    stmt = (
        select(
            c.id,
            c.digest,
            c.digest_kind,
            c.status,
            c.reference,
            c.created_at,
            b.root,
            b.block_number,
            b.anchored_at,
        )
        .select_from(_records.outerjoin(_batches, b.id == c.batch_id))
        .where(c.agency_id == agency_id)
    )
    if status is not None:
        stmt = stmt.where(c.status == status)
    if since is not None:
        stmt = stmt.where(c.created_at >= since)
    if until is not None:
        stmt = stmt.where(c.created_at < until)
    if before_id is not None:
        stmt = stmt.where(c.id < before_id)
    rows = session.execute(stmt.order_by(c.id.desc()).limit(limit)).all()
    return [
        ListedRecord(
            id=int(rid),
            digest=bytes(digest),
            digest_kind=str(kind),
            status=str(state),
            reference=reference,
            created_at=at,
            batch_root=None if root is None else bytes(root),
            block_number=block,
            anchored_at=anchored,
        )
        for rid, digest, kind, state, reference, at, root, block, anchored in rows
    ]


def record_by_reference(session: Session, *, agency_id: int, reference: str) -> Record | None:
    """The agency's record with this reference (references are the agency's own keys: another
    agency's are never looked at)."""
    return session.scalars(
        select(Record).where(Record.agency_id == agency_id, Record.reference == reference)
    ).first()


def counts_by_status(session: Session, *, agency_id: int | None = None) -> dict[str, int]:
    """How many records are in each status (every status present, zero included)."""
    stmt = select(_records.c.status, func.count()).group_by(_records.c.status)
    if agency_id is not None:
        stmt = stmt.where(_records.c.agency_id == agency_id)
    counts = {status.value: 0 for status in RecordStatus}
    counts.update({status: int(n) for status, n in session.execute(stmt)})
    return counts


def record_statuses(
    session: Session, digests: Sequence[bytes], *, agency_id: int
) -> dict[bytes, tuple[str, int | None]]:
    """(status, batch id) of each of these digests that the agency holds (digests are unique
    per agency only), read in chunks under SQLite's bound-parameter limit."""
    out: dict[bytes, tuple[str, int | None]] = {}
    for start in range(0, len(digests), _CHUNK):
        chunk = digests[start : start + _CHUNK]
        stmt = select(Record.digest, Record.status, Record.batch_id).where(
            Record.agency_id == agency_id, Record.digest.in_(chunk)
        )
        for digest, status, batch_id in session.execute(stmt):
            out[bytes(digest)] = (status, batch_id)
    return out


def oldest_pending_created_at(session: Session) -> datetime | None:
    """When the oldest record still pending was submitted."""
    return session.execute(
        select(Record.created_at)
        .where(text("records.status = 'pending'"))
        .order_by(Record.id)
        .limit(1)
    ).scalar()


def record_owners(session: Session, digest: bytes) -> set[int]:
    """Ids of the agencies holding a record with this digest."""
    return {
        int(a)
        for (a,) in session.execute(select(_records.c.agency_id).where(_records.c.digest == digest))
    }


def unbatched_records(session: Session, *, limit: int) -> list[tuple[int, str]]:
    """(id, status) of records that claim to be batched, anchored or revoked but belong to
    no batch (at most `limit`)."""
    stmt = (
        select(_records.c.id, _records.c.status)
        .where(_records.c.batch_id.is_(None), _records.c.status != "pending")
        .limit(limit)
    )
    return [(rid, status) for rid, status in session.execute(stmt)]


# ---------------------------------------------------------------- documents
#
# Sealed documents hold personal data: they are stored encrypted (the service encrypts before
# `add_records`) and deleted by the retention rule, while the digest, the batch and so the
# receipt stay.


def forget_document(session: Session, record_id: int, *, reason: str) -> bool:
    """Delete one record's sealed contents (digest, batch and receipt stay); False when there
    was nothing left to delete. Journaled as `document.purged` with `reason`."""
    result = session.execute(
        update(_records)
        .where(_records.c.id == record_id, _records.c.document.is_not(None))
        .values(document=None, document_purged_at=utcnow())
    )
    if _rowcount(result) == 0:
        return False
    append_event(
        session,
        kind="document.purged",
        subject=f"record:{record_id}",
        detail={"reason": reason},
    )
    return True


def purge_documents(session: Session, *, anchored_before: int) -> int:
    """Delete the sealed contents of every record whose batch is confirmed and was anchored
    (block time, Unix seconds) before `anchored_before`; returns how many. Journaled once."""
    old_batches = select(_batches.c.id).where(
        _batches.c.state == BatchState.CONFIRMED.value,
        _batches.c.anchored_at < anchored_before,
    )
    result = session.execute(
        update(_records)
        .where(_records.c.document.is_not(None), _records.c.batch_id.in_(old_batches))
        .values(document=None, document_purged_at=utcnow())
    )
    count = _rowcount(result)
    if count:
        append_event(
            session,
            kind="document.purged",
            subject="retention",
            detail={"count": count, "anchored_before": anchored_before},
        )
    return count


def plain_documents(
    session: Session, *, agency_id: int, prefix: str, limit: int = _CHUNK
) -> list[tuple[int, bytes, str]]:
    """Up to `limit` (id, digest, document) of the agency whose stored document does not start
    with `prefix` (the ciphertext marker): documents stored in clear before encryption."""
    c = _records.c
    stmt = (
        select(c.id, c.digest, c.document)
        .where(
            c.agency_id == agency_id,
            c.document.is_not(None),
            func.substr(c.document, 1, len(prefix)) != prefix,
        )
        .order_by(c.id)
        .limit(limit)
    )
    return [(int(i), bytes(d), str(doc)) for i, d, doc in session.execute(stmt)]


def replace_documents(session: Session, documents: Sequence[tuple[int, str]]) -> None:
    """Overwrite stored documents by record id (re-encryption of clear ones)."""
    for record_id, document in documents:
        session.execute(
            update(_records).where(_records.c.id == record_id).values(document=document)
        )
