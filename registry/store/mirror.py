"""The registry mirror's tables: the contract's events as the chain has them to the
confirmation depth, the blocks applied, and the cursor (how far, how fresh). Written by the
one follower that holds the mirror's lease (registry.service.mirror); read by every server
process that verifies."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from registry.errors import StoreUnavailable
from registry.store.db import SQLITE_BUSY_TIMEOUT_MS, Store, begin_write
from registry.store.models import MirrorBlock, MirrorCursor, MirrorEvent, table

__all__ = [
    "MirrorCursorRow",
    "MirrorEventRow",
    "MirrorReads",
    "apply_mirror_page",
    "mirror_agency_events",
    "mirror_blocks_from",
    "mirror_cursor",
    "mirror_events_after",
    "rewind_mirror",
    "start_mirror",
    "touch_mirror",
]

KEEP_BLOCKS = 1_024
"""Applied blocks kept with their hashes: the deepest re-organisation rewound block by block
(a deeper one rebuilds the mirror from its first block)."""


@dataclass(frozen=True)
class MirrorCursorRow:
    chain_id: int
    registry_address: str
    from_block: int
    block_number: int
    block_hash: bytes
    synced_at: float
    agency_version: int
    rewinds: int


@dataclass(frozen=True)
class MirrorEventRow:
    block_number: int
    log_index: int
    block_hash: bytes
    tx_hash: bytes
    timestamp: int
    name: str
    agency: bytes | None
    subject: bytes | None
    args: str


_EVENT_COLUMNS = (
    MirrorEvent.block_number,
    MirrorEvent.log_index,
    MirrorEvent.block_hash,
    MirrorEvent.tx_hash,
    MirrorEvent.timestamp,
    MirrorEvent.name,
    MirrorEvent.agency,
    MirrorEvent.subject,
    MirrorEvent.args,
)


def _row(values: Sequence[object]) -> MirrorEventRow:
    return MirrorEventRow(*values)  # type: ignore[arg-type]


def mirror_cursor(session: Session) -> MirrorCursorRow | None:
    """The cursor, or None before the follower's first step."""
    row = session.get(MirrorCursor, 1)
    if row is None:
        return None
    return MirrorCursorRow(
        chain_id=row.chain_id,
        registry_address=row.registry_address,
        from_block=row.from_block,
        block_number=row.block_number,
        block_hash=row.block_hash,
        synced_at=row.synced_at,
        agency_version=row.agency_version,
        rewinds=row.rewinds,
    )


def start_mirror(
    session: Session,
    *,
    chain_id: int,
    registry_address: str,
    from_block: int,
    block_hash: bytes,
    synced_at: float,
) -> None:
    """Create the cursor just before `from_block` (the registry's deployment block): nothing
    applied yet. Replaces whatever was there (a mirror of another registry is emptied)."""
    begin_write(session)
    session.execute(delete(MirrorEvent))
    session.execute(delete(MirrorBlock))
    session.execute(delete(MirrorCursor))
    session.add(
        MirrorCursor(
            id=1,
            chain_id=chain_id,
            registry_address=registry_address,
            from_block=from_block,
            block_number=from_block - 1,
            block_hash=block_hash,
            synced_at=synced_at,
            agency_version=0,
            rewinds=0,
        )
    )
    if from_block > 0:
        session.add(MirrorBlock(number=from_block - 1, hash=block_hash))


def apply_mirror_page(
    session: Session,
    *,
    expect_block: int,
    events: Sequence[MirrorEventRow],
    blocks: Sequence[tuple[int, bytes]],
    to_block: int,
    to_hash: bytes,
    synced_at: float,
    agency_changed: bool,
) -> bool:
    """Apply the events of the blocks after the cursor up to `to_block` in one transaction,
    only if the cursor is still at `expect_block` (another follower may have moved it: False,
    nothing written)."""
    begin_write(session)
    cursor = session.get(MirrorCursor, 1)
    if cursor is None or cursor.block_number != expect_block:
        return False
    if events:
        session.execute(
            insert(table(MirrorEvent)),
            [
                {
                    "block_number": e.block_number,
                    "log_index": e.log_index,
                    "block_hash": e.block_hash,
                    "tx_hash": e.tx_hash,
                    "timestamp": e.timestamp,
                    "name": e.name,
                    "agency": e.agency,
                    "subject": e.subject,
                    "args": e.args,
                }
                for e in events
            ],
        )
    known = {number for number, _ in blocks}
    session.execute(delete(MirrorBlock).where(MirrorBlock.number.in_(known)))
    session.execute(
        insert(table(MirrorBlock)), [{"number": n, "hash": h} for n, h in sorted(set(blocks))]
    )
    session.execute(delete(MirrorBlock).where(MirrorBlock.number < to_block - KEEP_BLOCKS))
    cursor.block_number = to_block
    cursor.block_hash = to_hash
    cursor.synced_at = synced_at
    if agency_changed:
        cursor.agency_version += 1
    return True


def touch_mirror(session: Session, *, block_number: int, block_hash: bytes, at: float) -> None:
    """Say the mirror is current at `at`: the chain has nothing confirmed beyond its block,
    whose hash is still the chain's."""
    session.execute(
        update(MirrorCursor)
        .where(
            MirrorCursor.id == 1,
            MirrorCursor.block_number == block_number,
            MirrorCursor.block_hash == block_hash,
        )
        .values(synced_at=at)
    )


def mirror_blocks_from(session: Session, *, below: int) -> list[tuple[int, bytes]]:
    """The applied blocks at or below `below` with their hashes, newest first."""
    rows = session.execute(
        select(MirrorBlock.number, MirrorBlock.hash)
        .where(MirrorBlock.number <= below)
        .order_by(MirrorBlock.number.desc())
    )
    return [(int(n), bytes(h)) for n, h in rows]


def rewind_mirror(session: Session, *, to_block: int, to_hash: bytes) -> int:
    """Forget every event and block after `to_block` (the common ancestor after a
    re-organisation); returns how many events were dropped."""
    begin_write(session)
    dropped = session.execute(delete(MirrorEvent).where(MirrorEvent.block_number > to_block))
    session.execute(delete(MirrorBlock).where(MirrorBlock.number > to_block))
    cursor = session.get(MirrorCursor, 1)
    assert cursor is not None
    cursor.block_number = to_block
    cursor.block_hash = to_hash
    cursor.agency_version += 1
    cursor.rewinds += 1
    return int(dropped.rowcount or 0)  # type: ignore[attr-defined]


_HASH_EVENTS = ("Anchored", "Revoked", "RevokedByAuthority")


def mirror_agency_events(session: Session) -> list[MirrorEventRow]:
    """Every event but anchors and revocations (agencies, accounts, keys, roles), oldest
    first: few, replayed into the agencies' state."""
    rows = session.execute(
        select(*_EVENT_COLUMNS)
        .where(MirrorEvent.name.not_in(_HASH_EVENTS))
        .order_by(MirrorEvent.block_number, MirrorEvent.log_index)
    )
    return [_row(r) for r in rows]


def mirror_events_after(
    session: Session, *, block_number: int, log_index: int, limit: int = 10_000
) -> Iterator[MirrorEventRow]:
    """The events after position (block_number, log_index), oldest first, at most `limit`:
    how another process (or a feed) reads what the follower applied."""
    rows = session.execute(
        select(*_EVENT_COLUMNS)
        .where(
            (MirrorEvent.block_number > block_number)
            | ((MirrorEvent.block_number == block_number) & (MirrorEvent.log_index > log_index))
        )
        .order_by(MirrorEvent.block_number, MirrorEvent.log_index)
        .limit(limit)
    )
    for r in rows:
        yield _row(r)


# ---------------------------------------------------------------- the verifier's fast reads

_CURSOR_SQL = (
    "SELECT chain_id, registry_address, from_block, block_number, block_hash, synced_at, "
    "agency_version, rewinds FROM mirror_cursor WHERE id = 1"
)
_HASH_SQL = (
    "SELECT block_number, log_index, block_hash, tx_hash, timestamp, name, agency, subject, "
    "args FROM mirror_events WHERE agency = {p} AND subject IN ({p}, {p}) "
    "ORDER BY block_number, log_index"
)


class MirrorReads:
    """The two reads of every verification (the cursor; the anchor and revocations of a root
    and a leaf) on a DBAPI connection of each thread's own, outside the pool and the ORM: a
    verification costs two indexed lookups, not two sessions. Autocommit, so every read sees
    what the follower has committed. A connection that fails is dropped and StoreUnavailable
    raised; the next read opens a new one."""

    def __init__(self, store: Store) -> None:
        self._engine = store.engine
        self._sqlite = store.dialect == "sqlite"
        self._hash_sql = _HASH_SQL.format(p="?" if self._sqlite else "%s")
        self._local = threading.local()
        self._all: list[Any] = []
        self._lock = threading.Lock()
        store.on_close(self.close)

    def _connect(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        url = self._engine.url
        if self._sqlite:
            conn = sqlite3.connect(
                url.database or ":memory:",
                isolation_level=None,
                check_same_thread=False,
                timeout=SQLITE_BUSY_TIMEOUT_MS / 1000,
            )
        else:
            cargs, cparams = self._engine.dialect.create_connect_args(url)
            conn = psycopg.connect(*cargs, **cparams, autocommit=True)
        self._local.conn = conn
        with self._lock:
            self._all.append(conn)
        return conn

    def _rows(self, sql: str, params: Sequence[Any]) -> list[Any]:
        conn = self._connect()
        try:
            cursor = conn.cursor()
            try:
                cursor.execute(sql, params)
                return list(cursor.fetchall())
            finally:
                cursor.close()
        except (sqlite3.Error, psycopg.Error) as exc:
            self._local.conn = None
            with self._lock:
                if conn in self._all:
                    self._all.remove(conn)
            with contextlib.suppress(sqlite3.Error, psycopg.Error):
                conn.close()
            raise StoreUnavailable(f"the store could not be read: {type(exc).__name__}") from exc

    def cursor(self) -> MirrorCursorRow | None:
        rows = self._rows(_CURSOR_SQL, ())
        if not rows:
            return None
        r = rows[0]
        return MirrorCursorRow(
            chain_id=int(r[0]),
            registry_address=str(r[1]),
            from_block=int(r[2]),
            block_number=int(r[3]),
            block_hash=bytes(r[4]),
            synced_at=float(r[5]),
            agency_version=int(r[6]),
            rewinds=int(r[7]),
        )

    def hash_events(self, *, agency: bytes, root: bytes, leaf: bytes) -> list[MirrorEventRow]:
        """The events about a root and a leaf of one agency (its anchor of the root, the
        revocations of either), oldest first: on the (agency, subject) index."""
        rows = self._rows(self._hash_sql, (agency, root, leaf))
        return [
            MirrorEventRow(
                block_number=int(r[0]),
                log_index=int(r[1]),
                block_hash=bytes(r[2]),
                tx_hash=bytes(r[3]),
                timestamp=int(r[4]),
                name=str(r[5]),
                agency=bytes(r[6]) if r[6] is not None else None,
                subject=bytes(r[7]) if r[7] is not None else None,
                args=str(r[8]),
            )
            for r in rows
        ]

    def close(self) -> None:
        with self._lock:
            conns, self._all = self._all, []
        for conn in conns:
            with contextlib.suppress(sqlite3.Error, psycopg.Error):
                conn.close()
