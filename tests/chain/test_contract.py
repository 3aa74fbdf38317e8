"""RecordRegistry conformance suite, run on the embedded chain and on anvil (by parameter):
every function, every revert, every event, and the event log rebuilding the state."""

from __future__ import annotations

import pytest
from eth_hash.auto import keccak

from registry.chain import AgencyStatus, RegistryContract
from registry.chain.contract import Reason
from registry.chain.events import fetch_events, rebuild_state
from registry.errors import ContractRevert, InvalidInput, RegistryNotFound, WrongChain

ZERO = b"\0" * 32


def leaf_of(n: int) -> bytes:
    """A leaf as the registry builds it: keccak256(keccak256(digest))."""
    return keccak(keccak(n.to_bytes(32, "big")))


def pair(a: bytes, b: bytes) -> bytes:
    return keccak(min(a, b) + max(a, b))


def four_leaf_tree(base: int = 1) -> tuple[bytes, list[bytes], list[list[bytes]]]:
    """Root, leaves and proofs of a 4-leaf sorted-pair tree (an oracle independent of
    registry.merkle)."""
    leaves = [leaf_of(base + i) for i in range(4)]
    left, right = pair(leaves[0], leaves[1]), pair(leaves[2], leaves[3])
    proofs = [[leaves[1], right], [leaves[0], right], [leaves[3], left], [leaves[2], left]]
    return pair(left, right), leaves, proofs


def reverts(name: str) -> pytest.RaisesExc[ContractRevert]:
    return pytest.raises(ContractRevert, match=rf"\b{name}\(")


# ------------------------------------------------------------------ agencies


def test_register_agency_sets_state_and_key_window(chain_env):
    reg = chain_env.registry
    info = reg.agency_of(chain_env.agency_a.address)
    assert info.status is AgencyStatus.ACTIVE
    assert info.name == "Civil Registry Office"
    assert info.signing_key == chain_env.key_a
    window = reg.key_of(chain_env.key_a)
    assert window.agency == chain_env.agency_a.address
    assert window.valid_from == info.registered_at and window.valid_until == 0
    assert reg.is_admin(chain_env.admin.address)
    assert not reg.is_admin(chain_env.agency_a.address)


def test_only_admin_registers_suspends_reinstates(chain_env):
    reg, outsider = chain_env.registry, chain_env.outsider
    with reverts("AccessControlUnauthorizedAccount"):
        reg.register_agency(
            outsider, account=outsider.address, name="Fake", signing_key=b"\x01" * 32
        )
    with reverts("AccessControlUnauthorizedAccount"):
        reg.suspend_agency(chain_env.agency_a, chain_env.agency_b.address)
    with reverts("AccessControlUnauthorizedAccount"):
        reg.reinstate_agency(outsider, chain_env.agency_b.address)


def test_register_rejects_bad_arguments(chain_env):
    reg, admin = chain_env.registry, chain_env.admin
    with reverts("AgencyAlreadyRegistered"):
        reg.register_agency(
            admin, account=chain_env.agency_a.address, name="Again", signing_key=b"\x02" * 32
        )
    with reverts("EmptyName"):
        reg.register_agency(
            admin, account=chain_env.outsider.address, name="", signing_key=b"\x02" * 32
        )
    with reverts("ZeroSigningKey"):
        reg.register_agency(admin, account=chain_env.outsider.address, name="X", signing_key=ZERO)
    with reverts("SigningKeyAlreadyRegistered"):
        reg.register_agency(
            admin, account=chain_env.outsider.address, name="X", signing_key=chain_env.key_b
        )
    with pytest.raises(InvalidInput, match="signing key: expected 32 bytes"):
        reg.register_agency(
            admin, account=chain_env.outsider.address, name="X", signing_key=b"\x01"
        )


def test_suspend_and_reinstate(chain_env):
    reg, admin, a = chain_env.registry, chain_env.admin, chain_env.agency_a
    reg.suspend_agency(admin, a.address)
    info = reg.agency_of(a.address)
    assert info.status is AgencyStatus.SUSPENDED
    with reverts("AgencyNotActive"):
        reg.suspend_agency(admin, a.address)
    with reverts("AgencyNotActive"):
        reg.anchor(a, root=b"\x01" * 32, leaf_count=1)
    with reverts("AgencyNotActive"):
        reg.rotate_signing_key(a, b"\x03" * 32)
    reg.reinstate_agency(admin, a.address)
    assert reg.agency_of(a.address).status is AgencyStatus.ACTIVE
    with reverts("AgencyNotSuspended"):
        reg.reinstate_agency(admin, a.address)
    with reverts("UnknownAgency"):
        reg.suspend_agency(admin, chain_env.outsider.address)
    with reverts("UnknownAgency"):
        reg.reinstate_agency(admin, chain_env.outsider.address)
    reg.anchor(a, root=b"\x01" * 32, leaf_count=1)


def test_rotate_signing_key_closes_old_window(chain_env):
    reg, a = chain_env.registry, chain_env.agency_a
    root_before = b"\x05" * 32
    reg.anchor(a, root=root_before, leaf_count=1)
    chain_env.advance(5)
    new_key = b"\xa2" * 32
    result = reg.rotate_signing_key(a, new_key)
    rotated_at = chain_env.w3.eth.get_block(result.block_number)["timestamp"]
    chain_env.advance(5)
    root_after = b"\x06" * 32
    reg.anchor(a, root=root_after, leaf_count=1)
    old, new = reg.key_of(chain_env.key_a), reg.key_of(new_key)
    assert old.valid_until == rotated_at and new.valid_from == rotated_at and new.valid_until == 0
    assert reg.agency_of(a.address).signing_key == new_key
    # A key used outside its window: the old key is not valid for the anchor made after rotation.
    before, after = reg.anchor_of(root_before), reg.anchor_of(root_after)
    assert old.valid_at(before.anchored_at)
    assert not old.valid_at(after.anchored_at)
    assert new.valid_at(after.anchored_at)
    # ... and a retired key can never be re-opened by rotating back to it.
    with reverts("SigningKeyAlreadyRegistered"):
        reg.rotate_signing_key(a, chain_env.key_a)
    with reverts("SigningKeyAlreadyRegistered"):
        reg.rotate_signing_key(chain_env.agency_b, new_key)
    with reverts("ZeroSigningKey"):
        reg.rotate_signing_key(a, ZERO)
    with reverts("UnknownAgency"):
        reg.rotate_signing_key(chain_env.outsider, b"\x07" * 32)


# ------------------------------------------------------------------- anchors


def test_anchor_records_agency_time_and_count(chain_env):
    reg, a = chain_env.registry, chain_env.agency_a
    root, _, _ = four_leaf_tree()
    result = reg.anchor(a, root=root, leaf_count=4)
    info = reg.anchor_of(root)
    assert info.agency == a.address and info.leaf_count == 4
    assert info.anchored_at == chain_env.w3.eth.get_block(result.block_number)["timestamp"]
    assert reg.anchor_of(b"\x09" * 32).agency is None


def test_anchor_reverts(chain_env):
    reg, a = chain_env.registry, chain_env.agency_a
    with reverts("UnknownAgency"):
        reg.anchor(chain_env.outsider, root=b"\x01" * 32, leaf_count=1)
    with reverts("UnknownAgency"):
        reg.anchor(chain_env.admin, root=b"\x01" * 32, leaf_count=1)
    with reverts("ZeroRoot"):
        reg.anchor(a, root=ZERO, leaf_count=1)
    with pytest.raises(InvalidInput, match="leaf count 0"):
        reg.anchor(a, root=b"\x01" * 32, leaf_count=0)
    with reverts("ZeroLeafCount"):  # the contract refuses it too, not only the binding
        reg._send(a, reg.contract.functions.anchor(b"\x01" * 32, 0), "anchor")
    reg.anchor(a, root=b"\x01" * 32, leaf_count=1)
    with reverts("AlreadyAnchored"):
        reg.anchor(a, root=b"\x01" * 32, leaf_count=1)
    with reverts("AlreadyAnchored"):  # first come: another agency cannot claim the root
        reg.anchor(chain_env.agency_b, root=b"\x01" * 32, leaf_count=1)


# --------------------------------------------------------------- revocations


def test_revoke_leaf_with_proof_and_check(chain_env):
    reg, a = chain_env.registry, chain_env.agency_a
    root, leaves, proofs = four_leaf_tree()
    reg.anchor(a, root=root, leaf_count=4)
    ok = reg.check(leaf=leaves[2], proof=proofs[2], root=root)
    assert ok.included and ok.anchor.agency == a.address and ok.agency_status is AgencyStatus.ACTIVE
    assert not ok.leaf_revocation.revoked and not ok.root_revocation.revoked

    replacement = b"\xee" * 32
    reg.revoke(
        a,
        root=root,
        leaf=leaves[2],
        proof=proofs[2],
        reason=Reason.SUPERSEDED,
        replacement=replacement,
    )
    revoked = reg.check(leaf=leaves[2], proof=proofs[2], root=root)
    assert revoked.leaf_revocation.revoked
    assert revoked.leaf_revocation.reason == Reason.SUPERSEDED
    assert revoked.leaf_revocation.replacement == replacement
    assert not revoked.root_revocation.revoked
    assert reg.revocation_of(a.address, leaves[2]).replacement == replacement
    # the sibling records are untouched
    assert not reg.check(leaf=leaves[1], proof=proofs[1], root=root).leaf_revocation.revoked
    with reverts("AlreadyRevoked"):
        reg.revoke(a, root=root, leaf=leaves[2], proof=proofs[2], reason=Reason.FRAUD)


def test_revoke_whole_batch(chain_env):
    reg, a = chain_env.registry, chain_env.agency_a
    root, leaves, proofs = four_leaf_tree()
    reg.anchor(a, root=root, leaf_count=4)
    reg.revoke(a, root=root, leaf=root, proof=[], reason=Reason.COURT_ORDER)
    for leaf, proof in zip(leaves, proofs, strict=True):
        result = reg.check(leaf=leaf, proof=proof, root=root)
        assert (
            result.root_revocation.revoked and result.root_revocation.reason == Reason.COURT_ORDER
        )
        assert not result.leaf_revocation.revoked


def test_revoke_reverts(chain_env):
    reg, a, b = chain_env.registry, chain_env.agency_a, chain_env.agency_b
    root, leaves, proofs = four_leaf_tree()
    reg.anchor(a, root=root, leaf_count=4)
    with reverts("NotAnchoringAgency"):  # another agency's root
        reg.revoke(b, root=root, leaf=leaves[0], proof=proofs[0], reason=Reason.FRAUD)
    with reverts("NotAnchoringAgency"):
        reg.revoke(b, root=root, leaf=root, proof=[], reason=Reason.FRAUD)
    with reverts("UnknownAgency"):
        reg.revoke(chain_env.outsider, root=root, leaf=root, proof=[], reason=Reason.FRAUD)
    with reverts("InvalidProof"):  # wrong proof
        reg.revoke(a, root=root, leaf=leaves[0], proof=proofs[1], reason=Reason.FRAUD)
    with reverts("InvalidProof"):  # a leaf that is not in the batch
        reg.revoke(a, root=root, leaf=leaf_of(99), proof=proofs[0], reason=Reason.FRAUD)
    with reverts("InvalidProof"):  # the whole batch needs an empty proof
        reg.revoke(a, root=root, leaf=root, proof=proofs[0], reason=Reason.FRAUD)
    with reverts("NotAnchored"):
        reg.revoke(a, root=b"\x0f" * 32, leaf=b"\x0f" * 32, proof=[], reason=Reason.FRAUD)
    with reverts("NotAnchored"):  # zero root is never anchored
        reg.revoke(a, root=ZERO, leaf=ZERO, proof=[], reason=Reason.FRAUD)
    for bad in (0, 6, 255):
        with reverts("InvalidReason"):
            reg.revoke(a, root=root, leaf=leaves[0], proof=proofs[0], reason=bad)
    with reverts("MissingReplacement"):
        reg.revoke(a, root=root, leaf=leaves[0], proof=proofs[0], reason=Reason.SUPERSEDED)
    chain_env.registry.suspend_agency(chain_env.admin, a.address)
    with reverts("AgencyNotActive"):  # a suspended agency is frozen, revocations included
        reg.revoke(a, root=root, leaf=leaves[0], proof=proofs[0], reason=Reason.FRAUD)


def test_agency_cannot_revoke_another_agencys_record_via_its_own_batch(chain_env):
    """B anchors a batch holding A's leaf and revokes it there: A's record stays valid, because
    revocations are scoped to the agency that anchored the checked root."""
    reg, a, b = chain_env.registry, chain_env.agency_a, chain_env.agency_b
    root_a, leaves, proofs = four_leaf_tree()
    reg.anchor(a, root=root_a, leaf_count=4)
    target = leaves[0]
    root_b = pair(target, leaf_of(500))
    reg.anchor(b, root=root_b, leaf_count=2)
    reg.revoke(b, root=root_b, leaf=target, proof=[leaf_of(500)], reason=Reason.FRAUD)
    assert reg.check(leaf=target, proof=[leaf_of(500)], root=root_b).leaf_revocation.revoked
    assert not reg.check(leaf=target, proof=proofs[0], root=root_a).leaf_revocation.revoked


def test_check_reports_forged_proof_and_unknown_root(chain_env):
    reg, a = chain_env.registry, chain_env.agency_a
    root, leaves, proofs = four_leaf_tree()
    reg.anchor(a, root=root, leaf_count=4)
    reg.revoke(a, root=root, leaf=leaves[0], proof=proofs[0], reason=Reason.FRAUD)
    forged = reg.check(leaf=leaves[0], proof=proofs[3], root=root)
    assert not forged.included
    assert not forged.leaf_revocation.revoked  # not tied to this root: not reported
    unknown = reg.check(leaf=leaves[0], proof=proofs[0], root=b"\x44" * 32)
    assert unknown.anchor.agency is None and unknown.agency_status is AgencyStatus.NONE


def test_check_shows_suspension_without_hiding_anchor(chain_env):
    reg, a = chain_env.registry, chain_env.agency_a
    root, leaves, proofs = four_leaf_tree()
    reg.anchor(a, root=root, leaf_count=4)
    result = reg.suspend_agency(chain_env.admin, a.address)
    suspended_at = chain_env.w3.eth.get_block(result.block_number)["timestamp"]
    res = reg.check(leaf=leaves[0], proof=proofs[0], root=root)
    assert res.included and res.anchor.agency == a.address
    assert (
        res.agency_status is AgencyStatus.SUSPENDED and res.agency_status_changed_at == suspended_at
    )


# -------------------------------------------------------- events and rebuild


def test_every_state_change_emits_its_event(chain_env):
    reg, a = chain_env.registry, chain_env.agency_a
    start = chain_env.w3.eth.block_number + 1
    root, leaves, proofs = four_leaf_tree()
    reg.anchor(a, root=root, leaf_count=4)
    reg.revoke(a, root=root, leaf=leaves[1], proof=proofs[1], reason=Reason.ISSUED_IN_ERROR)
    reg.rotate_signing_key(a, b"\xa3" * 32)
    reg.suspend_agency(chain_env.admin, a.address)
    reg.reinstate_agency(chain_env.admin, a.address)
    reg.register_agency(
        chain_env.admin,
        account=chain_env.outsider.address,
        name="Land Office",
        signing_key=b"\xc1" * 32,
    )
    events = list(fetch_events(reg, from_block=start))
    assert [e.name for e in events] == [
        "Anchored",
        "Revoked",
        "SigningKeyRotated",
        "AgencySuspended",
        "AgencyReinstated",
        "AgencyRegistered",
    ]
    anchored, revoked, rotated, suspended, _, registered = events
    assert anchored.args == {"root": root, "agency": a.address, "leafCount": 4}
    assert revoked.args == {
        "root": root,
        "hash": leaves[1],
        "agency": a.address,
        "reason": 1,
        "replacement": ZERO,
    }
    assert rotated.args == {"agency": a.address, "oldKey": chain_env.key_a, "newKey": b"\xa3" * 32}
    assert suspended.args == {"account": a.address}
    assert registered.args == {
        "account": chain_env.outsider.address,
        "name": "Land Office",
        "signingKey": b"\xc1" * 32,
    }


def test_event_log_alone_rebuilds_registry_state(chain_env):
    reg, a, b, admin = chain_env.registry, chain_env.agency_a, chain_env.agency_b, chain_env.admin
    root, leaves, proofs = four_leaf_tree()
    root2, _, _ = four_leaf_tree(base=10)
    reg.anchor(a, root=root, leaf_count=4)
    reg.anchor(b, root=root2, leaf_count=4)
    reg.revoke(
        a,
        root=root,
        leaf=leaves[3],
        proof=proofs[3],
        reason=Reason.SUPERSEDED,
        replacement=b"\x77" * 32,
    )
    reg.revoke(b, root=root2, leaf=root2, proof=[], reason=Reason.WITHDRAWN)
    reg.rotate_signing_key(b, b"\xb2" * 32)
    reg.suspend_agency(admin, a.address)

    # small span: several eth_getLogs ranges, as against a node that caps them
    state = rebuild_state(fetch_events(reg, span=3))
    assert state.admins == {admin.address}
    for account, info in state.agencies.items():
        assert reg.agency_of(account) == info
    assert set(state.agencies) == {a.address, b.address}
    for key, window in state.keys.items():
        assert reg.key_of(key) == window
    assert len(state.keys) == 3
    for r, anchor in state.anchors.items():
        assert reg.anchor_of(r) == anchor
    assert set(state.anchors) == {root, root2}
    for (agency, hash_), revocation in state.revocations.items():
        assert reg.revocation_of(agency, hash_) == revocation
    assert set(state.revocations) == {(a.address, leaves[3]), (b.address, root2)}


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
