"""`registry serve --workers N` (issue 12): N uvicorn processes on one store (SQLite in WAL
mode, or PostgreSQL). Records issued through the API, whichever process takes them, are
anchored exactly once (one lease holder per agency account); when the holder is SIGKILLed,
uvicorn starts a new process and the lease passes on: later records are anchored too, still
once each, with no nonce collision. `--workers` refuses 0, negative and non-integer values, and
the embedded chain."""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from api_helpers import cli_deployment
from typer.testing import CliRunner
from web3 import Web3

from registry.chain import RegistryContract, connect
from registry.chain.devnode import AnvilNode, free_port
from registry.chain.events import fetch_events
from registry.cli import app as cli
from registry.store.errors import PG_START_HINT, StoreUnavailable
from registry.store.scratch import DEFAULT_PG_URL, scratch_schema

PASS = "a long operator passphrase"
PG_URL = os.environ.get("REGISTRY_TEST_PG_URL", DEFAULT_PG_URL)


@pytest.fixture
def deployment(anvil_node: AnvilNode, tmp_path: Path) -> dict[str, str]:
    return cli_deployment(anvil_node.url, tmp_path / "data", passphrase=PASS)


@pytest.fixture
def pg_deployment(anvil_node: AnvilNode, tmp_path: Path) -> Iterator[dict[str, str]]:
    try:
        with scratch_schema(PG_URL, prefix="workers") as url:
            yield cli_deployment(
                anvil_node.url, tmp_path / "data", passphrase=PASS, database_url=url
            )
    except StoreUnavailable as exc:
        pytest.fail(f"PostgreSQL unreachable: {exc}\nStart it with: {PG_START_HINT}")


def start_server(env: dict[str, str], workers: int) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from registry.cli import main; main()",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        env={**os.environ, **{k: v for k, v in env.items() if k != "TOKEN"}},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        assert server.poll() is None, "serve exited"
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return server, base
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "serve did not start"
        time.sleep(0.2)


def stop_server(server: subprocess.Popen[str]) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def submit_many(base: str, token: str, tag: str, count: int) -> list[str]:
    """`count` digests, one request each on fresh connections (spread over the processes)."""
    digests = []
    for i in range(count):
        digest = "0x" + hashlib.sha256(f"{tag} {i}".encode()).hexdigest()
        answer = httpx.post(
            f"{base}/v1/records/digest",
            json={"digest": digest},
            headers={"Authorization": f"Bearer {token}", "Connection": "close"},
            timeout=10,
        )
        assert answer.status_code in (200, 201, 202), answer.text
        digests.append(digest)
    return digests


def wait_anchored(base: str, digests: list[str], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    for digest in digests:
        while True:
            state = httpx.get(f"{base}/v1/records/{digest}", timeout=5).json()
            if state.get("status") == "anchored":
                break
            assert time.monotonic() < deadline, f"{digest} not anchored: {state}"
            time.sleep(0.2)


def lease_holder(data: Path) -> int:
    """The pid written in the agency account's lease file by the process that holds it."""
    (lease,) = data.glob("registry.db.lease-0x*")  # the account's (not the mirror's)
    deadline = time.monotonic() + 30
    while True:
        text = lease.read_text().strip()
        if text:
            return int(text)
        assert time.monotonic() < deadline, "no process took the lease"
        time.sleep(0.2)


def children(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def workers_of(server: subprocess.Popen[str]) -> set[int]:
    """uvicorn's worker processes (its supervisor's spawned children, not the resource
    tracker)."""
    found = set()
    for pid in children(server.pid):
        try:
            if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.add(pid)
        except OSError:  # just ended
            continue
    return found


def anchored_once(env: dict[str, str]) -> int:
    """Every Anchored root appears once, each anchor used its own nonce; how many anchors."""
    config = tomllib.loads((Path(env["REGISTRY_DATA_DIR"]) / "config.toml").read_text())
    w3: Web3 = connect(config["rpc"])
    registry = RegistryContract.at(w3, config["registry_address"])
    anchored = [e for e in fetch_events(registry) if e.name == "Anchored"]
    roots = [bytes(e.args["root"]) for e in anchored]
    assert len(roots) == len(set(roots)), "a root was anchored twice"
    agency = anchored[0].args["agency"]
    assert w3.eth.get_transaction_count(agency) == len(anchored), "a nonce collided"
    return len(anchored)


@pytest.mark.anvil
def test_two_workers_anchor_once_and_take_over(deployment: dict[str, str]) -> None:
    env, token = deployment, deployment["TOKEN"]
    data = Path(env["REGISTRY_DATA_DIR"])
    server, base = start_server(env, workers=2)
    try:
        deadline = time.monotonic() + 90
        while len(workers := workers_of(server)) < 2:
            assert time.monotonic() < deadline, f"2 worker processes expected, saw {workers}"
            time.sleep(0.2)
        with sqlite3.connect(data / "registry.db") as db:
            assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"

        first = submit_many(base, token, "first", 12)
        wait_anchored(base, first)
        holder = lease_holder(data)
        assert holder in workers, "the lease is held by a worker process, not the supervisor"
        before = anchored_once(env)

        os.kill(holder, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while holder in (alive := workers_of(server)) or len(alive) < 2:
            assert time.monotonic() < deadline, "uvicorn did not replace the killed worker"
            time.sleep(0.2)
        t0 = time.monotonic()
        second = submit_many(base, token, "after the kill", 6)
        wait_anchored(base, second)
        takeover = time.monotonic() - t0
        new_holder = lease_holder(data)
        assert new_holder != holder and new_holder in workers_of(server)
        assert anchored_once(env) > before
        assert takeover < 45, f"takeover took {takeover:.1f}s"
    finally:
        stop_server(server)
    assert server.returncode == 0


@pytest.mark.anvil
@pytest.mark.postgres
def test_two_workers_on_postgresql_each_killed_in_turn(pg_deployment: dict[str, str]) -> None:
    """On PostgreSQL the lease is an advisory lock, invisible from here: both original workers
    are SIGKILLed one after the other, so the holder is killed at some point; records
    submitted after each kill are anchored all the same, each root once, no nonce reused."""
    env, token = pg_deployment, pg_deployment["TOKEN"]
    server, base = start_server(env, workers=2)
    try:
        deadline = time.monotonic() + 90
        while len(original := workers_of(server)) < 2:
            assert time.monotonic() < deadline, f"2 worker processes expected, saw {original}"
            time.sleep(0.2)
        wait_anchored(base, submit_many(base, token, "pg first", 6))
        for n, victim in enumerate(sorted(original)):
            os.kill(victim, signal.SIGKILL)
            deadline = time.monotonic() + 60
            while victim in (alive := workers_of(server)) or len(alive) < 2:
                assert time.monotonic() < deadline, "uvicorn did not replace the killed worker"
                time.sleep(0.2)
            wait_anchored(base, submit_many(base, token, f"pg after kill {n}", 4))
    finally:
        stop_server(server)
    assert anchored_once(env) >= 3


@pytest.mark.anvil
def test_restart_resumes_anchoring(deployment: dict[str, str]) -> None:
    """The whole server stopped and started again: the new processes anchor what was left."""
    env, token = deployment, deployment["TOKEN"]
    server, base = start_server(env, workers=2)
    try:
        wait_anchored(base, submit_many(base, token, "before the restart", 4))
    finally:
        stop_server(server)
    server, base = start_server(env, workers=2)
    try:
        wait_anchored(base, submit_many(base, token, "after the restart", 4))
    finally:
        stop_server(server)
    anchored_once(env)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", "greater than or equal to 1"),
        ("-2", "greater than or equal to 1"),
        ("two", "a valid integer"),
    ],
)
def test_workers_must_be_a_positive_integer(tmp_path: Path, value: str, message: str) -> None:
    result = CliRunner().invoke(
        cli,
        ["serve", "--workers", value],
        env={"REGISTRY_DATA_DIR": str(tmp_path), "COLUMNS": "200"},
    )
    assert result.exit_code == 2, result.output
    shown = " ".join(result.output.split())
    assert "Invalid value for '--workers'" in shown and message in shown


def test_workers_need_a_node(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["serve", "--workers", "2"], env={"REGISTRY_DATA_DIR": str(tmp_path), "COLUMNS": "200"}
    )
    assert result.exit_code == 2, result.output
    assert "embedded chain lives inside one process" in " ".join(result.output.split())
