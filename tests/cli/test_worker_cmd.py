"""`registry worker`: the anchoring worker of `registry serve`, run alone from the CLI. It
anchors records left pending in the store and stops cleanly (exit 0) on SIGTERM or SIGINT."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from registry.cli import app
from registry.service.operator import Operator
from registry.service.queries import record_state
from registry.settings import load_settings

pytestmark = pytest.mark.anvil
PASS = "operator passphrase 42"
AGENCY = "Civil Registry Office"


@pytest.fixture(scope="module")
def data_env(anvil_node, tmp_path_factory):
    root = tmp_path_factory.mktemp("worker")
    env = {
        "REGISTRY_DATA_DIR": str(root / "data"),
        "REGISTRY_KEYSTORE_PASSPHRASE": PASS,
        "REGISTRY_BATCH_AGE": "0.2",
        "REGISTRY_API_WORKER_INTERVAL": "0.2",
        "REGISTRY_WEBHOOK_ALLOW_PRIVATE": "true",  # the test's receiver is on 127.0.0.1
        "REGISTRY_WEBHOOK_INTERVAL": "0.2",
    }
    runner = CliRunner()
    for args in (
        ["init", "--rpc", anvil_node.url],
        ["deploy", "--fund-from-dev"],
        ["agency", "create", AGENCY, "--fund-from-dev"],
    ):
        result = runner.invoke(app, args, env=env)
        assert result.exit_code == 0, result.output
    return env


def _operator(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Operator:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Operator.open(load_settings())


def _status(operator: Operator, digest: bytes) -> str:
    state = record_state(operator.store, digest)
    assert state is not None
    return state.status


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_worker_anchors_pending_records_and_stops_on_signal(data_env, monkeypatch, signum):
    operator = _operator(data_env, monkeypatch)
    try:
        issuer = operator.issuer(operator.agency(AGENCY), passphrase=PASS)
        digests = [hashlib.sha256(f"{signum.name} record {n}".encode()).digest() for n in range(3)]
        issuer.submit([(digest, "file", None) for digest in digests])
        assert {_status(operator, d) for d in digests} == {"pending"}

        registry = Path(sys.executable).with_name("registry")
        worker = subprocess.Popen(
            [str(registry), "worker"],
            env={**os.environ, **data_env},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            deadline = time.monotonic() + 60
            while {_status(operator, d) for d in digests} != {"anchored"}:
                assert worker.poll() is None, worker.communicate()[0]
                assert time.monotonic() < deadline, "the worker did not anchor in 60 s"
                time.sleep(0.2)
            worker.send_signal(signum)
            output, _ = worker.communicate(timeout=30)
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.communicate()
    finally:
        operator.close()
    assert worker.returncode == 0, output
    assert "Anchoring for registry" in output
    assert "anchoring worker stopped (1 batches anchored)" in output, output
    assert "Traceback" not in output


def test_worker_refuses_the_embedded_chain(tmp_path):
    result = CliRunner().invoke(
        app, ["worker"], env={"REGISTRY_DATA_DIR": str(tmp_path), "REGISTRY_RPC": "embedded"}
    )
    assert result.exit_code == 2, result.output
    assert "embedded chain" in result.output


def test_the_worker_delivers_the_webhooks_of_the_batches_it_confirms(data_env, monkeypatch):
    """An operator running `registry worker` without `registry serve` still gets its
    `records.anchored` deliveries: the outbox is emptied by the worker that fills it."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from threading import Thread

    from registry.service.keyring import Keyring
    from registry.service.webhooks import register_webhook

    got: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            got.append(self.rfile.read(int(self.headers.get("content-length", "0"))))
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    Thread(target=server.serve_forever, daemon=True).start()
    operator = _operator(data_env, monkeypatch)
    worker = None
    try:
        agency = operator.agency(AGENCY)
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        register_webhook(Keyring(operator, PASS), agency, url=url)
        digest = hashlib.sha256(b"a record announced by webhook").digest()
        operator.issuer(agency, passphrase=PASS).submit([(digest, "file", None)])
        registry = Path(sys.executable).with_name("registry")
        worker = subprocess.Popen(
            [str(registry), "worker"],
            env={**os.environ, **data_env},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while not any(digest.hex() in body.decode() for body in got):
            assert worker.poll() is None, "the worker stopped"
            assert time.monotonic() < deadline, "no delivery within 60 s"
            time.sleep(0.2)
    finally:
        if worker is not None:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=30)
        operator.close()
        server.shutdown()
        server.server_close()
