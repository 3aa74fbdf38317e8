"""seal_records (in-process and with worker processes) and sealed_json_bytes."""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

import registry.record as record_module
import registry.service.sealing as sealing_module
from registry.errors import InvalidInput
from registry.keys import public_key_bytes, sign_root, signing_key_from_seed
from registry.merkle import KIND_RECORD, MerkleTree
from registry.receipt import build_receipt
from registry.record import (
    EmptyRecord,
    NonFiniteNumber,
    NotAnObject,
    SealedDocument,
    UnsafeInteger,
    attach_receipt,
    parse_sealed_document,
    redact,
    seal_record,
    sealed_json_bytes,
    to_json,
    verify_document,
)
from registry.service.sealing import seal_records

REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
AGENCY = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


def make_records(count: int) -> list[dict[str, Any]]:
    places = ["Tallinn", "Tartu", "Pärnu"]
    return [
        {
            "type": "BirthCertificate",
            "name": {"given": f"Given{i % 7}", "family": f"Family{i}"},
            "born": f"2026-01-{i % 28 + 1:02d}",
            "place": places[i % 3],
            "parents": [f"Parent {i}", f"Parent {i + 1}"][: i % 3],  # [] and shorter lists too
            "registry_no": f"B-2026-{i:06d}",
            "extra": {} if i % 5 == 0 else {"n": i, "x": i / 7, "ok": i % 2 == 0, "none": None},
        }
        for i in range(count)
    ]


def salts_of(doc: SealedDocument) -> Any:
    """A salt_source replaying a document's salts in order."""
    salts: Iterator[str] = iter(doc.salts.values())
    return lambda n: bytes.fromhex(next(salts)[2:])


def assert_same_as_seal_record(
    records: Sequence[dict[str, Any]], docs: list[SealedDocument]
) -> None:
    """Each document is what seal_record makes of its record with the same salts."""
    assert len(docs) == len(records)
    for record, doc in zip(records, docs, strict=True):
        again = seal_record(record, salt_source=salts_of(doc))
        assert doc == again  # data, salts (in order), redacted, digest, receipt
        assert list(doc.salts) == list(again.salts)
        assert doc._leaves == again._leaves
        assert doc.data is not record
        assert verify_document(doc) == doc.digest


@pytest.fixture
def small_pool_threshold(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Use the worker pool from 10 records on; stop the pool afterwards."""
    monkeypatch.setattr(sealing_module, "HASH_POOL_THRESHOLD", 10)
    monkeypatch.setattr(record_module, "_CHUNK_RECORDS", 7)  # several chunks in flight
    yield
    sealing_module.drop_shared_pool()


def test_in_process_matches_seal_record() -> None:
    records = make_records(2500)
    docs = seal_records(records, workers=1)
    assert_same_as_seal_record(records, docs)
    assert [d.data for d in docs] == records


def test_small_batches_stay_in_process_whatever_workers_says() -> None:
    records = make_records(50)
    assert_same_as_seal_record(records, seal_records(records, workers=4))
    assert seal_records([], workers=2) == []


def test_pooled_matches_seal_record(small_pool_threshold: None) -> None:
    records = make_records(300)
    docs = seal_records(records, workers=2)
    assert sealing_module._shared is not None  # the pool was really used
    assert_same_as_seal_record(records, docs)
    assert [d.data for d in docs] == records
    assert len({s for d in docs for s in d.salts.values()}) == sum(len(d.salts) for d in docs)
    # The kept pool serves the next call too.
    assert_same_as_seal_record(records[:50], seal_records(records[:50], workers=2))


@pytest.mark.parametrize("workers", [1, 2])
def test_errors_name_the_record_index(workers: int, small_pool_threshold: None) -> None:
    records: list[Any] = make_records(60)
    records[17] = {**records[17], "name": {"given": float("nan")}}
    records[40] = {"n": 2**60}  # later: the first bad record is reported
    with pytest.raises(NonFiniteNumber) as caught:
        seal_records(records, workers=workers)
    assert str(caught.value) == (
        "records[17]/name/given: number nan is not finite (too large for a double or NaN)"
    )
    assert caught.value.path == "/name/given"
    assert caught.value.record_index == 17

    records[17] = make_records(18)[17]
    with pytest.raises(UnsafeInteger, match=r"^records\[40\]/n: integer 1152921504606846976 "):
        seal_records(records, workers=workers)


def test_top_level_errors_name_the_record_index() -> None:
    with pytest.raises(NotAnObject) as caught:
        seal_records([{"a": 1}, [1, 2]])  # type: ignore[list-item]
    assert str(caught.value) == "records[1]: a record is a JSON object, got array"
    assert caught.value.path == ""
    with pytest.raises(EmptyRecord, match=r"^records\[0\]: the record has no fields$"):
        seal_records([{}])


@pytest.mark.parametrize("workers", [0, -1, 1.5, True, "2"])
def test_workers_must_be_a_positive_integer(workers: Any) -> None:
    with pytest.raises(InvalidInput, match="workers must be a positive integer"):
        seal_records([{"a": 1}], workers=workers)


def test_garbage_collector_state_is_restored() -> None:
    assert gc.isenabled()
    seal_records(make_records(3))
    assert gc.isenabled()
    with pytest.raises(NotAnObject):
        seal_records([1])  # type: ignore[list-item]
    assert gc.isenabled()
    gc.disable()
    try:
        seal_records(make_records(3))
        assert not gc.isenabled()
    finally:
        gc.enable()


# --------------------------------------------------------------------------- sealed_json_bytes


def _anchored(doc: SealedDocument) -> SealedDocument:
    tree = MerkleTree.from_digests([doc.digest], KIND_RECORD)
    key = signing_key_from_seed(b"\x01" * 32)
    receipt = build_receipt(
        digest=doc.digest,
        digest_kind="record",
        root=tree.root,
        proof=tree.proof(0),
        count=1,
        chain_id=31337,
        registry=REGISTRY,
        agency=AGENCY,
        block_number=7,
        anchored_at=1_800_000_000,
        public_key=public_key_bytes(key),
        signature=sign_root(key, chain_id=31337, registry=REGISTRY, agency=AGENCY, root=tree.root),
    )
    return attach_receipt(doc, receipt)


def test_sealed_json_bytes_is_compact_to_json() -> None:
    record = {"name": 'Tõnu 😀 "q"', "n": 1.5, "big": 2**53 - 1, "e": {}, "l": [None, True]}
    plain = seal_record(record)
    for doc in (plain, _anchored(plain), redact(_anchored(plain), ["/n", "/l/0"])):
        text = sealed_json_bytes(doc)
        assert text == json.dumps(to_json(doc), separators=(",", ":")).encode()
        assert text.isascii()
        assert parse_sealed_document(text) == doc
        assert json.loads(text) == to_json(doc)
