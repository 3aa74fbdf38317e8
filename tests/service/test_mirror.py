"""The registry mirror (registry.service.mirror): the contract's events followed into the store
answer `check()`, `keyOf` and the agency's name exactly as the contract does, "as of block N";
a stale mirror, or a receipt beyond it, is answered by the node; a re-organisation is detected
by the parent hash and rewound (anvil_reorg); one process follows while others read.
On the embedded chain and anvil, SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import hashlib
import time

import pytest
from test_verify import KEY_A, issue_batch, trusted

from registry import keys
from registry.chain.contract import Reason
from registry.chain.events import fetch_events
from registry.receipt import Receipt
from registry.service.chain_reader import CachingChainReader
from registry.service.mirror import MirrorAnswer, RegistryMirror
from registry.service.sandbox import anchor_by_hand
from registry.service.verify import Outcome, verify_receipt
from registry.store import Store, open_store
from registry.store.mirror import mirror_blocks_from, mirror_cursor


@pytest.fixture
def env(chain_env):
    chain_env.registry.rotate_signing_key(
        chain_env.agency_a, chain_env.admin, keys.public_key_bytes(KEY_A)
    )
    return chain_env


def live(env, receipt: Receipt):
    return env.registry.check(
        agency=receipt.anchor.agency,
        leaf=receipt.leaf,
        proof=list(receipt.merkle.proof),
        root=receipt.merkle.root,
    )


def plain(answer) -> dict:
    """A CheckResult's fields, whichever class carries them."""
    fields = [f.name for f in dataclasses.fields(answer) if f.name != "as_of_block"]
    return {name: getattr(answer, name) for name in fields}


@pytest.fixture
def made() -> list[RegistryMirror]:
    """Every mirror a test made; their leases are given back after it."""
    mirrors: list[RegistryMirror] = []
    yield mirrors
    for mirror in mirrors:
        mirror.release()


@pytest.fixture
def mirror_of(made):
    def make(env, store: Store, **kw) -> RegistryMirror:
        mirror = RegistryMirror(store, env.registry, **kw)
        made.append(mirror)
        return mirror

    return make


def following_reader(env, mirror: RegistryMirror) -> CachingChainReader:
    """A server's reader over `mirror`, synced: the first sync follows and (first look) waits
    for the mirror to reach the head, the second gets it there."""
    reader = CachingChainReader(
        registry_for=lambda chain_id, address: env.registry, watched=env.registry, mirror=mirror
    )
    reader.sync()
    reader.sync()
    return reader


def test_mirror_answers_every_check_as_the_contract_does(env, store, mirror_of):
    """Anchored, a revoked record, a superseded one, a revoked batch, an unknown root, a
    suspended agency, a rotated key: the mirror's answer equals the live check() field by
    field, and says the block it is as of."""
    reg, a = env.registry, env.agency_a
    first = issue_batch(env, count=4, tag="first")
    second = issue_batch(env, count=2, tag="second")
    r0, r1, r2 = first.receipts[:3]
    reg.revoke(
        a, root=r1.merkle.root, leaf=r1.leaf, proof=r1.merkle.proof, reason=Reason.ISSUED_IN_ERROR
    )
    reg.revoke(
        a,
        root=r2.merkle.root,
        leaf=r2.leaf,
        proof=r2.merkle.proof,
        reason=Reason.SUPERSEDED,
        replacement=b"\x42" * 32,
    )
    root2 = second.receipts[0].merkle.root
    reg.revoke(a, root=root2, leaf=root2, proof=[], reason=Reason.ISSUED_IN_ERROR)
    reg.suspend_agency(env.admin, a.address)

    mirror = mirror_of(env, store)
    assert mirror.follow() > 0
    head = env.w3.eth.block_number
    for receipt in [r0, r1, r2, second.receipts[1]]:
        answer = mirror.check(receipt)
        assert isinstance(answer, MirrorAnswer)
        assert answer.as_of_block == head
        assert plain(answer) == plain(live(env, receipt))
    assert mirror.check(r1).leaf_revocation.revoked
    assert mirror.check(second.receipts[1]).root_revocation.revoked
    assert mirror.key_window(a.address, keys.public_key_bytes(KEY_A)) == reg.key_of(
        a.address, keys.public_key_bytes(KEY_A)
    )
    old_key = env.key_a
    assert mirror.key_window(a.address, old_key) == reg.key_of(a.address, old_key)
    assert mirror.key_window(a.address, b"\x77" * 32).agency is None
    assert mirror.agency_name(a.address) == reg.agency_of(a.address).name


def test_root_never_anchored_is_not_anchored_as_of_the_mirrors_block(env, store, mirror_of):
    issued = issue_batch(env, count=2, tag="real")
    mirror = mirror_of(env, store)
    mirror.follow()
    forged = dataclasses.replace(
        issued.receipts[0],
        merkle=dataclasses.replace(issued.receipts[0].merkle, root=b"\x13" * 32),
    )
    answer = mirror.check(forged)
    assert answer is not None and answer.anchor.agency is None
    assert plain(answer) == plain(live(env, forged))


def test_compromise_window_voids_anchors_in_the_mirror_too(env, store, mirror_of):
    env.advance(5)
    issued = issue_batch(env, count=2, tag="stolen")
    anchored_at = issued.receipts[0].anchor.anchored_at_unix
    env.registry.mark_compromised(env.admin, env.agency_a.address, since=anchored_at)
    mirror = mirror_of(env, store)
    mirror.follow()
    answer = mirror.check(issued.receipts[0])
    assert answer is not None and answer.void_since == anchored_at
    assert plain(answer) == plain(live(env, issued.receipts[0]))


def test_receipt_beyond_the_mirror_and_a_stale_mirror_ask_the_node(env, store, mirror_of):
    mirror = mirror_of(env, store, max_lag=0.5, snapshot_ttl=0.0)
    mirror.follow()
    later = issue_batch(env, count=1, tag="later")
    assert mirror.check(later.receipts[0]) is None  # anchored after the mirror's block
    mirror.follow()
    assert mirror.check(later.receipts[0]) is not None
    time.sleep(0.6)  # nobody follows: the mirror goes stale
    assert mirror.current() is None and mirror.check(later.receipts[0]) is None


def test_verdicts_through_the_reader_say_as_of_block_and_agree_with_the_node(env, store, mirror_of):
    issued = issue_batch(env, count=3, tag="verdicts")
    r = issued.receipts[1]
    env.registry.revoke(
        env.agency_a,
        root=r.merkle.root,
        leaf=r.leaf,
        proof=r.merkle.proof,
        reason=Reason.ISSUED_IN_ERROR,
    )
    mirror = mirror_of(env, store)
    reader = following_reader(env, mirror)
    plain_reader = CachingChainReader(registry_for=lambda chain_id, address: env.registry)
    for receipt in issued.receipts:
        mirrored = verify_receipt(receipt, trusted=trusted(env), reader=reader)
        asked = verify_receipt(receipt, trusted=trusted(env), reader=plain_reader)
        head = env.w3.eth.block_number
        assert (mirrored.as_of_block, mirrored.chain_source) == (head, "mirror")
        assert (asked.as_of_block, asked.chain_source) == (head, "node")
        assert dataclasses.replace(mirrored, chain_source="node") == asked
    assert verify_receipt(r, trusted=trusted(env), reader=reader).outcome is Outcome.REVOKED


def test_a_change_made_elsewhere_shows_after_the_next_follow(env, store, mirror_of):
    """The stale-VALID case: a verdict cached by the reader, a revocation sent by someone else
    (not this server), one follow later the verdict is REVOKED."""
    issued = issue_batch(env, count=2, tag="elsewhere")
    receipt = issued.receipts[0]
    reader = following_reader(env, mirror_of(env, store))
    assert verify_receipt(receipt, trusted=trusted(env), reader=reader).outcome is Outcome.IN_FORCE
    generation = reader.generation
    env.registry.revoke(
        env.agency_a,
        root=receipt.merkle.root,
        leaf=receipt.leaf,
        proof=receipt.merkle.proof,
        reason=Reason.ISSUED_IN_ERROR,
    )
    assert reader.sync() == 1  # the one Revoked event, applied and seen
    assert reader.generation > generation  # whole cached answers are dropped too
    verdict = verify_receipt(receipt, trusted=trusted(env), reader=reader)
    assert verdict.outcome is Outcome.REVOKED
    assert verdict.as_of_block == env.w3.eth.block_number


def test_catching_up_in_small_spans_stores_every_event_once(env, store, mirror_of):
    issue_batch(env, count=2, tag="span")
    mirror = mirror_of(env, store, span=2)
    applied = mirror.follow()
    deployed_events = list(fetch_events(env.registry))
    assert applied == len(deployed_events)
    with store.session() as session:
        cursor = mirror_cursor(session)
    assert cursor is not None and cursor.block_number == env.w3.eth.block_number
    assert cursor.block_hash == bytes(env.w3.eth.get_block(cursor.block_number)["hash"])
    assert mirror.follow() == 0  # nothing new: nothing applied twice


def test_confirmations_keep_the_newest_blocks_out_of_the_mirror(env, store, mirror_of):
    mirror = mirror_of(env, store, confirmations=3)
    mirror.follow()
    issued = issue_batch(env, count=1, tag="young")
    mirror.follow()
    assert mirror.check(issued.receipts[0]) is None  # 1 of 3 confirmations: ask the node
    env.mine(2)
    mirror.follow()
    answer = mirror.check(issued.receipts[0])
    assert answer is not None and answer.anchor.agency is not None


def test_one_process_follows_the_other_reads(env, tmp_path, mirror_of):
    """Two mirrors on one SQLite file (two server processes): only the lease holder writes;
    the other answers from what it wrote."""
    first = open_store(None, data_dir=tmp_path / "data")
    second = open_store(None, data_dir=tmp_path / "data")
    try:
        issued = issue_batch(env, count=1, tag="shared")
        leader, reader = mirror_of(env, first), mirror_of(env, second)
        assert leader.follow() > 0 and leader.leading
        assert reader.follow() == 0 and not reader.leading
        assert reader.check(issued.receipts[0]) is not None
        leader.release()
        assert reader.follow() == 0 and reader.leading  # takes over once the lease is free
    finally:
        first.close()
        second.close()


# ------------------------------------------------------------------ re-organisation (anvil)


@pytest.mark.anvil
@pytest.mark.parametrize("then_mined", [0, 2])
def test_reorg_is_detected_and_the_mirror_rewound(fault_env, sqlite_store, mirror_of, then_mined):
    """The block holding a revocation is replaced by an empty one (anvil_reorg). With the head
    where it was, the cursor block's hash no longer matches; with blocks mined after, the next
    page's parent hash does not: either way the mirror rewinds to the common ancestor, drops
    the revocation, and answers as the chain now does."""
    env = fault_env
    _, receipts = anchor_by_hand(
        env.registry,
        account=env.agency_a,
        signing_key=KEY_A,
        digests=[hashlib.sha256(f"reorg {i}".encode()).digest() for i in range(3)],
        kind="file",
    )
    receipt = receipts[1]
    mirror = mirror_of(env, sqlite_store)
    mirror.follow()
    env.registry.revoke(
        env.agency_a,
        root=receipt.merkle.root,
        leaf=receipt.leaf,
        proof=receipt.merkle.proof,
        reason=Reason.FRAUD,
    )
    mirror.follow()
    assert mirror.check(receipt).leaf_revocation.revoked
    dropped = env.w3.eth.block_number

    env.rpc("anvil_reorg", 1, [])  # the revocation's block, replaced by an empty one
    env.mine(then_mined)
    assert not live(env, receipt).leaf_revocation.revoked
    mirror.follow()  # detects the re-organisation and rewinds
    mirror.follow()  # follows the new chain
    with sqlite_store.session() as session:
        cursor = mirror_cursor(session)
    assert cursor is not None and cursor.rewinds == 1
    assert cursor.block_number == env.w3.eth.block_number
    assert cursor.block_hash == bytes(env.w3.eth.get_block(cursor.block_number)["hash"])
    answer = mirror.check(receipt)
    assert answer is not None and not answer.leaf_revocation.revoked
    assert plain(answer) == plain(live(env, receipt))
    with sqlite_store.session() as session:
        kept = mirror_blocks_from(session, below=dropped)
    assert all(hash_ == bytes(env.w3.eth.get_block(n)["hash"]) for n, hash_ in kept)


@pytest.mark.anvil
def test_reorg_that_drops_the_anchor_makes_the_root_unknown(fault_env, sqlite_store, mirror_of):
    env = fault_env
    env.mine(1)  # the re-org below drops this block and the anchor's, both after the snapshot
    mirror = mirror_of(env, sqlite_store)
    mirror.follow()
    _, receipts = anchor_by_hand(
        env.registry,
        account=env.agency_a,
        signing_key=KEY_A,
        digests=[hashlib.sha256(b"gone").digest()],
        kind="file",
    )
    mirror.follow()
    assert mirror.check(receipts[0]).anchor.agency is not None
    env.rpc("anvil_reorg", 2, [])
    mirror.follow()
    mirror.follow()
    answer = mirror.check(receipts[0])
    if answer is not None:  # the receipt's block may now be beyond the mirror: the node decides
        assert answer.anchor.agency is None
    assert live(env, receipts[0]).anchor.agency is None


def test_a_store_that_fails_mid_read_sends_the_verifier_to_the_node(env, store, mirror_of):
    """The verifier's own connection breaks (database restarted): that check asks the node,
    the broken connection is dropped, and the next read opens a new one."""
    issued = issue_batch(env, count=1, tag="outage")
    mirror = mirror_of(env, store, snapshot_ttl=0.0)
    mirror.follow()
    assert mirror.check(issued.receipts[0]) is not None
    broken = mirror._reads._connect()
    broken.close()  # every statement on it now fails with the driver's own error
    assert mirror.check(issued.receipts[0]) is None
    answer = mirror.check(issued.receipts[0])
    assert answer is not None and plain(answer) == plain(live(env, issued.receipts[0]))
    assert mirror._reads._connect() is not broken


def test_events_that_change_no_answer_do_not_stop_the_reader(env, store, mirror_of):
    """The mirror hands every event to the reader's cache invalidation, a role grant (no
    agency) among them: it is skipped, and a revocation after it is still seen."""
    issued = issue_batch(env, count=1, tag="roles")
    receipt = issued.receipts[0]
    reader = following_reader(env, mirror_of(env, store))
    role = b"\0" * 32  # DEFAULT_ADMIN_ROLE
    grant = env.registry._contract.functions.grantRole(role, env.outsider.address)
    env.registry._send(env.admin, grant, "grantRole")
    env.registry.revoke(
        env.agency_a,
        root=receipt.merkle.root,
        leaf=receipt.leaf,
        proof=receipt.merkle.proof,
        reason=Reason.WITHDRAWN,
    )
    assert reader.sync() == 2  # RoleGranted and Revoked, both read, no error
    assert verify_receipt(receipt, trusted=trusted(env), reader=reader).outcome is Outcome.REVOKED


def test_another_agencys_copy_and_its_revocation_stay_in_its_own_namespace(env, store, mirror_of):
    """The attacker's first try against a mirror: agency B anchors the very root A anchored
    and revokes the leaf in its copy. The mirror keys every lookup on (agency, hash), as the
    contract does: A's record is untouched, and a receipt renamed to B gets B's copy, exactly
    what the node answers."""
    ours = issue_batch(env, count=2, tag="namespace")
    receipt = ours.receipts[0]
    env.registry.anchor(env.agency_b, root=receipt.merkle.root, leaf_count=receipt.merkle.count)
    env.registry.revoke(
        env.agency_b,
        root=receipt.merkle.root,
        leaf=receipt.leaf,
        proof=receipt.merkle.proof,
        reason=Reason.FRAUD,
    )
    renamed = dataclasses.replace(
        receipt, anchor=dataclasses.replace(receipt.anchor, agency=env.agency_b.address)
    )
    mirror = mirror_of(env, store)
    mirror.follow()
    answer = mirror.check(receipt)
    assert answer is not None and not answer.leaf_revocation.revoked
    assert answer.anchor.agency == env.agency_a.address
    copy = mirror.check(renamed)
    assert copy is not None and copy.leaf_revocation.revoked
    for r, a in ((receipt, answer), (renamed, copy)):
        assert plain(a) == plain(live(env, r))
