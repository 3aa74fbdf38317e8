"""Protocol v2 through the HTTP API (issue 9), on every backend: the digest kind is bound
(a record's receipt never verifies a file, a file's receipt flipped to "record" never shows
contents), a receipt or a digest alone is IN_FORCE and never VALID, malformed and duplicate-key
inputs are TAMPERED naming the field, the block shown is the chain's, a compromise-voided
anchor says why it is UNTRUSTED, an authority revocation says who, a replacement must be the
same agency's record and is presented as a record to look up."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from api_helpers import Api

from registry import record
from registry.service.issuing import seal_with_secret

BIRTH = {"type": "BirthCertificate", "child": {"given": "Mari", "family": "Tamm"}, "n": 1}


def _check(verdict: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in verdict["checks"] if c["name"] == name)


def _field_hash_preimage(sealed: dict[str, Any]) -> bytes:
    """Bytes whose SHA-256 is the sealed record's digest: its sorted field hashes, joined
    (the record digest is SHA-256 over exactly that)."""
    doc = record.parse_sealed_document(json.dumps(sealed))
    hashes = [
        record.field_hash(record.parse_pointer(pointer), doc.salts[pointer], value)
        for pointer, value in record.disclosed_fields(doc)
    ]
    return b"".join(sorted([*hashes, *doc.redacted]))


def _issued(api: Api) -> tuple[dict[str, Any], dict[str, Any]]:
    """A's anchored record: its receipt and its sealed document."""
    first = api.submit(BIRTH)
    sealed = api.client.get(f"/v1/records/{first['digest']}/document", headers=api.agency_a).json()
    return first["receipt"], sealed


def test_file_with_record_digest_is_tampered(api: Api) -> None:
    """A file whose SHA-256 equals a record's digest never verifies with the record's
    receipt, however it is sent: the kind is bound into the leaf."""
    c = api.client
    receipt, sealed = _issued(api)
    forged = _field_hash_preimage(sealed)
    digest = receipt["digest"]
    assert "0x" + hashlib.sha256(forged).hexdigest() == digest
    answers = [
        c.post(
            "/v1/verify/file",
            files={"document": ("f.pdf", forged), "receipt": ("r.json", json.dumps(receipt))},
        ),
        c.post("/v1/verify/file", files={"document": ("f.pdf", forged)}),  # store lookup
        c.post("/v1/verify", params={"digest": digest}, json=receipt),
        c.get(f"/v1/verify/{digest}", params={"digestKind": "file"}),
    ]
    for answer in answers:
        assert answer.status_code == 200, answer.text
        verdict = answer.json()
        assert verdict["outcome"] == "TAMPERED", verdict
        assert _check(verdict, "integrity")["status"] == "fail"
        assert "file" in _check(verdict, "integrity")["reason"]


def test_flipped_digest_kind_is_tampered(api: Api) -> None:
    """A digest anchored as a file, chosen to be the record digest of a made-up record: its
    receipt with digestKind flipped to "record" never shows those contents as valid."""
    c = api.client
    mallory = seal_with_secret(b"\x66" * 32, {"name": "Mallory", "title": "Doctor of Medicine"})
    digest = "0x" + bytes(mallory.digest).hex()
    anchored = c.post(
        "/v1/records/digest", params={"wait": True}, json={"digest": digest}, headers=api.agency_a
    )
    assert anchored.status_code == 200, anchored.text
    file_receipt = anchored.json()["receipt"]
    assert file_receipt["digestKind"] == "file"
    flipped = {**file_receipt, "digestKind": "record"}
    forged = {**record.to_json(mallory), "receipt": flipped}
    as_filed = {**record.to_json(mallory), "receipt": file_receipt}
    answers = [
        c.post("/v1/verify", json=forged),
        c.post("/v1/verify/file", files={"document": ("m.sealed.json", json.dumps(forged))}),
        c.post("/v1/verify", json=flipped),  # the flipped receipt alone
        c.post("/v1/verify", json=as_filed),  # a file's receipt inside a sealed record
    ]
    for answer in answers:
        assert answer.status_code == 200, answer.text
        verdict = answer.json()
        assert verdict["outcome"] == "TAMPERED", verdict
    # The genuine file receipt still says what it is: a file's digest, in force.
    assert c.post("/v1/verify", json=file_receipt).json()["outcome"] == "IN_FORCE"


def test_duplicate_key_in_sealed_document_is_tampered(api: Api) -> None:
    """`"n": 99, ..., "n": 1` in a sealed document: a first-key reader would show 99, which the
    digest never covered. Refused as TAMPERED, naming the field, by body and by upload."""
    c = api.client
    _, sealed = _issued(api)
    text = json.dumps(sealed)
    assert '"data": {"type": ' in text
    doubled = text.replace('"data": {"type": ', '"data": {"n": 99, "type": ', 1).encode()
    answers = [
        c.post("/v1/verify", content=doubled, headers={"content-type": "application/json"}),
        c.post("/v1/verify/file", files={"document": ("d.sealed.json", doubled)}),
    ]
    for answer in answers:
        assert answer.status_code == 200, answer.text
        verdict = answer.json()
        assert verdict["outcome"] == "TAMPERED", verdict
        fmt = _check(verdict, "format")
        assert fmt["status"] == "fail" and "duplicate" in fmt["reason"]
        assert "data/n" in fmt["reason"]


def test_malformed_sealed_document_names_the_field(api: Api) -> None:
    c = api.client
    receipt, sealed = _issued(api)
    bad_salt = {**sealed, "salts": {**sealed["salts"], "/n": "0x12"}}
    verdict = c.post("/v1/verify", json=bad_salt).json()
    assert verdict["outcome"] == "TAMPERED"
    assert "salts" in _check(verdict, "format")["reason"]
    bad_receipt = {**receipt, "merkle": {**receipt["merkle"], "root": "0x1234"}}
    upload = c.post(
        "/v1/verify/file",
        files={"document": ("f.pdf", b"%PDF"), "receipt": ("r.json", json.dumps(bad_receipt))},
    ).json()
    assert upload["outcome"] == "TAMPERED"
    assert _check(upload, "format")["reason"].startswith("receipt.merkle.root: ")


def test_receipt_alone_is_in_force_and_block_is_proven(api: Api) -> None:
    """A receipt alone: IN_FORCE (the record exists, no document checked). The block number
    shown is the chain's (check()); a receipt misstating it is not trusted."""
    c = api.client
    receipt, sealed = _issued(api)
    alone = c.post("/v1/verify", json=receipt).json()
    assert alone["outcome"] == "IN_FORCE"
    assert _check(alone, "integrity")["status"] == "skip"
    chain = api.env.registry.anchor_of(api.address_a, bytes.fromhex(receipt["merkle"]["root"][2:]))
    assert alone["blockNumber"] == chain.block_number == receipt["anchor"]["blockNumber"]
    assert "txHash" not in json.dumps(alone) and "index" not in receipt["merkle"]
    misstated = {**receipt, "anchor": {**receipt["anchor"], "blockNumber": 10**6}}
    verdict = c.post("/v1/verify", json={**sealed, "receipt": misstated}).json()
    assert verdict["outcome"] != "VALID" and verdict["blockNumber"] == chain.block_number


def test_compromise_voided_anchor_says_why(api: Api) -> None:
    c = api.client
    receipt, sealed = _issued(api)
    root = bytes.fromhex(receipt["merkle"]["root"][2:])
    anchored_at = api.env.registry.anchor_of(api.address_a, root).anchored_at
    api.env.registry.mark_compromised(api.env.admin, api.address_a, since=anchored_at)
    api.runtime.reader.forget()
    verdict = c.post("/v1/verify", json=sealed).json()
    assert verdict["outcome"] == "UNTRUSTED", verdict
    agency = _check(verdict, "agency")
    assert agency["status"] == "fail" and agency["details"]["void"] is True
    assert "compromised" in agency["reason"]


def test_revoked_by_the_authority_says_so(api: Api) -> None:
    c = api.client
    receipt, sealed = _issued(api)
    api.env.registry.revoke_by_authority(
        api.env.admin,
        agency=api.address_a,
        root=bytes.fromhex(receipt["merkle"]["root"][2:]),
        leaf=bytes.fromhex(receipt["leaf"][2:]),
        proof=[bytes.fromhex(p[2:]) for p in receipt["merkle"]["proof"]],
        reason=5,
    )
    api.runtime.reader.forget()
    verdict = c.post("/v1/verify", json=sealed).json()
    assert verdict["outcome"] == "REVOKED", verdict
    revocation = _check(verdict, "revocation")
    assert revocation["details"]["byAuthority"] is True
    assert "registry authority" in revocation["reason"]
    assert verdict["revocationReason"] == "court order"


def test_replacement_must_be_the_same_agencys_record(api: Api) -> None:
    """Superseding into another agency's record, or into nothing, is refused before any
    transaction, naming body/replacement and nothing of the other agency."""
    c = api.client
    receipt, _ = _issued(api)
    theirs = api.submit({"owner": "b"}, who="b")["digest"]
    nowhere = "0x" + "ee" * 32
    for replacement in (theirs, nowhere):
        answer = c.post(
            f"/v1/records/{receipt['digest']}/revoke",
            json={"reason": 2, "replacement": replacement},
            headers=api.agency_a,
        )
        assert answer.status_code == 422, answer.text
        body = answer.json()
        assert [e["field"] for e in body["errors"]] == ["body/replacement"]
        assert "Ministry of Education" not in answer.text and api.address_b not in answer.text
        assert "#" not in body["detail"]  # no internal ids
    reason_one = c.post(
        f"/v1/records/{receipt['digest']}/revoke",
        json={"reason": 1, "replacement": theirs},
        headers=api.agency_a,
    )
    assert reason_one.status_code == 422
    # Nothing was sent: the record is still in force.
    assert c.post("/v1/verify", json=receipt).json()["outcome"] == "IN_FORCE"


def test_superseded_replacement_is_a_record_to_look_up(api: Api) -> None:
    c = api.client
    receipt, sealed = _issued(api)
    corrected = api.submit({**BIRTH, "n": 2})
    done = c.post(
        f"/v1/records/{receipt['digest']}/revoke",
        json={"reason": 2, "replacement": corrected["digest"]},
        headers=api.agency_a,
    )
    assert done.status_code == 200, done.text
    verdict = c.post("/v1/verify", json=sealed).json()
    assert verdict["outcome"] == "SUPERSEDED" and verdict["replacement"] == corrected["digest"]
    assert "look it up" in _check(verdict, "revocation")["reason"]
    # Looking the replacement up (the page's link) checks no document: IN_FORCE, not VALID.
    looked_up = c.get(f"/v1/verify/{corrected['digest']}").json()
    assert looked_up["outcome"] == "IN_FORCE"
