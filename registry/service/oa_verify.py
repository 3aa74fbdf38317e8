"""Verify an OpenAttestation v2 wrapped document on its DocumentStore.

The checks, in order (docs/credentials.md, "OpenAttestation v2 documents in", says how
exactly, and why stricter than OA):

* format: the document parses as an OA v2 wrapped document (registry.openattestation), and
  each issuer names where it is issued; malformed is TAMPERED, naming the field;
* integrity: the salted data and ``privacy.obfuscatedData`` hash to ``signature.targetHash``
  exactly as OA computes it, and every value shown is covered by that hash (stricter than OA:
  see `_offline_checks`); inclusion: the proof leads from the target hash to
  ``signature.merkleRoot``. Either failing is TAMPERED, and the chain is not asked;
* trust: an OA document names no chain, only store addresses, so each issuer's store
  (``documentStore``, else ``certificateStore``) must be a trusted registry BY ADDRESS; the
  chain is the one that TrustedRegistry names (chain id None: the node's chain). Any issuer's
  store not trusted is UNTRUSTED, naming it and how to trust it;
* anchored: ``isIssued(merkleRoot)`` on every issuer's store (OA v2 requires all issuers to
  check out); false on any is UNKNOWN ("not issued");
* revocation: ``isRevoked`` on every hash oa-verify asks about (the target hash, each
  intermediate node up the proof, the Merkle root); any true is REVOKED, naming which;
* identity: always skipped, saying so: DNS-TXT identity needs a DNS lookup, and the store's
  address is trusted by configuration or trust list instead.

Each store is asked once, in one JSON-RPC batch request (registry.chain.documentstore). A
node that cannot be reached, or answers wrongly, is ERROR, never a failure. Transferable
documents (a token registry) and DID-signed documents are UNKNOWN: not supported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from web3 import Web3
from web3.exceptions import Web3Exception

from registry.chain.documentstore import DocumentStore, NotADocumentStore, StoreReading
from registry.checks import Check, CheckName
from registry.errors import ChainError
from registry.openattestation import (
    IntegrityResult,
    InvalidWrappedDocument,
    WrappedDocument,
    check_document_integrity,
    parse_wrapped_v2,
)
from registry.service.verify import (
    Outcome,
    TrustedRegistry,
    Verification,
    node_failure,
    outcome_of,
)
from registry.trustlist import caip10
from registry.types import Address

__all__ = [
    "DEFAULT_NODE",
    "IDENTITY",
    "IDENTITY_OUT_OF_SCOPE",
    "verify_wrapped",
]

IDENTITY: Final = "identity"
"""The check name of the issuer's identity (issuers[].identityProof): always skipped."""

IDENTITY_OUT_OF_SCOPE: Final = (
    "DNS-TXT identity (issuers[].identityProof) needs a DNS lookup, out of scope: the store's "
    "address is trusted by configuration or trust list instead"
)

DEFAULT_NODE: Final = 0
"""What `verify_wrapped` asks `node_for` for when a store is trusted on "the node's chain"
(TrustedRegistry.chain_id None): no chain has id 0 (EIP-155 ids are positive), so `node_for`
must answer it with the verifier's default node; the chain id shown is then that node's."""

_DID_PROOFS = frozenset({"DID", "DNS-DID"})


def _identity() -> Check:
    return Check.skipped(IDENTITY, IDENTITY_OUT_OF_SCOPE)


def _all_skipped(reason: str) -> list[Check]:
    return [
        Check.skipped(CheckName.TRUST, reason),
        Check.skipped(CheckName.ANCHORED, reason),
        Check.skipped(CheckName.REVOCATION, reason),
        _identity(),
    ]


def _malformed(exc: InvalidWrappedDocument | RecursionError) -> Verification:
    """TAMPERED: the format check names the field at fault (its message starts with it)."""
    if isinstance(exc, RecursionError):
        reason, details = "the document is nested too deeply to read", {}
    else:
        reason, details = str(exc), ({"field": exc.field} if exc.field else {})
    after = "the document is malformed"
    return Verification(
        Outcome.TAMPERED,
        (
            Check.failed(CheckName.FORMAT, reason, **details),
            Check.skipped(CheckName.INTEGRITY, after),
            Check.skipped(CheckName.INCLUSION, after),
            *_all_skipped(after),
        ),
    )


# --------------------------------------------------------------------------- issuers


@dataclass(frozen=True)
class _Store:
    """A DocumentStore the document names, and where (the first issuer naming it)."""

    address: Address
    field: str


@dataclass(frozen=True)
class _Issuance:
    stores: tuple[_Store, ...]
    unsupported: str | None
    """Why the document cannot be checked here (a token registry, a DID signature)."""


def _issuance(parsed: WrappedDocument) -> _Issuance:
    """Every issuer's DocumentStore; InvalidWrappedDocument for an issuer naming nothing."""
    stores: dict[str, _Store] = {}
    unsupported: str | None = None
    for i, issuer in enumerate(parsed.issuers):
        where = f"data.issuers[{i}]"
        if issuer.token_registry is not None:
            unsupported = unsupported or (
                f"a transferable document: {where}.tokenRegistry {issuer.token_registry} is a "
                "token registry (a document there is owned, asked with ownerOf), which this "
                "verifier does not support: only DocumentStores are checked"
            )
        elif issuer.store is not None:
            key = "documentStore" if issuer.document_store else "certificateStore"
            stores.setdefault(issuer.store.lower(), _Store(issuer.store, f"{where}.{key}"))
        elif issuer.identity_proof is not None and issuer.identity_proof.type in _DID_PROOFS:
            unsupported = unsupported or (
                f"a DID-signed document ({where}.identityProof.type "
                f"{issuer.identity_proof.type}): it is signed, not issued on a DocumentStore, "
                "and this verifier does not support DID signatures"
            )
        else:
            raise InvalidWrappedDocument(
                "names no documentStore, certificateStore or tokenRegistry: nothing says where "
                "the document is issued",
                field=where,
            )
    return _Issuance(tuple(stores.values()), unsupported)


def _unsupported(checks: list[Check], reason: str) -> Verification:
    """UNKNOWN: the document checks out offline, but how it is issued is not supported here.
    The anchored check fails as "not anchored" so that `outcome_of` agrees."""
    skipped = "not supported: " + reason.partition(":")[0]
    return Verification(
        Outcome.UNKNOWN,
        (
            *checks,
            Check.skipped(CheckName.TRUST, skipped),
            Check.failed(
                CheckName.ANCHORED,
                f"not checked: {reason}",
                notAnchored=True,
                unsupported=True,
            ),
            Check.skipped(CheckName.REVOCATION, skipped),
            _identity(),
        ),
    )


# --------------------------------------------------------------------------- the chain


@dataclass(frozen=True)
class _Answer:
    """What one trusted store said (reading) or why it could not be asked (error)."""

    store: _Store
    trusted: TrustedRegistry
    chain_id: int | None
    reading: StoreReading | None = None
    issued_at: int | None = None
    """The time of the block the root was issued in (only for a store on a trust list)."""
    error: str | None = None

    @property
    def where(self) -> str:
        if self.chain_id is None:
            return f"DocumentStore {self.store.address}"
        return f"DocumentStore {caip10(self.chain_id, self.store.address)}"


def _ask(
    store: _Store,
    trusted: TrustedRegistry,
    *,
    integrity: IntegrityResult,
    node_for: Callable[[int], Web3],
) -> _Answer:
    """One store on one trusted chain: isIssued, isRevoked of every hash (and, for a store on
    a trust list, when the root was issued) in one request."""
    chain_id = trusted.chain_id
    try:
        contract = DocumentStore(
            node_for(DEFAULT_NODE if chain_id is None else chain_id), store.address
        )
        if chain_id is None:
            chain_id = contract.chain_id()
        listed = trusted.entry is not None
        reading = contract.read(
            root=integrity.issuance_hash,
            revocation=integrity.revocation_hashes,
            when_issued=listed,
        )
        issued_at = None
        if listed and reading.issued and reading.issued_block:
            issued_at = contract.block_time(reading.issued_block)
    except NotADocumentStore as exc:
        node_failure(exc, where=f"DocumentStore {store.address}")  # logged
        on = f"chain {chain_id}" if chain_id is not None else "the node's chain"
        reason = (
            f"no contract at {store.address} on {on}: the trusted address is not a "
            "DocumentStore there (wrong chain, or a wrong address trusted)"
        )
        return _Answer(store, trusted, chain_id, error=reason)
    except (ChainError, Web3Exception, OSError) as exc:
        # Transport errors (requests' derive from OSError) and a node's malformed answers
        # alike: the chain could not be asked, which is not evidence against the document.
        reason = node_failure(exc, where=f"DocumentStore {store.address}")
        return _Answer(store, trusted, chain_id, error=reason)
    return _Answer(store, trusted, chain_id, reading, issued_at)


def _answer_for(
    store: _Store,
    matches: list[TrustedRegistry],
    *,
    integrity: IntegrityResult,
    node_for: Callable[[int], Web3],
) -> _Answer:
    """The store on the first trusted chain where the root is issued; an address trusted on
    several chains is asked on each in turn (an error on one makes "not issued" unsayable)."""
    answers: list[_Answer] = []
    seen: set[int | None] = set()
    for trusted in matches:
        if trusted.chain_id in seen:
            continue
        seen.add(trusted.chain_id)
        answer = _ask(store, trusted, integrity=integrity, node_for=node_for)
        if answer.reading is not None and answer.reading.issued:
            return answer
        answers.append(answer)
    return next((a for a in answers if a.error is not None), answers[0])


def _revoked_hash(integrity: IntegrityResult, index: int) -> tuple[str, str]:
    """(scope, words) naming the revoked hash: the document, a node above it, the batch."""
    hashes = integrity.revocation_hashes
    shown = "0x" + hashes[index].hex()
    if len(hashes) == 1:
        return "document", (
            f"the document itself (its targetHash {shown}, which is also its merkleRoot: a "
            "batch of one)"
        )
    if index == 0:
        return "document", f"the document itself (its targetHash {shown})"
    if index == len(hashes) - 1:
        return "batch", (
            f"the whole batch (its merkleRoot {shown}): every document of the batch is revoked"
        )
    return "intermediate", (
        f"an intermediate node of the batch's Merkle tree ({shown}, {index} level"
        f"{'s' if index > 1 else ''} above the document): every document under it is revoked"
    )


def _chain_checks(answers: list[_Answer], integrity: IntegrityResult) -> list[Check]:
    """trust (passed, with a trust list's status window), anchored and revocation."""
    root = "0x" + integrity.issuance_hash.hex()
    errors = [a for a in answers if a.error is not None]
    readings = [(a, a.reading) for a in answers if a.reading is not None]
    not_issued = [a for a, r in readings if not r.issued]
    as_of = min((r.block for _, r in readings), default=None)
    trust = _trust_passed(answers)
    if errors:
        first = errors[0]
        reason = f"could not check {first.where}: {first.error}"
        return [
            trust,
            Check.errored(CheckName.ANCHORED, reason, store=first.store.address),
            Check.errored(CheckName.REVOCATION, reason, store=first.store.address),
        ]
    if not_issued:
        where = ", ".join(a.where for a in not_issued)
        reason = f"not issued: merkleRoot {root} is not issued on {where}"
        if len(answers) > 1:
            reason += " (OpenAttestation requires every issuer's store to have issued it)"
        return [
            trust,
            Check.failed(
                CheckName.ANCHORED,
                f"{reason} (as of block {as_of})",
                notAnchored=True,
                store=not_issued[0].store.address,
            ),
            Check.skipped(CheckName.REVOCATION, "not issued"),
        ]
    where = ", ".join(a.where for a in answers)
    anchored = Check.passed(
        CheckName.ANCHORED, f"merkleRoot {root} is issued on {where} (as of block {as_of})"
    )
    return [trust, anchored, _revocation(readings, integrity)]


def _revocation(readings: list[tuple[_Answer, StoreReading]], integrity: IntegrityResult) -> Check:
    for answer, reading in readings:
        for index, revoked in enumerate(reading.revoked):
            if revoked:
                scope, words = _revoked_hash(integrity, index)
                return Check.failed(
                    CheckName.REVOCATION,
                    f"revoked on {answer.where}: {words}",
                    revokedHash="0x" + integrity.revocation_hashes[index].hex(),
                    revokedScope=scope,
                    revokedLevel=index,
                    store=answer.store.address,
                )
    count = len(integrity.revocation_hashes)
    asked = (
        "the document's targetHash"
        if count == 1
        else f"the document's targetHash, {count - 2} intermediate node"
        f"{'' if count - 2 == 1 else 's'} and the batch's merkleRoot"
    )
    return Check.passed(
        CheckName.REVOCATION, f"not revoked: isRevoked is false for {asked} ({count} hashes)"
    )


def _trust_passed(answers: list[_Answer]) -> Check:
    """Every store trusted; one on a trust list only for roots issued while it was granted
    (known once the store said when: the block of `documentIssued`)."""
    parts = []
    for answer in answers:
        entry, part = answer.trusted.entry, answer.where
        if answer.trusted.chain_id is None:
            part += " (trusted on the node's chain)"
        if entry is not None:
            part += (
                f": {entry.name} ({entry.country}), on the trust list {answer.trusted.listed_by}"
            )
            if answer.issued_at is not None:
                untrusted = entry.untrusted_at(datetime.fromtimestamp(answer.issued_at, UTC))
                if untrusted is not None:
                    # untrusted_at speaks of an anchor: here the block of `issue(merkleRoot)`
                    return Check.failed(
                        CheckName.TRUST,
                        f"{answer.where}: {untrusted} (the merkleRoot was issued then)",
                        statusWindow=True,
                        store=answer.store.address,
                    )
        parts.append(part)
    return Check.passed(CheckName.TRUST, "trusted by address: " + "; ".join(parts))


def _untrusted(stores: list[_Store]) -> Check:
    named = ", ".join(f"{s.address} ({s.field})" for s in stores)
    first = stores[0].address
    return Check.failed(
        CheckName.TRUST,
        f"DocumentStore {named} is not trusted: on no trust list held here, nor configured. "
        "An OpenAttestation document names no chain, so its store is trusted by address: "
        f"trust it with --trust eip155:<chainId>:{first} (the chain its issuer anchors on) "
        "or with a trust list that names it",
        store=first,
    )


# --------------------------------------------------------------------------- the flow


def _offline_checks(parsed: WrappedDocument) -> tuple[IntegrityResult, list[Check]]:
    """format, integrity, inclusion.

    Stricter than OA: a value OA's target hash does not cover (``uncovered_fields``: a key
    shadowed through an ``""`` key, ``constructor``/``prototype``/``__proto__``) fails the
    integrity check, although OA itself says such a document is valid. OA hashes the
    flattened data, and those values never reach the hash, so anyone can change them and the
    document still verifies; a verifier that showed them next to a VALID verdict would be
    vouching for text nobody attested. OA's own tools never produce such keys, so an honest
    issuer loses nothing."""
    integrity = check_document_integrity(parsed)
    checks = [
        Check.passed(CheckName.FORMAT, "an OpenAttestation v2 wrapped document (SHA3MerkleProof)"),
        *integrity.checks(),
    ]
    return integrity, checks


def verify_wrapped(
    document: Mapping[str, Any],
    *,
    trusted: Iterable[TrustedRegistry],
    node_for: Callable[[int], Web3],
) -> Verification:
    """Verify an OpenAttestation v2 wrapped document (already read as JSON): offline (format,
    integrity, inclusion), then every issuer's DocumentStore, which must be trusted by
    address, on the chain its TrustedRegistry names: `node_for(chain_id)` gives that chain's
    node (`node_for(DEFAULT_NODE)` the default node, for a store trusted on "the node's
    chain"). The outcome follows `outcome_of`; the identity check is always skipped."""
    try:
        parsed = parse_wrapped_v2(document)
        issuance = _issuance(parsed)
        integrity, checks = _offline_checks(parsed)
    except (InvalidWrappedDocument, RecursionError) as exc:
        return _malformed(exc)
    if outcome_of(checks, document=True) is Outcome.TAMPERED:
        # Decided offline: the chain could not change it, and a forged document must not cost
        # the verifier (or a hosted node's quota) an eth_call.
        reason = "the document fails its offline checks; the chain is not asked"
        return Verification(Outcome.TAMPERED, (*checks, *_all_skipped(reason)))
    if issuance.unsupported is not None:
        return _unsupported(checks, issuance.unsupported)
    trusted = list(trusted)
    matches = {
        s.address: [t for t in trusted if t.address.lower() == s.address.lower()]
        for s in issuance.stores
    }
    untrusted = [s for s in issuance.stores if not matches[s.address]]
    if untrusted:
        reason = "a store is not trusted; the chain is not asked"
        return Verification(
            Outcome.UNTRUSTED,
            (
                *checks,
                _untrusted(untrusted),
                Check.skipped(CheckName.ANCHORED, reason),
                Check.skipped(CheckName.REVOCATION, reason),
                _identity(),
            ),
        )
    answers = [
        _answer_for(s, matches[s.address], integrity=integrity, node_for=node_for)
        for s in issuance.stores
    ]
    checks += [*_chain_checks(answers, integrity), _identity()]
    return Verification(outcome_of(checks, document=True), tuple(checks), **_facts(answers))


def _facts(answers: list[_Answer]) -> dict[str, Any]:
    """The first store as CAIP-10, its trust list entry, the block the answers reflect."""
    facts: dict[str, Any] = {}
    first = answers[0]
    if first.chain_id is not None:
        facts["registry"] = caip10(first.chain_id, first.store.address)
    if first.trusted.entry is not None:
        facts.update(country=first.trusted.entry.country, registry_name=first.trusted.entry.name)
    blocks = [a.reading.block for a in answers if a.reading is not None]
    if blocks and len(blocks) == len(answers):
        facts.update(as_of_block=min(blocks), chain_source="node")
    return facts
