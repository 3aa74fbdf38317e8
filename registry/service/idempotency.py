"""`Idempotency-Key` on submissions: the same key with the same request gets the same answer,
the same key with another request is refused, naming the key.

Keys are the agency's own: another agency using the same string has its own key (and never
learns of this one). The first request holding a key runs; its answer (status, body,
Location) is kept `api_idempotency_hours` and replayed to every repeat. A repeat that arrives
while the first still runs is told so (409, try again). A request that fails keeps nothing:
the key is free again, and the client may retry it as it was.

A request's fingerprint is its route and its meaning, not its bytes: the JSON body as parsed
(keys sorted), a file's SHA-256, so a multipart boundary or a key order that differs is the
same request.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from registry.errors import InvalidInput, RegistryError
from registry.service.agencies import AgencyRef
from registry.service.operator import Operator
from registry.store import repo
from registry.store.models import utcnow

__all__ = [
    "HEADER",
    "IdempotencyKeyInUse",
    "IdempotencyKeyReused",
    "KeyHeld",
    "StoredAnswer",
    "begin_idempotent",
    "fingerprint",
    "keep_answer",
    "release_key",
]

HEADER = "Idempotency-Key"
STALE_AFTER = 600.0
"""Seconds after which a key still held by a request that never answered is free again."""
_FIELD = "header.Idempotency-Key"
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


class IdempotencyKeyReused(InvalidInput):
    """The agency used this Idempotency-Key before for another request."""


class IdempotencyKeyInUse(RegistryError):
    """A request with this Idempotency-Key is still running: try again in a moment."""


@dataclass(frozen=True)
class StoredAnswer:
    """The answer given to the first request with this key: replay it."""

    status_code: int
    body: str
    location: str | None


@dataclass(frozen=True)
class KeyHeld:
    """This request holds the key: run it, then `keep_answer` (or `release_key` if it fails)."""

    id: int
    key: str


def fingerprint(route: str, content: Any) -> bytes:
    """SHA-256 of the route and the request's content (JSON-able: the parsed body, keys
    sorted, or a file's digest)."""
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(route.encode() + b"\n" + canonical.encode("utf-8")).digest()


def begin_idempotent(
    operator: Operator, agency: AgencyRef, *, key: str, fingerprint: bytes
) -> StoredAnswer | KeyHeld:
    """Claim the agency's `key` for this request, or the answer its earlier use got.
    IdempotencyKeyReused: the key was used for another request (422); IdempotencyKeyInUse:
    its first request still runs (409)."""
    if not _KEY.match(key):
        raise InvalidInput(
            "an Idempotency-Key is 1 to 255 visible ASCII characters (a UUID, say)", field=_FIELD
        )
    hours = operator.settings.api_idempotency_hours
    now = utcnow()
    # A request runs at most its bounded wait (and its sealing): a claim left `processing`
    # far longer belongs to a request that died (the process was killed mid-way).
    stale = timedelta(seconds=max(STALE_AFTER, 4 * operator.settings.api_wait_timeout))
    with operator.store.session(write=True) as session:
        claim = repo.claim_idempotency_key(
            session,
            agency_id=agency.id,
            key=key,
            fingerprint=fingerprint,
            expires_at=now + timedelta(hours=hours),
            stale_before=now - stale,
        )
    if claim.claimed:
        return KeyHeld(claim.id, key)
    if claim.fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            f"Idempotency-Key {key!r} was used for another request (another route or body) "
            f"in the last {hours:g} hours; use a new key for a new request",
            field=_FIELD,
        )
    if claim.status_code is None or claim.response is None:
        raise IdempotencyKeyInUse(
            f"a request with Idempotency-Key {key!r} is still being processed; "
            "try again in a moment"
        )
    return StoredAnswer(claim.status_code, claim.response, claim.location)


def keep_answer(
    operator: Operator, held: KeyHeld, *, status_code: int, body: str, location: str | None
) -> None:
    """Keep the answer of the request holding the key, for its replays."""
    with operator.store.session(write=True) as session:
        repo.keep_idempotent_answer(
            session, held.id, status_code=status_code, response=body, location=location
        )


def release_key(operator: Operator, held: KeyHeld) -> None:
    """Free the key of a request that failed (nothing is replayed; it may be sent again)."""
    with operator.store.session(write=True) as session:
        repo.release_idempotency_key(session, held.id)
