"""W3C Verifiable Credentials 2.0 of sealed records (registry/credential.py, docs/credentials.md):
the layout, a credential read back, the attacks a credential must not let through, malformed
credentials that never raise, and an independent eddsa-jcs-2022 verifier, written here from the
specification alone, that accepts what the registry signs."""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import base58
import pytest
import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry import merkle, record
from registry.checks import CheckName, CheckStatus
from registry.credential import (
    MAX_CREDENTIAL_BYTES,
    MAX_CREDENTIAL_DEPTH,
    InvalidCredential,
    build_credential,
    is_credential,
    read_credential,
)
from registry.dataintegrity import add_proof
from registry.errors import InvalidInput, TamperedDocument
from registry.jsontext import load_json_strict
from registry.keys import public_key_bytes, sign_root, signing_key_from_seed
from registry.receipt import build_receipt, check_receipt_offline
from registry.trustlist import verification_method

VECTORS = Path(__file__).parent / "vectors" / "eddsa-jcs-2022"
CONTEXT_FILE = (
    Path(__file__).resolve().parents[2] / "docs" / "contexts" / "record-registry-v1.jsonld"
)

REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
AGENCY_A = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
AGENCY_B = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
KEY_A = signing_key_from_seed(b"\x0a" * 32)  # TEST ONLY
KEY_B = signing_key_from_seed(b"\x0b" * 32)  # TEST ONLY
THIEF = signing_key_from_seed(b"\x66" * 32)  # TEST ONLY
CREATED = "2026-11-24T09:30:00Z"
ANCHORED_AT = 1_795_428_000  # 2026-11-23T10:00:00Z
BIRTH = {
    "type": "BirthCertificate",
    "number": "B-2026-000017",
    "child": {"given": "Mari", "family": "Tamm", "born": "2026-03-14"},
    "languages": ["et", "en"],
    "twins": False,
    "weightGrams": 3250,
}


def sealed_with_receipt(
    data: dict[str, Any] = BIRTH,
    *,
    key: Ed25519PrivateKey = KEY_A,
    agency: str = AGENCY_A,
    chain_id: int = 31337,
) -> dict[str, Any]:
    """A sealed record anchored in a batch of two (with a file), its receipt signed by `key`
    for `agency`: what `registry receipt` prints for a record."""
    document = record.seal_record(data)
    digests = [bytes(document.digest), hashlib.sha256(b"another record").digest()]
    tree = merkle.MerkleTree.from_digests(digests, [merkle.KIND_RECORD, merkle.KIND_FILE])
    receipt = build_receipt(
        digest=document.digest,
        digest_kind="record",
        root=tree.root,
        proof=tree.proof(0),
        count=2,
        chain_id=chain_id,
        registry=REGISTRY,
        agency=agency,
        block_number=42,
        anchored_at=ANCHORED_AT,
        public_key=public_key_bytes(key),
        signature=sign_root(
            key, chain_id=chain_id, registry=REGISTRY, agency=agency, root=tree.root
        ),
    )
    return record.to_json(record.attach_receipt(document, receipt))


def credential_of(
    sealed: dict[str, Any], *, key: Ed25519PrivateKey = KEY_A, name: str = "Civil Registry Office"
) -> dict[str, Any]:
    return build_credential(sealed, agency_name=name, signing_key=key, created=CREATED)


def resigned(credential: dict[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    """The credential with its proof replaced by a fresh, valid one made with `key`: what
    anyone holding `key` (the agency, or a thief of one of its keys) can make."""
    unsigned = {k: v for k, v in credential.items() if k != "proof"}
    return add_proof(
        unsigned, signing_key=key, verification_method=verification_method(key), created=CREATED
    )


def failures(credential: Any) -> dict[str, str]:
    """field -> reason of every failing credential check (the format failure included)."""
    reading = read_credential(credential)
    return {
        str(c.details.get("field")): c.reason
        for c in reading.checks
        if c.status is CheckStatus.FAIL
    }


# ------------------------------------------------------------------ an independent verifier


def independent_verify(secured: dict[str, Any], public_key: bytes | None = None) -> None:
    """eddsa-jcs-2022 verification as the W3C Recommendation (Data Integrity EdDSA Cryptosuites
    v1.0, sections 3.3.2 to 3.3.6) writes it, without registry.dataintegrity. Raises on failure.

    The key is `public_key`, or decoded from a did:key verification method (did:key spec:
    did:key:<multibase base58btc of 0xed 0x01 || key>)."""
    # 3.3.2 Verify Proof, steps 1-3: the unsecured document, proof options, proofValue.
    unsecured = {k: v for k, v in secured.items() if k != "proof"}
    options = {k: v for k, v in secured["proof"].items() if k != "proofValue"}
    proof_value = secured["proof"]["proofValue"]
    assert proof_value.startswith("z"), "proofValue: multibase base58btc"
    signature = base58.b58decode(proof_value[1:])
    # Step 4: a proof @context must prefix the document's; the unsecured document takes it.
    if "@context" in options:
        context = options["@context"]
        assert secured["@context"][: len(context)] == context, "@context prefix"
        unsecured["@context"] = context
    # 3.3.3 Transformation: type and cryptosuite, then JCS of the document.
    assert options["type"] == "DataIntegrityProof" and options["cryptosuite"] == "eddsa-jcs-2022"
    transformed = rfc8785.dumps(unsecured)
    # 3.3.5 Proof Configuration: JCS of the options (its @context is the document's).
    canonical_config = rfc8785.dumps(options)
    # 3.3.4 Hashing: SHA-256 of the proof configuration, then of the document, concatenated.
    hash_data = hashlib.sha256(canonical_config).digest() + hashlib.sha256(transformed).digest()
    # 3.3.6 Proof Verification: Ed25519 (RFC 8032) with the verification method's key.
    if public_key is None:
        did, _, fragment = options["verificationMethod"].partition("#")
        assert did.startswith("did:key:z") and fragment == did.removeprefix("did:key:")
        decoded = base58.b58decode(did.removeprefix("did:key:z"))
        assert decoded[:2] == b"\xed\x01", "multicodec ed25519-pub"
        public_key = decoded[2:]
    Ed25519PublicKey.from_public_bytes(public_key).verify(signature, hash_data)


def test_the_independent_verifier_accepts_the_w3c_vector() -> None:
    """The verifier above is right: it accepts the specification's own signed credential and
    refuses it with one byte of its subject changed."""
    signed = json.loads((VECTORS / "signedJCS.json").read_text())
    multikey = json.loads((VECTORS / "keyPair.json").read_text())["publicKeyMultibase"]
    key = base58.b58decode(multikey[1:])[2:]
    independent_verify(signed, key)
    altered = copy.deepcopy(signed)
    altered["credentialSubject"]["alumniOf"] = "The School of Fakes"
    with pytest.raises(InvalidSignature):
        independent_verify(altered, key)


def test_the_independent_verifier_accepts_an_exported_credential() -> None:
    credential = credential_of(sealed_with_receipt())
    independent_verify(json.loads(json.dumps(credential)))  # as a file would carry it
    altered = copy.deepcopy(credential)
    altered["credentialSubject"]["child"]["given"] = "Eve"
    with pytest.raises(InvalidSignature):
        independent_verify(altered)


# ------------------------------------------------------------------ the layout


def test_the_layout_is_the_documented_one() -> None:
    sealed = sealed_with_receipt()
    credential = credential_of(sealed)
    digest = sealed["digest"]
    registry = f"eip155:31337:{REGISTRY}"
    multikey = verification_method(KEY_A).partition("#")[2]
    assert list(credential) == [
        "@context",
        "id",
        "type",
        "issuer",
        "validFrom",
        "credentialSubject",
        "credentialStatus",
        "evidence",
        "proof",
    ]
    assert credential["@context"] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://w3id.org/record-registry/v1",
    ]
    assert credential["id"] == f"urn:record-registry:{registry}:{digest}"
    assert credential["type"] == ["VerifiableCredential", "RegistryRecordCredential"]
    assert credential["issuer"] == {
        "id": f"did:pkh:eip155:31337:{AGENCY_A}",
        "name": "Civil Registry Office",
    }
    assert (
        credential["validFrom"]
        == "2026-11-23T10:00:00Z"
        == sealed["receipt"]["anchor"]["anchoredAt"]
    )
    assert credential["credentialSubject"] == BIRTH == sealed["data"]
    assert credential["credentialStatus"] == {
        "id": f"{registry}#{digest}",
        "type": "RecordRegistryStatus",
        "registry": registry,
        "digest": digest,
    }
    assert credential["evidence"] == [{"type": "SealedRecord", "document": sealed}]
    proof = credential["proof"]
    assert {k: v for k, v in proof.items() if k != "proofValue"} == {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-jcs-2022",
        "created": CREATED,
        "verificationMethod": f"did:key:{multikey}#{multikey}",
        "proofPurpose": "assertionMethod",
        "@context": credential["@context"],
    }
    assert multikey.startswith("z6Mk")
    assert is_credential(credential) and not is_credential(sealed)


def test_the_context_file_defines_every_term() -> None:
    """docs/contexts/record-registry-v1.jsonld (what https://w3id.org/record-registry/v1
    redirects to) defines our types and properties, the sealed document as opaque JSON."""
    context = json.loads(CONTEXT_FILE.read_text())["@context"]
    assert context["@protected"] is True
    assert {"RegistryRecordCredential", "RecordRegistryStatus", "SealedRecord"} <= set(context)
    status = context["RecordRegistryStatus"]["@context"]
    assert {"registry", "digest"} <= set(status)
    document = context["SealedRecord"]["@context"]["document"]
    assert document["@type"] == "@json"


# ------------------------------------------------------------------ read back


def test_an_exported_credential_reads_back() -> None:
    sealed = sealed_with_receipt()
    credential = credential_of(sealed)
    text = json.dumps(credential).encode()
    assert len(text) < MAX_CREDENTIAL_BYTES
    strict = load_json_strict(
        text, where="", max_bytes=MAX_CREDENTIAL_BYTES, max_depth=MAX_CREDENTIAL_DEPTH
    )
    assert isinstance(strict, dict)
    reading = read_credential(strict)
    assert reading.ok, reading.checks
    assert [c.name for c in reading.checks] == [CheckName.CREDENTIAL]
    assert reading.checks[0].details["verificationMethod"] == verification_method(KEY_A)
    assert reading.issuer_name == "Civil Registry Office"
    assert reading.document is not None and reading.document.data == BIRTH
    assert record.to_json(reading.document) == sealed
    # The sealed record inside verifies as itself: digest recomputed, receipt offline checks.
    checks = check_receipt_offline(
        reading.document.receipt,
        digest=record.document_digest(reading.document),
        digest_kind="record",
    )
    assert all(c.ok for c in checks)


def test_building_refuses_what_would_not_verify() -> None:
    sealed = sealed_with_receipt()
    with pytest.raises(InvalidCredential, match=r"signature\.publicKey"):
        credential_of(sealed, key=KEY_B)  # not the key that signed the receipt
    redacted = record.to_json(record.redact(record.parse_sealed_document(sealed), ["/child/born"]))
    with pytest.raises(InvalidCredential, match="redacted"):
        credential_of(redacted)
    with pytest.raises(InvalidCredential, match="receipt"):
        credential_of({**sealed, "receipt": None})
    altered = copy.deepcopy(sealed)
    altered["data"]["number"] = "B-2026-999999"
    with pytest.raises(TamperedDocument):
        credential_of(altered)
    with pytest.raises(InvalidInput, match="created"):
        build_credential(sealed, agency_name="X", signing_key=KEY_A, created="yesterday")
    with pytest.raises(InvalidInput, match=r"issuer\.name"):
        credential_of(sealed, name=" ")


# ------------------------------------------------------------------ attacks


def test_a_changed_field_fails_even_resigned_by_the_agency() -> None:
    """The agency's key (or a thief's copy of a rotated-out one) signs anything; the sealed
    record inside does not change with it."""
    credential = credential_of(sealed_with_receipt())
    credential["credentialSubject"]["child"]["given"] = "Eve"
    assert set(failures(credential)) == {"credentialSubject.child.given", "proof.proofValue"}
    again = resigned(credential, KEY_A)
    independent_verify(again)  # a Data Integrity verifier alone accepts it...
    found = failures(again)  # ...ours holds the fields to the sealed record
    assert set(found) == {"credentialSubject.child.given"}
    assert found["credentialSubject.child.given"] == (
        "credentialSubject.child.given: differs from the sealed record"
    )


def test_a_changed_field_resigned_by_another_key_fails_the_key_binding() -> None:
    credential = credential_of(sealed_with_receipt())
    credential["credentialSubject"]["number"] = "B-2026-999999"
    found = failures(resigned(credential, THIEF))
    assert set(found) == {"credentialSubject.number", "proof.verificationMethod"}
    assert "not the key that signed the record's receipt" in found["proof.verificationMethod"]


def test_fields_changed_in_subject_and_sealed_record_alike_fail_the_digest() -> None:
    """Change the field in both places and re-sign: the credential is self-consistent, but
    the sealed record no longer recomputes to the anchored digest (integrity, TAMPERED)."""
    credential = credential_of(sealed_with_receipt())
    credential["credentialSubject"]["number"] = "B-2026-999999"
    credential["evidence"][0]["document"]["data"]["number"] = "B-2026-999999"
    reading = read_credential(resigned(credential, KEY_A))
    assert reading.ok  # the credential's own checks: subject == data, key == receipt's
    assert reading.document is not None and reading.document.receipt is not None
    checks = check_receipt_offline(
        reading.document.receipt,
        digest=record.document_digest(reading.document),
        digest_kind="record",
    )
    integrity = next(c for c in checks if c.name == CheckName.INTEGRITY)
    assert integrity.status is CheckStatus.FAIL


def test_evidence_swapped_from_another_record_fails() -> None:
    """Another (genuine) record of the same agency as evidence under this subject: the subject,
    the id and the status are this record's, the evidence another's."""
    mine = credential_of(sealed_with_receipt())
    other = sealed_with_receipt({**BIRTH, "number": "B-2026-000018"})
    swapped = copy.deepcopy(mine)
    swapped["evidence"] = [{"type": "SealedRecord", "document": other}]
    found = failures(resigned(swapped, KEY_A))
    assert {
        "credentialSubject.number",
        "id",
        "credentialStatus.id",
        "credentialStatus.digest",
    } <= set(found)
    assert set(failures(swapped)) > set(found)  # unsigned again: the proof fails too


@pytest.mark.parametrize(
    ("field", "change"),
    [
        ("issuer.id", lambda c: c["issuer"].update(id=f"did:pkh:eip155:31337:{AGENCY_B}")),
        ("issuer.id", lambda c: c["issuer"].update(id=f"did:pkh:eip155:1:{AGENCY_A}")),
        (
            "credentialStatus.registry",
            lambda c: c["credentialStatus"].update(registry="eip155:1:x"),
        ),
        (
            "credentialStatus.digest",
            lambda c: c["credentialStatus"].update(digest="0x" + "00" * 32),
        ),
        (
            "credentialStatus.type",
            lambda c: c["credentialStatus"].update(type="BitstringStatusListEntry"),
        ),
        (
            "credentialStatus.statusListIndex",
            lambda c: c["credentialStatus"].update(statusListIndex="7"),
        ),
        ("validFrom", lambda c: c.update(validFrom="2020-01-01T00:00:00Z")),
        ("id", lambda c: c.update(id="urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33")),
        ("@context", lambda c: c.update({"@context": ["https://www.w3.org/ns/credentials/v2"]})),
        ("type", lambda c: c.update(type=["VerifiableCredential"])),
        (
            "credentialSubject.nationality",
            lambda c: c["credentialSubject"].update(nationality="EE"),
        ),
        ("credentialSubject.twins", lambda c: c["credentialSubject"].update(twins=0)),
        ("credentialSubject.languages", lambda c: c["credentialSubject"]["languages"].append("fr")),
        ("credentialSubject.weightGrams", lambda c: c["credentialSubject"].pop("weightGrams")),
        ("validUntil", lambda c: c.update(validUntil="2099-01-01T00:00:00Z")),
        ("name", lambda c: c.update(name="Doctor of Medicine")),
        ("issuer.url", lambda c: c["issuer"].update(url="https://ministry.example")),
    ],
)
def test_a_mismatch_resigned_by_the_agency_fails_naming_the_field(field: str, change: Any) -> None:
    credential = credential_of(sealed_with_receipt())
    change(credential)
    found = failures(resigned(credential, KEY_A))
    assert set(found) == {field}, found
    assert found[field].startswith(f"{field}: ")


def test_missing_proof_fails() -> None:
    credential = credential_of(sealed_with_receipt())
    del credential["proof"]
    assert set(failures(credential)) == {"proof"}


def test_a_proof_by_another_key_fails_the_key_binding() -> None:
    """A credential built right but signed by a key that is not the receipt's (an agency's
    other key, a thief's): its proof verifies on its own, the binding does not."""
    credential = resigned(credential_of(sealed_with_receipt()), KEY_B)
    independent_verify(credential)
    assert set(failures(credential)) == {"proof.verificationMethod"}


def test_a_verifying_proof_around_another_agencys_receipt_fails() -> None:
    """Agency B (or a thief of its key) wraps agency A's genuine sealed record: as B (issuer
    B, B's key) the issuer and the key binding fail; posing as A (issuer A, B's key) the key
    binding fails."""
    theirs = sealed_with_receipt()  # agency A's record
    as_b = credential_of(sealed_with_receipt(key=KEY_B, agency=AGENCY_B), key=KEY_B)
    as_b["evidence"] = [{"type": "SealedRecord", "document": theirs}]
    for key, value in credential_of(theirs).items():
        if key not in ("issuer", "proof", "evidence"):
            as_b[key] = value
    found = failures(resigned(as_b, KEY_B))
    assert set(found) == {"issuer.id", "proof.verificationMethod"}
    posing = resigned(credential_of(theirs), KEY_B)
    assert set(failures(posing)) == {"proof.verificationMethod"}


def test_a_credential_of_a_redacted_record_fails() -> None:
    """Hiding a field means verifying the redacted sealed document itself; a credential is all
    or nothing, even one whose subject matches the redacted data and is re-signed."""
    sealed = sealed_with_receipt()
    credential = credential_of(sealed)
    redacted = record.to_json(record.redact(record.parse_sealed_document(sealed), ["/child/born"]))
    credential["evidence"] = [{"type": "SealedRecord", "document": redacted}]
    credential["credentialSubject"] = redacted["data"]
    assert set(failures(resigned(credential, KEY_A))) == {"evidence[0].document.redacted"}


def test_a_proof_for_another_purpose_fails() -> None:
    unsigned = {k: v for k, v in credential_of(sealed_with_receipt()).items() if k != "proof"}
    other = add_proof(
        unsigned,
        signing_key=KEY_A,
        verification_method=verification_method(KEY_A),
        created=CREATED,
        proof_purpose="authentication",
    )
    assert set(failures(other)) == {"proof.proofPurpose"}


def test_a_verification_method_that_is_not_a_did_key_fails() -> None:
    credential = credential_of(sealed_with_receipt())
    credential["proof"]["verificationMethod"] = "https://ministry.example/keys#1"
    assert set(failures(credential)) == {"proof.verificationMethod"}


# ------------------------------------------------------------------ malformed


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda c: c.pop("evidence"), "evidence"),
        (lambda c: c.update(evidence={}), "evidence"),
        (lambda c: c["evidence"].append(c["evidence"][0]), "evidence"),
        (lambda c: c.update(evidence=["x"]), "evidence[0]"),
        (lambda c: c["evidence"][0].update(type="Receipt"), "evidence[0].type"),
        (lambda c: c["evidence"][0].update(extra=1), "evidence[0].extra"),
        (lambda c: c["evidence"][0].update(document="{}"), "evidence[0].document"),
        (
            lambda c: c["evidence"][0]["document"].update(receipt=None),
            "evidence[0].document.receipt",
        ),
        (lambda c: c["evidence"][0]["document"].pop("salts"), "evidence[0].document.salts"),
        (
            lambda c: c["evidence"][0]["document"]["receipt"].update(version=3),
            "evidence[0].document.receipt.version",
        ),
    ],
)
def test_a_malformed_credential_is_a_format_failure_naming_the_field(
    change: Any, field: str
) -> None:
    credential = credential_of(sealed_with_receipt())
    change(credential)
    reading = read_credential(credential)
    assert reading.document is None and not reading.ok
    assert reading.format_field == field
    assert reading.format_error is not None and reading.format_error.startswith(f"{field}: ")
    assert [(c.name, c.status) for c in reading.checks] == [(CheckName.FORMAT, CheckStatus.FAIL)]


@pytest.mark.parametrize(
    "field", ["issuer", "credentialSubject", "credentialStatus", "@context", "type", "proof"]
)
@pytest.mark.parametrize("value", [None, "x", 1, [], [1, 2], True, {"a": {}}])
def test_ill_typed_members_fail_without_raising(field: str, value: Any) -> None:
    credential = credential_of(sealed_with_receipt())
    credential[field] = value
    reading = read_credential(credential)
    assert not reading.ok
    assert any(f == field or f.startswith(f"{field}.") for f in failures(credential)), failures(
        credential
    )


@pytest.mark.parametrize("value", [None, [], "credential", 1, [{"type": "VerifiableCredential"}]])
def test_not_an_object_is_a_format_failure(value: Any) -> None:
    reading = read_credential(value)
    assert reading.document is None and reading.format_error is not None


FIXED_CREDENTIAL = credential_of(sealed_with_receipt())
STEPS = ["issuer", "proof", "credentialStatus", "evidence", 0, "document", "receipt", "data", "id"]
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    path=st.lists(st.sampled_from(STEPS), min_size=1, max_size=5),
    value=JSON,
)
def test_no_change_anywhere_makes_the_reader_raise(path: list[Any], value: Any) -> None:
    """Replace whatever `path` reaches (as far as it reaches) with any JSON value: the reading
    is a verdict, never an exception."""
    credential: Any = copy.deepcopy(FIXED_CREDENTIAL)
    node = credential
    for step in path[:-1]:
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            break
    with contextlib.suppress(IndexError, TypeError):
        node[path[-1]] = value
    reading = read_credential(credential)
    assert isinstance(reading.ok, bool)
