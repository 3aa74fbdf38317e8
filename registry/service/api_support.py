"""Service pieces the long-running HTTP API needs beyond the CLI's one-shot commands.

A CLI command loads a key, does one job and exits; the API server keeps agency keys decrypted
in memory (`Keyring`), serialises each account's transactions (one nonce sequence per
account), answers many verifications from one cached chain reader (`CachingChainReader`),
keeps the registry's event log indexed (`EventIndex`), and reads the store for status pages
and metrics. `open_embedded` builds a throw-away registry on the in-process chain for
`registry serve` without a node.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from sqlalchemy import func, select, text
from web3 import Web3
from web3.providers.eth_tester import EthereumTesterProvider

from registry.chain import (
    RegistryContract,
    connect,
    create_keystore,
    fund_from_dev_account,
    new_account,
)
from registry.chain.contract import AgencyStatus as ChainAgencyStatus
from registry.chain.contract import CheckResult, KeyWindow
from registry.chain.events import RegistryState, fetch_events, rebuild_state
from registry.chain.tx import rpc_errors
from registry.errors import RegistryError, SigningKeyError, UnknownAgency
from registry.receipt import Receipt
from registry.service.caches import CACHE_ENTRIES, CacheStats, LruCache
from registry.service.issuing import Issuer
from registry.service.operator import Operator, tx_options
from registry.service.verify import (
    ChainReader,
    Outcome,
    malformed_verification,
)
from registry.settings import Settings
from registry.store import Store, repo
from registry.store.db import begin_write
from registry.store.errors import InvalidTransition
from registry.store.models import (
    Agency,
    AgencyStatus,
    ApiToken,
    Batch,
    BatchState,
    Record,
    Revocation,
    TokenScope,
)
from registry.store.tokens import authenticate, issue_token, revoke_token

log = logging.getLogger(__name__)

__all__ = [
    "CACHE_ENTRIES",
    "BatchSummary",
    "CacheStats",
    "CachingChainReader",
    "EventIndex",
    "Keyring",
    "KeysUnavailable",
    "LastAdminToken",
    "LruCache",
    "PipelineStats",
    "RecordState",
    "VerificationCache",
    "batch_summary",
    "check_chain",
    "check_store",
    "issue_api_token",
    "list_batches",
    "malformed_verification",
    "open_embedded",
    "pipeline_stats",
    "receipts_of",
    "record_state",
    "record_statuses",
    "revoke_api_token",
    "serialize_provider",
    "set_agency_active",
]


class KeysUnavailable(SigningKeyError):
    """This server holds no usable key for the agency (no key files, or no passphrase)."""


# ------------------------------------------------------------------ keys


class Keyring:
    """Agency keys decrypted once and kept in memory, one `Issuer` per agency, plus the registry
    authority's account; and one lock per sending account, because two transactions from one
    account at once would race for the same nonce (anchoring worker vs. a revocation)."""

    def __init__(self, operator: Operator, passphrase: str | None) -> None:
        self.operator = operator
        self._passphrase = passphrase
        self._issuers: dict[int, Issuer] = {}
        self._admin: LocalAccount | None = None
        self._guard = threading.Lock()
        self._loading: dict[int, threading.Lock] = {}
        self._senders: dict[str, threading.RLock] = {}

    def has_key_files(self, agency: Agency) -> bool:
        return self.operator.has_agency_keys(agency.name)

    def put(self, agency_id: int, issuer: Issuer) -> None:
        """Hand in an issuer whose keys are already in memory (tests, embedded mode)."""
        with self._guard:
            self._issuers[agency_id] = issuer

    def put_admin(self, account: LocalAccount) -> None:
        self._admin = account

    def loaded(self) -> list[Issuer]:
        with self._guard:
            return list(self._issuers.values())

    def issuer_for(self, agency: Agency) -> Issuer:
        """The agency's issuer, decrypting its keys on first use (scrypt: about a second)."""
        with self._guard:
            found = self._issuers.get(agency.id)
            if found is not None:
                return found
            loading = self._loading.setdefault(agency.id, threading.Lock())
        with loading:
            with self._guard:
                found = self._issuers.get(agency.id)
            if found is not None:
                return found
            if self._passphrase is None:
                raise KeysUnavailable(
                    f"agency {agency.name!r}: no keystore passphrase given to this server "
                    "(set REGISTRY_KEYSTORE_PASSPHRASE)"
                )
            if not self.has_key_files(agency):
                raise KeysUnavailable(
                    f"agency {agency.name!r}: this server holds no keys for it in "
                    f"{self.operator.keys_dir}"
                )
            issuer = self.operator.issuer(agency, passphrase=self._passphrase)
            with self._guard:
                self._issuers[agency.id] = issuer
            return issuer

    def load_available(self) -> list[str]:
        """Decrypt the keys of every active agency whose key files are here; returns the names
        loaded. An agency whose keys cannot be opened is logged and skipped."""
        names = []
        with self.operator.store.session() as session:
            agencies = repo.list_agencies(session)
        for agency in agencies:
            if agency.status != AgencyStatus.ACTIVE or not self.has_key_files(agency):
                continue
            try:
                self.issuer_for(agency)
                names.append(agency.name)
            except RegistryError as exc:
                log.warning("agency %s: keys not loaded: %s", agency.name, exc)
        return names

    def admin(self) -> LocalAccount:
        """The registry authority's account (DATA_DIR/keys/admin.json), decrypted once."""
        with self._guard:
            if self._admin is not None:
                return self._admin
        if self._passphrase is None:
            raise KeysUnavailable(
                "the registry authority's keystore needs a passphrase "
                "(REGISTRY_KEYSTORE_PASSPHRASE)"
            )
        if not (self.operator.keys_dir / "admin.json").is_file():
            raise KeysUnavailable(
                f"this server holds no registry authority key ({self.operator.keys_dir}/admin.json)"
            )
        account = self.operator.admin_account(self._passphrase)
        with self._guard:
            self._admin = account
        return account

    @property
    def passphrase(self) -> str:
        if self._passphrase is None:
            raise KeysUnavailable("no keystore passphrase given (set REGISTRY_KEYSTORE_PASSPHRASE)")
        return self._passphrase

    @contextmanager
    def sending(self, address: str) -> Iterator[None]:
        """Hold the lock of one sending account for a transaction (or a whole anchoring)."""
        with self._guard:
            lock = self._senders.setdefault(address.lower(), threading.RLock())
        with lock:
            yield


# ------------------------------------------------------------------ bounded caches


# ------------------------------------------------------------------ chain reads


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


def _word_address(word: bytes) -> str:
    return str(Web3.to_checksum_address(word[-20:]))


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
    generation: int = 0
    _answers: LruCache[tuple[Any, ...], tuple[CheckResult, float]] = field(init=False)
    _open_keys: LruCache[tuple[Any, ...], tuple[KeyWindow, float]] = field(init=False)
    _synced_at: float = float("-inf")
    _next_block: int = -1
    _topics: dict[bytes, str] = field(default_factory=dict)
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
        return (
            watched is not None
            and chain_id == watched.chain_id
            and address.lower() == watched.address.lower()
            and time.monotonic() - self._synced_at < self.revocation_ttl
        )

    def _fresh(self, at: float, chain_id: int, address: str) -> bool:
        return time.monotonic() - at < self.revocation_ttl or self.following(chain_id, address)

    @staticmethod
    def _answer_key(receipt: Receipt) -> tuple[Any, ...]:
        a = receipt.anchor
        return (
            a.chain_id,
            a.registry,
            a.agency.lower(),
            receipt.leaf,
            receipt.merkle.proof,
            receipt.merkle.root,
        )

    def check(self, receipt: Receipt) -> CheckResult:
        a = receipt.anchor
        key = self._answer_key(receipt)
        hit = self._answers.lookup(key)
        if hit is not None and self._fresh(hit[1], a.chain_id, a.registry):
            return hit[0]
        generation = self.generation
        result = self.registry_for(a.chain_id, a.registry).check(
            agency=a.agency,
            leaf=receipt.leaf,
            proof=list(receipt.merkle.proof),
            root=receipt.merkle.root,
        )
        # An event seen while the node was asked may be newer than the answer: keep it only
        # if no sync ran in between (the sync bumps the generation before dropping entries).
        if generation == self.generation:
            self._answers[key] = (result, time.monotonic())
        return result

    def key_window(self, chain_id: int, address: str, agency: str, public_key: bytes) -> KeyWindow:
        key = (chain_id, address, agency.lower(), public_key)
        hit = self._open_keys.lookup(key)
        if hit is not None and self._fresh(hit[1], chain_id, address):
            return hit[0]
        generation = self.generation
        window = super().key_window(chain_id, address, agency, public_key)
        if window.valid_until == 0 and generation == self.generation:
            self._open_keys[key] = (window, time.monotonic())
        return window

    def is_warm(self, receipt: Receipt) -> bool:
        """Whether verifying `receipt` now needs no JSON-RPC call (everything is cached): the
        caller can then verify inline instead of handing the work to a thread."""
        a = receipt.anchor
        hit = self._answers.peek(self._answer_key(receipt))
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
        """Drop every cached answer that can change (this server just changed the chain)."""
        self.generation += 1
        self._answers.clear()
        self._open_keys.clear()

    def sync(self, *, span: int = 5_000) -> int:
        """Read the watched registry's new events and drop the cached answers they change;
        returns how many events were read. ChainUnavailable when the node does not answer."""
        watched = self.watched
        if watched is None:
            return 0
        with self._sync_lock:
            w3 = watched.w3
            with rpc_errors("eth_blockNumber"):
                head = int(w3.eth.block_number)
            if self._next_block < 0:
                # Answers cached before we followed may predate events we will never read.
                self._next_block = head + 1
                self.forget()
                self._synced_at = time.monotonic()
                return 0
            if not self._topics:
                for name in _FOLLOWED:
                    signature = watched.contract.events[name]().signature
                    self._topics[bytes(Web3.keccak(text=signature))] = name
            count = 0
            while self._next_block <= head:
                end = min(head, self._next_block + span - 1)
                with rpc_errors("eth_getLogs"):
                    logs = w3.eth.get_logs(
                        {
                            "address": watched.address,
                            "fromBlock": self._next_block,
                            "toBlock": end,
                            "topics": [[HexBytes(t) for t in self._topics]],
                        }
                    )
                if logs:
                    self._apply([[bytes(t) for t in log["topics"]] for log in logs])
                    count += len(logs)
                self._next_block = end + 1
            self._synced_at = time.monotonic()
            return count

    def _apply(self, events: list[list[bytes]]) -> None:
        """Drop the cached answers these events change. Every followed v2 event names the
        agency in its first indexed topic; anchors and revocations are per (agency, hash)."""
        hashes: set[tuple[str, bytes]] = set()
        agencies: set[str] = set()
        old_keys: set[tuple[str, bytes]] = set()
        for topics in events:
            name = self._topics.get(topics[0])
            if name is None or len(topics) < 2:
                continue
            agency = _word_address(topics[1]).lower()
            if name == "Anchored":  # agency, root
                hashes.add((agency, topics[2]))
            elif name in ("Revoked", "RevokedByAuthority"):  # agency, root, hash
                hashes.update(((agency, topics[2]), (agency, topics[3])))
            elif name == "SigningKeyRotated":  # agency, oldKey, newKey
                old_keys.add((agency, topics[2]))
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
    """The operator's own registry, or another trusted one on the same node, attached once."""
    attached: dict[tuple[int, str], RegistryContract] = {}
    own = operator.registry

    def registry_for(chain_id: int, address: str) -> RegistryContract:
        if chain_id == own.chain_id and address.lower() == own.address.lower():
            return own
        key = (chain_id, address.lower())
        if key not in attached:
            attached[key] = RegistryContract.at(operator.w3, address, chain_id=chain_id)
        return attached[key]

    return registry_for


def caching_reader(operator: Operator) -> CachingChainReader:
    """The server's reader: the operator's registry watched, others attached on demand."""
    return CachingChainReader(
        registry_for=registry_lookup(operator),
        revocation_ttl=operator.settings.revocation_ttl,
        watched=operator.registry,
    )


class EventIndex:
    """The registry's event log, fetched incrementally and replayed into its state (agencies,
    every signing key's validity window), refreshed at most every `ttl` seconds."""

    def __init__(self, registry: RegistryContract, *, span: int = 5_000, ttl: float = 2.0) -> None:
        self.registry = registry
        self.span = span
        self.ttl = ttl
        self._events: list[Any] = []
        self._next_block = 0
        self._state = RegistryState()
        self._at = -1e9
        self._lock = threading.Lock()

    def state(self) -> RegistryState:
        with self._lock:
            if time.monotonic() - self._at < self.ttl:
                return self._state
            with rpc_errors("eth_blockNumber"):
                head = int(self.registry.w3.eth.block_number)
            if head >= self._next_block:
                new = list(
                    fetch_events(
                        self.registry, from_block=self._next_block, to_block=head, span=self.span
                    )
                )
                if new:
                    self._events.extend(new)
                    self._state = rebuild_state(self._events)
                self._next_block = head + 1
            self._at = time.monotonic()
            return self._state

    def invalidate(self) -> None:
        """Read the chain again at the next `state()` (after this server changed it)."""
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
    with rpc_errors("eth_blockNumber"):
        return int(w3.eth.block_number)


def check_store(store: Store) -> None:
    """One round trip to the store; StoreUnavailable/OperationalError when it is down."""
    with store.session() as session:
        session.execute(text("SELECT 1"))


def serialize_provider(w3: Web3) -> None:
    """Make the in-process eth-tester chain safe to share between threads (the anchoring worker
    and request handlers): py-evm is not thread-safe, so its requests take turns."""
    provider = w3.provider
    if not isinstance(provider, EthereumTesterProvider) or hasattr(provider, "_registry_lock"):
        return
    lock = threading.RLock()
    original = provider.make_request

    def make_request(method: Any, params: Any) -> Any:
        with lock:
            return original(method, params)

    provider.make_request = make_request  # type: ignore[method-assign]
    provider._registry_lock = lock  # type: ignore[attr-defined]
    provider._request_func_cache = (None, None)  # type: ignore[assignment]  # rebuild with it


def open_embedded(
    settings: Settings, *, data_dir: Path, passphrase: str
) -> tuple[Operator, LocalAccount]:
    """A fresh registry on a new in-process chain with its store in `data_dir`: the authority
    account is created and funded from the chain's dev account, the contract deployed. Every
    anchor vanishes with the process, so `data_dir` must be thrown away with it."""
    w3 = connect()
    serialize_provider(w3)
    admin = new_account()
    fund_from_dev_account(w3, admin.address)
    create_keystore(admin, data_dir / "keys" / "admin.json", passphrase)
    registry, _ = RegistryContract.deploy(w3, admin, options=tx_options(settings))
    local = settings.model_copy(
        update={
            "data_dir": data_dir,
            "database_url": None,
            "registry_address": registry.address,
            "chain_id": registry.chain_id,
        }
    )
    return Operator.open(local, registry=registry), admin


# ------------------------------------------------------------------ agencies and tokens


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


# ------------------------------------------------------------------ records and batches


def _iso(moment: datetime | int | None) -> str | None:
    if moment is None:
        return None
    if isinstance(moment, int):
        moment = datetime.fromtimestamp(moment, tz=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _hex(value: bytes | None) -> str | None:
    return None if value is None else "0x" + bytes(value).hex()


@dataclass(frozen=True)
class BatchSummary:
    """A batch as the public sees it: root, state, transaction, block, size."""

    id: int
    root: str
    agency: str
    agency_name: str
    state: str
    count: int
    tx_hash: str | None
    block_number: int | None
    anchored_at: str | None
    sealed_at: str | None
    confirmed_at: str | None
    attempts: int
    last_error: str | None


def _summary(batch: Batch, agency: Agency) -> BatchSummary:
    return BatchSummary(
        id=batch.id,
        root=_hex(batch.root) or "",
        agency=agency.address,
        agency_name=agency.name,
        state=batch.state,
        count=batch.leaf_count,
        tx_hash=_hex(batch.tx_hash),
        block_number=batch.block_number,
        anchored_at=_iso(batch.anchored_at),
        sealed_at=_iso(batch.sealed_at),
        confirmed_at=_iso(batch.confirmed_at),
        attempts=batch.attempts,
        last_error=batch.last_error,
    )


def batch_summary(
    store: Store, root: bytes, *, agency_id: int | None = None
) -> BatchSummary | None:
    """The batch with this root (of this agency: roots are per agency, as on chain)."""
    with store.session() as session:
        batch = repo.batch_by_root(session, root, agency_id=agency_id)
        if batch is None:
            return None
        agency = repo.agency_by_id(session, batch.agency_id)
        assert agency is not None
        return _summary(batch, agency)


def list_batches(
    store: Store,
    *,
    agency_id: int | None = None,
    state: str | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[BatchSummary]:
    """Batches, newest first, optionally of one agency or state; page with `before_id`."""
    stmt = select(Batch, Agency).join(Agency, Agency.id == Batch.agency_id)
    if agency_id is not None:
        stmt = stmt.where(Batch.agency_id == agency_id)
    if state is not None:
        stmt = stmt.where(Batch.state == state)
    if before_id is not None:
        stmt = stmt.where(Batch.id < before_id)
    with store.session() as session:
        rows = session.execute(stmt.order_by(Batch.id.desc()).limit(limit)).all()
        return [_summary(batch, agency) for batch, agency in rows]


@dataclass(frozen=True)
class RecordState:
    """Where a record is: its status, its agency, its batch, its revocation."""

    digest: bytes
    kind: str
    status: str
    agency_id: int
    agency: str
    agency_name: str
    submitted_at: str | None
    has_document: bool
    batch: BatchSummary | None
    revocation_reason: int | None
    replacement: str | None
    revoked_whole_batch: bool


def record_state(
    store: Store, digest: bytes, *, agency_id: int | None = None
) -> RecordState | None:
    """The agency's record with this digest; with no agency, the public lookup (several
    agencies may hold one digest: the store's choice, see repo.record_by_digest)."""
    with store.session() as session:
        rec = repo.record_by_digest(session, digest, agency_id=agency_id)
        if rec is None:
            return None
        agency = repo.agency_by_id(session, rec.agency_id)
        assert agency is not None
        batch = None
        revocation: Revocation | None = None
        if rec.batch_id is not None:
            found = repo.batch_by_id(session, rec.batch_id)
            assert found is not None
            batch = _summary(found, agency)
            revocation = session.scalars(
                select(Revocation)
                .where(
                    Revocation.batch_id == rec.batch_id,
                    (Revocation.record_id == rec.id) | (Revocation.record_id.is_(None)),
                    Revocation.state == "confirmed",
                )
                .order_by(Revocation.id)
            ).first()
        return RecordState(
            digest=bytes(rec.digest),
            kind=rec.digest_kind,
            status=rec.status,
            agency_id=agency.id,
            agency=agency.address,
            agency_name=agency.name,
            submitted_at=_iso(rec.created_at),
            has_document=rec.document is not None,
            batch=batch,
            revocation_reason=None if revocation is None else revocation.reason,
            replacement=None if revocation is None else _hex(revocation.replacement),
            revoked_whole_batch=revocation is not None and revocation.record_id is None,
        )


def record_statuses(
    store: Store, digests: list[bytes], *, agency_id: int
) -> dict[bytes, tuple[str, int | None]]:
    """(status, batch id) of each of these digests that the agency holds in the store
    (digests are unique per agency only)."""
    out: dict[bytes, tuple[str, int | None]] = {}
    with store.session() as session:
        for start in range(0, len(digests), 5_000):
            chunk = digests[start : start + 5_000]
            stmt = select(Record.digest, Record.status, Record.batch_id).where(
                Record.agency_id == agency_id, Record.digest.in_(chunk)
            )
            for digest, status, batch_id in session.execute(stmt):
                out[bytes(digest)] = (status, batch_id)
    return out


def receipts_of(issuer: Issuer, digests: list[bytes]) -> dict[bytes, Receipt]:
    """Receipts of those of the issuer's digests that are anchored, built a batch at a time."""
    statuses = record_statuses(issuer.store, digests, agency_id=issuer.agency_id)
    wanted = set(digests)
    batches = sorted(
        {batch for status, batch in statuses.values() if status in _DONE and batch is not None}
    )
    out: dict[bytes, Receipt] = {}
    for batch_id in batches:
        for receipt in issuer.receipts(batch_id):
            if receipt.digest in wanted:
                out[bytes(receipt.digest)] = receipt
    return out


_DONE = ("anchored", "revoked")
"""Record statuses that have a receipt (a revoked record keeps its receipt: verifying it
says REVOKED)."""


# ------------------------------------------------------------------ metrics


@dataclass(frozen=True)
class PipelineStats:
    """What the issuing pipeline holds right now."""

    records: dict[str, int]
    batches: dict[str, int]
    oldest_pending_age: float
    oldest_unfinished_batch_age: float


def pipeline_stats(store: Store) -> PipelineStats:
    now = datetime.now(UTC)
    with store.session() as session:
        records = repo.counts_by_status(session)
        batches = {state.value: 0 for state in BatchState}
        for state, count in session.execute(
            select(Batch.state, func.count()).group_by(Batch.state)
        ):
            batches[state] = int(count)
        oldest_pending = session.execute(
            select(Record.created_at)
            .where(text("records.status = 'pending'"))
            .order_by(Record.id)
            .limit(1)
        ).scalar()
        unfinished = [
            BatchState.SEALED.value,
            BatchState.SUBMITTED.value,
            BatchState.ANCHORED.value,
        ]
        oldest_batch = session.execute(
            select(func.min(Batch.sealed_at)).where(Batch.state.in_(unfinished))
        ).scalar()

    def age(moment: datetime | None) -> float:
        if moment is None:
            return 0.0
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return max(0.0, (now - moment).total_seconds())

    return PipelineStats(records, batches, age(oldest_pending), age(oldest_batch))
