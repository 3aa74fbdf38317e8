"""Revoking and superseding through the service: own records only, checked before any
transaction; the proof comes from the store; verification then says REVOKED/SUPERSEDED."""

from __future__ import annotations

import hashlib

import pytest
from issuing_helpers import make_issuer

from registry.chain.contract import Reason
from registry.errors import ContractRevert, InvalidInput
from registry.service.revoking import revoke_batch, revoke_record
from registry.service.verify import ChainReader, Outcome, TrustedRegistry, verify_receipt
from registry.store import add_agency, counts_by_status, record_by_digest
from registry.store.errors import NotFound, WrongAgency


def digests(n: int, tag: str = "licence") -> list[bytes]:
    return [hashlib.sha256(f"{tag} {i}".encode()).digest() for i in range(n)]


def outcome(env, receipt) -> Outcome:
    reader = ChainReader(registry_for=lambda c, a: env.registry, revocation_ttl=0)
    trusted = [TrustedRegistry(env.registry.chain_id, env.registry.address)]
    return verify_receipt(receipt, trusted=trusted, reader=reader).outcome


@pytest.fixture
def issued(chain_env, store):
    issuer = make_issuer(chain_env, store)
    ds = digests(6)
    issuer.submit([(d, "file", None) for d in ds])
    issuer.drain()
    with store.session() as session:
        batch_id = record_by_digest(session, ds[0]).batch_id
    return issuer, ds, issuer.receipts(batch_id)


def test_revoke_and_supersede_own_records(chain_env, store, issued):
    issuer, ds, receipts = issued
    common = dict(
        store=store,
        registry=chain_env.registry,
        account=chain_env.agency_a,
        agency_id=issuer.agency_id,
    )
    by_digest = {r.digest: r for r in receipts}
    result = revoke_record(**common, digest=ds[1], reason=Reason.FRAUD)
    assert result.block_number > 0 and not result.whole_batch
    assert outcome(chain_env, by_digest[ds[1]]) is Outcome.REVOKED
    new = hashlib.sha256(b"licence 2, corrected").digest()
    revoke_record(**common, digest=ds[2], reason=Reason.SUPERSEDED, replacement=new)
    assert outcome(chain_env, by_digest[ds[2]]) is Outcome.SUPERSEDED
    assert outcome(chain_env, by_digest[ds[3]]) is Outcome.VALID
    with store.session() as session:
        assert counts_by_status(session)["revoked"] == 2
    again = revoke_record(**common, digest=ds[1], reason=Reason.FRAUD)  # idempotent
    assert again.already


def test_revoke_whole_batch(chain_env, store, issued):
    issuer, _, receipts = issued
    revoke_batch(
        store=store,
        registry=chain_env.registry,
        account=chain_env.agency_a,
        agency_id=issuer.agency_id,
        root=receipts[0].merkle.root,
        reason=Reason.WITHDRAWN,
    )
    assert {outcome(chain_env, r) for r in receipts} == {Outcome.REVOKED}
    with store.session() as session:
        assert counts_by_status(session)["revoked"] == 6


def test_another_agencys_record_is_refused_before_any_transaction(chain_env, store, issued):
    _, ds, receipts = issued
    with store.session() as session:
        other = add_agency(
            session,
            address=chain_env.agency_b.address,
            name="Ministry of Education",
            signing_public_key=b"\x07" * 32,
        ).id
    nonce = chain_env.w3.eth.get_transaction_count(chain_env.agency_b.address)
    with pytest.raises(WrongAgency, match="only the issuing agency"):
        revoke_record(
            store=store,
            registry=chain_env.registry,
            account=chain_env.agency_b,
            agency_id=other,
            digest=ds[0],
            reason=Reason.FRAUD,
        )
    with pytest.raises(WrongAgency):
        revoke_batch(
            store=store,
            registry=chain_env.registry,
            account=chain_env.agency_b,
            agency_id=other,
            root=receipts[0].merkle.root,
            reason=Reason.FRAUD,
        )
    assert chain_env.w3.eth.get_transaction_count(chain_env.agency_b.address) == nonce
    with pytest.raises(ContractRevert, match="NotAnchoringAgency"):  # the contract agrees
        chain_env.registry.revoke(
            chain_env.agency_b,
            root=receipts[0].merkle.root,
            leaf=receipts[0].leaf,
            proof=list(receipts[0].merkle.proof),
            reason=Reason.FRAUD,
        )


def test_bad_revocations(chain_env, store, issued):
    issuer, ds, _ = issued
    common = dict(
        store=store,
        registry=chain_env.registry,
        account=chain_env.agency_a,
        agency_id=issuer.agency_id,
    )
    with pytest.raises(NotFound, match="no record with digest"):
        revoke_record(**common, digest=b"\x05" * 32, reason=Reason.FRAUD)
    with pytest.raises(InvalidInput, match="needs the replacement"):
        revoke_record(**common, digest=ds[0], reason=Reason.SUPERSEDED)
    with pytest.raises(InvalidInput, match=r"expected 1\.\.5"):
        revoke_record(**common, digest=ds[0], reason=9)
