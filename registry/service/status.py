"""The operator's reads that need only the registry's identity: the status (`registry status`:
the store it reads, named, with its counts) and a stored record's receipt (`registry receipt`),
the registry attached on its node with raw JSON-RPC (its chain id and code hash, one request):
web3 is not imported for them. With the node down the status still reports the store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from registry.chain.rawrpc import RawRegistry
from registry.errors import ChainUnavailable, InvalidInput
from registry.receipt import Receipt
from registry.service.receipts import BatchTrees, stored_receipt
from registry.settings import Settings
from registry.store import RegistryMeta, Store, open_store, repo
from registry.store.errors import WrongStore


def _wrong_store_way_out(settings: Settings, url: str) -> str:
    """What to do when the configured registry is not the one the store belongs to."""
    return (
        f"The store ({store_name(url)}) keeps the records of the registry it names; the settings "
        f"(registry_address in {settings.data_dir / 'config.toml'} or REGISTRY_REGISTRY_ADDRESS)"
        " name another. To go on with the store's registry, set registry_address back to the "
        "address it names; to run the other registry, give it a data directory of its own "
        "(REGISTRY_DATA_DIR, `registry init`) or another database (REGISTRY_DATABASE_URL)"
    )


def store_name(url: str) -> str:
    """A store's URL as shown to the operator: a SQLite file by its absolute path (which data
    directory is meant, whatever the working directory), passwords already hidden."""
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        return "sqlite:///" + str(Path(url.removeprefix("sqlite:///")).resolve())
    return url


def attach_raw(settings: Settings) -> RawRegistry:
    """The configured registry on its node, identity-checked, read with raw JSON-RPC."""
    if not settings.registry_address:
        raise InvalidInput(
            "no registry configured: run `registry deploy` (or set REGISTRY_REGISTRY_ADDRESS)"
        )
    if settings.rpc == "embedded":
        raise InvalidInput(
            "the embedded chain lives only inside one process; start a node with "
            "`registry node` and set rpc (or run `registry demo`)"
        )
    return RawRegistry.at(
        settings.rpc,
        settings.registry_address,
        chain_id=settings.chain_id,
        timeout=settings.rpc_timeout,
    )


def _check_binding(
    bound: RegistryMeta | None, registry: RawRegistry, settings: Settings, url: str
) -> None:
    """Refuse a store bound to another chain or registry than the one attached."""
    if bound is None:
        return
    if (
        bound.chain_id != registry.chain_id
        or bound.registry_address.lower() != registry.address.lower()
    ):
        raise WrongStore(
            f"this store belongs to chain {bound.chain_id} registry {bound.registry_address}; "
            f"refusing to mix it with chain {registry.chain_id} registry {registry.address}. "
            f"{_wrong_store_way_out(settings, url)}"
        )


def receipt_of(settings: Settings, digest: bytes) -> Receipt:
    """The receipt of an anchored record of the operator's store (the public lookup: the
    earliest anchored one), for the registry the store belongs to. InvalidInput if unknown or
    not anchored yet."""
    registry = attach_raw(settings)
    store = open_store(settings.database_url, data_dir=settings.data_dir)
    try:
        with store.session() as session:
            bound = repo.store_binding(session)
        _check_binding(bound, registry, settings, store.url)
        return stored_receipt(store, BatchTrees(1), registry, digest)
    finally:
        store.close()


def operator_status(settings: Settings) -> dict[str, Any]:
    """The operator's status: the store it reads (named), records by status, batches by
    state, agencies; the registry and chain when the node answers. With the node down the
    store's side is still reported, with `chainError` saying why the chain's is missing. Only
    reads: a store not yet bound to a registry stays unbound (it can still be the target of
    `registry store migrate`); one bound to another registry is refused (WrongStore)."""
    registry: RawRegistry | None = None
    chain_error = None
    try:
        registry = attach_raw(settings)
    except ChainUnavailable as exc:
        chain_error = str(exc)
    store = open_store(settings.database_url, data_dir=settings.data_dir)
    try:
        with store.session() as session:
            bound = repo.store_binding(session)
        if registry is not None:
            _check_binding(bound, registry, settings, store.url)
        info = _store_status(store)
    finally:
        store.close()
    if registry is not None:
        info.update(registry=registry.address, chainId=registry.chain_id)
    else:
        info.update(
            registry=settings.registry_address or (bound.registry_address if bound else None),
            chainId=bound.chain_id if bound else settings.chain_id,
        )
    info.update(rpc=settings.rpc, chainError=chain_error)
    if settings.database_url is not None and not any(info["records"].values()):
        default = settings.data_dir / "registry.db"
        if default.is_file():
            info["note"] = (
                f"this store is empty, and {default} holds a SQLite store: "
                "REGISTRY_DATABASE_URL points away from it. To move it here: "
                f"`registry store migrate --to {info['store']}` (unset REGISTRY_DATABASE_URL "
                "first)"
            )
    return info


def _store_status(store: Store) -> dict[str, Any]:
    with store.session() as session:
        counts = repo.counts_by_status(session)
        batches = repo.counts_by_batch_state(session)
        agencies = [
            {"name": a.name, "address": a.address, "account": a.account, "status": a.status}
            for a in repo.list_agencies(session)
        ]
    return {
        "store": store_name(store.url),
        "records": counts,
        "batches": {state: n for state, n in batches.items() if n},
        "agencies": agencies,
    }


__all__ = ["attach_raw", "operator_status", "receipt_of"]
