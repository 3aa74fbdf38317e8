"""A server holding an alliance trust list (docs/trust.md): GET /v1/trust-list shows it, its
verdicts name the issuing country, and a list that fails a rule stops the server at start
with the reason, rather than serving verdicts without it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from api_helpers import ONLY_EMBEDDED_SQLITE, build_api, serving_api

from registry import dataintegrity
from registry.errors import ConfigError, TrustListRejected
from registry.keys import public_key_bytes, signing_key_from_seed
from registry.store import Store
from registry.trustlist import add_registry, caip10, new_trust_list, sign_trust_list

pytestmark = ONLY_EMBEDDED_SQLITE

PUBLISHER = signing_key_from_seed(b"\x61" * 32)
MULTIKEY = dataintegrity.multikey_from_public_key(public_key_bytes(PUBLISHER))


def write_list(path: Path, env: Any, *, days: int = 30, now: datetime | None = None) -> Path:
    doc = new_trust_list(operator="Alliance Secretariat", territory="ZZ")
    doc = add_registry(
        doc,
        name="Republic of Testland registry",
        country="KZ",
        registry=caip10(env.registry.chain_id, env.registry.address),
        since=datetime(2020, 1, 1, tzinfo=UTC),
    )
    signed = sign_trust_list(
        doc, key=PUBLISHER, now=now or datetime.now(UTC), valid_for=timedelta(days=days)
    )
    path.write_text(json.dumps(signed, indent=2))
    return path


def test_verdicts_name_the_country_and_the_list_is_public(
    chain_env: Any, store: Store, tmp_path: Path
) -> None:
    held = write_list(tmp_path / "alliance.json", chain_env)
    settings = {"trust_lists": [held], "trust_list_keys": [MULTIKEY]}
    with serving_api(chain_env, store, tmp_path, **settings) as api:
        answer = api.client.get("/v1/trust-list")
        assert answer.status_code == 200
        (listed,) = answer.json()["lists"]
        assert listed["sequence"] == 1 and listed["signer"].startswith("did:key:z6Mk")
        assert listed["registries"][0]["country"] == "KZ"
        receipt = api.submit({"type": "BirthCertificate", "name": "Ana"})["receipt"]
        verdict = api.client.post("/v1/verify", json=receipt).json()
        assert verdict["outcome"] == "IN_FORCE"
        assert verdict["country"] == "KZ"
        assert verdict["registryName"] == "Republic of Testland registry"
        registry = caip10(chain_env.registry.chain_id, chain_env.registry.address)
        assert verdict["registry"] == registry


def test_without_lists_the_endpoint_says_so(api: Any) -> None:
    assert api.client.get("/v1/trust-list").json() == {"lists": []}
    receipt = api.submit({"type": "BirthCertificate", "name": "Ben"})["receipt"]
    verdict = api.client.post("/v1/verify", json=receipt).json()
    assert verdict["outcome"] == "IN_FORCE" and verdict["country"] is None


def test_an_expired_list_stops_the_server_with_the_reason(
    chain_env: Any, store: Store, tmp_path: Path
) -> None:
    stale = write_list(
        tmp_path / "stale.json", chain_env, days=1, now=datetime.now(UTC) - timedelta(days=2)
    )
    with pytest.raises(TrustListRejected, match=r"stale.json: .*out of date"):
        build_api(chain_env, store, tmp_path, trust_lists=[stale], trust_list_keys=[MULTIKEY])


def test_a_list_without_a_pinned_key_stops_the_server(
    chain_env: Any, store: Store, tmp_path: Path
) -> None:
    held = write_list(tmp_path / "alliance.json", chain_env)
    with pytest.raises(ConfigError, match="no pinned publisher key"):
        build_api(chain_env, store, tmp_path, trust_lists=[held])
