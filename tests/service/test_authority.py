"""The registry authority through the service: the theft of an agency's transaction key ends
with the thief's receipts not VALID and the agency's records VALID (before and after its move);
key rotation needs the authority; salts survive a rotation."""

from __future__ import annotations

import hashlib

import pytest
from issuing_helpers import make_issuer

from registry import keys
from registry.errors import ContractRevert
from registry.service import authority
from registry.service.issuing import Issuer
from registry.service.sandbox import anchor_by_hand, funded_account
from registry.service.verify import ChainReader, Outcome, TrustedRegistry, verify_receipt
from registry.store import agency_by_id


def file_items(n: int, tag: str) -> list[tuple[bytes, str, None]]:
    return [(hashlib.sha256(f"{tag} {i}".encode()).digest(), "file", None) for i in range(n)]


def outcome(env, receipt) -> Outcome:
    reader = ChainReader(registry_for=lambda c, a: env.registry, revocation_ttl=0)
    trusted = [TrustedRegistry(env.registry.chain_id, env.registry.address)]
    return verify_receipt(
        receipt,
        trusted=trusted,
        reader=reader,
        digest=receipt.digest,
        digest_kind=receipt.digest_kind,
    ).outcome


def issue(issuer: Issuer, tag: str, n: int = 4) -> list:
    """Issue one batch of `n` files; its receipts (the agency's newest batch)."""
    issuer.submit(file_items(n, tag))
    issuer.drain()
    return issuer.receipts(issuer.confirmed_batches()[-1])


def thief_receipt(env, identity: str, signing_key, tag: str):
    """The thief, holding the agency's transaction key, anchors a root it chose in the
    agency's namespace and writes a receipt for it, signed with `signing_key`."""
    digest = hashlib.sha256(tag.encode()).digest()
    _, (receipt,) = anchor_by_hand(
        env.registry,
        account=env.agency_a,
        signing_key=signing_key,
        digests=[digest],
        kind="file",
        agency=identity,
    )
    return receipt


def test_theft_scenario_end_to_end(chain_env, store):
    env, reg = chain_env, chain_env.registry
    issuer = make_issuer(env, store, batch_age=0.0, batch_size=4)
    identity = issuer.identity
    batch1 = issue(issuer, "batch 1")
    assert {outcome(env, r) for r in batch1} == {Outcome.VALID}

    env.advance(10)
    theft = int(env.w3.eth.get_block("latest")["timestamp"])
    # The thief has the transaction key only: its own signing key cannot be installed.
    thief_key = keys.generate_signing_key()
    thief_public = keys.public_key_bytes(thief_key)
    reg.propose_signing_key(env.agency_a, thief_public)
    assert reg.key_of(identity, thief_public).agency is None
    assert reg.agency_of(identity).signing_key != thief_public
    forged = thief_receipt(env, identity, thief_key, "Mallory, Doctor of Medicine")
    assert outcome(env, forged) is Outcome.UNTRUSTED
    # Worst case: the thief has the signing key too. The compromise mark voids it.
    worst = thief_receipt(env, identity, issuer.signing_key, "Mallory, Judge")
    assert outcome(env, worst) is Outcome.VALID  # before the authority acts

    with store.session() as session:
        stolen_account = agency_by_id(session, issuer.agency_id).account
    authority.mark_compromised(
        store=store, registry=reg, admin=env.admin, agency_id=issuer.agency_id, since=theft
    )
    new_account = funded_account(env.w3)
    authority.move_agency(
        store=store,
        registry=reg,
        admin=env.admin,
        agency_id=issuer.agency_id,
        new_account=new_account.address,
    )
    env.advance(2)  # the new account acts from the next second on
    with store.session() as session:
        moved = agency_by_id(session, issuer.agency_id)
        assert (moved.address, moved.account, moved.status) == (
            identity,
            new_account.address,
            "active",
        )
        assert moved.compromised_since == theft and stolen_account == env.agency_a.address

    assert outcome(env, forged) is not Outcome.VALID
    assert outcome(env, worst) is not Outcome.VALID
    assert {outcome(env, r) for r in batch1} == {Outcome.VALID}
    with pytest.raises(ContractRevert):  # the stolen account is retired
        reg.anchor(env.agency_a, root=b"\x42" * 32, leaf_count=1)

    issuer2 = Issuer(
        store=store,
        registry=reg,
        account=new_account,
        signing_key=issuer.signing_key,
        agency_id=issuer.agency_id,
        config=issuer.config,
        agency_address=identity,
        salt_secret=issuer.salt_secret,
    )
    batch2 = issue(issuer2, "batch 2")
    assert {r.anchor.agency for r in batch2} == {identity}
    assert {outcome(env, r) for r in batch2} == {Outcome.VALID}
    assert {outcome(env, r) for r in batch1} == {Outcome.VALID}


def test_salts_stable_across_key_rotation(chain_env, store):
    """Rotating the signing key (agency proposes, authority confirms) changes no digest: the
    same record re-sealed after the rotation has the same digest and salts."""
    issuer = make_issuer(chain_env, store)
    record = {"name": "Ann Example", "born": "1990-01-02", "degree": {"title": "MD", "year": 2015}}
    before = issuer.seal(record)
    new_key = keys.generate_signing_key()
    authority.rotate_signing_key(
        store=store,
        registry=chain_env.registry,
        agency_account=chain_env.agency_a,
        admin=chain_env.admin,
        agency_id=issuer.agency_id,
        new_key=new_key,
    )
    assert chain_env.registry.agency_of(issuer.identity).signing_key == keys.public_key_bytes(
        new_key
    )
    with store.session() as session:
        agency = agency_by_id(session, issuer.agency_id)
        assert agency.signing_key == keys.public_key_bytes(new_key)
    rotated = Issuer(
        store=store,
        registry=chain_env.registry,
        account=chain_env.agency_a,
        signing_key=new_key,
        agency_id=issuer.agency_id,
        agency_address=issuer.identity,
        salt_secret=issuer.salt_secret,
    )
    after = rotated.seal(record)
    assert after.digest == before.digest
    other_secret = Issuer(
        store=store,
        registry=chain_env.registry,
        account=chain_env.agency_a,
        signing_key=new_key,
        agency_id=issuer.agency_id,
        salt_secret=b"\x01" * 32,
    )
    assert other_secret.seal(record).digest != before.digest  # salts come from the secret
    no_secret = Issuer(
        store=store,
        registry=chain_env.registry,
        account=chain_env.agency_a,
        signing_key=new_key,
        agency_id=issuer.agency_id,
    )
    with pytest.raises(Exception, match="no salt secret"):
        no_secret.seal(record)
