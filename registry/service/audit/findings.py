"""What an audit reports: each problem one `Finding` (kind, subject, detail), the outcome
(CLEAN, FINDINGS, COULD_NOT_CHECK: an outage is never a finding) and the report.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from web3 import Web3

from registry.chain import AgencyStatus
from registry.errors import InvalidInput
from registry.types import Address, to_hex

ZERO32 = b"\0" * 32
MAX_LISTED = 20
"""At most this many leaf indexes are spelled out in one finding's detail."""

Progress = Callable[[str, int, int], None]
"""progress(phase, done, total): phase is "events" (blocks), "store" (records) or "files"."""


class FindingKind(StrEnum):
    """What an audit can find wrong; the value is the name used in reports."""

    # the event log
    ANCHORED_WHILE_SUSPENDED = "anchored_while_suspended"
    ANCHOR_IN_COMPROMISE_WINDOW = "anchor_in_compromise_window"
    REVOCATION_IN_COMPROMISE_WINDOW = "revocation_in_compromise_window"
    KEY_PROPOSED_IN_COMPROMISE_WINDOW = "key_proposed_in_compromise_window"
    # the operator's store against the chain
    TAMPERED_RECORD = "tampered_record"
    MISSING_RECORD = "missing_record"
    MISPLACED_RECORD = "misplaced_record"
    ROOT_NOT_IN_STORE = "root_not_in_store"
    ROOT_NOT_ON_CHAIN = "root_not_on_chain"
    ANCHOR_MISMATCH = "anchor_mismatch"
    REVOCATION_MISSING_IN_STORE = "revocation_missing_in_store"
    REVOCATION_MISSING_ON_CHAIN = "revocation_missing_on_chain"
    REVOCATION_MISMATCH = "revocation_mismatch"
    REPLACEMENT_NOT_AGENCY_RECORD = "replacement_not_agency_record"
    AGENCY_MISMATCH = "agency_mismatch"
    # signatures and keys (store batches and receipts)
    SIGNATURE_INVALID = "signature_invalid"
    KEY_OUTSIDE_WINDOW = "key_outside_window"
    KEY_NOT_OF_AGENCY = "key_not_of_agency"
    # receipts and documents
    FORGED_RECEIPT = "forged_receipt"
    TAMPERED_DOCUMENT = "tampered_document"
    RECEIPT_INVALID = "receipt_invalid"
    RECEIPT_MISSING = "receipt_missing"
    # two deployments compared (scripts/compare_deployments.py)
    ONLY_IN_FIRST = "only_in_first"
    ONLY_IN_SECOND = "only_in_second"
    DIFFERS = "differs"


@dataclass(frozen=True, order=True)
class Finding:
    """One problem: what kind, about what (a root, a record, a file), and why in words."""

    kind: FindingKind
    subject: str
    detail: str

    def to_json(self) -> dict[str, str]:
        return {"kind": str(self.kind), "subject": self.subject, "detail": self.detail}


class AuditOutcome(StrEnum):
    """clean: nothing found; findings: at least one; could_not_check: an outage stopped it."""

    CLEAN = "clean"
    FINDINGS = "findings"
    COULD_NOT_CHECK = "could_not_check"

    @property
    def exit_code(self) -> int:
        return {"clean": 0, "findings": 1, "could_not_check": 3}[self.value]


@dataclass(frozen=True)
class AuditReport:
    """The audit's result: outcome, what was covered (summary counts), every finding."""

    outcome: AuditOutcome
    registry: str
    chain_id: int | None
    from_block: int
    to_block: int | None
    summary: dict[str, int]
    findings: tuple[Finding, ...]
    seconds: float
    error: str | None = None

    def by_kind(self) -> dict[str, int]:
        """How many findings of each kind."""
        return dict(sorted(Counter(str(f.kind) for f in self.findings).items()))

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "RegistryAudit",
            "version": 1,
            "outcome": str(self.outcome),
            "registry": self.registry,
            "chainId": self.chain_id,
            "fromBlock": self.from_block,
            "toBlock": self.to_block,
            "seconds": round(self.seconds, 3),
            "error": self.error,
            "summary": self.summary,
            "findingsByKind": self.by_kind(),
            "findings": [f.to_json() for f in self.findings],
        }


def could_not_check(
    reason: str, *, registry: str, chain_id: int | None = None, from_block: int = 0
) -> AuditReport:
    """The report of an audit that an outage (node or database down) stopped."""
    return AuditReport(
        outcome=AuditOutcome.COULD_NOT_CHECK,
        registry=registry,
        chain_id=chain_id,
        from_block=from_block,
        to_block=None,
        summary={},
        findings=(),
        seconds=0.0,
        error=reason,
    )


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _replacement_text(value: bytes | None) -> str:
    return "none" if value is None or value == ZERO32 else to_hex(value)


_STATUS_NAMES = {
    AgencyStatus.ACTIVE: "active",
    AgencyStatus.SUSPENDED: "suspended",
    AgencyStatus.COMPROMISED: "compromised",
    AgencyStatus.NONE: "none",
}


def checksum(address: str) -> Address:
    """An address in EIP-55 form, or InvalidInput naming it."""
    if not Web3.is_address(address):
        raise InvalidInput(f"{address!r}: not a 20-byte hex address")
    return Address(Web3.to_checksum_address(address))
