"""Helpers shared by the receipt tests (a uniquely named module: conftest is not importable)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from registry.keys import public_key_bytes, sign_root, signing_key_from_seed
from registry.merkle import MerkleTree
from registry.receipt import KIND_CODES, Receipt, build_receipt

ROOT_DIR = Path(__file__).resolve().parents[2]
REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
AGENCY = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
TEST_KEY = signing_key_from_seed(b"\x01" * 32)  # TEST ONLY


def make_receipt(
    *,
    count: int = 5,
    index: int = 3,
    kind: str = "file",
    chain_id: int = 31337,
    registry: str = REGISTRY,
    agency: str = AGENCY,
    anchored_at: int = 1_795_428_000,
    salt: bytes = b"",
) -> Receipt:
    """A valid receipt for record ``index`` of a batch of ``count`` distinct digests."""
    digests = [hashlib.sha256(salt + i.to_bytes(4, "big")).digest() for i in range(count)]
    tree = MerkleTree.from_digests(digests, KIND_CODES[kind])
    return build_receipt(
        digest=digests[index],
        digest_kind=kind,  # type: ignore[arg-type]
        root=tree.root,
        proof=tree.proof(index),
        count=count,
        chain_id=chain_id,
        registry=registry,
        agency=agency,
        block_number=42,
        anchored_at=anchored_at,
        public_key=public_key_bytes(TEST_KEY),
        signature=sign_root(
            TEST_KEY, chain_id=chain_id, registry=registry, agency=agency, root=tree.root
        ),
    )
