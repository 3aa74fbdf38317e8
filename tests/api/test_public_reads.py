"""Public reads: agencies with their keys and windows (from the chain), batches (root, state,
tx, block, count) with paging, and operations: /healthz, /readyz, /metrics, /v1/info, the page."""

from __future__ import annotations

from api_helpers import ONLY_EMBEDDED_SQLITE, Api

from registry import keys

pytestmark = ONLY_EMBEDDED_SQLITE


def test_agencies_keys_and_windows(api: Api) -> None:
    c = api.client
    listed = c.get("/v1/agencies").json()["agencies"]
    assert {a["name"] for a in listed} == {"Civil Registry Office", "Ministry of Education"}
    one = c.get(f"/v1/agencies/{api.address_a.lower()}").json()
    assert one["address"] == api.address_a and one["status"] == "active" and one["issuesHere"]
    assert one["account"] == api.address_a
    # The fixture registered a placeholder key, then rotated to the real one: two windows.
    first, current = one["keys"]
    assert first["current"] is False and first["validUntil"] is not None
    assert current["current"] is True and current["validUntil"] is None
    assert current["publicKey"] == one["signingKey"]
    new_key = keys.public_key_bytes(keys.signing_key_from_seed(b"\x0c" * 32))
    api.env.registry.rotate_signing_key(api.env.agency_a, api.env.admin, new_key)
    api.runtime.events.invalidate()
    again = c.get(f"/v1/agencies/{api.address_a}").json()
    assert [k["current"] for k in again["keys"]] == [False, False, True]


def test_batches_and_paging(api: Api) -> None:
    c = api.client
    roots = [api.submit({"batch": i})["batch"]["root"] for i in range(3)]
    page = c.get("/v1/batches", params={"limit": 2}).json()
    assert [b["root"] for b in page["batches"]] == roots[::-1][:2]
    assert page["nextBefore"] is not None
    rest = c.get("/v1/batches", params={"limit": 2, "before": page["nextBefore"]}).json()
    assert [b["root"] for b in rest["batches"]] == [roots[0]] and rest["nextBefore"] is None
    batch = c.get(f"/v1/batches/{roots[0]}").json()
    assert batch["state"] == "confirmed" and batch["count"] == 1 and batch["blockNumber"] >= 1
    assert batch["txHash"].startswith("0x") and batch["agencyName"] == "Civil Registry Office"
    mine = c.get("/v1/batches", params={"agency": api.address_b}).json()
    assert mine["batches"] == []
    confirmed = c.get("/v1/batches", params={"state": "confirmed"}).json()["batches"]
    assert len(confirmed) == 3


def test_health_readiness_metrics_info(api: Api) -> None:
    c = api.client
    assert c.get("/healthz").json() == {"status": "ok"}
    ready = c.get("/readyz").json()
    assert ready["status"] == "ready" and ready["worker"] == "running"
    receipt = api.submit({"m": 1})["receipt"]
    c.post("/v1/verify", json=receipt)
    c.get("/v1/verify/0x" + "00" * 32)
    text = c.get("/metrics").text
    for line in (
        'registry_records{status="anchored"} 1.0',
        'registry_verifications_total{outcome="IN_FORCE"} 1.0',  # a receipt alone
        'registry_verifications_total{outcome="UNKNOWN"} 1.0',
        "registry_oldest_pending_age_seconds 0.0",
        "registry_oldest_unfinished_batch_age_seconds 0.0",
        "registry_anchoring_latency_seconds_count 1.0",
        "registry_anchoring_worker_running 1.0",
        "registry_store_up 1.0",
    ):
        assert line in text, line
    assert "# TYPE registry_chain_errors_total counter" in text
    info = c.get("/v1/info").json()
    assert info["registry"] == api.env.registry.address and info["mode"] == "embedded"
    assert info["persistent"] is False


def test_page_is_served(api: Api) -> None:
    page = api.client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert api.client.get("/static/app.js").status_code == 200
