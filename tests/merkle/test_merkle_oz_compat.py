"""registry.merkle gives OpenZeppelin's StandardMerkleTree(["uint8", "bytes32"]) roots and proofs
exactly, over (kind, digest) pairs (protocol v2 kind-bound leaves)."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry.merkle import (
    KIND_FILE,
    KIND_RECORD,
    MerkleTree,
    leaf_hash,
    verify_multiproof,
    verify_proof,
)

pytestmark = pytest.mark.npm

OzCase = tuple[Sequence[bytes], Sequence[int], Sequence[int]]  # digests, kinds, indices
OzTrees = Callable[[Sequence[OzCase]], list[dict[str, Any]]]  # the oz_trees fixture


def hex32(value: bytes) -> str:
    return "0x" + value.hex()


FIXED_SIZES = [1, 2, 3, 7, 8, 1000]


def assert_matches_oz(
    digests: Sequence[bytes], kinds: Sequence[int], indices: Sequence[int], oz: dict[str, Any]
) -> None:
    """Root, every leaf, every proof and the multiproof all equal OZ's."""
    tree = MerkleTree.from_digests(digests, kinds)
    assert hex32(tree.root) == oz["root"]
    assert [hex32(tree.leaf(i)) for i in range(tree.count)] == oz["leaves"]
    proofs = tree.all_proofs()
    assert [[hex32(node) for node in proof] for proof in proofs] == oz["proofs"]
    for i in {0, len(digests) // 2, len(digests) - 1}:
        assert [hex32(node) for node in tree.proof(i)] == oz["proofs"][i]
    multiproof = tree.multiproof(indices)
    expected = oz["multiproof"]
    assert [hex32(leaf) for leaf in multiproof.leaves] == expected["leafHashes"]
    # OZ's StandardMerkleTree returns the (kind, digest) values behind those leaves, in order.
    assert [hex32(leaf) for leaf in multiproof.leaves] == [
        hex32(leaf_hash(k, bytes.fromhex(d[2:]))) for k, d in expected["leaves"]
    ]
    assert [hex32(node) for node in multiproof.proof] == expected["proof"]
    assert list(multiproof.proof_flags) == expected["proofFlags"]


def fixed_cases() -> list[OzCase]:
    """Sizes around powers of two with mixed kinds, duplicates, and one digest under both
    kinds, with a deterministic index pick."""
    rng = random.Random(20240601)
    cases: list[OzCase] = []
    for size in FIXED_SIZES:
        digests = [hashlib.sha256(f"{size}/{i}".encode()).digest() for i in range(size)]
        kinds = [rng.choice((KIND_FILE, KIND_RECORD)) for _ in range(size)]
        indices = rng.sample(range(size), k=min(size, 1 + size // 3))
        cases.append((digests, kinds, indices))
    dup = [hashlib.sha256(str(i % 3).encode()).digest() for i in range(10)]
    cases.append((dup, [KIND_RECORD] * 10, [0, 3, 6, 9, 1]))
    cases.append(([dup[0]] * 4, [KIND_FILE, KIND_RECORD, KIND_FILE, KIND_RECORD], [2, 1]))
    return cases


@pytest.fixture(scope="module")
def fixed_results(oz_trees: OzTrees) -> list[tuple[OzCase, dict[str, Any]]]:
    cases = fixed_cases()
    return list(zip(cases, oz_trees(cases), strict=True))


@pytest.mark.parametrize("case", range(len(fixed_cases())))
def test_fixed_trees_match_oz(
    fixed_results: list[tuple[OzCase, dict[str, Any]]], case: int
) -> None:
    (digests, kinds, indices), oz = fixed_results[case]
    assert_matches_oz(digests, kinds, indices, oz)


def test_empty_and_full_multiproofs_match_oz(oz_trees: OzTrees) -> None:
    digests = [hashlib.sha256(bytes([i])).digest() for i in range(6)]
    kinds = [KIND_FILE, KIND_RECORD] * 3
    empty, full = oz_trees([(digests, kinds, []), (digests, kinds, list(range(6))[::-1])])
    assert_matches_oz(digests, kinds, [], empty)
    assert_matches_oz(digests, kinds, list(range(6))[::-1], full)


def test_oz_leaves_differ_by_kind(oz_trees: OzTrees) -> None:
    """OZ itself gives a digest different leaves under kind 1 and kind 2, and so do we."""
    digest = hashlib.sha256(b"same 32 bytes").digest()
    (oz,) = oz_trees([([digest, digest], [KIND_FILE, KIND_RECORD], [])])
    assert oz["leaves"][0] != oz["leaves"][1]
    assert oz["leaves"] == [
        hex32(leaf_hash(KIND_FILE, digest)),
        hex32(leaf_hash(KIND_RECORD, digest)),
    ]


@st.composite
def batch(draw: st.DrawFn) -> OzCase:
    """Random digests (sometimes with repeats, which OZ allows) with random kinds, and indices
    to multiprove."""
    digests = draw(st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=70))
    if draw(st.booleans()):
        copies = draw(st.lists(st.sampled_from(digests), min_size=1, max_size=4))
        digests = draw(st.permutations(digests + copies))
    kinds = draw(
        st.lists(
            st.sampled_from((KIND_FILE, KIND_RECORD)), min_size=len(digests), max_size=len(digests)
        )
    )
    chosen = draw(st.sets(st.integers(0, len(digests) - 1)))
    return digests, kinds, draw(st.permutations(sorted(chosen)))


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(cases=st.lists(batch(), min_size=1, max_size=6))
def test_random_trees_match_oz(oz_trees: OzTrees, cases: list[OzCase]) -> None:
    for (digests, kinds, indices), oz in zip(cases, oz_trees(cases), strict=True):
        assert_matches_oz(digests, kinds, indices, oz)


def test_oz_proofs_verify_with_our_verifier(
    fixed_results: list[tuple[OzCase, dict[str, Any]]],
) -> None:
    """A proof made by OZ passes our verifier: the two sides agree in both directions."""
    (digests, kinds, _), oz = fixed_results[FIXED_SIZES.index(1000)]
    root = bytes.fromhex(oz["root"][2:])
    for i in range(0, len(digests), 97):
        proof = [bytes.fromhex(node[2:]) for node in oz["proofs"][i]]
        assert verify_proof(leaf=leaf_hash(kinds[i], digests[i]), proof=proof, root=root)
        other = KIND_FILE if kinds[i] == KIND_RECORD else KIND_RECORD
        assert not verify_proof(leaf=leaf_hash(other, digests[i]), proof=proof, root=root)
    tree = MerkleTree.from_digests(digests, kinds)
    assert verify_multiproof(root=root, multiproof=tree.multiproof(range(0, 1000, 7)))
