"""scripts/compare_deployments.py: two deployments (a migration) compared from their event
logs: the same -> exit 0; an anchor, a revocation, an agency missing on one side -> exit 1."""

from __future__ import annotations

import json

import pytest
from scripts_helpers import ANVIL, KEY, issue_batch, run_script, url

from registry import keys
from registry.chain import RegistryContract
from registry.chain.devnode import free_port
from registry.merkle import KIND_FILE, MerkleTree

pytestmark = pytest.mark.anvil


def _migrated(env):
    """A second registry with the same agencies and keys, as a migration would set it up."""
    second, _ = RegistryContract.deploy(env.w3, env.admin)
    second.register_agency(
        env.admin,
        account=env.agency_a.address,
        name="Civil Registry Office",
        signing_key=env.key_a,
    )
    second.register_agency(
        env.admin, account=env.agency_b.address, name="Ministry of Education", signing_key=env.key_b
    )
    return second


def _compare(env, second, *args):
    return run_script(
        "compare_deployments.py",
        "--rpc-a",
        url(env),
        "--registry-a",
        env.registry.address,
        "--registry-b",
        second.address,
        *args,
    )


@ANVIL
def test_same_deployments_exit_0(chain_env, tmp_path):
    second = _migrated(chain_env)
    issue_batch(chain_env, tmp_path / "a")
    issue_batch(chain_env, tmp_path / "b", registry=second)
    result = _compare(chain_env, second, "--rpc-b", url(chain_env))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "the same" in result.stdout and "1 anchors, 1 revocations" in result.stdout


@ANVIL
def test_differences_exit_1(chain_env, tmp_path):
    second = _migrated(chain_env)
    issued = issue_batch(chain_env, tmp_path / "a")
    extra = MerkleTree.from_digests([b"\x01" * 32, b"\x02" * 32], KIND_FILE)
    second.rotate_signing_key(chain_env.agency_a, chain_env.admin, keys.public_key_bytes(KEY))
    second.anchor(chain_env.agency_a, root=extra.root, leaf_count=2)
    second.suspend_agency(chain_env.admin, chain_env.agency_b.address)
    result = _compare(chain_env, second, "--json", str(tmp_path / "diff.json"))
    assert result.returncode == 1, result.stdout + result.stderr
    data = json.loads((tmp_path / "diff.json").read_text())
    found = {(d["kind"], d["subject"]) for d in data["differences"]}
    a = chain_env.agency_a.address
    assert ("only_in_first", f"anchor 0x{issued.root.hex()} by {a}") in found
    assert ("only_in_second", f"anchor 0x{extra.root.hex()} by {a}") in found
    revocation = f"revocation 0x{issued.revoked_leaf.hex()} by {chain_env.agency_a.address}"
    assert ("only_in_first", revocation) in found
    assert ("differs", f"agency {chain_env.agency_b.address}") in found
    assert len(data["differences"]) == 4
    assert "4 differences" in result.stdout


def test_help_has_an_example():
    result = run_script("compare_deployments.py", "--help")
    assert (
        result.returncode == 0 and "Example:" in result.stdout and "--registry-b" in result.stdout
    )


@ANVIL
def test_bad_input_and_node_down(chain_env):
    missing = run_script("compare_deployments.py", "--rpc-a", url(chain_env))
    assert missing.returncode == 2 and "--registry-a" in missing.stderr
    bad = _compare(chain_env, chain_env.registry, "--rpc-b", "ftp://x")
    assert bad.returncode == 2 and "expected an http(s)" in bad.stderr
    down = _compare(chain_env, chain_env.registry, "--rpc-b", f"http://127.0.0.1:{free_port()}")
    assert down.returncode == 3 and "cannot reach" in down.stderr
