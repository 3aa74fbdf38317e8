"""A sealed record as a W3C Verifiable Credential 2.0, and the reading of one (docs/credentials.md).

The credential is the edge format others verify; the sealed document inside it stays what the
chain binds. Its layout:

    @context           [VC v2, https://w3id.org/record-registry/v1]
    id                 urn:record-registry:<CAIP-10 registry>:<digest>
    type               [VerifiableCredential, RegistryRecordCredential]
    issuer             {id: did:pkh:eip155:<chainId>:<agency identity>, name: <agency name>}
    validFrom          the anchor time of the receipt
    credentialSubject  the sealed record's data, every field (a redacted record is refused)
    credentialStatus   {id, type RecordRegistryStatus, registry: CAIP-10, digest}
    evidence           [{type SealedRecord, document: the sealed document with its receipt}]
    proof              DataIntegrityProof, eddsa-jcs-2022, assertionMethod, by the agency key
                       that signed the receipt, named as a did:key

Why the sealed document is inside: the chain binds only the digest. A credential whose fields
were signed by an agency key alone would let a thief of a rotated-out key mint credentials with
made-up fields around a real anchored digest. With the sealed document (fields, salts, receipt)
inside, the verifier recomputes the digest from the fields and requires `credentialSubject` to
be exactly those fields: the credential proves no more than the chain binds, and its proof lets
any Data Integrity implementation check it with the did:key alone.

Pure: no I/O; the caller gives the key and the time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from registry import dataintegrity
from registry.checks import Check, CheckName
from registry.errors import InvalidInput, RegistryError
from registry.jsontext import JSONObject
from registry.keys import public_key_bytes
from registry.receipt import Receipt, receipt_to_json
from registry.record import (
    MAX_DOCUMENT_BYTES,
    MAX_DOCUMENT_DEPTH,
    MAX_RECORD_BYTES,
    SEALED_TYPE,
    SealedDocument,
    parse_sealed_document,
    to_json,
    verify_document,
)
from registry.trustlist import caip10, verification_method
from registry.types import to_hex

__all__ = [
    "CREDENTIAL_TYPE",
    "MAX_CREDENTIAL_BYTES",
    "MAX_CREDENTIAL_DEPTH",
    "REGISTRY_CONTEXT",
    "STATUS_TYPE",
    "VC_CONTEXT",
    "VC_TYPE",
    "CredentialReading",
    "InvalidCredential",
    "build_credential",
    "did_key_public_key",
    "is_credential",
    "read_credential",
]

VC_CONTEXT: Final = "https://www.w3.org/ns/credentials/v2"
REGISTRY_CONTEXT: Final = "https://w3id.org/record-registry/v1"
"""Our JSON-LD context (docs/contexts/record-registry-v1.jsonld, where w3id.org redirects)."""
VC_TYPE: Final = "VerifiableCredential"
CREDENTIAL_TYPE: Final = "RegistryRecordCredential"
STATUS_TYPE: Final = "RecordRegistryStatus"
PROOF_PURPOSE: Final = "assertionMethod"

MAX_CREDENTIAL_BYTES: Final = MAX_DOCUMENT_BYTES + MAX_RECORD_BYTES + (64 << 10)
"""Largest credential text read: the largest sealed document, its data again as the subject,
and room for the envelope and proof."""

MAX_CREDENTIAL_DEPTH: Final = MAX_DOCUMENT_DEPTH + 3
"""The sealed document sits at level 4 (credential, evidence, its item, the document), so a
record nested the most a record may be still fits."""

_TOP_LEVEL: Final = (
    "@context",
    "id",
    "type",
    "issuer",
    "validFrom",
    "credentialSubject",
    "credentialStatus",
    "evidence",
    "proof",
)
_ISSUER_KEYS: Final = ("id", "name")
_STATUS_KEYS: Final = ("id", "type", "registry", "digest")
_EVIDENCE_KEYS: Final = ("type", "document")
_MAX_LISTED: Final = 20
"""Most subject differences listed one by one (a credential about another record differs in
every field; twenty say enough)."""


class InvalidCredential(InvalidInput):
    """A credential cannot be built from this sealed document (redacted, without receipt,
    not signed by the receipt's key)."""


# ------------------------------------------------------------------ what the receipt fixes


@dataclass(frozen=True)
class _Bound:
    """The credential's fields that follow from the receipt alone."""

    registry: str
    digest: str
    issuer_id: str
    valid_from: str

    @classmethod
    def of(cls, receipt: Receipt) -> _Bound:
        text = receipt_to_json(receipt)
        anchor = receipt.anchor
        return cls(
            registry=caip10(anchor.chain_id, anchor.registry),
            digest=text["digest"],
            issuer_id=f"did:pkh:{caip10(anchor.chain_id, anchor.agency)}",
            valid_from=text["anchor"]["anchoredAt"],
        )

    @property
    def id(self) -> str:
        return f"urn:record-registry:{self.registry}:{self.digest}"

    @property
    def status(self) -> JSONObject:
        return {
            "id": f"{self.registry}#{self.digest}",
            "type": STATUS_TYPE,
            "registry": self.registry,
            "digest": self.digest,
        }


# ------------------------------------------------------------------ build


def build_credential(
    sealed_with_receipt: Mapping[str, Any],
    *,
    agency_name: str,
    signing_key: Ed25519PrivateKey,
    created: str,
) -> dict[str, Any]:
    """The sealed document (with its receipt, as `registry receipt` writes it) as a Verifiable
    Credential secured with eddsa-jcs-2022 by `signing_key`, which must be the key that signed
    the receipt. `created` is the proof's time (an XML Schema dateTime such as
    2026-11-23T10:00:00Z), `agency_name` the agency's name on the registry.

    Refused (InvalidInput naming the field): a malformed sealed document, one without its
    receipt, a redacted one (a credential carries the whole record), another key than the
    receipt's. TamperedDocument: its digest does not recompute from its fields."""
    document = parse_sealed_document(sealed_with_receipt)
    receipt = document.receipt
    if receipt is None:
        raise InvalidCredential(
            "the sealed document has no receipt yet: a credential is made once it is anchored",
            field="receipt",
        )
    if document.redacted:
        raise InvalidCredential(
            f"{len(document.redacted)} field(s) are redacted: a credential carries the whole "
            "record (export it from the full sealed document; redact the sealed document "
            "itself to disclose less)",
            field="redacted",
        )
    verify_document(document)
    key = public_key_bytes(signing_key)
    if key != receipt.signature.public_key:
        raise InvalidCredential(
            f"the signing key {to_hex(key)} is not the key that signed the record's receipt "
            f"({to_hex(receipt.signature.public_key)}); sign with that key",
            field="signature.publicKey",
        )
    if not isinstance(agency_name, str) or not agency_name.strip():
        raise InvalidCredential("expected the agency's name", field="issuer.name")
    bound = _Bound.of(receipt)
    sealed = to_json(document)
    unsigned: dict[str, Any] = {
        "@context": [VC_CONTEXT, REGISTRY_CONTEXT],
        "id": bound.id,
        "type": [VC_TYPE, CREDENTIAL_TYPE],
        "issuer": {"id": bound.issuer_id, "name": agency_name},
        "validFrom": bound.valid_from,
        "credentialSubject": sealed["data"],
        "credentialStatus": bound.status,
        "evidence": [{"type": SEALED_TYPE, "document": sealed}],
    }
    return dataintegrity.add_proof(
        unsigned,
        signing_key=signing_key,
        verification_method=verification_method(signing_key),
        created=created,
        proof_purpose=PROOF_PURPOSE,
    )


# ------------------------------------------------------------------ read


@dataclass(frozen=True)
class CredentialReading:
    """What a credential says: its sealed document and the credential checks.

    ``checks`` is one passing ``credential`` check, or one failing check per field at fault
    (each names it: ``credentialSubject.name: differs from the sealed record``). A credential
    that cannot be read at all (no sealed document inside, a malformed one) has
    ``format_error`` set instead, naming ``format_field``, no document and a failing
    ``format`` check: TAMPERED, like any malformed input."""

    document: SealedDocument | None
    checks: tuple[Check, ...]
    issuer_name: str | None = None
    """The name the credential gives its issuer: the verifier holds it to the agency's name on
    the registry once the chain is read (nothing offline proves it)."""
    format_error: str | None = None
    format_field: str | None = None

    @property
    def ok(self) -> bool:
        """True when the credential was read and every credential check passed."""
        return self.format_error is None and all(check.ok for check in self.checks)


def is_credential(value: object) -> bool:
    """Whether a parsed JSON value presents itself as a Verifiable Credential (its `type`
    names VerifiableCredential): then it is read as one, and refused as one."""
    if not isinstance(value, Mapping):
        return False
    kind = value.get("type")
    if isinstance(kind, str):
        return kind == VC_TYPE
    return isinstance(kind, list) and VC_TYPE in kind


def read_credential(value: Mapping[str, Any]) -> CredentialReading:
    """Read a credential (a JSON object read by the strict reader) and check it offline.

    Its credential checks pass only when: the proof verifies (eddsa-jcs-2022, the key from its
    did:key) for assertionMethod; the proof's key is the receipt's `signature.publicKey`;
    `credentialSubject` equals the sealed record's `data` exactly and the record is not
    redacted; `issuer.id`, `id`, `credentialStatus` and `validFrom` are those the receipt
    fixes; `@context` starts with the VC v2 context then ours; `type` names both types; and it
    has no member besides these. Never raises: a malformed credential is a format failure."""
    try:
        return _read(value)
    except (RegistryError, ValueError, TypeError, RecursionError) as exc:
        # Every expected fault is reported by _read; this is the promise that none escapes.
        return _malformed(f"cannot be read: {type(exc).__name__}: {exc}", None)


def _malformed(problem: str, field: str | None) -> CredentialReading:
    message = problem if field is None else f"{field}: {problem}"
    details = {} if field is None else {"field": field}
    return CredentialReading(
        document=None,
        checks=(Check.failed(CheckName.FORMAT, message, **details),),
        format_error=message,
        format_field=field,
    )


def _read(value: Mapping[str, Any]) -> CredentialReading:
    if not isinstance(value, Mapping):
        return _malformed("a credential is a JSON object", None)
    document, fault = _embedded(value)
    if document is None:
        assert fault is not None
        return _malformed(*fault)
    receipt = document.receipt
    assert receipt is not None
    bound = _Bound.of(receipt)
    problems: list[tuple[str, str]] = []
    problems += _unknown(value, _TOP_LEVEL, "")
    problems += _context(value)
    problems += _types(value)
    if value.get("id") != bound.id:
        problems.append(("id", f"{_show(value.get('id'))} is not the record's id {bound.id}"))
    if value.get("validFrom") != bound.valid_from:
        problems.append(
            (
                "validFrom",
                f"{_show(value.get('validFrom'))} is not the record's anchor time "
                f"{bound.valid_from}",
            )
        )
    issuer_name, issuer_problems = _issuer(value, bound)
    problems += issuer_problems
    problems += _subject(value, document)
    problems += _status(value, bound)
    verified_method, proof_problems = _proof(value, receipt)
    problems += proof_problems
    if problems:
        checks = tuple(
            Check.failed(CheckName.CREDENTIAL, f"{field}: {problem}", field=field)
            for field, problem in problems
        )
    else:
        checks = (
            Check.passed(
                CheckName.CREDENTIAL,
                "a W3C Verifiable Credential of this sealed record: its eddsa-jcs-2022 proof "
                "verifies with the agency key that signed the receipt, its subject is exactly "
                "the record's fields, its issuer, id, status and validFrom are the receipt's "
                "(the issuer's name is checked against the registry)",
                verificationMethod=verified_method,
                created=_created(value),
            ),
        )
    return CredentialReading(document=document, checks=checks, issuer_name=issuer_name)


def _embedded(value: Mapping[str, Any]) -> tuple[SealedDocument | None, tuple[str, str] | None]:
    """The sealed document of `evidence`, or (None, (problem, field)) when there is none."""
    if "evidence" not in value:
        return None, ("missing: a registry credential carries its sealed record", "evidence")
    evidence = value["evidence"]
    if not isinstance(evidence, list) or len(evidence) != 1:
        return None, ("expected an array of one SealedRecord evidence item", "evidence")
    item = evidence[0]
    if not isinstance(item, Mapping):
        return None, ("expected an object", "evidence[0]")
    if item.get("type") != SEALED_TYPE:
        return None, (
            f"expected {SEALED_TYPE!r}, got {_show(item.get('type'))}",
            "evidence[0].type",
        )
    unknown = sorted(set(item) - set(_EVIDENCE_KEYS))
    if unknown:
        return None, ("unknown field", f"evidence[0].{unknown[0]}")
    sealed = item.get("document")
    if not isinstance(sealed, Mapping):
        return None, ("expected the sealed document (a JSON object)", "evidence[0].document")
    try:
        document = parse_sealed_document(sealed)
    except InvalidInput as exc:
        where = "evidence[0].document" + (f".{exc.field}" if exc.field else "")
        return None, (exc.problem or str(exc), where)
    if document.receipt is None:
        return None, (
            "the sealed record carries no receipt: a credential is made once it is anchored",
            "evidence[0].document.receipt",
        )
    return document, None


def _unknown(obj: Mapping[str, Any], known: Sequence[str], where: str) -> list[tuple[str, str]]:
    """A member the format does not have: refused, because every member is signed and shown by
    some verifier, and this one would be proven by nothing the chain binds."""
    prefix = f"{where}." if where else ""
    return [
        (f"{prefix}{key}", "not a member of a registry record credential")
        for key in sorted(set(obj) - set(known))
    ]


def _context(value: Mapping[str, Any]) -> list[tuple[str, str]]:
    context = value.get("@context")
    expected = [VC_CONTEXT, REGISTRY_CONTEXT]
    if not isinstance(context, list) or context[:2] != expected:
        return [("@context", f"must start with {VC_CONTEXT} then {REGISTRY_CONTEXT}")]
    return []


def _types(value: Mapping[str, Any]) -> list[tuple[str, str]]:
    kind = value.get("type")
    if not isinstance(kind, list) or VC_TYPE not in kind or CREDENTIAL_TYPE not in kind:
        return [("type", f"must name both {VC_TYPE} and {CREDENTIAL_TYPE}")]
    return []


def _issuer(value: Mapping[str, Any], bound: _Bound) -> tuple[str | None, list[tuple[str, str]]]:
    issuer = value.get("issuer")
    if not isinstance(issuer, Mapping):
        return None, [("issuer", "expected an object {id, name}")]
    problems = _unknown(issuer, _ISSUER_KEYS, "issuer")
    if issuer.get("id") != bound.issuer_id:
        problems.append(
            (
                "issuer.id",
                f"{_show(issuer.get('id'))} is not the agency of the record's receipt "
                f"({bound.issuer_id})",
            )
        )
    name = issuer.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append(("issuer.name", "expected the agency's name"))
        name = None
    return name, problems


def _subject(value: Mapping[str, Any], document: SealedDocument) -> list[tuple[str, str]]:
    if "credentialSubject" not in value:
        return [("credentialSubject", "missing")]
    subject = value["credentialSubject"]
    if not isinstance(subject, Mapping):
        return [("credentialSubject", "expected an object: the sealed record's fields")]
    problems: list[tuple[str, str]] = []
    if document.redacted:
        problems.append(
            (
                "evidence[0].document.redacted",
                f"{len(document.redacted)} field(s) of the sealed record are hidden: a "
                "credential carries the whole record (verify a redacted sealed document as "
                "one, on its own)",
            )
        )
    differences = _differences(subject, document.data, "credentialSubject")
    if len(differences) > _MAX_LISTED:
        more = len(differences) - _MAX_LISTED
        differences = differences[:_MAX_LISTED]
        differences.append(("credentialSubject", f"and {more} more difference(s)"))
    return problems + differences


def _differences(given: object, sealed: object, path: str) -> list[tuple[str, str]]:
    """Where `given` differs from the sealed record's `sealed`, as JSON (a boolean is never a
    number, 1 and 1.0 are one number), field by field."""
    if isinstance(given, Mapping) and isinstance(sealed, Mapping):
        found: list[tuple[str, str]] = []
        for key in given:
            if key not in sealed:
                found.append((f"{path}.{key}", "not in the sealed record"))
            else:
                found += _differences(given[key], sealed[key], f"{path}.{key}")
        for key in sealed:
            if key not in given:
                found.append((f"{path}.{key}", "missing (the sealed record has it)"))
        return found
    if isinstance(given, list) and isinstance(sealed, list) and len(given) == len(sealed):
        found = []
        for index, (a, b) in enumerate(zip(given, sealed, strict=True)):
            found += _differences(a, b, f"{path}[{index}]")
        return found
    if _same_json(given, sealed):
        return []
    return [(path, "differs from the sealed record")]


def _same_json(a: Any, b: Any) -> bool:
    try:
        return bool(rfc8785.dumps(a) == rfc8785.dumps(b))
    except (rfc8785.CanonicalizationError, TypeError, ValueError, RecursionError):
        return False


def _status(value: Mapping[str, Any], bound: _Bound) -> list[tuple[str, str]]:
    status = value.get("credentialStatus")
    if not isinstance(status, Mapping):
        return [("credentialStatus", f"expected an object of type {STATUS_TYPE}")]
    problems = _unknown(status, _STATUS_KEYS, "credentialStatus")
    for key, expected in bound.status.items():
        if status.get(key) != expected:
            problems.append(
                (
                    f"credentialStatus.{key}",
                    f"{_show(status.get(key))} is not the record's {_show(expected)}",
                )
            )
    return problems


def _proof(value: Mapping[str, Any], receipt: Receipt) -> tuple[str | None, list[tuple[str, str]]]:
    """The proof verifies, for assertionMethod, with the key that signed the receipt."""
    problems: list[tuple[str, str]] = []
    key: bytes | None = None
    method: str | None = None
    try:
        verified = dataintegrity.verify_proof(value, resolve_key=did_key_public_key)
    except dataintegrity.InvalidDataIntegrityProof as exc:
        problems.append((exc.field or "proof", exc.problem))
        proof = value.get("proof")
        candidate = proof.get("verificationMethod") if isinstance(proof, Mapping) else None
        if isinstance(candidate, str):
            try:
                key = did_key_public_key(candidate)
            except InvalidInput:
                key = None
    except InvalidInput as exc:
        problems.append((exc.field or "proof.verificationMethod", exc.problem))
    else:
        key, method = verified.public_key, verified.verification_method
        if verified.proof_purpose != PROOF_PURPOSE:
            problems.append(
                (
                    "proof.proofPurpose",
                    f"expected {PROOF_PURPOSE!r}, got {verified.proof_purpose!r}",
                )
            )
    if key is not None and key != receipt.signature.public_key:
        problems.append(
            (
                "proof.verificationMethod",
                f"the proof's key {to_hex(key)} is not the key that signed the record's receipt "
                f"({to_hex(receipt.signature.public_key)})",
            )
        )
    return method, problems


def did_key_public_key(method: str) -> bytes:
    """The Ed25519 key of a verification method `did:key:<Multikey>#<Multikey>` (the fragment
    must repeat the key, as did:key resolution gives it); InvalidInput naming
    proof.verificationMethod otherwise."""
    field = "proof.verificationMethod"
    if not isinstance(method, str):
        raise InvalidInput("expected a did:key URL", field=field)
    did, hash_sign, fragment = method.partition("#")
    multikey = did.removeprefix("did:key:")
    if not did.startswith("did:key:") or not hash_sign or fragment != multikey:
        raise InvalidInput(
            f"{_show(method)} is not a did:key verification method did:key:<key>#<key>",
            field=field,
        )
    try:
        return dataintegrity.public_key_from_multikey(multikey)
    except InvalidInput as exc:
        raise InvalidInput(exc.problem, field=field) from None


def _created(value: Mapping[str, Any]) -> str | None:
    proof = value.get("proof")
    created = proof.get("created") if isinstance(proof, Mapping) else None
    return created if isinstance(created, str) else None


def _show(value: object) -> str:
    text = "nothing" if value is None else repr(value)
    return text if len(text) <= 120 else f"{text[:80]}...({len(text)} characters)"
