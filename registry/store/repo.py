"""Repository: every read and write of the store, as functions over a Session.

Hot paths (adding, claiming and sealing records) use Core statements with one round trip per
chunk, never one ORM object per row: the pipeline must carry 100,000 records at >= 10,000/s.
Every state change appends a journal entry in the same transaction. `add_records` commits
(a submission is durable before the API answers); every other writer runs inside the
caller's transaction (`Store.session()` commits it), so a claim and its seal are atomic.

The functions live by what they hold: `registry.store.agencies` (agencies and the store's
binding), `records` (records and their plain documents), `batches`, `revocations`, and `sql`
(shared pieces and the journal). This module gathers them, so `repo.add_records` and
`from registry.store import add_records` read as before.
"""

from __future__ import annotations

from registry.store.agencies import (
    add_agency,
    agency_by_account,
    agency_by_address,
    agency_by_id,
    agency_by_name_or_address,
    bind_store,
    list_agencies,
    mark_agency_compromised,
    set_agency_account,
    set_agency_signing_key,
    set_agency_status,
    store_binding,
)
from registry.store.batches import (
    all_batches,
    batch_by_id,
    batch_by_root,
    batch_digests,
    batch_ids_by_root,
    batch_latency_bounds,
    batch_leaves,
    batch_record_rows,
    batch_stored_documents,
    claim_pending,
    confirmed_batch_ids,
    counts_by_batch_state,
    list_batches,
    mark_anchored,
    mark_confirmed,
    mark_failed,
    mark_submitted,
    oldest_unfinished_sealed_at,
    pending_summary,
    record_attempt,
    record_in_batch,
    records_of_batch,
    seal_batch,
    unfinished_batches,
)
from registry.store.records import (
    AddResult,
    RecordRow,
    add_records,
    counts_by_status,
    forget_document,
    oldest_pending_created_at,
    plain_documents,
    purge_documents,
    record_by_digest,
    record_owners,
    record_statuses,
    replace_documents,
    unbatched_records,
)
from registry.store.revocations import (
    add_revocation,
    confirm_revocation,
    confirmed_revocation_of,
    list_revocations,
    mark_revocation_sent,
    revocation_by_hash,
)
from registry.store.sql import (
    append_event,
    read_journal,
)

__all__ = [
    "AddResult",
    "RecordRow",
    "add_agency",
    "add_records",
    "add_revocation",
    "agency_by_account",
    "agency_by_address",
    "agency_by_id",
    "agency_by_name_or_address",
    "all_batches",
    "append_event",
    "batch_by_id",
    "batch_by_root",
    "batch_digests",
    "batch_ids_by_root",
    "batch_latency_bounds",
    "batch_leaves",
    "batch_record_rows",
    "batch_stored_documents",
    "bind_store",
    "claim_pending",
    "confirm_revocation",
    "confirmed_batch_ids",
    "confirmed_revocation_of",
    "counts_by_batch_state",
    "counts_by_status",
    "forget_document",
    "list_agencies",
    "list_batches",
    "list_revocations",
    "mark_agency_compromised",
    "mark_anchored",
    "mark_confirmed",
    "mark_failed",
    "mark_revocation_sent",
    "mark_submitted",
    "oldest_pending_created_at",
    "oldest_unfinished_sealed_at",
    "pending_summary",
    "plain_documents",
    "purge_documents",
    "read_journal",
    "record_attempt",
    "record_by_digest",
    "record_in_batch",
    "record_owners",
    "record_statuses",
    "records_of_batch",
    "replace_documents",
    "revocation_by_hash",
    "seal_batch",
    "set_agency_account",
    "set_agency_signing_key",
    "set_agency_status",
    "store_binding",
    "unbatched_records",
    "unfinished_batches",
]
