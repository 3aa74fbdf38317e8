"""The registry's vocabulary, defined once: the verdicts a verification reaches, the contract's
revocation reasons and agency statuses, and what each means to a person.

Every layer imports these names from here (the chain bindings re-export `Reason` and
`AgencyStatus` for their callers). Adding a revocation reason touches the contract, its
artifact and this module; `tests/test_vocabulary.py` checks this module against the contract's
constants and the API's OpenAPI document. Pure: no I/O, no web3, no framework.
"""

from __future__ import annotations

import enum
from enum import StrEnum


class Outcome(StrEnum):
    """Overall verdict, shown the same by API, CLI and web page."""

    VALID = "VALID"
    IN_FORCE = "IN_FORCE"
    """The record exists and is in force, but no document was checked (a receipt alone)."""
    TAMPERED = "TAMPERED"
    REVOKED = "REVOKED"
    SUPERSEDED = "SUPERSEDED"
    UNKNOWN = "UNKNOWN"
    UNTRUSTED = "UNTRUSTED"
    ERROR = "ERROR"


OUTCOME_MEANING: dict[Outcome, str] = {
    Outcome.VALID: "a document in hand checked out",
    Outcome.IN_FORCE: "a receipt or a digest alone: the record exists and is in force, but no "
    "document was checked",
    Outcome.TAMPERED: "the document or the receipt is altered or malformed",
    Outcome.REVOKED: "",
    Outcome.SUPERSEDED: "",
    Outcome.UNKNOWN: "",
    Outcome.UNTRUSTED: "registry, anchor, agency or key not trusted; an anchor made while the "
    "agency's account was marked compromised",
    Outcome.ERROR: "could not check: never evidence against the document",
}
"""What each verdict means, where it needs saying (empty: the name says it)."""


def outcomes_described() -> str:
    """Every verdict with its meaning, as one sentence (the API's description of `outcome`)."""
    parts = [
        f"{outcome} ({OUTCOME_MEANING[outcome]})" if OUTCOME_MEANING[outcome] else str(outcome)
        for outcome in Outcome
    ]
    return ", ".join(parts) + "."


EXIT_CODES: dict[Outcome, int] = {Outcome.VALID: 0, Outcome.IN_FORCE: 4, Outcome.ERROR: 3}
"""The CLI's exit code for a verdict; any verdict not listed exits 1 (2 is bad input)."""


def exit_code_of(outcome: Outcome) -> int:
    """The CLI's exit code for `outcome`: 0 VALID, 4 IN_FORCE, 3 could not check, 1 otherwise."""
    return EXIT_CODES.get(outcome, 1)


class Reason(enum.IntEnum):
    """Revocation reason codes (the contract's `REASON_*` constants); 0 is invalid."""

    ISSUED_IN_ERROR = 1
    SUPERSEDED = 2
    FRAUD = 3
    WITHDRAWN = 4
    COURT_ORDER = 5

    @property
    def label(self) -> str:
        """The short name: `issued in error`, `withdrawn`, `court order`."""
        return self.name.lower().replace("_", " ")

    @property
    def text(self) -> str:
        """What verifiers and the open data show: `withdrawn by the agency`."""
        return REASON_TEXT[self]


REASON_TEXT: dict[Reason, str] = {
    **{reason: reason.label for reason in Reason},
    Reason.WITHDRAWN: "withdrawn by the agency",
}
"""The text shown for each reason (verdicts, API answers, open data)."""

BATCH_REASONS: tuple[Reason, ...] = tuple(r for r in Reason if r is not Reason.SUPERSEDED)
"""Reasons a whole batch (and the registry authority) may give: a replacement is per record."""


def reason_text(code: int) -> str:
    """The text of reason `code`, or `reason N` for a code this version does not know."""
    try:
        return REASON_TEXT[Reason(code)]
    except ValueError:
        return f"reason {code}"


def reasons_listed(reasons: tuple[Reason, ...] = tuple(Reason), *, short: bool = False) -> str:
    """`1 issued in error, 2 superseded, ...` (short: `4 withdrawn`), for help texts."""
    return ", ".join(f"{r.value} {r.label if short else r.text}" for r in reasons)


class RecordStatus(StrEnum):
    """A record's place in the issuing pipeline (the store's column, the API's `status`)."""

    PENDING = "pending"
    BATCHED = "batched"
    ANCHORED = "anchored"
    REVOKED = "revoked"


class AgencyStatus(enum.IntEnum):
    """Mirror of the contract's `AgencyStatus` enum; NONE = never registered."""

    NONE = 0
    ACTIVE = 1
    SUSPENDED = 2
    COMPROMISED = 3

    @property
    def label(self) -> str:
        """The name the API answers: `active`, `suspended`, `compromised`, `none`."""
        return self.name.lower()
