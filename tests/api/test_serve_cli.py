"""`registry serve` on the embedded chain says plainly that its anchors vanish and leaves no
store behind; it refuses a persistent store in that mode. `registry token create` makes admin
and agency tokens, shown once."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from registry.chain.devnode import free_port
from registry.cli import app as cli
from registry.store import add_agency, open_store


def test_serve_embedded_is_temporary(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "REGISTRY_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "200"}
    env.pop("REGISTRY_DATABASE_URL", None)
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from registry.cli import main; main()",
            "serve",
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.stdout.read() if server.stdout else ""
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "serve did not start"
            time.sleep(0.2)
        info = httpx.get(f"http://127.0.0.1:{port}/v1/info").json()
        assert info["mode"] == "embedded" and info["persistent"] is False
    finally:
        server.send_signal(signal.SIGINT)
        output, _ = server.communicate(timeout=60)
    text = " ".join(output.split())
    assert "VANISHES" in text and "deleted on exit" in text
    assert re.search(r"admin token: +prr_", text)
    store_dir = re.search(r"discarded \((\S+) deleted\)", text)
    assert store_dir is not None and not Path(store_dir.group(1)).exists()
    assert not (tmp_path / "data").exists()  # nothing written where a persistent store lives


def test_serve_embedded_refuses_a_persistent_store(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        ["serve"],
        env={
            "REGISTRY_DATA_DIR": str(tmp_path),
            "REGISTRY_DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
        },
    )
    assert result.exit_code == 2, result.output
    assert "embedded chain vanishes" in result.output


@pytest.fixture
def persistent(tmp_path: Path) -> dict[str, str]:
    data = tmp_path / "data"
    store = open_store(None, data_dir=data)
    with store.session() as session:
        add_agency(
            session,
            address="0x" + "11" * 20,
            name="Civil Registry Office",
            signing_public_key=b"\x01" * 32,
        )
    store.close()
    # A configured node (never contacted: tokens live in the store alone).
    return {"REGISTRY_DATA_DIR": str(data), "REGISTRY_RPC": "http://127.0.0.1:9"}


def test_token_commands(persistent: dict[str, str]) -> None:
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(cli, list(args), env=persistent)
        assert result.exit_code == code, result.output
        return result.output

    admin = run("token", "create", "--admin")
    assert re.search(r"^prr_\S+$", admin, re.MULTILINE) and "shown only this once" in admin
    agency = run("token", "create", "--agency", "Civil Registry Office", "--label", "issuing")
    token = re.search(r"^(prr_\S+)$", agency, re.MULTILINE)
    assert token is not None
    listed = run("token", "list")
    assert "issuing" in listed and token.group(1) not in listed
    run("token", "revoke", "2")
    assert "revoked" in run("token", "list")
    assert "exactly one" in run("token", "create", code=2)
    assert "no agency 'Nobody'" in run("token", "create", "--agency", "Nobody", code=2)
