"""API tokens: issued (shown once; only the SHA-256 is stored), listed, revoked (never the last
admin token through the API), and a bearer token authenticated to the `Caller` it acts for.
The doors get `TokenInfo` and `Caller` values, never the store's rows."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from registry.errors import InvalidInput, InvalidTransition
from registry.service.agencies import AgencyRef, agency_by_address
from registry.service.connection import operator_store
from registry.settings import Settings
from registry.store import Store, repo
from registry.store.db import begin_write
from registry.store.models import ApiToken, TokenScope
from registry.store.tokens import (
    authenticate,
    issue_token,
    list_tokens,
    live_admin_token_ids,
    revoke_token,
    token_by_id,
)


@dataclass(frozen=True)
class TokenInfo:
    """A token as an administrator sees it (never the token itself)."""

    id: int
    scope: str
    agency_id: int | None
    agency_address: str | None
    agency_name: str | None
    label: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class Caller:
    """Whom a valid bearer token acts for: the registry authority (scope `admin`), or one
    agency (scope `agency`; `agency` None if the agency left the store)."""

    token_id: int
    scope: str
    agency_id: int | None
    agency: AgencyRef | None

    @property
    def is_admin(self) -> bool:
        return self.scope == TokenScope.ADMIN


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _info(row: ApiToken, agencies: dict[int, AgencyRef]) -> TokenInfo:
    agency = agencies.get(row.agency_id) if row.agency_id is not None else None
    return TokenInfo(
        id=row.id,
        scope=str(row.scope),
        agency_id=row.agency_id,
        agency_address=None if agency is None else agency.address,
        agency_name=None if agency is None else agency.name,
        label=row.label,
        created_at=_aware(row.created_at),
        revoked_at=None if row.revoked_at is None else _aware(row.revoked_at),
    )


@contextmanager
def token_store(settings: Settings) -> Iterator[Store]:
    """The operator's store, where tokens live, for one command (closed after it). Not on the
    embedded chain: its registry lives only inside `registry serve`."""
    if settings.rpc == "embedded":
        raise InvalidInput(
            "tokens belong to a persistent registry's store: configure a node (`registry init`)"
            "; `registry serve` on the embedded chain prints its own tokens"
        )
    store = operator_store(settings)
    try:
        yield store
    finally:
        store.close()


def authenticate_api_token(store: Store, token: str) -> Caller | None:
    """The caller a bearer token acts for; None if unknown or revoked."""
    with store.session() as session:
        row = authenticate(session, token)
        if row is None:
            return None
        agency = None
        if row.agency_id is not None:
            found = repo.agency_by_id(session, row.agency_id)
            agency = None if found is None else AgencyRef.of(found)
        return Caller(token_id=row.id, scope=str(row.scope), agency_id=row.agency_id, agency=agency)


def issue_api_token(store: Store, *, agency_id: int | None, label: str) -> tuple[int, str]:
    """A new token (agency-scoped, or admin when `agency_id` is None): (id, the token). Only
    its SHA-256 is stored; the token itself exists only in the return value."""
    scope = "admin" if agency_id is None else "agency"
    with store.session() as session:
        token = issue_token(session, agency_id=agency_id, scope=scope, label=label)
        row = authenticate(session, token)
        assert row is not None
        return row.id, token


def issue_agency_token(store: Store, address: str, *, label: str) -> tuple[int, str, AgencyRef]:
    """A new token for the store's agency with this identity address (UnknownAgency if none):
    (id, the token, the agency)."""
    agency = agency_by_address(store, address)
    token_id, token = issue_api_token(store, agency_id=agency.id, label=label)
    return token_id, token, agency


def list_api_tokens(store: Store) -> list[TokenInfo]:
    """Every token, oldest first, with its agency's address and name."""
    with store.session() as session:
        agencies = {a.id: AgencyRef.of(a) for a in repo.list_agencies(session)}
        return [_info(row, agencies) for row in list_tokens(session)]


class LastAdminToken(InvalidTransition):
    """Revoking this token would leave no admin token: nobody could administer through the API."""


def revoke_api_token(store: Store, token_id: int, *, keep_last_admin: bool = True) -> TokenInfo:
    """Revoke a token by id (again: no change). With `keep_last_admin` (the API) the last live
    admin token is refused (LastAdminToken): a lock-out could then only be undone on the
    server (`registry token create --admin`), which is where `keep_last_admin=False` comes
    from (the CLI)."""
    with store.session() as session:
        begin_write(session)
        row = token_by_id(session, token_id)
        if (
            keep_last_admin
            and row is not None
            and row.scope == TokenScope.ADMIN
            and row.revoked_at is None
        ):
            # Rows locked (PostgreSQL; SQLite holds its write lock): two requests revoking the
            # last two admin tokens at once cannot both see the other one still live.
            live = live_admin_token_ids(session)
            if live == [token_id]:
                raise LastAdminToken(
                    f"API token #{token_id} is the last admin token; revoking it would lock "
                    "every administrator out. Create another admin token first "
                    "(registry token create --admin), then revoke this one"
                )
        revoked = revoke_token(session, token_id)
        agencies = {}
        if revoked.agency_id is not None:
            agency = repo.agency_by_id(session, revoked.agency_id)
            if agency is not None:
                agencies[agency.id] = AgencyRef.of(agency)
        return _info(revoked, agencies)
