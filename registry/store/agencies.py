"""The repository's agencies and the store's binding to one chain and registry."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from registry.errors import InvalidInput, UnknownAgency
from registry.store.db import begin_write
from registry.store.errors import (
    DuplicateAgency,
    WrongStore,
)
from registry.store.models import (
    Agency,
    AgencyStatus,
    RegistryMeta,
    table,
    utcnow,
)
from registry.store.sql import _address, _bytes32, _hex, _is_postgres, append_event

# ---------------------------------------------------------------- chain binding


def store_binding(session: Session) -> RegistryMeta | None:
    """The chain and registry this store belongs to, or None if not yet bound."""
    return session.get(RegistryMeta, 1)


def bind_store(
    session: Session, *, chain_id: int, genesis_hash: str | bytes, registry_address: str
) -> RegistryMeta:
    """Bind the store to a chain and registry the first time; refuse any other one after.

    A store's records and batches only make sense against the chain they were anchored on:
    opening it against a testnet copy or a redeployed contract raises WrongStore.
    """
    genesis = _hex(genesis_hash) if isinstance(genesis_hash, bytes) else genesis_hash.lower()
    if len(genesis) != 66 or not genesis.startswith("0x"):
        raise InvalidInput("genesis_hash: expected a 32-byte block hash")
    address = _address(registry_address)
    begin_write(session)
    meta = session.get(RegistryMeta, 1)
    if meta is None:
        # ON CONFLICT: of two processes binding a new store at once, one row wins and the
        # other compares against it like any later opener.
        values = {
            "id": 1,
            "chain_id": chain_id,
            "genesis_hash": genesis,
            "registry_address": address,
            "created_at": utcnow(),
        }
        meta_table = table(RegistryMeta)
        insert_meta = (
            postgresql.insert(meta_table) if _is_postgres(session) else sqlite.insert(meta_table)
        )
        claimed = insert_meta.values(values).on_conflict_do_nothing().returning(meta_table.c.id)
        if session.execute(claimed).scalar() is not None:
            append_event(
                session,
                kind="store.bound",
                subject="store",
                detail={"chain_id": chain_id, "genesis_hash": genesis, "registry": address},
            )
        meta = session.get(RegistryMeta, 1)
        assert meta is not None
    if (meta.chain_id, meta.genesis_hash, meta.registry_address) != (chain_id, genesis, address):
        raise WrongStore(
            f"this store belongs to chain {meta.chain_id} (genesis {meta.genesis_hash}) "
            f"registry {meta.registry_address}; refusing to mix it with chain {chain_id} "
            f"(genesis {genesis}) registry {address}"
        )
    return meta


# ---------------------------------------------------------------- agencies


def add_agency(
    session: Session,
    *,
    address: str,
    name: str,
    signing_public_key: bytes,
    account: str | None = None,
) -> Agency:
    """Add an active agency: `address` is its identity (the address it was registered with on
    chain), `account` its current transaction account (default: the identity). Addresses are
    stored EIP-55, the key as 0x-hex."""
    address = _address(address)
    account = address if account is None else _address(account)
    _bytes32(signing_public_key, "signing_public_key")
    begin_write(session)
    if agency_by_address(session, address) is not None:
        raise DuplicateAgency(f"agency {address} is already in the store")
    if agency_by_account(session, account) is not None:
        raise DuplicateAgency(f"account {account} already acts for an agency of the store")
    agency = Agency(
        address=address,
        account=account,
        name=name,
        status=AgencyStatus.ACTIVE.value,
        signing_public_key=_hex(signing_public_key),
    )
    session.add(agency)
    session.flush()
    append_event(
        session,
        kind="agency.registered",
        subject=address,
        detail={"id": agency.id, "name": name, "signing_key": agency.signing_public_key},
    )
    return agency


def agency_by_address(session: Session, address: str) -> Agency | None:
    """The agency with this identity address (any case), or None."""
    return session.scalars(select(Agency).where(Agency.address == _address(address))).first()


def agency_by_account(session: Session, account: str) -> Agency | None:
    """The agency whose current transaction account this is (any case), or None."""
    return session.scalars(select(Agency).where(Agency.account == _address(account))).first()


def agency_by_id(session: Session, agency_id: int) -> Agency | None:
    return session.get(Agency, agency_id)


def list_agencies(session: Session) -> list[Agency]:
    """Every agency, in the order they were added."""
    return list(session.scalars(select(Agency).order_by(Agency.id)))


def _agency(session: Session, agency_id: int) -> Agency:
    agency = session.get(Agency, agency_id)
    if agency is None:
        raise UnknownAgency(f"agency #{agency_id} is not in the store")
    return agency


def set_agency_status(session: Session, agency_id: int, status: str) -> Agency:
    """Suspend or reinstate an agency ('active' | 'suspended'); a compromise is marked with
    `mark_agency_compromised`."""
    if status not in {AgencyStatus.ACTIVE.value, AgencyStatus.SUSPENDED.value}:
        raise InvalidInput(f"agency status {status!r}: expected 'active' or 'suspended'")
    begin_write(session)
    agency = _agency(session, agency_id)
    if agency.status != status:
        agency.status = status
        session.flush()
        kind = "agency.suspended" if status == AgencyStatus.SUSPENDED else "agency.reinstated"
        append_event(session, kind=kind, subject=agency.address, detail={"id": agency_id})
    return agency


def mark_agency_compromised(session: Session, agency_id: int, *, since: int) -> Agency:
    """Mirror `markCompromised`: the agency's account was stolen at `since` (Unix seconds)."""
    if since <= 0:
        raise InvalidInput(f"compromise time {since}: expected Unix seconds > 0")
    begin_write(session)
    agency = _agency(session, agency_id)
    agency.status = AgencyStatus.COMPROMISED.value
    agency.compromised_since = since
    session.flush()
    append_event(
        session,
        kind="agency.compromised",
        subject=agency.address,
        detail={"id": agency_id, "since": since},
    )
    return agency


def set_agency_account(session: Session, agency_id: int, account: str) -> Agency:
    """Mirror `moveAgency`: a new transaction account, same identity; a compromised agency is
    active again (the chain closes its compromise window). A suspended one stays suspended."""
    account = _address(account)
    begin_write(session)
    agency = _agency(session, agency_id)
    holder = agency_by_account(session, account)
    if holder is not None and holder.id != agency_id:
        raise DuplicateAgency(f"account {account} already acts for another agency")
    old, agency.account = agency.account, account
    if agency.status == AgencyStatus.COMPROMISED.value:
        agency.status = AgencyStatus.ACTIVE.value
    session.flush()
    append_event(
        session,
        kind="agency.moved",
        subject=agency.address,
        detail={"id": agency_id, "old": old, "new": account},
    )
    return agency


def set_agency_signing_key(session: Session, agency_id: int, signing_public_key: bytes) -> Agency:
    """Record an agency's new signing key after a rotation on chain."""
    key = _hex(_bytes32(signing_public_key, "signing_public_key"))
    begin_write(session)
    agency = _agency(session, agency_id)
    if agency.signing_public_key != key:
        old, agency.signing_public_key = agency.signing_public_key, key
        session.flush()
        append_event(
            session,
            kind="agency.key_rotated",
            subject=agency.address,
            detail={"id": agency_id, "old": old, "new": key},
        )
    return agency


def agency_by_name_or_address(session: Session, name: str, address: str) -> Agency | None:
    """The (first) agency with this name, or this identity address or current account (both
    given as stored: checksummed)."""
    return session.scalars(
        select(Agency).where(
            (Agency.name == name) | (Agency.address == address) | (Agency.account == address)
        )
    ).first()
