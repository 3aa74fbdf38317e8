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
import multiprocessing
import os
import signal
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from sqlalchemy import select

from registry import keys, merkle, record
from registry.chain import RegistryContract
from registry.chain.tx import (
    SignedTx,
    TxOptions,
    broadcast,
    prepare_transaction,
    wait_for_confirmations,
)
from registry.errors import ChainError, ChainUnavailable, ContractRevert, InvalidInput
from registry.receipt import KIND_CODES, Receipt, build_batch_receipts, build_receipt
from registry.salts import record_salt_source
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


def batch_tree(leaves: Sequence[tuple[bytes, str]]) -> merkle.MerkleTree:
    """The Merkle tree of a batch's (digest, digest kind) pairs in leaf order (the kind is bound
    into each leaf)."""
    return merkle.MerkleTree.from_digests(
        [bytes(digest) for digest, _ in leaves], [KIND_CODES[kind] for _, kind in leaves]
    )


@dataclass
class Issuer:
    """Issues records for one agency: seal, sign, anchor, confirm, resume.

    `account` is the agency's current transaction account; `agency_address` its identity (the
    address it was registered with; default: the account, true until the authority moves the
    agency), which names it in signed roots, anchors and receipts. `salt_secret` is the
    agency's own 32-byte salt secret (keys.load_salt_secret), needed to seal records."""

    store: Store
    registry: RegistryContract
    account: LocalAccount
    signing_key: Ed25519PrivateKey
    agency_id: int
    config: IssuingConfig = IssuingConfig()
    agency_address: str | None = None
    salt_secret: bytes | None = field(default=None, repr=False)
    _trees: dict[int, merkle.MerkleTree] = field(default_factory=dict, repr=False)
    """Trees of recently sealed batches, so receipts need not rebuild them (bounded)."""

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

    @property
    def _tx_options(self) -> TxOptions:
        return TxOptions(
            confirmations=self.config.confirmations,
            timeout=self.config.tx_timeout,
            gas_margin=self.config.gas_margin,
            poll_interval=0.05,
        )

    # ---------------------------------------------------------------- submit

    def seal(self, data: Mapping[str, Any]) -> record.SealedDocument:
        """Seal a structured record with this agency's deterministic salts (from its salt
        secret): the same record sealed twice has the same digest, also across signing-key
        rotations, so submitting it again is idempotent."""
        return seal_with_secret(self._salt_secret(), data)

    def submit(self, items: Sequence[tuple[bytes, str, str | None]]) -> repo.AddResult:
        """Store records as `pending`; durable when this returns. Idempotent per digest."""
        with self.store.session() as session:
            result = repo.add_records(session, agency_id=self.agency_id, items=list(items))
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
            self._trees[batch_id] = tree
            while len(self._trees) > 16:
                del self._trees[next(iter(self._trees))]
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
        if state in (BatchState.CONFIRMED, BatchState.FAILED):
            return
        # Our namespace only: the same root anchored by another agency is no concern of ours.
        on_chain = self.registry.anchor_of(self.identity, root)
        if on_chain.agency is not None:
            self._confirm(batch_id, tx_hash or self._anchor_tx_from_log(root))
            return
        if state == BatchState.SEALED or raw is None or tx_hash is None or nonce is None:
            signed = self._sign_and_record(batch_id, root, count)
            _crash_point("submitted")
        else:
            signed = SignedTx(raw=raw, tx_hash=tx_hash, nonce=nonce, sender=self.account.address)
            if self._nonce_taken_by_another(signed):
                # The recorded tx can never be mined (its nonce went to another tx, e.g. the node
                # lost it and the account sent something else): sign it anew with a fresh nonce.
                signed = self._sign_and_record(batch_id, root, count)
        broadcast(self.registry.w3, signed, action=f"anchor batch {batch_id}")
        self._confirm(batch_id, signed.tx_hash)

    def _sign_and_record(self, batch_id: int, root: bytes, count: int) -> SignedTx:
        """Sign the anchoring transaction and store it (hash, nonce, raw) BEFORE it is sent."""
        signed = prepare_transaction(
            self.registry.w3,
            self.account,
            self.registry.anchor_call(root, count),
            abi=self.registry.abi,
            action=f"anchor batch {batch_id}",
            margin=self.config.gas_margin,
        )
        with self.store.session() as session:
            repo.mark_submitted(
                session, batch_id, tx_hash=signed.tx_hash, nonce=signed.nonce, raw_tx=signed.raw
            )
        return signed

    def _anchor_tx_from_log(self, root: bytes) -> bytes | None:
        """The tx that anchored `root` for this agency, from its
        `Anchored(address indexed agency, bytes32 indexed root, uint32 leafCount)` event."""
        event = self.registry.contract.events.Anchored()
        topic = HexBytes(self.registry.w3.keccak(text=event.signature))
        agency_topic = HexBytes(b"\0" * 12 + keys.address_bytes(self.identity))
        logs = self.registry.w3.eth.get_logs(
            {
                "address": self.registry.address,
                "fromBlock": 0,
                "toBlock": "latest",
                "topics": [topic, agency_topic, HexBytes(root)],
            }
        )
        return bytes(logs[0]["transactionHash"]) if logs else None

    def _nonce_taken_by_another(self, signed: SignedTx) -> bool:
        """Whether the recorded tx can never anchor: its nonce is used and it is not mined, or
        it was mined but reverted (e.g. the agency was suspended before it was mined)."""
        w3 = self.registry.w3
        mined_nonce = w3.eth.get_transaction_count(self.account.address, "latest")
        if mined_nonce <= signed.nonce:
            return False
        try:
            receipt = w3.eth.get_transaction_receipt(HexBytes(signed.tx_hash))
        except Exception:
            return True
        # Re-signing a reverted anchor re-runs the gas estimate, which names the contract's
        # refusal (ContractRevert, not retried) instead of rebroadcasting a spent nonce forever.
        return int(receipt["status"]) != 1

    def _confirm(self, batch_id: int, tx_hash: bytes | None) -> None:
        if tx_hash is None:
            raise ChainError(f"batch {batch_id}: anchored on chain but no tx hash recorded")
        result = wait_for_confirmations(
            self.registry.w3,
            tx_hash,
            options=self._tx_options,
            action=f"anchor batch {batch_id}",
            abi=self.registry.abi,
        )
        block = self.registry.w3.eth.get_block(result.block_number)
        with self.store.session() as session:
            repo.mark_anchored(
                session,
                batch_id,
                block_number=result.block_number,
                block_hash=result.block_hash,
                anchored_at=int(block["timestamp"]),
            )
        _crash_point("anchored")
        with self.store.session() as session:
            repo.mark_confirmed(session, batch_id, confirmations=result.confirmations)

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
            return list(
                session.scalars(
                    select(Batch.id)
                    .where(
                        Batch.agency_id == self.agency_id,
                        Batch.state == BatchState.CONFIRMED.value,
                    )
                    .order_by(Batch.id)
                )
            )

    def receipts(self, batch_id: int) -> list[Receipt]:
        """Receipts of every record of a confirmed batch, in leaf order."""
        with self.store.session() as session:
            batch = self._batch(session, batch_id)
            if batch.state != BatchState.CONFIRMED:
                raise InvalidInput(f"batch {batch_id} is {batch.state}, not confirmed yet")
            rows = repo.batch_leaves(session, batch_id)
            info = _BatchInfo.of(batch)
        digests = [bytes(digest) for digest, _ in rows]
        tree = self._trees.get(batch_id)
        if tree is None or tree.root != info.root or tree.count != len(digests):
            tree = batch_tree(rows)
        return build_batch_receipts(
            digests=digests,
            kinds=[kind for _, kind in rows],  # type: ignore[misc]
            proofs=tree.all_proofs(),
            leaves=tree.leaves(),
            root=info.root,
            chain_id=self.registry.chain_id,
            registry=self.registry.address,
            agency=self.identity,
            block_number=info.block_number,
            anchored_at=info.anchored_at,
            public_key=info.public_key,
            signature=info.signature,
        )


@dataclass(frozen=True)
class _BatchInfo:
    root: bytes
    count: int
    block_number: int
    anchored_at: int
    public_key: bytes
    signature: bytes

    @classmethod
    def of(cls, batch: Any) -> _BatchInfo:
        return cls(
            root=bytes(batch.root),
            count=int(batch.leaf_count),
            block_number=int(batch.block_number),
            anchored_at=int(batch.anchored_at),
            public_key=bytes(batch.signing_public_key),
            signature=bytes(batch.signature),
        )

    def receipt(
        self,
        registry: RegistryContract,
        *,
        digest: bytes,
        kind: str,
        proof: Iterable[bytes],
        agency: str,
    ) -> Receipt:
        return build_receipt(
            digest=digest,
            digest_kind=kind,  # type: ignore[arg-type]
            root=self.root,
            proof=list(proof),
            count=self.count,
            chain_id=registry.chain_id,
            registry=registry.address,
            agency=agency,
            block_number=self.block_number,
            anchored_at=self.anchored_at,
            public_key=self.public_key,
            signature=self.signature,
        )


def receipt_for_batch_record(
    registry: RegistryContract,
    batch: Batch,
    *,
    digest: bytes,
    kind: str,
    proof: Iterable[bytes],
    agency: str,
) -> Receipt:
    """The receipt of one record of a confirmed batch; `agency` is its identity address."""
    return _BatchInfo.of(batch).receipt(
        registry, digest=digest, kind=kind, proof=proof, agency=agency
    )


def seal_with_secret(secret: bytes, data: Mapping[str, Any]) -> record.SealedDocument:
    """`record.seal_record` with salts derived from `secret` and the record itself."""
    try:
        source = record_salt_source(secret, data)
    except Exception:  # not canonicalizable: let the record module name the exact problem
        record.seal_record(data)
        raise
    return record.seal_record(data, salt_source=source)


POOL_THRESHOLD = 4_000
"""Below this many records, sealing in this process beats handing them to worker processes."""


def _seal_chunk(secret: bytes, records: Sequence[Mapping[str, Any]]) -> list[tuple[bytes, str]]:
    out = []
    for data in records:
        doc = seal_with_secret(secret, data)
        out.append((bytes(doc.digest), record.sealed_json_bytes(doc).decode("ascii")))
    return out


class SealPool:
    """Worker processes that seal structured records (the CPU-heavy step) while this process
    stores, batches and anchors. Start once, reuse for every bulk job."""

    def __init__(self, workers: int = 1) -> None:
        self.workers = workers
        ctx = multiprocessing.get_context("spawn")
        self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx)
        # Warm up: import the sealing code in every worker now, not during the first job.
        list(self._pool.map(_seal_chunk, [b"\0" * 32] * workers, [[{"w": 1}]] * workers))

    def seal(
        self, secret: bytes, records: Sequence[Mapping[str, Any]], *, chunk: int = 5_000
    ) -> Iterator[list[tuple[bytes, str]]]:
        """Sealed chunks in input order, as soon as each is ready (the pool works ahead)."""
        futures = [
            self._pool.submit(_seal_chunk, secret, records[i : i + chunk])
            for i in range(0, len(records), chunk)
        ]
        for future in futures:
            yield future.result()

    def close(self) -> None:
        self._pool.shutdown(cancel_futures=True)

    def __enter__(self) -> SealPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def seal_many(
    secret: bytes, records: Sequence[Mapping[str, Any]], *, pool: SealPool | None = None
) -> list[tuple[bytes, str]]:
    """Seal many records with deterministic salts: (digest, compact sealed-document JSON) in
    input order; in the pool's workers when one is given and the input is large."""
    if pool is None or len(records) < POOL_THRESHOLD:
        return _seal_chunk(secret, records)
    return [item for part in pool.seal(secret, records) for item in part]


def issue_records(
    issuer: Issuer,
    records: Sequence[Mapping[str, Any]],
    *,
    pool: SealPool | None = None,
    chunk: int = 5_000,
    progress: Callable[[int], None] | None = None,
) -> list[bytes]:
    """Bulk issue, pipelined: while workers seal the next chunk, this process stores the
    previous one, seals every full batch and anchors it. Returns the digests in input order;
    when it returns every record is anchored and confirmed."""
    secret = issuer._salt_secret()
    if pool is None or len(records) < POOL_THRESHOLD:
        parts: Iterable[list[tuple[bytes, str]]] = (
            _seal_chunk(secret, records[i : i + chunk]) for i in range(0, len(records), chunk)
        )
    else:
        parts = pool.seal(secret, records, chunk=chunk)
    digests: list[bytes] = []
    for part in parts:
        issuer.submit([(digest, "record", doc) for digest, doc in part])
        digests.extend(digest for digest, _ in part)
        issuer.seal_batches()  # full batches only; the rest waits for more records
        issuer.resume()
        if progress is not None:
            progress(len(part))
    issuer.drain()
    return digests
