"""The node down: verification answers 200 with outcome ERROR (never INVALID), writes that need
the chain answer 503 with Retry-After, submissions are still accepted (durable, pending),
/readyz is 503; when the node is back, the worker anchors what waited."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from api_helpers import bearer
from fastapi.testclient import TestClient

from api.app import create_app
from registry.chain import connect
from registry.chain.devnode import free_port, start_anvil
from registry.service.admin import issue_api_token
from registry.service.operator import Operator
from registry.service.sandbox import deploy_dev_registry
from registry.settings import Settings
from registry.store import bind_store, open_store

pytestmark = pytest.mark.anvil


def test_node_down_then_back(tmp_path: Path) -> None:
    port, state = free_port(), tmp_path / "anvil-state.json"
    node = start_anvil(port=port, state_path=state)
    try:
        w3 = connect(node.url, timeout=2)
        registry, admin = deploy_dev_registry(w3)
        settings = Settings(
            data_dir=tmp_path / "data",
            rpc=node.url,
            registry_address=registry.address,
            chain_id=registry.chain_id,
            rpc_timeout=2,
            batch_age=0,
            api_worker_interval=0.05,
            api_verify_rate=0,
            api_retry_after=7,
            revocation_ttl=1,
            # The registry mirror answers through an outage while it is within its lag bound;
            # past it (1 s here) the node is asked, and a node that is down is ERROR.
            mirror_max_lag=1,
        )
        store = open_store(None, data_dir=settings.data_dir)
        with store.session() as session:
            bind_store(
                session,
                chain_id=registry.chain_id,
                genesis_hash=bytes(w3.eth.get_block(0)["hash"]),
                registry_address=registry.address,
            )
        operator = Operator(settings, registry=registry, store=store)
        agency, issuer = operator.create_agency(
            "Tax Office", passphrase="pw", admin=admin, fund_from_dev=True
        )
        app = create_app(operator=operator, passphrase="pw")
        app.state.registry.keyring.put(agency.id, issuer)
        app.state.registry.keyring.put_admin(admin)
        _, token = issue_api_token(store, agency_id=agency.id, label="t")
        _, admin_token = issue_api_token(store, agency_id=None, label="admin")
        with TestClient(app) as c:
            issued = c.post(
                "/v1/records",
                params={"wait": True},
                json={"record": {"tax": 1}},
                headers=bearer(token),
            ).json()
            receipt, digest = issued["receipt"], issued["digest"]
            assert c.post("/v1/verify", json=receipt).json()["outcome"] == "IN_FORCE"

            node.stop()  # the outage
            time.sleep(1.5)  # past the revocation TTL, and the follower has noticed
            down = c.post("/v1/verify", json=receipt)
            assert down.status_code == 200
            verdict = down.json()
            assert verdict["outcome"] == "ERROR"
            assert any(check["status"] == "error" for check in verdict["checks"])
            assert c.get(f"/v1/verify/{digest}").json()["outcome"] == "ERROR"

            revoke = c.post(
                f"/v1/records/{digest}/revoke", json={"reason": 1}, headers=bearer(token)
            )
            assert revoke.status_code == 503, revoke.text
            assert revoke.headers["retry-after"] == "7"
            assert revoke.headers["content-type"] == "application/problem+json"
            suspend = c.post(
                f"/v1/admin/agencies/{agency.address}/suspend", headers=bearer(admin_token)
            )
            assert suspend.status_code == 503 and suspend.headers["retry-after"] == "7"

            queued = c.post("/v1/records", json={"record": {"tax": 2}}, headers=bearer(token))
            assert queued.status_code == 202 and queued.json()["status"] in ("pending", "batched")
            ready = c.get("/readyz")
            assert ready.status_code == 503 and "chain" in ready.json()["detail"]
            assert 'registry_chain_errors_total{where="verify"}' in c.get("/metrics").text

            node = start_anvil(port=port, state_path=state)  # back, with its state
            deadline = time.monotonic() + 60
            while c.get(f"/v1/records/{queued.json()['digest']}").json()["status"] != "anchored":
                assert time.monotonic() < deadline, "not anchored after the node came back"
                time.sleep(0.2)
            assert c.post("/v1/verify", json=receipt).json()["outcome"] == "IN_FORCE"
            assert c.get("/readyz").status_code == 200
        store.close()
    finally:
        node.stop()
