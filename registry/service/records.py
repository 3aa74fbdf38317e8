"""Records and batches as the doors act on them: an agency submits, reads, downloads and
revokes its own records and batches; anyone reads a record's state and receipt, or a batch.

Each function is one whole action of a route (or a CLI command): the lookups, the ownership
and state checks, the keyring's sending lock and the chain transaction happen here, so a door
only parses its input and shapes the answer. Digests are unique per agency only: an action on
a digest that only another agency holds is refused without naming that agency (NotYours).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from registry import record
from registry.errors import InvalidInput, NotFound, RegistryError, UnknownAgency
from registry.receipt import Receipt, receipt_to_json
from registry.service.agencies import AgencyRef, agency_by_address
from registry.service.keyring import Keyring
from registry.service.operator import Operator
from registry.service.queries import (
    BatchSummary,
    RecordState,
    batch_summary,
    list_batches,
    receipts_of,
    record_state,
    record_statuses,
)
from registry.service.revoking import RevocationResult, revoke_batch, revoke_record
from registry.store import repo
from registry.vocabulary import RecordStatus

DONE = ("anchored", "revoked")
"""Record statuses that have a receipt (a revoked record keeps its receipt)."""


class NotYours(RegistryError):
    """The record or batch is another agency's: only the agency that issued it may act on it."""


class NotAnchoredYet(RegistryError):
    """The record or batch exists but is not anchored yet: no receipt to give, nothing to
    revoke."""


class NotADocument(NotFound):
    """The digest is a file's: there is no sealed document to download."""


# ------------------------------------------------------------------ reads


def public_record(operator: Operator, digest: bytes) -> tuple[RecordState, Receipt | None]:
    """A record's state (the public lookup) and, once anchored, its receipt; NotFound if no
    agency of this registry holds it."""
    state = record_state(operator.store, digest)
    if state is None:
        raise NotFound(f"no record with digest 0x{digest.hex()} in this registry")
    receipt = operator.receipt_for(digest) if state.status in DONE else None
    return state, receipt


def public_receipt(operator: Operator, digest: bytes) -> Receipt:
    """The receipt of an anchored record; NotAnchoredYet while its batch is not anchored."""
    state, receipt = public_record(operator, digest)
    if receipt is None:
        raise NotAnchoredYet(
            f"record 0x{digest.hex()} is {state.status}; its batch is not anchored yet"
        )
    return receipt


def own_record(
    operator: Operator, agency: AgencyRef, digest: bytes, *, action: str = "read"
) -> RecordState:
    """The agency's own record with this digest. When only another agency holds it: NotYours,
    without naming which (no internal ids, no names)."""
    state = record_state(operator.store, digest, agency_id=agency.id)
    if state is not None:
        return state
    if record_state(operator.store, digest) is not None:
        raise NotYours(
            f"record 0x{digest.hex()} was issued by another agency; only the issuing agency "
            f"may {action} it"
        )
    raise NotFound(f"no record with digest 0x{digest.hex()} in this registry")


def own_record_with_receipt(
    operator: Operator, agency: AgencyRef, digest: bytes
) -> tuple[RecordState, Receipt | None]:
    """The agency's own record and, once anchored, its receipt."""
    state = own_record(operator, agency, digest)
    receipt = None
    if state.status in DONE:
        receipt = operator.receipt_for(digest, agency_id=agency.id)
    return state, receipt


def anchored(operator: Operator, agency: AgencyRef, digests: list[bytes]) -> bool:
    """Whether every one of these digests of the agency has a receipt (anchored or revoked)."""
    statuses = record_statuses(operator.store, digests, agency_id=agency.id)
    return all(statuses.get(d, ("", None))[0] in DONE for d in digests)


@dataclass(frozen=True)
class BulkState:
    """Where each record of a bulk submission is: its status, and its receipt once anchored."""

    statuses: dict[bytes, str]
    receipts: dict[bytes, Receipt]


def bulk_state(keyring: Keyring, agency: AgencyRef, digests: list[bytes]) -> BulkState:
    """The status of each of the agency's digests and the receipts of those anchored."""
    issuer = keyring.issuer_for(agency)
    found = record_statuses(keyring.operator.store, digests, agency_id=agency.id)
    statuses = {digest: status for digest, (status, _) in found.items()}
    receipts: dict[bytes, Receipt] = {}
    if any(status in DONE for status in statuses.values()):
        receipts = receipts_of(issuer, digests)
    return BulkState(statuses=statuses, receipts=receipts)


def sealed_document(keyring: Keyring, agency: AgencyRef, digest: bytes) -> dict[str, Any]:
    """The agency's own sealed structured record with its receipt, decrypted with its data
    key (as `Operator.sealed_document_for`). NotADocument for a file's digest; NotAnchoredYet
    before it is anchored; DocumentPurged, DocumentUnreadable from the store's copy."""
    operator = keyring.operator
    state = own_record(operator, agency, digest, action="download")
    hex_digest = "0x" + digest.hex()
    if state.kind != "record":
        raise NotADocument(
            f"{hex_digest} is a file's digest: there is no sealed document (the receipt is at "
            f"/v1/records/{hex_digest}/receipt)"
        )
    if state.status not in DONE:
        raise NotAnchoredYet(
            f"record {hex_digest} is {state.status}; its batch is not anchored yet"
        )
    data_key = keyring.issuer_for(agency).data_key
    return operator.sealed_document_for(digest, agency_id=agency.id, data_key=data_key)


# ------------------------------------------------------------------ writes


def seal_record(keyring: Keyring, agency: AgencyRef, data: dict[str, Any]) -> tuple[bytes, str]:
    """Seal one structured record with the agency's salts: (digest, the sealed document's
    JSON). InvalidInput (with the JSON path) if the record is malformed."""
    sealed = keyring.issuer_for(agency).seal(data)
    return bytes(sealed.digest), record.sealed_json_bytes(sealed).decode("ascii")


def seal_records(
    keyring: Keyring, agency: AgencyRef, records: list[Any], *, max_record_bytes: int
) -> list[tuple[bytes, str, str | None]]:
    """Seal a request's records with the agency's salts, in input order, as items for
    `submit`; the first bad one raises sealing.RecordRejected naming its index."""
    sealed = keyring.issuer_for(agency).seal_all(records, max_record_bytes=max_record_bytes)
    return [(digest, "record", document) for digest, document in sealed]


REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:~+@-]{0,127}$")
"""An agency's reference: 1 to 128 letters, digits and `. _ : ~ + @ -`, starting with a letter
or digit (it travels in a URL path: /v1/records/by-reference/{reference})."""


def check_reference(value: Any, *, field: str) -> str | None:
    """A submission's optional `reference`, checked (InvalidInput naming `field`)."""
    if value is None:
        return None
    if not isinstance(value, str) or not REFERENCE.match(value):
        raise InvalidInput(
            "a reference is 1 to 128 letters, digits and . _ : ~ + @ - (starting with a letter "
            "or digit)",
            field=field,
        )
    return value


def submit(
    keyring: Keyring,
    agency: AgencyRef,
    items: list[tuple[bytes, str, str | None]],
    *,
    references: list[str | None] | None = None,
) -> list[bool]:
    """Store (digest, kind, sealed JSON) items as pending, durably on return; which of them
    were new (an item submitted twice in one call is new once). `references`: the agency's
    own key of each item (or None); ReferenceTaken if one already names another record."""
    return _new_flags(keyring.issuer_for(agency).submit(items, references=references))


@dataclass(frozen=True)
class BulkSubmitted:
    """A bulk submission stored: its id, and which of its records were new."""

    bulk_id: str
    new: list[bool]


def submit_bulk(
    keyring: Keyring,
    agency: AgencyRef,
    items: list[tuple[bytes, str, str | None]],
    *,
    references: list[str | None] | None = None,
) -> BulkSubmitted:
    """`submit`, remembered as one bulk submission (its records in input order) under a new
    id, for `bulk_status` and `bulk_receipts`."""
    bulk_id = "bulk_" + secrets.token_hex(12)
    result = keyring.issuer_for(agency).submit(items, references=references, bulk_id=bulk_id)
    return BulkSubmitted(bulk_id, _new_flags(result))


def _new_flags(result: repo.AddResult) -> list[bool]:
    fresh = set(result.new_ids)
    seen: set[int] = set()
    new = []
    for record_id in result.ids:
        new.append(record_id in fresh and record_id not in seen)
        seen.add(record_id)
    return new


def revoke_own_record(
    keyring: Keyring,
    agency: AgencyRef,
    digest: bytes,
    *,
    reason: int,
    replacement: bytes | None,
) -> RevocationResult:
    """Revoke (or supersede) one of the agency's own anchored records on chain, holding its
    sending account's lock. InvalidReplacement if the replacement is not a live record of the
    agency."""
    state = own_record(keyring.operator, agency, digest, action="revoke")
    if state.status not in DONE:
        raise NotAnchoredYet(
            f"record 0x{digest.hex()} is {state.status}; it can be revoked once anchored"
        )
    issuer = keyring.issuer_for(agency)
    with keyring.sending(issuer.account.address):
        return revoke_record(
            store=keyring.operator.store,
            registry=keyring.operator.registry,
            account=issuer.account,
            agency_id=agency.id,
            digest=digest,
            reason=reason,
            replacement=replacement,
        )


# ------------------------------------------------------------------ batches


def public_batch(operator: Operator, root: bytes) -> BatchSummary:
    """A batch by its Merkle root; NotFound if none."""
    summary = batch_summary(operator.store, root)
    if summary is None:
        raise NotFound(f"no batch with root 0x{root.hex()} in this registry")
    return summary


def batches_page(
    operator: Operator,
    *,
    agency_address: str | None = None,
    state: str | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> tuple[list[BatchSummary], int | None]:
    """Batches, newest first, optionally of one agency (an address this store does not hold:
    none) or state; with the cursor of the next page (None on the last)."""
    agency_id = None
    if agency_address is not None:
        try:
            agency_id = agency_by_address(operator.store, agency_address).id
        except UnknownAgency:
            return [], None
    page = list_batches(
        operator.store, agency_id=agency_id, state=state, before_id=before_id, limit=limit
    )
    return page, (page[-1].id if len(page) == limit else None)


def revoke_own_batch(
    keyring: Keyring, agency: AgencyRef, root: bytes, *, reason: int
) -> RevocationResult:
    """Revoke every record of one of the agency's own anchored batches at once, on chain.
    Another agency's batch: NotYours (said, never named); not confirmed yet: NotAnchoredYet."""
    store = keyring.operator.store
    summary = batch_summary(store, root, agency_id=agency.id)
    hex_root = "0x" + root.hex()
    if summary is None:
        # Roots are per agency: another agency may hold this root too.
        if batch_summary(store, root) is not None:
            raise NotYours(f"batch {hex_root} belongs to another agency; only it may revoke it")
        raise NotFound(f"no batch with root {hex_root} in this registry")
    if summary.state != "confirmed":
        raise NotAnchoredYet(
            f"batch {hex_root} is {summary.state}; it can be revoked once anchored"
        )
    issuer = keyring.issuer_for(agency)
    with keyring.sending(issuer.account.address):
        return revoke_batch(
            store=store,
            registry=keyring.operator.registry,
            account=issuer.account,
            agency_id=agency.id,
            root=root,
            reason=reason,
        )


# ------------------------------------------------------------------ an agency's own records


@dataclass(frozen=True)
class RecordSummary:
    """A record as its agency's listing shows it."""

    digest: str
    digest_kind: str
    status: str
    reference: str | None
    submitted_at: str
    batch_root: str | None
    block_number: int | None
    anchored_at: str | None


@dataclass(frozen=True)
class RecordsPage:
    """A page of the agency's records, newest first, and the cursor of the next (None: last)."""

    records: list[RecordSummary]
    next_cursor: str | None


class InvalidCursor(InvalidInput):
    """A listing cursor this agency's listing (with these filters) did not give out."""


MAX_PAGE = 500
"""Most records one page of GET /v1/records carries."""

_STATUSES = frozenset(status.value for status in RecordStatus)


def _iso(moment: datetime | int | None) -> str | None:
    if moment is None:
        return None
    if isinstance(moment, int):
        moment = datetime.fromtimestamp(moment, tz=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def _scope(agency: AgencyRef, status: str | None, since: str | None, until: str | None) -> str:
    """What a cursor is bound to: the agency (by its identity) and the listing's filters."""
    text = json.dumps([agency.address, status, since, until])
    return hashlib.sha256(b"RecordRegistry/cursor/v1" + text.encode()).hexdigest()[:24]


def _encode_cursor(before_id: int, scope: str) -> str:
    raw = json.dumps({"before": before_id, "scope": scope}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _decode_cursor(cursor: str, scope: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        before, given = data["before"], data["scope"]
    except (binascii.Error, ValueError, TypeError, KeyError) as exc:
        raise InvalidCursor("not a cursor of this listing", field="query.cursor") from exc
    if not isinstance(before, int) or isinstance(before, bool) or before < 1:
        raise InvalidCursor("not a cursor of this listing", field="query.cursor")
    if not isinstance(given, str) or not secrets.compare_digest(given, scope):
        raise InvalidCursor(
            "this cursor was given out for another listing (other filters, or another "
            "agency's token); start again without it",
            field="query.cursor",
        )
    return before


def agency_records_page(
    operator: Operator,
    agency: AgencyRef,
    *,
    status: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> RecordsPage:
    """A page of the agency's own records, newest first, optionally in one status and
    submitted in [since, until). The cursor is opaque and scoped: it carries where the page
    ends and a tag of the agency and the filters; a cursor of another listing is refused
    (InvalidCursor), and whatever a cursor says, only this agency's rows are read. Records
    submitted meanwhile come before the first page, never into a later one."""
    if status is not None and status not in _STATUSES:
        raise InvalidInput(f"unknown status {status!r}", field="query.state")
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit is 1 to {MAX_PAGE}", field="query.limit")
    since, until = _aware(since), _aware(until)
    scope = _scope(agency, status, _iso(since), _iso(until))
    before = None if cursor is None else _decode_cursor(cursor, scope)
    with operator.store.session() as session:
        rows = repo.agency_records(
            session,
            agency_id=agency.id,
            status=status,
            since=since,
            until=until,
            before_id=before,
            limit=limit + 1,
        )
    more = len(rows) > limit
    rows = rows[:limit]
    page = [
        RecordSummary(
            digest="0x" + row.digest.hex(),
            digest_kind=row.digest_kind,
            status=row.status,
            reference=row.reference,
            submitted_at=_iso(row.created_at) or "",
            batch_root=None if row.batch_root is None else "0x" + row.batch_root.hex(),
            block_number=row.block_number,
            anchored_at=_iso(row.anchored_at),
        )
        for row in rows
    ]
    next_cursor = _encode_cursor(rows[-1].id, scope) if more and rows else None
    return RecordsPage(page, next_cursor)


def own_record_by_reference(
    operator: Operator, agency: AgencyRef, reference: str
) -> tuple[RecordState, Receipt | None]:
    """The agency's record with this reference, and its receipt once anchored. Only the
    agency's own references are looked at: another agency's is NotFound, like one that no
    agency uses (never a 403, never naming anyone)."""
    check_reference(reference, field="path.reference")
    with operator.store.session() as session:
        found = repo.record_by_reference(session, agency_id=agency.id, reference=reference)
        digest = None if found is None else bytes(found.digest)
    if digest is None:
        raise NotFound(f"this agency has no record with reference {reference!r}")
    return own_record_with_receipt(operator, agency, digest)


# ------------------------------------------------------------------ bulk submissions


@dataclass(frozen=True)
class BulkStatus:
    """Where a bulk submission's records are: counts by status (by input position)."""

    bulk_id: str
    count: int
    submitted_at: str
    statuses: dict[str, int]

    @property
    def anchored(self) -> int:
        """Records with a receipt (anchored, or revoked since)."""
        return sum(self.statuses.get(status, 0) for status in DONE)

    @property
    def complete(self) -> bool:
        return self.anchored == self.count


def bulk_status(operator: Operator, agency: AgencyRef, bulk_id: str) -> BulkStatus:
    """The agency's bulk submission's status counts; NotFound for an id it did not get
    (another agency's included, without saying so)."""
    with operator.store.session() as session:
        bulk = repo.bulk_by_public_id(session, bulk_id, agency_id=agency.id)
        if bulk is None:
            raise NotFound(f"this agency has no bulk submission {bulk_id!r}")
        statuses = repo.bulk_status_counts(session, bulk.id)
        return BulkStatus(bulk.public_id, bulk.count, _iso(bulk.created_at) or "", statuses)


def bulk_receipts(keyring: Keyring, agency: AgencyRef, bulk_id: str) -> list[dict[str, Any]]:
    """One line per record of the agency's bulk submission, in input order: position,
    digest, reference, receipt. NotAnchoredYet until every record has its receipt."""
    state = bulk_status(keyring.operator, agency, bulk_id)
    if not state.complete:
        raise NotAnchoredYet(
            f"bulk submission {bulk_id}: {state.anchored} of {state.count} records anchored; "
            "its receipts come once every record is"
        )
    with keyring.operator.store.session() as session:
        bulk = repo.bulk_by_public_id(session, bulk_id, agency_id=agency.id)
        assert bulk is not None
        rows = repo.bulk_records(session, bulk.id)
    receipts = receipts_of(keyring.issuer_for(agency), list({row.digest for row in rows}))
    return [
        {
            "position": row.position,
            "digest": "0x" + row.digest.hex(),
            "reference": row.reference,
            "receipt": receipt_to_json(receipts[row.digest]),
        }
        for row in rows
    ]


# ------------------------------------------------------------------ a batch's records


@dataclass(frozen=True)
class BatchRecord:
    """A record of a batch as the public listing shows it: position, digest, kind, status."""

    leaf_index: int
    digest: str
    digest_kind: str
    status: str


@dataclass(frozen=True)
class BatchRecords:
    """A batch and a page of its records in leaf order; `next_after` pages on (None: last)."""

    batch: BatchSummary
    records: list[BatchRecord]
    next_after: int | None


def public_batch_records(
    operator: Operator, root: bytes, *, after: int | None = None, limit: int = 100
) -> BatchRecords:
    """A page of a batch's records by its Merkle root (public: digests reveal nothing of the
    content; the agencies' references are not shown)."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit is 1 to {MAX_PAGE}", field="query.limit")
    summary = public_batch(operator, root)
    with operator.store.session() as session:
        rows = repo.batch_records_page(session, summary.id, after_index=after, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    records = [
        BatchRecord(leaf_index=i, digest="0x" + d.hex(), digest_kind=k, status=st)
        for i, d, k, st in rows
    ]
    return BatchRecords(summary, records, rows[-1][0] if more and rows else None)
