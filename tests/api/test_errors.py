"""Every error is RFC 9457 problem+json from the one handler: 413 over the body limit, 422
naming the field (malformed JSON, hex, digest, receipt, record), 404, 405, 409 (not anchored
yet), 429 with Retry-After from the verify rate limit. Bad input is never a 500."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from api_helpers import ONLY_EMBEDDED_SQLITE, Api, bearer, build_api
from fastapi.testclient import TestClient

from registry.service.admin import issue_api_token
from registry.store import Store

pytestmark = ONLY_EMBEDDED_SQLITE
PROBLEM = "application/problem+json"


def problem(answer: Any, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM
    body = answer.json()
    assert set(body) >= {"type", "title", "status", "detail", "instance"}
    assert body["status"] == status
    return body


def fields(body: dict[str, Any]) -> list[str]:
    return [error["field"] for error in body["errors"]]


def test_422_names_the_field(api: Api) -> None:
    c, a = api.client, api.agency_a
    body = problem(c.get("/v1/records/0x1234"), 422)
    assert fields(body) == ["path.digest"]
    raw = {"content-type": "application/json", **a}
    body = problem(c.post("/v1/records", content=b'{"record": {"a": 1, "a": 2}}', headers=raw), 422)
    assert fields(body) == ["body/record/a"] and "duplicate" in body["detail"]
    body = problem(c.post("/v1/records", content=b'{"record": ', headers=raw), 422)
    assert fields(body)[0].startswith("body")
    body = problem(c.post("/v1/records", json={"record": {"n": 2**60}}, headers=a), 422)
    assert fields(body) == ["body/record/n"]
    body = problem(c.post("/v1/records", json={"rec": {}}, headers=a), 422)
    assert fields(body) in (["body/rec"], ["body/record"])
    body = problem(c.post("/v1/records/bulk", json={"records": [{"a": 1}, 7]}, headers=a), 422)
    assert fields(body) == ["body/records/1"]
    body = problem(c.post("/v1/records/digest", json={"digest": "0xzz"}, headers=a), 422)
    assert fields(body) == ["body/digest"]
    body = problem(c.post("/v1/verify", content=b"not json", headers=raw), 422)
    assert fields(body) == ["body"]
    body = problem(c.post("/v1/verify", json={"type": "Passport"}), 422)
    assert fields(body) == ["body/type"]
    receipt = api.submit({"r": 1})["receipt"]
    # A malformed receipt is a verification request: 200 TAMPERED, the format check naming
    # the field (docs/api.md), never a 422 and never a 500.
    broken = {**receipt, "merkle": {**receipt["merkle"], "proof": ["0x12"]}}
    answer = c.post("/v1/verify", json=broken)
    assert answer.status_code == 200, answer.text
    verdict = answer.json()
    assert verdict["outcome"] == "TAMPERED"
    assert verdict["checks"][0]["name"] == "format" and verdict["checks"][0]["status"] == "fail"
    assert verdict["checks"][0]["reason"].startswith("merkle.proof[0]: ")
    body = problem(c.post("/v1/verify", params={"digest": "0x12"}, json=receipt), 422)
    assert fields(body) == ["query.digest"]
    body = problem(
        c.post(f"/v1/records/{receipt['digest']}/revoke", json={"reason": 2}, headers=a), 422
    )
    assert fields(body) == ["body/replacement"]
    body = problem(
        c.post(f"/v1/records/{receipt['digest']}/revoke", json={"reason": 9}, headers=a), 422
    )
    assert fields(body) == ["body/reason"]
    answer = c.post(
        "/v1/records/bulk",
        json={"records": [{"n": i} for i in range(api.runtime.settings.api_max_bulk_records + 1)]},
        headers=a,
    )
    assert "at most" in problem(answer, 422)["detail"]


def test_404_405_409(api: Api) -> None:
    c = api.client
    unknown = "0x" + "ab" * 32
    problem(c.get(f"/v1/records/{unknown}"), 404)
    problem(c.get(f"/v1/batches/{unknown}"), 404)
    problem(c.get("/v1/agencies/0x" + "ab" * 20), 404)
    problem(c.get("/v1/no-such-thing"), 404)
    problem(c.delete("/v1/verify/" + unknown), 405)
    assert c.get(f"/v1/verify/{unknown}").json()["outcome"] == "UNKNOWN"
    problem(c.post(f"/v1/records/{unknown}/revoke", json={"reason": 1}, headers=api.agency_a), 404)


def test_409_until_anchored(chain_env: Any, store: Store, tmp_path: Path) -> None:
    app, _ = build_api(chain_env, store, tmp_path, run_worker=False)
    _, token = issue_api_token(store, agency_id=1, label="a")
    with TestClient(app) as c:
        pending = c.post("/v1/records", json={"record": {"p": 1}}, headers=bearer(token))
        assert pending.status_code == 202 and pending.json()["status"] == "pending"
        assert pending.headers["location"] == f"/v1/records/{pending.json()['digest']}"
        digest = pending.json()["digest"]
        body = problem(c.get(f"/v1/records/{digest}/receipt"), 409)
        assert "pending" in body["detail"]
        revoke = c.post(f"/v1/records/{digest}/revoke", json={"reason": 1}, headers=bearer(token))
        problem(revoke, 409)
        assert c.get(f"/v1/verify/{digest}").json()["outcome"] == "UNKNOWN"
        waited = c.post(
            "/v1/records",
            params={"wait": True, "timeout": 0.2},
            json={"record": {"p": 1}},
            headers=bearer(token),
        )
        assert waited.status_code == 202  # the bounded wait ends; the record stays pending


def test_413_body_limit(chain_env: Any, store: Store, tmp_path: Path) -> None:
    app, _ = build_api(chain_env, store, tmp_path, run_worker=False, api_max_body_bytes=4096)
    with TestClient(app) as c:
        big = json.dumps({"type": "RecordReceipt", "pad": "x" * 5000})
        body = problem(
            c.post("/v1/verify", content=big, headers={"content-type": "application/json"}), 413
        )
        assert "4096" in body["detail"]
        files = {"document": ("big.pdf", b"%" * 8000)}
        problem(c.post("/v1/verify/file", files=files), 413)

        def chunks() -> Any:  # no Content-Length: counted as it arrives
            for _ in range(10):
                yield b"x" * 1000

        problem(c.post("/v1/verify", content=chunks()), 413)


def test_429_rate_limit(chain_env: Any, store: Store, tmp_path: Path) -> None:
    app, _ = build_api(
        chain_env, store, tmp_path, run_worker=False, api_verify_rate=1.0, api_verify_burst=3
    )
    with TestClient(app) as c:
        unknown = "0x" + "cd" * 32
        codes = [c.get(f"/v1/verify/{unknown}").status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        limited = c.get(f"/v1/verify/{unknown}")
        body = problem(limited, 429)
        assert int(limited.headers["retry-after"]) >= 1 and "retry" in body["detail"]
        assert c.get("/healthz").status_code == 200  # only verification is limited


@pytest.mark.parametrize(
    ("body", "field"),
    [(b"[]", "body"), (b"null", "body"), (b"{", "body"), (b'{"type": "Passport"}', "body/type")],
)
def test_not_a_verification_request_is_422(api: Api, body: bytes, field: str) -> None:
    answer = api.client.post(
        "/v1/verify", content=body, headers={"content-type": "application/json"}
    )
    assert fields(problem(answer, 422)) == [field]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"type": "SealedRecord"}', "version"),
        (b'{"type": "RecordReceipt", "version": 2}', "digest"),
        (b'{"type": "RecordReceipt", "version": 1}', "missing"),
        (b'{"type": "RecordReceipt", "type": "RecordReceipt"}', "receipt"),
        (b'{"type": "SealedRecord", "version": 1, "version": 1}', "version"),
    ],
)
def test_malformed_receipt_or_document_is_tampered(api: Api, body: bytes, field: str) -> None:
    """Anything that parses as JSON of our type is a verification request: a malformed one
    is 200 TAMPERED with the format check failing and naming the field; never a 500."""
    answer = api.client.post(
        "/v1/verify", content=body, headers={"content-type": "application/json"}
    )
    assert answer.status_code == 200, answer.text
    verdict = answer.json()
    assert verdict["outcome"] == "TAMPERED"
    fmt = verdict["checks"][0]
    assert fmt["name"] == "format" and fmt["status"] == "fail"
    assert field in fmt["reason"], fmt


@pytest.mark.parametrize("opener", [b"[", b'{"a":'])
def test_deeply_nested_body_is_refused_not_a_crash(api: Api, opener: bytes) -> None:
    """200,000 levels of nesting (~200 KB) once overflowed the C stack in json.loads and killed
    the server; the depth is now decided on the raw text first."""
    body = b'{"type": "SealedRecord", "x": ' + opener * 200_000
    answer = api.client.post(
        "/v1/verify", content=body, headers={"content-type": "application/json"}
    )
    assert answer.status_code in (200, 422), answer.text
    if answer.status_code == 200:
        assert answer.json()["outcome"] == "TAMPERED"
    assert api.client.get("/healthz").status_code == 200
