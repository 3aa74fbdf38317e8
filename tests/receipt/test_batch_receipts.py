"""build_batch_receipts gives exactly what build_receipt gives, record by record."""

from __future__ import annotations

import hashlib

import pytest

from registry import keys, merkle
from registry.errors import InvalidInput
from registry.receipt import KIND_CODES, build_batch_receipts, build_receipt, check_receipt_offline

REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
AGENCY = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


@pytest.mark.parametrize("count", [1, 2, 7, 100])
def test_batch_receipts_equal_single_receipts(count):
    digests = [hashlib.sha256(f"r{i}".encode()).digest() for i in range(count)]
    kinds = ["file" if i % 2 else "record" for i in range(count)]
    tree = merkle.MerkleTree.from_digests(digests, [KIND_CODES[k] for k in kinds])
    key = keys.signing_key_from_seed(b"\x09" * 32)
    sig = keys.sign_root(key, chain_id=31337, registry=REGISTRY, agency=AGENCY, root=tree.root)
    shared = dict(
        root=tree.root,
        chain_id=31337,
        registry=REGISTRY,
        agency=AGENCY,
        block_number=7,
        anchored_at=1_800_000_000,
        public_key=keys.public_key_bytes(key),
        signature=sig,
    )
    fast = build_batch_receipts(digests=digests, kinds=kinds, proofs=tree.all_proofs(), **shared)
    slow = [
        build_receipt(digest=d, digest_kind=k, proof=tree.proof(i), count=count, **shared)
        for i, (d, k) in enumerate(zip(digests, kinds, strict=True))
    ]
    assert fast == slow
    assert all(c.status in ("pass", "skip") for r in fast for c in check_receipt_offline(r))


def test_batch_receipts_reject_mismatched_lengths():
    with pytest.raises(InvalidInput, match="equal, non-zero lengths"):
        build_batch_receipts(
            digests=[b"\x00" * 32],
            kinds=[],
            proofs=[[]],
            root=b"\x01" * 32,
            chain_id=1,
            registry=REGISTRY,
            agency=AGENCY,
            block_number=1,
            anchored_at=1,
            public_key=b"\x02" * 32,
            signature=b"\x03" * 64,
        )
