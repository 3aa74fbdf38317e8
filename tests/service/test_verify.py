"""Verification outcomes on the embedded chain and anvil: VALID, TAMPERED, REVOKED, SUPERSEDED,
UNKNOWN, UNTRUSTED (registry or key), ERROR (node down) — never INVALID for an outage."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pytest
from web3 import Web3

from registry import keys, merkle
from registry.chain import RegistryContract, connect
from registry.chain.contract import Reason
from registry.receipt import Receipt, build_receipt, receipt_to_json
from registry.service.verify import (
    ChainReader,
    Outcome,
    TrustedRegistry,
    registry_resolver,
    verify_receipt,
)


@dataclass
class Issued:
    tree: merkle.MerkleTree
    digests: list[bytes]
    receipts: list[Receipt]
    signing_key: object


def issue_batch(env, *, count: int = 5, key=None, tag: str = "doc") -> Issued:
    """Anchor `count` file digests for agency A and build their receipts."""
    key = key or keys.signing_key_from_seed(b"\x01" * 32)
    digests = [hashlib.sha256(f"{tag} {i}".encode()).digest() for i in range(count)]
    tree = merkle.MerkleTree.from_digests(digests)
    reg = env.registry
    signature = keys.sign_root(key, chain_id=reg.chain_id, registry=reg.address, root=tree.root)
    tx = reg.anchor(env.agency_a, root=tree.root, leaf_count=tree.count)
    anchored_at = reg.anchor_of(tree.root).anchored_at
    receipts = [
        build_receipt(
            digest=d,
            digest_kind="file",
            root=tree.root,
            proof=tree.proof(i),
            index=i,
            count=tree.count,
            chain_id=reg.chain_id,
            registry=reg.address,
            agency=env.agency_a.address,
            tx_hash=tx.tx_hash,
            block_number=tx.block_number,
            anchored_at=anchored_at,
            public_key=keys.public_key_bytes(key),
            signature=signature,
        )
        for i, d in enumerate(digests)
    ]
    return Issued(tree, digests, receipts, key)


@pytest.fixture
def env(chain_env):
    """Agency A's registered key is the seed-0x01 test key, so receipts it signs verify."""
    key = keys.signing_key_from_seed(b"\x01" * 32)
    chain_env.registry.rotate_signing_key(chain_env.agency_a, keys.public_key_bytes(key))
    return chain_env


def reader_for(env, **kw) -> ChainReader:
    return ChainReader(registry_for=lambda chain_id, address: env.registry, **kw)


def trusted(env) -> list[TrustedRegistry]:
    return [TrustedRegistry(env.registry.chain_id, env.registry.address)]


def test_valid_with_document_digest(env):
    issued = issue_batch(env)
    result = verify_receipt(
        issued.receipts[3], trusted=trusted(env), reader=reader_for(env), digest=issued.digests[3]
    )
    assert result.outcome is Outcome.VALID, result.to_json()
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


def test_receipt_alone_is_valid_with_integrity_skipped(env):
    issued = issue_batch(env)
    result = verify_receipt(
        receipt_to_json(issued.receipts[0]), trusted=trusted(env), reader=reader_for(env)
    )
    assert result.outcome is Outcome.VALID
    assert {c.name: c.status for c in result.checks}["integrity"] == "skip"


def test_altered_document_is_tampered(env):
    issued = issue_batch(env)
    other = hashlib.sha256(b"doc 3 (altered)").digest()
    result = verify_receipt(
        issued.receipts[3], trusted=trusted(env), reader=reader_for(env), digest=other
    )
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
        is Outcome.VALID
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
        is Outcome.VALID
    )
    env.registry.revoke(
        env.agency_a, root=issued.tree.root, leaf=issued.tree.root, proof=[], reason=Reason.FRAUD
    )
    # inside the TTL the cached answer stands; with a zero TTL the revocation shows at once
    assert (
        verify_receipt(issued.receipts[0], trusted=trusted(env), reader=reader).outcome
        is Outcome.VALID
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
    issued = issue_batch(env)
    # a receipt for a root that was never anchored (signed with the right key)
    digests = [hashlib.sha256(b"never anchored").digest()]
    tree = merkle.MerkleTree.from_digests(digests)
    reg = env.registry
    sig = keys.sign_root(
        issued.signing_key, chain_id=reg.chain_id, registry=reg.address, root=tree.root
    )
    receipt = build_receipt(
        digest=digests[0],
        digest_kind="file",
        root=tree.root,
        proof=[],
        index=0,
        count=1,
        chain_id=reg.chain_id,
        registry=reg.address,
        agency=env.agency_a.address,
        tx_hash=b"\x01" * 32,
        block_number=1,
        anchored_at=1_800_000_000,
        public_key=keys.public_key_bytes(issued.signing_key),
        signature=sig,
    )
    assert (
        verify_receipt(receipt, trusted=trusted(env), reader=reader_for(env)).outcome
        is Outcome.UNKNOWN
    )


def test_receipt_signed_by_rotated_out_key_is_untrusted(env):
    old_key = keys.signing_key_from_seed(b"\x01" * 32)
    env.advance(5)
    new_key = keys.signing_key_from_seed(b"\x02" * 32)
    env.registry.rotate_signing_key(env.agency_a, keys.public_key_bytes(new_key))
    env.advance(5)
    issued = issue_batch(env, key=old_key)  # anchored after rotation, signed with the old key
    result = verify_receipt(issued.receipts[0], trusted=trusted(env), reader=reader_for(env))
    assert result.outcome is Outcome.UNTRUSTED
    assert "not at the anchor time" in {c.name: c.reason for c in result.checks}["key"]


def test_key_of_another_agency_is_untrusted(env):
    key_b = keys.signing_key_from_seed(b"\x03" * 32)
    env.registry.rotate_signing_key(env.agency_b, keys.public_key_bytes(key_b))
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
        is Outcome.VALID
    )
    assert isinstance(
        reader.registry_for(env.registry.chain_id, env.registry.address), RegistryContract
    )
