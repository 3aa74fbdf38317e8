"""`registry verify` on hostile files (issue 10): 200,000 levels of nesting get a clear answer,
never a crash (exit 139); a node URL holding a secret is in no part of the --json answer."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from registry import keys, merkle
from registry.receipt import build_receipt, receipt_to_json

SECRET = "SECRETKEY123"
REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
AGENCY = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
CHAIN_ID = 31337
DEEP = {
    "arrays": b"[" * 200_000,
    "objects": b'{"a":' * 100_000,
    "sealed": b'{"type": "SealedRecord", "x": ' + b"[" * 200_000,
}


def _registry(*args: str) -> subprocess.CompletedProcess[str]:
    """The CLI in a process of its own: a segfault is an exit code here, not a dead test run."""
    return subprocess.run(
        [sys.executable, "-c", "from registry.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def _node_args() -> list[str]:
    return ["--rpc", f"http://127.0.0.1:1/{SECRET}", "--registry", REGISTRY]


@pytest.mark.parametrize("kind", sorted(DEEP))
@pytest.mark.parametrize("role", ["document", "receipt"])
def test_deeply_nested_file_gets_an_answer_not_a_crash(
    tmp_path: Path, kind: str, role: str
) -> None:
    deep = tmp_path / "deep.json"
    deep.write_bytes(DEEP[kind])
    if role == "document":
        result = _registry("verify", str(deep), *_node_args())
    else:
        pdf = tmp_path / "file.pdf"
        pdf.write_bytes(b"%PDF-1.7\n")
        result = _registry("verify", str(pdf), "--receipt", str(deep), *_node_args())
    assert result.returncode in (1, 2), (result.returncode, result.stdout, result.stderr)
    said = " ".join((result.stdout + result.stderr).split())  # the table folds long reasons
    # A sealed document of ours that is too deep is TAMPERED (docs/receipt.md section 4); a
    # deep text that is not ours is a file without its receipt, or not a receipt.
    assert (
        ("TAMPERED" in said and result.returncode == 1)
        or "needs its receipt" in said
        or "not a RecordReceipt" in said
    ), said
    assert "Traceback" not in said


def _receipt_of(pdf: bytes) -> dict[str, object]:
    """A receipt that passes every offline check, so that the chain is asked."""
    key = keys.signing_key_from_seed(b"\x07" * 32)
    digests = [hashlib.sha256(pdf).digest(), b"\x01" * 32]
    tree = merkle.MerkleTree.from_digests(digests, [merkle.KIND_FILE, merkle.KIND_FILE])
    signature = keys.sign_root(
        key, chain_id=CHAIN_ID, registry=REGISTRY, agency=AGENCY, root=tree.root
    )
    receipt = build_receipt(
        digest=digests[0],
        digest_kind="file",
        root=tree.root,
        proof=tree.proof(0),
        count=2,
        chain_id=CHAIN_ID,
        registry=REGISTRY,
        agency=AGENCY,
        block_number=7,
        anchored_at=1_700_000_000,
        public_key=keys.public_key_bytes(key),
        signature=signature,
    )
    return receipt_to_json(receipt)


def test_node_url_secret_is_not_in_the_json_answer(tmp_path: Path) -> None:
    pdf = b"%PDF-1.7\nextract 9\n"
    (tmp_path / "extract.pdf").write_bytes(pdf)
    (tmp_path / "r.json").write_text(json.dumps(_receipt_of(pdf)))
    result = _registry(
        "verify",
        str(tmp_path / "extract.pdf"),
        "--receipt",
        str(tmp_path / "r.json"),
        "--chain-id",
        str(CHAIN_ID),
        "--json",
        *_node_args(),
    )
    assert result.returncode == 3, (result.stdout, result.stderr)  # could not check
    verdict = json.loads(result.stdout)
    assert verdict["outcome"] == "ERROR"
    errored = {c["reason"] for c in verdict["checks"] if c["status"] == "error"}
    assert errored == {"could not check: the registry's node could not be reached"}
    for leak in (SECRET, "127.0.0.1", "HTTPConnectionPool", "port=1"):
        assert leak not in result.stdout, leak
