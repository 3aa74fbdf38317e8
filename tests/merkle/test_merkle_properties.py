"""Properties of registry.merkle that hold for any batch: proofs verify, tampering fails."""

from __future__ import annotations

import gc
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.errors import InvalidProof
from registry.merkle import (
    KIND_FILE,
    KIND_RECORD,
    MerkleTree,
    MultiProof,
    leaf_hash,
    process_multiproof,
    process_proof,
    verify_multiproof,
    verify_proof,
)

DIGEST = st.binary(min_size=32, max_size=32)
DIGESTS = st.lists(DIGEST, min_size=1, max_size=40)
KIND = st.sampled_from((KIND_FILE, KIND_RECORD))


def flip(value: bytes, bit: int) -> bytes:
    """``value`` with one bit inverted (bit counted over the whole byte string)."""
    out = bytearray(value)
    out[bit // 8 % len(out)] ^= 1 << (bit % 8)
    return bytes(out)


@settings(max_examples=60)
@given(data=st.data(), digests=DIGESTS)
def test_every_proof_verifies_for_its_kind_only(data: st.DataObject, digests: list[bytes]) -> None:
    kinds = data.draw(st.lists(KIND, min_size=len(digests), max_size=len(digests)), label="kinds")
    tree = MerkleTree.from_digests(digests, kinds)
    proofs = tree.all_proofs()
    assert proofs == [tree.proof(i) for i in range(tree.count)]
    for i, digest in enumerate(digests):
        leaf = leaf_hash(kinds[i], digest)
        assert tree.leaf(i) == leaf
        assert process_proof(leaf, proofs[i]) == tree.root
        assert verify_proof(leaf=leaf, proof=proofs[i], root=tree.root)
        other = KIND_FILE if kinds[i] == KIND_RECORD else KIND_RECORD
        assert not verify_proof(leaf=leaf_hash(other, digest), proof=proofs[i], root=tree.root)


@given(digest=DIGEST)
def test_kinds_never_share_a_leaf(digest: bytes) -> None:
    assert leaf_hash(KIND_FILE, digest) != leaf_hash(KIND_RECORD, digest)


@settings(max_examples=60)
@given(data=st.data(), digests=DIGESTS, bit=st.integers(0, 255))
def test_any_flipped_bit_fails(data: st.DataObject, digests: list[bytes], bit: int) -> None:
    tree = MerkleTree.from_digests(digests, KIND_RECORD)
    i = data.draw(st.integers(0, tree.count - 1), label="index")
    leaf, proof, root = tree.leaf(i), tree.proof(i), tree.root
    assert not verify_proof(leaf=flip(leaf, bit), proof=proof, root=root)
    assert not verify_proof(leaf=leaf, proof=proof, root=flip(root, bit))
    for j in range(len(proof)):
        tampered = [*proof[:j], flip(proof[j], bit), *proof[j + 1 :]]
        assert not verify_proof(leaf=leaf, proof=tampered, root=root)


@st.composite
def tree_and_indices(draw: st.DrawFn) -> tuple[MerkleTree, list[int]]:
    digests = draw(DIGESTS)
    kinds = draw(st.lists(KIND, min_size=len(digests), max_size=len(digests)))
    tree = MerkleTree.from_digests(digests, kinds)
    indices = draw(st.lists(st.integers(0, tree.count - 1), unique=True))
    return tree, indices


@settings(max_examples=60)
@given(case=tree_and_indices())
def test_multiproof_verifies(case: tuple[MerkleTree, list[int]]) -> None:
    tree, indices = case
    multiproof = tree.multiproof(indices)
    assert sorted(multiproof.leaves) == sorted(tree.leaf(i) for i in indices)
    assert process_multiproof(multiproof) == tree.root
    assert verify_multiproof(root=tree.root, multiproof=multiproof)


@settings(max_examples=60)
@given(case=tree_and_indices(), data=st.data(), bit=st.integers(0, 255))
def test_multiproof_flipped_bit_fails(
    case: tuple[MerkleTree, list[int]], data: st.DataObject, bit: int
) -> None:
    tree, indices = case
    mp = tree.multiproof(indices)
    assert not verify_multiproof(root=flip(tree.root, bit), multiproof=mp)
    hashes = [*mp.leaves, *mp.proof]
    k = data.draw(st.integers(0, len(hashes) - 1), label="tampered hash")
    hashes[k] = flip(hashes[k], bit)
    n = len(mp.leaves)
    tampered = MultiProof(
        leaves=tuple(hashes[:n]),  # type: ignore[arg-type]  # deliberately not real leaves
        proof=tuple(hashes[n:]),
        proof_flags=mp.proof_flags,
    )
    assert not verify_multiproof(root=tree.root, multiproof=tampered)


def test_single_leaf_tree_root_is_the_leaf() -> None:
    digest = bytes(range(32))
    tree = MerkleTree.from_digests([digest], KIND_FILE)
    assert bytes(tree.root) == leaf_hash(KIND_FILE, digest)
    assert tree.proof(0) == []
    assert tree.all_proofs() == [[]]
    assert verify_proof(leaf=leaf_hash(KIND_FILE, digest), proof=[], root=tree.root)


def test_duplicate_digests_get_separate_leaves() -> None:
    """As in OZ: a repeated (kind, digest) is one more leaf, with its own position and proof;
    the same digest under the other kind is a different leaf."""
    a, b = b"\x01" * 32, b"\x02" * 32
    tree = MerkleTree.from_digests([a, b, a], KIND_RECORD)
    assert tree.count == 3
    assert tree.leaf(0) == tree.leaf(2)
    for i in range(3):
        assert verify_proof(leaf=tree.leaf(i), proof=tree.proof(i), root=tree.root)
    assert verify_multiproof(root=tree.root, multiproof=tree.multiproof([0, 2]))
    mixed = MerkleTree.from_digests([a, b, a], [KIND_FILE, KIND_RECORD, KIND_RECORD])
    assert mixed.leaf(0) != mixed.leaf(2)


def test_leaf_order_does_not_change_root() -> None:
    """Leaves are sorted by hash, as in OZ, so the submission order does not matter."""
    digests = [bytes([i]) * 32 for i in range(9)]
    kinds = [KIND_FILE, KIND_RECORD, KIND_RECORD] * 3
    forward = MerkleTree.from_digests(digests, kinds)
    assert forward.root == MerkleTree.from_digests(digests[::-1], kinds[::-1]).root


@pytest.mark.parametrize("enabled", [True, False])
def test_all_proofs_restores_garbage_collector(enabled: bool) -> None:
    """all_proofs pauses the cyclic collector for speed and puts it back as it was."""
    tree = MerkleTree.from_digests([bytes([i]) * 32 for i in range(5)], KIND_RECORD)
    was = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        tree.all_proofs()
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()


def malformed(mp: MultiProof, **changes: Sequence[object]) -> MultiProof:
    fields = {"leaves": mp.leaves, "proof": mp.proof, "proof_flags": mp.proof_flags}
    fields.update({k: tuple(v) for k, v in changes.items()})
    return MultiProof(**fields)  # type: ignore[arg-type]


def test_malformed_multiproofs_raise() -> None:
    tree = MerkleTree.from_digests([bytes([i]) * 32 for i in range(7)], KIND_RECORD)
    mp = tree.multiproof([1, 4])
    with pytest.raises(InvalidProof, match="flags"):
        verify_multiproof(root=tree.root, multiproof=malformed(mp, proof_flags=mp.proof_flags[1:]))
    all_merges = [True] * len(mp.proof_flags)  # right counts, but merges more than it holds
    with pytest.raises(InvalidProof, match="consume more"):
        verify_multiproof(root=tree.root, multiproof=malformed(mp, proof_flags=all_merges))
    with pytest.raises(InvalidProof, match="more proof hashes"):
        verify_multiproof(
            root=tree.root,
            multiproof=malformed(
                mp, leaves=[*mp.leaves, *mp.proof], proof=[], proof_flags=[False, *all_merges[1:]]
            ),
        )
    with pytest.raises(InvalidProof, match="32 bytes"):
        verify_multiproof(root=tree.root, multiproof=malformed(mp, proof=[b"x", *mp.proof[1:]]))
    with pytest.raises(InvalidProof, match="32 bytes"):
        verify_proof(leaf=tree.leaf(0), proof=[b"short"], root=tree.root)
