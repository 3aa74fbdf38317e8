"""The operator's CLI story on a real anvil node: init, deploy, agency create, issue files /
JSON records / directories / JSON lines, status, receipt, verify (document and digest),
revoke and supersede, re-issue idempotently, and the bad inputs along the way."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from registry.cli import app

pytestmark = pytest.mark.anvil
PASS = "operator passphrase 42"


@pytest.fixture(scope="module")
def op(anvil_node, tmp_path_factory):
    root = tmp_path_factory.mktemp("operator")
    env = {"REGISTRY_DATA_DIR": str(root / "data"), "REGISTRY_KEYSTORE_PASSPHRASE": PASS}
    runner = CliRunner()

    def run(*args: str, code: int = 0):
        result = runner.invoke(app, list(args), env=env)
        assert result.exit_code == code, result.output
        assert "Traceback" not in result.output
        return result

    run("init", "--rpc", anvil_node.url)
    run("deploy", "--fund-from-dev")
    run("agency", "create", "Civil Registry Office", "--fund-from-dev")
    run("agency", "create", "Ministry of Education", "--fund-from-dev")
    inputs = root / "in"
    (inputs / "sub").mkdir(parents=True)
    (inputs / "birth-0001.pdf").write_bytes(b"%PDF-1.7 birth certificate 0001\n")
    (inputs / "sub" / "marriage.json").write_text(
        json.dumps({"type": "MarriageCertificate", "spouses": ["Ana", "Ben"], "date": "2026-05-01"})
    )
    (inputs / "many.jsonl").write_text('{"n": 1}\n\n{"n": 2}\n')
    run("issue", str(inputs), "--agency", "Civil Registry Office", "--out", str(root / "out"))
    return run, root


def last_json(result):
    return json.loads(result.output.strip().splitlines()[-1])


def test_issue_writes_receipts_and_sealed_documents(op):
    run, root = op
    names = sorted(p.name for p in (root / "out").iterdir())
    assert names == [
        "birth-0001.pdf.receipt.json",
        "many-0001.sealed.json",
        "many-0003.sealed.json",
        "marriage.sealed.json",
    ]
    status = last_json(run("status", "--json"))
    assert status["records"]["anchored"] >= 4 and status["records"]["pending"] == 0
    assert {a["name"] for a in status["agencies"]} == {
        "Civil Registry Office",
        "Ministry of Education",
    }


def test_verify_documents_and_digest(op):
    run, root = op
    out = root / "out"
    pdf = root / "in" / "birth-0001.pdf"
    for args in (
        [str(pdf), "--receipt", str(out / "birth-0001.pdf.receipt.json")],
        [str(out / "marriage.sealed.json")],
    ):
        assert last_json(run("verify", *args, "--json"))["outcome"] == "VALID", args
    typed = ["--digest", "0x" + hashlib.sha256(pdf.read_bytes()).hexdigest(), "--json"]
    assert last_json(run("verify", *typed, code=4))["outcome"] == "IN_FORCE"  # no document
    receipt = json.loads(run("receipt", "0x" + hashlib.sha256(pdf.read_bytes()).hexdigest()).output)
    assert receipt["type"] == "RecordReceipt" and receipt["digestKind"] == "file"


def test_reissue_is_idempotent(op):
    run, root = op
    before = last_json(run("status", "--json"))["records"]
    run(
        "issue", str(root / "in"), "--agency", "Civil Registry Office", "--out", str(root / "again")
    )
    assert last_json(run("status", "--json"))["records"] == before
    first = json.loads((root / "out" / "marriage.sealed.json").read_text())
    second = json.loads((root / "again" / "marriage.sealed.json").read_text())
    assert first["digest"] == second["digest"]  # same record, same salts, same digest


def test_supersede_then_verify(op):
    run, root = op
    old = json.loads((root / "out" / "many-0001.sealed.json").read_text())["digest"]
    new = json.loads((root / "out" / "many-0003.sealed.json").read_text())["digest"]
    run("revoke", old, "--agency", "Civil Registry Office", "--reason", "2", "--replacement", new)
    result = last_json(run("verify", str(root / "out" / "many-0001.sealed.json"), "--json", code=1))
    assert result["outcome"] == "SUPERSEDED" and result["replacement"] == new


def test_another_agency_cannot_revoke(op):
    run, root = op
    digest = json.loads((root / "out" / "marriage.sealed.json").read_text())["digest"]
    result = run("revoke", digest, "--agency", "Ministry of Education", "--reason", "3", code=2)
    assert "issued by this agency" in result.output and "#" not in result.output


def test_bad_inputs(op):
    run, root = op
    bad = root / "bad"
    bad.mkdir(exist_ok=True)
    (bad / "dup.json").write_text('{"a": 1, "a": 2}')
    result = run("issue", str(bad / "dup.json"), "--agency", "Civil Registry Office", code=2)
    assert "dup.json" in result.output and "duplicate key" in result.output
    result = run("issue", str(root / "in"), "--agency", "Nobody", code=2)
    assert "no agency 'Nobody'" in result.output
    result = run(
        "revoke", "0x" + "00" * 32, "--agency", "Civil Registry Office", "--reason", "1", code=2
    )
    assert "no record with digest" in result.output
    result = run("init", code=2)
    assert "already initialised" in result.output


def test_suspend_and_reinstate_reach_chain_and_store(op):
    run, root = op
    admin = str(root / "data" / "keys" / "admin.json")
    agencies = {a["name"]: a for a in last_json(run("status", "--json"))["agencies"]}
    ministry = agencies["Ministry of Education"]["address"]
    run("agency", "suspend", ministry, "--keystore", admin)
    agencies = {a["name"]: a for a in last_json(run("status", "--json"))["agencies"]}
    assert agencies["Ministry of Education"]["status"] == "suspended"
    listed = last_json(run("agency", "list", "--json"))["agencies"]
    assert {a["name"]: a["status"] for a in listed}["Ministry of Education"] == "suspended"
    run("agency", "reinstate", ministry, "--keystore", admin)
    agencies = {a["name"]: a for a in last_json(run("status", "--json"))["agencies"]}
    assert agencies["Ministry of Education"]["status"] == "active"


def test_bad_digests_are_one_line_errors(op):
    run, _ = op
    assert "DIGEST: '0xzz' is not hex" in run("receipt", "0xzz", code=2).output
    assert "expected 32 bytes" in run("receipt", "0x1234", code=2).output
    result = run("receipt", "0x" + "ab" * 32, code=2)
    assert "no record with digest" in result.output
    assert "--digest: expected 32 bytes" in run("verify", "--digest", "0x12", code=2).output
    unknown = last_json(run("verify", "--digest", "0x" + "ab" * 32, "--json", code=1))
    assert unknown["outcome"] == "UNKNOWN"  # the same answer the API gives


def test_authority_commands_rotate_compromise_move_revoke(op, anvil_node):
    """rotate-key keeps digests; compromise + move keep the identity; the authority revokes
    any record but never supersedes."""
    from web3 import HTTPProvider, Web3

    run, root = op
    before = json.loads((root / "out" / "marriage.sealed.json").read_text())["digest"]
    run("agency", "rotate-key", "Civil Registry Office")
    marriage = str(root / "in" / "sub" / "marriage.json")
    run("issue", marriage, "--agency", "Civil Registry Office", "--out", str(root / "rotated"))
    after = json.loads((root / "rotated" / "marriage.sealed.json").read_text())["digest"]
    assert after == before  # the salt secret survives the rotation

    now = Web3(HTTPProvider(anvil_node.url)).eth.get_block("latest")["timestamp"]
    since = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    run("agency", "compromise", "Ministry of Education", "--since", since)
    agencies = {a["name"]: a for a in last_json(run("status", "--json"))["agencies"]}
    assert agencies["Ministry of Education"]["status"] == "compromised"
    run("agency", "move", "Ministry of Education", "--fund-from-dev")
    moved = {a["name"]: a for a in last_json(run("status", "--json"))["agencies"]}
    ministry = moved["Ministry of Education"]
    assert ministry["status"] == "active" and ministry["account"] != ministry["address"]
    assert ministry["address"] == agencies["Ministry of Education"]["address"]

    receipt = json.loads((root / "out" / "birth-0001.pdf.receipt.json").read_text())
    refused = run("revoke", receipt["digest"], "--by-authority", "--reason", "2", code=2)
    assert "does not supersede" in refused.output
    done = run("revoke", receipt["digest"], "--by-authority", "--reason", "5")
    assert "revoked by the authority (court order)" in done.output


def test_issue_as_file_anchors_a_json_file_by_its_bytes(op):
    """A signed trust list is published as exact bytes: --as-file anchors their SHA-256."""
    run, root = op
    listed = root / "trust" / "alliance.json"
    listed.parent.mkdir()
    listed.write_text('{"LoTE": {"ListAndSchemeInformation": {}}, "proof": {}}\n')
    out = root / "trust-out"
    run("issue", str(listed), "--as-file", "--agency", "Civil Registry Office", "--out", str(out))
    receipt_file = out / "alliance.json.receipt.json"
    receipt = json.loads(receipt_file.read_text())
    assert receipt["digestKind"] == "file"
    assert receipt["digest"] == "0x" + hashlib.sha256(listed.read_bytes()).hexdigest()
    args = [str(listed), "--receipt", str(receipt_file), "--json"]
    assert last_json(run("verify", *args))["outcome"] == "VALID"
    listed.write_text(listed.read_text().replace("{}", '{"x": 1}', 1))  # one byte changed
    assert last_json(run("verify", *args, code=1))["outcome"] == "TAMPERED"
