"""scripts/export_registry.py: every anchor, revocation, agency and key to CSV, from the chain
alone; --help, and clear errors on bad input or a node that is down."""

from __future__ import annotations

import csv

import pytest
from scripts_helpers import ANVIL, issue_batch, run_script, url

from registry.chain import new_account
from registry.chain.contract import Reason
from registry.chain.devnode import free_port

pytestmark = pytest.mark.anvil


def _rows(path):
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


@ANVIL
def test_export_writes_every_anchor_and_revocation(chain_env, tmp_path):
    issued = issue_batch(chain_env, tmp_path / "docs")
    out = tmp_path / "export"
    result = run_script(
        "export_registry.py",
        "--rpc",
        url(chain_env),
        "--registry",
        chain_env.registry.address,
        "--out",
        str(out),
        "--log-span",
        "3",
    )
    assert result.returncode == 0, result.stderr
    (anchor,) = _rows(out / "anchors.csv")
    assert anchor["root"] == "0x" + issued.root.hex()
    assert anchor["agency"] == chain_env.agency_a.address and anchor["leaf_count"] == "3"
    assert anchor["agency_name"] == "Civil Registry Office" and anchor["anchored_at"]
    (revocation,) = _rows(out / "revocations.csv")
    assert revocation["hash"] == "0x" + issued.revoked_leaf.hex()
    assert revocation["scope"] == "record" and revocation["reason"] == "3"
    assert revocation["reason_text"] == "fraud" and revocation["replacement"] == ""
    assert {a["name"] for a in _rows(out / "agencies.csv")} == {
        "Civil Registry Office",
        "Ministry of Education",
    }
    keys = _rows(out / "keys.csv")
    assert len(keys) == 3 and sum(k["valid_until"] == "current" for k in keys) == 2
    assert "anchors.csv: 1 rows" in result.stdout


@ANVIL
def test_export_v2_compromise_move_authority_and_front_run(chain_env, tmp_path):
    """Per-agency facts: B's copy of A's root is B's anchor; the authority's revocation, A's
    compromise window (the anchor inside it void), its move, its status history, a key only
    proposed."""
    env, reg = chain_env, chain_env.registry
    issued = issue_batch(env, tmp_path / "docs")
    reg.anchor(env.agency_b, root=issued.root, leaf_count=3)  # B copies A's root
    reg.revoke_by_authority(
        env.admin,
        agency=env.agency_a.address,
        root=issued.root,
        leaf=issued.root,
        proof=[],
        reason=Reason.COURT_ORDER,
    )
    env.advance(30)
    theft = int(env.w3.eth.get_block("latest")["timestamp"]) + 1
    env.advance(1)
    thief_root = b"\x42" * 32
    reg.anchor(env.agency_a, root=thief_root, leaf_count=1)
    reg.propose_signing_key(env.agency_a, b"\x66" * 32)
    reg.mark_compromised(env.admin, env.agency_a.address, since=theft)
    new = new_account()
    reg.move_agency(env.admin, env.agency_a.address, new_account=new.address)
    reg.propose_signing_key(env.agency_b, b"\x67" * 32)  # left pending
    out = tmp_path / "export"
    result = run_script(
        "export_registry.py", "--rpc", url(env), "--registry", reg.address, "--out", str(out)
    )
    assert result.returncode == 0, result.stderr
    anchors = {(a["agency"], a["root"]): a for a in _rows(out / "anchors.csv")}
    root = "0x" + issued.root.hex()
    assert anchors[(env.agency_a.address, root)]["void_since"] == ""
    assert anchors[(env.agency_b.address, root)]["agency_name"] == "Ministry of Education"
    assert anchors[(env.agency_a.address, "0x" + "42" * 32)]["void_since"]
    by = {(r["by"], r["hash"]): r for r in _rows(out / "revocations.csv")}
    court = by[("authority", root)]
    assert court["scope"] == "batch" and court["reason_text"] == "court order"
    assert court["agency"] == env.agency_a.address
    agencies = {a["agency"]: a for a in _rows(out / "agencies.csv")}
    assert agencies[env.agency_a.address]["account"] == new.address
    assert agencies[env.agency_a.address]["status"] == "active"
    (window,) = _rows(out / "compromises.csv")
    assert window["agency"] == env.agency_a.address and window["until"] != "open"
    history = [
        h["status"]
        for h in _rows(out / "status_history.csv")
        if h["agency"] == env.agency_a.address
    ]
    assert history == ["active", "compromised", "active"]
    (move,) = _rows(out / "moves.csv")
    assert move["old_account"] == env.agency_a.address and move["new_account"] == new.address
    proposed = [k for k in _rows(out / "keys.csv") if k["state"] == "proposed"]
    # the thief's proposal was dropped by the compromise mark; B's stays pending
    assert [k["agency"] for k in proposed] == [env.agency_b.address]


def test_help_has_an_example():
    result = run_script("export_registry.py", "--help")
    assert result.returncode == 0 and "Example:" in result.stdout and "--out" in result.stdout


@ANVIL
def test_bad_input_and_node_down(chain_env, tmp_path):
    bad = run_script("export_registry.py", "--rpc", url(chain_env), "--registry", "0x12")
    assert bad.returncode == 2 and bad.stderr.startswith("error:") and "0x12" in bad.stderr
    not_registry = run_script(
        "export_registry.py", "--rpc", url(chain_env), "--registry", chain_env.admin.address
    )
    assert not_registry.returncode == 2 and "no contract" in not_registry.stderr
    (tmp_path / "file").write_text("x")
    out_is_file = run_script(
        "export_registry.py",
        "--rpc",
        url(chain_env),
        "--registry",
        chain_env.registry.address,
        "--out",
        str(tmp_path / "file"),
    )
    assert out_is_file.returncode == 2 and "not a folder" in out_is_file.stderr
    down = run_script(
        "export_registry.py",
        "--rpc",
        f"http://127.0.0.1:{free_port()}",
        "--registry",
        chain_env.registry.address,
    )
    assert down.returncode == 3 and "cannot reach" in down.stderr
    missing = run_script("export_registry.py", "--rpc", url(chain_env))
    assert missing.returncode == 2 and "--registry" in missing.stderr
