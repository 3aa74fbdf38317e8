"""The audit, one test per finding kind: each fault is made the way a dishonest or broken
operator would make it (a row changed or deleted behind the pipeline's back, a transaction
sent around the operator), and the audit must find it and name it in the report."""

from __future__ import annotations

import hashlib
import json

import pytest
from audit_helpers import (
    EMBEDDED,
    SQLITE,
    execute,
    file_digest,
    issue_files,
    kinds,
    make_issuer,
    of_kind,
    run_audit,
    write_receipts,
)
from sqlalchemy.exc import OperationalError

import registry.service.audit as audit_module
from registry import keys, record
from registry.chain import RegistryContract
from registry.chain.contract import Reason
from registry.chain.events import RegistryEvent
from registry.errors import ChainUnavailable, InvalidInput
from registry.merkle import KIND_FILE, MerkleTree, leaf_hash
from registry.receipt import build_receipt, receipt_to_json
from registry.service.audit import (
    AuditOutcome,
    ChainSnapshot,
    FindingKind,
    _replay_suspensions,
    audit_registry,
    read_registry,
)
from registry.service.issuing import seal_with_secret
from registry.service.revoking import revoke_record
from registry.store import repo
from registry.store.errors import WrongStore

# ------------------------------------------------------------------- clean audits


def test_clean_audit_every_chain_and_store(chain_env, store, tmp_path):
    """Records issued, one revoked, one superseded, the agency suspended and reinstated: clean."""
    issuer = make_issuer(chain_env, store)
    digests = issue_files(issuer, 25)
    revoke_record(
        store=store,
        registry=chain_env.registry,
        account=chain_env.agency_a,
        agency_id=issuer.agency_id,
        digest=digests[3],
        reason=Reason.FRAUD,
    )
    revoke_record(
        store=store,
        registry=chain_env.registry,
        account=chain_env.agency_a,
        agency_id=issuer.agency_id,
        digest=digests[4],
        reason=Reason.SUPERSEDED,
        replacement=digests[5],
    )
    chain_env.registry.suspend_agency(chain_env.admin, chain_env.agency_a.address)
    chain_env.registry.reinstate_agency(chain_env.admin, chain_env.agency_a.address)
    write_receipts(issuer, tmp_path / "receipts")

    report = run_audit(chain_env, store, receipts_dir=tmp_path / "receipts")

    assert report.outcome is AuditOutcome.CLEAN, report.findings
    s = report.summary
    assert s["anchors"] == 3 and s["anchored_records"] == 25 and s["revocations"] == 2
    assert s["store_batches"] == 3 and s["store_records"] == 25 and s["store_revocations"] == 2
    # receipts alone: in force at best, never VALID
    assert s["files_checked"] == 25 and s["files_in_force"] == 23 and s["files_revoked"] == 2
    assert s["files_valid"] == 0
    assert s["agencies"] == 2 and s["findings"] == 0
    assert report.outcome.exit_code == 0


@EMBEDDED
def test_chain_alone_rebuilds_what_the_views_say(chain_env, store):
    """Without a store: the event log is replayed into the same state the views return."""
    issuer = make_issuer(chain_env, store)
    issue_files(issuer, 12)
    snapshot = read_registry(chain_env.registry, span=2)
    reg = chain_env.registry
    for (agency, root), anchor in snapshot.state.anchors.items():
        assert reg.anchor_of(agency, root) == anchor
    for address, agency in snapshot.state.agencies.items():
        assert reg.agency_of(address) == agency
        assert reg.compromises_of(address) == snapshot.state.compromises[address]
        assert reg.status_history_of(address) == snapshot.state.status_history[address]
    for (agency, key), window in snapshot.state.keys.items():
        assert reg.key_of(agency, key) == window
    report = run_audit(chain_env, log_span=3)
    assert report.outcome is AuditOutcome.CLEAN and report.summary["anchors"] == 2


# ------------------------------------------------------------------- the store


@EMBEDDED
def test_tampered_record_row(chain_env, store):
    """A file digest changed in the database: the batch no longer recomputes to its root."""
    issuer = make_issuer(chain_env, store)
    digests = issue_files(issuer, 10)
    execute(
        store,
        "UPDATE records SET digest = :new WHERE digest = :old",
        new=file_digest("forged", 0),
        old=digests[6],
    )
    report = run_audit(chain_env, store)
    assert report.outcome is AuditOutcome.FINDINGS
    (finding,) = report.findings
    assert finding.kind == FindingKind.TAMPERED_RECORD
    assert finding.subject.startswith("batch #") and "recompute to root" in finding.detail


@EMBEDDED
@SQLITE
def test_tampered_structured_record_is_found(chain_env, store):
    """A structured record's digest changed: the batch no longer recomputes to its root. (Its
    sealed document is encrypted at rest with the agency's data key, which the auditor does not
    hold, so the finding names the batch, not the row.)"""
    issuer = make_issuer(chain_env, store, batch_size=4)
    docs = [seal_with_secret(b"\x01" * 32, {"n": i, "name": f"Ana {i}"}) for i in range(4)]
    issuer.submit([(bytes(d.digest), "record", record.sealed_json_bytes(d).decode()) for d in docs])
    issuer.drain()
    with store.session() as session:
        record_id = repo.record_by_digest(session, bytes(docs[2].digest)).id
    execute(store, "UPDATE records SET digest = :d WHERE id = :i", d=b"\x77" * 32, i=record_id)
    report = run_audit(chain_env, store)
    (finding,) = of_kind(report, FindingKind.TAMPERED_RECORD)
    assert finding.subject.startswith("batch") and "altered" in finding.detail
    assert record_id > 0


@EMBEDDED
def test_deleted_record(chain_env, store):
    issuer = make_issuer(chain_env, store)
    digests = issue_files(issuer, 10)
    execute(store, "DELETE FROM records WHERE digest = :d", d=digests[7])
    report = run_audit(chain_env, store)
    (finding,) = report.findings
    assert finding.kind == FindingKind.MISSING_RECORD
    assert "1 of 10 records missing" in finding.detail and "leaf index" in finding.detail


@EMBEDDED
@SQLITE
def test_deleted_record_a_citizen_holds_a_receipt_for(chain_env, store, tmp_path):
    """With receipts, the audit names the very record the store lost."""
    issuer = make_issuer(chain_env, store)
    digests = issue_files(issuer, 10)
    write_receipts(issuer, tmp_path / "r")
    execute(store, "DELETE FROM records WHERE digest = :d", d=digests[2])
    report = run_audit(chain_env, store, receipts_dir=tmp_path / "r")
    subjects = {f.subject for f in of_kind(report, FindingKind.MISSING_RECORD)}
    assert f"record 0x{digests[2].hex()}" in subjects


@EMBEDDED
@SQLITE
def test_misplaced_record(chain_env, store):
    issuer = make_issuer(chain_env, store)
    digests = issue_files(issuer, 10)
    execute(store, "UPDATE records SET leaf_index = 99 WHERE digest = :d", d=digests[0])
    report = run_audit(chain_env, store)
    assert kinds(report) == {"misplaced_record", "missing_record"}


@EMBEDDED
def test_root_on_chain_missing_from_store(chain_env, store):
    """The agency anchors a batch around the operator: the store has no such batch."""
    issuer = make_issuer(chain_env, store)
    issue_files(issuer, 10)
    tree = MerkleTree.from_digests([file_digest("off-the-books", i) for i in range(3)], KIND_FILE)
    chain_env.registry.anchor(chain_env.agency_a, root=tree.root, leaf_count=3)
    report = run_audit(chain_env, store)
    (finding,) = report.findings
    assert finding.kind == FindingKind.ROOT_NOT_IN_STORE
    assert finding.subject == f"root 0x{tree.root.hex()} by {chain_env.agency_a.address}"
    assert "3 records" in finding.detail


@EMBEDDED
@SQLITE
def test_confirmed_batch_not_on_chain(chain_env, store):
    """The store claims a batch confirmed that no Anchored event has."""
    issuer = make_issuer(chain_env, store)
    issue_files(issuer, 10)
    issuer.submit([(file_digest("ghost", i), "file", None) for i in range(4)])
    issuer.seal_batches(force=True)
    (batch_id,) = issuer.unfinished()
    head = chain_env.w3.eth.block_number
    with store.session() as session:
        repo.mark_submitted(session, batch_id, tx_hash=b"\x01" * 32, nonce=99, raw_tx=b"")
        repo.mark_anchored(
            session, batch_id, block_number=head, block_hash=b"\x02" * 32, anchored_at=1
        )
        repo.mark_confirmed(session, batch_id, confirmations=1)
    report = run_audit(chain_env, store)
    (finding,) = report.findings
    assert finding.kind == FindingKind.ROOT_NOT_ON_CHAIN
    assert finding.subject.startswith(f"batch #{batch_id} ")


@EMBEDDED
@SQLITE
def test_anchor_facts_differ(chain_env, store):
    issuer = make_issuer(chain_env, store)
    issue_files(issuer, 10)
    execute(store, "UPDATE batches SET block_number = block_number + 1000")
    report = run_audit(chain_env, store)
    assert kinds(report) == {"anchor_mismatch"}


@EMBEDDED
def test_revocation_missing_from_store(chain_env, store):
    """The agency revokes directly on chain: verifiers see it revoked, the store does not."""
    issuer = make_issuer(chain_env, store)
    digests = issue_files(issuer, 10)
    (batch_id,) = issuer.confirmed_batches()
    receipt = issuer.receipts(batch_id)[5]
    chain_env.registry.revoke(
        chain_env.agency_a,
        root=receipt.merkle.root,
        leaf=leaf_hash(KIND_FILE, digests[5]),
        proof=list(receipt.merkle.proof),
        reason=Reason.COURT_ORDER,
    )
    report = run_audit(chain_env, store)
    (finding,) = report.findings
    assert finding.kind == FindingKind.REVOCATION_MISSING_IN_STORE
    assert f"0x{leaf_hash(KIND_FILE, digests[5]).hex()}" in finding.subject
    assert "reason 5" in finding.detail


@EMBEDDED
@SQLITE
def test_revocation_missing_on_chain_and_mismatch(chain_env, store):
    issuer = make_issuer(chain_env, store)
    digests = issue_files(issuer, 10)
    (batch_id,) = issuer.confirmed_batches()
    revoke_record(
        store=store,
        registry=chain_env.registry,
        account=chain_env.agency_a,
        agency_id=issuer.agency_id,
        digest=digests[1],
        reason=Reason.ISSUED_IN_ERROR,
    )
    with store.session() as session:
        record = repo.record_by_digest(session, digests[2])
        rev = repo.add_revocation(
            session,
            agency_id=issuer.agency_id,
            batch_id=batch_id,
            hash=leaf_hash(KIND_FILE, digests[2]),
            reason=3,
            record_id=record.id,
        )
        repo.confirm_revocation(session, rev.id, block_number=1)
    execute(
        store,
        "UPDATE revocations SET reason = 4 WHERE hash = :h",
        h=leaf_hash(KIND_FILE, digests[1]),
    )
    report = run_audit(chain_env, store)
    assert kinds(report) == {"revocation_missing_on_chain", "revocation_mismatch"}
    (mismatch,) = of_kind(report, FindingKind.REVOCATION_MISMATCH)
    assert "reason on chain 1, in the store 4" in mismatch.detail


@EMBEDDED
@SQLITE
def test_agency_mismatch(chain_env, store):
    issuer = make_issuer(chain_env, store)
    issue_files(issuer, 10)
    execute(store, "UPDATE agencies SET status = 'suspended'")
    report = run_audit(chain_env, store)
    (finding,) = report.findings
    assert finding.kind == FindingKind.AGENCY_MISMATCH and "active on chain" in finding.detail


@EMBEDDED
@SQLITE
def test_batch_signature_invalid(chain_env, store):
    issuer = make_issuer(chain_env, store)
    issue_files(issuer, 10)
    execute(store, "UPDATE batches SET signature = :s", s=b"\x05" * 64)
    report = run_audit(chain_env, store)
    assert kinds(report) == {"signature_invalid"}


@EMBEDDED
def test_batch_and_receipt_signed_by_rotated_out_key(chain_env, store, tmp_path):
    """The agency rotates its key, then the operator keeps signing with the old one."""
    issuer = make_issuer(chain_env, store)
    chain_env.advance(5)
    new_key = keys.signing_key_from_seed(b"\x0b" * 32)
    chain_env.registry.rotate_signing_key(
        chain_env.agency_a, chain_env.admin, keys.public_key_bytes(new_key)
    )
    chain_env.advance(10)
    issue_files(issuer, 10)  # signed with the old key, anchored after the rotation
    write_receipts(issuer, tmp_path / "r")
    report = run_audit(chain_env, store, receipts_dir=tmp_path / "r")
    by_subject = {f.subject: f for f in of_kind(report, FindingKind.KEY_OUTSIDE_WINDOW)}
    assert len(by_subject) == 11  # the batch, and each of its 10 receipts
    batch_finding = next(f for s, f in by_subject.items() if s.startswith("batch #"))
    assert "but anchored at" in batch_finding.detail
    assert "b1-0.receipt.json" in by_subject
    # the store still names the old key as current: that is flagged too
    assert kinds(report) == {"key_outside_window", "agency_mismatch"}


@EMBEDDED
@SQLITE
def test_batch_signed_by_another_agencys_key(chain_env, store):
    issuer = make_issuer(chain_env, store)
    issue_files(issuer, 10)
    execute(store, "UPDATE batches SET signing_public_key = :k", k=chain_env.key_b)
    report = run_audit(chain_env, store)
    assert FindingKind.KEY_NOT_OF_AGENCY in kinds(report)


@EMBEDDED
@SQLITE
def test_store_claims_anchor_while_suspended(chain_env, store):
    issuer = make_issuer(chain_env, store)
    issue_files(issuer, 10)
    chain_env.advance(10)
    chain_env.registry.suspend_agency(chain_env.admin, chain_env.agency_a.address)
    suspended_at = chain_env.registry.agency_of(chain_env.agency_a.address).status_changed_at
    chain_env.advance(100)
    chain_env.registry.reinstate_agency(chain_env.admin, chain_env.agency_a.address)
    execute(store, "UPDATE batches SET anchored_at = :t", t=suspended_at + 50)
    report = run_audit(chain_env, store)
    assert FindingKind.ANCHORED_WHILE_SUSPENDED in kinds(report)
    assert FindingKind.ANCHOR_MISMATCH in kinds(report)  # the chain says otherwise


def test_event_order_anchor_while_suspended():
    """The contract refuses it, so only a broken log can show it; the replay still checks."""
    agency = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"

    def ev(name, n, **args):
        return RegistryEvent(name, args, n, 0, b"\0" * 32, 1_000 + n)

    events = [
        ev("AgencySuspended", 1, agency=agency),
        ev("Anchored", 2, root=b"\x01" * 32, agency=agency, leafCount=1),
        ev("AgencyReinstated", 3, agency=agency),
        ev("Anchored", 4, root=b"\x02" * 32, agency=agency, leafCount=1),
    ]
    snapshot = ChainSnapshot(agency, 1, 0, 4, state=None, events=events)  # type: ignore[arg-type]
    _replay_suspensions(snapshot)
    (finding,) = snapshot.findings
    assert finding.kind == FindingKind.ANCHORED_WHILE_SUSPENDED
    assert finding.subject == f"root 0x{'01' * 32} by {agency}"
    assert snapshot.suspensions[agency] == [(1_001, 1_003)]


# ------------------------------------------------------------------- receipts and documents


def _anchored_receipt(
    env, registry: RegistryContract, *, chain_id: int | None = None, tag: str = "copy", key=None
):
    """A receipt with a valid proof and signature (by `key`, default a key of seed 0x0c), for
    a root agency A anchored on `registry`."""
    key = key or keys.signing_key_from_seed(b"\x0c" * 32)
    agency = env.agency_a.address
    digests = [file_digest(tag, i) for i in range(4)]
    tree = MerkleTree.from_digests(digests, KIND_FILE)
    registry.anchor(env.agency_a, root=tree.root, leaf_count=4)
    anchor = registry.anchor_of(agency, tree.root)
    chain = chain_id or registry.chain_id
    return build_receipt(
        digest=digests[1],
        digest_kind="file",
        root=tree.root,
        proof=tree.proof(1),
        count=4,
        chain_id=chain,
        registry=registry.address,
        agency=agency,
        block_number=anchor.block_number,
        anchored_at=anchor.anchored_at,
        public_key=keys.public_key_bytes(key),
        signature=keys.sign_root(
            key, chain_id=chain, registry=registry.address, agency=agency, root=tree.root
        ),
    )


@EMBEDDED
def test_forged_receipts_other_registry_and_other_chain(chain_env, tmp_path):
    """Valid proofs, valid signatures, anchored on a look-alike registry or naming another
    chain id: forged or foreign receipts for the audited registry."""
    other, _ = RegistryContract.deploy(chain_env.w3, chain_env.admin)
    key = keys.signing_key_from_seed(b"\x0c" * 32)
    other.register_agency(
        chain_env.admin,
        account=chain_env.agency_a.address,
        name="Civil Registry Office",
        signing_key=keys.public_key_bytes(key),
    )
    folder = tmp_path / "receipts"
    folder.mkdir()
    look_alike = _anchored_receipt(chain_env, other)
    (folder / "look-alike.json").write_text(json.dumps(receipt_to_json(look_alike)))
    other_chain = _anchored_receipt(chain_env, chain_env.registry, chain_id=1)
    (folder / "chain-1.json").write_text(json.dumps(receipt_to_json(other_chain)))

    report = run_audit(chain_env, receipts_dir=folder)

    found = {f.subject: f for f in report.findings}
    assert set(found) == {"look-alike.json", "chain-1.json"}
    assert {f.kind for f in found.values()} == {FindingKind.FORGED_RECEIPT}
    assert other.address in found["look-alike.json"].detail
    assert "on chain 1," in found["chain-1.json"].detail
    assert "proof and signature are valid" in found["chain-1.json"].detail


@EMBEDDED
def test_documents_folder(chain_env, store, tmp_path):
    """A folder as a relying party keeps it: files with receipts, a sealed document; an altered
    file, a file without receipt, a receipt that is not JSON."""
    issuer = make_issuer(chain_env, store, batch_size=3)
    files = {f"doc{i}.pdf": f"%PDF-1.7 document {i}".encode() for i in range(2)}
    sealed = issuer.seal({"type": "Licence", "holder": "Ana"})
    items = [(hashlib.sha256(b).digest(), "file", None) for b in files.values()]
    items.append((bytes(sealed.digest), "record", None))
    issuer.submit(items)
    issuer.drain()
    (batch_id,) = issuer.confirmed_batches()
    receipts = issuer.receipts(batch_id)
    folder = tmp_path / "docs"
    folder.mkdir()
    for (name, content), receipt in zip(files.items(), receipts, strict=False):
        (folder / name).write_bytes(content)
        (folder / f"{name}.receipt.json").write_text(json.dumps(receipt_to_json(receipt)))
    doc = record.attach_receipt(sealed, receipts[2])
    (folder / "licence.sealed.json").write_text(json.dumps(record.to_json(doc)))
    assert run_audit(chain_env, documents_dir=folder).outcome is AuditOutcome.CLEAN

    (folder / "doc1.pdf").write_bytes(b"%PDF-1.7 document 1, altered")
    (folder / "orphan.pdf").write_bytes(b"no receipt")
    (folder / "broken.pdf").write_bytes(b"x")
    (folder / "broken.receipt.json").write_text("{not json")
    report = run_audit(chain_env, documents_dir=folder)
    found = {f.subject: str(f.kind) for f in report.findings}
    assert found == {
        "doc1.pdf": "tampered_document",
        "orphan.pdf": "receipt_missing",
        "broken.pdf": "receipt_invalid",
    }
    assert report.summary["files_checked"] == 5 and report.summary["files_valid"] == 2


@EMBEDDED
def test_receipt_for_a_root_never_anchored(chain_env, store, tmp_path):
    issuer = make_issuer(chain_env, store)
    issue_files(issuer, 10)
    write_receipts(issuer, tmp_path / "r")
    other = receipt_to_json(issuer.receipts(issuer.confirmed_batches()[0])[0])
    tree = MerkleTree.from_digests([file_digest("never", i) for i in range(2)], KIND_FILE)
    digest = file_digest("never", 0)
    other.update(digest="0x" + digest.hex(), leaf="0x" + leaf_hash(KIND_FILE, digest).hex())
    other["merkle"].update(root="0x" + tree.root.hex(), proof=["0x" + tree.proof(0)[0].hex()])
    other["merkle"].update(count=2)
    (tmp_path / "r" / "unknown.json").write_text(json.dumps(other))
    report = run_audit(chain_env, store, receipts_dir=tmp_path / "r")
    (finding,) = report.findings
    assert finding.kind == FindingKind.RECEIPT_INVALID and finding.subject == "unknown.json"
    assert "UNKNOWN" in finding.detail


def test_report_json_has_every_finding(chain_env, store, tmp_path):
    issuer = make_issuer(chain_env, store)
    issue_files(issuer, 20)
    execute(store, "DELETE FROM records WHERE leaf_index = 0")
    report = run_audit(chain_env, store)
    data = report.to_json()
    assert data["outcome"] == "findings" and data["findingsByKind"] == {"missing_record": 2}
    assert len(data["findings"]) == 2 and set(data["findings"][0]) == {"kind", "subject", "detail"}
    assert json.loads(json.dumps(data)) == data


@EMBEDDED
def test_from_block_after_deployment_is_refused(chain_env):
    head = chain_env.w3.eth.block_number
    with pytest.raises(InvalidInput, match="deployment block"):
        run_audit(chain_env, from_block=head)


@EMBEDDED
@SQLITE
def test_outage_mid_audit_is_could_not_check(chain_env, store, monkeypatch):
    """A node that stops answering during the event scan: no finding, COULD_NOT_CHECK (exit 3)."""
    issuer = make_issuer(chain_env, store)
    issue_files(issuer, 10)

    def failing_fetch(*args, **kwargs):
        yield from ()
        raise ChainUnavailable("eth_getLogs blocks 0-4999 failed after 5 tries: timeout")

    monkeypatch.setattr(audit_module.replay, "fetch_events", failing_fetch)
    report = run_audit(chain_env, store)
    assert report.outcome is AuditOutcome.COULD_NOT_CHECK and report.findings == ()
    assert report.outcome.exit_code == 3 and "failed after 5 tries" in report.error
    assert report.to_json()["outcome"] == "could_not_check"


@EMBEDDED
def test_progress_is_reported_per_phase(chain_env, store, tmp_path):
    issuer = make_issuer(chain_env, store)
    issue_files(issuer, 20)
    write_receipts(issuer, tmp_path / "r")
    seen: dict[str, tuple[int, int]] = {}
    run_audit(
        chain_env,
        store,
        receipts_dir=tmp_path / "r",
        log_span=2,
        progress=lambda phase, done, total: seen.__setitem__(phase, (done, total)),
    )
    assert seen["store"] == (20, 20) and seen["files"] == (20, 20)
    done, total = seen["events"]
    assert done == total == chain_env.w3.eth.block_number + 1


@EMBEDDED
@SQLITE
def test_to_block_audits_the_chain_as_it_was(chain_env, store):
    """Batches and revocations confirmed after --to-block are not findings: the audit is a
    repeatable snapshot of the chain at that block."""
    issuer = make_issuer(chain_env, store)
    issue_files(issuer, 10, tag="early")
    until = chain_env.w3.eth.block_number
    digests = issue_files(issuer, 10, tag="late")
    revoke_record(
        store=store,
        registry=chain_env.registry,
        account=chain_env.agency_a,
        agency_id=issuer.agency_id,
        digest=digests[0],
        reason=Reason.FRAUD,
    )
    report = run_audit(chain_env, store, to_block=until)
    assert report.outcome is AuditOutcome.CLEAN, report.findings
    assert report.to_block == until and report.summary["anchors"] == 1
    with pytest.raises(InvalidInput, match="--to-block"):
        run_audit(chain_env, to_block=chain_env.w3.eth.block_number + 5)


@EMBEDDED
@SQLITE
def test_database_lost_mid_audit_is_could_not_check(chain_env, store, monkeypatch):
    issuer = make_issuer(chain_env, store)
    issue_files(issuer, 10)

    def lost(session, batch_id):
        raise OperationalError("SELECT", {}, Exception("server closed the connection"))

    monkeypatch.setattr(audit_module.store_checks, "_batch_records", lost)
    report = run_audit(chain_env, store)
    assert report.outcome is AuditOutcome.COULD_NOT_CHECK and "stopped answering" in report.error


@EMBEDDED
@SQLITE
def test_store_of_another_registry_is_refused(chain_env, store):
    issuer = make_issuer(chain_env, store)
    issue_files(issuer, 3)
    other, _ = RegistryContract.deploy(chain_env.w3, chain_env.admin)
    with pytest.raises(WrongStore, match="not to the audited"):
        audit_registry(other, store=store)


@EMBEDDED
def test_a_file_nested_too_deep_to_parse_is_a_document_not_a_crash(chain_env, tmp_path):
    """100,000 levels of nesting in a receipts folder: json.loads would raise RecursionError
    (the audit died with it); the verifier's classifier reads it as a file."""
    folder = tmp_path / "receipts"
    folder.mkdir()
    (folder / "deep.json").write_bytes(b'{"a":' * 100_000)
    report = run_audit(chain_env, receipts_dir=folder)
    (finding,) = report.findings
    assert (finding.subject, finding.kind) == ("deep.json", FindingKind.RECEIPT_INVALID)
    assert finding.detail == "not a RecordReceipt JSON file"
