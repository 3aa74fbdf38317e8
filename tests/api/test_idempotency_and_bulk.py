"""`Idempotency-Key` on submissions, and a bulk submission's status and receipts (issue 16).

Attacker tests first: a key is the agency's own (another agency using the same string neither
sees nor blocks it), a key reused for another request is refused naming it, another agency's
bulk id is 404."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from api_helpers import Api, bearer, build_api
from fastapi.testclient import TestClient

from registry.receipt import parse_receipt
from registry.service.admin import issue_api_token
from registry.store import Store

pytestmark = pytest.mark.parametrize("chain_env_session", ["embedded"], indirect=True)


def problem(answer: Any, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    return dict(answer.json())


def keyed(headers: dict[str, str], key: str | bytes) -> dict[str, Any]:
    return {**headers, "Idempotency-Key": key}


def test_keys_are_per_agency_and_bound_to_their_request(api: Api) -> None:
    c, key = api.client, str(uuid.uuid4())
    first = c.post("/v1/records", json={"record": {"n": 1}}, headers=keyed(api.agency_a, key))
    assert first.status_code in (200, 202) and "idempotent-replayed" not in first.headers
    # Agency B uses the same key for its own request: its own key, no conflict, no replay.
    theirs = c.post("/v1/records", json={"record": {"n": 2}}, headers=keyed(api.agency_b, key))
    assert theirs.status_code in (200, 202) and "idempotent-replayed" not in theirs.headers
    assert theirs.json()["agency"] == api.address_b
    # A reuses its key for another body: refused, naming the key; nothing stored.
    body = problem(
        c.post("/v1/records", json={"record": {"n": 3}}, headers=keyed(api.agency_a, key)), 422
    )
    assert body["type"].endswith("idempotency-key-reused") and key in body["detail"]
    assert body["errors"][0]["field"] == "header.Idempotency-Key"
    listed = c.get("/v1/records", headers=api.agency_a).json()["records"]
    assert [r["digest"] for r in listed] == [first.json()["digest"]]
    # ...or for the same content on another route.
    body = problem(
        c.post(
            "/v1/records/digest",
            json={"digest": first.json()["digest"]},
            headers=keyed(api.agency_a, key),
        ),
        422,
    )
    assert key in body["detail"]
    # Malformed keys.
    for bad in ("", "with space", "x" * 256, "é".encode("latin-1")):
        answer = c.post("/v1/records", json={"record": {"n": 1}}, headers=keyed(api.agency_a, bad))
        assert problem(answer, 422)["errors"][0]["field"] == "header.Idempotency-Key"


def test_same_key_same_request_same_answer(api: Api) -> None:
    c, key = api.client, "order-7-attempt"
    body = {"record": {"b": 1, "a": 2}, "reference": "IDEM-1"}
    first = c.post("/v1/records", json=body, headers=keyed(api.agency_a, key))
    assert first.status_code in (200, 202), first.text
    # The same request (keys in another order: the same content) gets the very same answer,
    # though the record is anchored by now.
    raw = b'{"reference": "IDEM-1", "record": {"a": 2, "b": 1}}'
    headers = {**keyed(api.agency_a, key), "content-type": "application/json"}
    api.submit({"b": 1, "a": 2})  # waits until it is anchored
    again = c.post("/v1/records", content=raw, headers=headers)
    assert again.status_code == first.status_code and again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["location"] == first.headers["location"]
    # Bulk and files too: the same records (a new multipart boundary) are the same request.
    records = {"records": [{"n": n} for n in range(3)]}
    bulk = c.post("/v1/records/bulk", json=records, headers=keyed(api.agency_a, "bulk-1"))
    replay = c.post("/v1/records/bulk", json=records, headers=keyed(api.agency_a, "bulk-1"))
    assert replay.json()["bulkId"] == bulk.json()["bulkId"]
    files = {"file": ("a.pdf", b"%PDF-1.7 one")}
    one = c.post("/v1/records/file", files=files, headers=keyed(api.agency_a, "file-1"))
    two = c.post("/v1/records/file", files=files, headers=keyed(api.agency_a, "file-1"))
    assert two.json() == one.json() and two.headers["idempotent-replayed"] == "true"
    other = {"file": ("b.pdf", b"%PDF-1.7 two")}
    problem(c.post("/v1/records/file", files=other, headers=keyed(api.agency_a, "file-1")), 422)


def test_a_failed_request_keeps_nothing(api: Api) -> None:
    c = api.client
    bad = c.post("/v1/records", json={"record": {"n": 2**60}}, headers=keyed(api.agency_a, "k1"))
    problem(bad, 422)
    clash_a = c.post(
        "/v1/records", json={"record": {"x": 1}, "reference": "TAKEN"}, headers=api.agency_a
    )
    assert clash_a.status_code in (200, 202)
    clash = c.post(
        "/v1/records",
        json={"record": {"x": 2}, "reference": "TAKEN"},
        headers=keyed(api.agency_a, "k2"),
    )
    problem(clash, 409)
    # Both keys are free again: a corrected request under the same key goes through.
    for key, record in (("k1", {"n": 1}), ("k2", {"x": 2})):
        answer = c.post("/v1/records", json={"record": record}, headers=keyed(api.agency_a, key))
        assert answer.status_code in (200, 202) and "idempotent-replayed" not in answer.headers


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_keys_expire(chain_env: Any, store: Store, tmp_path: Path) -> None:
    app, _ = build_api(
        chain_env, store, tmp_path, run_worker=False, api_idempotency_hours=1 / 3600 / 4
    )
    _, token = issue_api_token(store, agency_id=1, label="a")
    with TestClient(app) as c:
        headers = keyed(bearer(token), "short-lived")
        c.post("/v1/records", json={"record": {"n": 1}}, headers=headers)
        time.sleep(0.4)
        answer = c.post("/v1/records", json={"record": {"n": 2}}, headers=headers)
        assert answer.status_code == 202 and "idempotent-replayed" not in answer.headers


def test_bulk_status_and_receipts(api: Api) -> None:
    c = api.client
    records = [{"type": "Diploma", "n": n} for n in range(4)]
    records.append(records[0])  # a record given twice is at both positions
    answer = c.post(
        "/v1/records/bulk",
        json={"records": records, "references": ["D-0", None, None, None, "D-0"]},
        headers=api.agency_a,
    )
    assert answer.status_code in (200, 202), answer.text
    bulk_id = answer.json()["bulkId"]
    assert answer.headers["location"] == f"/v1/records/bulk/{bulk_id}"
    # Another agency's bulk id, or one that does not exist: 404 alike.
    problem(c.get(f"/v1/records/bulk/{bulk_id}", headers=api.agency_b), 404)
    problem(c.get(f"/v1/records/bulk/{bulk_id}/receipts", headers=api.agency_b), 404)
    problem(c.get("/v1/records/bulk/bulk_" + "0" * 24, headers=api.agency_a), 404)
    problem(c.get(f"/v1/records/bulk/{bulk_id}"), 401)
    api.submit({"sync": 1})  # waits for an anchor: the bulk's batch went before it
    status = c.get(f"/v1/records/bulk/{bulk_id}", headers=api.agency_a).json()
    assert status["count"] == 5 and status["complete"] is True and status["anchored"] == 5
    assert status["statuses"]["anchored"] == 5 and status["receipts"].endswith("/receipts")
    got = c.get(status["receipts"], headers=api.agency_a)
    assert got.status_code == 200 and got.headers["content-type"] == "application/x-ndjson"
    assert "attachment" in got.headers["content-disposition"]
    lines = [json.loads(line) for line in got.text.splitlines()]
    assert [line["position"] for line in lines] == [0, 1, 2, 3, 4]
    assert lines[0]["digest"] == lines[4]["digest"] == answer.json()["records"][0]["digest"]
    assert lines[0]["reference"] == "D-0" and lines[1]["reference"] is None
    for line in lines:
        receipt = parse_receipt(line["receipt"])
        assert "0x" + bytes(receipt.digest).hex() == line["digest"]
    verdict = c.post("/v1/verify", json=lines[2]["receipt"]).json()
    assert verdict["outcome"] == "IN_FORCE"


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_bulk_receipts_wait_for_every_anchor(chain_env: Any, store: Store, tmp_path: Path) -> None:
    app, _ = build_api(chain_env, store, tmp_path, run_worker=False)
    _, token = issue_api_token(store, agency_id=1, label="a")
    with TestClient(app) as c:
        answer = c.post(
            "/v1/records/bulk", json={"records": [{"n": 1}, {"n": 2}]}, headers=bearer(token)
        )
        bulk_id = answer.json()["bulkId"]
        status = c.get(f"/v1/records/bulk/{bulk_id}", headers=bearer(token)).json()
        assert status["complete"] is False and status["statuses"]["pending"] == 2
        assert status["receipts"] is None
        early = c.get(f"/v1/records/bulk/{bulk_id}/receipts", headers=bearer(token))
        body = problem(early, 409)
        assert "0 of 2" in body["detail"] and int(early.headers["retry-after"]) >= 1


def test_a_repeat_while_the_first_runs_is_told_to_wait(api: Api) -> None:
    from registry.service import idempotency
    from registry.service.agencies import agency_by_address

    agency = agency_by_address(api.operator.store, api.address_a)
    request_print = idempotency.fingerprint("POST /v1/records", {"n": 1})
    held = idempotency.begin_idempotent(api.operator, agency, key="busy", fingerprint=request_print)
    assert isinstance(held, idempotency.KeyHeld)
    with pytest.raises(idempotency.IdempotencyKeyInUse):
        idempotency.begin_idempotent(api.operator, agency, key="busy", fingerprint=request_print)
    idempotency.keep_answer(api.operator, held, status_code=202, body="{}", location=None)
    again = idempotency.begin_idempotent(
        api.operator, agency, key="busy", fingerprint=request_print
    )
    assert again == idempotency.StoredAnswer(202, "{}", None)
