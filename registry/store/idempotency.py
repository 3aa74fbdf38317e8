"""The repository's idempotency keys: an agency's `Idempotency-Key` claimed by the first request
that uses it, the answer kept for replay, forgotten after its time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from registry.store.db import begin_write
from registry.store.models import IdempotencyKey, IdempotencyState, table, utcnow
from registry.store.sql import _is_postgres, _rowcount

_keys = table(IdempotencyKey)


@dataclass(frozen=True, slots=True)
class KeyClaim:
    """What `claim_idempotency_key` found: `claimed` (this request now holds the key: `id`),
    else the key's earlier use (its fingerprint, and its answer once done)."""

    id: int
    claimed: bool
    fingerprint: bytes
    state: str
    status_code: int | None
    response: str | None
    location: str | None


def claim_idempotency_key(
    session: Session,
    *,
    agency_id: int,
    key: str,
    fingerprint: bytes,
    expires_at: datetime,
    stale_before: datetime,
) -> KeyClaim:
    """Claim the agency's `key` for a request with this fingerprint (one winner when two claim
    at once), or return its earlier, unexpired use. A claim still `processing` since before
    `stale_before` is taken over (its request died without an answer). Keys are per agency:
    another agency's use of the same key is neither seen nor blocking. Commits."""
    begin_write(session)
    now = utcnow()
    c = _keys.c
    try:
        gone = (c.expires_at <= now) | (
            (c.state == IdempotencyState.PROCESSING.value) & (c.created_at < stale_before)
        )
        session.execute(delete(_keys).where(c.agency_id == agency_id, c.key == key, gone))
        values = {
            "agency_id": agency_id,
            "key": key,
            "fingerprint": fingerprint,
            "state": IdempotencyState.PROCESSING.value,
            "created_at": now,
            "expires_at": expires_at,
        }
        make = pg_insert if _is_postgres(session) else sqlite_insert
        stmt = (
            make(_keys)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["agency_id", "key"])
            .returning(c.id)
        )
        inserted = session.execute(stmt).scalar()
        if inserted is not None:
            session.commit()
            state = IdempotencyState.PROCESSING.value
            return KeyClaim(int(inserted), True, fingerprint, state, None, None, None)
        row = session.execute(
            select(c.id, c.fingerprint, c.state, c.status_code, c.response, c.location).where(
                c.agency_id == agency_id, c.key == key
            )
        ).one()
        session.commit()
    except BaseException:
        session.rollback()
        raise
    rid, found, state, status, response, location = row
    return KeyClaim(int(rid), False, bytes(found), str(state), status, response, location)


def keep_idempotent_answer(
    session: Session, key_id: int, *, status_code: int, response: str, location: str | None
) -> None:
    """The answer of the request that holds the key, kept for its replays."""
    session.execute(
        update(_keys)
        .where(_keys.c.id == key_id)
        .values(
            state=IdempotencyState.DONE.value,
            status_code=status_code,
            response=response,
            location=location,
        )
    )


def release_idempotency_key(session: Session, key_id: int) -> None:
    """Forget a key whose request failed (nothing to replay: the client may try again)."""
    session.execute(
        delete(_keys).where(
            _keys.c.id == key_id, _keys.c.state == IdempotencyState.PROCESSING.value
        )
    )


def prune_idempotency_keys(session: Session, *, now: datetime | None = None) -> int:
    """Delete every expired key; returns how many."""
    result = session.execute(delete(_keys).where(_keys.c.expires_at <= (now or utcnow())))
    return _rowcount(result)
