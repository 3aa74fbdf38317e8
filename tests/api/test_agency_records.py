"""An agency's own records (issue 16): GET /v1/records lists them (state, since/until, limit,
an opaque cursor; newest first; stable under inserts), `reference` is the agency's own key
(unique per agency, 409 on reuse, GET /v1/records/by-reference/{ref}), and a batch lists its
records (GET /v1/batches/{root}/records).

Attacker tests first: another agency's records are never listed nor found by reference (404,
never 403, never named), a cursor cannot be turned into another agency's rows or another
listing, page sizes are bounded."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from api_helpers import Api, bearer, build_api
from fastapi.testclient import TestClient

from registry.service.admin import issue_api_token
from registry.store import Store

pytestmark = pytest.mark.parametrize("chain_env_session", ["embedded"], indirect=True)


def problem(answer: Any, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    return dict(answer.json())


def listing(api: Api, who: str = "a", **params: Any) -> dict[str, Any]:
    headers = api.agency_a if who == "a" else api.agency_b
    answer = api.client.get("/v1/records", params=params, headers=headers)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def submit(api: Api, record: dict[str, Any], *, who: str = "a", **extra: Any) -> Any:
    headers = api.agency_a if who == "a" else api.agency_b
    return api.client.post(
        "/v1/records", params={"wait": False}, json={"record": record, **extra}, headers=headers
    )


def test_another_agencys_records_are_never_listed_nor_found(api: Api) -> None:
    c = api.client
    theirs = submit(api, {"secret": "b"}, who="b", reference="CASE-1").json()
    mine = submit(api, {"mine": 1}, reference="CASE-1").json()  # same reference: its own
    assert listing(api)["records"][0]["digest"] == mine["digest"]
    assert [r["digest"] for r in listing(api)["records"]] == [mine["digest"]]
    assert [r["digest"] for r in listing(api, who="b")["records"]] == [theirs["digest"]]
    found = c.get("/v1/records/by-reference/CASE-1", headers=api.agency_a).json()
    assert found["digest"] == mine["digest"] and found["reference"] == "CASE-1"
    # B's reference that A never used: 404 like nothing at all, naming nobody.
    submit(api, {"only b": 1}, who="b", reference="ONLY-B")
    body = problem(c.get("/v1/records/by-reference/ONLY-B", headers=api.agency_a), 404)
    assert body["detail"] == problem(
        c.get("/v1/records/by-reference/NOBODY", headers=api.agency_a), 404
    )["detail"].replace("NOBODY", "ONLY-B")
    assert "Ministry" not in body["detail"] and api.address_b not in body["detail"]
    # A listing needs an agency token: none 401, the admin's 403.
    problem(c.get("/v1/records"), 401)
    problem(c.get("/v1/records", headers=api.admin), 403)
    problem(c.get("/v1/records/by-reference/CASE-1"), 401)
    # The public status of a record never shows its agency's reference.
    assert c.get(f"/v1/records/{mine['digest']}").json()["reference"] is None


def test_cursors_cannot_be_forged_into_another_listing(api: Api) -> None:
    c = api.client
    for n in range(3):
        submit(api, {"a": n})
        submit(api, {"b": n}, who="b")
    page = listing(api, limit=2)
    cursor = page["nextCursor"]
    assert cursor is not None
    # B replays A's cursor: refused (and B's own rows only, whatever it says).
    body = problem(c.get("/v1/records", params={"cursor": cursor}, headers=api.agency_b), 422)
    assert body["errors"][0]["field"] == "query.cursor"
    # The same cursor with other filters: refused.
    problem(
        c.get("/v1/records", params={"cursor": cursor, "state": "pending"}, headers=api.agency_a),
        422,
    )
    # A cursor edited to point elsewhere keeps its scope tag, so it still reads A's rows only;
    # one whose tag is changed is refused.
    raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    for forged in ({**raw, "before": 10**9}, {**raw, "scope": "0" * 24}, {"before": 1}):
        text = base64.urlsafe_b64encode(json.dumps(forged).encode()).decode().rstrip("=")
        answer = c.get("/v1/records", params={"cursor": text}, headers=api.agency_b)
        problem(answer, 422)
        answer = c.get("/v1/records", params={"cursor": text}, headers=api.agency_a)
        if answer.status_code == 200:
            own = {r["digest"] for r in listing(api, limit=500)["records"]}
            assert {r["digest"] for r in answer.json()["records"]} <= own
    for junk in ("", "!!!", "bm90IGpzb24", "W10"):
        if junk:
            problem(c.get("/v1/records", params={"cursor": junk}, headers=api.agency_a), 422)
    # Page sizes are bounded.
    for limit in (0, 501, -1):
        problem(c.get("/v1/records", params={"limit": limit}, headers=api.agency_a), 422)
    assert len(listing(api, limit=500)["records"]) == 3


def test_listing_pages_filters_and_stays_stable_under_inserts(api: Api) -> None:
    digests = [submit(api, {"n": n}).json()["digest"] for n in range(5)]
    newest_first = digests[::-1]
    first = listing(api, limit=2)
    assert [r["digest"] for r in first["records"]] == newest_first[:2]
    # New submissions arrive while paging: they come before page one, never into page two.
    later = [submit(api, {"later": n}).json()["digest"] for n in range(3)]
    second = listing(api, limit=2, cursor=first["nextCursor"])
    assert [r["digest"] for r in second["records"]] == newest_first[2:4]
    third = listing(api, limit=2, cursor=second["nextCursor"])
    assert [r["digest"] for r in third["records"]] == newest_first[4:]
    assert third["nextCursor"] is None
    assert [r["digest"] for r in listing(api, limit=3)["records"]] == later[::-1]
    # Filters: state, and the submission time window [since, until).
    item = listing(api, limit=1)["records"][0]
    assert set(item) == {
        "digest",
        "digestKind",
        "status",
        "reference",
        "submittedAt",
        "batchRoot",
        "blockNumber",
        "anchoredAt",
    }
    now = datetime.now(UTC)
    assert len(listing(api, since=(now - timedelta(minutes=5)).isoformat())["records"]) == 8
    assert listing(api, since=(now + timedelta(minutes=5)).isoformat())["records"] == []
    assert listing(api, until=(now - timedelta(minutes=5)).isoformat())["records"] == []
    naive = (now - timedelta(minutes=5)).replace(tzinfo=None).isoformat()
    assert len(listing(api, since=naive)["records"]) == 8  # no offset: UTC
    anchored = api.submit({"anchored": 1})  # waits for its receipt
    revoked = api.client.post(
        f"/v1/records/{anchored['digest']}/revoke", json={"reason": 4}, headers=api.agency_a
    )
    assert revoked.status_code == 200, revoked.text
    only = listing(api, state="revoked")["records"]
    assert [r["digest"] for r in only] == [anchored["digest"]]
    assert only[0]["batchRoot"] == anchored["batch"]["root"] and only[0]["anchoredAt"]
    others = listing(api, state="anchored", limit=500)["records"]
    assert anchored["digest"] not in {r["digest"] for r in others}
    assert all(r["status"] == "anchored" and r["batchRoot"] for r in others)
    problem(api.client.get("/v1/records", params={"state": "lost"}, headers=api.agency_a), 422)


def test_a_reference_names_one_record_per_agency(api: Api) -> None:
    c, a = api.client, api.agency_a
    first = submit(api, {"cert": 1}, reference="B-2026-000017")
    assert first.status_code in (200, 202) and first.json()["reference"] == "B-2026-000017"
    again = submit(api, {"cert": 1}, reference="B-2026-000017")  # the same: harmless
    assert again.json()["new"] is False and again.json()["reference"] == "B-2026-000017"
    # The reference for another record: 409, nothing stored.
    body = problem(submit(api, {"cert": 2}, reference="B-2026-000017"), 409)
    assert body["type"].endswith("reference-taken") and "B-2026-000017" in body["detail"]
    assert len(listing(api)["records"]) == 1
    # The record already has a reference: another one is refused too.
    problem(submit(api, {"cert": 1}, reference="OTHER"), 409)
    # A record stored without one takes the one given later.
    bare = submit(api, {"cert": 3}).json()
    assert bare["reference"] is None
    assert submit(api, {"cert": 3}, reference="LATE-3").json()["reference"] == "LATE-3"
    found = c.get("/v1/records/by-reference/LATE-3", headers=a).json()
    # (the worker may have batched it already: the state is not what this checks)
    assert found["digest"] == bare["digest"] and found["status"] in (
        "pending",
        "batched",
        "anchored",
    )
    # Digests and files take references too.
    digest = "0x" + "42" * 32
    answer = c.post("/v1/records/digest", json={"digest": digest, "reference": "LIC-1"}, headers=a)
    assert answer.json()["reference"] == "LIC-1"
    answer = c.post(
        "/v1/records/file", files={"file": ("x.pdf", b"%PDF")}, data={"reference": "F-1"}, headers=a
    )
    assert answer.status_code in (200, 202), answer.text
    assert c.get("/v1/records/by-reference/F-1", headers=a).json()["digestKind"] == "file"
    # Malformed references are 422 naming the field.
    for bad in ("", " x", "a/b", "x" * 129, 7):
        body = problem(submit(api, {"cert": 9}, reference=bad), 422)
        assert body["errors"][0]["field"] == "body/reference"
    problem(c.get("/v1/records/by-reference/a b", headers=a), 422)


def test_bulk_references_all_or_nothing(api: Api) -> None:
    c, a = api.client, api.agency_a
    records = [{"n": n} for n in range(3)]
    answer = c.post(
        "/v1/records/bulk",
        json={"records": records, "references": ["R-0", None, "R-2"]},
        headers=a,
    )
    assert answer.status_code in (200, 202), answer.text
    assert [r["reference"] for r in answer.json()["records"]] == ["R-0", None, "R-2"]
    # One reference of a request already names another record: nothing of it is stored.
    clash = c.post(
        "/v1/records/bulk",
        json={"records": [{"n": 9}, {"n": 10}], "references": ["NEW-9", "R-0"]},
        headers=a,
    )
    assert problem(clash, 409)["type"].endswith("reference-taken")
    problem(c.get("/v1/records/by-reference/NEW-9", headers=a), 404)
    # One reference for two records of one request: refused.
    twice = c.post(
        "/v1/records/bulk",
        json={"records": [{"n": 11}, {"n": 12}], "references": ["SAME", "SAME"]},
        headers=a,
    )
    problem(twice, 409)
    wrong = c.post("/v1/records/bulk", json={"records": records, "references": ["R-0"]}, headers=a)
    assert problem(wrong, 422)["errors"][0]["field"] == "body/references"


def test_a_batch_lists_its_records(api: Api) -> None:
    c = api.client
    bulk = c.post(
        "/v1/records/bulk",
        params={"wait": True},
        json={"records": [{"n": n} for n in range(5)], "references": ["P-0", *[None] * 4]},
        headers=api.agency_a,
    ).json()
    root = c.get(f"/v1/records/{bulk['records'][0]['digest']}").json()["batch"]["root"]
    page = c.get(f"/v1/batches/{root}/records", params={"limit": 2}).json()  # public
    assert page["batch"]["root"] == root and page["batch"]["count"] == 5
    seen = [r["digest"] for r in page["records"]]
    while page["nextAfter"] is not None:
        page = c.get(
            f"/v1/batches/{root}/records", params={"limit": 2, "after": page["nextAfter"]}
        ).json()
        seen += [r["digest"] for r in page["records"]]
    assert sorted(seen) == sorted(r["digest"] for r in bulk["records"])
    first = c.get(f"/v1/batches/{root}/records").json()["records"][0]
    assert set(first) == {"leafIndex", "digest", "digestKind", "status"}  # no reference
    assert first["leafIndex"] == 0 and first["status"] == "anchored"
    problem(c.get(f"/v1/batches/0x{'ab' * 32}/records"), 404)
    problem(c.get(f"/v1/batches/{root}/records", params={"limit": 501}), 422)


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_listing_needs_no_keys(chain_env: Any, store: Store, tmp_path: Path) -> None:
    """Reading its own records is a read: a server without the agency's keys lists them."""
    app, _ = build_api(chain_env, store, tmp_path, run_worker=False)
    _, token = issue_api_token(store, agency_id=1, label="a")
    with TestClient(app) as c:
        c.post("/v1/records/digest", json={"digest": "0x" + "77" * 32}, headers=bearer(token))
        app.state.registry.keyring._issuers.clear()
        answer = c.get("/v1/records", headers=bearer(token))
        assert answer.status_code == 200 and len(answer.json()["records"]) == 1
