"""Regression tests for the attacks of issue 9 (protocol v2 threat model), each run on the
embedded chain and on anvil: what a front-running agency, a rogue agency and a thief of an
agency's transaction key can no longer do, and what the registry authority can do about it."""

from __future__ import annotations

from chain_kit import (
    ZERO,
    advance,
    block_time,
    call_in_latest_block,
    latest_time,
    make_batch,
    raw_contract,
    reverts,
)

from registry.chain import AgencyStatus, fund_from_dev_account, new_account
from registry.chain.contract import Compromise, Reason, StatusChange
from registry.chain.events import fetch_events, rebuild_state
from registry.merkle import keccak256

# ------------------------------------------------------- front-running (item 3)


def test_front_run_anchor_gains_nothing(chain_env):
    """B copies A's pending anchor(root) and gets it mined first: A's anchor still lands, A's
    records answer with A's anchor, and B's fraud revocation of that root never shows on them."""
    reg, a, b = chain_env.registry, chain_env.agency_a, chain_env.agency_b
    batch = make_batch("front-run", 6)
    copied = reg.anchor(b, root=batch.root, leaf_count=batch.count)  # B's copy lands first
    genuine = reg.anchor(a, root=batch.root, leaf_count=batch.count)  # A's does not revert
    assert genuine.block_number > copied.block_number
    for i in range(batch.count):
        res = reg.check(agency=a.address, leaf=batch.leaf(i), proof=batch.proof(i), root=batch.root)
        assert res.included and res.anchor.agency == a.address
        assert res.anchor.block_number == genuine.block_number
        assert res.anchor.anchored_at == block_time(reg, genuine)
    # B revokes the copied root as fraud, and A's leaf too, in its own namespace
    reg.revoke(b, root=batch.root, leaf=batch.root, proof=[], reason=Reason.FRAUD)
    reg.revoke(b, root=batch.root, leaf=batch.leaf(0), proof=batch.proof(0), reason=3)
    on_b = reg.check(agency=b.address, leaf=batch.leaf(0), proof=batch.proof(0), root=batch.root)
    assert on_b.root_revocation.revoked and on_b.leaf_revocation.revoked
    for i in range(batch.count):
        res = reg.check(agency=a.address, leaf=batch.leaf(i), proof=batch.proof(i), root=batch.root)
        assert res.root_revocation.revoked_at == 0 and res.leaf_revocation.revoked_at == 0
    assert reg.revocation_of(a.address, batch.root).revoked_at == 0
    # and a root only A anchored is not B's to revoke at all
    only_a = make_batch("a-only", 2)
    reg.anchor(a, root=only_a.root, leaf_count=2)
    with reverts("NotAnchored"):
        reg.revoke(b, root=only_a.root, leaf=only_a.root, proof=[], reason=Reason.FRAUD)
    with reverts("NotAnchored"):
        reg.revoke(b, root=only_a.root, leaf=only_a.leaf(0), proof=only_a.proof(0), reason=3)


def test_agency_cannot_revoke_another_agencys_record_via_its_own_batch(chain_env):
    """B anchors a batch holding A's leaf and revokes it there: A's record stays unrevoked,
    because revocations live in the namespace of the agency that anchored the checked root."""
    reg, a, b = chain_env.registry, chain_env.agency_a, chain_env.agency_b
    batch = make_batch("victim", 4)
    reg.anchor(a, root=batch.root, leaf_count=4)
    target, filler = batch.leaf(0), make_batch("filler", 1).leaf(0)
    root_b = keccak256(min(target, filler) + max(target, filler))  # a 2-leaf tree by hand
    reg.anchor(b, root=root_b, leaf_count=2)
    reg.revoke(b, root=root_b, leaf=target, proof=[filler], reason=Reason.FRAUD)
    assert reg.check(agency=b.address, leaf=target, proof=[filler], root=root_b).leaf_revocation
    on_a = reg.check(agency=a.address, leaf=target, proof=batch.proof(0), root=batch.root)
    assert on_a.leaf_revocation.revoked_at == 0


def test_agency_keys_are_scoped(chain_env):
    """Signing keys live per agency: B can neither register nor propose a key into A's
    namespace; B proposing (even getting confirmed) A's key bytes only touches B's."""
    reg, admin, a, b = chain_env.registry, chain_env.admin, chain_env.agency_a, chain_env.agency_b
    before = reg.key_of(a.address, chain_env.key_a)
    with reverts("AccessControlUnauthorizedAccount"):
        reg.register_agency(b, account=a.address, name="Take-over", signing_key=b"\xbb" * 32)
    with reverts("AccessControlUnauthorizedAccount"):
        reg.confirm_signing_key(b, a.address, b"\xbb" * 32)
    # a proposal is always for the caller's own agency
    reg.propose_signing_key(b, b"\xbb" * 32)
    assert reg.pending_key_of(a.address) is None
    assert reg.pending_key_of(b.address) == b"\xbb" * 32
    with reverts("NoSuchPendingKey"):  # B's proposal cannot be confirmed as A's key
        reg.confirm_signing_key(admin, a.address, b"\xbb" * 32)
    # B proposes A's very key bytes; even confirmed, only B's namespace changes
    reg.propose_signing_key(b, chain_env.key_a)
    reg.confirm_signing_key(admin, b.address, chain_env.key_a)
    assert reg.key_of(b.address, chain_env.key_a).agency == b.address
    assert reg.key_of(a.address, chain_env.key_a) == before
    assert reg.agency_of(a.address).signing_key == chain_env.key_a
    assert reg.key_of(a.address, b"\xbb" * 32).agency is None
    assert reg.key_of(a.address, chain_env.key_b).agency is None
    # and A still rotates as usual, unaffected by B's use of the same bytes
    reg.rotate_signing_key(a, admin, b"\xa7" * 32)
    assert reg.key_of(b.address, chain_env.key_a).valid_until == 0


# ------------------------------------------------ stolen transaction key (item 2)


def test_stolen_transaction_key_cannot_rotate_signing_key(chain_env):
    """A thief holding A's transaction key can only propose a key; nothing changes until the
    authority confirms, however long it waits; confirming a key never proposed reverts."""
    reg, admin, thief = chain_env.registry, chain_env.admin, chain_env.agency_a
    a = chain_env.agency_a.address
    thief_key = b"\x7e" * 32
    reg.propose_signing_key(thief, thief_key)
    with reverts("AccessControlUnauthorizedAccount"):
        reg.confirm_signing_key(thief, a, thief_key)
    advance(chain_env, 24 * 3600)  # no delay lets the key in by itself
    assert reg.agency_of(a).signing_key == chain_env.key_a
    window = reg.key_of(a, thief_key)
    assert window.agency is None and not window.valid_at(latest_time(reg))
    assert reg.key_of(a, chain_env.key_a).valid_until == 0
    with reverts("NoSuchPendingKey"):
        reg.confirm_signing_key(admin, a, b"\x5a" * 32)
    # the authority refuses the thief's key by marking the agency compromised and moving it;
    # the genuine agency then proposes its own key and the authority confirms that one
    reg.mark_compromised(admin, a, since=latest_time(reg))
    new = new_account()
    fund_from_dev_account(chain_env.w3, new.address)
    reg.move_agency(admin, a, new_account=new.address)
    advance(chain_env, 1)
    genuine_key = b"\x6a" * 32
    reg.propose_signing_key(new, genuine_key)
    reg.confirm_signing_key(admin, a, genuine_key)
    assert reg.agency_of(a).signing_key == genuine_key
    assert reg.key_of(a, thief_key).agency is None


def test_compromise_voids_anchors_and_revocations_from_T(chain_env):  # noqa: N802 (issue's name)
    """Anchor at t0 (genuine); later a thief anchors and revokes an earlier record at t1; the
    authority marks A compromised since t1: the thief's anchor has voidSince t1, its revocation
    is reported void, the t0 anchor stays valid (voidSince 0) - also after A is moved."""
    reg, admin, a = chain_env.registry, chain_env.admin, chain_env.agency_a
    genuine = make_batch("genuine", 4)
    at_t0 = reg.anchor(a, root=genuine.root, leaf_count=4)
    t0 = block_time(reg, at_t0)
    advance(chain_env, 60)
    forged = make_batch("forged", 2)
    at_t1 = reg.anchor(a, root=forged.root, leaf_count=2)  # the thief, with A's account
    t1 = block_time(reg, at_t1)
    assert t1 > t0
    thief_revoke = reg.revoke(
        a, root=genuine.root, leaf=genuine.leaf(1), proof=genuine.proof(1), reason=Reason.FRAUD
    )
    reg.mark_compromised(admin, a.address, since=t1)

    def verdicts() -> None:
        fake = reg.check(
            agency=a.address, leaf=forged.leaf(0), proof=forged.proof(0), root=forged.root
        )
        assert fake.included and fake.void_since == t1
        hit = reg.check(
            agency=a.address, leaf=genuine.leaf(1), proof=genuine.proof(1), root=genuine.root
        )
        assert hit.void_since == 0
        revocation = hit.leaf_revocation
        assert revocation.revoked_at == block_time(reg, thief_revoke) and revocation.void
        assert not revocation.revoked  # a void revocation does not count
        assert revocation.reason == Reason.FRAUD and not revocation.by_authority
        untouched = reg.check(
            agency=a.address, leaf=genuine.leaf(0), proof=genuine.proof(0), root=genuine.root
        )
        assert untouched.void_since == 0 and untouched.leaf_revocation.revoked_at == 0

    verdicts()
    assert reg.agency_of(a.address).status is AgencyStatus.COMPROMISED
    moved = reg.move_agency(admin, a.address, new_account=new_account().address)
    assert reg.compromises_of(a.address) == [Compromise(t1, block_time(reg, moved))]
    verdicts()  # closing the window voids nothing less
    # every verifier reading the event log reaches the same answers
    state = rebuild_state(fetch_events(reg))
    for batch, i in ((forged, 0), (genuine, 1), (genuine, 0)):
        assert state.check(
            agency=a.address, leaf=batch.leaf(i), root=batch.root, included=True
        ) == reg.check(agency=a.address, leaf=batch.leaf(i), proof=batch.proof(i), root=batch.root)


def test_move_agency_keeps_identity_and_history(chain_env):
    reg, admin, old = chain_env.registry, chain_env.admin, chain_env.agency_a
    a = old.address
    before = make_batch("before-move", 3)
    reg.anchor(old, root=before.root, leaf_count=3)
    reg.suspend_agency(admin, a)
    reg.reinstate_agency(admin, a)
    advance(chain_env, 10)
    since = latest_time(reg)
    reg.mark_compromised(admin, a, since=since)
    new = new_account()
    fund_from_dev_account(chain_env.w3, new.address)
    moved = reg.move_agency(admin, a, new_account=new.address)
    at = block_time(reg, moved)

    # the old account is finished, and says so
    with reverts("AccountRetired"):
        reg.anchor(old, root=b"\x51" * 32, leaf_count=1)
    with reverts("AccountRetired"):
        reg.revoke(old, root=before.root, leaf=before.root, proof=[], reason=Reason.FRAUD)
    # the new account cannot act in the move's own second (it would fall in the window) ...
    with reverts("AccountNotYetUsable"):
        call_in_latest_block(
            reg, new, raw_contract(chain_env.w3, reg).functions.anchor(b"\x52" * 32, 1)
        )
    # ... and acts for the same identity from the next second on
    advance(chain_env, 1)
    after = make_batch("after-move", 2)
    anchored = reg.anchor(new, root=after.root, leaf_count=2)
    assert block_time(reg, anchored) > at
    assert reg.anchor_of(a, after.root).agency == a
    assert reg.anchor_of(new.address, after.root).agency is None
    res = reg.check(agency=a, leaf=after.leaf(0), proof=after.proof(0), root=after.root)
    assert res.included and res.void_since == 0 and res.agency_status is AgencyStatus.ACTIVE
    # the identity's earlier records are the new account's to revoke
    reg.revoke(new, root=before.root, leaf=before.leaf(2), proof=before.proof(2), reason=1)
    assert reg.revocation_of(a, before.leaf(2)).reason == 1
    info = reg.agency_of(a)
    assert (info.address, info.account, info.name, info.signing_key) == (
        a,
        new.address,
        "Civil Registry Office",
        chain_env.key_a,
    )
    assert reg.compromises_of(a) == [Compromise(since, at)]  # closed at the move
    history = reg.status_history_of(a)
    assert [c.status for c in history] == [
        AgencyStatus.ACTIVE,
        AgencyStatus.SUSPENDED,
        AgencyStatus.ACTIVE,
        AgencyStatus.COMPROMISED,
        AgencyStatus.ACTIVE,
    ]
    assert history[-1] == StatusChange(AgencyStatus.ACTIVE, at)
    assert info.registered_at == history[0].at


def test_authority_revokes_any_record(chain_env):
    """revokeByAuthority works on a compromised or suspended agency's records, overrides the
    agency's (void) revocation, is never void itself, and cannot supersede (reason 2)."""
    reg, admin, a, b = chain_env.registry, chain_env.admin, chain_env.agency_a, chain_env.agency_b
    batch_a, batch_b = make_batch("court-a", 4), make_batch("court-b", 4)
    reg.anchor(a, root=batch_a.root, leaf_count=4)
    reg.anchor(b, root=batch_b.root, leaf_count=4)
    advance(chain_env, 5)
    stolen = reg.revoke(
        a,
        root=batch_a.root,
        leaf=batch_a.leaf(0),
        proof=batch_a.proof(0),
        reason=Reason.SUPERSEDED,
        replacement=b"\x55" * 32,
    )
    reg.mark_compromised(admin, a.address, since=block_time(reg, stolen))
    reg.suspend_agency(admin, b.address)
    before = reg.check(
        agency=a.address, leaf=batch_a.leaf(0), proof=batch_a.proof(0), root=batch_a.root
    )
    assert before.leaf_revocation.void  # the thief's supersession does not count
    for bad in (Reason.SUPERSEDED, 0, 6):
        with reverts("InvalidReason"):
            reg.revoke_by_authority(
                admin,
                agency=a.address,
                root=batch_a.root,
                leaf=batch_a.leaf(0),
                proof=batch_a.proof(0),
                reason=bad,
            )
    # overrides the void revocation, inside the open compromise window, and is not void
    court = reg.revoke_by_authority(
        admin,
        agency=a.address,
        root=batch_a.root,
        leaf=batch_a.leaf(0),
        proof=batch_a.proof(0),
        reason=Reason.COURT_ORDER,
    )
    res = reg.check(
        agency=a.address, leaf=batch_a.leaf(0), proof=batch_a.proof(0), root=batch_a.root
    )
    assert res.leaf_revocation.revoked and not res.leaf_revocation.void
    assert res.leaf_revocation.by_authority and res.leaf_revocation.reason == Reason.COURT_ORDER
    assert res.leaf_revocation.replacement == ZERO
    assert res.leaf_revocation.revoked_at == block_time(reg, court)
    assert reg.compromises_of(a.address)[-1].holds(res.leaf_revocation.revoked_at)
    # a suspended agency's record and a compromised agency's whole batch
    reg.revoke_by_authority(
        admin,
        agency=b.address,
        root=batch_b.root,
        leaf=batch_b.leaf(2),
        proof=batch_b.proof(2),
        reason=Reason.FRAUD,
    )
    on_b = reg.check(
        agency=b.address, leaf=batch_b.leaf(2), proof=batch_b.proof(2), root=batch_b.root
    )
    assert on_b.leaf_revocation.revoked and on_b.agency_status is AgencyStatus.SUSPENDED
    reg.revoke_by_authority(
        admin, agency=a.address, root=batch_a.root, leaf=batch_a.root, proof=[], reason=3
    )
    whole = reg.check(
        agency=a.address, leaf=batch_a.leaf(3), proof=batch_a.proof(3), root=batch_a.root
    )
    assert whole.root_revocation.revoked and whole.root_revocation.by_authority


def test_suspension_history_survives_reinstatement(chain_env):
    reg, admin, a = chain_env.registry, chain_env.admin, chain_env.agency_a
    registered = reg.agency_of(a.address).registered_at
    times = []
    for _ in range(2):
        advance(chain_env, 3)
        times.append(block_time(reg, reg.suspend_agency(admin, a.address)))
        advance(chain_env, 3)
        times.append(block_time(reg, reg.reinstate_agency(admin, a.address)))
    assert reg.status_history_of(a.address) == [
        StatusChange(AgencyStatus.ACTIVE, registered),
        StatusChange(AgencyStatus.SUSPENDED, times[0]),
        StatusChange(AgencyStatus.ACTIVE, times[1]),
        StatusChange(AgencyStatus.SUSPENDED, times[2]),
        StatusChange(AgencyStatus.ACTIVE, times[3]),
    ]
    info = reg.agency_of(a.address)
    assert info.status is AgencyStatus.ACTIVE and info.status_changed_at == times[3]
    state = rebuild_state(fetch_events(reg))
    assert state.status_history[a.address] == reg.status_history_of(a.address)


def test_replacement_rules(chain_env):
    """Reason 2 needs a replacement; any other reason with one reverts; revokeBatch (and the
    authority) never supersede."""
    reg, a = chain_env.registry, chain_env.agency_a
    batch = make_batch("replacement", 4)
    reg.anchor(a, root=batch.root, leaf_count=4)
    leaf, proof = batch.leaf(0), batch.proof(0)
    with reverts("MissingReplacement"):
        reg.revoke(a, root=batch.root, leaf=leaf, proof=proof, reason=Reason.SUPERSEDED)
    for reason in (1, 3, 4, 5):
        with reverts("UnexpectedReplacement"):
            reg.revoke(
                a, root=batch.root, leaf=leaf, proof=proof, reason=reason, replacement=b"\1" * 32
            )
    raw = raw_contract(chain_env.w3, reg)  # calls the binding would not build
    with reverts("InvalidReason"):  # the binding sends a plain whole-batch revoke as revokeBatch
        reg.revoke(a, root=batch.root, leaf=batch.root, proof=[], reason=Reason.SUPERSEDED)
    with reverts("InvalidReason"):
        reg._send(a, raw.functions.revokeBatch(batch.root, 2), "revokeBatch")
    with reverts("MissingReplacement"):  # the full revoke for the whole batch needs one too
        reg._send(a, raw.functions.revoke(batch.root, batch.root, [], 2, ZERO), "revoke")
    assert reg.revocation_of(a.address, leaf).revoked_at == 0
    reg.revoke(a, root=batch.root, leaf=leaf, proof=proof, reason=2, replacement=batch.digests[1])
    assert reg.revocation_of(a.address, leaf).replacement == batch.digests[1]


def test_key_window_ends_are_inclusive(chain_env):
    """Both ends are inclusive: at the rotation second T the old and the new key are valid; one
    second later only the new one. An exclusive end (`t < validUntil`) fails here."""
    reg, a = chain_env.registry, chain_env.agency_a
    advance(chain_env, 10)
    new_key = b"\xa3" * 32
    _, confirmed = reg.rotate_signing_key(a, chain_env.admin, new_key)
    t = block_time(reg, confirmed)
    old, new = reg.key_of(a.address, chain_env.key_a), reg.key_of(a.address, new_key)
    assert old.valid_until == t == new.valid_from
    assert old.valid_at(t - 1) and old.valid_at(t)
    assert not old.valid_at(t + 1)
    assert not new.valid_at(t - 1)
    assert new.valid_at(t) and new.valid_at(t + 1) and new.valid_at(t + 10**6)
    # the opening second of the first key counts too, the second before it does not
    assert old.valid_at(old.valid_from) and not old.valid_at(old.valid_from - 1)
    # and an anchor made after the rotation is outside the old key's window
    advance(chain_env, 1)
    anchored = reg.anchor(a, root=b"\x0a" * 32, leaf_count=1)
    at = reg.anchor_of(a.address, b"\x0a" * 32).anchored_at
    assert at == block_time(reg, anchored) > t
    assert new.valid_at(at) and not old.valid_at(at)
    # a key the agency never had is valid at no time
    assert not reg.key_of(a.address, chain_env.key_b).valid_at(t)


def test_key_proposed_by_a_thief_is_dropped_on_compromise(chain_env):
    """A key proposed from a stolen account can never be confirmed by mistake later: marking
    the compromise (and moving the agency) drops the pending proposal."""
    reg, admin, a = chain_env.registry, chain_env.admin, chain_env.agency_a
    thief_key = b"\x77" * 32
    reg.propose_signing_key(a, thief_key)
    assert reg.pending_key_of(a.address) == thief_key
    now = int(chain_env.w3.eth.get_block("latest")["timestamp"])
    reg.mark_compromised(admin, a.address, since=now)
    assert reg.pending_key_of(a.address) is None
    with reverts("NoSuchPendingKey"):
        reg.confirm_signing_key(admin, a.address, thief_key)
