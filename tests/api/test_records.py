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
    parse_receipt(receipt)  # a well-formed v1 receipt
    assert receipt["digestKind"] == "record" and receipt["digest"] == digest
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

    for answer in (
        c.post("/v1/verify", json=receipt),
        c.post("/v1/verify", json=sealed),
        c.get(f"/v1/verify/{digest}"),
    ):
        assert answer.status_code == 200, answer.text
        result = answer.json()
        assert result["outcome"] == "VALID", result
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
    assert c.post("/v1/verify", json=corrected["receipt"]).json()["outcome"] == "VALID"


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
        assert verdict["outcome"] == "VALID"

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

    other = "0x" + hashlib.sha256(b"kept in-house").hexdigest()
    by_digest = c.post(
        "/v1/records/digest", params={"wait": True}, json={"digest": other}, headers=api.agency_b
    )
    assert by_digest.status_code == 200
    assert by_digest.json()["agencyName"] == "Ministry of Education"
    # Another agency cannot claim a digest that is already A's.
    clash = c.post("/v1/records/digest", json={"digest": digest}, headers=api.agency_b)
    assert clash.status_code == 409
    assert clash.headers["content-type"] == "application/problem+json"


def bulk_json(value: object) -> str:
    import json

    return json.dumps(value)
