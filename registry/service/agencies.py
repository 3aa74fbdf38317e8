"""Agencies as the doors see them: the store's agencies as `AgencyRef` values (never ORM rows),
the public view of an agency rebuilt from the chain's event log (`PublicAgency`), and the one
path that suspends or reinstates an agency on chain and mirrors it into the store."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount
from web3 import Web3

from registry.chain import RegistryContract
from registry.errors import UnknownAgency
from registry.service.chain_reader import EventIndex
from registry.service.connection import attach_registry, operator_store_if_any
from registry.settings import Settings
from registry.store import Store, repo
from registry.store.db import begin_write
from registry.store.models import Agency, AgencyStatus
from registry.vocabulary import AgencyStatus as ChainAgencyStatus


@dataclass(frozen=True)
class AgencyRef:
    """An agency of this registry's store: its id here, name, identity address, current
    transaction account and status (`active`, `suspended`, `compromised`)."""

    id: int
    name: str
    address: str
    account: str
    status: str

    @property
    def active(self) -> bool:
        return self.status == AgencyStatus.ACTIVE.value

    @classmethod
    def of(cls, row: Agency) -> AgencyRef:
        return cls(
            id=row.id,
            name=row.name,
            address=row.address,
            account=row.account,
            status=str(getattr(row.status, "value", row.status)),
        )


def agency_by_id(store: Store, agency_id: int) -> AgencyRef | None:
    with store.session() as session:
        row = repo.agency_by_id(session, agency_id)
        return None if row is None else AgencyRef.of(row)


def agency_by_address(store: Store, address: str) -> AgencyRef:
    """The store's agency with this identity address (any letter case); UnknownAgency if none."""
    account = Web3.to_checksum_address(address)
    with store.session() as session:
        row = repo.agency_by_address(session, account)
        if row is None:
            raise UnknownAgency(f"{account} is not an agency of this registry's store")
        return AgencyRef.of(row)


def find_agency(store: Store, name_or_address: str) -> AgencyRef:
    """The store's agency by name, identity address or current account (addresses in any
    letter case); UnknownAgency if none."""
    with store.session() as session:
        for row in repo.list_agencies(session):
            if name_or_address == row.name or name_or_address.lower() in (
                row.address.lower(),
                row.account.lower(),
            ):
                return AgencyRef.of(row)
    raise UnknownAgency(f"no agency {name_or_address!r} in this registry's store")


def list_store_agencies(store: Store) -> list[AgencyRef]:
    """Every agency of the store, in the order they were added."""
    with store.session() as session:
        return [AgencyRef.of(row) for row in repo.list_agencies(session)]


# ------------------------------------------------------------------ public view (chain)


@dataclass(frozen=True)
class AgencyKey:
    """One signing key an agency has had, with its validity window (seconds; until 0 =
    current)."""

    public_key: bytes
    valid_from: int
    valid_until: int


@dataclass(frozen=True)
class PublicAgency:
    """An agency as the chain's event log has it, with every signing key it has had."""

    address: str
    name: str
    status: str
    account: str | None
    registered_at: int
    status_changed_at: int
    signing_key: bytes
    keys: list[AgencyKey]
    issues_here: bool


def _public(events: EventIndex, address: str, *, issues_here: bool) -> PublicAgency | None:
    info = events.state().agencies.get(Web3.to_checksum_address(address))
    if info is None:
        return None
    return PublicAgency(
        address=info.address,
        name=info.name,
        status=info.status.label,
        account=info.account,
        registered_at=info.registered_at,
        status_changed_at=info.status_changed_at,
        signing_key=info.signing_key,
        keys=[
            AgencyKey(public_key=key, valid_from=w.valid_from, valid_until=w.valid_until)
            for key, w in events.keys_of(info.address)
        ],
        issues_here=issues_here,
    )


def _issuing_here(store: Store) -> set[str]:
    return {agency.address for agency in list_store_agencies(store)}


def public_agencies(events: EventIndex, store: Store) -> list[PublicAgency]:
    """Every agency registered on chain, with its keys; `issues_here` if this store holds it."""
    here = _issuing_here(store)
    out = []
    for address in list(events.state().agencies):
        found = _public(events, address, issues_here=address in here)
        if found is not None:
            out.append(found)
    return out


def public_agency(
    events: EventIndex, store: Store, address: str, *, fresh: bool = False
) -> PublicAgency:
    """One agency by identity address (any letter case), as the chain has it; `fresh` reads
    the chain again first (after this server changed it). UnknownAgency if not registered."""
    account = Web3.to_checksum_address(address)
    if fresh:
        events.invalidate()
    found = _public(events, account, issues_here=account in _issuing_here(store))
    if found is None:
        raise UnknownAgency(f"{account} is not an agency of registry {events.registry.address}")
    return found


# ------------------------------------------------------------------ suspend / reinstate


def change_agency_status(
    registry: RegistryContract,
    admin: LocalAccount,
    address: str,
    *,
    active: bool,
    store: Store | None,
    again: bool = True,
) -> int | None:
    """Suspend or reinstate an agency on chain with the authority's account, then in `store`
    (if any; found by identity address or current account). With `again=False` a chain already
    in the wanted state is not asked again (a retry after a crash); else the contract refuses
    it (AgencyNotActive...). The block of the transaction, None when none was sent."""
    block: int | None = None
    wanted = ChainAgencyStatus.ACTIVE if active else ChainAgencyStatus.SUSPENDED
    send = True
    if not again:
        on_chain = registry.agency_of(address)
        if on_chain.status == ChainAgencyStatus.NONE:
            raise UnknownAgency(f"{address} is not a registered agency on chain")
        send = on_chain.status != wanted
    if send:
        result = (
            registry.reinstate_agency(admin, address)
            if active
            else registry.suspend_agency(admin, address)
        )
        block = result.block_number
    if store is not None:
        mirror_agency_status(store, address, active=active)
    return block


def mirror_agency_status(store: Store, address: str, *, active: bool) -> None:
    """Keep the store (the agency found by identity address or current account, if there) in
    step with the chain."""
    status = AgencyStatus.ACTIVE if active else AgencyStatus.SUSPENDED
    with store.session() as session:
        # The write lock first (SQLite): a read, then a write, in one deferred transaction
        # fails at once with "database is locked" when the anchoring worker writes between.
        begin_write(session)
        row = repo.agency_by_address(session, address) or repo.agency_by_account(session, address)
        if row is not None:
            repo.set_agency_status(session, row.id, status.value)


# ------------------------------------------------------------------ authority, by settings


def add_agency_on_chain(
    settings: Settings,
    admin: Callable[[], LocalAccount],
    *,
    account: str,
    name: str,
    signing_key: bytes,
) -> int:
    """Register an agency (identity `account`) with its first signing key on the configured
    registry, from the authority's account `admin()`; the block of the transaction."""
    registry = attach_registry(settings)
    result = registry.register_agency(admin(), account=account, name=name, signing_key=signing_key)
    return result.block_number


def set_agency_status(
    settings: Settings, admin: Callable[[], LocalAccount], address: str, *, active: bool
) -> int:
    """Suspend or reinstate an agency on the configured registry from the authority's account
    `admin()`, then mirror it into the operator's store if this data directory has one (the
    path the API takes too: change_agency_status). The block of the transaction."""
    registry = attach_registry(settings)
    block = change_agency_status(registry, admin(), address, active=active, store=None)
    store = operator_store_if_any(settings)
    if store is not None:
        try:
            mirror_agency_status(store, address, active=active)
        finally:
            store.close()
    assert block is not None
    return block


def chain_agencies(settings: Settings) -> tuple[str, list[PublicAgency]]:
    """The configured registry's address and every agency registered on it, rebuilt from its
    event log."""
    registry = attach_registry(settings)
    events = EventIndex(registry, span=settings.log_span)
    agencies = [
        found
        for address in list(events.state().agencies)
        if (found := _public(events, address, issues_here=False)) is not None
    ]
    return registry.address, agencies
