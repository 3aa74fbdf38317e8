"""Bad input to registry.merkle fails with InvalidInput and a message that says what is wrong."""

from __future__ import annotations

import pytest

from registry.errors import InvalidInput, InvalidProof
from registry.merkle import (
    KIND_FILE,
    KIND_RECORD,
    MerkleTree,
    leaf_hash,
    verify_multiproof,
    verify_proof,
)

GOOD = [bytes([i]) * 32 for i in range(3)]


def test_empty_tree_is_refused() -> None:
    with pytest.raises(InvalidInput, match="no digests"):
        MerkleTree.from_digests([], KIND_RECORD)


@pytest.mark.parametrize("size", [0, 20, 31, 33, 64])
def test_wrong_digest_length_is_refused(size: int) -> None:
    with pytest.raises(InvalidInput, match=rf"digest must be 32 bytes, got {size}"):
        leaf_hash(KIND_RECORD, b"\x00" * size)
    with pytest.raises(InvalidInput, match=rf"digests\[1\] must be 32 bytes, got {size}"):
        MerkleTree.from_digests([GOOD[0], b"\x00" * size, GOOD[2]], KIND_FILE)


def test_hex_string_digest_is_refused() -> None:
    """A hex string is not a digest, even at a length that happens to be 32."""
    with pytest.raises(InvalidInput, match=r"digests\[0\] must be bytes, got str"):
        MerkleTree.from_digests(["ab" * 16], KIND_RECORD)  # type: ignore[list-item]


@pytest.mark.parametrize("index", [-1, 3, 1000])
def test_index_out_of_range_is_refused(index: int) -> None:
    tree = MerkleTree.from_digests(GOOD, KIND_RECORD)
    message = rf"leaf index {index} out of range for a tree of 3 leaves"
    with pytest.raises(InvalidInput, match=message):
        tree.proof(index)
    with pytest.raises(InvalidInput, match=message):
        tree.leaf(index)
    with pytest.raises(InvalidInput, match=message):
        tree.multiproof([0, index])


def test_non_int_index_is_refused() -> None:
    tree = MerkleTree.from_digests(GOOD, KIND_RECORD)
    with pytest.raises(InvalidInput, match="must be an int, got bool"):
        tree.proof(True)
    with pytest.raises(InvalidInput, match="must be an int, got str"):
        tree.proof("1")  # type: ignore[arg-type]


def test_repeated_multiproof_index_is_refused() -> None:
    with pytest.raises(InvalidInput, match="must not repeat"):
        MerkleTree.from_digests(GOOD, KIND_RECORD).multiproof([1, 2, 1])


def test_malformed_verification_input_raises_rather_than_failing() -> None:
    """A wrong-length hash is malformed input (error), not a proof that fails (False)."""
    tree = MerkleTree.from_digests(GOOD, KIND_RECORD)
    with pytest.raises(InvalidProof, match=r"leaf must be 32 bytes, got 31"):
        verify_proof(leaf=tree.leaf(0)[:31], proof=tree.proof(0), root=tree.root)
    with pytest.raises(InvalidProof, match=r"proof\[0\] must be 32 bytes"):
        verify_proof(leaf=tree.leaf(0), proof=[b""], root=tree.root)
    with pytest.raises(InvalidInput, match="root must be 32 bytes"):
        verify_proof(leaf=tree.leaf(0), proof=tree.proof(0), root=tree.root + b"\x00")
    with pytest.raises(InvalidInput, match="root must be 32 bytes"):
        verify_multiproof(root=b"", multiproof=tree.multiproof([0]))


def test_tree_is_read_only() -> None:
    tree = MerkleTree.from_digests(GOOD, KIND_RECORD)
    with pytest.raises(AttributeError):
        tree.root = tree.root  # type: ignore[misc]
    with pytest.raises(AttributeError):
        tree.extra = 1  # type: ignore[attr-defined]


@pytest.mark.parametrize("kind", [0, 3, 255, -1])
def test_unknown_leaf_kind_is_refused(kind: int) -> None:
    """Only the kinds the protocol defines (1 file, 2 record) make leaves."""
    with pytest.raises(InvalidInput, match=r"kind: leaf kind must be one of \(1, 2\)"):
        leaf_hash(kind, GOOD[0])
    with pytest.raises(InvalidInput, match=r"kinds: leaf kind must be one of"):
        MerkleTree.from_digests(GOOD, kind)
    with pytest.raises(InvalidInput, match=r"kinds\[1\]: leaf kind must be one of"):
        MerkleTree.from_digests(GOOD, [KIND_FILE, kind, KIND_RECORD])


@pytest.mark.parametrize("kind", [True, 1.0])
def test_lookalike_kind_is_refused_by_leaf_hash(kind: object) -> None:
    with pytest.raises(InvalidInput, match=r"kind: leaf kind must be one of"):
        leaf_hash(kind, GOOD[0])  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", [True, 1.0])
def test_lookalike_kind_in_a_list_is_refused(kind: object) -> None:
    with pytest.raises(InvalidInput, match=r"kinds\[1\]: leaf kind must be one of"):
        MerkleTree.from_digests(GOOD, [KIND_FILE, kind, KIND_RECORD])  # type: ignore[list-item]


@pytest.mark.parametrize("kinds", [1.0, "1", None, b"\x01"])
def test_lookalike_single_kind_is_refused(kinds: object) -> None:
    with pytest.raises(InvalidInput, match="kind"):
        MerkleTree.from_digests(GOOD, kinds)  # type: ignore[arg-type]


def test_one_kind_per_digest() -> None:
    with pytest.raises(InvalidInput, match="kinds: 2 kinds for 3 digests"):
        MerkleTree.from_digests(GOOD, [KIND_FILE, KIND_RECORD])


def test_one_kind_for_all_equals_the_kind_repeated() -> None:
    assert (
        MerkleTree.from_digests(GOOD, KIND_FILE).root
        == MerkleTree.from_digests(GOOD, [KIND_FILE] * 3).root
    )
