"""The service functions the doors call for tokens and agencies of the store: the values they
hand out (AgencyRef, Caller, TokenInfo, never rows), the one agency lookup, and the last admin
token kept by the API but revocable on the server."""

from __future__ import annotations

import pytest

from registry.errors import UnknownAgency
from registry.service.agencies import (
    AgencyRef,
    agency_by_address,
    find_agency,
    mirror_agency_status,
)
from registry.service.tokens import (
    LastAdminToken,
    authenticate_api_token,
    issue_agency_token,
    issue_api_token,
    list_api_tokens,
    revoke_api_token,
)
from registry.store import repo

IDENTITY = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
ACCOUNT = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"


@pytest.fixture
def agency(store) -> AgencyRef:
    with store.session() as session:
        repo.add_agency(
            session,
            address=IDENTITY,
            name="Land Office",
            signing_public_key=b"\x11" * 32,
            account=ACCOUNT,
        )
    return agency_by_address(store, IDENTITY)


def test_find_agency_by_name_identity_or_account_in_any_case(store, agency):
    for given in (
        "Land Office",
        IDENTITY,
        IDENTITY.lower(),
        ACCOUNT,
        ACCOUNT.upper()[2:].join(("0x", "")),
    ):
        assert find_agency(store, given) == agency
    assert agency == AgencyRef(agency.id, "Land Office", IDENTITY, ACCOUNT, "active")
    with pytest.raises(UnknownAgency):
        find_agency(store, "Sea Office")
    with pytest.raises(UnknownAgency):
        agency_by_address(store, ACCOUNT)  # the identity only


def test_mirror_agency_status_by_identity_or_account(store, agency):
    mirror_agency_status(store, ACCOUNT, active=False)
    assert not agency_by_address(store, IDENTITY).active
    mirror_agency_status(store, IDENTITY, active=True)
    assert agency_by_address(store, IDENTITY).active
    mirror_agency_status(store, "0x" + "12" * 20, active=False)  # not here: nothing to mirror


def test_tokens_authenticate_to_callers_and_list_as_values(store, agency):
    admin_id, admin_token = issue_api_token(store, agency_id=None, label="ops")
    agency_id, agency_token, owner = issue_agency_token(store, IDENTITY.lower(), label="system")
    assert owner == agency

    admin = authenticate_api_token(store, admin_token)
    assert admin is not None and admin.is_admin and admin.agency is None
    caller = authenticate_api_token(store, agency_token)
    assert caller is not None and not caller.is_admin and caller.agency == agency
    assert authenticate_api_token(store, "prr_unknown") is None

    listed = {t.id: t for t in list_api_tokens(store)}
    assert listed[admin_id].scope == "admin" and listed[admin_id].agency_address is None
    assert (listed[agency_id].agency_address, listed[agency_id].agency_name) == (
        IDENTITY,
        "Land Office",
    )
    assert listed[agency_id].created_at.tzinfo is not None

    revoked = revoke_api_token(store, agency_id)
    assert revoked.revoked_at is not None and revoked.agency_address == IDENTITY
    assert authenticate_api_token(store, agency_token) is None


def test_the_last_admin_token_is_kept_unless_the_server_revokes_it(store):
    token_id, token = issue_api_token(store, agency_id=None, label="only admin")
    with pytest.raises(LastAdminToken):
        revoke_api_token(store, token_id)
    assert authenticate_api_token(store, token) is not None
    assert revoke_api_token(store, token_id, keep_last_admin=False).revoked_at is not None
    assert authenticate_api_token(store, token) is None
