"""Auditing: re-check the whole registry from the chain's event log alone (protocol v2).

An auditor trusts neither the operator's server nor its database. This package rebuilds every
agency (identity, current transaction account, status history, compromise windows, moves),
signing key (with its validity window, per agency; proposals not yet confirmed), anchor and
revocation (per agency; the authority's apart) from the registry's events, then checks against
that rebuilt state:

* the event log itself: anchors and revocations an agency made inside one of its compromise
  windows (void for every verifier: reported as such), a confirmed key whose proposal came
  from a compromised account, an anchor between a suspension and a reinstatement;
* receipts and documents in folders, with the named checks of `verify_receipt` (kind-bound
  leaves, the v2 root message naming the agency), the audited registry being the only trusted
  one (a receipt naming any other registry or chain id is a forged or foreign receipt);
* the operator's store, agency by agency: every batch's (kind, digest) leaves recompute to
  its root, every root its agency anchored is in the store and every confirmed batch is on
  chain under its agency, the agency's own revocations agree both ways, every replacement
  named on chain is a record of the same agency, and every batch was signed by a key of its
  agency that was valid when the root was anchored.

Each problem is one `Finding` (kind, subject, detail). An outage is never a finding: the
audit's outcome is then COULD_NOT_CHECK. `registry export`, `registry verify-folder` and
`registry compare` use the reading, folder and comparison helpers here. The parts: findings
(the report), replay (the event log), batches and store_checks (the store), folder (receipts
and documents), export (the CSV files).
"""

from __future__ import annotations

import time
from pathlib import Path

from registry.chain import RegistryContract
from registry.errors import ChainUnavailable
from registry.service.audit.findings import (
    AuditOutcome,
    AuditReport,
    Finding,
    FindingKind,
    Progress,
    checksum,
    could_not_check,
)
from registry.service.audit.folder import (
    FolderItem,
    ItemResult,
    audit_receipts,
    collect_folder,
    folder_exit_code,
    verify_folder,
    verify_item,
)
from registry.service.audit.replay import (
    ChainSnapshot,
    _chain_summary,
    compare_snapshots,
    iter_event_rows,
    read_registry,
)
from registry.service.audit.replay import _replay_suspensions as _replay_suspensions
from registry.service.audit.store_checks import audit_store
from registry.store import Store
from registry.store.errors import StoreUnavailable
from registry.store.inspection import read_errors

__all__ = [
    "AuditOutcome",
    "AuditReport",
    "ChainSnapshot",
    "Finding",
    "FindingKind",
    "FolderItem",
    "ItemResult",
    "Progress",
    "audit_receipts",
    "audit_registry",
    "audit_store",
    "checksum",
    "collect_folder",
    "compare_snapshots",
    "could_not_check",
    "folder_exit_code",
    "iter_event_rows",
    "read_registry",
    "verify_folder",
    "verify_item",
]


# ---------------------------------------------------------------- the whole audit


def audit_registry(
    registry: RegistryContract,
    *,
    store: Store | None = None,
    receipts_dir: Path | None = None,
    documents_dir: Path | None = None,
    from_block: int = 0,
    to_block: int | None = None,
    log_span: int = 5_000,
    retries: int = 4,
    backoff: float = 0.5,
    progress: Progress | None = None,
) -> AuditReport:
    """Audit `registry` from its event log, and optionally the operator's store and folders
    of receipts and documents. An outage gives a COULD_NOT_CHECK report, never findings."""
    started = time.perf_counter()
    items: list[FolderItem] = []
    if receipts_dir is not None:
        items += collect_folder(receipts_dir, receipts_only=True)
    if documents_dir is not None:
        items += collect_folder(documents_dir)
    try:
        snapshot = read_registry(
            registry,
            from_block=from_block,
            to_block=to_block,
            span=log_span,
            retries=retries,
            backoff=backoff,
            progress=progress,
        )
        findings = list(snapshot.findings)
        summary = _chain_summary(snapshot)
        if store is not None:
            with read_errors(store):
                store_findings, counts = audit_store(snapshot, store, progress=progress)
            findings += store_findings
            summary.update(counts)
        if items:
            with read_errors(store):
                file_findings, counts = audit_receipts(
                    snapshot, items, store=store, progress=progress
                )
            findings += file_findings
            summary.update(counts)
    except (ChainUnavailable, StoreUnavailable) as exc:
        report = could_not_check(
            str(exc), registry=registry.address, chain_id=registry.chain_id, from_block=from_block
        )
        return _with_time(report, started)
    unique = sorted(set(findings), key=lambda f: (list(FindingKind).index(f.kind), f.subject))
    summary["findings"] = len(unique)
    return AuditReport(
        outcome=AuditOutcome.FINDINGS if unique else AuditOutcome.CLEAN,
        registry=snapshot.address,
        chain_id=snapshot.chain_id,
        from_block=snapshot.from_block,
        to_block=snapshot.to_block,
        summary=summary,
        findings=tuple(unique),
        seconds=time.perf_counter() - started,
    )


def _with_time(report: AuditReport, started: float) -> AuditReport:
    return AuditReport(
        outcome=report.outcome,
        registry=report.registry,
        chain_id=report.chain_id,
        from_block=report.from_block,
        to_block=report.to_block,
        summary=report.summary,
        findings=report.findings,
        seconds=time.perf_counter() - started,
        error=report.error,
    )
