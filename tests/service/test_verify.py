"""Verification outcomes on the embedded chain and anvil (protocol v2): VALID, IN_FORCE,
TAMPERED, REVOKED, SUPERSEDED, UNKNOWN, UNTRUSTED (registry, key, misstated or void anchor),
ERROR (node down, wrong chain, lying node) — never a failure for an outage. The precedence of
docs/receipt.md section 5.3 is tested as a table, pair by pair (tests/service/test_verdicts.py)."""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from web3 import Web3

from registry import keys, merkle
from registry.chain import RegistryContract, connect
from registry.chain.contract import Reason, ReceiptReading
from registry.receipt import Receipt, build_receipt, receipt_to_json
from registry.service.sandbox import anchor_by_hand
from registry.service.verify import (
    ChainReader,
    Outcome,
    TrustedRegistry,
    registry_resolver,
    verify_receipt,
)

KEY_A = keys.signing_key_from_seed(b"\x01" * 32)  # TEST ONLY


@dataclass
class Issued:
    tree: merkle.MerkleTree
    digests: list[bytes]
    receipts: list[Receipt]
    signing_key: object


def issue_batch(
    env, *, count: int = 5, key=None, tag: str = "doc", account=None, agency=None, kind="file"
) -> Issued:
    """Anchor `count` digests for agency A (or `account`, acting for `agency`) and build their
    receipts, signed with `key` (default: A's registered test key)."""
    key = key or KEY_A
    digests = [hashlib.sha256(f"{tag} {i}".encode()).digest() for i in range(count)]
    tree, receipts = anchor_by_hand(
        env.registry,
        account=account or env.agency_a,
        signing_key=key,
        digests=digests,
        kind=kind,
        agency=agency,
    )
    return Issued(tree, digests, receipts, key)


@pytest.fixture
def env(chain_env):
    """Agency A's registered key is the seed-0x01 test key, so receipts it signs verify."""
    chain_env.registry.rotate_signing_key(
        chain_env.agency_a, chain_env.admin, keys.public_key_bytes(KEY_A)
    )
    return chain_env


def reader_for(env, **kw) -> ChainReader:
    return ChainReader(registry_for=lambda chain_id, address: env.registry, **kw)


def trusted(env) -> list[TrustedRegistry]:
    return [TrustedRegistry(env.registry.chain_id, env.registry.address)]


def verdict(env, receipt, *, digest=None, kind="file", reader=None):
    return verify_receipt(
        receipt,
        trusted=trusted(env),
        reader=reader or reader_for(env),
        digest=digest,
        digest_kind=kind if digest is not None else None,
    )


def test_valid_with_document_digest(env):
    issued = issue_batch(env)
    result = verdict(env, issued.receipts[3], digest=issued.digests[3])
    assert result.outcome is Outcome.VALID, result.to_json()
    assert (
        result.block_number
        == env.registry.anchor_of(env.agency_a.address, issued.tree.root).block_number
    )
    assert result.agency_name == "Civil Registry Office"
    assert [c.name for c in result.checks] == [
        "format",
        "integrity",
        "inclusion",
        "signature",
        "trust",
        "anchored",
        "agency",
        "key",
        "revocation",
    ]
    assert all(c.status == "pass" for c in result.checks)


def test_receipt_alone_is_in_force_never_valid(env):
    issued = issue_batch(env)
    result = verify_receipt(
        receipt_to_json(issued.receipts[0]), trusted=trusted(env), reader=reader_for(env)
    )
    assert result.outcome is Outcome.IN_FORCE
    assert {c.name: c.status for c in result.checks}["integrity"] == "skip"


def test_altered_document_is_tampered(env):
    issued = issue_batch(env)
    other = hashlib.sha256(b"doc 3 (altered)").digest()
    result = verdict(env, issued.receipts[3], digest=other)
    assert result.outcome is Outcome.TAMPERED
    assert {c.name: c.status for c in result.checks}["integrity"] == "fail"


def test_revoked_and_superseded(env):
    issued = issue_batch(env)
    reg = env.registry
    leaf, proof = issued.tree.leaf(1), issued.tree.proof(1)
    reg.revoke(env.agency_a, root=issued.tree.root, leaf=leaf, proof=proof, reason=Reason.FRAUD)
    revoked = verify_receipt(issued.receipts[1], trusted=trusted(env), reader=reader_for(env))
    assert revoked.outcome is Outcome.REVOKED and revoked.revocation_reason == "fraud"
    new = hashlib.sha256(b"corrected doc 2").digest()
    reg.revoke(
        env.agency_a,
        root=issued.tree.root,
        leaf=issued.tree.leaf(2),
        proof=issued.tree.proof(2),
        reason=Reason.SUPERSEDED,
        replacement=new,
    )
    superseded = verify_receipt(issued.receipts[2], trusted=trusted(env), reader=reader_for(env))
    assert superseded.outcome is Outcome.SUPERSEDED
    assert superseded.replacement == "0x" + new.hex()
    assert (
        verify_receipt(issued.receipts[0], trusted=trusted(env), reader=reader_for(env)).outcome
        is Outcome.IN_FORCE
    )
    reg.revoke(
        env.agency_a,
        root=issued.tree.root,
        leaf=issued.tree.root,
        proof=[],
        reason=Reason.WITHDRAWN,
    )
    whole = verify_receipt(issued.receipts[0], trusted=trusted(env), reader=reader_for(env))
    assert whole.outcome is Outcome.REVOKED and "whole batch" in whole.checks[-1].reason


def test_revocation_cache_is_short_lived(env):
    issued = issue_batch(env)
    reader = reader_for(env, revocation_ttl=60.0)
    assert (
        verify_receipt(issued.receipts[0], trusted=trusted(env), reader=reader).outcome
        is Outcome.IN_FORCE
    )
    env.registry.revoke(
        env.agency_a, root=issued.tree.root, leaf=issued.tree.root, proof=[], reason=Reason.FRAUD
    )
    # inside the TTL the cached answer stands; with a zero TTL the revocation shows at once
    assert (
        verify_receipt(issued.receipts[0], trusted=trusted(env), reader=reader).outcome
        is Outcome.IN_FORCE
    )
    fresh = reader_for(env, revocation_ttl=0.0)
    assert (
        verify_receipt(issued.receipts[0], trusted=trusted(env), reader=fresh).outcome
        is Outcome.REVOKED
    )


def test_untrusted_registry(env):
    issued = issue_batch(env)
    result = verify_receipt(
        issued.receipts[0],
        trusted=[TrustedRegistry(env.registry.chain_id, "0x" + "11" * 20)],
        reader=reader_for(env),
    )
    assert result.outcome is Outcome.UNTRUSTED
    result = verify_receipt(
        issued.receipts[0],
        trusted=[TrustedRegistry(1, env.registry.address)],
        reader=reader_for(env),
    )
    assert result.outcome is Outcome.UNTRUSTED


def test_unknown_root(env):
    # a receipt for a root that was never anchored (signed with the right key)
    issued = issue_batch(env)
    digests = [hashlib.sha256(b"never anchored").digest()]
    tree = merkle.MerkleTree.from_digests(digests, merkle.KIND_FILE)
    reg = env.registry
    agency = env.agency_a.address
    sig = keys.sign_root(
        issued.signing_key,
        chain_id=reg.chain_id,
        registry=reg.address,
        agency=agency,
        root=tree.root,
    )
    receipt = build_receipt(
        digest=digests[0],
        digest_kind="file",
        root=tree.root,
        proof=[],
        count=1,
        chain_id=reg.chain_id,
        registry=reg.address,
        agency=agency,
        block_number=1,
        anchored_at=1_800_000_000,
        public_key=keys.public_key_bytes(issued.signing_key),
        signature=sig,
    )
    assert verdict(env, receipt).outcome is Outcome.UNKNOWN


def test_receipt_signed_by_rotated_out_key_is_untrusted(env):
    old_key = keys.signing_key_from_seed(b"\x01" * 32)
    env.advance(5)
    new_key = keys.signing_key_from_seed(b"\x02" * 32)
    env.registry.rotate_signing_key(env.agency_a, env.admin, keys.public_key_bytes(new_key))
    env.advance(5)
    issued = issue_batch(env, key=old_key)  # anchored after rotation, signed with the old key
    result = verify_receipt(issued.receipts[0], trusted=trusted(env), reader=reader_for(env))
    assert result.outcome is Outcome.UNTRUSTED
    assert "not at the anchor time" in {c.name: c.reason for c in result.checks}["key"]


def test_key_of_another_agency_is_untrusted(env):
    key_b = keys.signing_key_from_seed(b"\x03" * 32)
    env.registry.rotate_signing_key(env.agency_b, env.admin, keys.public_key_bytes(key_b))
    issued = issue_batch(env, key=key_b)
    result = verify_receipt(issued.receipts[0], trusted=trusted(env), reader=reader_for(env))
    assert result.outcome is Outcome.UNTRUSTED


def test_node_down_is_error_not_invalid(env):
    issued = issue_batch(env)

    def unreachable(chain_id: int) -> Web3:
        return connect("http://127.0.0.1:1", timeout=1)

    reader = ChainReader(registry_for=registry_resolver(unreachable))
    result = verify_receipt(issued.receipts[0], trusted=trusted(env), reader=reader)
    assert result.outcome is Outcome.ERROR
    statuses = {c.name: c.status for c in result.checks}
    assert statuses["anchored"] == "error" and "fail" not in statuses.values()


def test_resolver_attaches_identity_checked(env):
    issued = issue_batch(env)
    reader = ChainReader(registry_for=registry_resolver(lambda chain_id: env.w3))
    assert (
        verify_receipt(issued.receipts[4], trusted=trusted(env), reader=reader).outcome
        is Outcome.IN_FORCE
    )
    assert isinstance(
        reader.registry_for(env.registry.chain_id, env.registry.address), RegistryContract
    )


# --------------------------------------------------------------- protocol v2 attacks


def test_front_run_copy_gains_the_copier_nothing(env):
    """Issue 9, item 3: B anchors A's root first (copied from the mempool), then revokes it for
    fraud. A's anchor still lands, A's receipts stay VALID, B's revocation never shows."""
    digests = [hashlib.sha256(f"doc {i}".encode()).digest() for i in range(5)]
    tree = merkle.MerkleTree.from_digests(digests, merkle.KIND_FILE)
    env.registry.anchor(env.agency_b, root=tree.root, leaf_count=tree.count)  # the copy
    issued = issue_batch(env)  # A's own anchor of the same root lands
    assert issued.tree.root == tree.root
    env.registry.revoke(env.agency_b, root=tree.root, leaf=tree.root, proof=[], reason=Reason.FRAUD)
    result = verdict(env, issued.receipts[2], digest=issued.digests[2])
    assert result.outcome is Outcome.VALID, result.to_json()
    assert result.agency == env.agency_a.address and result.revocation_reason is None


@pytest.mark.parametrize(
    "misstatement",
    [
        {"count": 6},
        {"anchored_at": 1},
        {"block_number": 1},
    ],
    ids=["leaf count", "anchor time", "block number"],
)
def test_receipt_misstating_the_anchor_is_untrusted(env, misstatement):
    """Every anchor field a verifier shows is proven: a receipt whose count, time or block
    differs from the chain (the signature does not cover them) is UNTRUSTED, not VALID."""
    issued = issue_batch(env, count=6 if "count" not in misstatement else 5)
    good = issued.receipts[0]
    merkle_info, anchor = good.merkle, good.anchor
    if "count" in misstatement:
        merkle_info = dataclasses.replace(merkle_info, count=misstatement["count"])
    if "anchored_at" in misstatement:
        anchor = dataclasses.replace(anchor, anchored_at=datetime.fromtimestamp(1, UTC))
    if "block_number" in misstatement:
        anchor = dataclasses.replace(anchor, block_number=anchor.block_number + 1000)
    forged = dataclasses.replace(good, merkle=merkle_info, anchor=anchor)
    result = verdict(env, forged, digest=issued.digests[0])
    assert result.outcome is Outcome.UNTRUSTED, result.to_json()
    assert {c.name: c.status for c in result.checks}["anchored"] == "fail"


def test_receipt_naming_another_agency_is_not_that_agencys(env):
    """The attacker re-signs A's receipt as agency B with B's own key; B never anchored the
    root, so it is UNKNOWN (not B's anchor), and the signature no longer binds A."""
    issued = issue_batch(env)
    key_b = keys.signing_key_from_seed(b"\x03" * 32)
    env.registry.rotate_signing_key(env.agency_b, env.admin, keys.public_key_bytes(key_b))
    good = issued.receipts[0]
    reg = env.registry
    sig = keys.sign_root(
        key_b,
        chain_id=reg.chain_id,
        registry=reg.address,
        agency=env.agency_b.address,
        root=good.merkle.root,
    )
    forged = dataclasses.replace(
        good,
        anchor=dataclasses.replace(good.anchor, agency=env.agency_b.address),
        signature=dataclasses.replace(
            good.signature, public_key=keys.public_key_bytes(key_b), value=sig
        ),
    )
    assert verdict(env, forged, digest=issued.digests[0]).outcome is Outcome.UNKNOWN


def test_theft_compromise_voids_the_thiefs_anchors_and_revocations(env):
    """Issue 9, item 2: a thief with A's transaction key anchors and revokes; the authority marks
    A compromised since the theft and moves A to a new account. The thief's anchor and
    revocation are void; A's earlier and later records are VALID."""
    before = issue_batch(env, tag="before")
    env.advance(10)
    theft_at = int(env.w3.eth.get_block("latest")["timestamp"]) + 1
    env.advance(1)
    # The thief cannot install its own signing key: it can only propose one.
    thief_key = keys.signing_key_from_seed(b"\x66" * 32)
    env.registry.propose_signing_key(env.agency_a, keys.public_key_bytes(thief_key))
    stolen = issue_batch(env, tag="thief", key=thief_key)
    env.registry.revoke(
        env.agency_a,
        root=before.tree.root,
        leaf=before.tree.root,
        proof=[],
        reason=Reason.FRAUD,
    )
    assert verdict(env, before.receipts[0], digest=before.digests[0]).outcome is Outcome.REVOKED
    env.registry.mark_compromised(env.admin, env.agency_a.address, since=theft_at)
    thief = verdict(env, stolen.receipts[0], digest=stolen.digests[0])
    assert thief.outcome is Outcome.UNTRUSTED
    earlier = verdict(env, before.receipts[0], digest=before.digests[0])
    assert earlier.outcome is Outcome.VALID, earlier.to_json()
    assert "void" in {c.name: c.reason for c in earlier.checks}["revocation"]
    # The authority moves A to a new account; A keeps its identity and issues again.
    from registry.chain import fund_from_dev_account, new_account

    fresh = new_account()
    fund_from_dev_account(env.w3, fresh.address)
    env.registry.move_agency(env.admin, env.agency_a.address, new_account=fresh.address)
    env.advance(2)
    after = issue_batch(env, tag="after", account=fresh, agency=env.agency_a.address)
    assert verdict(env, after.receipts[1], digest=after.digests[1]).outcome is Outcome.VALID
    assert verdict(env, stolen.receipts[0], digest=stolen.digests[0]).outcome is Outcome.UNTRUSTED


def test_real_key_anchor_inside_the_compromise_window_is_void(env):
    """A root signed with the agency's genuine key but anchored inside the window is void too:
    the authority's mark, not the signature, decides what the thief's account did."""
    env.advance(5)
    inside = issue_batch(env, tag="inside")
    env.registry.mark_compromised(
        env.admin, env.agency_a.address, since=inside.receipts[0].anchor.anchored_at_unix
    )
    result = verdict(env, inside.receipts[0], digest=inside.digests[0])
    assert result.outcome is Outcome.UNTRUSTED
    assert "compromised" in {c.name: c.reason for c in result.checks}["agency"]


def test_node_on_the_wrong_chain_is_error_not_untrusted(env):
    issued = issue_batch(env)
    other_chain = dataclasses.replace(
        issued.receipts[0],
        anchor=dataclasses.replace(issued.receipts[0].anchor, chain_id=env.registry.chain_id + 1),
    )
    reader = ChainReader(registry_for=registry_resolver(lambda chain_id: env.w3))
    result = verify_receipt(
        other_chain,
        trusted=[TrustedRegistry(None, env.registry.address)],
        reader=reader,
        digest=issued.digests[0],
        digest_kind="file",
    )
    # the signature binds the chain id, so the offline check already fails it; what matters
    # here is that the node's chain mismatch is an ERROR check, never a failed trust
    statuses = {c.name: c.status for c in result.checks}
    assert statuses["trust"] == "pass" and statuses["anchored"] == "error"


class _LyingRegistry:
    """A registry whose node answers check() wrongly or with a chosen key window."""

    def __init__(self, real: RegistryContract, **overrides) -> None:
        self.real, self.overrides = real, overrides

    def check(self, **kw):
        result = self.real.check(**kw)
        return dataclasses.replace(result, **self.overrides.get("check", {}))

    def key_of(self, agency, key):
        window = self.real.key_of(agency, key)
        return self.overrides.get("key_of", lambda w: w)(window)

    def agency_of(self, agency):
        return self.real.agency_of(agency)

    def read_receipt(self, *, agency, leaf, proof, root, public_key):
        """check, keyOf, agencyOf and the head, as the lean batch read answers them."""
        return ReceiptReading(
            check=self.check(agency=agency, leaf=leaf, proof=proof, root=root),
            key=self.key_of(agency, public_key),
            agency=self.agency_of(agency),
            block=self.real.node.head(),
        )


def test_node_contradicting_the_proof_is_error(env):
    issued = issue_batch(env)
    lying = _LyingRegistry(env.registry, check={"included": False})
    reader = ChainReader(registry_for=lambda chain_id, address: lying)  # type: ignore[arg-type,return-value]
    result = verdict(env, issued.receipts[0], digest=issued.digests[0], reader=reader)
    assert result.outcome is Outcome.ERROR


@pytest.mark.parametrize(("offset", "expected"), [(0, Outcome.VALID), (1, Outcome.UNTRUSTED)])
def test_key_window_end_is_inclusive_to_the_second(env, offset, expected):
    """An anchor in the very second a key was rotated out is the old key's (inclusive end);
    one second later it is not."""
    issued = issue_batch(env)
    at = issued.receipts[0].anchor.anchored_at_unix
    closed = _LyingRegistry(
        env.registry,
        key_of=lambda w: dataclasses.replace(w, valid_until=at - offset),
    )
    reader = ChainReader(registry_for=lambda chain_id, address: closed)  # type: ignore[arg-type,return-value]
    result = verdict(env, issued.receipts[0], digest=issued.digests[0], reader=reader)
    assert result.outcome is expected, result.to_json()


@pytest.mark.parametrize(("offset", "expected"), [(0, Outcome.VALID), (1, Outcome.UNTRUSTED)])
def test_key_window_start_is_inclusive_to_the_second(env, offset, expected):
    issued = issue_batch(env)
    at = issued.receipts[0].anchor.anchored_at_unix
    opened = _LyingRegistry(
        env.registry,
        key_of=lambda w: dataclasses.replace(w, valid_from=at + offset, valid_until=0),
    )
    reader = ChainReader(registry_for=lambda chain_id, address: opened)  # type: ignore[arg-type,return-value]
    result = verdict(env, issued.receipts[0], digest=issued.digests[0], reader=reader)
    assert result.outcome is expected, result.to_json()


def test_record_receipt_against_a_file_with_its_digest_is_tampered(env):
    """Issue 9, item 1: a file whose SHA-256 equals a record's digest does not verify."""
    issued = issue_batch(env, kind="record")
    result = verdict(env, issued.receipts[0], digest=issued.digests[0], kind="file")
    assert result.outcome is Outcome.TAMPERED
    assert verdict(env, issued.receipts[0], digest=issued.digests[0], kind="record").outcome is (
        Outcome.VALID
    )


def test_flipped_kind_receipt_is_tampered_on_chain(env):
    """Issue 9, item 1: a digest anchored as a file, presented as a record."""
    issued = issue_batch(env, kind="file")
    flipped = receipt_to_json(issued.receipts[0])
    flipped["digestKind"] = "record"
    result = verdict(env, flipped, digest=issued.digests[0], kind="record")
    assert result.outcome is Outcome.TAMPERED


def test_tampered_is_decided_without_asking_the_chain(env):
    """Issue 10 (amplification): a forged or altered document costs no eth_call."""
    issued = issue_batch(env)

    def no_chain(chain_id: int, address: str):
        raise AssertionError("the chain was asked about a TAMPERED document")

    reader = ChainReader(registry_for=no_chain)  # type: ignore[arg-type]
    other = hashlib.sha256(b"not the document").digest()
    result = verdict(env, issued.receipts[0], digest=other, reader=reader)
    assert result.outcome is Outcome.TAMPERED
    assert {c.name: c.status for c in result.checks}["anchored"] == "skip"


def test_a_plain_reader_keeps_its_caches_bounded(env):
    """The CLI's reader too: a folder of distinct receipts never grows the cache past its
    bound; the newest answer is kept."""
    issued = issue_batch(env, count=4)
    reader = reader_for(env, max_entries=2)
    for receipt in issued.receipts:
        verify_receipt(receipt, trusted=trusted(env), reader=reader)
    assert len(reader._checks) == 2
    assert reader._checks.stats().evictions == 2
