"""The operator's store against the rebuilt registry, agency by agency (`audit_store`): the
store is bound to this chain and registry, every root an agency anchored is in the store, the
agency's own revocations agree both ways, every replacement named on chain is a record of the
same agency, agencies' names and statuses agree; the batches themselves: `batches`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from registry.chain import RevocationInfo
from registry.service.audit.batches import (
    _batch_records,
    _batch_row,
    _BatchRow,
    _check_batch_chain,
    _check_batch_records,
)
from registry.service.audit.findings import (
    _STATUS_NAMES,
    MAX_LISTED,
    ZERO32,
    Finding,
    FindingKind,
    Progress,
    _iso,
    _replacement_text,
    checksum,
)
from registry.service.audit.replay import ChainSnapshot
from registry.store import Store, repo
from registry.store.errors import WrongStore
from registry.store.inspection import require_registry_tables
from registry.store.models import (
    Agency,
    BatchState,
    Revocation,
    RevocationState,
)
from registry.types import Address, to_hex

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def audit_store(
    snapshot: ChainSnapshot, store: Store, *, progress: Progress | None = None
) -> tuple[list[Finding], dict[str, int]]:
    """Check the operator's store against the chain snapshot, agency by agency; returns
    (findings, counts).

    Per batch: one indexed read of (id, leaf index, digest, kind) in leaf order, the Merkle
    root recomputed over the kind-bound leaves (a 100,000-record batch takes a fraction of a
    second), then its signature and signing key. Then roots, revocations (and their
    replacements) and agencies both ways."""
    require_registry_tables(store)
    findings: list[Finding] = []
    with store.session() as session:
        _check_binding(session, snapshot)
        agencies = {a.id: a for a in repo.list_agencies(session)}
        batches = [_batch_row(b) for b in repo.all_batches(session)]
    address_of = {
        a.id: snapshot.agency_identity(a.address) or checksum(a.address) for a in agencies.values()
    }
    total = sum(b.leaf_count for b in batches)
    done = 0
    if progress is not None:
        progress("store", 0, total)
    by_root: dict[tuple[Address | None, bytes], _BatchRow] = {
        (address_of.get(b.agency_id), b.root): b for b in batches
    }
    records = 0
    for batch in batches:
        with store.session() as session:
            rows = _batch_records(session, batch.id)
            records += len(rows)
            findings.extend(_check_batch_records(session, batch, rows))
        findings.extend(_check_batch_chain(snapshot, batch, address_of.get(batch.agency_id)))
        done += batch.leaf_count
        if progress is not None:
            progress("store", done, total)
    with store.session() as session:
        findings.extend(_unbatched_records(session))
        revocations = repo.list_revocations(session)
        findings.extend(_check_replacements(session, snapshot, address_of))
    findings.extend(_check_roots(snapshot, by_root, address_of.values()))
    findings.extend(_check_revocations(snapshot, revocations, address_of))
    findings.extend(_check_agencies(snapshot, agencies.values()))
    counts = {
        "store_agencies": len(agencies),
        "store_batches": len(batches),
        "store_records": records,
        "store_revocations": len(revocations),
    }
    return findings, counts


def _check_binding(session: Session, snapshot: ChainSnapshot) -> None:
    """Refuse a store that belongs to another registry or chain (a wrong --db)."""
    meta = repo.store_binding(session)
    if meta is None:
        return
    if meta.chain_id != snapshot.chain_id or meta.registry_address != snapshot.address:
        raise WrongStore(
            f"--db belongs to registry {meta.registry_address} on chain {meta.chain_id}, "
            f"not to the audited {snapshot.address} on chain {snapshot.chain_id}"
        )


def _unbatched_records(session: Session) -> list[Finding]:
    """Records that claim to be batched, anchored or revoked but belong to no batch."""
    return [
        Finding(
            FindingKind.MISPLACED_RECORD,
            f"record #{rid}",
            f"status {status} but in no batch: no receipt can prove it",
        )
        for rid, status in repo.unbatched_records(session, limit=MAX_LISTED)
    ]


def _check_roots(
    snapshot: ChainSnapshot,
    by_root: dict[tuple[Address | None, bytes], _BatchRow],
    served_agencies: Iterable[Address],
) -> list[Finding]:
    """Every root an agency of the store anchored has its batch of that agency in the store
    (void anchors are reported once, as such); every confirmed batch's root is on chain under
    its agency. Other agencies' anchors are theirs and their operators' business."""
    findings = []
    state = snapshot.state
    served = {agency for agency, _ in by_root} | set(served_agencies)
    for (agency, root), anchor in state.anchors.items():
        if agency not in served:
            continue  # another operator's agency (or one copying a root: its own namespace)
        if (agency, root) in by_root or (agency, root) in snapshot.void_anchors:
            continue
        tx, block = state.anchor_tx.get((agency, root), (b"", 0))
        findings.append(
            Finding(
                FindingKind.ROOT_NOT_IN_STORE,
                f"root {to_hex(root)} by {agency}",
                f"anchored by {snapshot.agency_name(agency)} ({agency}, {anchor.leaf_count} "
                f"records) in block {block}, tx {to_hex(tx)}, at {_iso(anchor.anchored_at)}; "
                "the store has no batch of that agency with this root",
            )
        )
    for (batch_agency, root), batch in by_root.items():
        if batch.state != BatchState.CONFIRMED or (batch_agency, root) in state.anchors:
            continue
        if batch.block_number is not None and batch.block_number > snapshot.to_block:
            continue  # confirmed after the audit read the chain
        others = sorted(str(a) for a, r in state.anchors if r == root)
        also = f"; the root is anchored by {', '.join(others)} instead" if others else ""
        findings.append(
            Finding(
                FindingKind.ROOT_NOT_ON_CHAIN,
                f"batch #{batch.id} root {to_hex(root)}",
                f"the store says confirmed in block {batch.block_number}, but no Anchored "
                f"event of {batch_agency} up to block {snapshot.to_block} has this root{also}",
            )
        )
    return findings


def _check_revocations(
    snapshot: ChainSnapshot,
    revocations: Iterable[Revocation],
    address_of: dict[int, Address],
) -> list[Finding]:
    """Revocations on chain and in the store agree, the agencies' own and the authority's
    apart: same (agency, hash), reason, replacement. Void ones (an agency's inside one of its
    compromise windows) are reported once, as such; other agencies' are not this store's."""
    findings = []
    in_store: set[tuple[Address, bytes, bool]] = set()
    on_chain_all: dict[tuple[Address, bytes, bool], RevocationInfo] = {
        (agency, hash_, False): info
        for (agency, hash_), info in snapshot.agency_revocations.items()
    }
    on_chain_all.update(
        ((agency, hash_, True), info)
        for (agency, hash_), info in snapshot.state.revocations.items()
        if info.by_authority
    )
    for rev in revocations:
        agency = address_of.get(rev.agency_id)
        if agency is None:
            continue
        by_authority = bool(getattr(rev, "by_authority", False))
        key = (agency, bytes(rev.hash), by_authority)
        in_store.add(key)
        who = "the authority" if by_authority else agency
        subject = f"revocation {to_hex(bytes(rev.hash))} by {who}"
        on_chain = on_chain_all.get(key)
        if on_chain is None:
            late = rev.block_number is not None and rev.block_number > snapshot.to_block
            if rev.state == RevocationState.CONFIRMED and not late:
                event = "RevokedByAuthority" if by_authority else "Revoked"
                findings.append(
                    Finding(
                        FindingKind.REVOCATION_MISSING_ON_CHAIN,
                        subject,
                        f"the store says confirmed (reason {rev.reason}), but no {event} event "
                        "has it: verifiers still see the record as valid",
                    )
                )
            continue
        replacement = bytes(rev.replacement) if rev.replacement is not None else ZERO32
        differences = []
        if on_chain.reason != rev.reason:
            differences.append(f"reason on chain {on_chain.reason}, in the store {rev.reason}")
        if on_chain.replacement != replacement:
            differences.append(
                f"replacement on chain {_replacement_text(on_chain.replacement)}, in the store "
                f"{_replacement_text(replacement)}"
            )
        if differences:
            findings.append(
                Finding(FindingKind.REVOCATION_MISMATCH, subject, "; ".join(differences))
            )
    served = set(address_of.values())
    for (agency, hash_, by_authority), info in on_chain_all.items():
        if agency not in served or (agency, hash_, by_authority) in in_store:
            continue
        if not by_authority and (agency, hash_) in snapshot.void_revocations:
            continue
        who = "the authority" if by_authority else agency
        findings.append(
            Finding(
                FindingKind.REVOCATION_MISSING_IN_STORE,
                f"revocation {to_hex(hash_)} by {who}",
                f"revoked on chain at {_iso(info.revoked_at)} (reason {info.reason}, "
                f"replacement {_replacement_text(info.replacement)}"
                f"{', of ' + str(agency) + ' records' if by_authority else ''}); the store has "
                "no such revocation",
            )
        )
    return findings


def _check_replacements(
    session: Session, snapshot: ChainSnapshot, address_of: dict[int, Address]
) -> list[Finding]:
    """Every replacement named on chain (a supersession that is not void) is a record of the
    same agency in the store: anything else sends citizens to a record that does not exist or
    is another agency's."""
    id_of = {address: agency_id for agency_id, address in address_of.items()}
    findings = []
    for (agency, hash_), info in snapshot.agency_revocations.items():
        if not any(info.replacement) or (agency, hash_) in snapshot.void_revocations:
            continue
        if agency not in id_of:
            continue  # not an agency this store serves
        owners = repo.record_owners(session, info.replacement)
        if id_of[agency] in owners:
            continue
        where = (
            "the store holds it only as another agency's record"
            if owners
            else "the store holds no record with that digest"
        )
        findings.append(
            Finding(
                FindingKind.REPLACEMENT_NOT_AGENCY_RECORD,
                f"revocation {to_hex(hash_)} by {agency}",
                f"superseded at {_iso(info.revoked_at)} naming {to_hex(info.replacement)} as "
                f"the replacement, which is not a record of {snapshot.agency_name(agency)}: "
                f"{where}",
            )
        )
    return findings


def _check_agencies(snapshot: ChainSnapshot, agencies: Iterable[Agency]) -> list[Finding]:
    """Each agency of the store is registered on chain with the same key and status."""
    findings = []
    for agency in agencies:
        identity = snapshot.agency_identity(agency.address)
        subject = f"agency {agency.name} ({checksum(agency.address)})"
        info = snapshot.state.agencies.get(identity) if identity else None
        if info is None:
            findings.append(
                Finding(FindingKind.AGENCY_MISMATCH, subject, "not registered on chain")
            )
            continue
        differences = []
        if info.signing_key != agency.signing_key:
            differences.append(
                f"current key on chain {to_hex(info.signing_key)}, in the store "
                f"{agency.signing_public_key}"
            )
        account = getattr(agency, "account", None)
        if account and info.account is not None and checksum(account) != info.account:
            differences.append(
                f"transaction account on chain {info.account}, in the store {checksum(account)}"
            )
        chain_status = _STATUS_NAMES[info.status]
        if chain_status != agency.status:
            differences.append(f"{chain_status} on chain, {agency.status} in the store")
        if differences:
            findings.append(Finding(FindingKind.AGENCY_MISMATCH, subject, "; ".join(differences)))
    return findings
