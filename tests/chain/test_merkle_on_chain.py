"""registry.merkle proofs (kind-bound leaves) pass the registry's on-chain check()
(OpenZeppelin MerkleProof), and a leaf of the other kind does not."""

from __future__ import annotations

import hashlib

import pytest

from registry import merkle


@pytest.mark.parametrize("size", [1, 2, 3, 7, 8, 1000])
def test_every_sampled_proof_passes_check_on_chain(chain_env, size):
    digests = [hashlib.sha256(f"record {size}/{i}".encode()).digest() for i in range(size)]
    kinds = [merkle.KIND_FILE if i % 3 == 0 else merkle.KIND_RECORD for i in range(size)]
    tree = merkle.MerkleTree.from_digests(digests, kinds)
    agency = chain_env.agency_a.address
    chain_env.registry.anchor(chain_env.agency_a, root=tree.root, leaf_count=tree.count)
    indices = range(size) if size <= 8 else [0, 1, 499, 500, 998, 999]
    for i in indices:
        leaf = merkle.leaf_hash(kinds[i], digests[i])
        result = chain_env.registry.check(
            agency=agency, leaf=leaf, proof=tree.proof(i), root=tree.root
        )
        assert result.included, f"index {i} of {size}"
        assert result.anchor.leaf_count == size
    if size > 1:  # a proof for another index does not pass
        wrong = chain_env.registry.check(
            agency=agency,
            leaf=merkle.leaf_hash(kinds[0], digests[0]),
            proof=tree.proof(1),
            root=tree.root,
        )
        assert not wrong.included


def test_digest_under_the_other_kind_is_not_included_on_chain(chain_env):
    """A file's digest anchored as kind 1 does not verify as a record (kind 2), nor the
    reverse: the kind is bound into the leaf the contract checks."""
    digests = [hashlib.sha256(f"kind {i}".encode()).digest() for i in range(4)]
    kinds = [merkle.KIND_FILE, merkle.KIND_RECORD, merkle.KIND_FILE, merkle.KIND_RECORD]
    tree = merkle.MerkleTree.from_digests(digests, kinds)
    reg, agency = chain_env.registry, chain_env.agency_a.address
    reg.anchor(chain_env.agency_a, root=tree.root, leaf_count=4)
    for i, kind in enumerate(kinds):
        other = merkle.KIND_RECORD if kind == merkle.KIND_FILE else merkle.KIND_FILE
        right = reg.check(
            agency=agency,
            leaf=merkle.leaf_hash(kind, digests[i]),
            proof=tree.proof(i),
            root=tree.root,
        )
        wrong = reg.check(
            agency=agency,
            leaf=merkle.leaf_hash(other, digests[i]),
            proof=tree.proof(i),
            root=tree.root,
        )
        assert right.included and not wrong.included
    # the bare v1 leaf keccak256(keccak256(digest)) is no leaf of a v2 tree either
    v1_leaf = merkle.keccak256(merkle.keccak256(digests[0]))
    assert not reg.check(agency=agency, leaf=v1_leaf, proof=tree.proof(0), root=tree.root).included
