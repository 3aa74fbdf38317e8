"""The anchoring worker: it resumes at start what a previous run left (a sealed batch is
anchored), and a shutdown never leaves a batch half-sent (each batch is either untouched or
confirmed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from api_helpers import ONLY_EMBEDDED_SQLITE, bearer, build_api
from fastapi.testclient import TestClient

from api.app import create_app
from registry.service.admin import issue_api_token
from registry.store import Store, repo

pytestmark = ONLY_EMBEDDED_SQLITE


def test_resume_at_start_and_clean_shutdown(chain_env: Any, store: Store, tmp_path: Path) -> None:
    app, operator = build_api(chain_env, store, tmp_path, run_worker=False)
    issuers = app.state.registry.keyring.loaded()
    _, token = issue_api_token(store, agency_id=issuers[0].agency_id, label="a")
    with TestClient(app) as c:
        for i in range(3):
            assert c.post(
                "/v1/records", json={"record": {"i": i}}, headers=bearer(token)
            ).is_success
    issuer = next(i for i in issuers if i.agency_id == 1)
    sealed = issuer.seal_batches(force=True)  # a previous run stopped right after sealing
    with store.session() as session:
        assert [b.state for b in repo.unfinished_batches(session)] == ["sealed"]

    restarted = create_app(operator=operator, passphrase="x")
    for loaded in issuers:
        restarted.state.registry.keyring.put(loaded.agency_id, loaded)
    with TestClient(restarted) as c:
        answer = c.post(
            "/v1/records", params={"wait": True}, json={"record": {"i": 0}}, headers=bearer(token)
        )
        assert answer.status_code == 200 and answer.json()["status"] == "anchored"
        with store.session() as session:
            assert repo.batch_by_id(session, sealed[0]).state == "confirmed"
        # Shut down while records keep arriving: no batch may be left submitted or anchored.
        for i in range(10, 30):
            c.post("/v1/records", json={"record": {"i": i}}, headers=bearer(token))
    runtime = restarted.state.registry
    assert not runtime.worker.running
    with store.session() as session:
        assert {b.state for b in repo.unfinished_batches(session)} <= {"sealed"}
