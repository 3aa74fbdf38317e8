"""registry.merkle proofs pass the registry's on-chain check() (OpenZeppelin MerkleProof)."""

from __future__ import annotations

import hashlib

import pytest

from registry import merkle


@pytest.mark.parametrize("size", [1, 2, 3, 7, 8, 1000])
def test_every_sampled_proof_passes_check_on_chain(chain_env, size):
    digests = [hashlib.sha256(f"record {size}/{i}".encode()).digest() for i in range(size)]
    tree = merkle.MerkleTree.from_digests(digests)
    chain_env.registry.anchor(chain_env.agency_a, root=tree.root, leaf_count=tree.count)
    indices = range(size) if size <= 8 else [0, 1, 499, 500, 998, 999]
    for i in indices:
        leaf = merkle.leaf_hash(digests[i])
        result = chain_env.registry.check(leaf=leaf, proof=tree.proof(i), root=tree.root)
        assert result.included, f"index {i} of {size}"
        assert result.anchor.leaf_count == size
    if size > 1:  # a proof for another index does not pass
        wrong = chain_env.registry.check(
            leaf=merkle.leaf_hash(digests[0]), proof=tree.proof(1), root=tree.root
        )
        assert not wrong.included
