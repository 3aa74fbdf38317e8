"""Sealed contents in the store: purged by retention (per anchoring time) or one at a time
after download, keeping digest, batch and receipt facts; clear rows of an old store found."""

from __future__ import annotations

from store_helpers import digest

from registry.store import Store, repo
from registry.store.models import Record

ANCHORED_AT = 1_800_000_000


def _confirmed_batch(store: Store, agency_id: int, items: list[tuple[bytes, str | None]]) -> int:
    """Add records, seal them into one batch and take it to confirmed, anchored at ANCHORED_AT."""
    with store.session() as session:
        repo.add_records(
            session, agency_id=agency_id, items=[(d, "record", doc) for d, doc in items]
        )
    with store.session(write=True) as session:
        claimed = repo.claim_pending(session, agency_id=agency_id, limit=100)
        batch_id = repo.seal_batch(
            session,
            agency_id=agency_id,
            record_ids=[rid for rid, _, _ in claimed],
            root=b"\x01" * 32,
            signature=b"\x02" * 64,
            public_key=b"\x03" * 32,
            leaf_count=len(claimed),
        )
        repo.mark_anchored(
            session, batch_id, block_number=7, block_hash=b"\x04" * 32, anchored_at=ANCHORED_AT
        )
        repo.mark_confirmed(session, batch_id, confirmations=1)
    return batch_id


def _row(store: Store, value: bytes, agency_id: int) -> Record:
    with store.session() as session:
        found = repo.record_by_digest(session, value, agency_id=agency_id)
        assert found is not None
        session.expunge(found)
        return found


def test_purge_keeps_digest_batch_and_status(store: Store, agencies: tuple[int, int]) -> None:
    a, _ = agencies
    batch_id = _confirmed_batch(store, a, [(digest(1), "aesgcm1:AAAA"), (digest(2), None)])
    with store.session() as session:
        assert repo.purge_documents(session, anchored_before=ANCHORED_AT) == 0
    with store.session() as session:
        assert repo.purge_documents(session, anchored_before=ANCHORED_AT + 1) == 1
    row = _row(store, digest(1), a)
    assert row.document is None and row.document_purged_at is not None
    assert row.batch_id == batch_id and row.leaf_index == 0 and row.status == "anchored"
    assert bytes(row.digest) == digest(1)
    with store.session() as session:
        assert repo.batch_leaves(session, batch_id) == [
            (digest(1), "record"),
            (digest(2), "record"),
        ]
        events = [e for e in repo.read_journal(session) if e.kind == "document.purged"]
    assert events and events[-1].data["count"] == 1


def test_purge_leaves_unanchored_records(store: Store, agencies: tuple[int, int]) -> None:
    a, _ = agencies
    with store.session() as session:
        repo.add_records(session, agency_id=a, items=[(digest(3), "record", "aesgcm1:AAAA")])
    with store.session() as session:
        assert repo.purge_documents(session, anchored_before=2**62) == 0
    assert _row(store, digest(3), a).document == "aesgcm1:AAAA"


def test_forget_document_once(store: Store, agencies: tuple[int, int]) -> None:
    a, _ = agencies
    _confirmed_batch(store, a, [(digest(4), "aesgcm1:AAAA")])
    record_id = _row(store, digest(4), a).id
    with store.session() as session:
        assert repo.forget_document(session, record_id, reason="downloaded") is True
    with store.session() as session:
        assert repo.forget_document(session, record_id, reason="downloaded") is False
    row = _row(store, digest(4), a)
    assert row.document is None and row.document_purged_at is not None


def test_plain_documents_finds_clear_rows_only(store: Store, agencies: tuple[int, int]) -> None:
    a, b = agencies
    with store.session() as session:
        repo.add_records(
            session,
            agency_id=a,
            items=[(digest(5), "record", '{"clear":1}'), (digest(6), "record", "aesgcm1:AAAA")],
        )
        repo.add_records(session, agency_id=b, items=[(digest(7), "record", '{"clear":2}')])
    with store.session() as session:
        found = repo.plain_documents(session, agency_id=a, prefix="aesgcm1:")
        assert found == [(found[0][0], digest(5), '{"clear":1}')]
        repo.replace_documents(session, [(found[0][0], "aesgcm1:BBBB")])
    with store.session() as session:
        assert repo.plain_documents(session, agency_id=a, prefix="aesgcm1:") == []
