"""PostgreSQL restarted in the middle of an issuance through the API: while it is down every
request that needs the store answers 503 problem+json with Retry-After (never 500); once it is
back, submissions succeed again, the worker resumes, and every accepted record ends anchored
exactly once.

The machine's shared PostgreSQL is left alone (other tests use it): the test runs a private
cluster of its own (Debian's initdb / pg_ctl) on a free port, and stops and starts that one.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from api_helpers import ONLY_EMBEDDED_SQLITE, Api, serving_api
from sqlalchemy import func, select

from registry.chain.devnode import free_port
from registry.store import open_store, repo
from registry.store.models import Batch, Record

pytestmark = [*ONLY_EMBEDDED_SQLITE[:1], pytest.mark.postgres]

RECORDS = 20_000
CHUNK = 500
STOP_AFTER = 12  # chunks accepted before PostgreSQL goes down


def _pg_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: p.parts[-3])
    if not found and shutil.which("pg_ctl") is None:
        pytest.fail(
            "PostgreSQL server binaries (initdb, pg_ctl) not found: apt-get install postgresql"
        )
    return found[-1].parent if found else Path(str(shutil.which("pg_ctl"))).parent


@dataclass
class PrivateCluster:
    """A throw-away PostgreSQL cluster of this test only (trust auth, loopback, no fsync)."""

    bin: Path
    root: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c max_connections=50"
        )
        data, log = str(self.root / "data"), str(self.root / "log")
        self._run("pg_ctl", "-D", data, "-o", options, "-l", log, "-w", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "fast", "-w", "stop")


@pytest.fixture
def private_pg() -> Iterator[PrivateCluster]:
    # Not under pytest's tmp_path: its parents are private to root, and the server runs as
    # the postgres user.
    root = Path(tempfile.mkdtemp(prefix="registry-pg-"))
    root.chmod(0o755)
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    cluster = PrivateCluster(_pg_bin(), root, free_port())
    cluster._run("initdb", "-D", str(root / "data"), "-A", "trust", "-U", "postgres", "--no-sync")
    cluster.start()
    try:
        yield cluster
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def pg_api(chain_env: Any, private_pg: PrivateCluster, tmp_path: Path) -> Iterator[Api]:
    store = open_store(private_pg.url, data_dir=tmp_path)
    try:
        with serving_api(
            chain_env, store, tmp_path, raise_server_exceptions=False, api_retry_after=4
        ) as running:
            yield running
    finally:
        store.close()


def _chunk(start: int) -> list[dict[str, Any]]:
    return [
        {"type": "BirthCertificate", "number": f"B-2026-{n:06d}", "place": "Tartu"}
        for n in range(start, start + CHUNK)
    ]


def _unavailable(answer: Any) -> None:
    assert answer.status_code == 503, (answer.status_code, answer.text[:300])
    assert answer.headers["Retry-After"] == "4"
    assert answer.headers["content-type"].startswith("application/problem+json")
    body = answer.json()
    assert body["type"].endswith(":store-unavailable")
    assert "127.0.0.1" not in answer.text and "postgres" not in answer.text.lower()


def test_postgres_restart_mid_issuance(
    pg_api: Api, private_pg: PrivateCluster, caplog: pytest.LogCaptureFixture
) -> None:
    c, a = pg_api.client, pg_api.agency_a
    accepted: set[str] = set()
    answers: list[int] = []  # status of every submission, in order
    chunks_done = threading.Event()
    starts = list(range(0, RECORDS, CHUNK))

    failures: list[BaseException] = []

    def submit_all() -> None:
        try:
            submit_chunks()
        except BaseException as exc:  # reported by the test's thread
            failures.append(exc)

    def submit_chunks() -> None:
        """An agency's client: each chunk until it is accepted, waiting on 503 as told."""
        for start in starts:
            while True:
                answer = c.post("/v1/records/bulk", json={"records": _chunk(start)}, headers=a)
                answers.append(answer.status_code)
                if answer.status_code != 503:
                    break
                _unavailable(answer)
                time.sleep(0.2)  # Retry-After says 4 s; the test is impatient
            assert answer.status_code in (200, 202), answer.text[:300]
            accepted.update(item["digest"] for item in answer.json()["records"])
        chunks_done.set()

    submitter = threading.Thread(target=submit_all, daemon=True)
    submitter.start()
    deadline = time.monotonic() + 120
    while len(accepted) < STOP_AFTER * CHUNK and time.monotonic() < deadline:
        time.sleep(0.01)
    store = pg_api.operator.store
    with store.session() as session:
        before = repo.counts_by_status(session)
    assert before["anchored"] < len(accepted)  # the worker has work in hand

    private_pg.stop()  # a submission may be in flight; the worker is mid-issuance
    down_at = time.monotonic()
    try:
        deadline = time.monotonic() + 60
        while answers.count(503) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert answers.count(503) >= 3, answers
        digest = "0x" + "ab" * 32
        _unavailable(c.post("/v1/records/digest", json={"digest": digest}, headers=a))
        _unavailable(c.post("/v1/records", json={"record": {"n": 1}}, headers=a))
        _unavailable(c.get(f"/v1/records/{sorted(accepted)[0]}"))
        _unavailable(c.get("/v1/batches"))
        ready = c.get("/readyz")
        assert ready.status_code == 503, ready.text
        assert c.get("/healthz").status_code == 200
        metrics = c.get("/metrics")
        assert metrics.status_code == 200 and "registry_store_up 0.0" in metrics.text
    finally:
        private_pg.start()
    up_at = time.monotonic()

    submitter.join(timeout=600)
    assert not failures, failures
    assert chunks_done.is_set(), "the submitter did not finish"
    assert set(answers) <= {200, 202, 503}, answers  # never a 500
    assert len(accepted) == RECORDS

    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        with store.session() as session:
            counts = repo.counts_by_status(session)
        if counts["anchored"] == RECORDS:
            break
        time.sleep(0.5)
    assert counts["anchored"] == RECORDS, counts
    logging.getLogger(__name__).info(
        "%d records; %d accepted before the stop (%d anchored); %d submissions answered 503 "
        "in %.1f s down; all anchored %.1f s after the restart",
        RECORDS,
        STOP_AFTER * CHUNK,
        before["anchored"],
        answers.count(503),
        up_at - down_at,
        time.monotonic() - up_at,
    )

    with store.session() as session:
        digests = session.scalars(select(Record.digest)).all()
        assert len(digests) == RECORDS  # none doubled, none lost
        assert {"0x" + bytes(d).hex() for d in digests} == accepted
        batches = session.execute(select(Batch.root, Batch.leaf_count, Batch.state)).all()
        roots = [bytes(root) for root, _, _ in batches]
        assert len(set(roots)) == len(roots)
        assert {state for _, _, state in batches} == {"confirmed"}
        assert sum(count for _, count, _ in batches) == RECORDS
        unbatched = session.scalar(select(func.count()).where(Record.batch_id.is_(None)))
        assert unbatched == 0
    # Each root is anchored on chain exactly once, for agency A.
    registry = pg_api.env.registry
    for root in roots:
        assert registry.anchor_of(pg_api.address_a, root).block_number > 0
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not errors, [r.getMessage() for r in errors]
