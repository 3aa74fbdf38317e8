"""Repository: every read and write of the store, as functions over a Session.

Hot paths (adding, claiming and sealing records) use Core statements with one round trip per
chunk, never one ORM object per row: the pipeline must carry 100,000 records at >= 10,000/s.
Every state change appends a journal entry in the same transaction. `add_records` commits
(a submission is durable before the API answers); every other writer runs inside the
caller's transaction (`Store.session()` commits it), so a claim and its seal are atomic.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar, cast

from eth_utils.address import to_checksum_address
from sqlalchemy import CursorResult, func, insert, literal_column, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from registry.errors import InvalidInput, UnknownAgency
from registry.store.db import begin_write
from registry.store.errors import (
    ClaimLost,
    DuplicateAgency,
    InvalidTransition,
    NotFound,
    WrongAgency,
    WrongStore,
)
from registry.store.models import (
    Agency,
    AgencyStatus,
    Batch,
    BatchState,
    DigestKind,
    JournalEntry,
    Record,
    RecordStatus,
    RegistryMeta,
    Revocation,
    RevocationState,
    table,
    utcnow,
)

__all__ = [
    "AddResult",
    "RecordRow",
    "add_agency",
    "add_records",
    "add_revocation",
    "agency_by_account",
    "agency_by_address",
    "agency_by_id",
    "append_event",
    "batch_by_id",
    "batch_by_root",
    "batch_digests",
    "bind_store",
    "claim_pending",
    "confirm_revocation",
    "counts_by_status",
    "forget_document",
    "list_agencies",
    "list_revocations",
    "mark_agency_compromised",
    "mark_anchored",
    "mark_confirmed",
    "mark_failed",
    "mark_revocation_sent",
    "mark_submitted",
    "pending_summary",
    "plain_documents",
    "purge_documents",
    "read_journal",
    "record_attempt",
    "record_by_digest",
    "records_of_batch",
    "replace_documents",
    "revocation_by_hash",
    "seal_batch",
    "set_agency_account",
    "set_agency_signing_key",
    "set_agency_status",
    "store_binding",
    "unfinished_batches",
]

_records = table(Record)
_batches = table(Batch)
_journal = table(JournalEntry)

# Rows per INSERT/SELECT round trip: under SQLite's 32,766 bound-parameter limit at 6 columns.
_CHUNK = 5_000
_KINDS = frozenset(k.value for k in DigestKind)

T = TypeVar("T")


# ---------------------------------------------------------------- helpers


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _chunks(items: Sequence[T], size: int = _CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


def _bytes32(value: bytes, what: str) -> bytes:
    if not isinstance(value, bytes) or len(value) != 32:
        raise InvalidInput("expected 32 bytes", field=what)
    return value


def _address(value: str) -> str:
    try:
        return str(to_checksum_address(value))
    except (ValueError, TypeError) as exc:
        raise InvalidInput(f"{value!r} is not a 20-byte hex account address") from exc


def _rowcount(result: Any) -> int:
    return int(cast(CursorResult[Any], result).rowcount)


def append_event(
    session: Session, *, kind: str, subject: str, detail: dict[str, Any] | None = None
) -> None:
    """Append one journal entry in the session's transaction (the journal is never edited)."""
    session.execute(
        insert(_journal).values(
            at=utcnow(),
            kind=kind,
            subject=subject,
            detail=None if detail is None else json.dumps(detail, sort_keys=True),
        )
    )


def read_journal(
    session: Session,
    *,
    after_id: int = 0,
    kind: str | None = None,
    subject: str | None = None,
    limit: int = 1_000,
) -> list[JournalEntry]:
    """Journal entries after `after_id`, oldest first, optionally of one kind or subject."""
    stmt = select(JournalEntry).where(JournalEntry.id > after_id)
    if kind is not None:
        stmt = stmt.where(JournalEntry.kind == kind)
    if subject is not None:
        stmt = stmt.where(JournalEntry.subject == subject)
    return list(session.scalars(stmt.order_by(JournalEntry.id).limit(limit)))


# ---------------------------------------------------------------- chain binding


def store_binding(session: Session) -> RegistryMeta | None:
    """The chain and registry this store belongs to, or None if not yet bound."""
    return session.get(RegistryMeta, 1)


def bind_store(
    session: Session, *, chain_id: int, genesis_hash: str | bytes, registry_address: str
) -> RegistryMeta:
    """Bind the store to a chain and registry the first time; refuse any other one after.

    A store's records and batches only make sense against the chain they were anchored on:
    opening it against a testnet copy or a redeployed contract raises WrongStore.
    """
    genesis = _hex(genesis_hash) if isinstance(genesis_hash, bytes) else genesis_hash.lower()
    if len(genesis) != 66 or not genesis.startswith("0x"):
        raise InvalidInput("genesis_hash: expected a 32-byte block hash")
    address = _address(registry_address)
    begin_write(session)
    meta = session.get(RegistryMeta, 1)
    if meta is None:
        # ON CONFLICT: of two processes binding a new store at once, one row wins and the
        # other compares against it like any later opener.
        values = {
            "id": 1,
            "chain_id": chain_id,
            "genesis_hash": genesis,
            "registry_address": address,
            "created_at": utcnow(),
        }
        meta_table = table(RegistryMeta)
        insert_meta = (
            postgresql.insert(meta_table) if _is_postgres(session) else sqlite.insert(meta_table)
        )
        claimed = insert_meta.values(values).on_conflict_do_nothing().returning(meta_table.c.id)
        if session.execute(claimed).scalar() is not None:
            append_event(
                session,
                kind="store.bound",
                subject="store",
                detail={"chain_id": chain_id, "genesis_hash": genesis, "registry": address},
            )
        meta = session.get(RegistryMeta, 1)
        assert meta is not None
    if (meta.chain_id, meta.genesis_hash, meta.registry_address) != (chain_id, genesis, address):
        raise WrongStore(
            f"this store belongs to chain {meta.chain_id} (genesis {meta.genesis_hash}) "
            f"registry {meta.registry_address}; refusing to mix it with chain {chain_id} "
            f"(genesis {genesis}) registry {address}"
        )
    return meta


# ---------------------------------------------------------------- agencies


def add_agency(
    session: Session,
    *,
    address: str,
    name: str,
    signing_public_key: bytes,
    account: str | None = None,
) -> Agency:
    """Add an active agency: `address` is its identity (the address it was registered with on
    chain), `account` its current transaction account (default: the identity). Addresses are
    stored EIP-55, the key as 0x-hex."""
    address = _address(address)
    account = address if account is None else _address(account)
    _bytes32(signing_public_key, "signing_public_key")
    begin_write(session)
    if agency_by_address(session, address) is not None:
        raise DuplicateAgency(f"agency {address} is already in the store")
    if agency_by_account(session, account) is not None:
        raise DuplicateAgency(f"account {account} already acts for an agency of the store")
    agency = Agency(
        address=address,
        account=account,
        name=name,
        status=AgencyStatus.ACTIVE.value,
        signing_public_key=_hex(signing_public_key),
    )
    session.add(agency)
    session.flush()
    append_event(
        session,
        kind="agency.registered",
        subject=address,
        detail={"id": agency.id, "name": name, "signing_key": agency.signing_public_key},
    )
    return agency


def agency_by_address(session: Session, address: str) -> Agency | None:
    """The agency with this identity address (any case), or None."""
    return session.scalars(select(Agency).where(Agency.address == _address(address))).first()


def agency_by_account(session: Session, account: str) -> Agency | None:
    """The agency whose current transaction account this is (any case), or None."""
    return session.scalars(select(Agency).where(Agency.account == _address(account))).first()


def agency_by_id(session: Session, agency_id: int) -> Agency | None:
    return session.get(Agency, agency_id)


def list_agencies(session: Session) -> list[Agency]:
    """Every agency, in the order they were added."""
    return list(session.scalars(select(Agency).order_by(Agency.id)))


def _agency(session: Session, agency_id: int) -> Agency:
    agency = session.get(Agency, agency_id)
    if agency is None:
        raise UnknownAgency(f"agency #{agency_id} is not in the store")
    return agency


def set_agency_status(session: Session, agency_id: int, status: str) -> Agency:
    """Suspend or reinstate an agency ('active' | 'suspended'); a compromise is marked with
    `mark_agency_compromised`."""
    if status not in {AgencyStatus.ACTIVE.value, AgencyStatus.SUSPENDED.value}:
        raise InvalidInput(f"agency status {status!r}: expected 'active' or 'suspended'")
    begin_write(session)
    agency = _agency(session, agency_id)
    if agency.status != status:
        agency.status = status
        session.flush()
        kind = "agency.suspended" if status == AgencyStatus.SUSPENDED else "agency.reinstated"
        append_event(session, kind=kind, subject=agency.address, detail={"id": agency_id})
    return agency


def mark_agency_compromised(session: Session, agency_id: int, *, since: int) -> Agency:
    """Mirror `markCompromised`: the agency's account was stolen at `since` (Unix seconds)."""
    if since <= 0:
        raise InvalidInput(f"compromise time {since}: expected Unix seconds > 0")
    begin_write(session)
    agency = _agency(session, agency_id)
    agency.status = AgencyStatus.COMPROMISED.value
    agency.compromised_since = since
    session.flush()
    append_event(
        session,
        kind="agency.compromised",
        subject=agency.address,
        detail={"id": agency_id, "since": since},
    )
    return agency


def set_agency_account(session: Session, agency_id: int, account: str) -> Agency:
    """Mirror `moveAgency`: a new transaction account, same identity; a compromised agency is
    active again (the chain closes its compromise window). A suspended one stays suspended."""
    account = _address(account)
    begin_write(session)
    agency = _agency(session, agency_id)
    holder = agency_by_account(session, account)
    if holder is not None and holder.id != agency_id:
        raise DuplicateAgency(f"account {account} already acts for another agency")
    old, agency.account = agency.account, account
    if agency.status == AgencyStatus.COMPROMISED.value:
        agency.status = AgencyStatus.ACTIVE.value
    session.flush()
    append_event(
        session,
        kind="agency.moved",
        subject=agency.address,
        detail={"id": agency_id, "old": old, "new": account},
    )
    return agency


def set_agency_signing_key(session: Session, agency_id: int, signing_public_key: bytes) -> Agency:
    """Record an agency's new signing key after a rotation on chain."""
    key = _hex(_bytes32(signing_public_key, "signing_public_key"))
    begin_write(session)
    agency = _agency(session, agency_id)
    if agency.signing_public_key != key:
        old, agency.signing_public_key = agency.signing_public_key, key
        session.flush()
        append_event(
            session,
            kind="agency.key_rotated",
            subject=agency.address,
            detail={"id": agency_id, "old": old, "new": key},
        )
    return agency


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
_SQLITE_INSERT_RECORDS = (
    "INSERT INTO records (digest, digest_kind, agency_id, status, document, created_at) "
    "VALUES (?, ?, ?, 'pending', ?, ?) ON CONFLICT (agency_id, digest) DO NOTHING"
)


def _insert_new_records(
    session: Session, agency_id: int, rows: Sequence[tuple[bytes, str, str | None]]
) -> dict[bytes, int]:
    """Insert the rows whose digest the agency does not hold yet; return {digest: id} of those."""
    now = utcnow()
    connection = session.connection()
    new: dict[bytes, int] = {}
    if _is_postgres(session):
        for chunk in _chunks(rows):
            params = {
                "agency_id": agency_id,
                "created_at": now,
                "digests": [row[0] for row in chunk],
                "kinds": [row[1] for row in chunk],
                "documents": [row[2] for row in chunk],
            }
            rows_back, _ = _pg_execute(session, _PG_INSERT_RECORDS, params)
            new.update((d, i) for i, d in rows_back)
        return new
    # SQLite: one writer at a time, and a transaction whose snapshot went stale cannot start
    # writing (SQLITE_BUSY_SNAPSHOT), so the rows this call inserts are exactly those numbered
    # above the largest id it saw before inserting.
    created_at = _db_value(session, _records.c.created_at.type, now)
    before = connection.execute(select(func.max(_records.c.id))).scalar() or 0
    connection.exec_driver_sql(
        _SQLITE_INSERT_RECORDS,
        [(digest, kind, agency_id, document, created_at) for digest, kind, document in rows],
    )
    stmt = select(_records.c.id, _records.c.digest).where(_records.c.id > before)
    new.update((d, i) for i, d in connection.execute(stmt))
    return new


def _pg_execute(session: Session, sql: str, params: dict[str, Any]) -> tuple[list[Any], int]:
    """Run `sql` (psycopg placeholders) in the session's transaction with binary parameters.

    Binary arrays of bytes and text skip psycopg's per-element text escaping, which costs more
    than the server's work for bulk statements. Returns (rows, rowcount).
    """
    driver = session.connection().connection.driver_connection
    assert driver is not None
    with driver.cursor(binary=True) as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall() if cursor.description is not None else []
        return rows, int(cursor.rowcount)


def _db_value(session: Session, type_: Any, value: object) -> object:
    """`value` as the driver receives it (for raw executemany, converted once, not per row)."""
    dialect = session.get_bind().dialect
    process = type_.dialect_impl(dialect).bind_processor(dialect)
    return process(value) if process is not None else value


def add_records(
    session: Session, *, agency_id: int, items: Sequence[tuple[bytes, str, str | None]]
) -> AddResult:
    """Add records `(digest, kind, document)` as pending, and commit: durable on return.

    Idempotent per agency: a digest the same agency already submitted is reported in
    `existing_ids`, not added twice (also when it repeats within `items`). Digests are unique
    per agency, not globally: another agency holding the same digest neither blocks this one
    nor is revealed to it. Race-free: two workers adding the same digest for the same agency
    at once both get the one row.
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
    if not rows:
        return AddResult([], [], [])
    begin_write(session)
    try:
        _agency(session, agency_id)
        ids = _insert_new_records(session, agency_id, rows)
        new = set(ids)
        missing = [row[0] for row in rows if row[0] not in ids]
        for chunk in _chunks(missing):
            found = select(_records.c.id, _records.c.digest).where(
                _records.c.agency_id == agency_id, _records.c.digest.in_(chunk)
            )
            for row_id, digest in session.execute(found):
                ids[digest] = row_id
        new_ids = sorted(ids[d] for d in new)
        if new_ids:
            append_event(
                session,
                kind="record.submitted",
                subject=f"agency:{agency_id}",
                detail={"count": len(new_ids), "first_id": new_ids[0], "last_id": new_ids[-1]},
            )
        session.commit()
    except BaseException:
        session.rollback()
        raise
    existing_ids = sorted(ids[row[0]] for row in rows if row[0] not in new)
    return AddResult([ids[d] for d, _, _ in items], new_ids, existing_ids)


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


def counts_by_status(session: Session, *, agency_id: int | None = None) -> dict[str, int]:
    """How many records are in each status (every status present, zero included)."""
    stmt = select(_records.c.status, func.count()).group_by(_records.c.status)
    if agency_id is not None:
        stmt = stmt.where(_records.c.agency_id == agency_id)
    counts = {status.value: 0 for status in RecordStatus}
    counts.update({status: int(n) for status, n in session.execute(stmt)})
    return counts


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
    return [(row_id, digest, kind) for row_id, digest, kind in session.execute(stmt)]


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
    return [(digest, kind) for digest, kind in session.execute(stmt)]


def records_of_batch(session: Session, batch_id: int) -> list[RecordRow]:
    """The batch's records in leaf order, read in bulk."""
    c = _records.c
    stmt = (
        select(c.id, c.digest, c.digest_kind, c.status, c.leaf_index, c.document)
        .where(c.batch_id == batch_id)
        .order_by(c.leaf_index)
    )
    return [RecordRow(*row) for row in session.execute(stmt)]


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
    """Mark an anchored batch confirmed and its records anchored (receipts can be issued)."""
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
