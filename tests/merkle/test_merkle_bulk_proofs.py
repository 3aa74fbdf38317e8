"""all_proofs at sizes whose proofs go deeper than the levels it zips per leaf (trees of more
than 64 leaves: the shared upper part of each proof is built once per group of leaves), with
leaves at one and at two depths, duplicates and mixed kinds: always [proof(i) for i ...]."""

from __future__ import annotations

import hashlib

import pytest

from registry.merkle import KIND_FILE, KIND_RECORD, MerkleTree, leaf_hash, verify_proof


def digests(count: int, *, repeat_every: int = 0) -> list[bytes]:
    out = [hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(count)]
    if repeat_every:
        out = [out[i - i % repeat_every] if i % 7 == 3 else d for i, d in enumerate(out)]
    return out


@pytest.mark.parametrize("count", [1, 2, 63, 64, 65, 127, 128, 129, 1000, 4095, 4096, 4097, 9001])
def test_all_proofs_are_the_proofs_one_by_one(count: int) -> None:
    batch = digests(count)
    tree = MerkleTree.from_digests(batch, KIND_RECORD)
    proofs = tree.all_proofs()
    assert proofs == [tree.proof(i) for i in range(count)]
    for i in (0, count // 2, count - 1):
        leaf = leaf_hash(KIND_RECORD, batch[i])
        assert verify_proof(leaf=leaf, proof=proofs[i], root=tree.root)
    assert tree.leaves() == [leaf_hash(KIND_RECORD, d) for d in batch]


def test_all_proofs_with_duplicates_and_mixed_kinds() -> None:
    batch = digests(3000, repeat_every=5)
    kinds = [KIND_FILE if i % 3 else KIND_RECORD for i in range(len(batch))]
    tree = MerkleTree.from_digests(batch, kinds)
    assert tree.all_proofs() == [tree.proof(i) for i in range(len(batch))]


def test_every_proof_is_its_own_list() -> None:
    tree = MerkleTree.from_digests(digests(300), KIND_RECORD)
    proofs = tree.all_proofs()
    assert len({id(p) for p in proofs}) == len(proofs)
    proofs[0].append(b"\0" * 32)
    assert proofs[1] == tree.proof(1) and tree.all_proofs()[0] == tree.proof(0)
