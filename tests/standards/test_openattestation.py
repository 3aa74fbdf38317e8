"""registry.openattestation against OpenAttestation itself: its published fixtures and unit-test
vectors, documents and verdicts made by the real library (fixtures/openattestation/generated,
see its README), tampering, malformed documents, and properties of salting and hashing."""

from __future__ import annotations

import ast
import copy
import json
import math
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry import openattestation
from registry.checks import CheckName, CheckStatus
from registry.merkle import keccak256
from registry.openattestation import (
    UNDEFINED,
    InvalidWrappedDocument,
    check_document_integrity,
    compute_target_hash,
    flatten_data,
    intermediate_hashes,
    is_wrapped_v2,
    merkle_root_of,
    parse_wrapped_v2,
    salt,
    uncovered_fields,
    unsalt,
)

FIXTURES = Path(__file__).parent / "fixtures" / "openattestation"
GENERATED = FIXTURES / "generated"
MANIFEST: dict[str, Any] = json.loads((GENERATED / "manifest.json").read_text())
VECTORS: dict[str, Any] = json.loads((GENERATED / "vectors.json").read_text())

PUBLISHED_VALID = [
    "open-attestation/not-obfuscated-wrapped.json",
    "open-attestation/did-wrapped.json",
    "open-attestation/wrapped-transferable-document.json",
    "open-attestation-cli/wrapped-example.1.json",
    "open-attestation-cli/wrapped-example.2.json",
]


def load(name: str) -> dict[str, Any]:
    """A fixture document (a fresh copy, free to tamper with)."""
    document: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return document


def generated(name: str) -> dict[str, Any]:
    return load(f"generated/{name}")


def ts_export(name: str) -> dict[str, Any]:
    """An object literal exported by oa-verify's tamperedDocument.ts, read as JSON: only the
    bare keys are quoted (its values are plain double-quoted strings, no trailing commas)."""
    text = (FIXTURES / "oa-verify" / "tamperedDocument.ts").read_text()
    start = text.index(f"export const {name}:")
    body = text[text.index("= {", start) + 2 : text.index("\n};", start) + 2]
    body = re.sub(r"^(\s*)([A-Za-z_$][\w$]*):", r'\1"\2":', body, flags=re.MULTILINE)
    document: dict[str, Any] = json.loads(body)
    return document


def resalt(value: str, new_value: str) -> str:
    """A salted string with its value replaced and its salt and type kept."""
    uuid_part, kind, _ = value.split(":", 2)
    return f"{uuid_part}:{kind}:{new_value}"


# --------------------------------------------------------------------------- published fixtures


@pytest.mark.parametrize("name", PUBLISHED_VALID)
def test_published_fixtures_recompute_to_their_target_hash_and_root(name: str) -> None:
    result = check_document_integrity(load(name))
    assert result.target_hash_matches
    assert result.merkle_root_matches
    assert result.valid and result.intact
    assert result.revocation_hashes == (result.target_hash,)  # no proof: a batch of one
    assert result.issuance_hash == result.merkle_root
    assert all(c.status is CheckStatus.PASS for c in result.checks())


def test_published_obfuscated_fixture_fails_as_it_does_in_openattestation() -> None:
    """OA's own verifySignature rejects this fixture: obfuscating recipient.name left
    `"recipient": {}`, and an empty object is hashed as a value."""
    document = load("open-attestation/obfuscated-wrapped.json")
    parsed = parse_wrapped_v2(document)
    assert parsed.obfuscated == (
        "45c49a0e6efbde83c602cf6bbe4aa356d495feaf78a9a309cc1bad101f5c52f4",
    )
    result = check_document_integrity(parsed)
    assert not result.target_hash_matches and result.merkle_root_matches
    del document["data"]["recipient"]
    assert check_document_integrity(document).valid
    # ... and its obfuscated hash is exactly the hidden pair of the unobfuscated fixture.
    plain = load("open-attestation/not-obfuscated-wrapped.json")
    name = plain["data"]["recipient"]["name"]
    assert (
        keccak256(json.dumps({"recipient.name": name}, separators=(",", ":")).encode()).hex()
        == (parsed.obfuscated[0])
    )


def test_oa_verify_tampered_fixture_fails_the_target_hash() -> None:
    result = check_document_integrity(ts_export("tamperedDocumentWithCertificateStore"))
    assert not result.target_hash_matches
    assert result.merkle_root_matches  # OA folds the stated target hash
    assert not result.valid
    integrity, inclusion = result.checks()
    assert integrity.status is CheckStatus.FAIL and integrity.name == CheckName.INTEGRITY
    assert inclusion.status is CheckStatus.PASS


def test_oa_verify_fixture_with_a_bad_address_checksum_is_refused() -> None:
    document = ts_export("tamperedDocumentWithInvalidCertificateStore")
    with pytest.raises(InvalidWrappedDocument, match="checksum") as caught:
        parse_wrapped_v2(document)
    assert caught.value.field == "data.issuers[0].certificateStore"


def test_parse_reads_issuers_obfuscation_and_unsalted_data() -> None:
    parsed = parse_wrapped_v2(load("open-attestation/not-obfuscated-wrapped.json"))
    assert parsed.version == openattestation.OA_V2_SCHEMA_ID
    assert parsed.proof == () and parsed.obfuscated == ()
    assert (
        parsed.target_hash
        == parsed.merkle_root
        == bytes.fromhex("c5d53262962b192c5c977f2252acd4862f41cc1ccce7e87c5b406905a2726692")
    )
    assert parsed.data["recipient"] == {"name": "John Doe"}
    assert parsed.salted_data["recipient"]["name"].endswith(":string:John Doe")
    (issuer,) = parsed.issuers
    assert issuer.name == "Demo Issuer"
    assert issuer.document_store == "0x8bA63EAB43342AAc3AdBB4B827b68Cf4aAE5Caca"
    assert issuer.store == issuer.document_store and issuer.token_registry is None
    assert issuer.identity_proof is not None
    assert issuer.identity_proof.type == "DNS-TXT"
    assert issuer.identity_proof.location == "demo-tradetrust.openattestation.com"

    (token,) = parse_wrapped_v2(load("open-attestation/wrapped-transferable-document.json")).issuers
    assert token.token_registry == "0x9178F546D3FF57D7A6352bD61B80cCCD46199C2d"
    assert token.store is None
    (did,) = parse_wrapped_v2(load("open-attestation/did-wrapped.json")).issuers
    assert did.identity_proof is not None and did.identity_proof.type == "DID"
    assert (
        did.identity_proof.key == "did:ethr:0xE712878f6E8d5d4F9e87E10DA604F9cB564C9a89#controller"
    )


def test_parse_does_not_alias_the_callers_data() -> None:
    document = load("open-attestation/not-obfuscated-wrapped.json")
    parsed = parse_wrapped_v2(document)
    document["data"]["recipient"]["name"] = "changed"
    assert check_document_integrity(parsed).valid


# --------------------------------------------------------------------------- OA's unit-test vectors

# src/2.0/__tests__/digest.test.ts (Open-Attestation/open-attestation 16a20aa7): one document,
# fully visible, partly obfuscated (undefined holes) and fully obfuscated, one digest.
DIGEST_TEST_DATA = {
    "key1": "value1",
    "key2": {
        "key2-1": "value2-1",
        "key2-2": "value2-2",
        "key2-3": ["value2-3-1", "value2-3-2", "value2-3-3"],
    },
    "key3": ["value3-1", "value3-2"],
}
DIGEST_TEST_HASHES = [
    "1549a7b5fac4126fa0fbdea8c156930790691317e30400feb76c0f5cec06b396",
    "bfde44f29cc03f4111c0e0dd5c9551705e9cfb03054e26e01f53c6dabff7aead",
    "877b54b204a759620fd386e531d9a017655377f3645117665409da3c7ff5a61a",
    "1cbeb0dc59c8e303b23bcfd5275211531348da401d971e120c0dded6fbc48c75",
    "433691731088b4455fb31dee9b75fed687fb3acf9886c1359e01d3df3d059990",
    "b75b6e1b511cae653f4bf5a8981e300a53b5e797f8de9ce0f4521d64d28a3e4e",
    "f290dec8eba6913285b09f712ea38e39da8ffdf1de9bf305b90d3b77ae77be96",
    "83cae3b56a3b5b874ddf7d9e237f8527791bde5459bd2d72529395782e6088d0",
]
DIGEST_TEST_DIGEST = "3826fcc2b0122a3555051a29b09b8cf5a6a8c776abf5da4e966ab92dbdbd518c"


def test_digest_test_vectors() -> None:
    assert compute_target_hash(DIGEST_TEST_DATA).hex() == DIGEST_TEST_DIGEST
    partly_hidden = {
        "key1": "value1",
        "key2": {"key2-1": "value2-1", "key2-3": ["value2-3-1", UNDEFINED, "value2-3-3"]},
        "key3": [UNDEFINED, "value3-2"],
    }
    hidden = [DIGEST_TEST_HASHES[i] for i in (2, 4, 6)]
    assert compute_target_hash(partly_hidden, hidden).hex() == DIGEST_TEST_DIGEST
    assert compute_target_hash({}, DIGEST_TEST_HASHES).hex() == DIGEST_TEST_DIGEST


def test_flattening_matches_flatley() -> None:
    assert flatten_data(DIGEST_TEST_DATA) == {
        "key1": "value1",
        "key2.key2-1": "value2-1",
        "key2.key2-2": "value2-2",
        "key2.key2-3.0": "value2-3-1",
        "key2.key2-3.1": "value2-3-2",
        "key2.key2-3.2": "value2-3-3",
        "key3.0": "value3-1",
        "key3.1": "value3-2",
    }
    assert flatten_data({"a": {}, "b": [], "c": [[]], "d": None}) == {
        "a": {},
        "b": [],
        "c.0": [],
        "d": None,
    }


# src/2.0/__tests__/obfuscate.test.ts (Open-Attestation/open-attestation 32f34550): the hash
# obfuscateData records for a field is the hash of its flattened pair.
OBFUSCATE_TEST_VECTORS = [
    ({"key1": "value1"}, "1549a7b5fac4126fa0fbdea8c156930790691317e30400feb76c0f5cec06b396"),
    ({"key2": "value2"}, "9effc0520df5aa99bd49cc6521f76b13274a113ef0e4f45cd3bedecbf5d9e3d6"),
    ({"key1": 2}, "95d3d5290cbedca7c616c3b531280a5d5bbc05ec1301af9990860eb4854974d6"),
    ({"key3": False}, "4efbbb60071bb9d068120fd1f855ae79773db8a2d966a17edc18235649d78b4f"),
    (
        {"key2": {"key22": "value22"}},
        "ebc402e918095d861060397a080355b5ba70c203f709795256544d706e2babb1",
    ),
    (
        {"key2": {"key23": {"key232": "value232"}}},
        "3155a96711e47297b1c9d8737e7662081c1771a02c535d6fc63c9cf810a9e1ff",
    ),
    ({"key2": ["value21"]}, "6861b14e4bb0633052a4c7cf1dbcdec397779ebd34be2c6d1171e3b0035e0a34"),
    (
        {"key3": {"key32": [UNDEFINED, "value322"]}},
        "b42e640700371697ed374f8ce02f6b8348e41e1e9ef18fd3dfaf7ad8d11cca9f",
    ),
    ({"key1": "test"}, "674afcc934fede83cbfef6361de969d520ec3f8aebacbc984b8d39b11dbdcd38"),
]


@pytest.mark.parametrize(("data", "leaf"), OBFUSCATE_TEST_VECTORS)
def test_a_visible_field_hashes_like_its_obfuscated_hash(data: dict[str, Any], leaf: str) -> None:
    assert compute_target_hash(data) == compute_target_hash({}, [leaf])


def test_obfuscate_test_batch_document_verifies() -> None:
    """The batched document of OA's "is transitive" test (data not salted): a proof of two."""
    target = compute_target_hash({"key1": "item1", "key2": "item4"})
    assert target.hex() == "e20e8b2ae5874860486e06a8b7506a16e2ac3bef77457622731718715fe14f02"
    proof = [
        bytes.fromhex("f83ab45ee162d8745ceb260a05149abc33a52a8efae81ed4c66b766945aa80d9"),
        bytes.fromhex("2dd7ff47612ae3a8416030c5824ef11062ac6bcaecac813f2e30674907771f8a"),
    ]
    root = "d32eac5b9695e00917e86041f527cd394b99e6c73366762ce40814b25c3f2653"
    assert merkle_root_of(target, proof).hex() == root
    hashes = intermediate_hashes(target, proof)
    assert len(hashes) == 3 and hashes[0] == target and hashes[-1].hex() == root


# --------------------------------------------------------------------------- generated fixtures

GENERATED_DOCUMENTS = sorted(MANIFEST["documents"])


def test_manifest_names_the_library() -> None:
    assert MANIFEST["library"] == "@govtechsg/open-attestation"
    assert MANIFEST["version"] == "6.9.7"
    assert {"batch3-0.json", "obfuscated-fields.json", "quirk-proto-key.json"} <= set(
        GENERATED_DOCUMENTS
    )


@pytest.mark.parametrize("name", GENERATED_DOCUMENTS)
def test_generated_documents_get_openattestations_verdict(name: str) -> None:
    expected = MANIFEST["documents"][name]
    result = check_document_integrity(generated(name))
    assert result.computed_target_hash.hex() == expected["digest"]
    assert result.valid is expected["verifySignature"]
    assert ["0x" + h.hex() for h in result.revocation_hashes] == expected["intermediateHashes"]
    assert "0x" + result.issuance_hash.hex() == expected["issuedHash"]


@pytest.mark.parametrize("name", GENERATED_DOCUMENTS)
def test_generated_documents_unsalt_as_openattestation_shows_them(name: str) -> None:
    assert unsalt(generated(name)["data"]) == MANIFEST["documents"][name]["data"]


@pytest.mark.parametrize("name", [n for n in GENERATED_DOCUMENTS if n.startswith("batch")])
def test_revocation_hashes_run_from_the_target_hash_to_the_root(name: str) -> None:
    parsed = parse_wrapped_v2(generated(name))
    result = check_document_integrity(parsed)
    assert result.intact
    assert len(result.revocation_hashes) == 1 + len(parsed.proof)
    assert result.revocation_hashes[0] == parsed.target_hash
    assert result.revocation_hashes[-1] == parsed.merkle_root
    assert intermediate_hashes(parsed.target_hash, parsed.proof) == result.revocation_hashes


def test_a_batch_shares_one_root_with_proofs_of_several_lengths() -> None:
    # OA's tree promotes the odd node of a layer: its proof is shorter.
    for prefix, count, lengths in (("batch3", 3, {1, 2}), ("batch5", 5, {1, 3})):
        parsed = [parse_wrapped_v2(generated(f"{prefix}-{i}.json")) for i in range(count)]
        assert len({p.merkle_root for p in parsed}) == 1
        assert len({p.target_hash for p in parsed}) == count
        assert {len(p.proof) for p in parsed} == lengths


def test_obfuscated_documents_still_verify_and_hide_the_fields() -> None:
    document = generated("obfuscated-fields.json")
    parsed = parse_wrapped_v2(document)
    assert "flags" not in parsed.data and "fee" not in parsed.data["certificate"]
    assert len(parsed.obfuscated) == 5  # street, fee, and the three flags
    assert check_document_integrity(parsed).intact
    original = parse_wrapped_v2(generated("batch3-0.json"))
    assert parsed.target_hash == original.target_hash
    assert parsed.merkle_root == original.merkle_root
    twice = parse_wrapped_v2(generated("obfuscated-twice.json"))
    assert len(twice.obfuscated) == 7 and check_document_integrity(twice).intact


@pytest.mark.parametrize("name", ["obfuscated-last-field.json", "obfuscated-array-element.json"])
def test_obfuscations_openattestation_itself_rejects(name: str) -> None:
    assert MANIFEST["documents"][name]["verifySignature"] is False
    result = check_document_integrity(generated(name))
    assert not result.target_hash_matches and result.merkle_root_matches


# --------------------------------------------------------------------------- OA's blind spots


def test_values_the_hash_does_not_cover_are_reported() -> None:
    for name, paths in (
        ("quirk-uncovered-keys", ("data.note", "data.constructor", "data.prototype")),
        ("quirk-proto-key", ("data.__proto__",)),
    ):
        for variant in (f"{name}.json", f"{name}-tampered.json"):
            assert MANIFEST["documents"][variant]["verifySignature"] is True
            result = check_document_integrity(generated(variant))
            assert result.valid  # as OA: the tampering goes unseen by its hash
            assert not result.intact
            assert result.uncovered_fields == paths
            integrity, _ = result.checks()
            assert integrity.status is CheckStatus.FAIL
            assert integrity.details["openattestation_valid"] is True
    shown = parse_wrapped_v2(generated("quirk-uncovered-keys-tampered.json")).data
    assert shown["note"] == "tampered" and shown[""] == {"note": "hashed instead"}


def test_the_later_of_two_shadowing_keys_wins_in_javascript_key_order() -> None:
    # Array-index keys come first in JavaScript, whatever the text order.
    data = {"": {"0": "from empty key"}, "0": "top level"}
    assert flatten_data(data) == {"0": "from empty key"}
    assert uncovered_fields(data) == ('data["0"]',)
    assert uncovered_fields({"a": "x", "": {"a": "y"}}) == ("data.a",)


def test_an_array_and_an_index_keyed_object_hash_alike() -> None:
    assert compute_target_hash({"a": ["x"]}) == compute_target_hash({"a": {"0": "x"}})


# --------------------------------------------------------------------------- vectors.json


@pytest.mark.parametrize("case", VECTORS["digests"], ids=lambda c: c["name"])
def test_digests_of_hand_made_data_match_openattestation(case: dict[str, Any]) -> None:
    data = json.loads(case["data"])
    assert compute_target_hash(data, case["obfuscated"]).hex() == case["digest"]


def test_a_dotted_key_is_refused_as_openattestation_does() -> None:
    assert VECTORS["dottedKey"] == "error: Key names must not have . in them"
    with pytest.raises(InvalidWrappedDocument, match=re.escape("must not contain '.'")) as caught:
        compute_target_hash({"x": [{"a.b": "v"}]})
    assert caught.value.field == 'data.x[0]["a.b"]'


@pytest.mark.parametrize("vector", VECTORS["numbers"], ids=lambda v: v["input"])
def test_numbers_are_written_as_javascript_writes_them(vector: dict[str, str]) -> None:
    text = vector["input"]
    number: int | float = int(text) if re.fullmatch(r"-?\d+", text) else float(text)
    assert salt(number, make_salt=lambda: "s") == f"s:{vector['typed']}"
    key_hash = keccak256(vector["json"].encode()).hex()
    assert compute_target_hash({"k": number}) == compute_target_hash({}, [key_hash])


@pytest.mark.parametrize("vector", VECTORS["unsalt"], ids=lambda v: v["input"][:60])
def test_unsalt_matches_openattestation(vector: dict[str, Any]) -> None:
    if "error" in vector:
        with pytest.raises(InvalidWrappedDocument, match="unknown salted type"):
            unsalt({"v": vector["input"]})
        return
    value = unsalt({"v": vector["input"]})["v"]
    expected = vector["output"]
    if expected["type"] == "undefined":
        assert value is UNDEFINED
    elif expected["type"] == "number":
        assert isinstance(value, int | float) and not isinstance(value, bool)
        assert salt(value, make_salt=lambda: "s") == f"s:number:{expected['text']}"
        negative_zero = value == 0 and math.copysign(1, value) < 0
        assert negative_zero is expected["negativeZero"]
    else:
        assert value == expected["value"]
        assert type(value) is type(expected["value"])


# --------------------------------------------------------------------------- tampering


def test_changing_one_value_breaks_the_target_hash() -> None:
    document = generated("batch3-0.json")
    document["data"]["recipient"]["name"] = resalt(document["data"]["recipient"]["name"], "Eve")
    result = check_document_integrity(document)
    assert not result.target_hash_matches and not result.valid
    assert result.merkle_root_matches


def test_changing_a_type_or_a_number_breaks_the_target_hash() -> None:
    document = generated("batch3-0.json")
    fee = document["data"]["certificate"]["fee"]
    assert fee.endswith(":number:12.5")
    document["data"]["certificate"]["fee"] = fee.replace(":number:", ":string:")
    assert not check_document_integrity(document).target_hash_matches
    document = generated("batch3-0.json")
    document["data"]["certificate"]["fee"] = resalt(fee, "12.50")  # same number to JavaScript
    assert not check_document_integrity(document).target_hash_matches


def test_changing_a_salt_breaks_the_target_hash() -> None:
    document = generated("batch3-0.json")
    value = document["data"]["recipient"]["name"]
    document["data"]["recipient"]["name"] = ("0" if value[0] != "0" else "1") + value[1:]
    assert not check_document_integrity(document).target_hash_matches


def test_renaming_moving_adding_or_removing_a_field_breaks_the_target_hash() -> None:
    base = generated("batch3-1.json")
    renamed = copy.deepcopy(base)
    renamed["data"]["recipient"]["fullName"] = renamed["data"]["recipient"].pop("name")
    moved = copy.deepcopy(base)
    moved["data"]["name"] = moved["data"]["recipient"].pop("name")
    added = copy.deepcopy(base)
    added["data"]["extra"] = "3b2c2a43-4a0a-4c4e-8a6a-0e4c5d6e7f80:string:extra"
    removed = copy.deepcopy(base)
    del removed["data"]["amount"]
    emptied = copy.deepcopy(base)
    emptied["data"]["remarks"] = []
    for document in (renamed, moved, added, removed, emptied):
        assert not check_document_integrity(document).target_hash_matches


def test_removing_or_adding_an_obfuscated_hash_breaks_the_target_hash() -> None:
    document = generated("obfuscated-fields.json")
    removed = copy.deepcopy(document)
    removed["privacy"]["obfuscatedData"].pop(0)
    assert not check_document_integrity(removed).target_hash_matches
    added = copy.deepcopy(document)
    added["privacy"]["obfuscatedData"].append(keccak256(b"forged").hex())
    assert not check_document_integrity(added).target_hash_matches
    upper = copy.deepcopy(document)  # hashed as text: the case counts
    upper["privacy"]["obfuscatedData"][0] = upper["privacy"]["obfuscatedData"][0].upper()
    assert not check_document_integrity(upper).target_hash_matches


def test_swapping_or_reordering_proof_elements_breaks_the_root() -> None:
    batch = [generated(f"batch5-{i}.json") for i in range(5)]
    # The promoted leaf (the shortest proof) is nobody's first sibling: swapping it in changes
    # the proof.
    document = max(batch, key=lambda d: len(d["signature"]["proof"]))
    other = min(batch, key=lambda d: len(d["signature"]["proof"]))
    proof = document["signature"]["proof"]
    assert len(proof) == 3
    swapped = copy.deepcopy(document)
    swapped["signature"]["proof"][0] = other["signature"]["targetHash"]
    reordered = copy.deepcopy(document)
    reordered["signature"]["proof"] = [proof[1], proof[0], *proof[2:]]
    truncated = copy.deepcopy(document)
    truncated["signature"]["proof"] = proof[:-1]
    other_root = copy.deepcopy(document)
    other_root["signature"]["merkleRoot"] = keccak256(b"another batch").hex()
    for tampered in (swapped, reordered, truncated, other_root):
        result = check_document_integrity(tampered)
        assert result.target_hash_matches and not result.merkle_root_matches
        assert not result.valid
        assert result.checks()[1].status is CheckStatus.FAIL


def test_another_documents_signature_does_not_fit() -> None:
    document = generated("batch3-0.json")
    document["signature"] = generated("batch3-1.json")["signature"]
    result = check_document_integrity(document)
    assert not result.target_hash_matches and result.merkle_root_matches


def test_hex_case_of_root_and_proof_does_not_matter_but_of_the_target_hash_it_does() -> None:
    document = generated("batch3-0.json")
    document["signature"]["merkleRoot"] = document["signature"]["merkleRoot"].upper()
    document["signature"]["proof"] = [p.upper() for p in document["signature"]["proof"]]
    assert check_document_integrity(document).valid
    document["signature"]["targetHash"] = document["signature"]["targetHash"].upper()
    with pytest.raises(InvalidWrappedDocument, match="lower-case"):
        check_document_integrity(document)


# --------------------------------------------------------------------------- malformed documents


def _broken(path: tuple[str, ...], value: object) -> dict[str, Any]:
    document = generated("batch3-0.json")
    node = document
    for key in path[:-1]:
        node = node[key]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return document


MALFORMED = [
    (("signature", "targetHash"), "xyz", "signature.targetHash", "expected 64 lower-case hex"),
    (("signature", "targetHash"), "0x" + "ab" * 32, "signature.targetHash", "expected 64"),
    (("signature", "targetHash"), 5, "signature.targetHash", "got a number"),
    (("signature", "targetHash"), KeyError, "signature.targetHash", "missing"),
    (("signature", "merkleRoot"), "ab" * 31 + "a", "signature.merkleRoot", "expected 64 hex"),
    (("signature", "proof"), ["0x" + "ab" * 32], "signature.proof[0]", "expected 64 hex"),
    (("signature", "proof"), "ab" * 32, "signature.proof", "expected an array"),
    (("signature", "type"), "OpenAttestationMerkleProofSignature2018", "signature.type", "SHA3"),
    (("signature",), KeyError, "signature", "missing"),
    (("data",), KeyError, "data", "missing"),
    (("data",), ["x"], "data", "expected an object"),
    (("version",), openattestation.OA_V3_SCHEMA_ID, "version", "v3"),
    (("privacy",), {"obfuscatedData": ["zz"]}, "privacy.obfuscatedData[0]", "64 hex"),
    (("privacy",), {"obfuscatedData": None}, "privacy.obfuscatedData", "expected an array"),
    (("data", "issuers"), [], "data.issuers", "non-empty"),
    (("data", "issuers"), KeyError, "data.issuers", "missing"),
    (
        ("data", "issuers"),
        [{"name": "x", "documentStore": "3b2c2a43-4a0a-4c4e-8a6a-0e4c5d6e7f80:string:0x12"}],
        "data.issuers[0].documentStore",
        "40 hex digits",
    ),
    (
        ("data", "recipient", "name"),
        "3b2c2a43-4a0a-4c4e-8a6a-0e4c5d6e7f80:date:2020-01-01",
        "data.recipient.name",
        "unknown salted type 'date'",
    ),
    (("data", "recipient", "a.b"), "x", 'data.recipient["a.b"]', "must not contain"),
]


@pytest.mark.parametrize(("path", "value", "field", "problem"), MALFORMED, ids=lambda x: str(x))
def test_malformed_documents_are_refused_naming_the_field(
    path: tuple[str, ...], value: object, field: str, problem: str
) -> None:
    document = _broken(path, value)
    with pytest.raises(InvalidWrappedDocument, match=re.escape(problem)) as caught:
        parse_wrapped_v2(document)
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: ")
    assert not is_wrapped_v2(document)


def test_is_wrapped_v2() -> None:
    assert all(is_wrapped_v2(load(name)) for name in PUBLISHED_VALID)
    assert is_wrapped_v2(generated("obfuscated-last-field.json"))  # well-formed, just invalid
    legacy = generated("batch3-0.json")
    legacy["version"] = "open-attestation/2.0"  # older documents (oa-verify's fixtures)
    assert is_wrapped_v2(legacy)
    del legacy["version"]
    assert is_wrapped_v2(legacy)
    others: list[object] = [None, [], "text", {"data": {}}, {"proof": {"targetHash": "00" * 32}}]
    for other in others:
        assert not is_wrapped_v2(other)


def test_merkle_functions_refuse_hashes_that_are_not_32_bytes() -> None:
    with pytest.raises(InvalidWrappedDocument, match="32 bytes"):
        merkle_root_of(b"\x00" * 31, [])
    with pytest.raises(InvalidWrappedDocument, match=re.escape("proof[1]")):
        intermediate_hashes(b"\x00" * 32, [b"\x01" * 32, b"\x02" * 33])


def test_merkle_folding_is_sorted_pair_keccak() -> None:
    a, b, c = (keccak256(bytes([i])) for i in range(3))
    ab = keccak256(min(a, b) + max(a, b))
    assert merkle_root_of(a, [b]) == merkle_root_of(b, [a]) == ab
    assert merkle_root_of(a, [b, c]) == keccak256(min(ab, c) + max(ab, c))
    assert intermediate_hashes(a, [b, c]) == (a, ab, merkle_root_of(a, [b, c]))
    assert merkle_root_of(a, []) == a


# --------------------------------------------------------------------------- properties

JS_TRIMMED = "\t\n\v\f\r \u00a0\u1680\u2028\u2029\u202f\u205f\u3000\ufeff"
KEYS = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=8).filter(
    lambda k: "." not in k and k not in {"__proto__", "constructor", "prototype"}
)
STRINGS = st.text(max_size=20).filter(
    lambda s: not s or not (s[-1].isspace() or s[-1] in JS_TRIMMED)
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | STRINGS
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=12,
)
DATA = st.dictionaries(KEYS, VALUES, max_size=5)


@settings(max_examples=150)
@given(data=DATA)
def test_unsalt_inverts_salt(data: dict[str, Any]) -> None:
    salted = salt(data)
    assert unsalt(salted) == data
    assert unsalt(salt(data)) == unsalt(salted)  # fresh salts, same values


@settings(max_examples=100)
@given(data=DATA.filter(bool), pick=st.integers(min_value=0))
def test_obfuscating_a_top_level_field_keeps_the_target_hash(
    data: dict[str, Any], pick: int
) -> None:
    salted = salt(data)
    target = compute_target_hash(salted)
    assert compute_target_hash(dict(reversed(salted.items()))) == target  # key order is free
    key = sorted(salted)[pick % len(salted)]
    hidden = flatten_data({key: salted[key]})
    rest = {k: v for k, v in salted.items() if k != key}
    hashes = [
        keccak256(json.dumps({k: v}, ensure_ascii=False, separators=(",", ":")).encode()).hex()
        for k, v in hidden.items()
    ]
    assert compute_target_hash(rest, hashes) == target
    assert compute_target_hash(rest, hashes[1:]) != target


# --------------------------------------------------------------------------- purity


def test_the_module_is_pure() -> None:
    tree = ast.parse(Path(openattestation.__file__).read_text())
    imported = {
        name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for name in (
            [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
        )
    }
    forbidden = {"web3", "sqlalchemy", "fastapi", "httpx", "requests", "socket", "subprocess"}
    assert not imported & forbidden
    assert imported <= {
        "__future__",
        "copy",
        "math",
        "re",
        "uuid",
        "collections",
        "dataclasses",
    } | {
        "typing",
        "registry",
    }
