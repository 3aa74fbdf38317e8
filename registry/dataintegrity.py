"""W3C Data Integrity proofs with the cryptosuite ``eddsa-jcs-2022`` (Ed25519 over JCS).

Implements "Data Integrity EdDSA Cryptosuites v1.0" (W3C Recommendation, 15 May 2025),
section 3.3, so that documents the registry signs verify with any conforming verifier and
the other way round. Pure: no I/O; the caller supplies keys, the clock (``created``) and the
lookup of a verification method.

Signing and verifying hash the same two inputs (section 3.3.4):

    canonical proof config     RFC 8785 (JCS) of the proof without ``proofValue``
    canonical document         RFC 8785 of the document without ``proof``
    hashData                   SHA-256(proof config) || SHA-256(document)   64 bytes,
                                                                           config first
    proofValue                 "z" + base58btc(Ed25519 signature over hashData)

Keys travel as Multikey strings (controlled identifiers 1.0): "z" + base58btc of a two-byte
multicodec header and the 32 key bytes; 0xed 0x01 for a public key, 0x80 0x26 for a secret key.

A document carries one proof (a map under ``proof``); a proof set (a list) is refused with a
clear error, not half-checked.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

import base58
import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from registry.errors import InvalidInput, RegistryError
from registry.jsontext import JSONObject, JSONValue

__all__ = [
    "CRYPTOSUITE",
    "PROOF_TYPE",
    "InvalidDataIntegrityProof",
    "InvalidMultikey",
    "SigningInput",
    "VerifiedProof",
    "add_proof",
    "canonicalize",
    "decode_proof_value",
    "encode_proof_value",
    "multikey_from_public_key",
    "multikey_from_signing_key",
    "proof_options",
    "public_key_from_multikey",
    "signing_input",
    "signing_key_from_multikey",
    "verify_proof",
]

PROOF_TYPE: Final = "DataIntegrityProof"
CRYPTOSUITE: Final = "eddsa-jcs-2022"

_ED25519_PUBLIC_HEADER: Final = b"\xed\x01"  # multicodec ed25519-pub, as a varint
_ED25519_SECRET_HEADER: Final = b"\x80\x26"  # multicodec ed25519-priv, as a varint
_KEY_BYTES: Final = 32
_SIGNATURE_BYTES: Final = 64
# base58 decoding is quadratic in the length: refuse long text before decoding it. A 34-byte
# Multikey is at most 48 characters after the "z", a 64-byte signature at most 88.
_MAX_MULTIKEY_CHARS: Final = 60
_MAX_PROOF_VALUE_CHARS: Final = 100
_BASE58_ALPHABET: Final = re.compile(r"[1-9A-HJ-NP-Za-km-z]*")

# XML Schema 1.1 Part 2 dateTime (timezone optional), the form the cryptosuite's proof
# configuration step asks of `created`; day-of-month is checked apart (_is_date_time).
_XSD_DATE_TIME: Final = re.compile(
    r"(?P<year>-?(?:[1-9][0-9]{3,}|0[0-9]{3}))-(?P<month>0[1-9]|1[0-2])"
    r"-(?P<day>0[1-9]|[12][0-9]|3[01])"
    r"T(?:(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]+)?|24:00:00(?:\.0+)?)"
    r"(?:Z|[+-](?:(?:0[0-9]|1[0-3]):[0-5][0-9]|14:00))?",
    re.ASCII,
)


class InvalidDataIntegrityProof(RegistryError):
    """A document's Data Integrity proof is malformed or does not verify: it is not signed."""

    exit_code = 1

    def __init__(self, problem: str, *, field: str | None = None) -> None:
        super().__init__(problem if field is None else f"{field}: {problem}")
        self.field = field
        self.problem = problem


class InvalidMultikey(InvalidInput):
    """A Multikey string is not an Ed25519 key in base58btc multibase with the right header."""


# ------------------------------------------------------------------ Multikey


def multikey_from_public_key(raw: bytes) -> str:
    """The Multikey of a 32-byte Ed25519 public key: "z" + base58btc(0xed 0x01 || key)."""
    if len(raw) != _KEY_BYTES:
        raise InvalidMultikey(f"an Ed25519 public key is 32 bytes, got {len(raw)}")
    return "z" + base58.b58encode(_ED25519_PUBLIC_HEADER + bytes(raw)).decode("ascii")


def public_key_from_multikey(text: str) -> bytes:
    """The 32 raw bytes of an Ed25519 public key given as a Multikey (``z6Mk...``)."""
    return _multikey_body(text, header=_ED25519_PUBLIC_HEADER, what="public key")


def multikey_from_signing_key(key: Ed25519PrivateKey) -> str:
    """The secret-key Multikey of an Ed25519 key: "z" + base58btc(0x80 0x26 || seed).

    A secret: for test vectors and key export, never for a published document."""
    seed = key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    return "z" + base58.b58encode(_ED25519_SECRET_HEADER + seed).decode("ascii")


def signing_key_from_multikey(text: str) -> Ed25519PrivateKey:
    """The Ed25519 signing key of a secret-key Multikey (``z3u2...``)."""
    seed = _multikey_body(text, header=_ED25519_SECRET_HEADER, what="secret key")
    return Ed25519PrivateKey.from_private_bytes(seed)


def _multikey_body(text: str, *, header: bytes, what: str) -> bytes:
    # The messages never quote the text: it may be a secret key given in the wrong place.
    field = "secretKeyMultibase" if header == _ED25519_SECRET_HEADER else "publicKeyMultibase"
    if not isinstance(text, str):
        raise InvalidMultikey(f"a Multikey is a string, got {_json_type(text)}", field=field)
    if not text.startswith("z"):
        raise InvalidMultikey("not base58btc multibase (a Multikey starts with 'z')", field=field)
    if len(text) > _MAX_MULTIKEY_CHARS:
        raise InvalidMultikey(
            f"{len(text)} characters, too long for an Ed25519 Multikey", field=field
        )
    decoded = _base58btc(text[1:])
    if decoded is None:
        raise InvalidMultikey("not base58btc multibase (bad base58)", field=field)
    if decoded[:2] != header:
        kinds = {_ED25519_PUBLIC_HEADER: "public key", _ED25519_SECRET_HEADER: "secret key"}
        found = decoded[:2].hex()
        if decoded[:2] in kinds:
            found += f", an Ed25519 {kinds[decoded[:2]]}"
        raise InvalidMultikey(
            f"not an Ed25519 {what}: expected multicodec header 0x{header.hex()}, found 0x{found}",
            field=field,
        )
    if len(decoded) != len(header) + _KEY_BYTES:
        raise InvalidMultikey(
            f"an Ed25519 {what} is {_KEY_BYTES} bytes after the multicodec header, "
            f"got {len(decoded) - len(header)}",
            field=field,
        )
    return decoded[len(header) :]


# ------------------------------------------------------------------ proof value


def encode_proof_value(signature: bytes) -> str:
    """The ``proofValue`` of a 64-byte Ed25519 signature: "z" + base58btc(signature)."""
    if len(signature) != _SIGNATURE_BYTES:
        raise InvalidInput(f"an Ed25519 signature is 64 bytes, got {len(signature)}")
    return "z" + base58.b58encode(bytes(signature)).decode("ascii")


def decode_proof_value(value: object) -> bytes:
    """The 64 signature bytes of a ``proofValue``; raises InvalidDataIntegrityProof naming
    proof.proofValue when it is not a base58btc multibase string of 64 bytes."""
    field = "proof.proofValue"
    if not isinstance(value, str):
        raise InvalidDataIntegrityProof(f"expected a string, got {_json_type(value)}", field=field)
    if not value.startswith("z"):
        raise InvalidDataIntegrityProof(
            "not base58btc multibase (the value must start with 'z')", field=field
        )
    if len(value) > _MAX_PROOF_VALUE_CHARS:
        raise InvalidDataIntegrityProof(
            f"{len(value)} characters, too long for an Ed25519 signature", field=field
        )
    signature = _base58btc(value[1:])
    if signature is None:
        raise InvalidDataIntegrityProof("not base58btc multibase (bad base58)", field=field)
    if len(signature) != _SIGNATURE_BYTES:
        raise InvalidDataIntegrityProof(
            f"an Ed25519 signature is 64 bytes, got {len(signature)}", field=field
        )
    return signature


def _base58btc(text: str) -> bytes | None:
    """The bytes of base58btc text (Bitcoin alphabet), None if it is not base58btc."""
    if not text or not _BASE58_ALPHABET.fullmatch(text):
        return None
    return base58.b58decode(text)


# ------------------------------------------------------------------ hashing


@dataclass(frozen=True)
class SigningInput:
    """The intermediate values of the cryptosuite's Transformation, Proof Configuration and
    Hashing steps (sections 3.3.3 to 3.3.5); ``hash_data`` is what Ed25519 signs."""

    canonical_proof_config: bytes
    canonical_document: bytes
    proof_config_hash: bytes
    document_hash: bytes

    @property
    def hash_data(self) -> bytes:
        """proofConfigHash || transformedDocumentHash: the proof configuration's hash first."""
        return self.proof_config_hash + self.document_hash


def canonicalize(value: JSONValue, *, field: str = "document") -> bytes:
    """RFC 8785 (JCS) canonical UTF-8 bytes of a JSON value.

    Refused with InvalidInput naming ``field``: NaN and infinities, integers beyond
    +-(2**53 - 1), lone surrogates, non-string keys and values with no JSON form."""
    try:
        return rfc8785.dumps(_json_copy(value))
    except rfc8785.CanonicalizationError as exc:
        raise InvalidInput(f"no RFC 8785 canonical form: {exc}", field=field) from None
    except RecursionError:
        raise InvalidInput("nested too deeply to canonicalize", field=field) from None


def signing_input(
    *, document: Mapping[str, JSONValue], proof: Mapping[str, JSONValue]
) -> SigningInput:
    """Canonical forms and hashes of an unsecured document and a proof configuration.

    ``document`` must not hold ``proof`` and ``proof`` must not hold ``proofValue``: these are
    the inputs, not the secured document. Raises InvalidInput when the proof is not
    DataIntegrityProof / eddsa-jcs-2022, when ``created`` is not an XML Schema dateTime, or
    when either value has no RFC 8785 form.
    """
    if "proof" in document:
        raise InvalidInput("the unsecured document must not hold a proof", field="document.proof")
    if "proofValue" in proof:
        raise InvalidInput("a proof configuration has no proofValue yet", field="proof.proofValue")
    problem = _proof_config_problem(proof)
    if problem is not None:
        field, text = problem
        raise InvalidInput(text, field=field)
    canonical_proof_config = canonicalize(dict(proof), field="proof")
    canonical_document = canonicalize(dict(document), field="document")
    return SigningInput(
        canonical_proof_config=canonical_proof_config,
        canonical_document=canonical_document,
        proof_config_hash=hashlib.sha256(canonical_proof_config).digest(),
        document_hash=hashlib.sha256(canonical_document).digest(),
    )


# ------------------------------------------------------------------ create


def proof_options(
    document: Mapping[str, JSONValue],
    *,
    verification_method: str,
    created: str | None,
    proof_purpose: str = "assertionMethod",
) -> JSONObject:
    """The proof configuration for ``document`` (its proof before ``proofValue``).

    Fields in the order of the specification's examples: type, cryptosuite, created (left out
    when None), verificationMethod, proofPurpose, then ``@context`` copied from the document
    when it has one (Create Proof step 2, so the proof can join a proof set or chain).
    """
    if not isinstance(verification_method, str) or not verification_method:
        raise InvalidInput("a verification method is a non-empty URL", field="verificationMethod")
    if not isinstance(proof_purpose, str) or not proof_purpose:
        raise InvalidInput("a proof purpose is a non-empty string", field="proofPurpose")
    options: JSONObject = {"type": PROOF_TYPE, "cryptosuite": CRYPTOSUITE}
    if created is not None:
        options["created"] = created
    options["verificationMethod"] = verification_method
    options["proofPurpose"] = proof_purpose
    if "@context" in document:
        options["@context"] = _json_copy(document["@context"])
    return options


def add_proof(
    document: Mapping[str, JSONValue],
    *,
    signing_key: Ed25519PrivateKey,
    verification_method: str,
    created: str | None,
    proof_purpose: str = "assertionMethod",
) -> JSONObject:
    """A copy of ``document`` secured with an eddsa-jcs-2022 proof (section 3.3.1).

    ``created`` is an XML Schema dateTime such as "2023-02-24T23:36:38Z" (the caller reads the
    clock), or None for a proof without one. ``verification_method`` is the URL a verifier
    resolves to the public key of ``signing_key``. A document that already holds a proof is
    refused: proof sets are not supported. Ed25519 is deterministic, so the same inputs give
    the same proof.
    """
    if not isinstance(document, Mapping):
        raise InvalidInput(f"expected a JSON object, got {_json_type(document)}", field="document")
    if "proof" in document:
        raise InvalidInput(
            "already holds a proof; adding a second one (a proof set) is not supported",
            field="document",
        )
    unsecured = _json_object(document)
    proof = proof_options(
        unsecured,
        verification_method=verification_method,
        created=created,
        proof_purpose=proof_purpose,
    )
    hashed = signing_input(document=unsecured, proof=proof)
    proof["proofValue"] = encode_proof_value(signing_key.sign(hashed.hash_data))
    return {**unsecured, "proof": proof}


# ------------------------------------------------------------------ verify


@dataclass(frozen=True)
class VerifiedProof:
    """What a verified eddsa-jcs-2022 proof says: who signed, when, for what purpose."""

    verification_method: str
    proof_purpose: str
    created: str | None
    public_key: bytes
    """The 32-byte Ed25519 key ``verification_method`` resolved to and the signature checks."""
    proof: JSONObject
    """The proof without its proofValue, for the caller's own checks (domain, challenge,
    expires: the cryptosuite leaves them to the application)."""
    document: JSONObject
    """The unsecured document that was signed (the spec's verifiedDocument): the input without
    ``proof``, its ``@context`` set to the proof's when the proof has one."""
    signing_input: SigningInput


def verify_proof(
    document: Mapping[str, JSONValue], *, resolve_key: Callable[[str], bytes]
) -> VerifiedProof:
    """Verify the eddsa-jcs-2022 proof of a secured document (section 3.3.2).

    ``resolve_key`` maps the proof's verificationMethod to the 32 raw bytes of the Ed25519
    public key it names (``public_key_from_multikey`` helps); it decides which keys are
    trusted. An error it raises (say, the key's controller could not be reached) goes through
    unchanged: "could not check" is never reported as "invalid".

    Every way the proof can fail raises InvalidDataIntegrityProof naming the field at fault:
    ``proof`` absent, a list (proof sets are not supported) or not an object; ``proof.type``
    not DataIntegrityProof or ``proof.cryptosuite`` not eddsa-jcs-2022; ``proof.proofValue``
    not a base58btc multibase 64-byte signature; ``proof.verificationMethod`` or
    ``proof.proofPurpose`` not a string; ``proof.created`` not an XML Schema dateTime;
    ``@context`` not starting with the proof's ``@context`` items in order; a document with no
    RFC 8785 form; a signature that does not verify with the resolved key.
    """
    if not isinstance(document, Mapping):
        raise InvalidDataIntegrityProof(
            f"expected a JSON object, got {_json_type(document)}", field="document"
        )
    if "proof" not in document:
        raise InvalidDataIntegrityProof("the document has no proof", field="proof")
    proof = document["proof"]
    if isinstance(proof, list):
        raise InvalidDataIntegrityProof(
            f"a proof set ({len(proof)} proofs) is not supported: one proof object expected",
            field="proof",
        )
    if not isinstance(proof, Mapping):
        raise InvalidDataIntegrityProof(
            f"expected a proof object, got {_json_type(proof)}", field="proof"
        )
    # Steps 1-2: the unsecured document and the proof options, copies without proof /
    # proofValue. Step 3: the signature.
    unsecured = _json_object({k: v for k, v in document.items() if k != "proof"})
    options = _json_object({k: v for k, v in proof.items() if k != "proofValue"})
    problem = _proof_config_problem(options)
    if problem is not None:
        field, text = problem
        raise InvalidDataIntegrityProof(text, field=field)
    if "proofValue" not in proof:
        raise InvalidDataIntegrityProof("missing", field="proof.proofValue")
    signature = decode_proof_value(proof["proofValue"])
    verification_method = _required_string(options, "verificationMethod")
    proof_purpose = _required_string(options, "proofPurpose")
    created = options.get("created")
    # Step 4: a proof that names its @context binds the document's @context to start with it
    # (later proofs of a set or chain may add contexts); the proof's list is what was signed.
    if "@context" in options:
        _check_context_prefix(unsecured, options["@context"])
        unsecured["@context"] = _json_copy(options["@context"])
    # Steps 5-7: transformation, proof configuration, hashing.
    try:
        hashed = signing_input(document=unsecured, proof=options)
    except InvalidInput as exc:
        raise InvalidDataIntegrityProof(exc.problem, field=exc.field) from None
    # Step 8: proof verification.
    public_key = resolve_key(verification_method)
    if not isinstance(public_key, bytes | bytearray) or len(public_key) != _KEY_BYTES:
        raise InvalidDataIntegrityProof(
            "resolves to no 32-byte Ed25519 public key", field="proof.verificationMethod"
        )
    try:
        Ed25519PublicKey.from_public_bytes(bytes(public_key)).verify(signature, hashed.hash_data)
    except (InvalidSignature, ValueError):
        raise InvalidDataIntegrityProof(
            f"the signature does not verify with the key of {_abbreviate(verification_method)}"
            " over this document and proof configuration",
            field="proof.proofValue",
        ) from None
    return VerifiedProof(
        verification_method=verification_method,
        proof_purpose=proof_purpose,
        created=created if isinstance(created, str) else None,
        public_key=bytes(public_key),
        proof=options,
        document=unsecured,
        signing_input=hashed,
    )


def _check_context_prefix(unsecured: Mapping[str, JSONValue], proof_context: JSONValue) -> None:
    """The document's @context must start with every item of the proof's, in the same order.

    A single context (a string or object) counts as a list of one, as in JSON-LD. Items are
    compared as JSON (their RFC 8785 forms), not as Python values, for which True == 1."""
    if "@context" not in unsecured:
        raise InvalidDataIntegrityProof(
            "missing, and the proof names one the document must start with", field="@context"
        )
    document_context = unsecured["@context"]
    expected = proof_context if isinstance(proof_context, list) else [proof_context]
    actual = document_context if isinstance(document_context, list) else [document_context]
    if len(actual) < len(expected) or not all(
        _same_json(a, e) for a, e in zip(actual, expected, strict=False)
    ):
        raise InvalidDataIntegrityProof(
            f"does not start with the proof's @context ({len(expected)} item(s), in order)",
            field="@context",
        )


def _same_json(a: JSONValue, b: JSONValue) -> bool:
    try:
        return bool(rfc8785.dumps(_json_copy(a)) == rfc8785.dumps(_json_copy(b)))
    except (rfc8785.CanonicalizationError, RecursionError):
        return False


# ------------------------------------------------------------------ helpers


def _proof_config_problem(proof: Mapping[str, JSONValue]) -> tuple[str, str] | None:
    """(field, problem) for a proof configuration this suite must refuse, None if it is fine.

    The Recommendation's Transformation step reads "type is not DataIntegrityProof *and*
    cryptosuite is not eddsa-jcs-2022"; its Proof Configuration step says "or". Both must
    match here: a proof of another suite is never verified as this one."""
    if proof.get("type") != PROOF_TYPE:
        return "proof.type", f"expected {PROOF_TYPE!r}, got {_show(proof.get('type'))}"
    if proof.get("cryptosuite") != CRYPTOSUITE:
        return (
            "proof.cryptosuite",
            f"expected {CRYPTOSUITE!r}, got {_show(proof.get('cryptosuite'))}",
        )
    created = proof.get("created")
    if created is not None and not (isinstance(created, str) and _is_date_time(created)):
        return "proof.created", f"{_show(created)} is not an XML Schema dateTime"
    return None


def _required_string(proof: Mapping[str, JSONValue], key: str) -> str:
    value = proof.get(key)
    if not isinstance(value, str) or not value:
        got = "missing" if key not in proof else f"expected a non-empty string, got {_show(value)}"
        raise InvalidDataIntegrityProof(got, field=f"proof.{key}")
    return value


def _is_date_time(text: str) -> bool:
    """Whether ``text`` is an XML Schema 1.1 dateTime naming a real calendar day."""
    match = _XSD_DATE_TIME.fullmatch(text)
    if match is None:
        return False
    year, month, day = int(match["year"]), int(match["month"]), int(match["day"])
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    days = (31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)[month - 1]
    return day <= days


def _json_copy(value: object) -> JSONValue:
    """A deep copy in plain JSON types (any Mapping as dict, tuple as list), so the caller's
    objects are never shared with or changed by a proof."""
    if isinstance(value, Mapping):
        return {key: _json_copy(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_copy(item) for item in value]
    return value  # type: ignore[return-value]  # scalars; anything else fails in rfc8785


def _json_object(value: Mapping[str, JSONValue]) -> JSONObject:
    copied = _json_copy(value)
    assert isinstance(copied, dict)
    return copied


def _json_type(value: object) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    if isinstance(value, Mapping):
        return "an object"
    return names.get(type(value), "a number" if isinstance(value, int | float) else "a value")


def _show(value: object) -> str:
    return "nothing" if value is None else _abbreviate(repr(value))


def _abbreviate(text: str) -> str:
    return text if len(text) <= 160 else f"{text[:100]}...{text[-40:]} ({len(text)} characters)"
