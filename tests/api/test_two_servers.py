"""Two `registry serve` processes on one PostgreSQL store (issue 10): exactly one anchors for
the agency's account at a time (a lease); after the holder is SIGKILLed the other takes over
within seconds; no root is anchored twice and no nonce collides."""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from api_helpers import cli_deployment
from web3 import Web3

from registry.chain import RegistryContract, connect
from registry.chain.devnode import free_port
from registry.chain.events import fetch_events
from registry.store.errors import PG_START_HINT, StoreUnavailable
from registry.store.scratch import DEFAULT_PG_URL, scratch_schema

pytestmark = [pytest.mark.anvil, pytest.mark.postgres]
PASS = "a long operator passphrase"
PG_URL = os.environ.get("REGISTRY_TEST_PG_URL", DEFAULT_PG_URL)


@pytest.fixture
def deployment(anvil_node, tmp_path: Path) -> Iterator[dict[str, str]]:
    try:
        with scratch_schema(PG_URL, prefix="twoserve") as url:
            yield cli_deployment(
                anvil_node.url, tmp_path / "data", passphrase=PASS, database_url=url
            )
    except StoreUnavailable as exc:
        pytest.fail(f"PostgreSQL unreachable: {exc}\nStart it with: {PG_START_HINT}")


def start_server(env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from registry.cli import main; main()",
            "serve",
            "--port",
            str(port),
        ],
        env={**os.environ, **{k: v for k, v in env.items() if k != "TOKEN"}},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        assert server.poll() is None, "serve exited"
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return server, base
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "serve did not start"
        time.sleep(0.2)


def submit(base: str, token: str, tag: str) -> str:
    digest = "0x" + hashlib.sha256(tag.encode()).hexdigest()
    answer = httpx.post(
        f"{base}/v1/records/digest",
        json={"digest": digest},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert answer.status_code in (200, 201, 202), answer.text
    return digest


def wait_anchored(base: str, digest: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        state = httpx.get(f"{base}/v1/records/{digest}", timeout=5).json()
        if state.get("status") == "anchored":
            return
        assert time.monotonic() < deadline, f"{digest} not anchored: {state}"
        time.sleep(0.3)


def anchored_batches(base: str) -> float:
    """The server's own count of batches its worker took to confirmed (/metrics)."""
    text = httpx.get(f"{base}/metrics", timeout=5).text
    found = re.search(r"^registry_anchored_batches_total (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def test_two_servers_one_store_one_anchors_and_the_other_takes_over(deployment) -> None:
    env, token = deployment, deployment["TOKEN"]
    first, first_url = start_server(env)
    second = None
    try:
        wait_anchored(first_url, submit(first_url, token, "before the second server"))
        second, second_url = start_server(env)
        # Submitted through the second server; anchored by the first, which holds the lease.
        both = [submit(second_url, token, f"while both run {i}") for i in range(3)]
        for digest in both:
            wait_anchored(second_url, digest)
        # while both run, only the lease holder sends anchors
        assert anchored_batches(first_url) >= 2 and anchored_batches(second_url) == 0
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        t0 = time.monotonic()
        after = submit(second_url, token, "after the first server died")
        wait_anchored(second_url, after, seconds=30)
        takeover = time.monotonic() - t0
        assert anchored_batches(second_url) >= 1
    finally:
        for server in (first, second):
            if server is not None and server.poll() is None:
                server.send_signal(signal.SIGINT)
                try:
                    server.wait(30)
                except subprocess.TimeoutExpired:
                    server.kill()
    assert takeover < 20, f"takeover took {takeover:.1f}s"
    config = tomllib.loads((Path(env["REGISTRY_DATA_DIR"]) / "config.toml").read_text())
    w3: Web3 = connect(config["rpc"])
    registry = RegistryContract.at(w3, config["registry_address"])
    anchored = [e for e in fetch_events(registry) if e.name == "Anchored"]
    roots = [bytes(e.args["root"]) for e in anchored]
    assert len(roots) == len(set(roots)), "a root was anchored twice"
    agency = anchored[0].args["agency"]
    # every anchor transaction used its own nonce: none failed or was replaced by a collision
    assert w3.eth.get_transaction_count(agency) == len(anchored)
