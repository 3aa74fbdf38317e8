"""Records and batches as the doors act on them: an agency submits, reads, downloads and
revokes its own records and batches; anyone reads a record's state and receipt, or a batch.

Each function is one whole action of a route (or a CLI command): the lookups, the ownership
and state checks, the keyring's sending lock and the chain transaction happen here, so a door
only parses its input and shapes the answer. Digests are unique per agency only: an action on
a digest that only another agency holds is refused without naming that agency (NotYours).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from registry import record
from registry.errors import NotFound, RegistryError, UnknownAgency
from registry.receipt import Receipt
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


def submit(
    keyring: Keyring, agency: AgencyRef, items: list[tuple[bytes, str, str | None]]
) -> list[bool]:
    """Store (digest, kind, sealed JSON) items as pending, durably on return; which of them
    were new (an item submitted twice in one call is new once)."""
    result = keyring.issuer_for(agency).submit(items)
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
