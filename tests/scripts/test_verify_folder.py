"""scripts/verify_folder.py: a folder of files + receipts and sealed documents, verified with
any node; exit 0 all valid, 1 something is not, 2 bad input, 3 node down."""

from __future__ import annotations

import json

import pytest
from scripts_helpers import ANVIL, issue_batch, run_script, url

from registry.chain.devnode import free_port

pytestmark = pytest.mark.anvil


def _verify(env, folder, *args):
    return run_script(
        "verify_folder.py",
        str(folder),
        "--rpc",
        url(env),
        "--registry",
        env.registry.address,
        *args,
    )


@ANVIL
def test_valid_folder_exit_0(chain_env, tmp_path):
    issued = issue_batch(chain_env, tmp_path / "docs")
    (issued.folder / "revoked.pdf").unlink()
    (issued.folder / "revoked.receipt.json").unlink()
    result = _verify(chain_env, issued.folder, "--json", str(tmp_path / "out.json"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "VALID      licence.pdf" in result.stdout
    assert "VALID      holder.sealed.json" in result.stdout
    data = json.loads((tmp_path / "out.json").read_text())
    assert {d["name"]: d["outcome"] for d in data} == {
        "licence.pdf": "VALID",
        "holder.sealed.json": "VALID",
    }


@ANVIL
def test_revoked_tampered_and_unpaired_exit_1(chain_env, tmp_path):
    issued = issue_batch(chain_env, tmp_path / "docs")
    (issued.folder / "licence.pdf").write_bytes(b"%PDF-1.7\nlicence 1, altered\n")
    (issued.folder / "no-receipt.pdf").write_bytes(b"%PDF")
    result = _verify(chain_env, issued.folder)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = {line.split()[1]: line.split()[0] for line in result.stdout.splitlines()[:-1]}
    assert lines == {
        "holder.sealed.json": "VALID",
        "licence.pdf": "TAMPERED",
        "no-receipt.pdf": "PROBLEM",
        "revoked.pdf": "REVOKED",
    }
    assert "receipt_missing" in result.stdout and "revoked: fraud" in result.stdout


@ANVIL
def test_receipt_alone_is_in_force_and_a_copied_root_changes_nothing(chain_env, tmp_path):
    """A receipt with no document is IN_FORCE (never VALID), exit 0; agency B anchoring and
    revoking A's root in its own namespace changes no verdict on A's documents."""
    issued = issue_batch(chain_env, tmp_path / "docs")
    (issued.folder / "revoked.pdf").unlink()
    (issued.folder / "revoked.receipt.json").unlink()
    (issued.folder / "licence.pdf").unlink()
    reg = chain_env.registry
    reg.anchor(chain_env.agency_b, root=issued.root, leaf_count=3)
    reg.revoke(chain_env.agency_b, root=issued.root, leaf=issued.root, proof=[], reason=3)
    result = _verify(chain_env, issued.folder)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = {line.split()[1]: line.split()[0] for line in result.stdout.splitlines()[:-1]}
    assert lines == {"holder.sealed.json": "VALID", "licence.pdf.receipt.json": "IN_FORCE"}
    assert "no document checked" in result.stdout


@ANVIL
def test_receipt_of_another_registry_is_untrusted(chain_env, tmp_path):
    from registry.chain import RegistryContract

    other, _ = RegistryContract.deploy(chain_env.w3, chain_env.admin)
    other.register_agency(
        chain_env.admin,
        account=chain_env.agency_a.address,
        name="Civil Registry Office",
        signing_key=b"\x01" * 32,
    )
    issued = issue_batch(chain_env, tmp_path / "docs", registry=other)
    result = _verify(chain_env, issued.folder)
    assert result.returncode == 1
    assert "forged_receipt" in result.stdout and "UNTRUSTED" in result.stdout


def test_help_has_an_example():
    result = run_script("verify_folder.py", "--help")
    assert result.returncode == 0 and "Example:" in result.stdout


@ANVIL
def test_bad_input_and_node_down(chain_env, tmp_path):
    issued = issue_batch(chain_env, tmp_path / "docs")
    no_folder = _verify(chain_env, tmp_path / "nothing-here")
    assert no_folder.returncode == 2 and "not a folder" in no_folder.stderr
    (tmp_path / "empty").mkdir()
    empty = _verify(chain_env, tmp_path / "empty")
    assert empty.returncode == 2 and "nothing to verify" in empty.stderr
    bad = run_script(
        "verify_folder.py", str(issued.folder), "--rpc", url(chain_env), "--registry", "0xzz"
    )
    assert bad.returncode == 2 and "not a 20-byte hex address" in bad.stderr
    down = run_script(
        "verify_folder.py",
        str(issued.folder),
        "--rpc",
        f"http://127.0.0.1:{free_port()}",
        "--registry",
        chain_env.registry.address,
    )
    assert down.returncode == 3 and "could not check" in down.stderr
