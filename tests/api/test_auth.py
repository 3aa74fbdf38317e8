"""Auth scopes: no token 401, an unknown or revoked token 401, the admin token cannot issue,
an agency token cannot administer, agency A can neither revoke nor download B's records, and
a suspended agency cannot submit. Public routes need no token."""

from __future__ import annotations

import pytest
from api_helpers import ONLY_EMBEDDED_SQLITE, Api

pytestmark = ONLY_EMBEDDED_SQLITE


def problem(answer, status: int) -> dict:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    body = answer.json()
    assert body["status"] == status and body["type"].startswith("urn:") and body["detail"]
    return body


def test_writes_need_a_token(api: Api) -> None:
    c = api.client
    answer = c.post("/v1/records", json={"record": {"a": 1}})
    problem(answer, 401)
    assert answer.headers["www-authenticate"].startswith("Bearer")
    problem(c.post("/v1/records", json={"record": {"a": 1}}, headers={"Authorization": "x"}), 401)
    unknown = {"Authorization": "Bearer prr_not-a-token"}
    body = problem(c.post("/v1/records", json={"record": {"a": 1}}, headers=unknown), 401)
    assert "prr_not-a-token" not in body["detail"]  # a token is never echoed
    problem(c.post("/v1/admin/agencies", json={"name": "X"}), 401)
    problem(c.get("/v1/admin/tokens"), 401)


def test_scopes(api: Api) -> None:
    c = api.client
    problem(c.post("/v1/records", json={"record": {"a": 1}}, headers=api.admin), 403)
    problem(c.get("/v1/admin/tokens", headers=api.agency_a), 403)
    problem(c.post("/v1/admin/agencies", json={"name": "X"}, headers=api.agency_b), 403)
    assert c.get("/v1/admin/tokens", headers=api.admin).status_code == 200


def test_agency_a_cannot_touch_b_records(api: Api) -> None:
    c = api.client
    mine = api.submit({"owner": "b"}, who="b")
    digest = mine["digest"]
    body = problem(
        c.post(f"/v1/records/{digest}/revoke", json={"reason": 3}, headers=api.agency_a), 403
    )
    assert "another agency" in body["detail"]
    problem(c.get(f"/v1/records/{digest}/document", headers=api.agency_a), 403)
    root = mine["batch"]["root"]
    problem(c.post(f"/v1/batches/{root}/revoke", json={"reason": 1}, headers=api.agency_a), 403)
    # ...while B can, and the public can read and verify without a token.
    assert c.get(f"/v1/records/{digest}/document", headers=api.agency_b).status_code == 200
    assert c.get(f"/v1/verify/{digest}").json()["outcome"] == "IN_FORCE"
    batch = c.post(f"/v1/batches/{root}/revoke", json={"reason": 4}, headers=api.agency_b)
    assert batch.status_code == 200 and batch.json()["wholeBatch"] is True
    assert c.get(f"/v1/verify/{digest}").json()["outcome"] == "REVOKED"


def test_revoked_token_and_suspended_agency(api: Api) -> None:
    c = api.client
    issued = c.post(
        f"/v1/admin/agencies/{api.address_a}/tokens", json={"label": "temp"}, headers=api.admin
    )
    assert issued.status_code == 201 and issued.headers["cache-control"] == "no-store"
    token = issued.json()["token"]
    temp = {"Authorization": f"Bearer {token}"}
    assert c.post("/v1/records", json={"record": {"t": 1}}, headers=temp).status_code == 202
    listed = c.get("/v1/admin/tokens", headers=api.admin).json()["tokens"]
    assert token not in str(listed)  # only hashes are stored; never shown again
    revoked = c.delete(f"/v1/admin/tokens/{issued.json()['id']}", headers=api.admin)
    assert revoked.status_code == 200 and revoked.json()["revokedAt"]
    problem(c.post("/v1/records", json={"record": {"t": 2}}, headers=temp), 401)

    suspended = c.post(f"/v1/admin/agencies/{api.address_a}/suspend", headers=api.admin)
    assert suspended.status_code == 200, suspended.text
    assert suspended.json()["status"] == "suspended"
    body = problem(c.post("/v1/records", json={"record": {"t": 3}}, headers=api.agency_a), 403)
    assert "suspended" in body["detail"]
    assert c.get(f"/v1/agencies/{api.address_a}").json()["status"] == "suspended"
    back = c.post(f"/v1/admin/agencies/{api.address_a}/reinstate", headers=api.admin)
    assert back.json()["status"] == "active"
    assert api.submit({"t": 4})["status"] == "anchored"


@pytest.mark.parametrize("path", ["/v1/admin/agencies/0x" + "12" * 20 + "/suspend"])
def test_admin_unknown_agency(api: Api, path: str) -> None:
    problem(api.client.post(path, headers=api.admin), 404)
