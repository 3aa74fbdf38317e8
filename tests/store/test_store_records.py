"""Submitting, claiming and sealing records: idempotent, durable, atomic, never double-claimed."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from store_helpers import ADDRESS_A, digest

from registry.errors import InvalidInput, UnknownAgency
from registry.store import (
    ClaimLost,
    Record,
    Store,
    add_agency,
    add_records,
    batch_by_id,
    batch_by_root,
    batch_digests,
    claim_pending,
    counts_by_status,
    mark_anchored,
    mark_confirmed,
    pending_summary,
    read_journal,
    record_by_digest,
    records_of_batch,
    seal_batch,
)

SIG = b"\x5a" * 64
KEY = b"\xa1" * 32


def _items(numbers: range, kind: str = "file") -> list[tuple[bytes, str, str | None]]:
    return [(digest(n), kind, None) for n in numbers]


def _seal(store: Store, agency: int, limit: int, root: bytes) -> tuple[int, list[int]]:
    with store.session() as session:
        claimed = claim_pending(session, agency_id=agency, limit=limit)
        ids = [record_id for record_id, _, _ in claimed]
        batch = seal_batch(
            session,
            agency_id=agency,
            record_ids=ids,
            root=root,
            signature=SIG,
            public_key=KEY,
            leaf_count=len(ids),
        )
        return batch, ids


def test_submit_is_idempotent(store: Store, agencies: tuple[int, int]) -> None:
    a, _ = agencies
    with store.session() as session:
        first = add_records(session, agency_id=a, items=_items(range(3)))
        again = add_records(session, agency_id=a, items=_items(range(4)))
        repeated = add_records(session, agency_id=a, items=[(digest(9), "file", None)] * 3)
        counts = counts_by_status(session)
    assert len(first.new_ids) == 3 and first.existing_ids == []
    assert again.ids[:3] == first.ids and again.existing_ids == first.ids
    assert len(again.new_ids) == 1 and again.ids[3] == again.new_ids[0]
    assert len(set(repeated.ids)) == 1 and len(repeated.new_ids) == 1
    assert counts == {"pending": 5, "batched": 0, "anchored": 0, "revoked": 0}


def test_ids_follow_submission_order(store: Store, agencies: tuple[int, int]) -> None:
    a, _ = agencies
    with store.session() as session:
        result = add_records(session, agency_id=a, items=_items(range(50, 0, -1), "record"))
    assert result.ids == sorted(result.ids)


def test_digest_unique_per_agency(store: Store, agencies: tuple[int, int]) -> None:
    """Agency B submitting A's digest gets a record of its own: no refusal naming A, no
    squatting; each agency's submission stays idempotent; the public lookup finds the earliest
    anchored one, a lookup for an agency finds only its own."""
    a, b = agencies
    with store.session() as session:
        mine = add_records(session, agency_id=a, items=_items(range(3)))
        theirs = add_records(session, agency_id=b, items=_items(range(1, 2)) + _items(range(7, 8)))
        again = add_records(session, agency_id=b, items=_items(range(1, 2)))
    assert len(theirs.new_ids) == 2 and not set(theirs.ids) & set(mine.ids)
    assert again.existing_ids == [theirs.ids[0]] and again.new_ids == []
    with store.session() as session:
        assert counts_by_status(session, agency_id=b)["pending"] == 2
        assert counts_by_status(session, agency_id=a)["pending"] == 3
        own_b = record_by_digest(session, digest(1), agency_id=b)
        own_a = record_by_digest(session, digest(1), agency_id=a)
        assert own_b is not None and own_b.id == theirs.ids[0]
        assert own_a is not None and own_a.id == mine.ids[1]
        assert record_by_digest(session, digest(7), agency_id=a) is None
        public = record_by_digest(session, digest(1))
        assert public is not None and public.id == mine.ids[1]  # none anchored: the earliest
    # B's copy is anchored first: the public lookup now finds B's (the earliest anchored one).
    batch, _ = _seal(store, b, 2, b"\x0b" * 32)
    with store.session() as session:
        mark_anchored(session, batch, block_number=1, block_hash=b"\x01" * 32, anchored_at=1)
        mark_confirmed(session, batch, confirmations=1)
        public = record_by_digest(session, digest(1))
        assert public is not None and public.agency_id == b


def test_batch_root_unique_per_agency(store: Store, agencies: tuple[int, int]) -> None:
    a, b = agencies
    with store.session() as session:
        add_records(session, agency_id=a, items=_items(range(2)))
        add_records(session, agency_id=b, items=_items(range(2)))
    first, _ = _seal(store, a, 2, b"\x0c" * 32)
    second, _ = _seal(store, b, 2, b"\x0c" * 32)  # the same root in B's namespace
    with store.session() as session:
        found_b = batch_by_root(session, b"\x0c" * 32, agency_id=b)
        assert found_b is not None and found_b.id == second
        found = batch_by_root(session, b"\x0c" * 32)
        assert found is not None and found.id == first
        add_records(session, agency_id=a, items=_items(range(5, 7)))
    with pytest.raises(IntegrityError), store.session() as session:
        claimed = claim_pending(session, agency_id=a, limit=2)
        seal_batch(
            session,
            agency_id=a,
            record_ids=[i for i, *_ in claimed],
            root=b"\x0c" * 32,
            signature=SIG,
            public_key=KEY,
            leaf_count=2,
        )


def test_submission_is_durable_when_the_call_returns(
    store: Store, agencies: tuple[int, int]
) -> None:
    a, _ = agencies
    with pytest.raises(RuntimeError), store.session() as session:
        add_records(session, agency_id=a, items=_items(range(2), "record"))
        raise RuntimeError("the API crashes after the store answered")
    with store.session() as session:
        record = record_by_digest(session, digest(1))
        assert record is not None and record.status == "pending" and record.agency_id == a
        assert read_journal(session, kind="record.submitted")[0].data["count"] == 2


def test_bad_input_is_refused(store: Store, agencies: tuple[int, int]) -> None:
    a, _ = agencies
    with store.session() as session:
        with pytest.raises(InvalidInput, match="32 bytes"):
            add_records(session, agency_id=a, items=[(b"short", "file", None)])
        with pytest.raises(InvalidInput, match="kind"):
            add_records(session, agency_id=a, items=[(digest(1), "pdf", None)])
        with pytest.raises(UnknownAgency):
            add_records(session, agency_id=999, items=_items(range(1)))
        assert add_records(session, agency_id=a, items=[]).ids == []


def test_claim_and_seal_in_one_transaction(store: Store, agencies: tuple[int, int]) -> None:
    a, b = agencies
    with store.session() as session:
        add_records(session, agency_id=a, items=_items(range(10), "record"))
        add_records(session, agency_id=b, items=_items(range(100, 105)))
    batch, ids = _seal(store, a, 4, b"\x01" * 32)
    with store.session() as session:
        sealed = batch_by_id(session, batch)
        assert sealed is not None and sealed.state == "sealed" and sealed.leaf_count == 4
        assert batch_digests(session, batch) == [digest(n) for n in range(4)]
        rows = records_of_batch(session, batch)
        assert [r.id for r in rows] == ids and [r.leaf_index for r in rows] == [0, 1, 2, 3]
        assert {r.status for r in rows} == {"batched"}
        assert counts_by_status(session) == {
            "pending": 11,
            "batched": 4,
            "anchored": 0,
            "revoked": 0,
        }
        assert read_journal(session, kind="batch.sealed")[0].subject == f"batch:{batch}"


def test_leaf_index_is_the_position_given(store: Store, agencies: tuple[int, int]) -> None:
    a, _ = agencies
    with store.session() as session:
        add_records(session, agency_id=a, items=_items(range(5)))
        claimed = claim_pending(session, agency_id=a, limit=5)
        ids = [record_id for record_id, *_ in reversed(claimed)]
        batch = seal_batch(
            session,
            agency_id=a,
            record_ids=ids,
            root=b"\x02" * 32,
            signature=SIG,
            public_key=KEY,
            leaf_count=5,
        )
    with store.session() as session:
        assert batch_digests(session, batch) == [digest(n) for n in reversed(range(5))]


def test_a_failed_seal_rolls_back_the_claim(store: Store, agencies: tuple[int, int]) -> None:
    a, _ = agencies
    with store.session() as session:
        add_records(session, agency_id=a, items=_items(range(3)))
    with pytest.raises(RuntimeError), store.session() as session:
        claimed = claim_pending(session, agency_id=a, limit=3)
        seal_batch(
            session,
            agency_id=a,
            record_ids=[i for i, *_ in claimed],
            root=b"\x03" * 32,
            signature=SIG,
            public_key=KEY,
            leaf_count=3,
        )
        raise RuntimeError("signing failed")
    with store.session() as session:
        assert counts_by_status(session)["pending"] == 3
        batched = select(Record.id).where(Record.batch_id.isnot(None))
        assert session.scalars(batched).all() == []


def test_sealing_records_not_pending_is_refused(store: Store, agencies: tuple[int, int]) -> None:
    a, b = agencies
    with store.session() as session:
        add_records(session, agency_id=a, items=_items(range(3)))
        add_records(session, agency_id=b, items=_items(range(10, 11)))
    _, ids = _seal(store, a, 2, b"\x04" * 32)
    with pytest.raises(ClaimLost), store.session() as session:
        seal_batch(
            session,
            agency_id=a,
            record_ids=ids,
            root=b"\x05" * 32,
            signature=SIG,
            public_key=KEY,
            leaf_count=2,
        )
    with pytest.raises(ClaimLost), store.session() as session:  # another agency's record
        other = claim_pending(session, agency_id=b, limit=1)[0][0]
        seal_batch(
            session,
            agency_id=a,
            record_ids=[other],
            root=b"\x06" * 32,
            signature=SIG,
            public_key=KEY,
            leaf_count=1,
        )
    with store.session() as session:
        assert counts_by_status(session)["pending"] == 2


def test_concurrent_workers_never_seal_a_record_twice(
    store: Store, agencies: tuple[int, int]
) -> None:
    a, _ = agencies
    with store.session() as session:
        add_records(session, agency_id=a, items=_items(range(300)))
    sealed: list[list[int]] = []
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for round_ in range(100):
                ids = _seal_or_empty(store, a, digest(10_000 + 1000 * n + round_))
                if not ids:
                    return
                sealed.append(ids)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    flat = [record_id for ids in sealed for record_id in ids]
    assert len(flat) == len(set(flat)) == 300


def _seal_or_empty(store: Store, agency: int, root: bytes) -> list[int]:
    """Seal a batch only if there is something to claim (empty claims are not batches)."""
    with store.session() as session:
        ids = [i for i, _, _ in claim_pending(session, agency_id=agency, limit=7)]
        if ids:
            seal_batch(
                session,
                agency_id=agency,
                record_ids=ids,
                root=root,
                signature=SIG,
                public_key=KEY,
                leaf_count=len(ids),
            )
        return ids


@pytest.mark.postgres
def test_postgres_claimers_skip_each_others_rows(pg_store: Store) -> None:
    """Two open transactions claim at once: SKIP LOCKED hands them disjoint records."""
    with pg_store.session() as session:
        a = add_agency(session, address=ADDRESS_A, name="A", signing_public_key=KEY).id
        add_records(session, agency_id=a, items=_items(range(10)))
    with pg_store.session() as first, pg_store.session() as second:
        mine = claim_pending(first, agency_id=a, limit=4)
        theirs = claim_pending(second, agency_id=a, limit=4)
        assert {i for i, *_ in mine}.isdisjoint({i for i, *_ in theirs})
        assert [d for _, d, _ in mine] == [digest(n) for n in range(4)]
        assert [d for _, d, _ in theirs] == [digest(n) for n in range(4, 8)]
        for session, claimed, root in ((first, mine, b"\x07"), (second, theirs, b"\x08")):
            seal_batch(
                session,
                agency_id=a,
                record_ids=[i for i, *_ in claimed],
                root=root * 32,
                signature=SIG,
                public_key=KEY,
                leaf_count=4,
            )
    with pg_store.session() as session:
        assert counts_by_status(session)["batched"] == 8


def test_pending_summary(store: Store, agencies: tuple[int, int]) -> None:
    a, b = agencies
    with store.session() as session:
        assert pending_summary(session, agency_id=a) == (0, None)
        add_records(session, agency_id=a, items=_items(range(4)))
        add_records(session, agency_id=b, items=_items(range(10, 12)))
        count, oldest = pending_summary(session, agency_id=a)
        first = record_by_digest(session, digest(0))
    assert count == 4 and first is not None and oldest == first.created_at
    assert oldest.tzinfo is not None


def test_write_session_reads_then_claims_while_others_submit(
    store: Store, agencies: tuple[int, int]
) -> None:
    """Count, then claim, in one transaction while another writer submits: no lock error."""
    a, _ = agencies
    with store.session() as session:
        add_records(session, agency_id=a, items=_items(range(5)))
    errors: list[BaseException] = []

    def submit_more() -> None:
        try:
            with store.session() as other:
                add_records(other, agency_id=a, items=_items(range(100, 103)))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    with store.session(write=True) as session:
        count, _ = pending_summary(session, agency_id=a)
        submitter = threading.Thread(target=submit_more)
        submitter.start()
        submitter.join(timeout=0.3)  # SQLite: waits for our lock; PostgreSQL: goes through
        claimed = claim_pending(session, agency_id=a, limit=count)
        seal_batch(
            session,
            agency_id=a,
            record_ids=[i for i, *_ in claimed],
            root=b"\x09" * 32,
            signature=SIG,
            public_key=KEY,
            leaf_count=len(claimed),
        )
    submitter.join()
    assert errors == []
    with store.session() as session:
        assert counts_by_status(session, agency_id=a)["batched"] == 5
        assert pending_summary(session, agency_id=a)[0] == 3


def test_public_lookup_prefers_the_kind_hashed(store: Store, agencies: tuple[int, int]) -> None:
    """B anchoring A's record digest as a *file* must not shadow A's record when a verifier
    looks up a sealed record by its digest (and the reverse for a file upload)."""
    a, b = agencies
    with store.session() as session:
        squat = add_records(session, agency_id=b, items=[(digest(40), "file", None)])
        real = add_records(session, agency_id=a, items=[(digest(40), "record", "{}")])
        as_record = record_by_digest(session, digest(40), kind="record")
        as_file = record_by_digest(session, digest(40), kind="file")
        assert as_record is not None and as_record.id == real.ids[0]
        assert as_file is not None and as_file.id == squat.ids[0]
