"""Batch states, journal entries, resuming after a crash, and revocations."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from store_helpers import digest

from registry.errors import InvalidInput
from registry.store import (
    InvalidTransition,
    NotFound,
    Store,
    WrongAgency,
    add_records,
    add_revocation,
    batch_by_id,
    batch_by_root,
    claim_pending,
    confirm_revocation,
    counts_by_status,
    list_revocations,
    mark_anchored,
    mark_confirmed,
    mark_failed,
    mark_submitted,
    open_store,
    read_journal,
    record_attempt,
    record_by_digest,
    revocation_by_hash,
    seal_batch,
    unfinished_batches,
)

RAW_TX = bytes(range(256)) * 3  # a signed transaction: arbitrary bytes, kept exactly


def _sealed_batch(store: Store, agency: int, first: int, count: int) -> int:
    """Submit `count` records and seal them into one batch; return its id."""
    with store.session() as session:
        add_records(
            session,
            agency_id=agency,
            items=[(digest(n), "record", f'{{"n": {n}}}') for n in range(first, first + count)],
        )
        ids = [i for i, _, _ in claim_pending(session, agency_id=agency, limit=count)]
        return seal_batch(
            session,
            agency_id=agency,
            record_ids=ids,
            root=digest(1_000_000 + first),
            signature=b"\x5a" * 64,
            public_key=b"\xa1" * 32,
            leaf_count=count,
        )


def test_batch_lifecycle_with_journal(store: Store, agencies: tuple[int, int]) -> None:
    a, _ = agencies
    batch = _sealed_batch(store, a, 0, 3)
    with store.session() as session:
        mark_submitted(session, batch, tx_hash=b"\x11" * 32, nonce=7, raw_tx=RAW_TX)
    with store.session() as session:
        record_attempt(session, batch, error="node unreachable")
        record_attempt(session, batch, error=None)
        mark_anchored(
            session, batch, block_number=42, block_hash=b"\x22" * 32, anchored_at=1_790_000_000
        )
    with store.session() as session:
        mark_confirmed(session, batch, confirmations=3)
    with store.session() as session:
        done = batch_by_id(session, batch)
        assert done is not None
        assert (done.state, done.tx_nonce, done.tx_raw, done.block_number) == (
            "confirmed",
            7,
            RAW_TX,
            42,
        )
        assert (done.attempts, done.last_error, done.confirmations) == (2, None, 3)
        assert done.anchored_at == 1_790_000_000 and done.confirmed_at is not None
        assert done.submitted_at is not None and done.submitted_at.tzinfo is not None
        assert batch_by_root(session, done.root) == done
        assert counts_by_status(session)["anchored"] == 3
        events = read_journal(session, subject=f"batch:{batch}")
        assert [e.kind for e in events] == [
            "batch.sealed",
            "batch.submitted",
            "batch.retry",
            "batch.anchored",
            "batch.confirmed",
        ]
        assert events[1].data == {"nonce": 7, "tx_hash": "0x" + "11" * 32}
        assert [e.kind for e in read_journal(session, kind="record.submitted")] == [
            "record.submitted"
        ]


def test_transitions_out_of_order_are_refused(store: Store, agencies: tuple[int, int]) -> None:
    a, _ = agencies
    batch = _sealed_batch(store, a, 0, 2)
    with store.session() as session:
        with pytest.raises(InvalidTransition, match="is sealed"):
            mark_confirmed(session, batch, confirmations=1)
        with pytest.raises(NotFound):
            mark_submitted(session, 999, tx_hash=b"\x11" * 32, nonce=0, raw_tx=b"x")
        with pytest.raises(NotFound):
            record_attempt(session, 999, error="x")
        mark_failed(session, batch, error="AgencyNotActive")
    with store.session() as session:
        with pytest.raises(InvalidTransition, match="is failed"):
            mark_submitted(session, batch, tx_hash=b"\x11" * 32, nonce=0, raw_tx=b"x")
        failed = batch_by_id(session, batch)
        assert failed is not None and failed.last_error == "AgencyNotActive"
        assert counts_by_status(session)["batched"] == 2  # its records stay with it


def test_seal_refuses_inconsistent_input(store: Store, agencies: tuple[int, int]) -> None:
    a, _ = agencies
    with store.session() as session:
        add_records(session, agency_id=a, items=[(digest(1), "file", None)])
        (record_id, _, _), *_ = claim_pending(session, agency_id=a, limit=1)

        def seal(ids: list[int], signature: bytes, leaf_count: int) -> int:
            return seal_batch(
                session,
                agency_id=a,
                record_ids=ids,
                root=b"\x01" * 32,
                signature=signature,
                public_key=b"\x02" * 32,
                leaf_count=leaf_count,
            )

        with pytest.raises(InvalidInput, match="leaf_count"):
            seal([record_id], b"s" * 64, 2)
        with pytest.raises(InvalidInput, match="leaf_count"):
            seal([], b"s" * 64, 0)
        with pytest.raises(InvalidInput, match="signature"):
            seal([record_id], b"s", 1)
        with pytest.raises(InvalidInput, match="twice"):
            seal([record_id] * 2, b"s" * 64, 2)


def test_unfinished_batches_survive_a_crash(
    store_url: str, tmp_path: Path, agencies: tuple[int, int], store: Store
) -> None:
    a, b = agencies
    sealed = _sealed_batch(store, a, 0, 2)
    submitted = _sealed_batch(store, a, 10, 2)
    anchored = _sealed_batch(store, b, 20, 2)
    confirmed = _sealed_batch(store, a, 30, 2)
    failed = _sealed_batch(store, a, 40, 2)
    with store.session() as session:
        add_records(session, agency_id=a, items=[(digest(n), "file", None) for n in range(50, 53)])
        for batch in (submitted, anchored, confirmed):
            mark_submitted(session, batch, tx_hash=digest(batch), nonce=batch, raw_tx=RAW_TX)
        for batch in (anchored, confirmed):
            mark_anchored(session, batch, block_number=9, block_hash=b"\x09" * 32, anchored_at=1)
        mark_confirmed(session, confirmed, confirmations=1)
        mark_failed(session, failed, error="reverted")
    # The crash: a worker has claimed and sealed but not committed when the process dies.
    doomed = Session(store.engine)
    claim_pending(doomed, agency_id=a, limit=3)
    doomed.connection().invalidate()  # the connection is cut, no COMMIT or ROLLBACK sent
    doomed.close()
    store.close()

    reopened = open_store(store_url, data_dir=tmp_path)
    try:
        with reopened.session() as session:
            resume = unfinished_batches(session)
            assert [(x.id, x.state) for x in resume] == [
                (sealed, "sealed"),
                (submitted, "submitted"),
                (anchored, "anchored"),
            ]
            assert resume[1].tx_raw == RAW_TX and resume[1].tx_hash == digest(submitted)
            assert [x.id for x in unfinished_batches(session, agency_id=b)] == [anchored]
            assert counts_by_status(session)["pending"] == 3
    finally:
        reopened.close()


def test_revoking_a_record_and_a_batch(store: Store, agencies: tuple[int, int]) -> None:
    a, b = agencies
    first = _sealed_batch(store, a, 0, 3)
    second = _sealed_batch(store, a, 10, 2)
    with store.session() as session:
        record = record_by_digest(session, digest(1))
        assert record is not None
        leaf = b"\x33" * 32
        one = add_revocation(
            session,
            agency_id=a,
            batch_id=first,
            record_id=record.id,
            hash=leaf,
            reason=2,
            replacement=digest(99),
        )
        again = add_revocation(
            session, agency_id=a, batch_id=first, record_id=record.id, hash=leaf, reason=2
        )
        assert again.id == one.id  # asking again changes nothing
        root = batch_by_id(session, second)
        assert root is not None
        whole = add_revocation(session, agency_id=a, batch_id=second, hash=root.root, reason=1)
        with pytest.raises(WrongAgency):
            add_revocation(session, agency_id=b, batch_id=first, hash=b"\x44" * 32, reason=3)
        with pytest.raises(InvalidInput, match="root"):
            add_revocation(session, agency_id=a, batch_id=first, hash=b"\x44" * 32, reason=3)
        with pytest.raises(InvalidInput, match="reason"):
            add_revocation(session, agency_id=a, batch_id=first, hash=root.root, reason=0)
    with store.session() as session:
        confirm_revocation(session, one.id, block_number=50, tx_hash=b"\x55" * 32)
        confirm_revocation(session, whole.id, block_number=51)
    with store.session() as session:
        assert counts_by_status(session)["revoked"] == 3
        revoked = record_by_digest(session, digest(1))
        assert revoked is not None and revoked.status == "revoked"
        other = record_by_digest(session, digest(0))
        assert other is not None and other.status == "batched"
        found = revocation_by_hash(session, leaf)
        assert found is not None and found.replacement == digest(99)
        assert found.state == "confirmed" and found.tx_hash == b"\x55" * 32
        assert [r.id for r in list_revocations(session, agency_id=a)] == [one.id, whole.id]
        assert [e.kind for e in read_journal(session, subject=f"revocation:{one.id}")] == [
            "revocation.submitted",
            "revocation.confirmed",
        ]
