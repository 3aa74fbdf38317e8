"""`registry credential export` on a real anvil node, as an operator runs it: from a SEALED.json
and from a digest, verified with `registry verify`; still exportable (with the retired key
that signed the receipt) after a key rotation; refused for a redacted document, another
agency, or a file's digest; REVOKED once the record is revoked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from registry import record
from registry.cli import app
from registry.credential import read_credential

pytestmark = pytest.mark.anvil
PASS = "operator passphrase 42"
MARRIAGE = {"type": "MarriageCertificate", "spouses": ["Ana", "Ben"], "date": "2026-05-01"}


@pytest.fixture(scope="module")
def op(anvil_node, tmp_path_factory):
    root = tmp_path_factory.mktemp("credentials")
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
    inputs.mkdir()
    (inputs / "marriage.json").write_text(json.dumps(MARRIAGE))
    (inputs / "deed.pdf").write_bytes(b"%PDF-1.7 deed\n")
    run("issue", str(inputs), "--agency", "Civil Registry Office", "--out", str(root / "out"))
    return run, root


def verdict_of(run, path: Path, code: int = 0) -> dict:
    result = run("verify", str(path), "--json", code=code)
    return json.loads(result.output.strip().splitlines()[-1])


def test_export_from_a_sealed_document_and_from_a_digest(op) -> None:
    run, root = op
    sealed = root / "out" / "marriage.sealed.json"
    out = root / "marriage.credential.json"
    written = run("credential", "export", str(sealed), "--out", str(out))
    credential = json.loads(out.read_text())
    assert credential["id"] in written.output
    assert credential["credentialSubject"] == MARRIAGE
    assert credential["issuer"]["name"] == "Civil Registry Office"
    assert credential["evidence"][0]["document"] == json.loads(sealed.read_text())
    assert read_credential(credential).ok
    verdict = verdict_of(run, out)
    assert verdict["outcome"] == "VALID" and verdict["agencyName"] == "Civil Registry Office"
    assert [c["status"] for c in verdict["checks"] if c["name"] == "credential"] == ["pass"]

    digest = credential["credentialStatus"]["digest"]
    printed = json.loads(run("credential", "export", digest).output)
    assert printed["id"] == credential["id"]
    assert printed["evidence"] == credential["evidence"]


def test_refusals(op) -> None:
    run, root = op
    sealed = root / "out" / "marriage.sealed.json"
    document = record.parse_sealed_document(sealed.read_bytes())
    redacted = root / "marriage.redacted.json"
    redacted.write_text(json.dumps(record.to_json(record.redact(document, ["/date"]))))
    result = run("credential", "export", str(redacted), code=2)
    assert "redacted" in result.output and "whole record" in result.output
    other = run("credential", "export", str(sealed), "--agency", "Ministry of Education", code=2)
    assert "--agency" in other.output and "Civil Registry Office" in other.output
    deed = json.loads((root / "out" / "deed.pdf.receipt.json").read_text())
    file_digest = run("credential", "export", deed["digest"], code=2).output
    assert "is not a structured record" in file_digest
    missing = run("credential", "export", str(root / "nope.json"), code=2)
    assert "cannot read" in missing.output


def test_after_a_key_rotation_and_a_revocation(op) -> None:
    """A rotation retires the key file that signed the receipt; the export still signs with
    it (the receipt's key is what a verifier holds the proof to). Revoked: REVOKED."""
    run, root = op
    sealed = root / "out" / "marriage.sealed.json"
    run("agency", "rotate-key", "Civil Registry Office")
    out = root / "rotated.credential.json"
    run("credential", "export", str(sealed), "--out", str(out))
    assert verdict_of(run, out)["outcome"] == "VALID"
    digest = json.loads(out.read_text())["credentialStatus"]["digest"]
    run("revoke", digest, "--agency", "Civil Registry Office", "--reason", "4")
    assert verdict_of(run, out, code=1)["outcome"] == "REVOKED"
