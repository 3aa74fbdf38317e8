"""Data Integrity eddsa-jcs-2022: the W3C test vectors byte for byte, verification, attacks.

The vectors (tests/standards/vectors/eddsa-jcs-2022, README there) come from w3c/vc-di-eddsa.
"""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import base58
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry.dataintegrity import (
    CRYPTOSUITE,
    PROOF_TYPE,
    InvalidDataIntegrityProof,
    InvalidMultikey,
    add_proof,
    canonicalize,
    decode_proof_value,
    encode_proof_value,
    multikey_from_public_key,
    multikey_from_signing_key,
    proof_options,
    public_key_from_multikey,
    signing_input,
    signing_key_from_multikey,
    verify_proof,
)
from registry.errors import InvalidInput, RegistryError
from registry.jsontext import MAX_SAFE_INTEGER
from registry.keys import public_key_bytes, signing_key_from_seed

VECTORS = Path(__file__).parent / "vectors" / "eddsa-jcs-2022"


def vector_text(name: str) -> str:
    return (VECTORS / name).read_text(encoding="utf-8")


KEY_PAIR = json.loads(vector_text("keyPair.json"))
PUBLIC_MULTIKEY = KEY_PAIR["publicKeyMultibase"]
SECRET_MULTIKEY = KEY_PAIR["privateKeyMultibase"]
SIGNED_TEXT = vector_text("signedJCS.json")
SIGNED = json.loads(SIGNED_TEXT)
PROOF_CONFIG_TEXT = vector_text("proofConfigJCS.json")
PROOF_CONFIG = json.loads(PROOF_CONFIG_TEXT)
UNSECURED = {key: value for key, value in SIGNED.items() if key != "proof"}
VECTOR_KEY = signing_key_from_multikey(SECRET_MULTIKEY)
VECTOR_PUBLIC = public_key_from_multikey(PUBLIC_MULTIKEY)


def vector_keys(verification_method: str) -> bytes:
    """The verifier's key lookup for the vectors: only the vector's method is known."""
    if verification_method != PROOF_CONFIG["verificationMethod"]:
        raise LookupError(f"unknown verification method {verification_method}")
    return VECTOR_PUBLIC


def sign_vector(document: dict[str, Any] | None = None) -> dict[str, Any]:
    return add_proof(
        UNSECURED if document is None else document,
        signing_key=VECTOR_KEY,
        verification_method=PROOF_CONFIG["verificationMethod"],
        created=PROOF_CONFIG["created"],
        proof_purpose=PROOF_CONFIG["proofPurpose"],
    )


# --------------------------------------------------------------------------- the vectors


def test_vector_files_hold_together() -> None:
    """The copied files are one consistent set: each hash is the hash of its canonical form."""
    proof_canon = (VECTORS / "proofCanonJCS.txt").read_bytes()
    doc_canon = (VECTORS / "canonDocJCS.txt").read_bytes()
    assert hashlib.sha256(proof_canon).hexdigest() == vector_text("proofHashJCS.txt")
    assert hashlib.sha256(doc_canon).hexdigest() == vector_text("docHashJCS.txt")
    assert vector_text("combinedHashJCS.txt") == (
        vector_text("proofHashJCS.txt") + vector_text("docHashJCS.txt")
    )
    assert vector_text("sigBTC58JCS.txt") == SIGNED["proof"]["proofValue"]
    assert base58.b58decode(vector_text("sigBTC58JCS.txt")[1:]).hex() == vector_text(
        "sigHexJCS.txt"
    )
    assert {k: v for k, v in SIGNED["proof"].items() if k != "proofValue"} == PROOF_CONFIG


def test_vector_key_pair_multikeys() -> None:
    assert multikey_from_public_key(public_key_bytes(VECTOR_KEY)) == PUBLIC_MULTIKEY
    assert multikey_from_signing_key(VECTOR_KEY) == SECRET_MULTIKEY
    assert public_key_bytes(VECTOR_KEY) == VECTOR_PUBLIC
    assert len(VECTOR_PUBLIC) == 32
    assert PUBLIC_MULTIKEY.startswith("z6Mk")  # every Ed25519 public Multikey does


def test_vector_proof_configuration() -> None:
    options = proof_options(
        UNSECURED,
        verification_method=PROOF_CONFIG["verificationMethod"],
        created=PROOF_CONFIG["created"],
        proof_purpose="assertionMethod",
    )
    # Same fields, same order as the vector file: the JSON text matches byte for byte.
    assert json.dumps(options, indent=2) == PROOF_CONFIG_TEXT
    assert options["@context"] == UNSECURED["@context"]
    assert options["@context"] is not UNSECURED["@context"]


def test_vector_canonical_forms_and_hashes() -> None:
    hashed = signing_input(document=UNSECURED, proof=PROOF_CONFIG)
    assert hashed.canonical_proof_config == (VECTORS / "proofCanonJCS.txt").read_bytes()
    assert hashed.canonical_document == (VECTORS / "canonDocJCS.txt").read_bytes()
    assert hashed.proof_config_hash.hex() == vector_text("proofHashJCS.txt")
    assert hashed.document_hash.hex() == vector_text("docHashJCS.txt")
    assert hashed.hash_data.hex() == vector_text("combinedHashJCS.txt")
    assert len(hashed.hash_data) == 64
    assert canonicalize(UNSECURED) == hashed.canonical_document


def test_vector_signature_and_proof_value() -> None:
    hashed = signing_input(document=UNSECURED, proof=PROOF_CONFIG)
    signature = VECTOR_KEY.sign(hashed.hash_data)  # Ed25519 is deterministic
    assert signature.hex() == vector_text("sigHexJCS.txt")
    assert encode_proof_value(signature) == vector_text("sigBTC58JCS.txt")
    assert decode_proof_value(vector_text("sigBTC58JCS.txt")) == signature


def test_vector_signed_document_byte_for_byte() -> None:
    signed = sign_vector()
    assert signed == SIGNED
    assert json.dumps(signed, indent=2) == SIGNED_TEXT
    assert "proof" not in UNSECURED  # the input is not changed


def test_vector_signed_document_verifies() -> None:
    verified = verify_proof(SIGNED, resolve_key=vector_keys)
    assert verified.verification_method == PROOF_CONFIG["verificationMethod"]
    assert verified.created == "2023-02-24T23:36:38Z"
    assert verified.proof_purpose == "assertionMethod"
    assert verified.public_key == VECTOR_PUBLIC
    assert verified.document == UNSECURED
    assert verified.proof == PROOF_CONFIG
    assert verified.signing_input.hash_data.hex() == vector_text("combinedHashJCS.txt")


# The set printed in the Recommendation of 15 May 2025 (transitions/2025/REC/index.html,
# Appendix B.3, Examples 33 to 39): the same document and key, a did:key method.
REC_METHOD = f"did:key:{PUBLIC_MULTIKEY}#{PUBLIC_MULTIKEY}"
REC_PROOF_HASH = "66ab154f5c2890a140cb8388a22a160454f80575f6eae09e5a097cabe539a1db"
REC_SIGNATURE = (
    "407cd12654b33d718ecbb99179a1506daaa849450bf3fc523cce3e1c96f8b803"
    "51da3f253d725c6f00b07c9e5448d50b3ef78012b9ab54255116d069c6dd2808"
)
REC_PROOF_VALUE = (
    "z2HnFSSPPBzR36zdDgK8PbEHeXbR56YF24jwMpt3R1eHXQzJDMWS93FCzpvJpwTWd3GAVFuUfjoJdcnTMuVor51aX"
)


def test_recommendation_example() -> None:
    signed = add_proof(
        UNSECURED,
        signing_key=VECTOR_KEY,
        verification_method=REC_METHOD,
        created="2023-02-24T23:36:38Z",
    )
    proof = {k: v for k, v in signed["proof"].items() if k != "proofValue"}
    hashed = signing_input(document=UNSECURED, proof=proof)
    assert hashed.proof_config_hash.hex() == REC_PROOF_HASH
    assert hashed.hash_data.hex() == REC_PROOF_HASH + vector_text("docHashJCS.txt")
    assert decode_proof_value(signed["proof"]["proofValue"]).hex() == REC_SIGNATURE
    assert signed["proof"]["proofValue"] == REC_PROOF_VALUE
    verified = verify_proof(signed, resolve_key=lambda method: VECTOR_PUBLIC)
    assert verified.verification_method == REC_METHOD


# --------------------------------------------------------------------------- attacks


def tampered(change: Any) -> dict[str, Any]:
    document = copy.deepcopy(SIGNED)
    change(document)
    return document


def reject(document: Any, field: str | None = None) -> InvalidDataIntegrityProof:
    with pytest.raises(InvalidDataIntegrityProof) as caught:
        verify_proof(document, resolve_key=lambda method: VECTOR_PUBLIC)
    if field is not None:
        assert caught.value.field == field
        assert str(caught.value).startswith(f"{field}: ")
    assert isinstance(caught.value, RegistryError)
    return caught.value


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.update(name="Alumni Credential!"),
        lambda d: d["credentialSubject"].update(alumniOf="The School of Forgeries"),
        lambda d: d["type"].reverse(),
        lambda d: d.pop("description"),
        lambda d: d.update(extra=None),
        lambda d: d.update(validFrom="2023-01-01T00:00:00.0Z"),
    ],
    ids=["name", "nested", "order", "removed", "added", "same-instant"],
)
def test_changed_document_fails(change: Any) -> None:
    error = reject(tampered(change), "proof.proofValue")
    assert "does not verify" in str(error)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("created", "2023-02-24T23:36:39Z"),
        ("verificationMethod", REC_METHOD),
        ("proofPurpose", "authentication"),
        ("expires", "2030-01-01T00:00:00Z"),  # any field added to the proof is signed too
    ],
)
def test_changed_proof_field_fails(key: str, value: str) -> None:
    reject(tampered(lambda d: d["proof"].update({key: value})), "proof.proofValue")


@pytest.mark.parametrize(
    ("proof_value", "problem"),
    [
        ("u" + vector_text("sigBTC58JCS.txt")[1:], "must start with 'z'"),
        (vector_text("sigHexJCS.txt"), "must start with 'z'"),
        ("z" + "0OIl" * 10, "bad base58"),
        ("z", "bad base58"),
        ("z" + vector_text("sigBTC58JCS.txt")[1:-4], "64 bytes"),
        ("z" + "z" * 200, "too long"),
        (12, "expected a string"),
    ],
)
def test_bad_proof_value_names_the_field(proof_value: Any, problem: str) -> None:
    error = reject(
        tampered(lambda d: d["proof"].update(proofValue=proof_value)), "proof.proofValue"
    )
    assert problem in str(error)


def test_missing_proof_value() -> None:
    error = reject(tampered(lambda d: d["proof"].pop("proofValue")), "proof.proofValue")
    assert "missing" in str(error)


def test_flipped_signature_bit_fails() -> None:
    signature = bytearray(decode_proof_value(SIGNED["proof"]["proofValue"]))
    signature[10] ^= 0x01
    value = encode_proof_value(bytes(signature))
    reject(tampered(lambda d: d["proof"].update(proofValue=value)), "proof.proofValue")


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("type", "Ed25519Signature2020"),
        ("cryptosuite", "eddsa-rdfc-2022"),
        ("cryptosuite", "ecdsa-jcs-2019"),
        ("type", None),
    ],
)
def test_wrong_type_or_cryptosuite_is_rejected(key: str, value: Any) -> None:
    error = reject(tampered(lambda d: d["proof"].update({key: value})), f"proof.{key}")
    assert "expected" in str(error)


def test_missing_cryptosuite_is_rejected() -> None:
    reject(tampered(lambda d: d["proof"].pop("cryptosuite")), "proof.cryptosuite")


@pytest.mark.parametrize(
    "context",
    [
        ["https://www.w3.org/ns/credentials/examples/v2", "https://www.w3.org/ns/credentials/v2"],
        ["https://www.w3.org/ns/credentials/v2"],
        ["https://www.w3.org/ns/credentials/v2", "https://evil.example/v2"],
        "https://www.w3.org/ns/credentials/v2",
        [],
    ],
    ids=["reordered", "shortened", "replaced", "single", "empty"],
)
def test_context_prefix_rule(context: Any) -> None:
    reject(tampered(lambda d: d.update({"@context": context})), "@context")


def test_context_missing_from_document_is_rejected() -> None:
    reject(tampered(lambda d: d.pop("@context")), "@context")


def test_context_items_compare_as_json() -> None:
    """true and 1 are equal in Python, not in JSON: the prefix rule must see the difference."""
    signed = sign_vector({"@context": [1], "name": "x"})
    verify_proof(signed, resolve_key=vector_keys)
    signed["@context"] = [True]
    reject(signed, "@context")


def test_context_may_be_extended_after_the_proof() -> None:
    """A later proof of a chain may add contexts: the signed prefix still verifies, and what
    was verified is the document with the proof's @context, not the extended one."""
    extra = "https://w3id.org/security/multikey/v1"
    extended = tampered(lambda d: d["@context"].append(extra))
    verified = verify_proof(extended, resolve_key=vector_keys)
    assert verified.document["@context"] == PROOF_CONFIG["@context"]
    assert verified.document == UNSECURED


def test_proof_without_context_signs_the_document_as_is() -> None:
    signed = sign_vector({"name": "no context here"})
    assert "@context" not in signed["proof"]
    verify_proof(signed, resolve_key=vector_keys)
    signed["@context"] = ["https://www.w3.org/ns/credentials/v2"]  # added: not signed
    reject(signed, "proof.proofValue")


def test_signature_from_another_key_fails() -> None:
    other = Ed25519PrivateKey.generate()
    forged = add_proof(
        UNSECURED,
        signing_key=other,
        verification_method=PROOF_CONFIG["verificationMethod"],
        created=PROOF_CONFIG["created"],
    )
    error = reject(forged, "proof.proofValue")
    assert PROOF_CONFIG["verificationMethod"] in str(error)
    # ...and verifies with its own key: the failure is the key, not the proof's form.
    verify_proof(forged, resolve_key=lambda method: public_key_bytes(other))


def test_resolver_errors_pass_through() -> None:
    """'Could not check' (the resolver failed) is not 'invalid'."""

    def unreachable(method: str) -> bytes:
        raise TimeoutError(method)

    with pytest.raises(TimeoutError):
        verify_proof(SIGNED, resolve_key=unreachable)


def test_resolver_giving_no_key_is_rejected() -> None:
    with pytest.raises(InvalidDataIntegrityProof) as caught:
        verify_proof(SIGNED, resolve_key=lambda method: VECTOR_PUBLIC[:31])
    assert caught.value.field == "proof.verificationMethod"


@pytest.mark.parametrize(
    ("document", "field", "problem"),
    [
        (UNSECURED, "proof", "no proof"),
        ({**UNSECURED, "proof": [SIGNED["proof"], SIGNED["proof"]]}, "proof", "proof set"),
        ({**UNSECURED, "proof": "z123"}, "proof", "expected a proof object"),
        ([SIGNED], "document", "expected a JSON object"),
    ],
)
def test_malformed_secured_document(document: Any, field: str, problem: str) -> None:
    assert problem in str(reject(document, field))


@pytest.mark.parametrize(
    ("key", "value", "field"),
    [
        ("created", "2023-02-30T00:00:00Z", "proof.created"),
        ("created", "2023-02-24 23:36:38", "proof.created"),
        ("created", 1677281798, "proof.created"),
        ("verificationMethod", None, "proof.verificationMethod"),
        ("verificationMethod", ["a", "b"], "proof.verificationMethod"),
        ("proofPurpose", "", "proof.proofPurpose"),
    ],
)
def test_malformed_proof_fields(key: str, value: Any, field: str) -> None:
    reject(tampered(lambda d: d["proof"].update({key: value})), field)


def test_missing_created_is_allowed_when_signed_so() -> None:
    signed = add_proof(
        UNSECURED, signing_key=VECTOR_KEY, verification_method="did:example:1#k", created=None
    )
    assert "created" not in signed["proof"]
    verified = verify_proof(signed, resolve_key=lambda method: VECTOR_PUBLIC)
    assert verified.created is None
    signed["proof"]["created"] = "2023-02-24T23:36:38Z"
    reject(signed, "proof.proofValue")


# --------------------------------------------------------------------------- signing input


def test_add_proof_refuses_a_document_with_a_proof() -> None:
    with pytest.raises(InvalidInput, match="proof set"):
        sign_vector(SIGNED)


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({"n": float("nan")}, "document"),
        ({"n": 2**53}, "document"),
        ({"s": "\ud800"}, "document"),
        ({1: "non-string key"}, "document"),
    ],
)
def test_add_proof_refuses_what_has_no_canonical_form(document: Any, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        sign_vector(document)
    assert caught.value.field == field


@pytest.mark.parametrize(
    "created", ["2023-02-24", "2023-13-01T00:00:00Z", "yesterday", "2023-02-24T24:00:01Z"]
)
def test_add_proof_refuses_a_bad_created(created: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        add_proof(UNSECURED, signing_key=VECTOR_KEY, verification_method="x", created=created)
    assert caught.value.field == "proof.created"


@pytest.mark.parametrize(
    "created",
    [
        "2023-02-24T23:36:38Z",
        "2024-02-29T00:00:00.123456+05:30",
        "2023-02-24T23:36:38",
        "2000-01-01T24:00:00-14:00",
        "12023-01-01T00:00:00Z",
    ],
)
def test_xml_schema_date_times_are_accepted(created: str) -> None:
    signed = add_proof(UNSECURED, signing_key=VECTOR_KEY, verification_method="x", created=created)
    assert verify_proof(signed, resolve_key=lambda method: VECTOR_PUBLIC).created == created


def test_signing_input_refuses_secured_inputs() -> None:
    with pytest.raises(InvalidInput):
        signing_input(document=SIGNED, proof=PROOF_CONFIG)
    with pytest.raises(InvalidInput):
        signing_input(document=UNSECURED, proof=SIGNED["proof"])
    with pytest.raises(InvalidInput) as caught:
        signing_input(document=UNSECURED, proof={**PROOF_CONFIG, "cryptosuite": "eddsa-2022"})
    assert caught.value.field == "proof.cryptosuite"


def test_hash_order_is_proof_config_first() -> None:
    hashed = signing_input(document=UNSECURED, proof=PROOF_CONFIG)
    swapped = hashed.document_hash + hashed.proof_config_hash
    signature = VECTOR_KEY.sign(swapped)
    reject(
        tampered(lambda d: d["proof"].update(proofValue=encode_proof_value(signature))),
        "proof.proofValue",
    )


# --------------------------------------------------------------------------- Multikey


def test_multikey_round_trip() -> None:
    key = signing_key_from_seed(bytes(range(32)))
    public = public_key_bytes(key)
    assert public_key_from_multikey(multikey_from_public_key(public)) == public
    again = signing_key_from_multikey(multikey_from_signing_key(key))
    assert public_key_bytes(again) == public


def _multikey(raw: bytes) -> str:
    return "z" + base58.b58encode(raw).decode()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("u" + PUBLIC_MULTIKEY[1:], "starts with 'z'"),
        (PUBLIC_MULTIKEY[1:], "starts with 'z'"),
        ("z" + "0" * 47, "bad base58"),
        ("z", "bad base58"),
        (SECRET_MULTIKEY, "expected multicodec header 0xed01, found 0x8026, an Ed25519 secret"),
        (_multikey(b"\xe7\x01" + bytes(33)), "found 0xe701"),  # secp256k1-pub
        (_multikey(b"\xed\x01" + VECTOR_PUBLIC[:31]), "got 31"),
        (_multikey(b"\xed\x01" + VECTOR_PUBLIC + b"\x00"), "got 33"),
        ("z" + "2" * 80, "too long"),
    ],
)
def test_bad_public_multikey_is_rejected(text: str, problem: str) -> None:
    with pytest.raises(InvalidMultikey) as caught:
        public_key_from_multikey(text)
    assert problem in str(caught.value)
    assert caught.value.field == "publicKeyMultibase"
    assert str(caught.value).startswith("publicKeyMultibase: ")


def test_multikey_errors_never_quote_a_secret() -> None:
    with pytest.raises(InvalidMultikey) as caught:
        public_key_from_multikey(SECRET_MULTIKEY)
    assert SECRET_MULTIKEY[1:12] not in str(caught.value)


def test_bad_secret_multikey_is_rejected() -> None:
    with pytest.raises(InvalidMultikey, match="0x8026, found 0xed01"):
        signing_key_from_multikey(PUBLIC_MULTIKEY)
    with pytest.raises(InvalidMultikey, match="got 31"):
        signing_key_from_multikey(_multikey(b"\x80\x26" + bytes(31)))


def test_multikey_from_public_key_wants_32_bytes() -> None:
    with pytest.raises(InvalidMultikey):
        multikey_from_public_key(bytes(33))


# --------------------------------------------------------------------------- property


json_keys = st.text(max_size=8).filter(lambda key: key != "proof")
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    # RFC 8785 numbers are IEEE 754 doubles: integers beyond 2**53 - 1, NaN and the
    # infinities have no canonical form (rfc8785 raises); every finite double has one.
    st.integers(min_value=-MAX_SAFE_INTEGER, max_value=MAX_SAFE_INTEGER),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),  # hypothesis text has no lone surrogates
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=6), children, max_size=4),
    ),
    max_leaves=16,
)
json_documents = st.dictionaries(json_keys, json_values, max_size=6)
contexts = st.one_of(
    st.none(),
    st.text(max_size=20),
    st.lists(st.one_of(st.text(max_size=20), st.dictionaries(json_keys, json_scalars)), max_size=3),
)
PROPERTY = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(
    document=json_documents,
    context=contexts,
    created=st.one_of(st.none(), st.just("2023-02-24T23:36:38Z")),
    purpose=st.sampled_from(["assertionMethod", "authentication"]),
    method=st.text(min_size=1, max_size=30),
)
def test_add_then_verify_round_trips(
    document: dict[str, Any], context: Any, created: str | None, purpose: str, method: str
) -> None:
    if context is not None:
        document = {"@context": context, **document}
    before = copy.deepcopy(document)
    signed = add_proof(
        document,
        signing_key=VECTOR_KEY,
        verification_method=method,
        created=created,
        proof_purpose=purpose,
    )
    assert document == before  # the input is left alone
    assert signed["proof"]["type"] == PROOF_TYPE and signed["proof"]["cryptosuite"] == CRYPTOSUITE
    # Through JSON text and back, as a verifier would receive it.
    received = json.loads(json.dumps(signed))
    verified = verify_proof(received, resolve_key=lambda m: VECTOR_PUBLIC if m == method else b"")
    assert verified.verification_method == method
    assert verified.proof_purpose == purpose
    assert verified.created == created
    assert canonicalize(verified.document) == canonicalize(document)


@PROPERTY
@given(document=json_documents, key=json_keys, value=json_scalars)
def test_any_added_or_changed_member_fails(document: dict[str, Any], key: str, value: Any) -> None:
    signed = sign_vector(document)
    changed = copy.deepcopy(signed)
    changed[key] = value
    if canonicalize({k: v for k, v in changed.items() if k != "proof"}) == canonicalize(document):
        return  # the same JSON (say 1 for 1.0): nothing was changed
    reject(changed, "proof.proofValue")
