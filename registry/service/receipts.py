"""The one receipt path: a confirmed batch's Merkle tree (rebuilt from the store's leaves, or
the one sealed, kept while recently used) and the receipts of its records. The issuer (all
receipts of a batch), the operator (one record's, the public lookup), the revocations (the
record's leaf and proof) and the development set-ups (a batch anchored by hand) all come here.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from registry import merkle
from registry.errors import InvalidInput
from registry.receipt import KIND_CODES, DigestKind, Receipt, build_batch_receipts, build_receipt
from registry.store import BatchState, Store, repo


def batch_tree(leaves: Sequence[tuple[bytes, str]]) -> merkle.MerkleTree:
    """The Merkle tree of a batch's (digest, digest kind) pairs in leaf order (the kind is bound
    into each leaf)."""
    return merkle.MerkleTree.from_digests(
        [bytes(digest) for digest, _ in leaves], [KIND_CODES[kind] for _, kind in leaves]
    )


class BatchTrees:
    """Trees of sealed batches (which never change), the `size` most recently used kept, so a
    run of receipt lookups does not rebuild a 10,000-leaf tree each time. Thread-safe."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._trees: OrderedDict[int, merkle.MerkleTree] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, batch_id: int, tree: merkle.MerkleTree) -> None:
        with self._lock:
            self._trees[batch_id] = tree
            self._trees.move_to_end(batch_id)
            while len(self._trees) > self.size:
                self._trees.popitem(last=False)

    def get(self, batch_id: int) -> merkle.MerkleTree | None:
        with self._lock:
            tree = self._trees.get(batch_id)
            if tree is not None:
                self._trees.move_to_end(batch_id)
            return tree

    def tree(
        self,
        store: Store,
        batch_id: int,
        *,
        leaves: Sequence[tuple[bytes, str]] | None = None,
        root: bytes | None = None,
    ) -> merkle.MerkleTree:
        """The batch's tree: the one kept (when it has `root` and as many leaves as
        `leaves`, if given), else built from `leaves` (default: read from the store)."""
        kept = self.get(batch_id)
        if (
            kept is not None
            and (root is None or kept.root == root)
            and (leaves is None or kept.count == len(leaves))
        ):
            return kept
        if leaves is None:
            with store.session() as session:
                leaves = repo.batch_leaves(session, batch_id)
        tree = batch_tree(leaves)
        self.put(batch_id, tree)
        return tree


@dataclass(frozen=True)
class AnchoredBatch:
    """What every receipt of a batch shares: root, leaf count, where and when it was anchored,
    the agency's signature of the root and the key that made it."""

    root: bytes
    count: int
    block_number: int
    anchored_at: int
    public_key: bytes
    signature: bytes

    @classmethod
    def of(cls, batch: Any) -> AnchoredBatch:
        """From a confirmed batch of the store."""
        return cls(
            root=bytes(batch.root),
            count=int(batch.leaf_count),
            block_number=int(batch.block_number),
            anchored_at=int(batch.anchored_at),
            public_key=bytes(batch.signing_public_key),
            signature=bytes(batch.signature),
        )


class RegistryIdentity(Protocol):
    """What a receipt names of its registry: `RegistryContract`, or the raw JSON-RPC
    `registry.chain.rawrpc.RawRegistry` (no web3)."""

    @property
    def chain_id(self) -> int: ...

    @property
    def address(self) -> str: ...


def stored_receipt(
    store: Store,
    trees: BatchTrees,
    registry: RegistryIdentity,
    digest: bytes,
    *,
    agency_id: int | None = None,
    kind: str | None = None,
) -> Receipt:
    """The receipt of an anchored record of the store (of one agency, or the public lookup:
    the earliest anchored one, records of `kind` first); InvalidInput if unknown or not
    anchored yet."""
    with store.session() as session:
        rec = repo.record_by_digest(session, digest, agency_id=agency_id, kind=kind)
        if rec is None:
            raise InvalidInput(f"no record with digest 0x{digest.hex()} in this registry")
        if rec.batch_id is None:
            raise InvalidInput(f"record 0x{digest.hex()} is {rec.status}, not anchored yet")
        batch = repo.batch_by_id(session, rec.batch_id)
        assert batch is not None
        if batch.state != BatchState.CONFIRMED:
            raise InvalidInput(
                f"record 0x{digest.hex()} is in a batch that is {batch.state}, not anchored yet"
            )
        agency = repo.agency_by_id(session, batch.agency_id)
        assert agency is not None and rec.leaf_index is not None
        kind, index = rec.digest_kind, rec.leaf_index
        anchored, identity = AnchoredBatch.of(batch), agency.address
    return record_receipt(
        registry,
        anchored,
        agency=identity,
        digest=digest,
        kind=kind,
        proof=trees.tree(store, batch.id).proof(index),
    )


def record_receipt(
    registry: RegistryIdentity,
    batch: AnchoredBatch,
    *,
    agency: str,
    digest: bytes,
    kind: str,
    proof: Sequence[bytes],
) -> Receipt:
    """The receipt of one record of the batch; `agency` is its identity address."""
    return build_receipt(
        digest=digest,
        digest_kind=kind,  # type: ignore[arg-type]
        root=batch.root,
        proof=list(proof),
        count=batch.count,
        chain_id=registry.chain_id,
        registry=registry.address,
        agency=agency,
        block_number=batch.block_number,
        anchored_at=batch.anchored_at,
        public_key=batch.public_key,
        signature=batch.signature,
    )


def batch_receipts(
    registry: RegistryIdentity,
    batch: AnchoredBatch,
    *,
    agency: str,
    leaves: Sequence[tuple[bytes, DigestKind | str]],
    tree: merkle.MerkleTree,
) -> list[Receipt]:
    """The receipts of every record of the batch, in leaf order (`leaves`: (digest, kind))."""
    return build_batch_receipts(
        digests=[bytes(digest) for digest, _ in leaves],
        kinds=[kind for _, kind in leaves],  # type: ignore[misc]
        proofs=tree.all_proofs(),
        leaves=tree.leaves(),
        root=batch.root,
        chain_id=registry.chain_id,
        registry=registry.address,
        agency=agency,
        block_number=batch.block_number,
        anchored_at=batch.anchored_at,
        public_key=batch.public_key,
        signature=batch.signature,
    )
