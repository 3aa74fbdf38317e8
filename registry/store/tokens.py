"""API tokens: issued once, stored only as a SHA-256 hash, checked in constant time.

A leaked database therefore yields no usable token. The tokens carry 256 bits of
randomness, so a plain (unsalted, fast) hash is enough: there is nothing to brute-force.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from registry.errors import InvalidInput, UnknownAgency
from registry.store.db import begin_write
from registry.store.errors import NotFound
from registry.store.models import Agency, ApiToken, TokenScope, utcnow
from registry.store.sql import append_event

__all__ = [
    "TOKEN_PREFIX",
    "authenticate",
    "issue_token",
    "list_tokens",
    "live_admin_token_ids",
    "revoke_token",
    "token_by_id",
    "token_hash",
]

TOKEN_PREFIX = "prr_"
"""Marks a public-records-registry token, so secret scanners and people recognise one."""


def token_hash(token: str) -> str:
    """The SHA-256 hex of a token: what the store keeps instead of the token."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, *, agency_id: int | None, scope: str, label: str) -> str:
    """Create a token and return it; this is the only time the raw token exists.

    `scope` 'agency' needs an `agency_id`; 'admin' must have none.
    """
    if scope not in {s.value for s in TokenScope}:
        raise InvalidInput(f"token scope {scope!r}: expected 'agency' or 'admin'")
    if (scope == TokenScope.ADMIN) != (agency_id is None):
        raise InvalidInput("an admin token has no agency; an agency token needs one")
    begin_write(session)
    if agency_id is not None and session.get(Agency, agency_id) is None:
        raise UnknownAgency(f"agency #{agency_id} is not in the store")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(agency_id=agency_id, scope=scope, token_hash=token_hash(token), label=label)
    session.add(row)
    session.flush()
    append_event(
        session,
        kind="token.issued",
        subject=f"token:{row.id}",
        detail={"agency_id": agency_id, "scope": scope, "label": label},
    )
    return token


def authenticate(session: Session, token: str) -> ApiToken | None:
    """The live (not revoked) token row for `token`, or None.

    Looked up by its hash, then compared in constant time; the agency's suspension is the
    caller's to check (a suspended agency still authenticates, it just cannot issue).
    """
    if not token.startswith(TOKEN_PREFIX):
        return None
    wanted = token_hash(token)
    row = session.scalars(select(ApiToken).where(ApiToken.token_hash == wanted)).first()
    if row is None or not hmac.compare_digest(row.token_hash, wanted):
        return None
    return row if row.revoked_at is None else None


def revoke_token(session: Session, token_id: int) -> ApiToken:
    """Revoke a token by id; revoking it again changes nothing."""
    begin_write(session)
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"API token #{token_id} is not in the store")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.flush()
        append_event(session, kind="token.revoked", subject=f"token:{token_id}")
    return row


def list_tokens(session: Session, *, agency_id: int | None = None) -> list[ApiToken]:
    """Tokens (hash, scope, label, dates), optionally of one agency, oldest first."""
    stmt = select(ApiToken)
    if agency_id is not None:
        stmt = stmt.where(ApiToken.agency_id == agency_id)
    return list(session.scalars(stmt.order_by(ApiToken.id)))


def token_by_id(session: Session, token_id: int) -> ApiToken | None:
    return session.get(ApiToken, token_id)


def live_admin_token_ids(session: Session) -> list[int]:
    """Ids of the admin tokens not revoked, their rows locked (FOR UPDATE on PostgreSQL; SQLite
    holds its write lock when the caller began with `begin_write`): two transactions revoking
    the last two admin tokens at once cannot both see the other one still live."""
    return list(
        session.scalars(
            select(ApiToken.id)
            .where(ApiToken.scope == TokenScope.ADMIN, ApiToken.revoked_at.is_(None))
            .with_for_update()
        ).all()
    )
