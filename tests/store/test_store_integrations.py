"""Migration 0004 (issue 16) and its tables: references unique per agency, bulk submissions,
the webhook outbox written with a batch's confirmation, idempotency keys per agency. On
SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import inspect, text
from store_helpers import digest

from registry.errors import ReferenceTaken
from registry.store import Store, repo
from registry.store.db import downgrade, upgrade
from registry.store.models import utcnow


def test_0004_applies_over_a_store_with_records_and_goes_down_again(
    store: Store, agencies: tuple[int, int]
) -> None:
    a, _ = agencies
    downgrade(store.engine, "0003")
    assert "webhooks" not in inspect(store.engine).get_table_names()
    with store.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO records (digest, digest_kind, agency_id, status, created_at) "
                "VALUES (:d, 'file', :a, 'pending', :t)"
            ),
            {"d": digest(1), "a": a, "t": utcnow()},
        )
    upgrade(store.engine)
    tables = set(inspect(store.engine).get_table_names())
    assert {"webhooks", "webhook_deliveries", "idempotency_keys", "bulk_submissions"} <= tables
    with store.session() as session:
        kept = repo.record_by_digest(session, digest(1), agency_id=a)
        assert kept is not None and kept.reference is None
    downgrade(store.engine, "0003")
    columns = {c["name"] for c in inspect(store.engine).get_columns("records")}
    assert "reference" not in columns
    with store.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM records")).scalar() == 1
    upgrade(store.engine)


def test_references_are_unique_per_agency(store: Store, agencies: tuple[int, int]) -> None:
    a, b = agencies
    with store.session() as session:
        repo.add_records(
            session, agency_id=a, items=[(digest(1), "file", None)], references=["R-1"]
        )
    with store.session() as session:  # another agency: its own namespace
        repo.add_records(
            session, agency_id=b, items=[(digest(2), "file", None)], references=["R-1"]
        )
    with pytest.raises(ReferenceTaken), store.session() as session:
        repo.add_records(
            session, agency_id=a, items=[(digest(3), "file", None)], references=["R-1"]
        )
    with store.session() as session:
        assert repo.record_by_digest(session, digest(3), agency_id=a) is None
        found = repo.record_by_reference(session, agency_id=a, reference="R-1")
        assert found is not None and bytes(found.digest) == digest(1)
        theirs = repo.record_by_reference(session, agency_id=b, reference="R-1")
        assert theirs is not None and bytes(theirs.digest) == digest(2)


def test_the_outbox_is_written_with_the_confirmation(
    store: Store, agencies: tuple[int, int]
) -> None:
    a, b = agencies
    with store.session() as session:
        repo.add_webhook(
            session,
            agency_id=a,
            public_id="wh_a",
            url="http://x/",
            secret="s",
            events=["records.anchored"],
        )
        repo.add_webhook(
            session,
            agency_id=b,
            public_id="wh_b",
            url="http://y/",
            secret="s",
            events=["records.anchored"],
        )
        repo.add_records(session, agency_id=a, items=[(digest(1), "file", None)])
    with store.session(write=True) as session:
        claimed = repo.claim_pending(session, agency_id=a, limit=10)
        batch_id = repo.seal_batch(
            session,
            agency_id=a,
            record_ids=[rid for rid, _, _ in claimed],
            root=digest(99),
            signature=b"\x01" * 64,
            public_key=b"\x02" * 32,
            leaf_count=1,
        )
        repo.mark_submitted(session, batch_id, tx_hash=digest(7), nonce=0, raw_tx=b"tx")
        repo.mark_anchored(
            session, batch_id, block_number=5, block_hash=digest(8), anchored_at=1_800_000_000
        )
    with store.session() as session:
        assert repo.claim_due_deliveries(session, limit=10, lease=60) == []
        repo.mark_confirmed(session, batch_id, confirmations=1)
    with store.session() as session:
        due = repo.claim_due_deliveries(session, limit=10, lease=60)
        # Only agency A's webhook hears of A's batch; a second claim finds it leased.
        assert [(d.webhook_public_id, d.batch_id) for d in due] == [("wh_a", batch_id)]
        assert repo.claim_due_deliveries(session, limit=10, lease=60) == []
        later = utcnow() + timedelta(seconds=120)
        again = repo.claim_due_deliveries(session, limit=10, lease=60, now=later)
        assert [d.id for d in again] == [due[0].id]  # a dead claimer's lease runs out


def test_idempotency_keys_are_per_agency(store: Store, agencies: tuple[int, int]) -> None:
    a, b = agencies
    soon, stale = utcnow() + timedelta(hours=1), utcnow() - timedelta(minutes=10)
    with store.session() as session:
        first = repo.claim_idempotency_key(
            session,
            agency_id=a,
            key="k",
            fingerprint=b"\x01" * 32,
            expires_at=soon,
            stale_before=stale,
        )
    with store.session() as session:
        other = repo.claim_idempotency_key(
            session,
            agency_id=b,
            key="k",
            fingerprint=b"\x02" * 32,
            expires_at=soon,
            stale_before=stale,
        )
    assert first.claimed and other.claimed
    with store.session() as session:
        again = repo.claim_idempotency_key(
            session,
            agency_id=a,
            key="k",
            fingerprint=b"\x03" * 32,
            expires_at=soon,
            stale_before=stale,
        )
    assert not again.claimed and again.fingerprint == b"\x01" * 32 and again.response is None
