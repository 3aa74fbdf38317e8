"""Verification: the named checks of ARCHITECTURE.md and one overall outcome.

Offline checks (format, integrity, inclusion, signature) come from `registry.receipt`; this
module adds trust (is the registry one we trust?), then ONE `check()` eth_call per document
(anchor + agency status + revocations of leaf and root), then `keyOf` for the signing key's
window. A node that cannot be reached yields ERROR checks and an ERROR outcome, never a
failure: an outage is not evidence against a document.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from web3 import Web3

from registry.chain import AgencyStatus, CheckResult, KeyWindow, RegistryContract
from registry.chain.contract import Reason
from registry.checks import Check, CheckName, CheckStatus
from registry.errors import ChainError, InvalidInput, RegistryError
from registry.receipt import Receipt, check_receipt_offline, parse_receipt
from registry.record import bytes_digest, document_digest, parse_sealed_document
from registry.types import to_hex

REASON_TEXT = {
    Reason.ISSUED_IN_ERROR: "issued in error",
    Reason.SUPERSEDED: "superseded",
    Reason.FRAUD: "fraud",
    Reason.WITHDRAWN: "withdrawn by the agency",
    Reason.COURT_ORDER: "court order",
}


class Outcome(StrEnum):
    """Overall verdict, shown the same by API, CLI and web page."""

    VALID = "VALID"
    TAMPERED = "TAMPERED"
    REVOKED = "REVOKED"
    SUPERSEDED = "SUPERSEDED"
    UNKNOWN = "UNKNOWN"
    UNTRUSTED = "UNTRUSTED"
    ERROR = "ERROR"


@dataclass(frozen=True)
class TrustedRegistry:
    """A registry the verifier trusts: chain id + contract address."""

    chain_id: int
    address: str

    def matches(self, chain_id: int, address: str) -> bool:
        return self.chain_id == chain_id and self.address.lower() == address.lower()


@dataclass(frozen=True)
class Verification:
    """The outcome, every named check, and the facts a person wants to see."""

    outcome: Outcome
    checks: tuple[Check, ...]
    agency_name: str | None = None
    agency: str | None = None
    anchored_at: str | None = None
    block_number: int | None = None
    replacement: str | None = None
    revocation_reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "outcome": str(self.outcome),
            "agency": self.agency,
            "agencyName": self.agency_name,
            "anchoredAt": self.anchored_at,
            "blockNumber": self.block_number,
            "revocationReason": self.revocation_reason,
            "replacement": self.replacement,
            "checks": [c.to_json() for c in self.checks],
        }


@dataclass
class _Cached:
    value: Any
    at: float


@dataclass
class ChainReader:
    """Reads the registry for verifiers, with caches: key windows once they cover an anchor
    never change; `check()` results (which carry revocation status) live `revocation_ttl` s."""

    registry_for: Callable[[int, str], RegistryContract]
    revocation_ttl: float = 5.0
    _checks: dict[tuple[Any, ...], _Cached] = field(default_factory=dict)
    _keys: dict[tuple[Any, ...], KeyWindow] = field(default_factory=dict)
    _names: dict[tuple[Any, ...], _Cached] = field(default_factory=dict)

    def check(self, receipt: Receipt) -> CheckResult:
        a = receipt.anchor
        key = (a.chain_id, a.registry, receipt.leaf, receipt.merkle.proof, receipt.merkle.root)
        hit = self._checks.get(key)
        now = time.monotonic()
        if hit is not None and now - hit.at < self.revocation_ttl:
            return hit.value  # type: ignore[no-any-return]
        registry = self.registry_for(a.chain_id, a.registry)
        result = registry.check(
            leaf=receipt.leaf, proof=list(receipt.merkle.proof), root=receipt.merkle.root
        )
        self._checks[key] = _Cached(result, now)
        return result

    def key_window(self, chain_id: int, address: str, public_key: bytes, at: int) -> KeyWindow:
        key = (chain_id, address, public_key)
        cached = self._keys.get(key)
        if cached is not None and cached.valid_at(at) and cached.valid_until != 0:
            return cached
        window = self.registry_for(chain_id, address).key_of(public_key)
        if window.valid_until != 0:
            self._keys[key] = window  # a closed window never changes again
        return window

    def agency_name(self, chain_id: int, address: str, agency: str) -> str:
        key = (chain_id, address, agency)
        hit = self._names.get(key)
        if hit is not None:
            return str(hit.value)
        name = self.registry_for(chain_id, address).agency_of(agency).name
        self._names[key] = _Cached(name, time.monotonic())
        return name


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _chain_skipped(reason: str) -> list[Check]:
    return [
        Check.skipped(CheckName.ANCHORED, reason),
        Check.skipped(CheckName.AGENCY, reason),
        Check.skipped(CheckName.KEY, reason),
        Check.skipped(CheckName.REVOCATION, reason),
    ]


def _chain_errored(reason: str) -> list[Check]:
    return [
        Check.errored(CheckName.ANCHORED, reason),
        Check.errored(CheckName.AGENCY, reason),
        Check.errored(CheckName.KEY, reason),
        Check.errored(CheckName.REVOCATION, reason),
    ]


def verify_receipt(
    receipt: Receipt | dict[str, Any] | str | bytes,
    *,
    trusted: Iterable[TrustedRegistry],
    reader: ChainReader,
    digest: bytes | None = None,
) -> Verification:
    """Verify a receipt (and, when `digest` is given, the document it belongs to).

    Every check runs that can; the overall outcome then follows the precedence of
    docs/receipt.md section 5.3 (TAMPERED, UNTRUSTED registry, ERROR, UNKNOWN, SUPERSEDED,
    REVOKED, UNTRUSTED signature or key, VALID)."""
    checks = check_receipt_offline(receipt, digest=digest)
    status = {c.name: c.status for c in checks}
    if status[CheckName.FORMAT] is not CheckStatus.PASS:
        return Verification(Outcome.TAMPERED, (*checks, *_chain_skipped("bad format")))
    parsed = receipt if isinstance(receipt, Receipt) else parse_receipt(receipt)
    anchor = parsed.anchor
    facts: dict[str, Any] = {}
    if not any(t.matches(anchor.chain_id, anchor.registry) for t in trusted):
        reason = f"registry {anchor.registry} on chain {anchor.chain_id} is not a trusted registry"
        checks.append(Check.failed("trust", reason))
        checks.extend(_chain_skipped(reason))
    else:
        checks.append(
            Check.passed("trust", f"registry {anchor.registry} on chain {anchor.chain_id}")
        )
        try:
            checks.extend(_chain_checks(parsed, reader, facts))
        except ChainError as exc:
            checks.extend(_chain_errored(f"could not check: {exc}"))
    return Verification(_outcome(checks), tuple(checks), **facts)


def _outcome(checks: Sequence[Check]) -> Outcome:
    """The first outcome of docs/receipt.md section 5.3 whose condition holds."""
    by_name = {c.name: c for c in checks}

    def failed(name: str) -> bool:
        check = by_name.get(name)
        return check is not None and check.status is CheckStatus.FAIL

    if failed(CheckName.FORMAT) or failed(CheckName.INTEGRITY) or failed(CheckName.INCLUSION):
        return Outcome.TAMPERED
    if failed("trust"):
        return Outcome.UNTRUSTED
    if any(c.status is CheckStatus.ERROR for c in checks):
        return Outcome.ERROR
    anchored = by_name.get(CheckName.ANCHORED)
    if anchored is not None and anchored.details.get("notAnchored"):
        return Outcome.UNKNOWN
    revocation = by_name.get(CheckName.REVOCATION)
    if revocation is not None and revocation.status is CheckStatus.FAIL:
        if revocation.details.get("reasonCode") == Reason.SUPERSEDED:
            return Outcome.SUPERSEDED
        return Outcome.REVOKED
    if any(
        failed(n)
        for n in (CheckName.SIGNATURE, CheckName.ANCHORED, CheckName.AGENCY, CheckName.KEY)
    ):
        return Outcome.UNTRUSTED
    return Outcome.VALID


def _chain_checks(receipt: Receipt, reader: ChainReader, facts: dict[str, Any]) -> list[Check]:
    """anchored, agency, key, revocation: one check() call, then keyOf (cached)."""
    anchor = receipt.anchor
    result = reader.check(receipt)
    if result.anchor.agency is None:
        root = to_hex(receipt.merkle.root)
        reason = f"root {root} is not anchored on registry {anchor.registry}"
        return [
            Check.failed(CheckName.ANCHORED, reason, notAnchored=True),
            *_chain_skipped("not anchored")[1:],
        ]
    anchored_at = _iso(result.anchor.anchored_at)
    facts.update(
        agency=result.anchor.agency, anchored_at=anchored_at, block_number=anchor.block_number
    )
    checks: list[Check] = []
    misstated = []
    if not result.included:
        misstated.append("the registry rejects the Merkle proof")
    if result.anchor.agency != anchor.agency:
        misstated.append(f"agency is {result.anchor.agency}, receipt says {anchor.agency}")
    if result.anchor.leaf_count != receipt.merkle.count:
        misstated.append(
            f"batch has {result.anchor.leaf_count} records, receipt says {receipt.merkle.count}"
        )
    if result.anchor.anchored_at != anchor.anchored_at_unix:
        misstated.append(f"anchored at {anchored_at}, receipt says {_iso(anchor.anchored_at_unix)}")
    if misstated:
        checks.append(Check.failed(CheckName.ANCHORED, "; ".join(misstated)))
    else:
        checks.append(
            Check.passed(
                CheckName.ANCHORED,
                f"root anchored at {anchored_at} by {result.anchor.agency}",
                anchoredAt=result.anchor.anchored_at,
                leafCount=result.anchor.leaf_count,
            )
        )
    name = reader.agency_name(anchor.chain_id, anchor.registry, result.anchor.agency)
    facts["agency_name"] = name
    if result.agency_status is AgencyStatus.SUSPENDED:
        since = _iso(result.agency_status_changed_at)
        checks.append(
            Check.passed(
                CheckName.AGENCY,
                f"{name}: suspended since {since} (anchoring needs an active agency, so this "
                "record was anchored before)",
                status="suspended",
                suspendedSince=since,
            )
        )
    else:
        checks.append(Check.passed(CheckName.AGENCY, f"{name}: active", status="active"))

    public_key = receipt.signature.public_key
    window = reader.key_window(
        anchor.chain_id, anchor.registry, public_key, result.anchor.anchored_at
    )
    if window.agency != result.anchor.agency:
        checks.append(
            Check.failed(CheckName.KEY, f"signing key {to_hex(public_key)} is not a key of {name}")
        )
    elif not window.valid_at(result.anchor.anchored_at):
        until = _iso(window.valid_until) if window.valid_until else "now"
        checks.append(
            Check.failed(
                CheckName.KEY,
                f"signing key was valid {_iso(window.valid_from)} to {until}, "
                f"not at the anchor time {anchored_at}",
            )
        )
    else:
        checks.append(Check.passed(CheckName.KEY, f"a key of {name}, valid at the anchor time"))

    batch_revoked = result.root_revocation.revoked
    revocation = result.root_revocation if batch_revoked else result.leaf_revocation
    if revocation.revoked:
        scope = "the whole batch" if batch_revoked else "this record"
        reason = REASON_TEXT.get(Reason(revocation.reason), f"reason {revocation.reason}")
        replacement = to_hex(revocation.replacement) if any(revocation.replacement) else None
        text = f"{scope} revoked at {_iso(revocation.revoked_at)}: {reason}"
        if replacement:
            text += f"; replaced by {replacement}"
        checks.append(
            Check.failed(
                CheckName.REVOCATION, text, reasonCode=revocation.reason, replacement=replacement
            )
        )
        facts.update(replacement=replacement, revocation_reason=reason)
    else:
        checks.append(
            Check.passed(CheckName.REVOCATION, "neither the record nor its batch is revoked")
        )
    return checks


def unknown_verification(reason: str) -> Verification:
    """The verification of a digest this registry holds no anchored record for: UNKNOWN."""
    no_receipt = f"no receipt: {reason}"
    return Verification(
        Outcome.UNKNOWN,
        (
            Check.skipped(CheckName.FORMAT, no_receipt),
            Check.skipped(CheckName.INTEGRITY, no_receipt),
            Check.skipped(CheckName.INCLUSION, no_receipt),
            Check.skipped(CheckName.SIGNATURE, no_receipt),
            Check.failed(CheckName.ANCHORED, reason, notAnchored=True),
            Check.skipped(CheckName.AGENCY, "not anchored"),
            Check.skipped(CheckName.KEY, "not anchored"),
            Check.skipped(CheckName.REVOCATION, "not anchored"),
        ),
    )


def verify_digest(
    receipt_for: Callable[[bytes], Receipt],
    digest: bytes,
    *,
    trusted: list[TrustedRegistry],
    reader: ChainReader,
) -> Verification:
    """Verify a document known only by its digest: the store supplies the receipt, the chain
    decides. A digest with no anchored record here is UNKNOWN."""
    try:
        receipt = receipt_for(digest)
    except InvalidInput as exc:
        return unknown_verification(str(exc))
    return verify_receipt(receipt, trusted=trusted, reader=reader, digest=digest)


def registry_resolver(
    connect_rpc: Callable[[int], Web3],
) -> Callable[[int, str], RegistryContract]:
    """Attach (once, identity-checked) to each trusted registry through `connect_rpc(chain_id)`."""
    attached: dict[tuple[int, str], RegistryContract] = {}

    def resolve(chain_id: int, address: str) -> RegistryContract:
        key = (chain_id, address.lower())
        if key not in attached:
            attached[key] = RegistryContract.at(connect_rpc(chain_id), address, chain_id=chain_id)
        return attached[key]

    return resolve


@dataclass(frozen=True)
class VerificationInput:
    """What to verify: a receipt and, when a document is in hand, its recomputed digest."""

    kind: str  # "file", "sealed-document" or "receipt"
    receipt: Receipt | dict[str, Any]
    digest: bytes | None


def _typed_json(raw: bytes) -> dict[str, Any] | None:
    """`raw` as a JSON object if it is one of ours (a `type` we know), else None: a file."""
    if not raw.lstrip().startswith(b"{"):
        return None
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    if isinstance(value, dict) and value.get("type") in ("SealedRecord", "RecordReceipt"):
        return value
    return None


def verification_input(
    document: bytes | None, *, receipt: bytes | None = None, where: str = "document"
) -> VerificationInput:
    """Classify what the verifier was given: a sealed document (receipt inside), a receipt
    alone, or an opaque file (PDF, image) with its receipt alongside."""
    receipt_obj: dict[str, Any] | None = None
    if receipt is not None:
        receipt_obj = _typed_json(receipt)
        if receipt_obj is None or receipt_obj.get("type") != "RecordReceipt":
            raise InvalidInput("--receipt: not a RecordReceipt JSON document")
    if document is None:
        if receipt_obj is None:
            raise InvalidInput("nothing to verify: give a document, a receipt, or both")
        return VerificationInput("receipt", receipt_obj, None)
    envelope = _typed_json(document)
    if envelope is not None and envelope["type"] == "SealedRecord":
        doc = parse_sealed_document(envelope)
        chosen: Receipt | dict[str, Any] | None = receipt_obj or doc.receipt
        if chosen is None:
            raise InvalidInput(f"{where}: the sealed document has no receipt yet; pass --receipt")
        return VerificationInput("sealed-document", chosen, bytes(document_digest(doc)))
    if envelope is not None and receipt_obj is None:
        return VerificationInput("receipt", envelope, None)
    if receipt_obj is None:
        raise InvalidInput(f"{where}: a file needs its receipt (--receipt RECEIPT.json)")
    return VerificationInput("file", receipt_obj, bytes_digest(document))


__all__ = [
    "ChainReader",
    "Outcome",
    "RegistryError",
    "TrustedRegistry",
    "Verification",
    "VerificationInput",
    "registry_resolver",
    "unknown_verification",
    "verification_input",
    "verify_digest",
    "verify_receipt",
]
