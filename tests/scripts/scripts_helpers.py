"""Helpers for the auditor-script tests: run a script as an auditor would (a subprocess, no
operator database), and an anchored batch with receipts on the test chain."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from registry import keys, record
from registry.chain.contract import Reason
from registry.merkle import KIND_FILE, KIND_RECORD, MerkleTree
from registry.receipt import build_receipt, receipt_to_json
from registry.service.issuing import seal_with_secret

ROOT_DIR = Path(__file__).resolve().parents[2]
ANVIL = pytest.mark.parametrize("chain_env_session", ["anvil"], indirect=True)
KEY = keys.signing_key_from_seed(b"\x5c" * 32)  # TEST ONLY


def run_script(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run scripts/NAME with this interpreter, as an auditor would, without REGISTRY_* set."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
    return subprocess.run(
        [sys.executable, str(ROOT_DIR / "scripts" / name), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT_DIR,
        timeout=120,
    )


def url(env) -> str:
    return str(env.w3.provider.endpoint_uri)


@dataclass
class Issued:
    """One anchored batch: a PDF, a sealed record, a revoked PDF; their receipts in `folder`."""

    folder: Path
    root: bytes
    revoked_leaf: bytes


def issue_batch(env, folder: Path, *, registry=None) -> Issued:
    """Anchor a batch of three documents on `registry` (default the test registry) as agency
    A, revoke the third, and write the documents and receipts into `folder`."""
    reg = registry or env.registry
    public = keys.public_key_bytes(KEY)
    if reg.agency_of(env.agency_a.address).signing_key != public:
        reg.rotate_signing_key(env.agency_a, env.admin, public)
    pdf, revoked_pdf = b"%PDF-1.7\nlicence 1\n", b"%PDF-1.7\nlicence 2 (revoked)\n"
    # Deterministic salts: the same batch (and root) on every deployment it is issued on.
    sealed = seal_with_secret(b"\x01" * 32, {"type": "Licence", "holder": {"name": "Ana"}})
    digests = [hashlib.sha256(pdf).digest(), bytes(sealed.digest)]
    digests.append(hashlib.sha256(revoked_pdf).digest())
    tree = MerkleTree.from_digests(digests, [KIND_FILE, KIND_RECORD, KIND_FILE])
    agency = env.agency_a.address
    signature = keys.sign_root(
        KEY, chain_id=reg.chain_id, registry=reg.address, agency=agency, root=tree.root
    )
    reg.anchor(env.agency_a, root=tree.root, leaf_count=3)
    anchor = reg.anchor_of(agency, tree.root)

    def receipt(i: int, kind: str):
        return build_receipt(
            digest=digests[i],
            digest_kind=kind,
            root=tree.root,
            proof=tree.proof(i),
            count=3,
            chain_id=reg.chain_id,
            registry=reg.address,
            agency=agency,
            block_number=anchor.block_number,
            anchored_at=anchor.anchored_at,
            public_key=public,
            signature=signature,
        )

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "licence.pdf").write_bytes(pdf)
    (folder / "licence.pdf.receipt.json").write_text(
        json.dumps(receipt_to_json(receipt(0, "file")))
    )
    doc = record.attach_receipt(sealed, receipt(1, "record"))
    (folder / "holder.sealed.json").write_text(json.dumps(record.to_json(doc)))
    (folder / "revoked.pdf").write_bytes(revoked_pdf)
    (folder / "revoked.receipt.json").write_text(json.dumps(receipt_to_json(receipt(2, "file"))))
    leaf = tree.leaf(2)
    reg.revoke(env.agency_a, root=tree.root, leaf=leaf, proof=tree.proof(2), reason=Reason.FRAUD)
    return Issued(folder, tree.root, leaf)
