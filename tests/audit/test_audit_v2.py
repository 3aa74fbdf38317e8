"""The audit speaks protocol v2: per-agency namespaces (a copied root is the copier's anchor),
compromise windows (anchors and revocations inside them void, reported as such), moves to a
new account, keys proposed from a stolen account, authority revocations, and replacements that
must be records of the same agency. Each fault is made on chain the way the attacker would."""

from __future__ import annotations

import json

from audit_helpers import (
    EMBEDDED,
    SQLITE,
    anchor_by_hand,
    execute,
    file_digest,
    kinds,
    of_kind,
    run_audit,
    store_agency,
)

from registry import keys
from registry.chain import new_account
from registry.chain.contract import Reason
from registry.merkle import KIND_FILE, MerkleTree
from registry.receipt import receipt_to_json
from registry.service import sandbox
from registry.service.audit import AuditOutcome, FindingKind
from registry.store import add_agency, repo


def _write_receipts(env, folder, tree, digests, key, *, prefix="r"):
    """One receipt per digest of an anchored file batch of agency A, as JSON files."""
    _, receipts = sandbox.anchor_by_hand(
        env.registry,
        account=env.agency_a,
        signing_key=key,
        digests=digests,
        kind="file",
        anchor=False,
    )
    assert receipts[0].merkle.root == tree.root
    folder.mkdir(parents=True, exist_ok=True)
    for i, receipt in enumerate(receipts):
        (folder / f"{prefix}{i}.receipt.json").write_text(json.dumps(receipt_to_json(receipt)))


def _latest(env) -> int:
    return int(env.w3.eth.get_block("latest")["timestamp"])


def _advance(env, seconds: int) -> None:
    """env.advance, from the pending block's time on eth-tester (whose clock an earlier test's
    time travel may have left ahead of the latest block after a snapshot revert)."""
    if env.kind == "anvil":
        env.advance(seconds)
        return
    now = max(_latest(env), int(env.w3.eth.get_block("pending")["timestamp"]))
    env.w3.provider.make_request("testing_timeTravel", [now + seconds])


def test_front_running_copy_gains_nothing_and_is_no_finding(chain_env, store, tmp_path):
    """Agency B copies A's root first and revokes "it" for fraud: A's batch is anchored in A's
    namespace, A's receipts stay in force, and A's store audits clean."""
    env, reg = chain_env, chain_env.registry
    agency_id, key = store_agency(env, store)
    digests = [file_digest("front", i) for i in range(5)]
    tree = MerkleTree.from_digests(digests, KIND_FILE)
    reg.anchor(env.agency_b, root=tree.root, leaf_count=5)  # B's copy lands first
    anchor_by_hand(env, store, agency_id, digests, key=key)  # A's own anchor still lands
    reg.revoke(env.agency_b, root=tree.root, leaf=tree.root, proof=[], reason=Reason.FRAUD)
    _write_receipts(env, tmp_path / "r", tree, digests, key)

    report = run_audit(env, store, receipts_dir=tmp_path / "r")

    assert report.outcome is AuditOutcome.CLEAN, report.findings
    s = report.summary
    assert s["anchors"] == 2 and s["revocations"] == 1
    assert s["files_in_force"] == 5 and s["files_revoked"] == 0


def test_theft_anchor_and_revocation_in_compromise_window_are_void(chain_env, store, tmp_path):
    """A thief with A's transaction key anchors a batch and revokes a genuine record; the
    authority marks A compromised since the theft and moves it to a new account. The audit
    reports the anchor and the revocation as void (once each, not as missing from the store),
    the thief's receipt as void, and A's earlier records stay in force."""
    env, reg = chain_env, chain_env.registry
    agency_id, key = store_agency(env, store)
    digests = [file_digest("genuine", i) for i in range(4)]
    _, tree = anchor_by_hand(env, store, agency_id, digests, key=key)
    _write_receipts(env, tmp_path / "r", tree, digests, key)
    _advance(env, 30)
    theft = _latest(env) + 1
    _advance(env, 1)
    stolen = [file_digest("stolen", i) for i in range(2)]
    thief_tree = MerkleTree.from_digests(stolen, KIND_FILE)
    reg.anchor(env.agency_a, root=thief_tree.root, leaf_count=2)
    _write_receipts(env, tmp_path / "r", thief_tree, stolen, key, prefix="thief")
    reg.revoke(
        env.agency_a,
        root=tree.root,
        leaf=tree.leaf(2),
        proof=tree.proof(2),
        reason=Reason.FRAUD,
    )
    _advance(env, 5)
    reg.mark_compromised(env.admin, env.agency_a.address, since=theft)
    moved_to = new_account()
    reg.move_agency(env.admin, env.agency_a.address, new_account=moved_to.address)
    execute(store, "UPDATE agencies SET account = :a", a=moved_to.address)

    report = run_audit(env, store, receipts_dir=tmp_path / "r")

    assert kinds(report) == {"anchor_in_compromise_window", "revocation_in_compromise_window"}
    a = env.agency_a.address
    subjects = {f.subject for f in of_kind(report, FindingKind.ANCHOR_IN_COMPROMISE_WINDOW)}
    assert subjects == {
        f"root 0x{thief_tree.root.hex()} by {a}",
        "thief0.receipt.json",
        "thief1.receipt.json",
    }
    (void_revocation,) = of_kind(report, FindingKind.REVOCATION_IN_COMPROMISE_WINDOW)
    assert void_revocation.subject == f"revocation 0x{tree.leaf(2).hex()} by {a}"
    assert "void" in void_revocation.detail
    s = report.summary
    assert s["anchors_void"] == 1 and s["revocations_void"] == 1
    assert s["compromise_windows"] == 1 and s["agency_moves"] == 1
    assert s["agencies_compromised"] == 0  # the move closed the window and reactivated it
    assert s["files_in_force"] == 4 and s["files_revoked"] == 0  # the void revocation ignored


@EMBEDDED
def test_key_proposed_from_a_compromised_account(chain_env):
    """The thief proposes its own key and the authority, not yet aware, confirms it; once the
    compromise is marked back to before the proposal, the audit names that key."""
    env, reg = chain_env, chain_env.registry
    _advance(env, 10)
    theft = _latest(env) + 1
    _advance(env, 1)
    thief_key = b"\x66" * 32
    reg.rotate_signing_key(env.agency_a, env.admin, thief_key)
    _advance(env, 5)
    reg.mark_compromised(env.admin, env.agency_a.address, since=theft)
    report = run_audit(env)
    (finding,) = report.findings
    assert finding.kind == FindingKind.KEY_PROPOSED_IN_COMPROMISE_WINDOW
    assert finding.subject == f"key 0x{thief_key.hex()} of {env.agency_a.address}"
    assert report.summary["agencies_compromised"] == 1


@EMBEDDED
@SQLITE
def test_replacement_not_a_record_of_the_same_agency(chain_env, store):
    """A supersedes around the operator naming a digest that is no record, and one that is
    agency B's record: both are named; a replacement that is A's pending record is fine."""
    env, reg = chain_env, chain_env.registry
    agency_id, key = store_agency(env, store)
    digests = [file_digest("superseded", i) for i in range(4)]
    _, tree = anchor_by_hand(env, store, agency_id, digests, key=key)
    b_record, a_pending = file_digest("b-record", 0), file_digest("a-pending", 0)
    with store.session() as session:
        b_id = add_agency(
            session,
            address=env.agency_b.address,
            name="Ministry of Education",
            signing_public_key=env.key_b,
        ).id
        repo.add_records(session, agency_id=b_id, items=[(b_record, "file", None)])
        repo.add_records(session, agency_id=agency_id, items=[(a_pending, "file", None)])
    for i, replacement in ((0, b"\x99" * 32), (1, b_record), (2, a_pending)):
        reg.revoke(
            env.agency_a,
            root=tree.root,
            leaf=tree.leaf(i),
            proof=tree.proof(i),
            reason=Reason.SUPERSEDED,
            replacement=replacement,
        )

    report = run_audit(env, store)

    found = {
        f.subject: f.detail for f in of_kind(report, FindingKind.REPLACEMENT_NOT_AGENCY_RECORD)
    }
    a = env.agency_a.address
    assert set(found) == {
        f"revocation 0x{tree.leaf(0).hex()} by {a}",
        f"revocation 0x{tree.leaf(1).hex()} by {a}",
    }
    assert "holds no record" in found[f"revocation 0x{tree.leaf(0).hex()} by {a}"]
    assert "another agency's record" in found[f"revocation 0x{tree.leaf(1).hex()} by {a}"]


@EMBEDDED
@SQLITE
def test_authority_revocation_checked_against_the_store(chain_env, store):
    """The authority revokes one of A's records by court order: counted, never void; missing
    from the store until the store records it as the authority's."""
    env, reg = chain_env, chain_env.registry
    agency_id, key = store_agency(env, store)
    digests = [file_digest("court", i) for i in range(3)]
    batch_id, tree = anchor_by_hand(env, store, agency_id, digests, key=key)
    reg.revoke_by_authority(
        env.admin,
        agency=env.agency_a.address,
        root=tree.root,
        leaf=tree.leaf(1),
        proof=tree.proof(1),
        reason=Reason.COURT_ORDER,
    )
    report = run_audit(env, store)
    (finding,) = report.findings
    assert finding.kind == FindingKind.REVOCATION_MISSING_IN_STORE
    assert finding.subject == f"revocation 0x{tree.leaf(1).hex()} by the authority"
    assert report.summary["revocations_by_authority"] == 1
    with store.session() as session:
        record = repo.record_by_digest(session, digests[1], agency_id=agency_id)
        rev = repo.add_revocation(
            session,
            agency_id=agency_id,
            batch_id=batch_id,
            hash=tree.leaf(1),
            reason=Reason.COURT_ORDER,
            record_id=record.id if record is not None else None,
            by_authority=True,
        )
        repo.confirm_revocation(session, rev.id, block_number=env.w3.eth.block_number)
    assert run_audit(env, store).outcome is AuditOutcome.CLEAN


@EMBEDDED
def test_receipt_signed_with_a_key_only_proposed(chain_env, tmp_path):
    """A thief's key proposed but never confirmed is no key of the agency."""
    env, reg = chain_env, chain_env.registry
    thief = keys.signing_key_from_seed(b"\x77" * 32)
    reg.propose_signing_key(env.agency_a, keys.public_key_bytes(thief))
    digests = [file_digest("proposed", i) for i in range(2)]
    tree = MerkleTree.from_digests(digests, KIND_FILE)
    reg.anchor(env.agency_a, root=tree.root, leaf_count=2)
    _write_receipts(env, tmp_path / "r", tree, digests, thief)
    report = run_audit(env, receipts_dir=tmp_path / "r")
    assert {f.kind for f in report.findings} == {FindingKind.KEY_NOT_OF_AGENCY}
    assert report.summary["signing_keys_pending"] == 1
