"""Fixed vectors, computed with @openzeppelin/merkle-tree 1.0.8, so a regression is obvious."""

from __future__ import annotations

import hashlib

from registry.merkle import MerkleTree, keccak256, leaf_hash, verify_multiproof

# sha256(b"record 0") .. sha256(b"record 4"): five leaves, so the tree is unbalanced.
DIGESTS = [hashlib.sha256(f"record {i}".encode()).digest() for i in range(5)]
ROOT = "0xa23057d75a2c013798dba60de21d1b1dabcf26a1ec28f27681d3dac76843861c"
LEAF_0 = "0xe99addac328023c58f09190fa34a9b7476b1e90670666e46bb0f3188c40a4bb3"
PROOF_1 = [
    "0x745145d73af9eab61b87344ce989925fabc1139f2f0ac2141a9613ff76caf2a4",
    "0xe99addac328023c58f09190fa34a9b7476b1e90670666e46bb0f3188c40a4bb3",
    "0xf4b3907597a440a982189911c95b292ab501246cf649c33e5afa703f8a42a501",
]
PROOF_2 = [
    "0x9eff4f3e0d47167085ff69da910c7efd9e14a5b24f5dbca11de28955576e6e5f",
    "0xfee84d2a93727ebcf111423b6269e57264c86ee7227e9751f627ec299ea60a82",
]
MULTIPROOF_1_3 = {
    "leaves": [
        "0x6e526ed4b2497ecd3a73e7f0f318227bf1acd6c90d29cf8fd214241d329d8a2c",
        "0x9eff4f3e0d47167085ff69da910c7efd9e14a5b24f5dbca11de28955576e6e5f",
    ],
    "proof": [
        "0x745145d73af9eab61b87344ce989925fabc1139f2f0ac2141a9613ff76caf2a4",
        "0xc4fabec84ecaac199bd7ff7de0efdb5f0ed315793a4063c7130c1d824aa41027",
        "0xe99addac328023c58f09190fa34a9b7476b1e90670666e46bb0f3188c40a4bb3",
    ],
    "proof_flags": [False, False, False, True],
}


def hex32(value: bytes) -> str:
    return "0x" + value.hex()


def test_keccak256_is_ethereum_keccak_not_sha3() -> None:
    assert keccak256(b"").hex() == (
        "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    )
    assert keccak256(b"").hex() != hashlib.sha3_256(b"").hexdigest()


def test_leaf_is_double_keccak_of_digest() -> None:
    assert hex32(leaf_hash(DIGESTS[0])) == LEAF_0
    assert leaf_hash(DIGESTS[0]) == keccak256(keccak256(DIGESTS[0]))


def test_known_root_and_proofs() -> None:
    tree = MerkleTree.from_digests(DIGESTS)
    assert hex32(tree.root) == ROOT
    assert tree.count == 5
    assert [hex32(node) for node in tree.proof(1)] == PROOF_1
    assert [hex32(node) for node in tree.proof(2)] == PROOF_2


def test_known_multiproof() -> None:
    tree = MerkleTree.from_digests(DIGESTS)
    multiproof = tree.multiproof([1, 3])
    assert [hex32(leaf) for leaf in multiproof.leaves] == MULTIPROOF_1_3["leaves"]
    assert [hex32(node) for node in multiproof.proof] == MULTIPROOF_1_3["proof"]
    assert list(multiproof.proof_flags) == MULTIPROOF_1_3["proof_flags"]
    assert verify_multiproof(root=tree.root, multiproof=multiproof)
