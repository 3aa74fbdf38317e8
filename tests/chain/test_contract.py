"""RecordRegistry v2 conformance suite, run on the embedded chain and on anvil (by parameter):
every function, every revert by custom-error name, every event, every view, and the event log
rebuilding the state that every view answers."""

from __future__ import annotations

import pytest
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
from eth_hash.auto import keccak

from registry.chain import AgencyStatus, RegistryContract, fund_from_dev_account, new_account
from registry.chain.contract import (
    ZERO_ADDRESS,
    AccountInfo,
    Compromise,
    Reason,
    StatusChange,
)
from registry.chain.events import fetch_events, rebuild_state
from registry.chain.tx import TxOptions
from registry.errors import InvalidInput, RegistryNotFound, WrongChain

# ------------------------------------------------------------------ constants


def test_constants_and_interface_tag(chain_env):
    fns = raw_contract(chain_env.w3, chain_env.registry).functions
    assert fns.REGISTRY_INTERFACE().call() == keccak(b"RecordRegistry/v2")
    assert [
        fns.REASON_ISSUED_IN_ERROR().call(),
        fns.REASON_SUPERSEDED().call(),
        fns.REASON_FRAUD().call(),
        fns.REASON_WITHDRAWN().call(),
        fns.REASON_COURT_ORDER().call(),
    ] == [1, 2, 3, 4, 5]
    assert [int(r) for r in Reason] == [1, 2, 3, 4, 5]


def test_constructor_refuses_zero_admin(chain_env):
    with reverts("ZeroAddress"):
        RegistryContract.deploy(
            chain_env.w3, chain_env.admin, admin=ZERO_ADDRESS, options=TxOptions(poll_interval=0.02)
        )


# ------------------------------------------------------------------ agencies


def test_register_agency_sets_every_view(chain_env):
    reg, a, b = chain_env.registry, chain_env.agency_a, chain_env.agency_b
    info = reg.agency_of(a.address)
    assert info.address == a.address and info.account == a.address
    assert info.status is AgencyStatus.ACTIVE
    assert info.name == "Civil Registry Office"
    assert info.signing_key == chain_env.key_a
    assert info.registered_at == info.status_changed_at > 0
    assert reg.account_of(a.address) == AccountInfo(
        agency=a.address, active=True, retired=False, not_before=0
    )
    window = reg.key_of(a.address, chain_env.key_a)
    assert (window.agency, window.valid_from, window.valid_until) == (
        a.address,
        info.registered_at,
        0,
    )
    assert reg.key_of(b.address, chain_env.key_a).agency is None  # keys are per agency
    assert reg.pending_key_of(a.address) is None
    assert reg.status_history_of(a.address) == [
        StatusChange(AgencyStatus.ACTIVE, info.registered_at)
    ]
    assert reg.compromises_of(a.address) == []
    assert reg.is_admin(chain_env.admin.address)
    assert not reg.is_admin(a.address)
    nobody = reg.agency_of(chain_env.outsider.address)
    assert nobody.status is AgencyStatus.NONE and nobody.account is None and nobody.name == ""
    assert reg.account_of(chain_env.outsider.address).agency is None


def test_authority_functions_are_admin_only(chain_env):
    reg, a, outsider = chain_env.registry, chain_env.agency_a, chain_env.outsider
    batch = make_batch("admin-only", 2)
    reg.anchor(a, root=batch.root, leaf_count=2)
    for caller in (outsider, a):
        with reverts("AccessControlUnauthorizedAccount"):
            reg.register_agency(
                caller, account=outsider.address, name="Fake", signing_key=b"\x01" * 32
            )
        with reverts("AccessControlUnauthorizedAccount"):
            reg.suspend_agency(caller, a.address)
        with reverts("AccessControlUnauthorizedAccount"):
            reg.reinstate_agency(caller, a.address)
        with reverts("AccessControlUnauthorizedAccount"):
            reg.mark_compromised(caller, a.address, since=latest_time(reg))
        with reverts("AccessControlUnauthorizedAccount"):
            reg.move_agency(caller, a.address, new_account=outsider.address)
        with reverts("AccessControlUnauthorizedAccount"):
            reg.confirm_signing_key(caller, a.address, b"\x01" * 32)
        with reverts("AccessControlUnauthorizedAccount"):
            reg.revoke_by_authority(
                caller,
                agency=a.address,
                root=batch.root,
                leaf=batch.root,
                proof=[],
                reason=Reason.COURT_ORDER,
            )


def test_register_agency_reverts(chain_env):
    reg, admin, outsider = chain_env.registry, chain_env.admin, chain_env.outsider
    with reverts("ZeroAddress"):
        reg.register_agency(admin, account=ZERO_ADDRESS, name="X", signing_key=b"\x02" * 32)
    with reverts("EmptyName"):
        reg.register_agency(admin, account=outsider.address, name="", signing_key=b"\x02" * 32)
    with reverts("ZeroSigningKey"):
        reg.register_agency(admin, account=outsider.address, name="X", signing_key=ZERO)
    with reverts("AgencyAlreadyRegistered"):
        reg.register_agency(
            admin, account=chain_env.agency_a.address, name="Again", signing_key=b"\x02" * 32
        )
    with pytest.raises(InvalidInput, match="signing key: expected 32 bytes"):
        reg.register_agency(admin, account=outsider.address, name="X", signing_key=b"\x01")
    # Another agency's key bytes are fine: keys live in per-agency namespaces.
    reg.register_agency(admin, account=outsider.address, name="Land", signing_key=chain_env.key_a)
    assert reg.key_of(outsider.address, chain_env.key_a).agency == outsider.address


def test_register_agency_refuses_an_account_in_use(chain_env):
    reg, admin, a = chain_env.registry, chain_env.admin, chain_env.agency_a
    new = new_account()
    reg.move_agency(admin, a.address, new_account=new.address)
    with reverts("AccountInUse"):  # another agency's current account
        reg.register_agency(admin, account=new.address, name="X", signing_key=b"\x03" * 32)
    with reverts("AgencyAlreadyRegistered"):  # the moved agency's identity (also retired)
        reg.register_agency(admin, account=a.address, name="X", signing_key=b"\x03" * 32)


def test_suspend_and_reinstate(chain_env):
    reg, admin, a = chain_env.registry, chain_env.admin, chain_env.agency_a
    batch = make_batch("suspend", 2)
    reg.anchor(a, root=batch.root, leaf_count=2)
    suspended = reg.suspend_agency(admin, a.address)
    info = reg.agency_of(a.address)
    assert info.status is AgencyStatus.SUSPENDED
    assert info.status_changed_at == block_time(reg, suspended)
    assert not reg.account_of(a.address).active
    with reverts("AgencyNotActive"):
        reg.suspend_agency(admin, a.address)
    with reverts("AgencyNotActive"):
        reg.anchor(a, root=b"\x01" * 32, leaf_count=1)
    with reverts("AgencyNotActive"):
        reg.revoke(a, root=batch.root, leaf=batch.root, proof=[], reason=Reason.FRAUD)
    with reverts("AgencyNotActive"):
        reg.propose_signing_key(a, b"\x03" * 32)
    reinstated = reg.reinstate_agency(admin, a.address)
    assert reg.agency_of(a.address).status is AgencyStatus.ACTIVE
    assert reg.account_of(a.address).active
    with reverts("AgencyNotSuspended"):
        reg.reinstate_agency(admin, a.address)
    with reverts("UnknownAgency"):
        reg.suspend_agency(admin, chain_env.outsider.address)
    with reverts("UnknownAgency"):
        reg.reinstate_agency(admin, chain_env.outsider.address)
    assert [c.status for c in reg.status_history_of(a.address)] == [
        AgencyStatus.ACTIVE,
        AgencyStatus.SUSPENDED,
        AgencyStatus.ACTIVE,
    ]
    assert reg.status_history_of(a.address)[1:] == [
        StatusChange(AgencyStatus.SUSPENDED, block_time(reg, suspended)),
        StatusChange(AgencyStatus.ACTIVE, block_time(reg, reinstated)),
    ]
    reg.anchor(a, root=b"\x01" * 32, leaf_count=1)


def test_compromised_agency_cannot_be_suspended_or_reinstated(chain_env):
    reg, admin, a = chain_env.registry, chain_env.admin, chain_env.agency_a
    reg.mark_compromised(admin, a.address, since=latest_time(reg))
    assert reg.agency_of(a.address).status is AgencyStatus.COMPROMISED
    with reverts("AgencyNotActive"):
        reg.suspend_agency(admin, a.address)
    with reverts("AgencyNotSuspended"):  # only a move ends a compromise
        reg.reinstate_agency(admin, a.address)
    with reverts("AgencyNotActive"):
        reg.anchor(a, root=b"\x01" * 32, leaf_count=1)


# ---------------------------------------------------------------- signing keys


def test_propose_then_confirm_rotates_the_key(chain_env):
    reg, admin, a = chain_env.registry, chain_env.admin, chain_env.agency_a
    new_key = b"\xa2" * 32
    reg.propose_signing_key(a, b"\xa9" * 32)
    reg.propose_signing_key(a, new_key)  # a second proposal replaces the first
    assert reg.pending_key_of(a.address) == new_key
    assert reg.agency_of(a.address).signing_key == chain_env.key_a
    assert reg.key_of(a.address, new_key).agency is None
    with reverts("NoSuchPendingKey"):
        reg.confirm_signing_key(admin, a.address, b"\xa9" * 32)
    confirmed = reg.confirm_signing_key(admin, a.address, new_key)
    at = block_time(reg, confirmed)
    old, new = reg.key_of(a.address, chain_env.key_a), reg.key_of(a.address, new_key)
    assert old.valid_until == at and (new.valid_from, new.valid_until) == (at, 0)
    assert reg.agency_of(a.address).signing_key == new_key
    assert reg.pending_key_of(a.address) is None
    with reverts("NoSuchPendingKey"):  # confirming twice
        reg.confirm_signing_key(admin, a.address, new_key)


def test_signing_key_reverts(chain_env):
    reg, admin, a = chain_env.registry, chain_env.admin, chain_env.agency_a
    with reverts("ZeroSigningKey"):
        reg.propose_signing_key(a, ZERO)
    with reverts("SigningKeyAlreadyUsed"):  # the current key
        reg.propose_signing_key(a, chain_env.key_a)
    reg.rotate_signing_key(a, admin, b"\xa2" * 32)
    with reverts("SigningKeyAlreadyUsed"):  # a retired key never re-opens
        reg.propose_signing_key(a, chain_env.key_a)
    with reverts("NotAnAgencyAccount"):
        reg.propose_signing_key(chain_env.outsider, b"\x07" * 32)
    with reverts("NotAnAgencyAccount"):  # the authority is no agency
        reg.propose_signing_key(admin, b"\x07" * 32)
    with reverts("NoSuchPendingKey"):  # nothing proposed
        reg.confirm_signing_key(admin, a.address, b"\x07" * 32)
    with reverts("NoSuchPendingKey"):  # zero is never pending
        reg.confirm_signing_key(admin, a.address, ZERO)
    with reverts("UnknownAgency"):
        reg.confirm_signing_key(admin, chain_env.outsider.address, b"\x07" * 32)


# ------------------------------------------------------------------- anchors


def test_anchor_records_time_block_and_count(chain_env):
    reg, a = chain_env.registry, chain_env.agency_a
    batch = make_batch("anchor", 5)
    result = reg.anchor(a, root=batch.root, leaf_count=5)
    info = reg.anchor_of(a.address, batch.root)
    assert info.agency == a.address and info.leaf_count == 5
    assert info.anchored_at == block_time(reg, result)
    assert info.block_number == result.block_number
    assert reg.anchor_of(chain_env.agency_b.address, batch.root).agency is None
    none = reg.anchor_of(a.address, b"\x09" * 32)
    assert (none.agency, none.anchored_at, none.block_number, none.leaf_count) == (None, 0, 0, 0)


def test_anchor_reverts(chain_env):
    reg, a = chain_env.registry, chain_env.agency_a
    with reverts("NotAnAgencyAccount"):
        reg.anchor(chain_env.outsider, root=b"\x01" * 32, leaf_count=1)
    with reverts("NotAnAgencyAccount"):
        reg.anchor(chain_env.admin, root=b"\x01" * 32, leaf_count=1)
    with reverts("ZeroRoot"):
        reg.anchor(a, root=ZERO, leaf_count=1)
    with pytest.raises(InvalidInput, match="leaf count 0"):
        reg.anchor(a, root=b"\x01" * 32, leaf_count=0)
    with reverts("ZeroLeafCount"):  # the contract refuses it too, not only the binding
        reg._send(a, raw_contract(chain_env.w3, reg).functions.anchor(b"\x01" * 32, 0), "anchor")
    reg.anchor(a, root=b"\x01" * 32, leaf_count=1)
    with reverts("AlreadyAnchored"):
        reg.anchor(a, root=b"\x01" * 32, leaf_count=7)
    assert reg.anchor_of(a.address, b"\x01" * 32).leaf_count == 1


# --------------------------------------------------------------- revocations


def test_revoke_leaf_with_proof_and_check(chain_env):
    reg, a = chain_env.registry, chain_env.agency_a
    batch = make_batch("revoke-leaf", 5)
    reg.anchor(a, root=batch.root, leaf_count=5)
    ok = reg.check(agency=a.address, leaf=batch.leaf(2), proof=batch.proof(2), root=batch.root)
    assert ok.included and ok.anchor.agency == a.address
    assert ok.agency_status is AgencyStatus.ACTIVE and ok.void_since == 0
    assert not ok.leaf_revocation.revoked and not ok.root_revocation.revoked

    revoked = reg.revoke(
        a, root=batch.root, leaf=batch.leaf(2), proof=batch.proof(2), reason=Reason.FRAUD
    )
    res = reg.check(agency=a.address, leaf=batch.leaf(2), proof=batch.proof(2), root=batch.root)
    assert res.leaf_revocation.revoked and not res.leaf_revocation.void
    assert res.leaf_revocation.revoked_at == block_time(reg, revoked)
    assert res.leaf_revocation.reason == Reason.FRAUD
    assert res.leaf_revocation.replacement == ZERO and not res.leaf_revocation.by_authority
    assert not res.root_revocation.revoked
    stored = reg.revocation_of(a.address, batch.leaf(2))
    assert (stored.revoked_at, stored.reason, stored.by_authority) == (
        block_time(reg, revoked),
        Reason.FRAUD,
        False,
    )
    # the sibling records are untouched
    sibling = reg.check(agency=a.address, leaf=batch.leaf(1), proof=batch.proof(1), root=batch.root)
    assert not sibling.leaf_revocation.revoked
    with reverts("AlreadyRevoked"):
        reg.revoke(
            a, root=batch.root, leaf=batch.leaf(2), proof=batch.proof(2), reason=Reason.WITHDRAWN
        )


def test_supersede_stores_the_replacement(chain_env):
    reg, a = chain_env.registry, chain_env.agency_a
    batch, successor = make_batch("superseded", 3), make_batch("successor", 1)
    reg.anchor(a, root=batch.root, leaf_count=3)
    reg.revoke(
        a,
        root=batch.root,
        leaf=batch.leaf(0),
        proof=batch.proof(0),
        reason=Reason.SUPERSEDED,
        replacement=successor.digests[0],
    )
    res = reg.check(agency=a.address, leaf=batch.leaf(0), proof=batch.proof(0), root=batch.root)
    assert res.leaf_revocation.reason == Reason.SUPERSEDED
    assert res.leaf_revocation.replacement == successor.digests[0]
    assert reg.revocation_of(a.address, batch.leaf(0)).replacement == successor.digests[0]


def test_revoke_whole_batch(chain_env):
    reg, a = chain_env.registry, chain_env.agency_a
    batch = make_batch("whole", 4)
    reg.anchor(a, root=batch.root, leaf_count=4)
    sent = reg.revoke(a, root=batch.root, leaf=batch.root, proof=[], reason=Reason.COURT_ORDER)
    raw = raw_contract(chain_env.w3, reg)
    selector = raw.functions.revokeBatch(batch.root, 5).selector  # the cheap path
    assert bytes(chain_env.w3.eth.get_transaction(sent.tx_hash)["input"])[:4].hex() == selector[2:]
    for i in range(4):
        res = reg.check(agency=a.address, leaf=batch.leaf(i), proof=batch.proof(i), root=batch.root)
        assert res.root_revocation.revoked and res.root_revocation.reason == Reason.COURT_ORDER
        assert not res.leaf_revocation.revoked
    with reverts("AlreadyRevoked"):
        reg.revoke(a, root=batch.root, leaf=batch.root, proof=[], reason=Reason.FRAUD)


def test_revoke_with_leaf_equal_root_supersedes_a_whole_batch(chain_env):
    """`revoke(root, root, [], 2, replacement)`: a batch of one record superseded."""
    reg, a = chain_env.registry, chain_env.agency_a
    batch = make_batch("single", 1)
    reg.anchor(a, root=batch.root, leaf_count=1)
    reg.revoke(
        a,
        root=batch.root,
        leaf=batch.root,
        proof=[],
        reason=Reason.SUPERSEDED,
        replacement=b"\x66" * 32,
    )
    assert reg.revocation_of(a.address, batch.root).replacement == b"\x66" * 32


def test_revoke_reverts(chain_env):
    reg, a, b = chain_env.registry, chain_env.agency_a, chain_env.agency_b
    batch = make_batch("revoke-reverts", 4)
    reg.anchor(a, root=batch.root, leaf_count=4)
    leaf, proof = batch.leaf(0), batch.proof(0)
    with reverts("NotAnchored"):  # another agency's root is not anchored in B's namespace
        reg.revoke(b, root=batch.root, leaf=leaf, proof=proof, reason=Reason.FRAUD)
    with reverts("NotAnchored"):
        reg.revoke(b, root=batch.root, leaf=batch.root, proof=[], reason=Reason.FRAUD)
    with reverts("NotAnAgencyAccount"):
        reg.revoke(chain_env.outsider, root=batch.root, leaf=leaf, proof=proof, reason=3)
    with reverts("InvalidProof"):  # wrong proof
        reg.revoke(a, root=batch.root, leaf=leaf, proof=batch.proof(1), reason=Reason.FRAUD)
    with reverts("InvalidProof"):  # a leaf that is not in the batch
        reg.revoke(a, root=batch.root, leaf=b"\x99" * 32, proof=proof, reason=Reason.FRAUD)
    with reverts("InvalidProof"):  # the whole batch needs an empty proof
        reg.revoke(
            a, root=batch.root, leaf=batch.root, proof=proof, reason=2, replacement=b"\1" * 32
        )
    with reverts("NotAnchored"):
        reg.revoke(a, root=b"\x0f" * 32, leaf=b"\x0f" * 32, proof=[], reason=Reason.FRAUD)
    with reverts("NotAnchored"):  # the zero root is never anchored
        reg.revoke(a, root=ZERO, leaf=ZERO, proof=[], reason=Reason.FRAUD)
    for bad in (0, 6, 255):
        with reverts("InvalidReason"):
            reg.revoke(a, root=batch.root, leaf=leaf, proof=proof, reason=bad)
        with reverts("InvalidReason"):
            reg.revoke(a, root=batch.root, leaf=batch.root, proof=[], reason=bad)


def test_revoke_by_authority(chain_env):
    reg, admin, a = chain_env.registry, chain_env.admin, chain_env.agency_a
    batch = make_batch("authority", 4)
    reg.anchor(a, root=batch.root, leaf_count=4)
    done = reg.revoke_by_authority(
        admin,
        agency=a.address,
        root=batch.root,
        leaf=batch.leaf(3),
        proof=batch.proof(3),
        reason=Reason.COURT_ORDER,
    )
    stored = reg.revocation_of(a.address, batch.leaf(3))
    assert (stored.revoked_at, stored.reason, stored.by_authority, stored.replacement) == (
        block_time(reg, done),
        Reason.COURT_ORDER,
        True,
        ZERO,
    )
    with reverts("AlreadyRevoked"):  # the authority's revocation is final
        reg.revoke_by_authority(
            admin,
            agency=a.address,
            root=batch.root,
            leaf=batch.leaf(3),
            proof=batch.proof(3),
            reason=Reason.FRAUD,
        )
    with reverts("AlreadyRevoked"):  # and the agency cannot write over it
        reg.revoke(
            a, root=batch.root, leaf=batch.leaf(3), proof=batch.proof(3), reason=Reason.FRAUD
        )
    # the whole batch, by the authority
    reg.revoke_by_authority(
        admin, agency=a.address, root=batch.root, leaf=batch.root, proof=[], reason=Reason.FRAUD
    )
    res = reg.check(agency=a.address, leaf=batch.leaf(0), proof=batch.proof(0), root=batch.root)
    assert res.root_revocation.revoked and res.root_revocation.by_authority


def test_revoke_by_authority_reverts(chain_env):
    reg, admin, a, b = chain_env.registry, chain_env.admin, chain_env.agency_a, chain_env.agency_b
    batch = make_batch("authority-reverts", 4)
    reg.anchor(a, root=batch.root, leaf_count=4)
    leaf, proof = batch.leaf(1), batch.proof(1)
    with reverts("NotAnchored"):  # the root is A's, not B's
        reg.revoke_by_authority(
            admin, agency=b.address, root=batch.root, leaf=leaf, proof=proof, reason=3
        )
    for bad in (0, Reason.SUPERSEDED, 6):
        with reverts("InvalidReason"):
            reg.revoke_by_authority(
                admin, agency=a.address, root=batch.root, leaf=leaf, proof=proof, reason=bad
            )
    with reverts("InvalidProof"):
        reg.revoke_by_authority(
            admin, agency=a.address, root=batch.root, leaf=leaf, proof=batch.proof(2), reason=3
        )


# ------------------------------------------------------- compromise and moves


def test_mark_compromised_windows_and_reverts(chain_env):
    reg, admin, a = chain_env.registry, chain_env.admin, chain_env.agency_a
    registered = reg.agency_of(a.address).registered_at
    advance(chain_env, 20)
    with reverts("InvalidCompromiseTime"):
        reg.mark_compromised(admin, a.address, since=0)
    with reverts("InvalidCompromiseTime"):  # before the agency existed
        reg.mark_compromised(admin, a.address, since=registered - 1)
    with reverts("InvalidCompromiseTime"):  # in the future
        reg.mark_compromised(admin, a.address, since=2**64 - 1)
    with reverts("UnknownAgency"):
        reg.mark_compromised(admin, chain_env.outsider.address, since=registered)
    marked = reg.mark_compromised(admin, a.address, since=registered + 5)
    assert reg.compromises_of(a.address) == [Compromise(registered + 5, 0)]
    info = reg.agency_of(a.address)
    assert info.status is AgencyStatus.COMPROMISED
    assert info.status_changed_at == block_time(reg, marked)
    assert not reg.account_of(a.address).active
    # while open, the window can only be widened (moved earlier)
    with reverts("InvalidCompromiseTime"):
        reg.mark_compromised(admin, a.address, since=registered + 5)
    with reverts("InvalidCompromiseTime"):
        reg.mark_compromised(admin, a.address, since=registered + 6)
    reg.mark_compromised(admin, a.address, since=registered + 2)
    assert reg.compromises_of(a.address) == [Compromise(registered + 2, 0)]
    # a move closes it at the move's time
    moved = reg.move_agency(admin, a.address, new_account=new_account().address)
    until = block_time(reg, moved)
    assert reg.compromises_of(a.address) == [Compromise(registered + 2, until)]
    # a new window starts after the closed one, never inside it
    advance(chain_env, 5)
    with reverts("InvalidCompromiseTime"):
        reg.mark_compromised(admin, a.address, since=until)
    reg.mark_compromised(admin, a.address, since=until + 1)
    assert reg.compromises_of(a.address) == [
        Compromise(registered + 2, until),
        Compromise(until + 1, 0),
    ]
    with reverts("InvalidCompromiseTime"):  # widening stops at the previous window
        reg.mark_compromised(admin, a.address, since=until)
    assert [c.status for c in reg.status_history_of(a.address)] == [
        AgencyStatus.ACTIVE,
        AgencyStatus.COMPROMISED,
        AgencyStatus.COMPROMISED,
        AgencyStatus.ACTIVE,
        AgencyStatus.COMPROMISED,
    ]


def test_move_agency_views_and_reverts(chain_env):
    reg, admin, a, b = chain_env.registry, chain_env.admin, chain_env.agency_a, chain_env.agency_b
    new = new_account()
    with reverts("ZeroAddress"):
        reg.move_agency(admin, a.address, new_account=ZERO_ADDRESS)
    with reverts("AccountInUse"):  # another agency's account
        reg.move_agency(admin, a.address, new_account=b.address)
    with reverts("AccountInUse"):  # its own account
        reg.move_agency(admin, a.address, new_account=a.address)
    with reverts("UnknownAgency"):
        reg.move_agency(admin, chain_env.outsider.address, new_account=new.address)
    moved = reg.move_agency(admin, a.address, new_account=new.address)
    at = block_time(reg, moved)
    info = reg.agency_of(a.address)
    assert info.address == a.address and info.account == new.address
    assert info.status is AgencyStatus.ACTIVE and info.signing_key == chain_env.key_a
    assert reg.account_of(new.address) == AccountInfo(
        agency=a.address, active=True, retired=False, not_before=at + 1
    )
    assert reg.account_of(a.address) == AccountInfo(
        agency=None, active=False, retired=True, not_before=0
    )
    assert reg.compromises_of(a.address) == []  # no window to close
    with reverts("AccountInUse"):  # a retired account is never reused
        reg.move_agency(admin, b.address, new_account=a.address)
    with reverts("AccountInUse"):
        reg.move_agency(admin, b.address, new_account=new.address)


def test_moving_a_suspended_agency_keeps_it_suspended(chain_env):
    reg, admin, a = chain_env.registry, chain_env.admin, chain_env.agency_a
    reg.suspend_agency(admin, a.address)
    new = new_account()
    fund_from_dev_account(chain_env.w3, new.address)
    reg.move_agency(admin, a.address, new_account=new.address)
    assert reg.agency_of(a.address).status is AgencyStatus.SUSPENDED
    assert not reg.account_of(new.address).active
    advance(chain_env, 2)
    with reverts("AgencyNotActive"):
        reg.anchor(new, root=b"\x31" * 32, leaf_count=1)
    reg.reinstate_agency(admin, a.address)
    assert reg.account_of(new.address).active
    reg.anchor(new, root=b"\x31" * 32, leaf_count=1)
    assert reg.anchor_of(a.address, b"\x31" * 32).agency == a.address


def test_new_account_is_unusable_in_the_move_second(chain_env):
    reg, admin, a = chain_env.registry, chain_env.admin, chain_env.agency_a
    new = new_account()
    fund_from_dev_account(chain_env.w3, new.address)  # eth-tester checks the caller's balance
    moved = reg.move_agency(admin, a.address, new_account=new.address)
    at = block_time(reg, moved)
    with reverts("AccountNotYetUsable") as info:
        call_in_latest_block(
            reg, new, raw_contract(chain_env.w3, reg).functions.anchor(b"\x32" * 32, 1)
        )
    assert info.value.error_args["notBefore"] == at + 1
    with reverts("AccountNotYetUsable"):
        call_in_latest_block(
            reg, new, raw_contract(chain_env.w3, reg).functions.proposeSigningKey(b"\x33" * 32)
        )


# -------------------------------------------------------------------- check


def test_check_reports_forged_proof_and_unknown_root(chain_env):
    reg, a = chain_env.registry, chain_env.agency_a
    batch = make_batch("check", 4)
    reg.anchor(a, root=batch.root, leaf_count=4)
    reg.revoke(a, root=batch.root, leaf=batch.leaf(0), proof=batch.proof(0), reason=3)
    forged = reg.check(agency=a.address, leaf=batch.leaf(0), proof=batch.proof(3), root=batch.root)
    assert not forged.included
    assert forged.anchor.agency == a.address
    assert not forged.leaf_revocation.revoked  # not tied to this root: not reported
    unknown = reg.check(
        agency=a.address, leaf=batch.leaf(0), proof=batch.proof(0), root=b"\x44" * 32
    )
    assert unknown.anchor.agency is None and unknown.agency_status is AgencyStatus.NONE
    assert unknown.anchor.anchored_at == unknown.anchor.block_number == 0
    assert unknown.void_since == 0
    # the right root under the wrong agency is "not anchored" too
    other = reg.check(
        agency=chain_env.agency_b.address,
        leaf=batch.leaf(1),
        proof=batch.proof(1),
        root=batch.root,
    )
    assert other.included and other.anchor.agency is None
    assert other.agency_status is AgencyStatus.NONE


def test_check_shows_suspension_without_hiding_anchor(chain_env):
    reg, a = chain_env.registry, chain_env.agency_a
    batch = make_batch("check-suspended", 4)
    anchored = reg.anchor(a, root=batch.root, leaf_count=4)
    result = reg.suspend_agency(chain_env.admin, a.address)
    res = reg.check(agency=a.address, leaf=batch.leaf(0), proof=batch.proof(0), root=batch.root)
    assert res.included and res.anchor.agency == a.address
    assert res.anchor.block_number == anchored.block_number and res.anchor.leaf_count == 4
    assert res.agency_status is AgencyStatus.SUSPENDED
    assert res.agency_status_changed_at == block_time(reg, result)
    assert res.void_since == 0


# -------------------------------------------------------- events and rebuild


def test_every_state_change_emits_its_event(chain_env):
    reg, admin, a = chain_env.registry, chain_env.admin, chain_env.agency_a
    start = chain_env.w3.eth.block_number + 1
    batch = make_batch("events", 4)
    reg.anchor(a, root=batch.root, leaf_count=4)
    reg.revoke(
        a,
        root=batch.root,
        leaf=batch.leaf(1),
        proof=batch.proof(1),
        reason=Reason.SUPERSEDED,
        replacement=b"\x77" * 32,
    )
    reg.revoke_by_authority(
        admin, agency=a.address, root=batch.root, leaf=batch.leaf(2), proof=batch.proof(2), reason=5
    )
    reg.propose_signing_key(a, b"\xa3" * 32)
    reg.confirm_signing_key(admin, a.address, b"\xa3" * 32)
    reg.suspend_agency(admin, a.address)
    reg.reinstate_agency(admin, a.address)
    since = latest_time(reg)
    reg.mark_compromised(admin, a.address, since=since)
    new = new_account()
    reg.move_agency(admin, a.address, new_account=new.address)
    reg.register_agency(
        admin, account=chain_env.outsider.address, name="Land Office", signing_key=b"\xc1" * 32
    )
    events = list(fetch_events(reg, from_block=start))
    assert [(e.name, e.args) for e in events] == [
        ("Anchored", {"agency": a.address, "root": batch.root, "leafCount": 4}),
        (
            "Revoked",
            {
                "agency": a.address,
                "root": batch.root,
                "hash": batch.leaf(1),
                "reason": 2,
                "replacement": b"\x77" * 32,
            },
        ),
        (
            "RevokedByAuthority",
            {"agency": a.address, "root": batch.root, "hash": batch.leaf(2), "reason": 5},
        ),
        ("SigningKeyProposed", {"agency": a.address, "key": b"\xa3" * 32}),
        (
            "SigningKeyRotated",
            {"agency": a.address, "oldKey": chain_env.key_a, "newKey": b"\xa3" * 32},
        ),
        ("AgencySuspended", {"agency": a.address}),
        ("AgencyReinstated", {"agency": a.address}),
        ("AgencyCompromised", {"agency": a.address, "since": since}),
        (
            "AgencyMoved",
            {"agency": a.address, "oldAccount": a.address, "newAccount": new.address},
        ),
        (
            "AgencyRegistered",
            {
                "agency": chain_env.outsider.address,
                "name": "Land Office",
                "signingKey": b"\xc1" * 32,
            },
        ),
    ]
    granted = [e for e in fetch_events(reg) if e.name == "RoleGranted"]
    assert [(e.args["role"], e.args["account"]) for e in granted] == [(ZERO, admin.address)]


def test_indexed_topics_match_the_documented_signatures(chain_env):
    """The event signatures and `indexed` markers docs/contract.md documents."""
    expected = {
        "AgencyRegistered": ("(address,string,bytes32)", [True, False, True]),
        "AgencySuspended": ("(address)", [True]),
        "AgencyReinstated": ("(address)", [True]),
        "AgencyCompromised": ("(address,uint64)", [True, False]),
        "AgencyMoved": ("(address,address,address)", [True, True, True]),
        "SigningKeyProposed": ("(address,bytes32)", [True, True]),
        "SigningKeyRotated": ("(address,bytes32,bytes32)", [True, True, True]),
        "Anchored": ("(address,bytes32,uint32)", [True, True, False]),
        "Revoked": ("(address,bytes32,bytes32,uint8,bytes32)", [True, True, True, False, False]),
        "RevokedByAuthority": ("(address,bytes32,bytes32,uint8)", [True, True, True, False]),
    }
    events = {e["name"]: e for e in chain_env.registry.abi if e["type"] == "event"}
    for name, (types, indexed) in expected.items():
        inputs = events[name]["inputs"]
        assert "(" + ",".join(i["type"] for i in inputs) + ")" == types, name
        assert [i["indexed"] for i in inputs] == indexed, name


def test_event_log_alone_rebuilds_every_view(chain_env):
    reg, admin = chain_env.registry, chain_env.admin
    a, b = chain_env.agency_a, chain_env.agency_b
    batch_a, batch_b, late = make_batch("rebuild-a", 5), make_batch("rebuild-b", 3), None
    reg.anchor(a, root=batch_a.root, leaf_count=5)
    reg.anchor(b, root=batch_b.root, leaf_count=3)
    reg.revoke(
        a,
        root=batch_a.root,
        leaf=batch_a.leaf(3),
        proof=batch_a.proof(3),
        reason=Reason.SUPERSEDED,
        replacement=b"\x77" * 32,
    )
    reg.revoke_by_authority(
        admin,
        agency=a.address,
        root=batch_a.root,
        leaf=batch_a.leaf(3),
        proof=batch_a.proof(3),
        reason=Reason.COURT_ORDER,
    )
    reg.revoke(b, root=batch_b.root, leaf=batch_b.root, proof=[], reason=Reason.WITHDRAWN)
    reg.rotate_signing_key(b, admin, b"\xb2" * 32)
    reg.propose_signing_key(b, b"\xb3" * 32)  # left pending
    reg.suspend_agency(admin, a.address)
    reg.reinstate_agency(admin, a.address)
    advance(chain_env, 5)
    # A's account is stolen: the thief anchors and revokes, then A is marked and moved.
    late = make_batch("rebuild-thief", 2)
    thief_anchor = reg.anchor(a, root=late.root, leaf_count=2)
    reg.revoke(a, root=batch_a.root, leaf=batch_a.leaf(0), proof=batch_a.proof(0), reason=3)
    reg.propose_signing_key(a, b"\x7e" * 32)  # the thief's key: dropped by the compromise mark
    reg.mark_compromised(admin, a.address, since=block_time(reg, thief_anchor))
    new = new_account()
    reg.move_agency(admin, a.address, new_account=new.address)

    # small span: several eth_getLogs ranges, as against a node that caps them
    state = rebuild_state(fetch_events(reg, span=3))
    assert state.admins == {admin.address}
    assert set(state.agencies) == {a.address, b.address}
    for agency, info in state.agencies.items():
        assert reg.agency_of(agency) == info
        assert reg.pending_key_of(agency) == state.pending_keys.get(agency)
        assert reg.compromises_of(agency) == state.compromises[agency]
        assert reg.status_history_of(agency) == state.status_history[agency]
    assert state.pending_keys == {b.address: b"\xb3" * 32}
    assert set(state.accounts) == {a.address, b.address, new.address}
    for account, account_info in state.accounts.items():
        assert reg.account_of(account) == account_info
    assert state.agency_of_account(new.address) == a.address
    assert state.agency_of_account(a.address) is None
    assert set(state.keys) == {
        (a.address, chain_env.key_a),
        (b.address, chain_env.key_b),
        (b.address, b"\xb2" * 32),
    }
    for (agency, key), window in state.keys.items():
        assert reg.key_of(agency, key) == window
    assert set(state.anchors) == {
        (a.address, batch_a.root),
        (b.address, batch_b.root),
        (a.address, late.root),
    }
    for (agency, root), anchor in state.anchors.items():
        assert reg.anchor_of(agency, root) == anchor
        tx_hash, block = state.anchor_tx[(agency, root)]
        receipt = chain_env.w3.eth.get_transaction_receipt(tx_hash)
        assert receipt["blockNumber"] == block == anchor.block_number
    assert set(state.revocations) == {
        (a.address, batch_a.leaf(3)),
        (a.address, batch_a.leaf(0)),
        (b.address, batch_b.root),
    }
    for (agency, hash_), revocation in state.revocations.items():
        assert reg.revocation_of(agency, hash_) == revocation
    # the mirror answers check() exactly as the contract does
    cases = (
        [(a.address, batch_a, i) for i in range(5)]
        + [(b.address, batch_b, i) for i in range(3)]
        + [(a.address, late, 0), (b.address, late, 1)]
    )
    for agency, batch, i in cases:
        on_chain = reg.check(
            agency=agency, leaf=batch.leaf(i), proof=batch.proof(i), root=batch.root
        )
        mirrored = state.check(agency=agency, leaf=batch.leaf(i), root=batch.root, included=True)
        assert mirrored == on_chain, (agency, i)
    forged = reg.check(agency=a.address, leaf=batch_a.leaf(0), proof=[], root=batch_a.root)
    assert (
        state.check(agency=a.address, leaf=batch_a.leaf(0), root=batch_a.root, included=False)
        == forged
    )


# ------------------------------------------------------------ identity check


def test_attach_checks_chain_and_code(chain_env):
    w3, reg = chain_env.w3, chain_env.registry
    same = RegistryContract.at(w3, reg.address, chain_id=reg.chain_id)
    assert same.address == reg.address
    with pytest.raises(WrongChain, match="chain id"):
        RegistryContract.at(w3, reg.address, chain_id=reg.chain_id + 1)
    with pytest.raises(RegistryNotFound, match="no contract at"):
        RegistryContract.at(w3, chain_env.outsider.address)
    with pytest.raises(InvalidInput, match="not a 20-byte hex address"):
        RegistryContract.at(w3, "0x1234")
