"""Fixed vectors, computed with @openzeppelin/merkle-tree 1.0.8 (StandardMerkleTree over
["uint8", "bytes32"], protocol v2 kind-bound leaves), so a regression is obvious."""

from __future__ import annotations

import hashlib

from eth_abi import encode

from registry.merkle import (
    KIND_FILE,
    KIND_RECORD,
    MerkleTree,
    keccak256,
    leaf_hash,
    verify_multiproof,
)

# sha256(b"record 0") .. sha256(b"record 4"): five leaves, so the tree is unbalanced.
DIGESTS = [hashlib.sha256(f"record {i}".encode()).digest() for i in range(5)]
KINDS = [KIND_RECORD, KIND_FILE, KIND_RECORD, KIND_FILE, KIND_RECORD]
ROOT = "0xfe3c95f588232fab4490ac9483b3e3d8368199cc5ac52f31238977e9a86580cc"
LEAF_0 = "0x1fff7dc192a243c87249d4b59d5d76aab3ccd3c2e0cbc714020dafef1ab5ba8d"
# the same digest as a file (kind 1)
LEAF_0_AS_FILE = "0x947df42b082dcaf83348bdfb3588c38394b93627ffe77e880f788f0598952abb"
PROOF_1 = [
    "0x41bf41545ecf5065c4e27afa8b4b0e1e6df40cc120b938f931775d17b4145a5f",
    "0xd99f9c6de6dbc20c5981c09010eecaaf08ac1df6d7aa4a272e78641d6345d2c7",
]
PROOF_4 = [
    "0x1fff7dc192a243c87249d4b59d5d76aab3ccd3c2e0cbc714020dafef1ab5ba8d",
    "0xa5e6621ab263b1e421805a54a861175696a9af5862a2e14973967519975c74d6",
    "0xff9135b55c4cdd6e48df10ec7850c147d37824ef2c0148a36f8cf1f6c35ae693",
]
MULTIPROOF_1_3 = {
    "leaves": [
        "0x6ea7d02049339e195512f2a9e619e689564c35cd8613c326ef3b24924893fad6",
        "0xa5e6621ab263b1e421805a54a861175696a9af5862a2e14973967519975c74d6",
    ],
    "proof": [
        "0x41bf41545ecf5065c4e27afa8b4b0e1e6df40cc120b938f931775d17b4145a5f",
        "0x6dc76ff30b657f43518c36c95840ff6138e71584763b39798b8293ef1d35274a",
    ],
    "proof_flags": [False, False, True],
}


def hex32(value: bytes) -> str:
    return "0x" + value.hex()


def test_keccak256_is_ethereum_keccak_not_sha3() -> None:
    assert keccak256(b"").hex() == (
        "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    )
    assert keccak256(b"").hex() != hashlib.sha3_256(b"").hexdigest()


def test_leaf_is_double_keccak_of_abi_encoded_kind_and_digest() -> None:
    assert hex32(leaf_hash(KIND_RECORD, DIGESTS[0])) == LEAF_0
    assert hex32(leaf_hash(KIND_FILE, DIGESTS[0])) == LEAF_0_AS_FILE
    for kind in (KIND_FILE, KIND_RECORD):
        encoded = encode(["uint8", "bytes32"], [kind, DIGESTS[0]])
        assert encoded == kind.to_bytes(32, "big") + DIGESTS[0]
        assert leaf_hash(kind, DIGESTS[0]) == keccak256(keccak256(encoded))


def test_same_digest_under_kind_1_and_kind_2_gives_different_leaves() -> None:
    """The digest-kind confusion of issue 9 (item 1) ends at the leaf: a file's digest and a
    record's digest with the same 32 bytes are different leaves, so neither proof serves the
    other."""
    for digest in DIGESTS:
        assert leaf_hash(KIND_FILE, digest) != leaf_hash(KIND_RECORD, digest)
        assert leaf_hash(KIND_FILE, digest) != keccak256(keccak256(digest))  # nor the v1 leaf
    as_files = MerkleTree.from_digests(DIGESTS, KIND_FILE)
    as_records = MerkleTree.from_digests(DIGESTS, KIND_RECORD)
    assert as_files.root != as_records.root


def test_known_root_and_proofs() -> None:
    tree = MerkleTree.from_digests(DIGESTS, KINDS)
    assert hex32(tree.root) == ROOT
    assert tree.count == 5
    assert hex32(tree.leaf(0)) == LEAF_0
    assert [hex32(node) for node in tree.proof(1)] == PROOF_1
    assert [hex32(node) for node in tree.proof(4)] == PROOF_4


def test_known_multiproof() -> None:
    tree = MerkleTree.from_digests(DIGESTS, KINDS)
    multiproof = tree.multiproof([1, 3])
    assert [hex32(leaf) for leaf in multiproof.leaves] == MULTIPROOF_1_3["leaves"]
    assert [hex32(node) for node in multiproof.proof] == MULTIPROOF_1_3["proof"]
    assert list(multiproof.proof_flags) == MULTIPROOF_1_3["proof_flags"]
    assert verify_multiproof(root=tree.root, multiproof=multiproof)
