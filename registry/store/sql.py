"""Shared pieces of the repository modules: table handles for Core statements, chunking
under SQLite's bound-parameter limit, value checks, and the journal every writer appends to."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any, TypeVar, cast

import psycopg
from eth_utils.address import to_checksum_address
from sqlalchemy import CursorResult, insert, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from registry.errors import InvalidInput
from registry.store.models import (
    Batch,
    DigestKind,
    JournalEntry,
    Record,
    table,
    utcnow,
)

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


def _pg_execute(session: Session, sql: str, params: dict[str, Any]) -> tuple[list[Any], int]:
    """Run `sql` (psycopg placeholders) in the session's transaction with binary parameters.

    Binary arrays of bytes and text skip psycopg's per-element text escaping, which costs more
    than the server's work for bulk statements. Returns (rows, rowcount).
    """
    connection = session.connection()
    driver = connection.connection.driver_connection
    assert driver is not None
    try:
        with driver.cursor(binary=True) as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall() if cursor.description is not None else []
            return rows, int(cursor.rowcount)
    except psycopg.Error as exc:
        # Raised by the driver itself, not through SQLAlchemy: wrap it as SQLAlchemy would, so
        # that Store.session() sees an outage (server restarted mid-statement) as one and the
        # pool drops the dead connection.
        lost = isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError)
        if lost:
            connection.invalidate(exc)
        raise DBAPIError.instance(
            sql, None, exc, psycopg.Error, connection_invalidated=lost
        ) from None


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
