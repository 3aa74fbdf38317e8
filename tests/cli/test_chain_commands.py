"""CLI against a real anvil node: deploy, agencies, and every bad-input case of issue #2 as a
one-line error with a non-zero exit code (never a traceback)."""

from __future__ import annotations

import json

import pytest


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
