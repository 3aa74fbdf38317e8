"""SIGKILL the issuing process at each durable state, restart it: no record lost, no root
anchored twice, every record anchored after the restart (anvil; SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from issuing_helpers import SALT_SECRET_A, SEED_A, make_issuer
from sqlalchemy import select

from registry.chain.events import fetch_events
from registry.store import counts_by_status
from registry.store.models import Batch

HERE = Path(__file__).resolve().parent
COUNT, BATCH = 25, 10


def run_issuer(
    env, store, agency_id: int, tmp_path: Path, crash_at: str | None
) -> subprocess.CompletedProcess[str]:
    job = {
        "rpc": env.w3.provider.endpoint_uri,
        "registry": env.registry.address,
        "db": store.engine.url.render_as_string(hide_password=False),
        "data_dir": str(tmp_path),
        "account_key": "0x" + bytes(env.agency_a.key).hex(),
        "seed": SEED_A.hex(),
        "agency": env.agency_a.address,
        "salt_secret": SALT_SECRET_A.hex(),
        "agency_id": agency_id,
        "batch_size": BATCH,
        "count": COUNT,
        "tag": "crash",
    }
    environ = {k: v for k, v in os.environ.items() if k != "REGISTRY_TEST_CRASH_AT"}
    if crash_at:
        environ["REGISTRY_TEST_CRASH_AT"] = crash_at
    return subprocess.run(
        [sys.executable, str(HERE / "issuer_proc.py"), json.dumps(job)],
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.anvil
@pytest.mark.parametrize("chain_env_session", ["anvil", "anvil-interval"], indirect=True)
@pytest.mark.parametrize("crash_at", ["pending", "sealed", "submitted", "anchored"])
def test_sigkill_at_each_state_then_restart(chain_env, store, tmp_path, crash_at):
    issuer = make_issuer(chain_env, store)
    first = run_issuer(chain_env, store, issuer.agency_id, tmp_path, crash_at)
    assert first.returncode == -signal.SIGKILL, first.stderr
    with store.session() as session:
        before = counts_by_status(session)
    assert sum(before.values()) == COUNT  # submitted records were durable before the kill

    second = run_issuer(chain_env, store, issuer.agency_id, tmp_path, None)
    assert second.returncode == 0 and "drained" in second.stdout, second.stderr

    with store.session() as session:
        counts = counts_by_status(session)
        batches = session.scalars(select(Batch)).all()
    assert counts["anchored"] == COUNT and sum(counts.values()) == COUNT
    assert {b.state for b in batches} == {"confirmed"}
    assert sorted(b.leaf_count for b in batches) == [5, 10, 10]
    anchored = [e.args["root"] for e in fetch_events(chain_env.registry) if e.name == "Anchored"]
    assert len(anchored) == len(set(anchored)) == len(batches)  # no root anchored twice
    assert set(anchored) == {bytes(b.root) for b in batches}
