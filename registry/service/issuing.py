"""The durable issuing pipeline of one agency.

submit -> `pending` (committed before submit returns) -> batch sealed (root computed and
signed, records bound to leaf positions, one transaction) -> tx `submitted` (the signed raw
transaction, its hash and nonce recorded BEFORE it is broadcast) -> `anchored` (mined) ->
`confirmed` (N confirmations) -> receipts.

After a crash, `resume()` looks at every sealed/submitted/anchored batch and asks the chain
`anchorOf(agency, root)` (anchors live in per-agency namespaces, keyed by the agency's identity
address): what is there is only confirmed; what is not is re-sent — the same signed
transaction when one was recorded, so a root is never anchored twice and no record is lost.
Another agency anchoring the same root (a front-runner copying ours) changes nothing for us.
"""

from __future__ import annotations

import functools
import logging
import os
import signal
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eth_account.signers.local import LocalAccount

from registry import keys, record
from registry.chain import RegistryContract
from registry.chain.tx import (
    FeeTooLow,
    NonceUsed,
    SignedTx,
    bumped_fees,
    fees_of,
)
from registry.errors import (
    ChainError,
    ChainUnavailable,
    ContractRevert,
    InvalidInput,
    TransactionFailed,
)
from registry.receipt import Receipt
from registry.service import documents
from registry.service.receipts import AnchoredBatch, BatchTrees, batch_receipts, batch_tree
from registry.service.sealing import (
    POOL_THRESHOLD,
    Sealed,
    SealPool,
    seal_each,
    seal_with_secret,
    sealed_chunks,
)
from registry.store import Store, repo
from registry.store.errors import NotFound
from registry.store.models import Batch, BatchState

log = logging.getLogger(__name__)

CRASH_ENV = "REGISTRY_TEST_CRASH_AT"
"""Test hook: SIGKILL this process right after the named state is committed."""


def _crash_point(state: str) -> None:
    if os.environ.get(CRASH_ENV) == state:
        os.kill(os.getpid(), signal.SIGKILL)


@dataclass(frozen=True)
class IssuingConfig:
    """Batch limits and anchoring behaviour."""

    batch_size: int = 10_000
    batch_age: float = 2.0
    confirmations: int = 1
    tx_timeout: float = 120.0
    gas_margin: float = 1.2
    retry_initial: float = 0.5
    retry_max: float = 30.0
    poll_interval: float = 0.05
    """Seconds between looks at the chain while an anchor is on its way."""
    stuck_after: float = 60.0
    """Seconds an anchor tx may wait unmined in the node's pool before it is replaced with
    fees bumped by the EIP-1559 replacement rule (same nonce, both fees +10% +1 wei)."""
    max_fee_per_gas: int | None = None
    """Fee ceiling (wei per gas) for anchor txs: no bump goes above it; when it stops a
    replacement, the batch's last_error and the log say so. None: no ceiling."""


class _CeilingReached(Exception):
    """A replacement would need fees above IssuingConfig.max_fee_per_gas."""


@dataclass
class Issuer:
    """Issues records for one agency: seal, sign, anchor, confirm, resume.

    `account` is the agency's current transaction account; `agency_address` its identity (the
    address it was registered with; default: the account, true until the authority moves the
    agency), which names it in signed roots, anchors and receipts. `salt_secret` is the
    agency's own 32-byte salt secret (keys.load_salt_secret), needed to seal records.
    `data_key` encrypts the sealed documents it stores (keys.load_data_key); without one, a
    fresh key lives in memory only (embedded and development set-ups: what they store is
    readable by this issuer alone, and by no one after it is gone)."""

    store: Store
    registry: RegistryContract
    account: LocalAccount
    signing_key: Ed25519PrivateKey
    agency_id: int
    config: IssuingConfig = IssuingConfig()
    agency_address: str | None = None
    salt_secret: bytes | None = field(default=None, repr=False)
    data_key: bytes = field(default_factory=keys.generate_data_key, repr=False)
    _trees: BatchTrees = field(default_factory=lambda: BatchTrees(16), repr=False)
    """Trees of recently sealed batches, so receipts need not rebuild them (bounded)."""
    _ceiling_noted: dict[int, str] = field(default_factory=dict, repr=False)

    @property
    def identity(self) -> str:
        """The agency's identity address (EIP-55)."""
        return str(self.agency_address or self.account.address)

    def _salt_secret(self) -> bytes:
        if self.salt_secret is None or len(self.salt_secret) != keys.SALT_SECRET_BYTES:
            raise InvalidInput(
                "this issuer has no salt secret: give Issuer(salt_secret=...) the agency's "
                "32-byte secret (keys.load_salt_secret); salts never come from the signing key"
            )
        return self.salt_secret

    # ---------------------------------------------------------------- submit

    def seal(self, data: Mapping[str, Any]) -> record.SealedDocument:
        """Seal a structured record with this agency's deterministic salts (from its salt
        secret): the same record sealed twice has the same digest, also across signing-key
        rotations, so submitting it again is idempotent."""
        return seal_with_secret(self._salt_secret(), data)

    def seal_all(
        self, records: Sequence[Any], *, max_record_bytes: int | None = None
    ) -> list[Sealed]:
        """Seal a request's records like `seal`, in input order: (digest, sealed-document
        JSON) each; the first bad one raises sealing.RecordRejected naming its index."""
        return seal_each(self._salt_secret(), records, max_record_bytes=max_record_bytes)

    def submit(
        self,
        items: Sequence[tuple[bytes, str, str | None]],
        *,
        references: Sequence[str | None] | None = None,
        bulk_id: str | None = None,
    ) -> repo.AddResult:
        """Store records as `pending`; durable when this returns. Idempotent per digest.
        Sealed documents are stored encrypted with the agency's data key, never in clear.
        `references`: the agency's own key of each item (or None), unique per agency
        (ReferenceTaken otherwise, nothing stored); `bulk_id`: remember the items, in order,
        as that bulk submission."""
        stored = documents.encrypt_items(self.data_key, items)
        with self.store.session() as session:
            result = repo.add_records(
                session,
                agency_id=self.agency_id,
                items=stored,
                references=references,
                bulk_id=bulk_id,
            )
        _crash_point("pending")
        return result

    # ------------------------------------------------------------------ seal

    def seal_batches(self, *, force: bool = False) -> list[int]:
        """Seal full batches, and a partial one when its oldest record is older than the age
        limit (or `force`). Returns the new batch ids."""
        sealed: list[int] = []
        while True:
            # write=True: take the write lock first (SQLite), so a concurrent submit cannot
            # slip in between reading the pending count and claiming the records.
            with self.store.session(write=True) as session:
                count, oldest = repo.pending_summary(session, agency_id=self.agency_id)
                if count == 0:
                    return sealed
                old_enough = oldest is not None and (
                    time.time() - oldest.timestamp() >= self.config.batch_age
                )
                if count < self.config.batch_size and not (force or old_enough):
                    return sealed
                claimed = repo.claim_pending(
                    session, agency_id=self.agency_id, limit=self.config.batch_size
                )
                if not claimed:
                    return sealed
                tree = batch_tree([(digest, kind) for _, digest, kind in claimed])
                signature = keys.sign_root(
                    self.signing_key,
                    chain_id=self.registry.chain_id,
                    registry=self.registry.address,
                    agency=self.identity,
                    root=tree.root,
                )
                batch_id = repo.seal_batch(
                    session,
                    agency_id=self.agency_id,
                    record_ids=[record_id for record_id, _, _ in claimed],
                    root=tree.root,
                    signature=signature,
                    public_key=keys.public_key_bytes(self.signing_key),
                    leaf_count=tree.count,
                )
            sealed.append(batch_id)
            self._trees.put(batch_id, tree)
            _crash_point("sealed")

    def _batch(self, session: Any, batch_id: int) -> Batch:
        batch = repo.batch_by_id(session, batch_id)
        if batch is None:
            raise NotFound(f"batch #{batch_id} is not in the store")
        return batch

    # ---------------------------------------------------------------- anchor

    def anchor_batch(self, batch_id: int) -> None:
        """Take one batch from wherever it stopped to `confirmed`."""
        with self.store.session() as session:
            batch = self._batch(session, batch_id)
            state, root, count = batch.state, bytes(batch.root), batch.leaf_count
            raw = bytes(batch.tx_raw) if batch.tx_raw else None
            tx_hash = bytes(batch.tx_hash) if batch.tx_hash else None
            nonce = batch.tx_nonce
            seen = None
            if state == BatchState.ANCHORED and batch.block_number is not None and batch.block_hash:
                seen = (int(batch.block_number), bytes(batch.block_hash))
        if state in (BatchState.CONFIRMED, BatchState.FAILED):
            return
        self._catch_up_embedded_clock()
        signed = None
        if raw is not None and tx_hash is not None and nonce is not None:
            signed = SignedTx(raw=raw, tx_hash=tx_hash, nonce=nonce, sender=self.account.address)
        # Our namespace only: the same root anchored by another agency is no concern of ours.
        if self.registry.anchor_of(self.identity, root).agency is None:
            if state == BatchState.SEALED or signed is None:
                signed = self._sign_and_record(batch_id, root, count)
                _crash_point("submitted")
            elif self._nonce_taken_by_another(signed):
                # The recorded tx can never be mined (its nonce went to another tx, e.g. the node
                # lost it and the account sent something else): sign it anew with a fresh nonce.
                signed = self._sign_and_record(batch_id, root, count)
            # After a restart the RECORDED transaction is sent again (same bytes, same hash):
            # it may still be in the node's pool, and a re-signed one would anchor twice.
            signed = self._send(batch_id, signed, root=root, count=count)
        self._await_confirmed(batch_id, root=root, count=count, signed=signed, seen=seen)

    def _catch_up_embedded_clock(self) -> None:
        """The in-process chain stamps a block with the time its predecessor was mined (its
        pending block is made then), so an anchor mined after a quiet spell would carry a
        time before the records it anchors were submitted. Bring its clock to now first,
        as a real chain's next block would be. Nothing to do on any other node."""
        node = self.registry.node
        if not node.embedded:
            return
        lag = int(time.time()) - node.block_time("pending")
        if lag > 0:
            node.advance(lag)

    def _sign_and_record(
        self, batch_id: int, root: bytes, count: int, *, replacing: SignedTx | None = None
    ) -> SignedTx:
        """Sign the anchoring transaction and store it (hash, nonce, raw) BEFORE it is sent.
        `replacing`: sign a replacement of that tx (same nonce, fees bumped by the EIP-1559
        replacement rule); raises _CeilingReached when the fee ceiling leaves no room."""
        fees = None
        nonce = None
        if replacing is not None:
            fresh = self.registry.node.fees()
            old = fees_of(replacing.raw)
            fees = bumped_fees(old, fresh, ceiling=self.config.max_fee_per_gas)
            if fees is None:
                raise _CeilingReached(
                    f"fee ceiling reached: anchor tx 0x{replacing.tx_hash.hex()} "
                    f"(nonce {replacing.nonce}, fees {old}) cannot be replaced with fees "
                    f"raised by 10% within max_fee_per_gas={self.config.max_fee_per_gas} wei; "
                    "it waits for the base fee to fall"
                )
            nonce = replacing.nonce
        signed = self.registry.node.prepare(
            self.account,
            self.registry.anchor_call(root, count),
            abi=self.registry.abi,
            action=f"anchor batch {batch_id}",
            margin=self.config.gas_margin,
            nonce=nonce,
            fees=fees,
            fee_ceiling=self.config.max_fee_per_gas,
        )
        with self.store.session() as session:
            repo.mark_submitted(
                session, batch_id, tx_hash=signed.tx_hash, nonce=signed.nonce, raw_tx=signed.raw
            )
        if replacing is not None:
            log.warning(
                "batch %s: anchor tx 0x%s replaced by 0x%s (nonce %s, fees %s -> %s)",
                batch_id,
                replacing.tx_hash.hex(),
                signed.tx_hash.hex(),
                signed.nonce,
                fees_of(replacing.raw),
                fees_of(signed.raw),
            )
        return signed

    def _send(self, batch_id: int, signed: SignedTx, *, root: bytes, count: int) -> SignedTx:
        """Broadcast `signed`; when the node refuses it for its fees, replace it (bumped fees,
        same nonce) until it is accepted or the fee ceiling stops us. Returns the tx sent."""
        action = f"anchor batch {batch_id}"
        while True:
            try:
                self.registry.node.broadcast(signed, action=action)
                return signed
            except FeeTooLow as exc:
                log.warning("batch %s: %s", batch_id, exc)
                try:
                    signed = self._sign_and_record(batch_id, root, count, replacing=signed)
                except _CeilingReached as ceiling:
                    self._note_ceiling(batch_id, str(ceiling))
                    return signed  # waits (and is re-sent) until the base fee falls
            except NonceUsed:
                if self._nonce_taken_by_another(signed):
                    return self._sign_and_record(batch_id, root, count)
                return signed  # it is ours, mined: the watch finds it on chain

    def _note_ceiling(self, batch_id: int, reason: str) -> None:
        """Say once per transaction, in the log and the batch's last_error, that the fee
        ceiling stopped the bumping."""
        if self._ceiling_noted.get(batch_id) == reason:
            return
        self._ceiling_noted[batch_id] = reason
        log.warning("batch %s: %s", batch_id, reason)
        with self.store.session() as session:
            repo.record_attempt(session, batch_id, error=reason)

    def _tx_state(self, signed: SignedTx) -> str:
        """Where a sent tx is: "mined", "reverted", "pending" (in the node's pool), "dropped"
        (unknown to the node, its nonce still free) or "replaced" (its nonce went to another
        tx)."""
        node = self.registry.node
        mined = node.mined(signed.tx_hash)
        if mined is not None:
            return "mined" if mined.succeeded else "reverted"
        if node.transaction_known(signed.tx_hash):
            return "pending"
        return "replaced" if node.nonce(self.account.address) > signed.nonce else "dropped"

    def _await_confirmed(
        self,
        batch_id: int,
        *,
        root: bytes,
        count: int,
        signed: SignedTx | None,
        seen: tuple[int, bytes] | None,
    ) -> None:
        """Watch the chain until the anchor has N confirmations, then mark the batch confirmed.

        The chain's `anchorOf(agency, root)` is the truth: it names the block holding the
        anchor whichever of our transactions (original or replacement) got mined. The batch is
        `anchored` as soon as that block is seen; if a re-org drops it before N confirmations,
        the batch goes back to `submitted` and the transaction is sent again. A tx the node
        lost is re-sent (same bytes); one refused or unmined for `stuck_after` seconds is
        replaced with bumped fees. Recorded block number and hash are those the chain names
        at confirmation."""
        node = self.registry.node
        action = f"anchor batch {batch_id}"
        deadline = time.monotonic() + self.config.tx_timeout
        sent_at = time.monotonic()
        while True:
            info = self.registry.anchor_of(self.identity, root)
            if info.agency is not None:
                block = node.block(info.block_number)
                head = node.head()
                here = (info.block_number, block.hash)
                if here != seen:
                    with self.store.session() as session:
                        repo.mark_anchored(
                            session,
                            batch_id,
                            block_number=here[0],
                            block_hash=here[1],
                            anchored_at=block.timestamp,
                        )
                    seen = here
                    _crash_point("anchored")
                confirmations = head - info.block_number + 1
                if confirmations >= self.config.confirmations and self._still_there(root, here):
                    with self.store.session() as session:
                        repo.mark_confirmed(session, batch_id, confirmations=confirmations)
                    self._ceiling_noted.pop(batch_id, None)
                    return
            else:
                if seen is not None:
                    log.warning(
                        "batch %s: block %s holding its anchor was dropped by a re-org; "
                        "sending the anchor again",
                        batch_id,
                        seen[0],
                    )
                    seen = None
                    if signed is not None:  # back to `submitted` (journaled), same tx
                        with self.store.session() as session:
                            repo.mark_submitted(
                                session,
                                batch_id,
                                tx_hash=signed.tx_hash,
                                nonce=signed.nonce,
                                raw_tx=signed.raw,
                            )
                if signed is None:  # found on chain before any tx was recorded, then lost
                    signed = self._sign_and_record(batch_id, root, count)
                    signed = self._send(batch_id, signed, root=root, count=count)
                    sent_at = time.monotonic()
                else:
                    signed, sent_at = self._nudge(batch_id, signed, root, count, sent_at)
            if time.monotonic() >= deadline:
                raise TransactionFailed(
                    f"{action}: not confirmed after {self.config.tx_timeout:.0f}s; "
                    "it will be resumed (the recorded transaction is sent again)"
                )
            time.sleep(self.config.poll_interval)

    def _nudge(
        self, batch_id: int, signed: SignedTx, root: bytes, count: int, sent_at: float
    ) -> tuple[SignedTx, float]:
        """One look at an anchor tx not (yet) on chain: re-send it if the node lost it,
        replace it if it is stuck; a reverted one is re-signed (the contract's refusal then
        surfaces by name, ContractRevert)."""
        state = self._tx_state(signed)
        if state == "reverted":
            return self._sign_and_record(batch_id, root, count), time.monotonic()
        if state == "replaced":
            # Another tx took the nonce; unless it was one of ours that anchored meanwhile,
            # sign anew with a fresh nonce.
            if self.registry.anchor_of(self.identity, root).agency is None:
                signed = self._sign_and_record(batch_id, root, count)
                return self._send(batch_id, signed, root=root, count=count), time.monotonic()
            return signed, sent_at
        if state == "dropped":
            log.warning(
                "batch %s: anchor tx 0x%s not known to the node; re-sending it",
                batch_id,
                signed.tx_hash.hex(),
            )
            return self._send(batch_id, signed, root=root, count=count), sent_at
        if state == "pending" and time.monotonic() - sent_at >= self.config.stuck_after:
            try:
                replacement = self._sign_and_record(batch_id, root, count, replacing=signed)
            except _CeilingReached as ceiling:
                self._note_ceiling(batch_id, str(ceiling))
                return signed, time.monotonic()
            return self._send(batch_id, replacement, root=root, count=count), time.monotonic()
        return signed, sent_at

    def _still_there(self, root: bytes, here: tuple[int, bytes]) -> bool:
        """Whether the chain still names block `here` (number, hash) as the anchor's."""
        info = self.registry.anchor_of(self.identity, root)
        if info.agency is None or info.block_number != here[0]:
            return False
        return self.registry.node.block(here[0]).hash == here[1]

    def _nonce_taken_by_another(self, signed: SignedTx) -> bool:
        """Whether the recorded tx can never anchor: its nonce is used and it is not mined, or
        it was mined but reverted (e.g. the agency was suspended before it was mined)."""
        if self.registry.node.nonce(self.account.address) <= signed.nonce:
            return False
        try:
            mined = self.registry.node.mined(signed.tx_hash)
        except Exception:
            return True
        # Re-signing a reverted anchor re-runs the gas estimate, which names the contract's
        # refusal (ContractRevert, not retried) instead of rebroadcasting a spent nonce forever.
        return mined is None or not mined.succeeded

    def _fail(self, batch_id: int, reason: str) -> None:
        with self.store.session() as session:
            repo.mark_failed(session, batch_id, error=reason)
        log.error("batch %s failed: %s", batch_id, reason)

    # ---------------------------------------------------------------- driver

    def unfinished(self) -> list[int]:
        with self.store.session() as session:
            return [b.id for b in repo.unfinished_batches(session, agency_id=self.agency_id)]

    def pending_count(self) -> int:
        with self.store.session() as session:
            return repo.pending_summary(session, agency_id=self.agency_id)[0]

    def resume(self) -> list[int]:
        """Finish every batch a previous run left sealed, submitted or anchored."""
        done = []
        for batch_id in self.unfinished():
            self._with_retry(functools.partial(self.anchor_batch, batch_id), batch_id)
            done.append(batch_id)
        return done

    def run_once(self, *, force: bool = False) -> list[int]:
        """Seal what is ready, then anchor and confirm everything unfinished."""
        self.seal_batches(force=force)
        return self.resume()

    def drain(self, *, stop: Callable[[], bool] = lambda: False) -> None:
        """Issue until nothing is pending or unfinished (a bulk job), retrying outages."""
        while not stop():
            self.run_once(force=True)
            if self.pending_count() == 0 and not self.unfinished():
                return

    def _with_retry(self, action: Callable[[], None], batch_id: int) -> None:
        """Retry chain outages with exponential backoff; a contract refusal is not retried."""
        delay = self.config.retry_initial
        while True:
            try:
                action()
                return
            except ContractRevert:
                raise
            except (ChainUnavailable, ChainError, OSError) as exc:
                log.warning("batch %s: %s; retrying in %.1fs", batch_id, exc, delay)
                with self.store.session() as session:
                    repo.record_attempt(session, batch_id, error=str(exc))
                time.sleep(delay)
                delay = min(delay * 2, self.config.retry_max)

    # -------------------------------------------------------------- receipts

    def confirmed_batches(self) -> list[int]:
        """Ids of this agency's confirmed batches, oldest first."""
        with self.store.session() as session:
            return repo.confirmed_batch_ids(session, agency_id=self.agency_id)

    def receipts(self, batch_id: int) -> list[Receipt]:
        """Receipts of every record of a confirmed batch, in leaf order."""
        with self.store.session() as session:
            batch = self._batch(session, batch_id)
            if batch.state != BatchState.CONFIRMED:
                raise InvalidInput(f"batch {batch_id} is {batch.state}, not confirmed yet")
            rows = repo.batch_leaves(session, batch_id)
            anchored = AnchoredBatch.of(batch)
        tree = self._trees.tree(self.store, batch_id, leaves=rows, root=anchored.root)
        return batch_receipts(self.registry, anchored, agency=self.identity, leaves=rows, tree=tree)


def issue_stream(
    issuer: Issuer,
    records: Iterable[Mapping[str, Any]],
    *,
    pool: SealPool | None = None,
    chunk: int = 5_000,
    progress: Callable[[int], None] | None = None,
    on_stored: Callable[[list[bytes]], None] | None = None,
    on_confirmed: Callable[[int], None] | None = None,
) -> int:
    """Bulk issue in bounded memory, pipelined: while workers seal the next chunk, this process
    stores the previous one, seals every full batch and anchors it. Returns how many records
    were submitted; when it returns every record is anchored and confirmed.

    `records` may be any iterable (a generator, a file being read): it is consumed a chunk at
    a time, at most a few chunks ahead of the store (`sealing.sealed_chunks`), and nothing
    per record is kept once its chunk is stored, so memory does not grow with the job.
    `on_stored(digests)` gets each chunk's digests, in input order, once the chunk is durable;
    `on_confirmed(batch_id)` each batch confirmed during the job, oldest first, as soon as it
    is (its receipts can then be built and written: `Issuer.receipts`)."""
    submitted = 0
    secret, key = issuer._salt_secret(), issuer.data_key
    # The documents come back encrypted (by the workers, when pooled): `submit` stores them.
    for part in sealed_chunks(secret, records, pool=pool, chunk=chunk, data_key=key):
        issuer.submit([(digest, "record", doc) for digest, doc in part])
        submitted += len(part)
        if on_stored is not None:
            on_stored([digest for digest, _ in part])
        if progress is not None:
            progress(len(part))
        del part  # the documents go now, not after the anchoring below
        issuer.seal_batches()  # full batches only; the rest waits for more records
        _report_confirmed(issuer, issuer.resume(), on_confirmed)
    while True:  # Issuer.drain, reporting each batch confirmed
        issuer.seal_batches(force=True)
        _report_confirmed(issuer, issuer.resume(), on_confirmed)
        if issuer.pending_count() == 0 and not issuer.unfinished():
            return submitted


def _report_confirmed(
    issuer: Issuer, batch_ids: Sequence[int], on_confirmed: Callable[[int], None] | None
) -> None:
    if on_confirmed is None or not batch_ids:
        return
    with issuer.store.session() as session:
        confirmed = [
            b for b in batch_ids if issuer._batch(session, b).state == BatchState.CONFIRMED
        ]
    for batch_id in confirmed:
        on_confirmed(batch_id)


def issue_records(
    issuer: Issuer,
    records: Iterable[Mapping[str, Any]],
    *,
    pool: SealPool | None = None,
    chunk: int = 5_000,
    progress: Callable[[int], None] | None = None,
) -> list[bytes]:
    """Bulk issue like `issue_stream` (records read chunk by chunk, any iterable), and return
    the digests in input order: 32 bytes kept per record, so a job of millions that needs no
    list of digests should call `issue_stream`."""
    digests: list[bytes] = []
    issue_stream(
        issuer, records, pool=pool, chunk=chunk, progress=progress, on_stored=digests.extend
    )
    return digests


__all__ = [
    "CRASH_ENV",
    "POOL_THRESHOLD",
    "Issuer",
    "IssuingConfig",
    "SealPool",
    "batch_tree",
    "issue_records",
    "issue_stream",
    "seal_with_secret",
]
