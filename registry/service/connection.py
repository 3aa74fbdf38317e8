"""Reaching a registry from its settings, for every door: attach to the configured registry on
its node (identity-checked), deploy a new one, open the operator's store (or an auditor's read
only copy), make and open transaction keystores, and a chain reader over `--rpc` for
verifying receipts of any trusted registry. `Operator.open` attaches the same way."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from eth_account.signers.local import LocalAccount
from web3 import Web3

from registry.chain import (
    RegistryContract,
    connect,
    create_keystore,
    fund_from_dev_account,
    load_keystore,
    new_account,
)
from registry.errors import InvalidInput
from registry.service.operator import tx_options
from registry.service.trust import chain_nodes
from registry.service.verify import ChainReader, registry_resolver
from registry.settings import Settings
from registry.store import Store, open_store, repo

Account = LocalAccount
"""A transaction-sending account opened from its keystore: the doors hold it only to hand it
back to the service."""


def _node_url(settings: Settings, *, hint: str) -> str:
    if settings.rpc == "embedded":
        raise InvalidInput(f"the embedded chain lives only inside one process; {hint}")
    return settings.rpc


def attach_registry(
    settings: Settings,
    *,
    w3: Web3 | None = None,
    missing: str = "no registry address: pass --registry ADDR or set REGISTRY_REGISTRY_ADDRESS",
    embedded: str = "pass --rpc URL of a node (start one with `registry node`)",
) -> RegistryContract:
    """Connect to the configured node (unless `w3` is given) and attach to the configured
    registry, identity-checked (a wrong chain id, or an address not holding our registry's
    code, is refused). `missing` and `embedded` say what to do when no registry is
    configured, or no node (the CLI's options; `registry deploy` for an operator)."""
    if not settings.registry_address:
        raise InvalidInput(missing)
    if w3 is None:
        url = _node_url(settings, hint=embedded)
        w3 = connect(url, timeout=settings.rpc_timeout, expected_chain_id=settings.chain_id)
    return RegistryContract.at(
        w3, settings.registry_address, chain_id=settings.chain_id, options=tx_options(settings)
    )


@dataclass(frozen=True)
class Deployed:
    """A newly deployed registry: where it is and what its deployment cost."""

    address: str
    chain_id: int
    block_number: int
    tx_hash: bytes
    gas_used: int


def deploy_registry(
    settings: Settings,
    deployer: Callable[[], LocalAccount],
    *,
    admin: str | None,
    fund_from_dev: bool,
) -> Deployed:
    """Deploy a new RecordRegistry on the configured node (never the embedded chain: it would
    vanish on exit) from the account `deployer()` opens (asked only once the node is known);
    `admin` (default: the deployer) is the registry authority."""
    if settings.rpc == "embedded":
        raise InvalidInput(
            "deploying on the embedded chain would vanish on exit; pass --rpc URL "
            "(start a local node with `registry node`), or run `registry demo`"
        )
    sender = deployer()
    w3 = connect(settings.rpc, timeout=settings.rpc_timeout, expected_chain_id=settings.chain_id)
    if fund_from_dev:
        fund_from_dev_account(w3, sender.address)
    registry, result = RegistryContract.deploy(
        w3, sender, admin=admin, options=tx_options(settings)
    )
    return Deployed(
        address=registry.address,
        chain_id=registry.chain_id,
        block_number=result.block_number,
        tx_hash=result.tx_hash,
        gas_used=result.gas_used,
    )


def rpc_reader(settings: Settings) -> ChainReader:
    """A chain reader for receipts of any trusted registry: each chain read from its node of
    `settings.chain_rpcs`, else from `settings.rpc` (connected once per chain id)."""
    nodes = chain_nodes(settings)
    return ChainReader(
        registry_for=registry_resolver(nodes),
        revocation_ttl=settings.revocation_ttl,
        node_for=nodes,
    )


# ------------------------------------------------------------------ stores


def operator_store(settings: Settings) -> Store:
    """The operator's store of this data directory (or `database_url`), migrated."""
    return open_store(settings.database_url, data_dir=settings.data_dir)


def operator_store_if_any(settings: Settings) -> Store | None:
    """The operator's store when this data directory has one (or `database_url` is set)."""
    if settings.database_url is None and not (settings.data_dir / "registry.db").exists():
        return None
    return operator_store(settings)


def store_binding(settings: Settings) -> str | None:
    """The store's URL when this data directory's store (or `database_url`) exists and is
    bound to a registry (it holds that registry's agencies and records); None otherwise."""
    store = operator_store_if_any(settings)
    if store is None:
        return None
    try:
        with store.session() as session:
            meta = repo.store_binding(session)
    finally:
        store.close()
    return None if meta is None else store.url


def audit_store(db: str | None, *, data_dir: Path) -> Store | None:
    """An operator's store opened for an audit, read only: never migrated, and an absent
    SQLite file refused (opening it would create an empty one)."""
    if db is None:
        return None
    url = store_url(db, option="--db")
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        if not path.is_file():
            raise InvalidInput(f"{db}: no such SQLite file", field="--db")
    return open_store(url, data_dir=data_dir, migrate=False)


def store_url(value: str, *, option: str) -> str:
    """A database URL from what a person typed: a URL as it is, or the path of a SQLite file
    (`.registry/registry.db`) as `sqlite:///` + its absolute path."""
    if "://" in value:
        return value
    path = Path(value).expanduser()
    if path.is_dir():
        raise InvalidInput(
            f"{value} is a folder; give the SQLite file (e.g. {path / 'registry.db'}) "
            "or a URL (sqlite:///PATH, postgresql://USER@HOST/DB)",
            field=option,
        )
    return "sqlite:///" + str(path.resolve())


@dataclass(frozen=True)
class MovedStore:
    """A store copied into another database: from where, to where, rows per table."""

    source: str
    target: str
    rows: dict[str, int]


def migrate_store(settings: Settings, to: str) -> MovedStore:
    """Copy the operator's store (this data directory's SQLite, or `database_url`) into the
    empty database at `to` (a URL, or a SQLite file path), both at the latest schema; every
    table counted on both sides. The source is left as it was."""
    from registry.store.copy import copy_store

    target_url = store_url(to, option="--to")
    source = operator_store(settings)
    try:
        target = open_store(target_url, data_dir=settings.data_dir)
        try:
            if target.url == source.url:
                raise InvalidInput(f"{to} is the store being copied", field="--to")
            rows = copy_store(source, target)
            return MovedStore(source=source.url, target=target.url, rows=rows)
        finally:
            target.close()
    finally:
        source.close()


# ------------------------------------------------------------------ keystores


def new_keystore(path: Path, passphrase: str) -> str:
    """A new transaction account in an encrypted keystore at `path` (mode 0600); its address."""
    account = new_account()
    create_keystore(account, path, passphrase)
    return str(account.address)


def open_keystore(path: Path, passphrase: str) -> LocalAccount:
    """The account of an encrypted keystore (WrongPassphrase, InvalidInput if unreadable)."""
    return load_keystore(path, passphrase)
