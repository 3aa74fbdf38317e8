"""Which registries a verifier trusts: those configured (its own, `trusted`) and those on the
trust lists it holds, each list checked by the verifier's rules (registry/trustlist.py) against
the pinned publisher keys and the newest version seen before, which is remembered in the data
directory so that an older list is never accepted again (docs/trust.md)."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from registry.errors import ConfigError, InvalidInput, NoNodeForChain, TrustListRejected
from registry.jsontext import load_json_strict
from registry.service.verify import ChainReader, TrustedRegistry
from registry.settings import Settings, chain_rpc
from registry.trustlist import SeenVersion, TrustList, check_trust_list, parse_trust_list
from registry.types import checksum_address

if TYPE_CHECKING:
    from web3 import Web3

log = logging.getLogger(__name__)

SEEN_FILE = "trust-lists-seen.json"
"""In the data directory: the newest sequence number (and digest) accepted per list."""

MAX_TRUST_LIST_BYTES = 4 << 20


def read_trust_list(path: Path) -> Any:
    """A trust list file's JSON (strict: duplicate keys refused), or InvalidInput naming it."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"trust list {path}: cannot read ({exc.strerror})") from None
    return load_json_strict(raw, where=f"trust list {path}", max_bytes=MAX_TRUST_LIST_BYTES)


class SeenVersions:
    """The newest version of each list accepted before, in a small JSON file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen: dict[str, dict[str, Any]] = {}
        try:
            loaded = json.loads(path.read_text())
            if isinstance(loaded, dict):
                self._seen = loaded
        except FileNotFoundError:
            pass
        except (OSError, ValueError) as exc:
            # Not evidence for any list: refusing every list would be a denial of service by
            # whoever can corrupt the file; starting over only loses rollback protection.
            log.warning("%s is unreadable (%s); starting without remembered versions", path, exc)

    def get(self, identity: str) -> SeenVersion | None:
        entry = self._seen.get(identity)
        if not isinstance(entry, dict):
            return None
        try:
            return SeenVersion(int(entry["sequence"]), bytes.fromhex(entry["digest"]))
        except (KeyError, TypeError, ValueError):
            return None

    def remember(self, trust: TrustList) -> None:
        seen = self.get(trust.identity)
        if seen is not None and seen.sequence >= trust.sequence:
            return
        self._seen[trust.identity] = {"sequence": trust.sequence, "digest": trust.digest.hex()}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temp = self.path.with_suffix(".tmp")
            temp.write_text(json.dumps(self._seen, indent=2, sort_keys=True) + "\n")
            os.replace(temp, self.path)
        except OSError as exc:
            log.warning("cannot remember trust list versions in %s: %s", self.path, exc)


def accept_trust_list(
    document: Any,
    *,
    pinned: list[str],
    seen: SeenVersions | None,
    now: datetime | None = None,
    where: str = "trust list",
) -> TrustList:
    """Check one list by the verifier's rules; remember its version when accepted."""
    if not pinned:
        raise ConfigError(
            f"{where}: no pinned publisher key: pass --trust-list-key z6Mk... (setting "
            "trust_list_keys), the key of the list's publisher, obtained out of band"
        )
    identity = parse_trust_list(document).identity
    try:
        trust = check_trust_list(
            document,
            pinned=pinned,
            now=now or datetime.now(UTC),
            seen=seen.get(identity) if seen is not None else None,
        )
    except TrustListRejected as exc:
        raise TrustListRejected(f"{where}: {exc}") from None
    if seen is not None:
        seen.remember(trust)
    return trust


def held_trust_lists(settings: Settings, *, now: datetime | None = None) -> list[TrustList]:
    """The trust lists of `settings.trust_lists`, each accepted by the verifier's rules."""
    if not settings.trust_lists:
        return []
    seen = SeenVersions(settings.data_dir / SEEN_FILE)
    return [
        accept_trust_list(
            read_trust_list(path),
            pinned=settings.trust_list_keys,
            seen=seen,
            now=now,
            where=f"trust list {path}",
        )
        for path in settings.trust_lists
    ]


def trusted_registries(
    settings: Settings, lists: list[TrustList], *, own: tuple[int | None, str] | None = None
) -> list[TrustedRegistry]:
    """The registries the lists name (with their country and status windows), then the
    configured ones: `own` (the operator's registry) and `settings.trusted`."""
    trusted = [
        TrustedRegistry(
            entry.chain_id,
            entry.address,
            entry=entry,
            listed_by=f"of {trust.operator} ({trust.territory}), no. {trust.sequence}",
        )
        for trust in lists
        for entry in trust.entries
    ]
    if own is not None:
        trusted.append(TrustedRegistry(own[0], own[1]))
    for value in settings.trusted:
        chain, _, address = value.partition(":")
        trusted.append(TrustedRegistry(int(chain), checksum_address(address)))
    return trusted


def verifier_trust(settings: Settings) -> list[TrustedRegistry]:
    """What a verifier without a registry of its own trusts (`registry verify`): the held
    trust lists' registries, `--registry` (on `--chain-id`, else on the node's chain) and
    `settings.trusted`; InvalidInput when that is nothing."""
    own = None
    if settings.registry_address:
        # No chain id given: the address on the node's chain. The reader attaches with the
        # receipt's chain id, so a node on another chain is ERROR (wrong endpoint).
        own = (settings.chain_id, checksum_address(settings.registry_address))
    trusted = trusted_registries(settings, held_trust_lists(settings), own=own)
    if not trusted:
        raise InvalidInput(
            "no trusted registry: pass --trust-list FILE with --trust-list-key KEY, or "
            "--registry ADDR (or set REGISTRY_TRUSTED)"
        )
    return trusted


def chain_urls(settings: Settings) -> dict[int, str]:
    """The JSON-RPC URL per chain id of `settings.chain_rpcs`."""
    return dict(chain_rpc(value) for value in settings.chain_rpcs)


DEFAULT_CHAIN = 0
"""The chain id `chain_nodes` reads as "the default node's chain, whatever it is"."""


def chain_nodes(
    settings: Settings, *, own: Web3 | None = None, own_chain: int | None = None
) -> Callable[[int], Web3]:
    """The node to read each chain from, connected once: `own` for its chain, else the URL of
    `settings.chain_rpcs`, else (with no `own`) `settings.rpc`; NoNodeForChain when none is
    given. Every connection checks that the node is on the chain asked for."""
    urls = chain_urls(settings)
    nodes: dict[int, Web3] = {}

    def node(chain_id: int) -> Web3:
        from registry.chain import connect  # web3: only once a node is needed

        if chain_id == DEFAULT_CHAIN:
            # The default node, whatever its chain: a store trusted without a chain id.
            if own is not None:
                return own
            if DEFAULT_CHAIN not in nodes:
                if settings.rpc == "embedded":
                    raise NoNodeForChain("no node given: pass --rpc URL (env REGISTRY_RPC)")
                nodes[DEFAULT_CHAIN] = connect(settings.rpc, timeout=settings.rpc_timeout)
            return nodes[DEFAULT_CHAIN]
        if own is not None and (chain_id == own_chain or chain_id not in urls):
            if chain_id == own_chain:
                return own
            raise NoNodeForChain(
                f"no node is configured for chain {chain_id}: pass --rpc "
                f"eip155:{chain_id}=URL (setting chain_rpcs)"
            )
        if chain_id not in nodes:
            url = urls.get(chain_id, settings.rpc)
            if url == "embedded":
                raise NoNodeForChain(
                    f"no node given for chain {chain_id}: pass --rpc URL or "
                    f"--rpc eip155:{chain_id}=URL (env REGISTRY_RPC, setting chain_rpcs)"
                )
            nodes[chain_id] = connect(url, timeout=settings.rpc_timeout, expected_chain_id=chain_id)
        return nodes[chain_id]

    return node


def rpc_views_reader(settings: Settings) -> ChainReader:
    """A chain reader for a verifier in a short-lived process (`registry verify`): each
    trusted registry read with raw JSON-RPC (registry.chain.rawrpc, no web3) from its chain's
    URL of `settings.chain_rpcs`, else `settings.rpc`, identity-checked on first use; other
    contracts (OpenAttestation DocumentStores) through web3, connected when first needed."""
    from registry.service.verify import RegistryViews

    urls = chain_urls(settings)
    attached: dict[tuple[int, str], RegistryViews] = {}

    def registry_for(chain_id: int, address: str) -> RegistryViews:
        key = (chain_id, address.lower())
        if key not in attached:
            url = urls.get(chain_id, settings.rpc)
            if url == "embedded":
                raise NoNodeForChain(
                    f"no node given for chain {chain_id}: pass --rpc URL or "
                    f"--rpc eip155:{chain_id}=URL (env REGISTRY_RPC, setting chain_rpcs)"
                )
            from registry.chain.rawrpc import RawRegistry

            attached[key] = RawRegistry.at(
                url, address, chain_id=chain_id, timeout=settings.rpc_timeout
            )
        return attached[key]

    return ChainReader(
        registry_for=registry_for,
        revocation_ttl=settings.revocation_ttl,
        node_for=chain_nodes(settings),
    )


__all__ = [
    "DEFAULT_CHAIN",
    "SEEN_FILE",
    "SeenVersions",
    "accept_trust_list",
    "chain_nodes",
    "chain_urls",
    "held_trust_lists",
    "read_trust_list",
    "rpc_views_reader",
    "trusted_registries",
    "verifier_trust",
]
