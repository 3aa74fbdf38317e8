"""Bad input to registry.merkle fails with InvalidInput and a message that says what is wrong."""

from __future__ import annotations

import pytest

from registry.errors import InvalidInput, InvalidProof
from registry.merkle import MerkleTree, leaf_hash, verify_multiproof, verify_proof

GOOD = [bytes([i]) * 32 for i in range(3)]


def test_empty_tree_is_refused() -> None:
    with pytest.raises(InvalidInput, match="no digests"):
        MerkleTree.from_digests([])


@pytest.mark.parametrize("size", [0, 20, 31, 33, 64])
def test_wrong_digest_length_is_refused(size: int) -> None:
    with pytest.raises(InvalidInput, match=rf"digest must be 32 bytes, got {size}"):
        leaf_hash(b"\x00" * size)
    with pytest.raises(InvalidInput, match=rf"digests\[1\] must be 32 bytes, got {size}"):
        MerkleTree.from_digests([GOOD[0], b"\x00" * size, GOOD[2]])


def test_hex_string_digest_is_refused() -> None:
    """A hex string is not a digest, even at a length that happens to be 32."""
    with pytest.raises(InvalidInput, match=r"digests\[0\] must be bytes, got str"):
        MerkleTree.from_digests(["ab" * 16])  # type: ignore[list-item]


@pytest.mark.parametrize("index", [-1, 3, 1000])
def test_index_out_of_range_is_refused(index: int) -> None:
    tree = MerkleTree.from_digests(GOOD)
    message = rf"leaf index {index} out of range for a tree of 3 leaves"
    with pytest.raises(InvalidInput, match=message):
        tree.proof(index)
    with pytest.raises(InvalidInput, match=message):
        tree.leaf(index)
    with pytest.raises(InvalidInput, match=message):
        tree.multiproof([0, index])


def test_non_int_index_is_refused() -> None:
    tree = MerkleTree.from_digests(GOOD)
    with pytest.raises(InvalidInput, match="must be an int, got bool"):
        tree.proof(True)
    with pytest.raises(InvalidInput, match="must be an int, got str"):
        tree.proof("1")  # type: ignore[arg-type]


def test_repeated_multiproof_index_is_refused() -> None:
    with pytest.raises(InvalidInput, match="must not repeat"):
        MerkleTree.from_digests(GOOD).multiproof([1, 2, 1])


def test_malformed_verification_input_raises_rather_than_failing() -> None:
    """A wrong-length hash is malformed input (error), not a proof that fails (False)."""
    tree = MerkleTree.from_digests(GOOD)
    with pytest.raises(InvalidProof, match=r"leaf must be 32 bytes, got 31"):
        verify_proof(leaf=tree.leaf(0)[:31], proof=tree.proof(0), root=tree.root)
    with pytest.raises(InvalidProof, match=r"proof\[0\] must be 32 bytes"):
        verify_proof(leaf=tree.leaf(0), proof=[b""], root=tree.root)
    with pytest.raises(InvalidInput, match="root must be 32 bytes"):
        verify_proof(leaf=tree.leaf(0), proof=tree.proof(0), root=tree.root + b"\x00")
    with pytest.raises(InvalidInput, match="root must be 32 bytes"):
        verify_multiproof(root=b"", multiproof=tree.multiproof([0]))


def test_tree_is_read_only() -> None:
    tree = MerkleTree.from_digests(GOOD)
    with pytest.raises(AttributeError):
        tree.root = tree.root  # type: ignore[misc]
    with pytest.raises(AttributeError):
        tree.extra = 1  # type: ignore[attr-defined]
