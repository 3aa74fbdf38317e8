"""`registry audit` against a real anvil node and both stores: exit code 0 clean, 1 findings,
2 bad input, 3 could not check (node down); the JSON report names every finding."""

from __future__ import annotations

import json

import pytest
from audit_helpers import SQLITE, execute, issue_files, make_issuer, write_receipts

from registry.chain.devnode import free_port

pytestmark = pytest.mark.anvil
ANVIL = pytest.mark.parametrize("chain_env_session", ["anvil"], indirect=True)


def _url(store) -> str:
    return store.engine.url.render_as_string(hide_password=False)


def _audit(cli, env, *args):
    return cli(
        "audit",
        "--rpc",
        env.w3.provider.endpoint_uri,
        "--registry",
        env.registry.address,
        *args,
    )


@ANVIL
def test_clean_audit_exit_0(cli, chain_env, store, tmp_path):
    issuer = make_issuer(chain_env, store)
    issue_files(issuer, 25)
    write_receipts(issuer, tmp_path / "receipts")
    report = tmp_path / "audit.json"
    result = _audit(
        cli,
        chain_env,
        "--db",
        _url(store),
        "--receipts",
        str(tmp_path / "receipts"),
        "--log-span",
        "7",
        "--json",
        str(report),
    )
    assert result.exit_code == 0, result.output
    assert "CLEAN" in result.output and "anchored records" in result.output
    data = json.loads(report.read_text())
    assert data["outcome"] == "clean" and data["findings"] == []
    assert data["summary"]["store_records"] == 25 and data["summary"]["files_in_force"] == 25


@ANVIL
@SQLITE
def test_findings_exit_1_and_json_report(cli, chain_env, store, tmp_path):
    issuer = make_issuer(chain_env, store)
    digests = issue_files(issuer, 10)
    execute(store, "DELETE FROM records WHERE digest = :d", d=digests[4])
    report = tmp_path / "audit.json"
    result = _audit(cli, chain_env, "--db", _url(store), "--json", str(report))
    assert result.exit_code == 1, result.output
    assert "missing_record" in result.output and "FINDINGS" in result.output
    data = json.loads(report.read_text())
    assert data["outcome"] == "findings"
    assert [f["kind"] for f in data["findings"]] == ["missing_record"]


@ANVIL
@SQLITE
def test_chain_alone_exit_0(cli, chain_env, store):
    issuer = make_issuer(chain_env, store)
    issue_files(issuer, 3)
    result = _audit(cli, chain_env)
    assert result.exit_code == 0, result.output


def test_node_down_exit_3(cli, tmp_path):
    report = tmp_path / "audit.json"
    result = cli(
        "audit",
        "--rpc",
        f"http://127.0.0.1:{free_port()}",
        "--registry",
        "0x5FbDB2315678afecb367f032d93F642f64180aa3",
        "--json",
        str(report),
    )
    assert result.exit_code == 3, result.output
    assert "COULD NOT CHECK" in result.output
    data = json.loads(report.read_text())
    assert data["outcome"] == "could_not_check" and "cannot reach" in data["error"]


@ANVIL
def test_bad_input_exit_2(cli, chain_env, tmp_path):
    assert _audit(cli, chain_env, "--db", f"sqlite:///{tmp_path}/none.db").exit_code == 2
    assert _audit(cli, chain_env, "--log-span", "0").exit_code == 2
    result = cli("audit", "--rpc", chain_env.w3.provider.endpoint_uri, "--registry", "0x12")
    assert result.exit_code == 2 and "not a 20-byte hex address" in result.output
    result = cli("audit", "--registry", chain_env.registry.address)  # embedded: no node
    assert result.exit_code == 2


@ANVIL
def test_database_down_exit_3(cli, chain_env, tmp_path):
    report = tmp_path / "audit.json"
    down = f"postgresql://postgres@127.0.0.1:{free_port()}/registry"
    result = _audit(cli, chain_env, "--db", down, "--json", str(report))
    assert result.exit_code == 3, result.output
    assert json.loads(report.read_text())["outcome"] == "could_not_check"
