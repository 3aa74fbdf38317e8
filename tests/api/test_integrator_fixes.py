"""What an integrator hit with curl (issue 16): a wrong Content-Type is 415 naming the one
expected (never a 202), a record sent without its `{"record": ...}` wrapper is a 422 saying
so, `GET /v1/records` lists (it was a 404), `wholeBatch` is the same in a revocation's answer
and in the record's status, the embedded chain never anchors before the submission, and a 409
"not anchored yet" says when to come back (Retry-After)."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from api_helpers import ONLY_EMBEDDED_SQLITE, Api, bearer, build_api, serving_api
from fastapi.testclient import TestClient

from registry.service.admin import issue_api_token
from registry.store import Store

EMBEDDED = pytest.mark.parametrize("chain_env_session", ["embedded"], indirect=True)
PROBLEM = "application/problem+json"


def http_layer(test: Any) -> Any:
    """Tests of the HTTP layer itself: one backend is enough."""
    for mark in ONLY_EMBEDDED_SQLITE:
        test = mark(test)
    return test


def problem(answer: Any, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM
    body = answer.json()
    assert body["status"] == status
    return body


@http_layer
def test_wrong_content_type_is_415_naming_the_expected_one(api: Api) -> None:
    c, a = api.client, api.agency_a
    zero = "0x" + "00" * 32
    json_routes = [
        ("/v1/records", b'{"record": {"a": 1}}'),
        ("/v1/records/bulk", b'{"records": [{"a": 1}]}'),
        ("/v1/records/digest", b'{"digest": "' + zero.encode() + b'"}'),
        (f"/v1/records/{zero}/revoke", b'{"reason": 1}'),
        (f"/v1/batches/{zero}/revoke", b'{"reason": 1}'),
        ("/v1/webhooks", b'{"url": "https://example.org/hook"}'),
    ]
    for path, raw in json_routes:
        for content_type in ("text/plain", "application/x-www-form-urlencoded", None):
            headers = {**a} if content_type is None else {**a, "content-type": content_type}
            body = problem(c.post(path, content=raw, headers=headers), 415)
            assert "application/json" in body["detail"], (path, body)
            assert (content_type or "no Content-Type") in body["detail"]
    # curl -d sends a form: nothing is stored.
    answer = c.post("/v1/records", data={"record": '{"a": 1}'}, headers=a)
    assert problem(answer, 415)
    assert answer.headers["accept-post"] == "application/json"
    assert c.get("/v1/records", headers=a).json()["records"] == []
    # JSON with a charset, or a +json type, is JSON.
    for content_type in ("application/json; charset=utf-8", "application/vnd.x+json"):
        answer = c.post(
            "/v1/records/digest",
            content=b'{"digest": "' + ("0x" + "11" * 32).encode() + b'"}',
            headers={**a, "content-type": content_type},
            params={"wait": False},
        )
        assert answer.status_code in (200, 202), answer.text
    # The file route reads a multipart form, and says so.
    body = problem(c.post("/v1/records/file", json={"file": "x"}, headers=a), 415)
    assert "multipart/form-data" in body["detail"]
    # The token is checked first: no token is still 401, whatever the body.
    problem(c.post("/v1/records", content=b"x", headers={"content-type": "text/plain"}), 401)


@http_layer
def test_a_record_without_its_wrapper_says_the_shape_expected(api: Api) -> None:
    c, a = api.client, api.agency_a
    bare = {"type": "BirthCertificate", "child": {"given": "Mari"}}
    body = problem(c.post("/v1/records", json=bare, headers=a), 422)
    assert 'expected {"record": {...}}' in body["detail"]
    assert body["errors"][0]["field"] == "body/record"
    assert "body/type" not in body["detail"]
    body = problem(c.post("/v1/records", json={"record": {"a": 1}, "x": 1}, headers=a), 422)
    assert body["errors"][0]["field"] == "body/x"
    assert 'expected {"record": {...}}' in body["detail"]
    body = problem(c.post("/v1/records/bulk", json=[bare], headers=a), 422)
    assert body["errors"][0]["field"] == "body"
    body = problem(c.post("/v1/records/bulk", json={"record": bare}, headers=a), 422)
    assert 'expected {"records": [{...}, ...]}' in body["detail"]
    body = problem(c.post("/v1/records", json={"record": [1]}, headers=a), 422)
    assert body["errors"][0]["field"] == "body/record"


@http_layer
def test_409_not_anchored_says_when_to_come_back(
    chain_env: Any, store: Store, tmp_path: Path
) -> None:
    app, _ = build_api(chain_env, store, tmp_path, run_worker=False, batch_age=2.0)
    _, token = issue_api_token(store, agency_id=1, label="a")
    with TestClient(app) as c:
        pending = c.post("/v1/records", json={"record": {"p": 1}}, headers=bearer(token))
        digest = pending.json()["digest"]
        for answer in (
            c.get(f"/v1/records/{digest}/receipt"),
            c.post(f"/v1/records/{digest}/revoke", json={"reason": 1}, headers=bearer(token)),
        ):
            problem(answer, 409)
            # Soon (the batch closes after batch_age), never later than an outage's hint.
            assert 1 <= int(answer.headers["retry-after"]) <= 10
    document = app.openapi()
    conflict = document["paths"]["/v1/records/{digest}/receipt"]["get"]["responses"]["409"]
    assert "Retry-After" in conflict["headers"]


@EMBEDDED
def test_whole_batch_is_the_same_in_the_answer_and_the_status(api: Api) -> None:
    c, a = api.client, api.agency_a
    # A one-record batch: its record's leaf is its root, so revoking the record revokes the
    # batch (on chain the two are one act); both answers say so.
    alone = api.submit({"alone": 1})
    assert alone["batch"]["count"] == 1
    revoked = c.post(f"/v1/records/{alone['digest']}/revoke", json={"reason": 4}, headers=a)
    assert revoked.status_code == 200, revoked.text
    status = c.get(f"/v1/records/{alone['digest']}").json()
    assert revoked.json()["wholeBatch"] == status["revocation"]["wholeBatch"] is True
    # A record of a larger batch revoked alone: neither says whole batch...
    bulk = c.post(
        "/v1/records/bulk",
        params={"wait": True},
        json={"records": [{"n": 1}, {"n": 2}, {"n": 3}]},
        headers=a,
    ).json()
    first, second = bulk["records"][0]["digest"], bulk["records"][1]["digest"]
    revoked = c.post(f"/v1/records/{first}/revoke", json={"reason": 1}, headers=a)
    status = c.get(f"/v1/records/{first}").json()
    assert revoked.json()["wholeBatch"] is False and status["revocation"]["wholeBatch"] is False
    # ...and the batch revoked whole: both do, for every record of it.
    root = status["batch"]["root"]
    revoked = c.post(f"/v1/batches/{root}/revoke", json={"reason": 1}, headers=a)
    assert revoked.json()["wholeBatch"] is True
    assert c.get(f"/v1/records/{second}").json()["revocation"]["wholeBatch"] is True


@EMBEDDED
@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_the_embedded_chain_never_anchors_before_the_submission(
    chain_env: Any, store: Store, tmp_path: Path
) -> None:
    with serving_api(chain_env, store, tmp_path) as api:
        api.submit({"warm": 1})
        # The embedded chain stamps a block with the time its predecessor was mined (at least a
        # second after it): after a quiet spell longer than the lead its quick set-up blocks
        # gave it over the wall clock, an anchor would carry a time before the submission.
        lead = int(chain_env.w3.eth.get_block("pending")["timestamp"]) - time.time()
        time.sleep(max(0.0, lead) + 2.2)
        record = api.submit({"after a pause": 1})
        assert record["status"] == "anchored"
        assert record["batch"]["anchoredAt"] >= record["submittedAt"], record
        assert record["receipt"]["anchor"]["anchoredAt"] >= record["submittedAt"]


@http_layer
def test_every_records_batches_and_webhooks_route_is_in_the_docs(api: Api) -> None:
    docs = (Path(__file__).parents[2] / "docs" / "api.md").read_text()
    documented = {
        re.sub(r"\{[^}]*\}", "{}", path)
        for method, path in re.findall(r"`(GET|POST|DELETE) (/v1/[^`\[ ]+)", docs)
    }
    paths = api.client.get("/openapi.json").json()["paths"]
    mine = [p for p in paths if p.startswith(("/v1/records", "/v1/batches", "/v1/webhooks"))]
    assert len(mine) >= 15
    missing = [p for p in mine if re.sub(r"\{[^}]*\}", "{}", p) not in documented]
    assert missing == [], f"not in docs/api.md's routes: {missing}"
    schemas = api.client.get("/openapi.json").json()["components"]["schemas"]
    assert schemas["WebhookEvent"]["example"]["type"] == "records.anchored"
