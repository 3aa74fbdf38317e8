"""The server verifies from the registry mirror (issue 12): a revocation, a suspension, a
compromise mark or a key rotation made outside this server (straight on the chain, not through
its API) shows in its verdicts within the mirror's lag bound, even for a document whose verdict
the server had cached; every mirrored verdict says the block it is as of. On the embedded
chain and anvil, SQLite and PostgreSQL; nothing here calls the reader's `forget()`."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from api_helpers import SEED_A, Api, serving_api
from test_verify_v2 import BIRTH, _check, _issued

from registry import keys
from registry.receipt import receipt_to_json
from registry.service.sandbox import anchor_by_hand
from registry.store import Store

DEADLINE = 15.0
"""Seconds to wait for a change to show: the default lag bound (10 s) and a follower step."""


@pytest.fixture
def api(chain_env: Any, store: Store, tmp_path: Path) -> Iterator[Api]:
    """tests/api/conftest.py's app, its follower stepping every 0.2 s (revocation_ttl 0.4)
    instead of every second, so that these tests wait less."""
    with serving_api(chain_env, store, tmp_path, revocation_ttl=0.4) as running:
        yield running


def _proof(receipt: dict[str, Any]) -> dict[str, Any]:
    return {
        "root": bytes.fromhex(receipt["merkle"]["root"][2:]),
        "leaf": bytes.fromhex(receipt["leaf"][2:]),
        "proof": [bytes.fromhex(p[2:]) for p in receipt["merkle"]["proof"]],
    }


def _until(api: Api, body: dict[str, Any], done: Any) -> dict[str, Any]:
    """POST /v1/verify until `done(verdict)`; the last verdict, or fail after DEADLINE."""
    deadline = time.monotonic() + DEADLINE
    while True:
        verdict = api.client.post("/v1/verify", json=body).json()
        if done(verdict):
            return verdict
        assert time.monotonic() < deadline, f"not seen within {DEADLINE} s: {verdict}"
        time.sleep(0.1)


def _cached(api: Api, sealed: dict[str, Any]) -> dict[str, Any]:
    """Verify twice (the second answer may come from the whole-answer cache): VALID, from the
    mirror once it has caught up."""
    _until(api, sealed, lambda v: v["chainSource"] == "mirror")
    verdict = api.client.post("/v1/verify", json=sealed).json()
    assert verdict["outcome"] == "VALID" and verdict["chainSource"] == "mirror", verdict
    return verdict


def test_revocation_made_elsewhere_shows_in_a_cached_verdict(api: Api) -> None:
    receipt, sealed = _issued(api)
    _cached(api, sealed)
    sent = api.env.registry.revoke(api.env.agency_a, reason=3, **_proof(receipt))
    verdict = _until(api, sealed, lambda v: v["outcome"] != "VALID")
    assert verdict["outcome"] == "REVOKED"
    assert verdict["asOfBlock"] >= sent.block_number
    assert _check(verdict, "revocation")["details"]["reasonCode"] == 3


def test_suspension_and_compromise_made_elsewhere_show(api: Api) -> None:
    receipt, sealed = _issued(api)
    _cached(api, sealed)
    api.env.registry.suspend_agency(api.env.admin, api.address_a)
    suspended = _until(
        api, sealed, lambda v: _check(v, "agency")["details"].get("status") == "suspended"
    )
    assert suspended["outcome"] == "VALID"  # anchored before: it stands
    anchored_at = api.env.registry.anchor_of(
        api.address_a, bytes.fromhex(receipt["merkle"]["root"][2:])
    ).anchored_at
    api.env.registry.mark_compromised(api.env.admin, api.address_a, since=anchored_at)
    voided = _until(api, sealed, lambda v: v["outcome"] != "VALID")
    assert voided["outcome"] == "UNTRUSTED"
    assert _check(voided, "agency")["details"]["void"] is True


def test_key_rotation_made_elsewhere_shows(api: Api) -> None:
    """After the authority rotates A's key on chain, a batch signed with the old key and
    anchored after the rotation is UNTRUSTED; the old batch stays VALID."""
    _, sealed = _issued(api)
    _cached(api, sealed)
    env = api.env
    old_key = keys.signing_key_from_seed(SEED_A)
    new_key = keys.signing_key_from_seed(b"\x5a" * 32)
    env.registry.rotate_signing_key(env.agency_a, env.admin, keys.public_key_bytes(new_key))
    env.advance(2)  # past the rotation's second (both ends of a key window are inclusive)
    _, receipts = anchor_by_hand(
        env.registry,
        account=env.agency_a,
        signing_key=old_key,
        digests=[hashlib.sha256(b"after the rotation").digest()],
        kind="file",
    )
    late = receipt_to_json(receipts[0])
    verdict = _until(api, late, lambda v: v["chainSource"] == "mirror")
    assert verdict["outcome"] == "UNTRUSTED", verdict
    assert _check(verdict, "key")["status"] == "fail"
    assert api.client.post("/v1/verify", json=sealed).json()["outcome"] == "VALID"


def test_digest_lookup_is_answered_from_the_mirror(api: Api) -> None:
    first = api.submit({**BIRTH, "n": 7})
    deadline = time.monotonic() + DEADLINE
    while True:
        looked_up = api.client.get(f"/v1/verify/{first['digest']}").json()
        if looked_up["chainSource"] == "mirror":
            break
        assert time.monotonic() < deadline, looked_up
        time.sleep(0.1)
    assert looked_up["outcome"] == "IN_FORCE"
