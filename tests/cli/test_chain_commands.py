"""CLI against a real anvil node: deploy, agencies, and every bad-input case of issue #2 as a
one-line error with a non-zero exit code (never a traceback); `registry node` stops cleanly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from registry.chain import connect
from registry.chain.devnode import free_port
from registry.errors import ChainUnavailable


@pytest.fixture
def admin_keystore(cli, tmp_path):
    path = tmp_path / "admin.json"
    result = cli("account", "new", str(path))
    assert result.exit_code == 0, result.output
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    return path


def _one_line_error(result, code: int, *needles: str) -> None:
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.mark.anvil
def test_deploy_register_list_on_anvil(cli, anvil_node, admin_keystore):
    deployed = cli(
        "deploy",
        "--rpc",
        anvil_node.url,
        "--keystore",
        str(admin_keystore),
        "--fund-from-dev",
        "--json",
    )
    assert deployed.exit_code == 0, deployed.output
    info = json.loads(deployed.output.strip().splitlines()[-1])
    assert info["chainId"] == 31337 and info["registry"].startswith("0x")
    common = ["--rpc", anvil_node.url, "--registry", info["registry"]]
    agency = "0x" + "ab" * 20
    added = cli(
        "agency",
        "add",
        agency,
        "--name",
        "Land Office",
        "--signing-key",
        "0x" + "11" * 32,
        "--keystore",
        str(admin_keystore),
        *common,
    )
    assert added.exit_code == 0, added.output
    listed = cli("agency", "list", *common, "--json")
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.output.strip().splitlines()[-1])["agencies"]
    assert [(r["name"], r["status"]) for r in rows] == [("Land Office", "active")]
    suspended = cli(
        "agency", "suspend", rows[0]["address"], "--keystore", str(admin_keystore), *common
    )
    assert suspended.exit_code == 0, suspended.output
    again = cli("agency", "suspend", rows[0]["address"], "--keystore", str(admin_keystore), *common)
    _one_line_error(again, 1, "AgencyNotActive")
    wrong_chain = cli("agency", "list", *common, "--chain-id", "1")
    _one_line_error(wrong_chain, 2, "chain id 31337", "expected 1")


def test_wrong_rpc_url_is_one_line_exit_3(cli):
    result = cli("agency", "list", "--rpc", "http://127.0.0.1:1", "--registry", "0x" + "12" * 20)
    _one_line_error(result, 3, "cannot reach the JSON-RPC node at http://127.0.0.1:1")


def test_malformed_rpc_url(cli):
    result = cli("bench", "gas", "--rpc", "localhost:8545")
    _one_line_error(result, 2, "http(s)://")


@pytest.mark.anvil
def test_chain_without_registry(cli, anvil_node):
    result = cli("agency", "list", "--rpc", anvil_node.url, "--registry", "0x" + "12" * 20)
    _one_line_error(result, 2, "no contract at", "--registry")


def test_wrong_keystore_passphrase(cli, admin_keystore, anvil_node):
    result = cli(
        "deploy",
        "--rpc",
        anvil_node.url,
        "--keystore",
        str(admin_keystore),
        env={"REGISTRY_KEYSTORE_PASSPHRASE": "not the passphrase"},
    )
    _one_line_error(result, 2, "wrong passphrase", str(admin_keystore))


def test_missing_keystore(cli, tmp_path, anvil_node):
    result = cli("deploy", "--rpc", anvil_node.url, "--keystore", str(tmp_path / "nope.json"))
    _one_line_error(result, 2, "keystore file not found")


def test_deploy_refuses_embedded(cli, admin_keystore):
    result = cli("deploy", "--keystore", str(admin_keystore))
    _one_line_error(result, 2, "embedded chain would vanish")


def test_account_new_refuses_to_overwrite(cli, admin_keystore):
    _one_line_error(cli("account", "new", str(admin_keystore)), 2, "already exists")


def test_bad_hex_argument(cli):
    result = cli(
        "agency",
        "add",
        "0x" + "ab" * 20,
        "--name",
        "X",
        "--signing-key",
        "0xzz",
        "--keystore",
        "k.json",
        "--rpc",
        "http://127.0.0.1:1",
        "--registry",
        "0x" + "12" * 20,
    )
    _one_line_error(result, 2, "--signing-key", "not hex")


def _start_registry_node(data_dir: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    """`registry node --port PORT` as a child process, answering JSON-RPC when returned."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from registry.cli import main; main()",
            "node",
            "--port",
            str(port),
        ],
        env={**os.environ, "REGISTRY_DATA_DIR": str(data_dir)},
        stdin=subprocess.DEVNULL,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            connect(f"http://127.0.0.1:{port}", timeout=1)
            return process
        except ChainUnavailable:
            time.sleep(0.1)
    process.kill()
    pytest.fail(f"registry node did not answer within 30 s:\n{log.read_text()}")


def _stopped_within(process: subprocess.Popen[bytes], seconds: float, log: Path) -> int:
    try:
        return process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        pytest.fail(f"registry node still running {seconds} s after the signal:\n{log.read_text()}")


@pytest.mark.anvil
def test_registry_node_stops_cleanly_on_sigterm_and_sigint(tmp_path):
    """SIGTERM (a service manager) and SIGINT (Ctrl-C) reach anvil through the wrapper, which
    waits for it and exits 0 within seconds; the chain is saved and reloaded on restart."""
    data_dir, port, log = tmp_path / "data", free_port(), tmp_path / "node.log"
    url = f"http://127.0.0.1:{port}"
    node = _start_registry_node(data_dir, port, log)
    w3 = connect(url)
    for _ in range(3):
        w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    mined = w3.eth.block_number
    assert mined >= 3
    node.send_signal(signal.SIGTERM)
    assert _stopped_within(node, 5, log) == 0, log.read_text()
    assert "state saved" in log.read_text()
    with pytest.raises(ChainUnavailable):  # anvil went down with the wrapper
        connect(url, timeout=1)
    assert (data_dir / "anvil-state.json").is_file()

    again = _start_registry_node(data_dir, port, log)
    assert connect(url).eth.block_number == mined  # the state file was reloaded
    again.send_signal(signal.SIGINT)
    assert _stopped_within(again, 5, log) == 0, log.read_text()
