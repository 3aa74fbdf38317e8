"""The verifier's chain reader for a long-running server: cached chain answers emptied by the
registry's events (`CachingChainReader`), cached whole verifications (`VerificationCache`), the
event log indexed (`EventIndex`), and the node's liveness (`check_chain`)."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from web3 import Web3

from registry.chain import (
    RegistryContract,
)
from registry.chain.contract import CheckResult, KeyWindow
from registry.chain.events import EventFollower, RegistryEvent, RegistryState, rebuild_state
from registry.chain.node import Node
from registry.receipt import Receipt
from registry.service.caches import CacheStats, LruCache
from registry.service.mirror import RegistryMirror, decode_event
from registry.service.operator import Operator
from registry.service.trust import chain_nodes
from registry.service.verify import (
    ChainAnswer,
    ChainReader,
    Outcome,
    answer_key,
)
from registry.store.mirror import mirror_cursor, mirror_events_after

log = logging.getLogger(__name__)


_FOLLOWED = (
    "Anchored",
    "Revoked",
    "RevokedByAuthority",
    "AgencySuspended",
    "AgencyReinstated",
    "AgencyCompromised",
    "AgencyMoved",
    "SigningKeyRotated",
)
"""The v2 events that change an answer of `check(agency, ...)` or `keyOf(agency, key)`; the
agency is the first indexed topic of every one of them (anchors, revocations and keys live in
per-agency namespaces)."""


@dataclass
class CachingChainReader(ChainReader):
    """A ChainReader for a server answering many verifications.

    It follows the watched registry's event log (`sync()`, called about once a second by the
    server) and drops exactly the cached answers an event changes: a revocation of a leaf or a
    root, an agency suspended or reinstated, a root anchored, a key rotated. While it follows
    (it synced within `revocation_ttl`), a cached answer stays valid until an event touches
    it, so a verification of a receipt seen before needs no JSON-RPC call however many
    receipts circulate; a revocation is still seen within `revocation_ttl` (within one sync in
    practice). When it cannot follow (node down), answers expire after `revocation_ttl` as in
    ChainReader, and the next verification asks the node (ERROR if it is still down).
    `generation` changes whenever something cached may have changed.
    """

    watched: RegistryContract | None = None
    mirror: RegistryMirror | None = None
    """With a mirror, answers about the watched registry come from the store while the mirror
    is current, and `sync()` follows the chain into it (or, in a process that does not hold
    the mirror's lease, reads what the follower applied)."""
    generation: int = 0
    _answers: LruCache[tuple[Any, ...], tuple[CheckResult, float]] = field(init=False)
    _open_keys: LruCache[tuple[Any, ...], tuple[KeyWindow, float]] = field(init=False)
    _synced_at: float = float("-inf")
    _follower: EventFollower | None = None
    _mirror_seen: tuple[int, int, int] | None = None  # (rewinds, block, log index) read up to
    _sync_lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        super().__post_init__()  # the bounded closed-key-window and name caches
        self._answers = LruCache("chain_answers", self.max_entries)
        self._open_keys = LruCache("open_key_windows", self.max_entries)

    def caches(self) -> list[LruCache[Any, Any]]:
        """The reader's caches, for the metrics."""
        return [self._answers, self._open_keys, self._keys, self._names]  # type: ignore[list-item]

    # ---------------------------------------------------------------- reads

    def following(self, chain_id: int, address: str) -> bool:
        """Whether answers about this registry are kept current by the event log."""
        watched = self.watched
        if self.mirror is not None:
            return self.mirror.covers(chain_id, address) and self.mirror.current() is not None
        return (
            watched is not None
            and chain_id == watched.chain_id
            and address.lower() == watched.address.lower()
            and time.monotonic() - self._synced_at < self.revocation_ttl
        )

    def _fresh(self, at: float, chain_id: int, address: str) -> bool:
        return time.monotonic() - at < self.revocation_ttl or self.following(chain_id, address)

    def answer(self, receipt: Receipt) -> ChainAnswer:
        """From the registry mirror when it can answer (with the key's window and the name,
        as of its block), else a cached live answer, else the node in one batch request."""
        a = receipt.anchor
        public_key = receipt.signature.public_key
        mirror = self.mirror
        if mirror is not None:
            mirrored = mirror.check(receipt)
            if mirrored is not None:
                return ChainAnswer(
                    mirrored,
                    mirrored.as_of_block,
                    mirror.key_window(a.agency, public_key),
                    mirror.agency_name(a.agency),
                    source="mirror",
                )
        key = answer_key(receipt)
        hit = self._answers.lookup(key)
        if hit is not None and self._fresh(hit[1], a.chain_id, a.registry):
            return ChainAnswer(hit[0])
        generation = self.generation
        answer = self.read(receipt)
        # As in check(): keep it only if no sync ran while the node was asked.
        if generation == self.generation:
            now = time.monotonic()
            self._answers[key] = (answer.check, now)
            if answer.key is not None and answer.key.valid_until == 0:
                self._open_keys[(a.chain_id, a.registry, a.agency.lower(), public_key)] = (
                    answer.key,
                    now,
                )
        return answer

    def key_window(self, chain_id: int, address: str, agency: str, public_key: bytes) -> KeyWindow:
        if self.mirror is not None and self.mirror.covers(chain_id, address):
            mirrored = self.mirror.key_window(agency, public_key)
            if mirrored is not None:
                return mirrored
        key = (chain_id, address, agency.lower(), public_key)
        hit = self._open_keys.lookup(key)
        if hit is not None and self._fresh(hit[1], chain_id, address):
            return hit[0]
        generation = self.generation
        window = super().key_window(chain_id, address, agency, public_key)
        if window.valid_until == 0 and generation == self.generation:
            self._open_keys[key] = (window, time.monotonic())
        return window

    def agency_name(self, chain_id: int, address: str, agency: str) -> str:
        if self.mirror is not None and self.mirror.covers(chain_id, address):
            name = self.mirror.agency_name(agency)
            if name is not None:
                return name
        return super().agency_name(chain_id, address, agency)

    def is_warm(self, receipt: Receipt) -> bool:
        """Whether verifying `receipt` now needs no JSON-RPC call (everything is cached, or
        the mirror in a local SQLite store answers): the caller can then verify inline
        instead of handing the work to a thread."""
        a = receipt.anchor
        mirror = self.mirror
        if mirror is not None and mirror.covers(a.chain_id, a.registry):
            cursor = mirror.current()
            if cursor is not None and a.block_number <= cursor.block_number:
                return mirror.store.dialect == "sqlite"
        hit = self._answers.peek(answer_key(receipt))
        if hit is None or not self._fresh(hit[1], a.chain_id, a.registry):
            return False
        anchored = hit[0].anchor
        if anchored.agency is None or not hit[0].included:
            return True
        if (a.chain_id, a.registry, a.agency) not in self._names:
            return False
        public_key = receipt.signature.public_key
        if (a.chain_id, a.registry, a.agency, public_key) in self._keys:
            return True
        open_ = self._open_keys.peek((a.chain_id, a.registry, a.agency.lower(), public_key))
        return open_ is not None and self._fresh(open_[1], a.chain_id, a.registry)

    # ---------------------------------------------------------------- following

    def forget(self) -> None:
        """Drop every cached answer that can change (this server just changed the chain), and
        read from the node until the mirror has caught up with the change."""
        if self.mirror is not None:
            self.mirror.require_head()
        self.generation += 1
        self._answers.clear()
        self._open_keys.clear()

    def sync(self, *, span: int = 5_000) -> int:
        """Read the watched registry's new events and drop the cached answers they change;
        returns how many events were read. ChainUnavailable when the node does not answer."""
        watched = self.watched
        if watched is None:
            return 0
        if self.mirror is not None:
            return self._sync_mirror(self.mirror)
        with self._sync_lock:
            if self._follower is None:
                # Answers cached before we followed may predate events we will never read.
                self._follower = EventFollower(
                    watched,
                    from_block=watched.node.head() + 1,
                    names=_FOLLOWED,
                    span=span,
                    retries=0,
                    timestamps=False,
                )
                self.forget()
                self._synced_at = time.monotonic()
                return 0
            self._follower.span = span
            count = 0
            for _, _, events in self._follower.pages():
                if events:
                    self._apply(events)
                    count += len(events)
            self._synced_at = time.monotonic()
            return count

    def _sync_mirror(self, mirror: RegistryMirror) -> int:
        """Follow the chain into the mirror (when this process holds its lease), then drop the
        cached answers that the newly applied events change, whoever applied them."""
        with self._sync_lock:
            mirror.follow()
            count = 0
            with mirror.store.session() as session:
                cursor = mirror_cursor(session)
                if cursor is None:
                    return 0
                seen = self._mirror_seen
                if seen is None or seen[0] != cursor.rewinds:
                    # First look, or the mirror was rewound: start from its end, forget all.
                    self._mirror_seen = (cursor.rewinds, cursor.block_number, 1 << 30)
                    self.forget()
                    return 0
                while True:
                    rows = list(
                        mirror_events_after(session, block_number=seen[1], log_index=seen[2])
                    )
                    if not rows:
                        break
                    self._apply([decode_event(r) for r in rows])
                    count += len(rows)
                    seen = (seen[0], rows[-1].block_number, rows[-1].log_index)
                self._mirror_seen = seen
            self._synced_at = time.monotonic()
            return count

    def _apply(self, events: list[RegistryEvent]) -> None:
        """Drop the cached answers these events change: those of `_FOLLOWED`, which all name
        the agency (anchors and revocations are per (agency, hash)). Others (roles, a key
        proposed, an agency registered: the mirror hands over every event) change no answer."""
        hashes: set[tuple[str, bytes]] = set()
        agencies: set[str] = set()
        old_keys: set[tuple[str, bytes]] = set()
        for event in events:
            name, args = event.name, event.args
            if name not in _FOLLOWED:
                continue
            agency = str(args["agency"]).lower()
            if name == "Anchored":
                hashes.add((agency, bytes(args["root"])))
            elif name in ("Revoked", "RevokedByAuthority"):
                hashes.update(((agency, bytes(args["root"])), (agency, bytes(args["hash"]))))
            elif name == "SigningKeyRotated":
                old_keys.add((agency, bytes(args["oldKey"])))
            else:  # suspended, reinstated, compromised (void windows), moved: its standing
                agencies.add(agency)
        if not (hashes or agencies or old_keys):
            return
        self.generation += 1  # first, so that a check() in flight does not store its answer
        self._answers.drop_where(
            lambda key: (
                key[2] in agencies or (key[2], key[3]) in hashes or (key[2], key[5]) in hashes
            )
        )
        self._open_keys.drop_where(lambda key: key[2] in agencies or (key[2], key[3]) in old_keys)


class VerificationCache:
    """Answers to identical verification requests (the same receipt or document bytes, the
    same digest), encoded once. Parsing and the offline checks are pure functions of those
    bytes; the chain part is valid as long as the reader's answers are: an entry is used only
    while the reader's `generation` is the one it was made under and the reader still follows
    the receipt's registry (or the entry is younger than `revocation_ttl`). ERROR results are
    never kept: the next request asks the node again."""

    def __init__(self, reader: CachingChainReader, *, size: int = 10_000) -> None:
        self.reader = reader
        self.size = size
        self._entries: LruCache[tuple[bytes, bytes | None], _Answer] = LruCache(
            "verifications", size
        )

    @staticmethod
    def key(body: bytes, digest: bytes | None) -> tuple[bytes, bytes | None]:
        return hashlib.blake2b(body, digest_size=20).digest(), digest

    def get(self, key: tuple[bytes, bytes | None]) -> tuple[bytes, str] | None:
        """The encoded answer and its outcome, if still valid."""
        entry = self._entries.lookup(key)
        if entry is None or entry.generation != self.reader.generation:
            return None
        fresh = time.monotonic() - entry.at < self.reader.revocation_ttl
        if not fresh and not self.reader.following(entry.chain_id, entry.registry):
            return None
        return entry.encoded, entry.outcome

    def put(
        self,
        key: tuple[bytes, bytes | None],
        *,
        generation: int,
        receipt: Receipt,
        encoded: bytes,
        outcome: str,
    ) -> None:
        if outcome == Outcome.ERROR or generation != self.reader.generation:
            return
        entry = _Answer(
            generation,
            time.monotonic(),
            encoded,
            outcome,
            receipt.anchor.chain_id,
            receipt.anchor.registry,
        )
        self._entries[key] = entry  # the least recently used entry goes when full

    def stats(self) -> CacheStats:
        return self._entries.stats()


@dataclass(frozen=True)
class _Answer:
    generation: int
    at: float
    encoded: bytes
    outcome: str
    chain_id: int
    registry: str


def registry_lookup(operator: Operator) -> Callable[[int, str], RegistryContract]:
    """The operator's own registry, or another trusted one, attached once: on the same node
    for its chain, on the node of `settings.chain_rpcs` for another chain."""
    attached: dict[tuple[int, str], RegistryContract] = {}
    own = operator.registry
    node_for = chain_nodes(operator.settings, own=own.w3, own_chain=own.chain_id)

    def registry_for(chain_id: int, address: str) -> RegistryContract:
        if chain_id == own.chain_id and address.lower() == own.address.lower():
            return own
        key = (chain_id, address.lower())
        if key not in attached:
            attached[key] = RegistryContract.at(
                node_for(chain_id), address, chain_id=chain_id, options=own.options
            )
        return attached[key]

    return registry_for


def caching_reader(operator: Operator) -> CachingChainReader:
    """The server's reader: the operator's registry watched (through the registry mirror in
    the operator's store unless `settings.mirror` is off), others attached on demand."""
    settings = operator.settings
    mirror = None
    if settings.mirror:
        mirror = RegistryMirror(
            operator.store,
            operator.registry,
            confirmations=settings.confirmations,
            span=settings.log_span,
            max_lag=settings.mirror_max_lag,
        )
    return CachingChainReader(
        registry_for=registry_lookup(operator),
        revocation_ttl=settings.revocation_ttl,
        node_for=chain_nodes(
            settings, own=operator.registry.w3, own_chain=operator.registry.chain_id
        ),
        watched=operator.registry,
        mirror=mirror,
    )


class EventIndex:
    """The registry's event log, fetched incrementally and replayed into its state (agencies,
    every signing key's validity window), refreshed at most every `ttl` seconds."""

    def __init__(
        self,
        registry: RegistryContract,
        *,
        span: int = 5_000,
        ttl: float = 2.0,
        mirror: RegistryMirror | None = None,
    ) -> None:
        self.registry = registry
        self.mirror = mirror
        self.span = span
        self.ttl = ttl
        self._events: list[RegistryEvent] = []
        self._follower = EventFollower(registry, span=span)
        self._state = RegistryState()
        self._at = -1e9
        self._lock = threading.Lock()

    def state(self) -> RegistryState:
        """From the registry mirror while it is current (no node call), else from the log."""
        mirror = self.mirror
        if mirror is not None:
            cursor = mirror.current()
            if cursor is not None:
                return mirror.state(cursor)
        with self._lock:
            if time.monotonic() - self._at < self.ttl:
                return self._state
            self._follower.span = self.span
            new = list(self._follower.poll())
            if new:
                self._events.extend(new)
                self._state = rebuild_state(self._events)
            self._at = time.monotonic()
            return self._state

    def invalidate(self) -> None:
        """Read the chain again at the next `state()` (after this server changed it); the
        mirror is used again once it has caught up with the change."""
        if self.mirror is not None:
            self.mirror.require_head()
        with self._lock:
            self._at = -1e9

    def keys_of(self, agency: str) -> list[tuple[bytes, KeyWindow]]:
        """Every signing key the agency ever had, oldest first, with its window (keys live in
        the agency's own namespace: the state is keyed by (agency, key))."""
        wanted = agency.lower()
        windows = [
            (key, window)
            for (owner, key), window in self.state().keys.items()
            if owner.lower() == wanted
        ]
        return sorted(windows, key=lambda kw: kw[1].valid_from)


def check_chain(w3: Web3) -> int:
    """The node's latest block number; ChainUnavailable when it does not answer."""
    return Node(w3).head()
