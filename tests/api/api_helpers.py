"""Helpers of the API tests (a module of its own: several conftest.py files exist): the app
built over an Operator on the test chain, with agencies A and B holding real Ed25519 keys."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.runtime import ApiRuntime
from registry import keys
from registry.service.admin import issue_api_token
from registry.service.operator import Operator
from registry.settings import Settings
from registry.store import Store, add_agency, bind_store, repo
from registry.store.scratch import DEFAULT_PG_URL

# This directory is named like the package it tests: with the editable install, a bare
# `import api` may find tests/api (a namespace) first, but `api.app` etc. always resolve to
# the real package, so tests import the modules, never names from `api` itself.

PG_URL = os.environ.get("REGISTRY_TEST_PG_URL", DEFAULT_PG_URL)
PASSPHRASE = "api test passphrase"
SEED_A, SEED_B = b"\x0a" * 32, b"\x0b" * 32

ONLY_EMBEDDED_SQLITE = [
    pytest.mark.parametrize("chain_env_session", ["embedded"], indirect=True),
    pytest.mark.parametrize("store", ["sqlite"], indirect=True),
]
"""For tests of the HTTP layer itself (auth, errors, OpenAPI): one backend is enough."""


@dataclass
class Api:
    """The running app and everything a test needs to drive it."""

    client: TestClient
    operator: Operator
    runtime: ApiRuntime
    env: Any
    admin: dict[str, str]
    agency_a: dict[str, str]
    agency_b: dict[str, str]
    address_a: str
    address_b: str

    def submit(self, record: dict[str, Any], *, who: str = "a", wait: bool = True) -> Any:
        headers = self.agency_a if who == "a" else self.agency_b
        answer = self.client.post(
            "/v1/records", params={"wait": wait}, json={"record": record}, headers=headers
        )
        assert answer.status_code in (200, 202), answer.text
        return answer.json()


def api_settings(tmp_path: Path, env: Any, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "rpc": "http://127.0.0.1:1" if env.kind == "anvil" else "embedded",
        "registry_address": env.registry.address,
        "chain_id": env.registry.chain_id,
        "batch_age": 0.0,
        "api_worker_interval": 0.05,
        "api_wait_timeout": 20.0,
        "api_verify_rate": 0.0,
        "api_shutdown_grace": 20.0,
        **overrides,
    }
    return Settings(**values)


def build_api(
    env: Any, store: Store, tmp_path: Path, *, run_worker: bool = True, **overrides: Any
) -> tuple[Any, Operator]:
    """The app over agencies A and B (keys rotated to real Ed25519 keys), not yet started."""
    settings = api_settings(tmp_path, env, **overrides)
    registry = env.registry
    with store.session() as session:
        bind_store(
            session,
            chain_id=registry.chain_id,
            genesis_hash=bytes(env.w3.eth.get_block(0)["hash"]),
            registry_address=registry.address,
        )
    operator = Operator(settings, registry=registry, store=store)
    app = create_app(operator=operator, passphrase=PASSPHRASE, run_worker=run_worker)
    runtime: ApiRuntime = app.state.registry
    runtime.keyring.put_admin(env.admin)
    names = {"a": "Civil Registry Office", "b": "Ministry of Education"}
    for who, seed, account in (("a", SEED_A, env.agency_a), ("b", SEED_B, env.agency_b)):
        key = keys.signing_key_from_seed(seed)
        public = keys.public_key_bytes(key)
        if registry.agency_of(account.address).signing_key != public:
            registry.rotate_signing_key(account, env.admin, public)
        with store.session() as session:
            agency = add_agency(
                session, address=account.address, name=names[who], signing_public_key=public
            )
        issuer = operator.issuer_from_keys(
            agency, account=account, signing_key=key, salt_secret=seed[::-1]
        )
        runtime.keyring.put(agency.id, issuer)
    return app, operator


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@contextmanager
def serving_api(
    env: Any,
    store: Store,
    tmp_path: Path,
    *,
    raise_server_exceptions: bool = True,
    **overrides: Any,
) -> Iterator[Api]:
    """`build_api`'s app running (lifespan: anchoring worker, follower) under a TestClient,
    with an admin token and one token for each of agencies A and B."""
    app, operator = build_api(env, store, tmp_path, **overrides)
    with store.session() as session:
        ids = {a.address: a.id for a in repo.list_agencies(session)}
    _, admin = issue_api_token(store, agency_id=None, label="test admin")
    _, token_a = issue_api_token(store, agency_id=ids[env.agency_a.address], label="a")
    _, token_b = issue_api_token(store, agency_id=ids[env.agency_b.address], label="b")
    with TestClient(app, raise_server_exceptions=raise_server_exceptions) as client:
        yield Api(
            client=client,
            operator=operator,
            runtime=app.state.registry,
            env=env,
            admin=bearer(admin),
            agency_a=bearer(token_a),
            agency_b=bearer(token_b),
            address_a=env.agency_a.address,
            address_b=env.agency_b.address,
        )


def cli_deployment(
    rpc: str, data_dir: Path, *, passphrase: str, database_url: str | None = None
) -> dict[str, str]:
    """A registry deployed through the CLI, as an operator would (init, deploy, one agency
    "Land Office", its token): the environment `registry serve` then runs with, the agency's
    token under TOKEN."""
    from typer.testing import CliRunner

    from registry.cli import app as cli

    env = {
        "REGISTRY_DATA_DIR": str(data_dir),
        "REGISTRY_KEYSTORE_PASSPHRASE": passphrase,
        "REGISTRY_BATCH_AGE": "0.2",
        "REGISTRY_API_WORKER_INTERVAL": "0.3",
    }
    if database_url is not None:
        env["REGISTRY_DATABASE_URL"] = database_url
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(cli, list(args), env=env)
        assert result.exit_code == 0, result.output
        return result.output

    run("init", "--rpc", rpc)
    run("deploy", "--fund-from-dev")
    run("agency", "create", "Land Office", "--fund-from-dev")
    token = re.search(r"^(prr_\S+)$", run("token", "create", "--agency", "Land Office"), re.M)
    assert token is not None
    env["TOKEN"] = token.group(1)
    return env
