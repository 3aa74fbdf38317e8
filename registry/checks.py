"""Named verification checks: each one passes, fails, is skipped, or could not be run.

Offline checks (receipt.check_receipt_offline) and on-chain checks (the service layer)
both report in this shape, so the API, the CLI and the web page show the same thing.
"error" means the check could not be run (node down, timeout) and is never a "fail".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

__all__ = ["Check", "CheckName", "CheckStatus", "Detail"]

Detail = str | int | bool | None


class CheckStatus(StrEnum):
    """Outcome of one check; equal to its lower-case string, so it serializes as one."""

    PASS = "pass"
    FAIL = "fail"
    SKIP = "skip"
    ERROR = "error"


class CheckName(StrEnum):
    """The checks a verification reports, in the order they run."""

    FORMAT = "format"
    CREDENTIAL = "credential"
    """A Verifiable Credential's own checks (registry.credential): its proof, and its fields
    against the sealed record and receipt inside it. Only for a credential."""
    INTEGRITY = "integrity"
    INCLUSION = "inclusion"
    SIGNATURE = "signature"
    TRUST = "trust"
    ANCHORED = "anchored"
    AGENCY = "agency"
    KEY = "key"
    REVOCATION = "revocation"


@dataclass(frozen=True)
class Check:
    """One named check and its outcome, with a reason a person can read.

    ``details`` carries facts worth showing (block number, agency name, revocation
    reason code) as JSON scalars.
    """

    name: str
    status: CheckStatus
    reason: str
    details: Mapping[str, Detail] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", str(self.name))
        object.__setattr__(self, "status", CheckStatus(self.status))
        object.__setattr__(self, "details", dict(self.details))

    @classmethod
    def passed(cls, name: str, reason: str, **details: Detail) -> Check:
        """A check that passed."""
        return cls(name, CheckStatus.PASS, reason, details)

    @classmethod
    def failed(cls, name: str, reason: str, **details: Detail) -> Check:
        """A check that ran and found the document or receipt wrong."""
        return cls(name, CheckStatus.FAIL, reason, details)

    @classmethod
    def skipped(cls, name: str, reason: str, **details: Detail) -> Check:
        """A check not run because it does not apply or an earlier one failed."""
        return cls(name, CheckStatus.SKIP, reason, details)

    @classmethod
    def errored(cls, name: str, reason: str, **details: Detail) -> Check:
        """A check that could not be run (outage, timeout): not evidence of anything."""
        return cls(name, CheckStatus.ERROR, reason, details)

    @property
    def ok(self) -> bool:
        """True when the check passed."""
        return self.status is CheckStatus.PASS

    def to_json(self) -> dict[str, object]:
        """The check as a JSON object: name, status, reason, details."""
        return {
            "name": self.name,
            "status": str(self.status),
            "reason": self.reason,
            "details": dict(self.details),
        }
