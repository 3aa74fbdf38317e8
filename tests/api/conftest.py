"""API fixtures: the real app (create_app) over an Operator on the test chain (embedded and
anvil, by parameter) and a store (SQLite and PostgreSQL, by parameter), with the anchoring
worker running; agencies A and B with real Ed25519 keys, and an admin and agency tokens."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from api_helpers import Api, bearer, build_api
from fastapi.testclient import TestClient

from api.runtime import ApiRuntime
from registry.service.admin import issue_api_token
from registry.store import Store, repo


@pytest.fixture
def api(chain_env: Any, store: Store, tmp_path: Path) -> Iterator[Api]:
    app, operator = build_api(chain_env, store, tmp_path)
    runtime: ApiRuntime = app.state.registry
    with store.session() as session:
        ids = {a.address: a.id for a in repo.list_agencies(session)}
    _, admin = issue_api_token(store, agency_id=None, label="test admin")
    _, token_a = issue_api_token(store, agency_id=ids[chain_env.agency_a.address], label="a")
    _, token_b = issue_api_token(store, agency_id=ids[chain_env.agency_b.address], label="b")
    with TestClient(app) as client:
        yield Api(
            client=client,
            operator=operator,
            runtime=runtime,
            env=chain_env,
            admin=bearer(admin),
            agency_a=bearer(token_a),
            agency_b=bearer(token_b),
            address_a=chain_env.agency_a.address,
            address_b=chain_env.agency_b.address,
        )
