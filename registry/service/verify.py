"""Verification: the named checks of ARCHITECTURE.md and one overall outcome.

Offline checks (format, integrity, inclusion, signature) come from `registry.receipt`; this
module adds trust (is the registry one we trust?), then ONE `check(agency, leaf, proof, root)`
eth_call per document (the named agency's anchor + its status + compromise window + revocations
of leaf and root), then `keyOf(agency, key)` for the signing key's window. A node that cannot be
reached, is on another chain, or contradicts the proof yields ERROR checks and an ERROR outcome,
never a failure: an outage is not evidence against a document. docs/receipt.md section 5 is the
algorithm; `outcome_of` is its precedence table.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol

from registry.checks import Check, CheckName, CheckStatus
from registry.errors import (
    ChainError,
    ChainUnavailable,
    InvalidInput,
    NoNodeForChain,
    RegistryError,
    WrongChain,
)
from registry.receipt import DigestKind, Receipt, check_receipt_offline, parse_receipt
from registry.service.caches import CACHE_ENTRIES, LruCache
from registry.service.verify_input import VerificationInput, verification_input
from registry.trustlist import RegistryEntry, caip10
from registry.types import to_hex
from registry.vocabulary import AgencyStatus, Reason, reason_text
from registry.vocabulary import Outcome as Outcome  # re-exported for callers

if TYPE_CHECKING:  # the verifier reads through web3 or raw JSON-RPC (registry.chain.rawrpc)
    from web3 import Web3

    from registry.chain import RegistryContract
    from registry.chain.views import AgencyInfo, CheckResult, KeyWindow, ReceiptReading

log = logging.getLogger("registry.verify")


class RegistryViews(Protocol):
    """What a verifier reads of a registry: `RegistryContract` (web3), or
    `registry.chain.rawrpc.RawRegistry` (raw JSON-RPC, for a short-lived CLI process)."""

    def read_receipt(
        self, *, agency: str, leaf: bytes, proof: Sequence[bytes], root: bytes, public_key: bytes
    ) -> ReceiptReading: ...

    def key_of(self, agency: str, key: bytes) -> KeyWindow: ...

    def agency_of(self, agency: str) -> AgencyInfo: ...


def _node_errors() -> tuple[type[BaseException], ...]:
    """What a failed chain read raises: our ChainError, transport errors (requests' derive
    from OSError), and a node's malformed answers through web3 (Web3Exception), once web3 is
    loaded: a reader that never imported it cannot raise it."""
    web3_errors = sys.modules.get("web3.exceptions")
    if web3_errors is None:
        return (ChainError, OSError)
    return (ChainError, OSError, web3_errors.Web3Exception)


NODE_UNREACHABLE = "the registry's node could not be reached"
NODE_WRONG_CHAIN = "the node is on another chain"
NODE_ANSWERED_WRONGLY = "the node answered wrongly"
"""The public reasons why the chain could not be asked: stable, and never the node's URL (a
hosted node's API key is often in its path), host, port or an exception's text (the detail is
logged, with every URL cut to its scheme and host)."""

_URL = re.compile(r"""\b([a-z][a-z0-9+.-]*://)([^\s/'"<>?#]*)[^\s'"<>]*""", re.IGNORECASE)
_URL_PATH = re.compile(r"""\b(url|path): ?/[^\s'"<>)]*""", re.IGNORECASE)


def redact_urls(text: str) -> str:
    """`text` with every URL's user info, path and query cut (they may hold an API key) and
    urllib3's `url: /path` removed, for logging an exception about a node."""
    text = _URL.sub(lambda m: m.group(1) + m.group(2).rpartition("@")[2] + "/...", text)
    return _URL_PATH.sub(lambda m: m.group(1) + ": /...", text)


def node_failure(exc: BaseException, *, where: str = "a chain check") -> str:
    """The public reason for a chain call that failed with `exc`; the detail is logged here,
    its URLs redacted."""
    detail = redact_urls(str(exc))
    log.warning("%s could not be made: %s: %s", where, type(exc).__name__, detail)
    if isinstance(exc, WrongChain):
        return NODE_WRONG_CHAIN
    if isinstance(exc, NoNodeForChain):
        return str(exc)  # names a chain id and a setting, never a URL
    if isinstance(exc, ChainUnavailable | OSError):
        return NODE_UNREACHABLE
    return NODE_ANSWERED_WRONGLY


@dataclass(frozen=True)
class TrustedRegistry:
    """A registry the verifier trusts: chain id + contract address. A chain id of None trusts
    the address on the chain of the node the verifier reads, whose chain id must then equal
    the receipt's (checked when attaching: another chain is ERROR, never UNTRUSTED)."""

    chain_id: int | None
    address: str
    entry: RegistryEntry | None = None
    """The trust list's entry when a list names it: its country, name and status windows."""
    listed_by: str | None = None
    """The list that names it (territory/operator)."""

    def matches(self, chain_id: int, address: str) -> bool:
        return self.chain_id in (None, chain_id) and self.address.lower() == address.lower()


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
    as_of_block: int | None = None
    """The block the chain checks reflect: the registry mirror's, or the node's head read in
    the same request; None when the chain was not asked or the answer was cached."""
    chain_source: str | None = None
    """Where the chain checks came from: "mirror" or "node"; None as for as_of_block."""
    registry: str | None = None
    """The receipt's registry as CAIP-10 (eip155:<chainId>:<address>), once trusted."""
    country: str | None = None
    """The issuing country (ISO 3166-1 alpha-2) when a trust list names the registry."""
    registry_name: str | None = None
    """The registry's name on the trust list."""

    def to_json(self) -> dict[str, Any]:
        return {
            "outcome": str(self.outcome),
            "agency": self.agency,
            "agencyName": self.agency_name,
            "anchoredAt": self.anchored_at,
            "blockNumber": self.block_number,
            "asOfBlock": self.as_of_block,
            "chainSource": self.chain_source,
            "registry": self.registry,
            "country": self.country,
            "registryName": self.registry_name,
            "revocationReason": self.revocation_reason,
            "replacement": self.replacement,
            "checks": [c.to_json() for c in self.checks],
        }


@dataclass
class _Cached:
    value: Any
    at: float


@dataclass(frozen=True)
class ChainAnswer:
    """What the chain says about one receipt: `check()`, and, when read in the same request
    (or from the registry mirror), the signing key's window and the agency's name; `as_of`
    is the block the answer reflects (the mirror's block, or the node's head read first in
    the same request), None when it came from a cache."""

    check: CheckResult
    as_of: int | None = None
    key: KeyWindow | None = None
    agency_name: str | None = None
    source: str | None = None
    """"mirror" (the server's registry mirror) or "node" (asked now); None: a cached answer."""


def answer_key(receipt: Receipt) -> tuple[Any, ...]:
    """What a chain answer about a receipt depends on: registry, agency, leaf, proof, root."""
    a = receipt.anchor
    return (
        a.chain_id,
        a.registry,
        a.agency.lower(),
        receipt.leaf,
        receipt.merkle.proof,
        receipt.merkle.root,
    )


@dataclass
class ChainReader:
    """Reads the registry for verifiers, with caches: key windows once closed never change;
    `check()` results (which carry revocation status) live `revocation_ttl` s."""

    registry_for: Callable[[int, str], RegistryViews]
    revocation_ttl: float = 5.0
    node_for: Callable[[int], Web3] | None = None
    """The node of each chain id (0: the default node, whatever its chain), for documents
    read from other contracts than registries (OpenAttestation DocumentStores)."""
    max_entries: int = CACHE_ENTRIES
    # Bounded, least recently used out first: a flood of distinct receipts evicts one entry at
    # a time instead of growing without end (a CLI verifying a folder, a server).
    _checks: LruCache[tuple[Any, ...], _Cached] = field(init=False)
    _keys: LruCache[tuple[Any, ...], KeyWindow] = field(init=False)
    _names: LruCache[tuple[Any, ...], _Cached] = field(init=False)

    def __post_init__(self) -> None:
        self._checks = LruCache("chain_checks", self.max_entries)
        self._keys = LruCache("closed_key_windows", self.max_entries)
        self._names = LruCache("agency_names", self.max_entries)

    def node_for_chain(self, chain_id: int) -> Web3:
        if self.node_for is None:
            raise NoNodeForChain(f"no node is configured for chain {chain_id}")
        return self.node_for(chain_id)

    def answer(self, receipt: Receipt) -> ChainAnswer:
        """`check()` of the receipt; when the node must be asked, with `keyOf`, `agencyOf`
        and the head block in the same JSON-RPC batch request (one round trip)."""
        key = answer_key(receipt)
        hit = self._checks.get(key)
        now = time.monotonic()
        if hit is not None and now - hit.at < self.revocation_ttl:
            return ChainAnswer(hit.value)
        answer = self.read(receipt)
        self._checks[key] = _Cached(answer.check, now)
        return answer

    def read(self, receipt: Receipt) -> ChainAnswer:
        """Ask the node: check, keyOf, agencyOf and the head in one batch request; the key
        window (once closed) and the name are kept for later receipts."""
        a = receipt.anchor
        public_key = receipt.signature.public_key
        reading = self.registry_for(a.chain_id, a.registry).read_receipt(
            agency=a.agency,
            leaf=receipt.leaf,
            proof=list(receipt.merkle.proof),
            root=receipt.merkle.root,
            public_key=public_key,
        )
        if reading.key.valid_until != 0:
            self._keys[(a.chain_id, a.registry, a.agency, public_key)] = reading.key
        if reading.check.anchor.agency is not None:
            self._names[(a.chain_id, a.registry, a.agency)] = _Cached(
                reading.agency.name, time.monotonic()
            )
        return ChainAnswer(
            reading.check, reading.block, reading.key, reading.agency.name, source="node"
        )

    def key_window(self, chain_id: int, address: str, agency: str, public_key: bytes) -> KeyWindow:
        key = (chain_id, address, agency, public_key)
        cached = self._keys.lookup(key)
        if cached is not None:
            return cached
        window = self.registry_for(chain_id, address).key_of(agency, public_key)
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


@lru_cache(maxsize=4_096)
def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_CHAIN_CHECKS = (CheckName.ANCHORED, CheckName.AGENCY, CheckName.KEY, CheckName.REVOCATION)


def _chain_skipped(reason: str) -> list[Check]:
    return [Check.skipped(name, reason) for name in _CHAIN_CHECKS]


def _chain_errored(reason: str) -> list[Check]:
    return [Check.errored(name, reason) for name in _CHAIN_CHECKS]


def verify_receipt(
    receipt: Receipt | dict[str, Any] | str | bytes,
    *,
    trusted: Iterable[TrustedRegistry],
    reader: ChainReader,
    digest: bytes | None = None,
    digest_kind: DigestKind | None = None,
    extra_checks: Sequence[Check] = (),
    issuer_name: str | None = None,
) -> Verification:
    """Verify a receipt and, when `digest` (with the `digest_kind` it was recomputed as) is
    given, the document it belongs to. Without a document the best outcome is IN_FORCE, never
    VALID.

    `extra_checks` are a credential's own offline checks (registry.credential), shown after
    `format`; `issuer_name` is the name the credential gives its issuer, held to the agency's
    name on the registry once the chain is read (a credential check fails when they differ).

    Every check runs that can; the overall outcome then follows the precedence of
    docs/receipt.md section 5.3 (`outcome_of`)."""
    checks = check_receipt_offline(receipt, digest=digest, digest_kind=digest_kind)
    status = {c.name: c.status for c in checks}
    if status[CheckName.FORMAT] is not CheckStatus.PASS:
        return malformed_verification(
            next(c.reason for c in checks if not c.ok), field=_receipt_fault(receipt)
        )
    checks[1:1] = extra_checks
    parsed = receipt if isinstance(receipt, Receipt) else parse_receipt(receipt)
    anchor = parsed.anchor
    facts: dict[str, Any] = {}
    if outcome_of(checks, document=digest is not None) is Outcome.TAMPERED:
        # Decided offline: asking the chain could not change it, and a forged receipt must not
        # cost the server (or a hosted node's quota) an eth_call.
        reason = "the document or receipt is not what was issued; the chain is not asked"
        checks.append(Check.skipped(CheckName.TRUST, reason))
        checks.extend(_chain_skipped(reason))
        return Verification(Outcome.TAMPERED, tuple(checks))
    match = next((t for t in trusted if t.matches(anchor.chain_id, anchor.registry)), None)
    if match is None:
        reason = (
            f"registry {caip10(anchor.chain_id, anchor.registry)} (chain {anchor.chain_id}, "
            f"address {anchor.registry}) is not a trusted registry: on no trust list held "
            "here, nor configured"
        )
        checks.append(Check.failed(CheckName.TRUST, reason))
        checks.extend(_chain_skipped(reason))
    else:
        entry = match.entry
        where = f"registry {caip10(anchor.chain_id, anchor.registry)}"
        if entry is not None:
            where += f": {entry.name} ({entry.country}), on the trust list {match.listed_by}"
            facts.update(country=entry.country, registry_name=entry.name)
        facts["registry"] = caip10(anchor.chain_id, anchor.registry)
        checks.append(Check.passed(CheckName.TRUST, where))
        try:
            checks.extend(_chain_checks(parsed, reader, facts))
        except _node_errors() as exc:
            # Transport errors (requests' derive from OSError) and a node's malformed answers
            # (Web3Exception) alike: the chain could not be asked, which is not evidence.
            checks.extend(_chain_errored(f"could not check: {node_failure(exc)}"))
        if entry is not None:
            _apply_status_window(checks, entry, anchor.anchored_at_unix)
        if issuer_name is not None and facts.get("agency_name") is not None:
            _apply_issuer_name(checks, issuer_name, facts["agency_name"])
    return Verification(outcome_of(checks, document=digest is not None), tuple(checks), **facts)


def _apply_issuer_name(checks: list[Check], claimed: str, registered: str) -> None:
    """A credential's `issuer.name` must be the agency's name on the registry (the chain's,
    read with the anchor): nothing offline proves it, and a Data Integrity verifier shows it.
    A different name turns the credential check into a failure saying so."""
    if claimed == registered:
        return
    failed = Check.failed(
        CheckName.CREDENTIAL,
        f"issuer.name: {claimed!r} is not the agency's name on the registry ({registered!r})",
        field="issuer.name",
    )
    index = next((i for i, c in enumerate(checks) if c.name == CheckName.CREDENTIAL and c.ok), None)
    if index is None:
        checks.insert(1, failed)
    else:
        checks[index] = failed


def _apply_status_window(checks: list[Check], entry: RegistryEntry, anchored_at: int) -> None:
    """A listed registry is trusted for anchors made while its status was granted: once the
    chain confirmed the anchor's time (the anchored check passed), an anchor outside that
    window turns the trust check into a failure saying why."""
    anchored = next((c for c in checks if c.name == CheckName.ANCHORED), None)
    if anchored is None or anchored.status is not CheckStatus.PASS:
        return
    reason = entry.untrusted_at(datetime.fromtimestamp(anchored_at, UTC))
    if reason is not None:
        index = next(i for i, c in enumerate(checks) if c.name == CheckName.TRUST)
        checks[index] = Check.failed(CheckName.TRUST, reason, statusWindow=True)


def outcome_of(checks: Sequence[Check], *, document: bool) -> Outcome:
    """The first outcome of docs/receipt.md section 5.3 whose condition holds."""
    by_name = {c.name: c for c in checks}

    def failed(name: str) -> bool:
        check = by_name.get(name)
        return check is not None and check.status is CheckStatus.FAIL

    if failed(CheckName.FORMAT) or failed(CheckName.INTEGRITY) or failed(CheckName.INCLUSION):
        return Outcome.TAMPERED
    # A credential reports one failing check per field at fault: any of them.
    if any(c.name == CheckName.CREDENTIAL and c.status is CheckStatus.FAIL for c in checks):
        return Outcome.TAMPERED
    if failed(CheckName.TRUST):
        return Outcome.UNTRUSTED
    if any(c.status is CheckStatus.ERROR for c in checks):
        return Outcome.ERROR
    anchored = by_name.get(CheckName.ANCHORED)
    if anchored is not None and anchored.details.get("notAnchored"):
        return Outcome.UNKNOWN
    if any(
        failed(n)
        for n in (CheckName.SIGNATURE, CheckName.ANCHORED, CheckName.AGENCY, CheckName.KEY)
    ):
        return Outcome.UNTRUSTED
    revocation = by_name.get(CheckName.REVOCATION)
    if revocation is not None and revocation.status is CheckStatus.FAIL:
        if revocation.details.get("reasonCode") == Reason.SUPERSEDED:
            return Outcome.SUPERSEDED
        return Outcome.REVOKED
    return Outcome.VALID if document else Outcome.IN_FORCE


def _chain_checks(receipt: Receipt, reader: ChainReader, facts: dict[str, Any]) -> list[Check]:
    """anchored, agency, key, revocation: one check() call, then keyOf (cached)."""
    answer = reader.answer(receipt)
    result = answer.check
    if answer.as_of is not None:
        facts.update(as_of_block=answer.as_of, chain_source=answer.source)
    if result.anchor.agency is None:
        return _not_anchored(receipt, answer.as_of)
    if not result.included:
        # The offline fold of the same proof reached this root: a node saying otherwise is
        # answering wrongly, which says nothing about the document.
        return _chain_errored(
            "the node's check() says the proof does not lead to the root, which the offline "
            "fold contradicts: the node's answer cannot be trusted"
        )
    facts.update(
        agency=result.anchor.agency,
        anchored_at=_iso(result.anchor.anchored_at),
        block_number=result.anchor.block_number,
    )
    a = receipt.anchor
    name = answer.agency_name
    if name is None:
        name = reader.agency_name(a.chain_id, a.registry, a.agency)
    facts["agency_name"] = name
    window = answer.key
    if window is None:
        window = reader.key_window(a.chain_id, a.registry, a.agency, receipt.signature.public_key)
    return [
        _anchored_check(receipt, result),
        _agency_check(name, result),
        _key_check(receipt, window, name, result.anchor.anchored_at),
        _revocation_check(result, facts),
    ]


def _not_anchored(receipt: Receipt, as_of: int | None = None) -> list[Check]:
    anchor = receipt.anchor
    reason = (
        f"root {to_hex(receipt.merkle.root)} is not anchored by agency {anchor.agency} on "
        f"registry {anchor.registry}"
    )
    if as_of is not None:
        reason += f" (as of block {as_of})"
    return [
        Check.failed(CheckName.ANCHORED, reason, notAnchored=True),
        *_chain_skipped("not anchored")[1:],
    ]


def _anchored_check(receipt: Receipt, result: CheckResult) -> Check:
    """The anchor as the chain has it; a receipt that misstates any part of it fails."""
    anchor, chain = receipt.anchor, result.anchor
    anchored_at = _iso(chain.anchored_at)
    misstated = []
    if chain.leaf_count != receipt.merkle.count:
        misstated.append(
            f"batch has {chain.leaf_count} records, receipt says {receipt.merkle.count}"
        )
    if chain.anchored_at != anchor.anchored_at_unix:
        misstated.append(f"anchored at {anchored_at}, receipt says {_iso(anchor.anchored_at_unix)}")
    if chain.block_number != anchor.block_number:
        misstated.append(
            f"anchored in block {chain.block_number}, receipt says {anchor.block_number}"
        )
    if misstated:
        return Check.failed(
            CheckName.ANCHORED, "the receipt misstates the anchor: " + "; ".join(misstated)
        )
    return Check.passed(
        CheckName.ANCHORED,
        f"root anchored at {anchored_at} (block {chain.block_number}) by {chain.agency}",
        anchoredAt=chain.anchored_at,
        blockNumber=chain.block_number,
        leafCount=chain.leaf_count,
    )


def _agency_check(name: str, result: CheckResult) -> Check:
    """The agency's standing; an anchor inside a compromise window is void."""
    changed = _iso(result.agency_status_changed_at)
    if result.void_since:
        since = _iso(result.void_since)
        return Check.failed(
            CheckName.AGENCY,
            f"{name}: the registry authority marked this agency's account compromised since "
            f"{since}; this anchor ({_iso(result.anchor.anchored_at)}) falls in that window and "
            "is void",
            status="compromised",
            compromisedSince=since,
            void=True,
        )
    status = result.agency_status
    if status is AgencyStatus.ACTIVE:
        return Check.passed(CheckName.AGENCY, f"{name}: active", status="active")
    if status is AgencyStatus.SUSPENDED:
        return Check.passed(
            CheckName.AGENCY,
            f"{name}: suspended since {changed} (anchoring needs an active agency, so this "
            "record was anchored before)",
            status="suspended",
            suspendedSince=changed,
        )
    if status is AgencyStatus.COMPROMISED:
        return Check.passed(
            CheckName.AGENCY,
            f"{name}: marked compromised on {changed}; this record was anchored before the "
            "compromise window and stands",
            status="compromised",
        )
    return Check.failed(CheckName.AGENCY, f"{name}: not a registered agency", status="none")


def _key_check(receipt: Receipt, window: KeyWindow, name: str, anchored_at: int) -> Check:
    public_key = receipt.signature.public_key
    if window.agency is None:
        return Check.failed(
            CheckName.KEY, f"signing key {to_hex(public_key)} is not a key of {name}"
        )
    if not window.valid_at(anchored_at):
        until = _iso(window.valid_until) if window.valid_until else "now"
        return Check.failed(
            CheckName.KEY,
            f"signing key was {name}'s from {_iso(window.valid_from)} to {until}, "
            f"not at the anchor time {_iso(anchored_at)}",
        )
    return Check.passed(CheckName.KEY, f"a key of {name}, valid at the anchor time")


def _revocation_check(result: CheckResult, facts: dict[str, Any]) -> Check:
    """Revocations of the whole batch first, then of the record; void ones are ignored."""
    ignored = [
        r for r in (result.root_revocation, result.leaf_revocation) if r.revoked_at and r.void
    ]
    note = (
        f" (a revocation at {_iso(ignored[0].revoked_at)} fell in a compromise window and is void)"
        if ignored
        else ""
    )
    batch_revoked = result.root_revocation.revoked
    revocation = result.root_revocation if batch_revoked else result.leaf_revocation
    if not revocation.revoked:
        return Check.passed(
            CheckName.REVOCATION, "neither the record nor its batch is revoked" + note
        )
    scope = "the whole batch" if batch_revoked else "this record"
    # .get on the raw code: a node answering a code outside 1-5 must not crash the verifier
    reason = reason_text(revocation.reason)
    who = "the registry authority" if revocation.by_authority else "the agency"
    replacement = to_hex(revocation.replacement) if any(revocation.replacement) else None
    text = f"{scope} revoked by {who} at {_iso(revocation.revoked_at)}: {reason}"
    if replacement:
        text += f"; the agency names {replacement} as its replacement (look it up to verify it)"
    facts.update(replacement=replacement, revocation_reason=reason)
    return Check.failed(
        CheckName.REVOCATION,
        text + note,
        reasonCode=revocation.reason,
        replacement=replacement,
        byAuthority=revocation.by_authority,
    )


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
            Check.skipped(CheckName.TRUST, no_receipt),
            Check.failed(CheckName.ANCHORED, reason, notAnchored=True),
            Check.skipped(CheckName.AGENCY, "not anchored"),
            Check.skipped(CheckName.KEY, "not anchored"),
            Check.skipped(CheckName.REVOCATION, "not anchored"),
        ),
    )


class ReceiptLookup(Protocol):
    """Finds the receipt of an anchored record by digest, preferring records of `kind`."""

    def __call__(self, digest: bytes, *, kind: str | None = None) -> Receipt: ...


def verify_digest(
    receipt_for: ReceiptLookup,
    digest: bytes,
    *,
    digest_kind: DigestKind | None,
    trusted: list[TrustedRegistry],
    reader: ChainReader,
) -> Verification:
    """Verify a document known only by its digest: the store supplies the receipt, the chain
    decides. A digest with no anchored record here is UNKNOWN. `digest_kind` says what the
    digest was computed from ("file" when the caller hashed a file's bytes); None when the
    caller only typed a digest: then no document was checked and the best outcome is
    IN_FORCE."""
    try:
        receipt = receipt_for(digest, kind=digest_kind)
    except InvalidInput as exc:
        return unknown_verification(str(exc))
    if digest_kind is None:
        if receipt.digest != bytes(digest):
            return unknown_verification(f"no record with digest {to_hex(bytes(digest))}")
        return verify_receipt(receipt, trusted=trusted, reader=reader)
    return verify_receipt(
        receipt, trusted=trusted, reader=reader, digest=digest, digest_kind=digest_kind
    )


def _receipt_fault(receipt: Receipt | dict[str, Any] | str | bytes) -> str | None:
    """The field at fault in a receipt that failed its format check (None: the whole)."""
    if isinstance(receipt, Receipt):
        return None  # already parsed: its format check passes
    try:
        parse_receipt(receipt)
    except InvalidInput as exc:
        return exc.field
    return None


def malformed_verification(reason: str, *, field: str | None = None) -> Verification:
    """The verdict on a sealed document or receipt that breaks a reading rule: TAMPERED, the
    format check naming the `field` at fault (its message starts with it; also
    `details.field`); nothing else is checked."""
    details: dict[str, Any] = {"field": field} if field else {}
    after = "the document or receipt is malformed"
    return Verification(
        Outcome.TAMPERED,
        (
            Check.failed(CheckName.FORMAT, reason, **details),
            *(
                Check.skipped(name, after)
                for name in (
                    CheckName.INTEGRITY,
                    CheckName.INCLUSION,
                    CheckName.SIGNATURE,
                    CheckName.TRUST,
                    *_CHAIN_CHECKS,
                )
            ),
        ),
    )


def verify_input(
    given: VerificationInput, *, trusted: Iterable[TrustedRegistry], reader: ChainReader
) -> Verification:
    """Verify what `verification_input` classified: the one entry point of CLI and API."""
    if given.format_error is not None:
        return malformed_verification(given.format_error, field=given.format_field)
    if given.wrapped is not None:
        # Imported here: oa_verify builds its verdicts with this module's names.
        from registry.service.oa_verify import verify_wrapped

        return verify_wrapped(given.wrapped, trusted=trusted, node_for=reader.node_for_chain)
    return verify_receipt(
        given.receipt,
        trusted=trusted,
        reader=reader,
        digest=given.digest,
        digest_kind=given.digest_kind,
        extra_checks=given.extra_checks,
        issuer_name=given.issuer_name,
    )


def registry_resolver(
    connect_rpc: Callable[[int], Web3],
) -> Callable[[int, str], RegistryContract]:
    """Attach (once, identity-checked) to each trusted registry through `connect_rpc(chain_id)`."""
    from registry.chain import RegistryContract

    attached: dict[tuple[int, str], RegistryContract] = {}

    def resolve(chain_id: int, address: str) -> RegistryContract:
        key = (chain_id, address.lower())
        if key not in attached:
            attached[key] = RegistryContract.at(connect_rpc(chain_id), address, chain_id=chain_id)
        return attached[key]

    return resolve


__all__ = [
    "ChainAnswer",
    "ChainReader",
    "Outcome",
    "RegistryError",
    "TrustedRegistry",
    "Verification",
    "VerificationInput",
    "malformed_verification",
    "node_failure",
    "outcome_of",
    "redact_urls",
    "registry_resolver",
    "unknown_verification",
    "verification_input",
    "verify_digest",
    "verify_input",
    "verify_receipt",
]
