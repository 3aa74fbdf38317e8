"""Administration through the API: agencies registered, suspended and reinstated (chain, then
store), with the keyring's sending locks held; API tokens (registry.service.tokens)."""

from __future__ import annotations

from eth_account.signers.local import LocalAccount

from registry.service.agencies import AgencyRef, agency_by_address, change_agency_status
from registry.service.keyring import Keyring
from registry.service.operator import Operator
from registry.service.tokens import LastAdminToken, issue_api_token, revoke_api_token


def set_agency_active(
    operator: Operator, admin: LocalAccount, agency: AgencyRef, *, active: bool
) -> AgencyRef:
    """Suspend or reinstate an agency on chain (authority account), then in the store. A chain
    already in the wanted state is not asked again (a retry after a crash)."""
    change_agency_status(
        operator.registry, admin, agency.address, active=active, store=operator.store, again=False
    )
    return agency_by_address(operator.store, agency.address)


def set_agency_active_held(keyring: Keyring, address: str, *, active: bool) -> AgencyRef:
    """Suspend or reinstate the store's agency with this identity address, holding the
    agency's own sending lock and the authority's: no anchoring of this agency is in flight
    while its status changes (an anchor sent just before a suspension would revert)."""
    operator = keyring.operator
    agency = agency_by_address(operator.store, address)
    admin = keyring.admin()
    with keyring.sending(agency.address), keyring.sending(admin.address):
        return set_agency_active(operator, admin, agency, active=active)


def register_agency(keyring: Keyring, name: str, *, fund_from_dev: bool) -> AgencyRef:
    """Register a new agency: keys made in the data directory under the server's passphrase,
    registered on chain with the authority's key, added to the store; its issuer is loaded
    into the keyring at once."""
    operator = keyring.operator
    admin = keyring.admin()
    with keyring.sending(admin.address):
        agency, issuer = operator.create_agency(
            name, passphrase=keyring.passphrase, admin=admin, fund_from_dev=fund_from_dev
        )
    keyring.put(agency.id, issuer)
    return AgencyRef.of(agency)


__all__ = [
    "LastAdminToken",
    "issue_api_token",
    "register_agency",
    "revoke_api_token",
    "set_agency_active",
    "set_agency_active_held",
]
