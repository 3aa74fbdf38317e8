"""The registry authority registers an agency through the API: keys generated (encrypted) in
the data directory, registered on chain and in the store, loaded for anchoring at once; then
a token for it, which issues records that verify."""

from __future__ import annotations

import json

from api_helpers import ONLY_EMBEDDED_SQLITE, Api

pytestmark = ONLY_EMBEDDED_SQLITE


def test_register_agency_then_issue(api: Api) -> None:
    c = api.client
    created = c.post(
        "/v1/admin/agencies", json={"name": "Land Registry", "fundFromDev": True}, headers=api.admin
    )
    assert created.status_code == 201, created.text
    agency = created.json()
    assert agency["name"] == "Land Registry" and agency["status"] == "active"
    assert created.headers["location"] == f"/v1/agencies/{agency['address']}"
    keys_dir = api.operator.keys_dir
    assert (keys_dir / "land-registry.account.json").is_file()
    signing = json.loads((keys_dir / "land-registry.ed25519.json").read_text())
    assert signing["kind"] == "signing-key" and signing["crypto"]["kdf"] == "scrypt"
    token = c.post(
        f"/v1/admin/agencies/{agency['address']}/tokens", json={"label": "land"}, headers=api.admin
    ).json()["token"]
    issued = c.post(
        "/v1/records",
        params={"wait": True},
        json={"record": {"parcel": "12-34"}},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert issued.status_code == 200, issued.text
    verdict = c.post("/v1/verify", json=issued.json()["receipt"]).json()
    # A receipt alone: the record is in force, no document was checked (never VALID).
    assert verdict["outcome"] == "IN_FORCE" and verdict["agencyName"] == "Land Registry"
    again = c.post("/v1/admin/agencies", json={"name": "Land Registry"}, headers=api.admin)
    assert again.status_code == 409
    bad = c.post("/v1/admin/agencies", json={"name": "  "}, headers=api.admin)
    assert bad.status_code == 422
