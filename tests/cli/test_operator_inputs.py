"""The operator's and the auditor's bad moments of issue 16, each with the message it must
give, on a real anvil node (and PostgreSQL for the store's move): a second deploy, a store of
another registry, a store elsewhere (PostgreSQL) and the move to it, passphrases, the init hint,
the node down, output that copies whole, and the auditor's commands. Never a traceback."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from registry.cli import app
from registry.store.scratch import DEFAULT_PG_URL, scratch_schema

pytestmark = pytest.mark.anvil
PASS = "operator inputs passphrase"
AGENCY = "Civil Registry Office"
PG_URL = os.environ.get("REGISTRY_TEST_PG_URL", DEFAULT_PG_URL)
NARROW = {"COLUMNS": "40"}


class Operator:
    """A data directory on anvil, driven through the CLI in this process."""

    def __init__(self, root: Path, rpc: str) -> None:
        self.root = root
        self.rpc = rpc
        self.env = {
            "REGISTRY_DATA_DIR": str(root / "data"),
            "REGISTRY_KEYSTORE_PASSPHRASE": PASS,
            "REGISTRY_DATABASE_URL": None,
            "REGISTRY_RPC": None,
            "REGISTRY_REGISTRY_ADDRESS": None,
        }
        self.runner = CliRunner()
        self.registry = ""
        self.deployed_in = 0
        self.digests: dict[str, str] = {}

    def run(self, *args: str, code: int = 0, **env: str | None):
        result = self.runner.invoke(app, list(args), env={**self.env, **env})
        assert result.exit_code == code, (args, result.output)
        assert "Traceback" not in result.output
        return result

    def process(self, *args: str, **env: str | None) -> subprocess.CompletedProcess[str]:
        """The CLI in a process of its own, stdin not a terminal."""
        merged = {**os.environ, **{k: v for k, v in self.env.items() if v is not None}}
        for key, value in env.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        return subprocess.run(
            [sys.executable, "-c", "from registry.cli import main; main()", *args],
            capture_output=True,
            text=True,
            env=merged,
            stdin=subprocess.DEVNULL,
            timeout=300,
        )


@pytest.fixture(scope="module")
def op(anvil_node, tmp_path_factory) -> Operator:
    root = tmp_path_factory.mktemp("inputs")
    o = Operator(root, anvil_node.url)
    hint = o.run("init", "--rpc", anvil_node.url).output
    assert "registry deploy --fund-from-dev" in hint
    assert 'registry agency create "NAME" --fund-from-dev' in hint
    deployed = json.loads(o.run("deploy", "--fund-from-dev", "--json").stdout)
    o.registry, o.deployed_in = deployed["registry"], deployed["block"]
    o.run("agency", "create", AGENCY, "--fund-from-dev")
    inputs = root / "in"
    inputs.mkdir()
    (inputs / "birth.jsonl").write_text('{"child": "Ana"}\n{"child": "Ben"}\n{"child": "Cy"}\n')
    issued = o.run("issue", str(inputs), "--agency", AGENCY, "--out", str(root / "receipts"))
    for line in issued.stdout.splitlines():
        digest, _, file = line.partition("  ")
        if digest.startswith("0x"):
            o.digests[Path(file).name.split(".")[0]] = digest
    assert set(o.digests) == {"birth-0001", "birth-0002", "birth-0003"}, issued.output
    assert "issued 3 records" in issued.output
    return o


def test_issue_says_one_record_and_lists_its_digest(op: Operator, tmp_path: Path) -> None:
    pdf = tmp_path / "one.pdf"
    pdf.write_bytes(b"%PDF-1.7 one\n")
    result = op.run("issue", str(pdf), "--agency", AGENCY, "--out", str(tmp_path / "out"))
    assert "issued 1 record for" in result.output and "1 records" not in result.output
    assert result.stdout.split()[0].startswith("0x") and len(result.stdout.split()[0]) == 66


def test_a_second_deploy_is_refused_and_says_what_to_do(op: Operator) -> None:
    config = (op.root / "data" / "config.toml").read_text()
    result = op.run("deploy", "--fund-from-dev", code=2)
    assert "already names registry " + op.registry in result.output
    assert "nothing was deployed" in result.output and "REGISTRY_DATA_DIR" in result.output
    assert (op.root / "data" / "config.toml").read_text() == config
    op.run("deploy", "--fund-from-dev", "--replace", code=2)  # its store holds the records


def test_a_store_of_another_registry_names_the_way_out(op: Operator, tmp_path: Path) -> None:
    other = op.run(
        "deploy", "--rpc", op.rpc, "--keystore", str(op.root / "data" / "keys" / "admin.json"),
        "--json", REGISTRY_DATA_DIR=str(tmp_path / "other"),
    )  # fmt: skip
    address = json.loads(other.stdout)["registry"]
    result = op.run("status", code=2, REGISTRY_REGISTRY_ADDRESS=address)
    said = " ".join(result.output.split())
    assert "refusing to mix" in said and "set registry_address back" in said, said
    assert "REGISTRY_DATA_DIR" in said and "REGISTRY_DATABASE_URL" in said


def test_status_names_the_store_whole(op: Operator) -> None:
    result = op.run("status", **NARROW)
    lines = result.stdout.splitlines()
    store = next(line for line in lines if line.startswith("store"))
    assert store.split()[1].startswith("sqlite:///") and store.endswith("registry.db")
    assert any(op.registry in line for line in lines), result.stdout  # never wrapped
    shown = json.loads(op.run("status", "--json").stdout)
    assert shown["store"] == store.split()[1] and shown["registry"] == op.registry


def test_a_postgresql_store_is_named_and_the_store_moves_there(op: Operator) -> None:
    with scratch_schema(PG_URL, prefix="climove") as url:
        empty = json.loads(op.run("status", "--json", REGISTRY_DATABASE_URL=url).stdout)
        assert empty["store"].startswith("postgresql") and not any(empty["records"].values())
        assert "registry store migrate --to" in empty["note"]
        before = json.loads(op.run("status", "--json").stdout)
        moved = json.loads(op.run("store", "migrate", "--to", url, "--json").stdout)
        assert moved["rows"]["records"] == sum(before["records"].values())
        assert moved["rows"]["agencies"] == 1 and moved["target"].startswith("postgresql")
        after = json.loads(op.run("status", "--json", REGISTRY_DATABASE_URL=url).stdout)
        assert after["records"] == before["records"] and after["agencies"] == before["agencies"]
        assert after["store"] == moved["target"]
        again = op.run("store", "migrate", "--to", url, code=2)
        assert "is not empty" in again.output and "nothing was copied" in again.output


def test_an_empty_postgresql_store_has_no_agency(op: Operator) -> None:
    with scratch_schema(PG_URL, prefix="cliempty") as url:
        refused = op.run("issue", str(op.root / "in"), "--agency", AGENCY, code=2,
                         REGISTRY_DATABASE_URL=url)  # fmt: skip
        said = " ".join(refused.output.split())
        assert f"no agency '{AGENCY}' in this registry's store (postgresql" in said, said
        assert "`registry status` lists the agencies" in said


def test_passphrases_wrong_or_missing(op: Operator, tmp_path: Path) -> None:
    pdf = tmp_path / "p.pdf"
    pdf.write_bytes(b"%PDF-1.7 passphrase\n")
    wrong = op.process("issue", str(pdf), "--agency", AGENCY,
                       REGISTRY_KEYSTORE_PASSPHRASE="not the passphrase at all")  # fmt: skip
    assert wrong.returncode == 2 and "wrong passphrase" in wrong.stderr, wrong.stderr
    assert "--passphrase" not in wrong.stderr and "REGISTRY_KEYSTORE_PASSPHRASE" in wrong.stderr
    missing = op.process("issue", str(pdf), "--agency", AGENCY, REGISTRY_KEYSTORE_PASSPHRASE=None)
    assert missing.returncode == 2, missing.stderr
    assert "no passphrase: set REGISTRY_KEYSTORE_PASSPHRASE" in missing.stderr
    for noise in ("GetPassWarning", "Aborted", "Traceback"):
        assert noise not in missing.stdout + missing.stderr


def test_with_the_node_down_status_reports_and_issue_stores(op: Operator, tmp_path: Path) -> None:
    down = "http://127.0.0.1:1"
    status = op.run("status", code=3, REGISTRY_RPC=down)
    assert "chain not reachable" in status.stdout and "records" in status.stdout
    shown = json.loads(op.run("status", "--json", code=3, REGISTRY_RPC=down).stdout)
    assert shown["chainError"] and shown["records"]["anchored"] >= 3
    pdf = tmp_path / "late.pdf"
    pdf.write_bytes(b"%PDF-1.7 issued while the node was down\n")
    pending = op.run("issue", str(pdf), "--agency", AGENCY, "--json", "--out",
                     str(tmp_path / "out"), code=3, REGISTRY_RPC=down)  # fmt: skip
    assert json.loads(pending.stdout)["pending"] == 1
    assert "stored as pending" in pending.stderr and "registry worker" in pending.stderr
    assert json.loads(op.run("status", "--json").stdout)["records"]["pending"] >= 1
    op.run("issue", str(pdf), "--agency", AGENCY, "--out", str(tmp_path / "out"))  # node back
    assert (tmp_path / "out" / "late.pdf.receipt.json").is_file()
    assert json.loads(op.run("status", "--json").stdout)["records"]["pending"] == 0


def test_output_copies_whole(op: Operator) -> None:
    agencies = op.run("agency", "list", **NARROW).stdout
    listed = json.loads(op.run("agency", "list", "--json").stdout)["agencies"]
    for agency in listed:
        assert agency["address"] in agencies and agency["signingKey"] in agencies
    receipts = op.root / "receipts"
    old, new = op.digests["birth-0002"], op.digests["birth-0003"]
    op.run("revoke", old, "--agency", AGENCY, "--reason", "2", "--replacement", new)
    superseded = op.run("verify", str(receipts / "birth-0002.sealed.json"), code=1, **NARROW)
    assert "SUPERSEDED" in superseded.stdout
    assert any(new in line for line in superseded.stdout.splitlines()), superseded.stdout
    doc = json.loads((receipts / "birth-0001.sealed.json").read_text())
    doc["data"]["child"] = "Eve"
    altered = op.root / "altered.sealed.json"
    altered.write_text(json.dumps(doc))
    tampered = op.run("verify", str(altered), code=1)
    headline = tampered.stdout.strip().splitlines()[-1]
    assert headline.startswith("TAMPERED") and "issued by" not in headline, headline


def test_auditor_commands(op: Operator, tmp_path: Path) -> None:
    node = ["--rpc", op.rpc, "--registry", op.registry]
    old, new = op.digests["birth-0001"], op.digests["birth-0003"]
    op.run("revoke", old, "--agency", AGENCY, "--reason", "2", "--replacement", new)
    out = tmp_path / "export"
    op.run("export", *node, "--out", str(out), "--receipts", str(op.root / "receipts"))
    with (out / "revocations.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert old in {r["digest"] for r in rows}, rows  # by the digest receipts carry
    assert all(r["hash"] != r["digest"] for r in rows)
    folder = op.run("verify-folder", str(op.root / "receipts"), *node, code=1)
    line = next(x for x in folder.stdout.splitlines() if "birth-0001" in x)
    assert line.startswith("SUPERSEDED") and f"replaced by record {new}" in line, line
    db = str(op.root / "data" / "registry.db")
    audited = op.run("audit", *node, "--db", db, "--json", "-")
    assert json.loads(audited.stdout)["outcome"] == "clean"
    folder_db = op.run("audit", *node, "--db", str(op.root / "data"), code=2)
    assert "sqlite:///" in folder_db.output
    after = str(op.deployed_in + 1)
    deployed_after = op.run("export", *node, "--from-block", after, "--out", str(tmp_path / "e2"),
                            code=2)  # fmt: skip
    said = " ".join(deployed_after.output.split())
    assert f"its deployment block is {op.deployed_in}" in said, said
