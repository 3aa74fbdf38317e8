"""Bulk issuing in bounded memory (issue 12): `issue_records` and `issue_stream` take any
iterable, read it a chunk at a time, never more than a few chunks ahead of what the store
holds, and keep nothing per record once its chunk is stored."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from issuing_helpers import make_issuer

from registry import keys
from registry.service import documents, sealing
from registry.service.issuing import issue_records, issue_stream
from registry.store import Store, counts_by_status


def certificate(i: int) -> dict[str, Any]:
    return {"type": "deed", "parcel": f"P-{i}", "owner": {"name": f"Owner {i}"}}


def stored(store: Store) -> int:
    with store.session() as session:
        return sum(counts_by_status(session).values())


def watched(store: Store, count: int, *, ahead: int) -> Iterator[dict[str, Any]]:
    """`count` records, failing the moment one is read more than `ahead` records beyond what
    the store holds: a job that materialised its input would read them all at once."""
    for i in range(count):
        held = stored(store)
        if i - held > ahead:
            raise AssertionError(f"record {i} read while the store holds only {held}")
        yield certificate(i)


def test_a_generator_is_read_one_chunk_ahead_of_the_store(chain_env, store):
    issuer = make_issuer(chain_env, store, batch_size=6)
    digests = issue_records(issuer, watched(store, 23, ahead=4), chunk=4)
    assert len(digests) == 23 and len(set(digests)) == 23
    assert digests == [
        d for d, _ in sealing.seal_chunk(issuer._salt_secret(), map(certificate, range(23)))
    ]
    with store.session() as session:
        assert counts_by_status(session)["anchored"] == 23
    assert issuer.pending_count() == 0 and issuer.unfinished() == []


def test_the_pool_reads_a_few_chunks_ahead_at_most(chain_env, store, monkeypatch):
    monkeypatch.setattr(sealing, "POOL_THRESHOLD", 5)  # the pool path with a small job
    issuer = make_issuer(chain_env, store, batch_size=10)
    with sealing.SealPool(1) as pool:
        # Two chunks in flight in the worker and one being stored: three chunks ahead at most.
        total = issue_stream(issuer, watched(store, 42, ahead=3 * 5), pool=pool, chunk=5)
    assert total == 42
    with store.session() as session:
        assert counts_by_status(session)["anchored"] == 42


def test_stream_reports_each_chunk_and_each_confirmed_batch(chain_env, store):
    issuer = make_issuer(chain_env, store, batch_size=10)
    chunks: list[list[bytes]] = []
    confirmed: list[int] = []
    receipts = 0

    def on_confirmed(batch_id: int) -> None:
        nonlocal receipts
        confirmed.append(batch_id)
        receipts += len(issuer.receipts(batch_id))  # ready as soon as it is reported

    total = issue_stream(
        issuer,
        (certificate(i) for i in range(25)),
        chunk=8,
        on_stored=chunks.append,
        on_confirmed=on_confirmed,
    )
    assert total == 25 and [len(c) for c in chunks] == [8, 8, 8, 1]
    assert confirmed == issuer.confirmed_batches() and len(confirmed) == 3
    assert receipts == 25


def test_a_bad_record_stops_the_job_with_what_came_before_stored(chain_env, store):
    issuer = make_issuer(chain_env, store, batch_size=4)
    records: list[Any] = [certificate(i) for i in range(6)] + [{"x": float("nan")}]
    with pytest.raises(ValueError):
        issue_records(issuer, iter(records), chunk=3)
    assert stored(store) == 6  # two whole chunks; the third held the bad record


def test_documents_are_sealed_and_encrypted_in_the_workers() -> None:
    """A bulk job's workers hand back each document already encrypted with the agency's data
    key (bound to its digest), the same document `seal_chunk` makes in clear."""
    secret, key = b"\x5a" * 32, keys.generate_data_key()
    data = [certificate(i) for i in range(6)]
    clear = sealing.seal_chunk(secret, data)
    with sealing.SealPool(1) as pool:
        stored = [item for part in pool.seal(secret, data, chunk=4, data_key=key) for item in part]
    assert [d for d, _ in stored] == [d for d, _ in clear]
    for (digest, document), (_, plain) in zip(stored, clear, strict=True):
        assert documents.is_encrypted(document)
        assert documents.decrypt_document(data_key=key, digest=digest, stored=document) == plain
