"""What the registry authority does to an agency, on chain and mirrored in the store: confirm a
signing-key rotation the agency proposed, mark the agency compromised since a time, move it to
a new transaction account (identity and history kept), suspend and reinstate it.

Each function sends the chain transactions first and mirrors the result into the store only
once they are mined, so the store never claims what the chain does not hold. (Revoking any
record by the authority is `revoking.revoke_by_authority`.)
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eth_account.signers.local import LocalAccount

from registry import keys
from registry.chain import RegistryContract
from registry.chain.tx import TxResult
from registry.errors import InvalidInput, UnknownAgency
from registry.store import Store, repo
from registry.store.models import Agency


@dataclass(frozen=True)
class AgencyRef:
    """The store's id and the chain identity of an agency."""

    id: int
    address: str
    account: str


def _agency(store: Store, agency_id: int) -> AgencyRef:
    with store.session() as session:
        agency = repo.agency_by_id(session, agency_id)
        if agency is None:
            raise UnknownAgency(f"agency #{agency_id} is not in the store")
        return AgencyRef(agency.id, agency.address, agency.account)


def rotate_signing_key(
    *,
    store: Store,
    registry: RegistryContract,
    agency_account: LocalAccount,
    admin: LocalAccount,
    agency_id: int,
    new_key: Ed25519PrivateKey,
) -> tuple[TxResult, TxResult]:
    """The agency proposes `new_key` (its transaction account), the authority confirms it:
    the old key's window closes and the new one opens at the confirming block's time. A thief
    of the transaction key alone can only propose, never install, a key."""
    ref = _agency(store, agency_id)
    if agency_account.address != ref.account:
        raise InvalidInput(
            f"{agency_account.address} is not the agency's transaction account ({ref.account})"
        )
    public = keys.public_key_bytes(new_key)
    proposed = registry.propose_signing_key(agency_account, public)
    confirmed = registry.confirm_signing_key(admin, ref.address, public)
    with store.session() as session:
        repo.set_agency_signing_key(session, agency_id, public)
    return proposed, confirmed


def mark_compromised(
    *, store: Store, registry: RegistryContract, admin: LocalAccount, agency_id: int, since: int
) -> TxResult:
    """Void the agency's anchors and revocations from `since` (Unix seconds, block time) on;
    its earlier records stay valid. Then move it (`move_agency`) to let it issue again."""
    ref = _agency(store, agency_id)
    result = registry.mark_compromised(admin, ref.address, since=since)
    with store.session() as session:
        repo.mark_agency_compromised(session, agency_id, since=since)
    return result


def move_agency(
    *,
    store: Store,
    registry: RegistryContract,
    admin: LocalAccount,
    agency_id: int,
    new_account: str,
) -> TxResult:
    """Move the agency to `new_account` (usable from the next second on). Its identity, keys,
    anchors and history stay; the old account is retired for good; an open compromise window
    closes now."""
    ref = _agency(store, agency_id)
    result = registry.move_agency(admin, ref.address, new_account=new_account)
    with store.session() as session:
        repo.set_agency_account(session, agency_id, new_account)
    return result


def set_suspended(
    *,
    store: Store,
    registry: RegistryContract,
    admin: LocalAccount,
    agency_id: int,
    suspended: bool,
) -> TxResult:
    """Suspend (or reinstate) the agency; the chain keeps both in its status history."""
    ref = _agency(store, agency_id)
    if suspended:
        result = registry.suspend_agency(admin, ref.address)
    else:
        result = registry.reinstate_agency(admin, ref.address)
    with store.session() as session:
        repo.set_agency_status(session, agency_id, "suspended" if suspended else "active")
    return result


def agency_ref(agency: Agency) -> AgencyRef:
    return AgencyRef(agency.id, agency.address, agency.account)


__all__ = [
    "AgencyRef",
    "agency_ref",
    "mark_compromised",
    "move_agency",
    "rotate_signing_key",
    "set_suspended",
]
