"""The one sealing path (registry.service.sealing) and the one receipt path
(registry.service.receipts): every caller gets the same digests, documents and receipts."""

from __future__ import annotations

import json

import pytest

from registry import record
from registry.merkle import KIND_FILE, KIND_RECORD, MerkleTree
from registry.receipt import build_receipt
from registry.service import sealing
from registry.service.receipts import (
    AnchoredBatch,
    BatchTrees,
    batch_receipts,
    batch_tree,
    record_receipt,
)

SECRET = b"\x5a" * 32
REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
AGENCY = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


def records(count: int) -> list[dict[str, object]]:
    return [{"n": i, "name": {"given": f"Ana {i}"}} for i in range(count)]


def test_every_bulk_path_seals_like_one_record_at_a_time() -> None:
    data = records(12)
    one_by_one = [
        (bytes(d.digest), record.sealed_json_bytes(d).decode())
        for d in (sealing.seal_with_secret(SECRET, r) for r in data)
    ]
    assert sealing.seal_chunk(SECRET, data) == one_by_one
    assert sealing.seal_each(SECRET, data) == one_by_one
    chunks = list(sealing.sealed_chunks(SECRET, data, chunk=5))
    assert [len(c) for c in chunks] == [5, 5, 2]
    assert [item for chunk in chunks for item in chunk] == one_by_one
    # Deterministic salts: the same record sealed again is the same document.
    assert sealing.seal_each(SECRET, data[:1]) == one_by_one[:1]


def test_a_bad_record_is_refused_by_its_index() -> None:
    data: list[object] = [*records(3), [1, 2], {"x": float("nan")}]
    with pytest.raises(sealing.RecordRejected) as caught:
        sealing.seal_each(SECRET, data)
    assert caught.value.index == 3 and caught.value.cause is None
    assert str(caught.value) == "records[3]: expected a JSON object (a record)"

    with pytest.raises(sealing.RecordRejected) as caught:
        sealing.seal_each(SECRET, data[:3] + data[4:])
    assert caught.value.index == 3
    assert isinstance(caught.value.cause, record.RecordError)

    big = {"text": "x" * 100}
    size = len(json.dumps(big, separators=(",", ":")).encode())
    with pytest.raises(sealing.RecordRejected, match=rf"^records\[1\]: record is {size} bytes"):
        sealing.seal_each(SECRET, [records(1)[0], big], max_record_bytes=size - 1)
    assert len(sealing.seal_each(SECRET, [big], max_record_bytes=size)) == 1


def test_the_pool_seals_what_this_process_seals() -> None:
    data = records(30)
    with sealing.SealPool(1) as pool:
        pooled = [item for part in pool.seal(SECRET, data, chunk=7) for item in part]
    assert pooled == sealing.seal_chunk(SECRET, data)


def test_receipts_of_a_batch_and_of_one_record_are_the_same() -> None:
    leaves = [(bytes([i]) * 32, "record" if i % 2 else "file") for i in range(1, 6)]
    tree = batch_tree(leaves)
    assert (
        tree.root
        == MerkleTree.from_digests(
            [d for d, _ in leaves], [KIND_RECORD if k == "record" else KIND_FILE for _, k in leaves]
        ).root
    )

    class Registry:
        chain_id = 31337
        address = REGISTRY

    anchored = AnchoredBatch(
        root=tree.root,
        count=tree.count,
        block_number=7,
        anchored_at=1_700_000_000,
        public_key=b"\x01" * 32,
        signature=b"\x02" * 64,
    )
    registry = Registry()
    every = batch_receipts(registry, anchored, agency=AGENCY, leaves=leaves, tree=tree)  # type: ignore[arg-type]
    for index, (digest, kind) in enumerate(leaves):
        one = record_receipt(
            registry,  # type: ignore[arg-type]
            anchored,
            agency=AGENCY,
            digest=digest,
            kind=kind,
            proof=tree.proof(index),
        )
        assert one == every[index]
        assert one == build_receipt(
            digest=digest,
            digest_kind=kind,  # type: ignore[arg-type]
            root=tree.root,
            proof=tree.proof(index),
            count=tree.count,
            chain_id=31337,
            registry=REGISTRY,
            agency=AGENCY,
            block_number=7,
            anchored_at=1_700_000_000,
            public_key=b"\x01" * 32,
            signature=b"\x02" * 64,
        )


def test_batch_trees_keep_the_most_recently_used() -> None:
    trees = BatchTrees(2)
    made = {n: batch_tree([(bytes([n]) * 32, "file")]) for n in (1, 2, 3)}
    trees.put(1, made[1])
    trees.put(2, made[2])
    assert trees.get(1) is made[1]  # 1 is now the most recent
    trees.put(3, made[3])
    assert trees.get(2) is None and trees.get(1) is made[1] and trees.get(3) is made[3]
