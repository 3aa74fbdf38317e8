"""Merkle trees over record digests, bit-for-bit compatible with OpenZeppelin.

A batch of (kind, digest) pairs becomes one root anchored on chain. The tree is exactly
``StandardMerkleTree.of(items.map(([k, d]) => [k, d]), ["uint8", "bytes32"])`` from
``@openzeppelin/merkle-tree`` (default options), so the root, every ``getProof(i)`` and
every ``getMultiProof(indices)`` are the same, and every proof passes OpenZeppelin's
``MerkleProof.verify`` / ``multiProofVerify`` on chain:

* leaf = keccak256(keccak256(abi.encode(uint8 kind, bytes32 digest))), where the encoding is
  the kind as a 32-byte big-endian word followed by the digest (64 bytes). Binding the kind
  (1 file, 2 structured record; protocol v2) into the leaf means a digest anchored as a file
  can never be presented as a record, or the reverse. Hashing twice means no 64-byte internal
  node can pass for a leaf (second preimage).
* node = keccak256(min(a, b) ++ max(a, b)) (OZ ``Hashes.commutativeKeccak256``), so
  proofs carry no left/right flags.
* Layout: OZ's flat heap array of 2n-1 nodes. Leaves are sorted by hash (stable, so
  equal leaves keep their submission order) and stored from the end of the array
  backwards; node i has children 2i+1 and 2i+2. When n is not a power of two the
  leaves sit at two depths, so proofs have two lengths.
* ``index`` in this API is the position of the digest as submitted (OZ's value index),
  not its place in the tree.
* Duplicate digests are allowed, as in OZ: each copy is its own leaf with its own proof.
  Their leaf hashes are equal, so a proof for one copy is indistinguishable from a proof
  for another; de-duplicate before building if a batch must not repeat a record.

The module is pure (no I/O). Speed matters for large batches (1,000,000 leaves: root
and all proofs in a few seconds, see docs/merkle.md): trees are built a level at a
time with list comprehensions over the heap array, and ``all_proofs`` walks columns
of siblings instead of leaf by leaf.

keccak256 comes from safe-pysha3 (``sha3.keccak_256``), the fastest maintained backend
measured here: about 0.77 us per call against 5.5-6 us for pycryptodome and the
eth-hash default (figures in docs/merkle.md, ``registry.bench.merkle``).
"""

from __future__ import annotations

import gc
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain, repeat
from typing import Protocol, TypeVar

import sha3

from registry.errors import InvalidInput, InvalidProof
from registry.types import Leaf, Root

__all__ = [
    "KECCAK_BACKEND",
    "KIND_FILE",
    "KIND_RECORD",
    "LEAF_KINDS",
    "MerkleTree",
    "MultiProof",
    "keccak256",
    "leaf_hash",
    "process_multiproof",
    "process_proof",
    "verify_multiproof",
    "verify_proof",
]

HASH_SIZE = 32
T = TypeVar("T")


class _KeccakState(Protocol):
    def digest(self) -> bytes: ...


# Bound once: the constructor plus .digest() is the whole per-hash cost in the hot loops.
_keccak_new: Callable[[bytes], _KeccakState] = sha3.keccak_256
KECCAK_BACKEND = "safe-pysha3"
"""Name of the keccak256 implementation in use (reported by the benchmark)."""


def keccak256(data: bytes) -> bytes:
    """Ethereum's keccak256 (original Keccak padding, not NIST SHA3-256)."""
    return _keccak_new(data).digest()


KIND_FILE = 1
"""Leaf kind of a file's digest (SHA-256 of its bytes)."""
KIND_RECORD = 2
"""Leaf kind of a structured record's digest (docs/receipt.md section 2.2)."""
LEAF_KINDS = (KIND_FILE, KIND_RECORD)
_KIND_WORDS = {k: k.to_bytes(HASH_SIZE, "big") for k in LEAF_KINDS}


def leaf_hash(kind: int, digest: bytes) -> Leaf:
    """The Merkle leaf of a (kind, digest) pair, as OZ's standard leaf for ``["uint8", "bytes32"]``:
    keccak256(keccak256(abi.encode(kind, digest)))."""
    word = _kind_word(kind, where="kind")
    _check_digest(digest, where="digest")
    return Leaf(_keccak_new(_keccak_new(word + digest).digest()).digest())


def _kind_word(kind: object, *, where: str) -> bytes:
    word = _KIND_WORDS.get(kind) if type(kind) is int else None  # type: ignore[call-overload]
    if word is None:
        raise InvalidInput(f"leaf kind must be one of {LEAF_KINDS}, got {kind!r}", field=where)
    return word


def _node_hash(a: bytes, b: bytes) -> bytes:
    """OZ's commutative node hash: keccak256 over the pair in ascending order."""
    return _keccak_new(a + b if a < b else b + a).digest()


@dataclass(frozen=True, slots=True)
class MultiProof:
    """Proof that several leaves are in one tree, in the shape OZ and the contract use.

    ``leaves`` are leaf hashes (not digests) in the order ``MerkleProof.multiProofVerify``
    consumes them, which is OZ's order (tree position, deepest first); OZ's
    ``StandardMerkleTree.getMultiProof`` returns the digests behind them in the same order.
    """

    leaves: tuple[Leaf, ...]
    proof: tuple[bytes, ...]
    proof_flags: tuple[bool, ...]


class MerkleTree:
    """An immutable OZ-compatible Merkle tree over a batch of digests.

    Build it with :meth:`from_digests`. Index arguments are submission positions.
    """

    __slots__ = ("_count", "_order", "_positions_made", "_tree")

    _tree: list[bytes]
    _order: list[int]
    _positions_made: list[int] | None
    _count: int

    def __init__(self, tree: list[bytes], order: list[int]) -> None:
        """Internal: use :meth:`from_digests`. ``tree`` is OZ's heap array, ``order`` the
        submission index of each leaf by rank (the leaf of rank r sits at heap index
        2n-2-r)."""
        self._tree = tree
        self._order = order
        self._positions_made = None
        self._count = len(order)

    @property
    def _positions(self) -> list[int]:
        """Heap array index of each leaf by submission index, made on first use (a scatter
        over the whole tree: ``all_proofs`` and the root do not need it)."""
        positions = self._positions_made
        if positions is None:
            count = self._count
            positions = [0] * count
            _scatter(positions, self._order, range(2 * count - 2, count - 2, -1))
            self._positions_made = positions
        return positions

    @classmethod
    def from_digests(cls, digests: Sequence[bytes], kinds: Sequence[int] | int) -> MerkleTree:
        """Build the tree of a batch of 32-byte digests with their leaf kinds (one per digest,
        or one kind for all); duplicates allowed, as in OZ."""
        count = len(digests)
        if count == 0:
            raise InvalidInput("cannot build a Merkle tree from no digests")
        _check_digests(digests)
        k = _keccak_new
        if isinstance(kinds, int):
            word = _kind_word(kinds, where="kinds")
            leaves = [k(k(word + d).digest()).digest() for d in digests]
        else:
            if not isinstance(kinds, Sequence) or isinstance(kinds, str | bytes):
                raise InvalidInput(
                    f"expected a kind or a sequence of kinds, got {kinds!r}", field="kinds"
                )
            if len(kinds) != count:
                raise InvalidInput(f"{len(kinds)} kinds for {count} digests", field="kinds")
            words = _KIND_WORDS
            # One C pass: True and 1.0 hash like 1 and would pass the dict lookup below.
            if set(map(type, kinds)) != {int}:
                for i, t in enumerate(kinds):
                    _kind_word(t, where=f"kinds[{i}]")
            try:
                leaves = [
                    k(k(words[t] + d).digest()).digest()
                    for t, d in zip(kinds, digests, strict=True)
                ]
            except KeyError:
                for i, t in enumerate(kinds):
                    _kind_word(t, where=f"kinds[{i}]")
                raise
        # Stable sort by hash, as OZ (JS Array.prototype.sort is stable); bytes compare
        # like the big-endian integers OZ compares.
        order = sorted(range(count), key=leaves.__getitem__)
        # OZ stores the smallest leaf last: rank r sits at heap array index 2n-2-r.
        tree: list[bytes] = [b""] * (count - 1)
        tree.extend(map(leaves.__getitem__, reversed(order)))
        del leaves
        _fill_internal_nodes(tree, count)
        return cls(tree, order)

    @property
    def root(self) -> Root:
        """The 32-byte root anchored on chain."""
        return Root(self._tree[0])

    @property
    def count(self) -> int:
        """Number of leaves (digests submitted, duplicates included)."""
        return self._count

    def __len__(self) -> int:
        return self._count

    def __repr__(self) -> str:
        return f"MerkleTree(count={self._count}, root=0x{self._tree[0].hex()})"

    def leaf(self, index: int) -> Leaf:
        """The leaf hash of the digest submitted at ``index``."""
        return Leaf(self._tree[self._position(index)])

    def leaves(self) -> list[Leaf]:
        """Every leaf hash, in submission order (no re-hashing)."""
        tree = self._tree
        return [Leaf(tree[p]) for p in self._positions]

    def proof(self, index: int) -> list[bytes]:
        """The sibling hashes from the leaf at ``index`` up to the root (OZ ``getProof``)."""
        tree = self._tree
        node = self._position(index) + 1  # 1-based heap index: sibling m^1, parent m>>1
        proof: list[bytes] = []
        while node > 1:
            proof.append(tree[(node ^ 1) - 1])
            node >>= 1
        return proof

    def all_proofs(self) -> list[list[bytes]]:
        """Every proof, by submission index; equal to ``[proof(i) for i in range(count)]``.

        Walks columns rather than leaves: leaves at one depth form a contiguous range of
        the heap, and the k-th proof element of a leaf is shared by 2**k neighbours, so each
        column is one run of repeats and ``zip`` assembles the proofs in C.
        """
        n = self._count
        if n == 1:
            return [[]]
        tree = self._tree
        deepest = (2 * n - 1).bit_length() - 1
        first_deepest = 1 << deepest
        # 1-based heap indices n .. 2n-1 are the leaves; those below first_deepest sit
        # one level higher.
        by_node: list[list[bytes]] = []
        with _cyclic_gc_paused():
            if n < first_deepest:
                by_node.extend(_proofs_of_range(tree, n, first_deepest - 1, deepest - 1))
            by_node.extend(_proofs_of_range(tree, first_deepest, 2 * n - 1, deepest))
            # by_node runs from heap index n-1 (the largest leaf, rank n-1) to 2n-2 (rank 0).
            proofs: list[list[bytes]] = [[]] * n
            _scatter(proofs, self._order, reversed(by_node))
            return proofs

    def multiproof(self, indices: Iterable[int]) -> MultiProof:
        """A proof for several leaves at once (OZ ``getMultiProof``), for the given indices.

        No index may repeat. With no indices the proof is just the root, as in OZ.
        """
        nodes = [self._position(i) for i in indices]
        nodes.sort(reverse=True)
        if len(set(nodes)) != len(nodes):
            raise InvalidInput("multiproof indices must not repeat")
        tree = self._tree
        stack = deque(nodes)
        proof: list[bytes] = []
        flags: list[bool] = []
        while stack and stack[0] > 0:
            node = stack.popleft()
            sibling = ((node + 1) ^ 1) - 1
            if stack and stack[0] == sibling:
                flags.append(True)
                stack.popleft()
            else:
                flags.append(False)
                proof.append(tree[sibling])
            stack.append((node - 1) // 2)
        if not nodes:
            proof.append(tree[0])
        return MultiProof(
            leaves=tuple(Leaf(tree[node]) for node in nodes),
            proof=tuple(proof),
            proof_flags=tuple(flags),
        )

    def _position(self, index: int) -> int:
        """Heap array index of the leaf submitted at ``index``, or InvalidInput."""
        if isinstance(index, bool) or not isinstance(index, int):
            raise InvalidInput(f"leaf index must be an int, got {type(index).__name__}")
        if not 0 <= index < self._count:
            raise InvalidInput(
                f"leaf index {index} out of range for a tree of {self._count} leaves"
            )
        return self._positions[index]


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while allocating millions of small lists.

    Each new list counts towards the collector's thresholds, and the full collections
    this triggers re-scan every list made so far: 1,000,000 proofs take ~4.7 s with the
    collector running and ~1.5 s without. The lists hold only bytes, so they form no
    cycles and nothing is left for the collector to find afterwards.

    Re-enabling alone would still cost one scan of them all (~0.5 s per 1,000,000: they
    are all in the youngest generation, far over its threshold), so they are first moved
    to the oldest generation unscanned (``gc.freeze()`` then ``gc.unfreeze()``), as any
    survivor of that scan would be. Skipped when the application has frozen objects of
    its own (``gc.get_freeze_count()``), which ``unfreeze`` would release.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if gc.get_freeze_count() == 0:
                gc.freeze()
                gc.unfreeze()
            gc.enable()


def _fill_internal_nodes(tree: list[bytes], count: int) -> None:
    """Compute OZ's internal nodes 0..count-2 in place, one heap level at a time."""
    k = _keccak_new
    level = (count - 1).bit_length() - 1  # depth of the deepest internal node
    while level >= 0:
        first = 1 << level  # 1-based heap indices of this level's internal nodes
        last = min((first << 1) - 1, count - 1)
        # Children of 1-based m are 2m and 2m+1, i.e. 0-based 2m-1 and 2m.
        lefts = tree[2 * first - 1 : 2 * last : 2]
        rights = tree[2 * first : 2 * last + 1 : 2]
        tree[first - 1 : last] = [
            k(a + b if a < b else b + a).digest() for a, b in zip(lefts, rights, strict=True)
        ]
        level -= 1


_SHARED_LEVELS = 6
"""all_proofs: leaves under one ancestor this many levels up share the rest of their proof."""


def _proofs_of_range(tree: list[bytes], first: int, last: int, depth: int) -> list[list[bytes]]:
    """Proofs of the leaves at 1-based heap indices first..last, all at ``depth``.

    Walks columns rather than leaves: the k-th proof element of a leaf is its ancestor's
    sibling k levels up, shared by 2**k neighbours, so each column is one run of repeats and
    ``zip`` assembles the proofs in C. Only the lowest _SHARED_LEVELS columns are zipped per
    leaf: the rest of a proof is the proof of the leaf's ancestor _SHARED_LEVELS levels up,
    computed once for its whole group (recursively) and joined on with one list addition.
    """
    if depth == 0:
        return [[] for _ in range(last - first + 1)]
    low = min(depth, _SHARED_LEVELS)
    lowest = zip(*[_column(tree, first, last, k) for k in range(low)], strict=True)
    if depth == low:
        return list(map(list, lowest))
    above = _proofs_of_range(tree, first >> low, last >> low, depth - low)
    shared = chain.from_iterable(map(repeat, above, _runs(first, last, low)))
    return list(map(list.__add__, map(list, lowest), shared))


def _column(tree: list[bytes], first: int, last: int, k: int) -> Iterator[bytes]:
    """The k-th proof element of each leaf first..last: its ancestor's sibling k levels up."""
    siblings = _siblings(tree, first >> k, last >> k)
    if k == 0:
        return iter(siblings)
    return chain.from_iterable(map(repeat, siblings, _runs(first, last, k)))


def _siblings(tree: list[bytes], lo: int, hi: int) -> list[bytes]:
    """``[tree[(u ^ 1) - 1] for u in range(lo, hi + 1)]`` (the siblings of 1-based heap
    nodes lo..hi), by slicing: the same nodes with each aligned pair swapped."""
    start, stop = lo & ~1, hi | 1  # the aligned pairs covering lo..hi
    nodes = tree[start - 1 : stop]
    swapped = nodes[:]
    swapped[0::2] = nodes[1::2]
    swapped[1::2] = nodes[0::2]
    return swapped[lo - start : hi - start + 1]


def _runs(first: int, last: int, k: int) -> list[int]:
    """How many of the leaves first..last sit under each of their ancestors k levels up."""
    lo, hi = first >> k, last >> k
    if lo == hi:
        return [last - first + 1]
    return [((lo + 1) << k) - first, *repeat(1 << k, hi - lo - 1), last - (hi << k) + 1]


def _scatter(target: list[T], indices: Iterable[int], values: Iterable[T]) -> None:
    """``target[i] = v`` for each pair, in C (no Python-level loop)."""
    deque(map(target.__setitem__, indices, values), maxlen=0)


def process_proof(leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """The root that ``proof`` leads to from ``leaf`` (OZ ``processProof``)."""
    _check_node(leaf, where="leaf")
    for i, node in enumerate(proof):
        _check_node(node, where=f"proof[{i}]")
    computed = leaf
    for node in proof:
        computed = _node_hash(computed, node)
    return computed


def verify_proof(*, leaf: bytes, proof: Sequence[bytes], root: bytes) -> bool:
    """Whether ``proof`` leads from ``leaf`` to ``root``. Malformed input raises InvalidProof."""
    _check_root(root)
    return process_proof(leaf, proof) == root


def process_multiproof(multiproof: MultiProof) -> bytes:
    """The root a multiproof leads to (OZ ``processMultiProof``), or InvalidProof if malformed.

    Accepts exactly what Solidity's ``MerkleProof.processMultiProof`` accepts.
    """
    leaves, proof, flags = multiproof.leaves, multiproof.proof, multiproof.proof_flags
    for i, leaf in enumerate(leaves):
        _check_node(leaf, where=f"multiproof leaves[{i}]")
    for i, node in enumerate(proof):
        _check_node(node, where=f"multiproof proof[{i}]")
    if len(leaves) + len(proof) != len(flags) + 1:
        raise InvalidProof(
            f"multiproof has {len(leaves)} leaves and {len(proof)} proof hashes "
            f"but {len(flags)} flags; expected leaves + proof = flags + 1"
        )
    if not flags:  # a one-leaf tree, or no leaves and the root itself as the proof
        return leaves[0] if leaves else proof[0]
    queue: deque[bytes] = deque(leaves)
    hashes = iter(proof)
    for flag in flags:
        if not queue:
            raise InvalidProof("multiproof flags consume more hashes than it provides")
        a = queue.popleft()
        if flag:
            if not queue:
                raise InvalidProof("multiproof flags consume more hashes than it provides")
            b = queue.popleft()
        else:
            sibling = next(hashes, None)
            if sibling is None:
                raise InvalidProof("multiproof flags need more proof hashes than given")
            b = sibling
        queue.append(_node_hash(a, b))
    # Unreachable after the count check (a flag pattern that leaves proof hashes over
    # runs out of queue first); kept because Solidity checks it too.
    if next(hashes, None) is not None:
        raise InvalidProof("multiproof has proof hashes its flags do not use")
    return queue[-1]


def verify_multiproof(*, root: bytes, multiproof: MultiProof) -> bool:
    """Whether ``multiproof`` leads to ``root``. Malformed input raises InvalidProof."""
    _check_root(root)
    return process_multiproof(multiproof) == root


def _check_digest(digest: object, *, where: str) -> None:
    if not isinstance(digest, bytes):
        raise InvalidInput(f"{where} must be bytes, got {type(digest).__name__}")
    if len(digest) != HASH_SIZE:
        raise InvalidInput(f"{where} must be {HASH_SIZE} bytes, got {len(digest)}")


def _check_digests(digests: Sequence[bytes]) -> None:
    """Reject any digest that is not 32 bytes, naming the first bad index."""
    # One pass in C for the common all-good case; the slow scan only runs to report.
    if all(map(isinstance, digests, repeat(bytes))) and set(map(len, digests)) == {HASH_SIZE}:
        return
    for i, digest in enumerate(digests):
        _check_digest(digest, where=f"digests[{i}]")


def _check_node(node: object, *, where: str) -> None:
    if not isinstance(node, bytes) or len(node) != HASH_SIZE:
        size = len(node) if isinstance(node, bytes) else type(node).__name__
        raise InvalidProof(f"{where} must be {HASH_SIZE} bytes, got {size}")


def _check_root(root: object) -> None:
    if not isinstance(root, bytes) or len(root) != HASH_SIZE:
        raise InvalidInput(f"root must be {HASH_SIZE} bytes")
