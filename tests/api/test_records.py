"""The agency's and the citizen's story through the API, on every backend (embedded chain and
anvil; SQLite and PostgreSQL): submit, wait for the receipt, read it back, download the sealed
document, verify it, supersede it, and see SUPERSEDED everywhere at once."""

from __future__ import annotations

import hashlib

from api_helpers import Api

from registry.receipt import parse_receipt

BIRTH = {"type": "BirthCertificate", "child": {"given": "Mari", "family": "Tamm"}, "n": 1}


def test_submit_wait_receipt_verify_supersede(api: Api) -> None:
    c = api.client
    first = api.submit(BIRTH)
    assert first["status"] == "anchored" and first["new"] is True
    assert first["agencyName"] == "Civil Registry Office"
    digest = first["digest"]
    receipt = first["receipt"]
    parse_receipt(receipt)  # a well-formed v2 receipt
    assert receipt["version"] == 2 and receipt["digestKind"] == "record"
    assert receipt["digest"] == digest
    assert "index" not in receipt["merkle"] and "txHash" not in receipt["anchor"]
    assert first["batch"]["state"] == "confirmed" and first["batch"]["txHash"]

    status = c.get(f"/v1/records/{digest}").json()
    assert status["status"] == "anchored" and status["receipt"] == receipt
    assert c.get(f"/v1/records/{digest}/receipt").json() == receipt

    doc = c.get(f"/v1/records/{digest}/document", headers=api.agency_a)
    assert doc.status_code == 200
    assert "attachment" in doc.headers["content-disposition"]
    sealed = doc.json()
    assert sealed["type"] == "SealedRecord" and sealed["receipt"] == receipt
    assert sealed["data"] == BIRTH

    # The sealed document is checked (VALID); its receipt alone, or its digest looked up,
    # says only that the record is in force (IN_FORCE), never VALID.
    for answer, outcome in (
        (c.post("/v1/verify", json=sealed), "VALID"),
        (c.post("/v1/verify", json=receipt), "IN_FORCE"),
        (c.get(f"/v1/verify/{digest}"), "IN_FORCE"),
    ):
        assert answer.status_code == 200, answer.text
        result = answer.json()
        assert result["outcome"] == outcome, result
        assert result["agencyName"] == "Civil Registry Office"
        assert {check["name"] for check in result["checks"]} >= {"format", "anchored", "key"}

    again = api.submit(BIRTH)  # the same record: the same digest, nothing new
    assert again["digest"] == digest and again["new"] is False

    corrected = api.submit({**BIRTH, "n": 2})
    revoked = c.post(
        f"/v1/records/{digest}/revoke",
        json={"reason": 2, "replacement": corrected["digest"]},
        headers=api.agency_a,
    )
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["reasonText"] == "superseded"
    for answer in (c.post("/v1/verify", json=sealed), c.get(f"/v1/verify/{digest}")):
        result = answer.json()
        assert result["outcome"] == "SUPERSEDED", result
        assert result["replacement"] == corrected["digest"]
    assert c.get(f"/v1/records/{digest}").json()["status"] == "revoked"
    assert c.post("/v1/verify", json=corrected["receipt"]).json()["outcome"] == "IN_FORCE"


def test_bulk_file_and_digest_submissions(api: Api) -> None:
    c = api.client
    records = [{"type": "Diploma", "n": i} for i in range(3)]
    bulk = c.post(
        "/v1/records/bulk", params={"wait": True}, json={"records": records}, headers=api.agency_a
    )
    assert bulk.status_code == 200, bulk.text
    body = bulk.json()
    assert (body["count"], body["new"], body["anchored"]) == (3, 3, 3)
    for item in body["records"]:
        verdict = c.post("/v1/verify", json=item["receipt"]).json()
        assert verdict["outcome"] == "IN_FORCE"

    pdf = b"%PDF-1.7 diploma of Mari Tamm\n"
    digest = "0x" + hashlib.sha256(pdf).hexdigest()
    uploaded = c.post(
        "/v1/records/file",
        params={"wait": True},
        files={"file": ("diploma.pdf", pdf, "application/pdf")},
        headers=api.agency_a,
    )
    assert uploaded.status_code == 200, uploaded.text
    assert uploaded.json()["digest"] == digest and uploaded.json()["digestKind"] == "file"
    receipt = uploaded.json()["receipt"]
    # The citizen's file with its receipt, as the CLI would verify it.
    checked = c.post(
        "/v1/verify/file",
        files={"document": ("d.pdf", pdf), "receipt": ("r.json", bulk_json(receipt))},
    )
    assert checked.json()["outcome"] == "VALID", checked.text
    altered = c.post(
        "/v1/verify/file",
        files={"document": ("d.pdf", pdf + b" "), "receipt": ("r.json", bulk_json(receipt))},
    )
    assert altered.json()["outcome"] == "TAMPERED"
    alone = c.post("/v1/verify/file", files={"document": ("d.pdf", pdf)})
    assert alone.json()["outcome"] == "VALID"  # looked up by its SHA-256
    hashed = c.get(f"/v1/verify/{digest}", params={"digestKind": "file"})
    assert hashed.json()["outcome"] == "VALID"  # the browser hashed the file in hand
    assert c.get(f"/v1/verify/{digest}").json()["outcome"] == "IN_FORCE"  # a digest typed

    other = "0x" + hashlib.sha256(b"kept in-house").hexdigest()
    by_digest = c.post(
        "/v1/records/digest", params={"wait": True}, json={"digest": other}, headers=api.agency_b
    )
    assert by_digest.status_code == 200
    assert by_digest.json()["agencyName"] == "Ministry of Education"
    # Digests are unique per agency: B issuing the same file is B's own record; it neither
    # takes A's nor blocks it, and the answer names only B.
    same = c.post(
        "/v1/records/digest", params={"wait": True}, json={"digest": digest}, headers=api.agency_b
    )
    assert same.status_code == 200, same.text
    assert same.json()["new"] is True and same.json()["agencyName"] == "Ministry of Education"
    assert same.json()["receipt"]["anchor"]["agency"] == api.address_b
    assert "Civil Registry Office" not in same.text
    assert c.get(f"/v1/records/{digest}", params={}).json()["agency"] in (
        api.address_a,
        api.address_b,
    )


def bulk_json(value: object) -> str:
    import json

    return json.dumps(value)
