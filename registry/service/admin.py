"""Administration through the API: agencies suspended and reinstated (chain, then store), API
tokens issued and revoked (never the last admin token)."""

from __future__ import annotations

from eth_account.signers.local import LocalAccount
from sqlalchemy import select

from registry.chain.contract import AgencyStatus as ChainAgencyStatus
from registry.errors import UnknownAgency
from registry.service.operator import Operator
from registry.store import Store, repo
from registry.store.db import begin_write
from registry.store.errors import InvalidTransition
from registry.store.models import (
    Agency,
    AgencyStatus,
    ApiToken,
    TokenScope,
)
from registry.store.tokens import authenticate, issue_token, revoke_token


def set_agency_active(
    operator: Operator, admin: LocalAccount, agency: Agency, *, active: bool
) -> Agency:
    """Suspend or reinstate an agency on chain (authority account), then in the store. A chain
    already in the wanted state is not asked again (a retry after a crash)."""
    on_chain = operator.registry.agency_of(agency.address)
    wanted = ChainAgencyStatus.ACTIVE if active else ChainAgencyStatus.SUSPENDED
    if on_chain.status == ChainAgencyStatus.NONE:
        raise UnknownAgency(f"{agency.address} is not a registered agency on chain")
    if on_chain.status != wanted:
        if active:
            operator.registry.reinstate_agency(admin, agency.address)
        else:
            operator.registry.suspend_agency(admin, agency.address)
    status = AgencyStatus.ACTIVE if active else AgencyStatus.SUSPENDED
    with operator.store.session() as session:
        return repo.set_agency_status(session, agency.id, status.value)


def issue_api_token(store: Store, *, agency_id: int | None, label: str) -> tuple[int, str]:
    """A new token (agency-scoped, or admin when `agency_id` is None): (id, the token). Only
    its SHA-256 is stored; the token itself exists only in the return value."""
    scope = "admin" if agency_id is None else "agency"
    with store.session() as session:
        token = issue_token(session, agency_id=agency_id, scope=scope, label=label)
        row = authenticate(session, token)
        assert row is not None
        return row.id, token


class LastAdminToken(InvalidTransition):
    """Revoking this token would leave no admin token: nobody could administer through the API."""


def revoke_api_token(store: Store, token_id: int) -> tuple[ApiToken, str | None]:
    """Revoke a token by id (again: no change): the row and its agency's address (None for an
    admin token). The last live admin token is refused (LastAdminToken): a lock-out could
    then only be undone on the server (`registry token create --admin`)."""
    with store.session() as session:
        begin_write(session)
        row = session.get(ApiToken, token_id)
        if row is not None and row.scope == TokenScope.ADMIN and row.revoked_at is None:
            # Rows locked (PostgreSQL; SQLite holds its write lock): two requests revoking the
            # last two admin tokens at once cannot both see the other one still live.
            live = session.scalars(
                select(ApiToken.id)
                .where(ApiToken.scope == TokenScope.ADMIN, ApiToken.revoked_at.is_(None))
                .with_for_update()
            ).all()
            if list(live) == [token_id]:
                raise LastAdminToken(
                    f"API token #{token_id} is the last admin token; revoking it would lock "
                    "every administrator out. Create another admin token first "
                    "(registry token create --admin), then revoke this one"
                )
        revoked = revoke_token(session, token_id)
        agency = repo.agency_by_id(session, revoked.agency_id) if revoked.agency_id else None
        return revoked, agency.address if agency is not None else None
