"""Revoking and superseding through the service: own records only, checked before any
transaction; a replacement must be a live record of the same agency; the proof comes from the
store; verification then says REVOKED/SUPERSEDED; the authority revokes any record."""

from __future__ import annotations

import hashlib

import pytest
from chain_envs import ISSUING_BACKENDS
from issuing_helpers import make_issuer

from registry.chain.contract import Reason
from registry.errors import ContractRevert, InvalidInput
from registry.service.revoking import (
    InvalidReplacement,
    revoke_batch,
    revoke_by_authority,
    revoke_record,
)
from registry.service.verify import ChainReader, Outcome, TrustedRegistry, verify_receipt
from registry.store import add_agency, add_records, counts_by_status, record_by_digest
from registry.store.errors import NotFound

pytestmark = pytest.mark.parametrize("chain_env_session", ISSUING_BACKENDS, indirect=True)


def digests(n: int, tag: str = "licence") -> list[bytes]:
    return [hashlib.sha256(f"{tag} {i}".encode()).digest() for i in range(n)]


def outcome(env, receipt) -> Outcome:
    reader = ChainReader(registry_for=lambda c, a: env.registry, revocation_ttl=0)
    trusted = [TrustedRegistry(env.registry.chain_id, env.registry.address)]
    return verify_receipt(
        receipt, trusted=trusted, reader=reader, digest=receipt.digest, digest_kind="file"
    ).outcome


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
    issuer.submit([(new, "file", None)])  # the replacement: pending is enough
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


def agency_b(chain_env, store) -> int:
    with store.session() as session:
        return add_agency(
            session,
            address=chain_env.agency_b.address,
            name="Ministry of Education",
            signing_public_key=b"\x07" * 32,
        ).id


def test_another_agencys_record_is_refused_before_any_transaction(chain_env, store, issued):
    """B asking to revoke A's record or batch is told "not found", without A's ids; nothing
    is sent; and the contract would only look in B's own namespace anyway."""
    _, ds, receipts = issued
    other = agency_b(chain_env, store)
    nonce = chain_env.w3.eth.get_transaction_count(chain_env.agency_b.address)
    common = dict(store=store, registry=chain_env.registry, account=chain_env.agency_b)
    with pytest.raises(NotFound, match="issued by this agency") as refused:
        revoke_record(**common, agency_id=other, digest=ds[0], reason=Reason.FRAUD)
    assert "#" not in str(refused.value)
    with pytest.raises(NotFound, match="anchored by this agency") as refused:
        revoke_batch(**common, agency_id=other, root=receipts[0].merkle.root, reason=Reason.FRAUD)
    assert "#" not in str(refused.value)
    assert chain_env.w3.eth.get_transaction_count(chain_env.agency_b.address) == nonce
    with pytest.raises(ContractRevert, match="NotAnchored"):  # B's namespace holds no such root
        chain_env.registry.revoke(
            chain_env.agency_b,
            root=receipts[0].merkle.root,
            leaf=receipts[0].leaf,
            proof=list(receipts[0].merkle.proof),
            reason=Reason.FRAUD,
        )


def test_replacement_must_be_same_agency_record(chain_env, store, issued):
    """A supersession's replacement must be a live record of the same agency, anchored or
    pending: unknown digests, another agency's record, the record itself and a revoked record
    are refused before any transaction; B holding the same digest as A's does not count."""
    issuer, ds, receipts = issued
    other = agency_b(chain_env, store)
    theirs = hashlib.sha256(b"B's record").digest()
    with store.session() as session:
        add_records(session, agency_id=other, items=[(theirs, "file", None)])
    common = dict(
        store=store,
        registry=chain_env.registry,
        account=chain_env.agency_a,
        agency_id=issuer.agency_id,
    )
    revoke_record(**common, digest=ds[5], reason=Reason.WITHDRAWN)
    nonce = chain_env.w3.eth.get_transaction_count(chain_env.agency_a.address)
    cases = {
        "unknown digest": (hashlib.sha256(b"nowhere").digest(), "not a record of this agency"),
        "another agency's record": (theirs, "not a record of this agency"),
        "the record itself": (ds[0], "the record itself"),
        "a revoked record": (ds[5], "itself revoked"),
    }
    for what, (replacement, message) in cases.items():
        with pytest.raises(InvalidReplacement, match=message):
            revoke_record(**common, digest=ds[0], reason=Reason.SUPERSEDED, replacement=replacement)
        assert chain_env.w3.eth.get_transaction_count(chain_env.agency_a.address) == nonce, what
    # The same digest submitted by A too is A's own record: accepted.
    issuer.submit([(theirs, "file", None)])
    revoke_record(**common, digest=ds[0], reason=Reason.SUPERSEDED, replacement=theirs)
    assert outcome(chain_env, receipts[0]) is Outcome.SUPERSEDED


def test_supersede_rules_reason_and_whole_batch(chain_env, store, issued):
    issuer, ds, receipts = issued
    common = dict(
        store=store,
        registry=chain_env.registry,
        account=chain_env.agency_a,
        agency_id=issuer.agency_id,
    )
    nonce = chain_env.w3.eth.get_transaction_count(chain_env.agency_a.address)
    with pytest.raises(InvalidInput, match="takes no replacement"):
        revoke_record(**common, digest=ds[0], reason=Reason.FRAUD, replacement=ds[1])
    with pytest.raises(InvalidInput, match="whole batch cannot be superseded"):
        revoke_batch(**common, root=receipts[0].merkle.root, reason=Reason.SUPERSEDED)
    assert chain_env.w3.eth.get_transaction_count(chain_env.agency_a.address) == nonce


def test_authority_revokes_any_record(chain_env, store, issued):
    issuer, ds, receipts = issued
    common = dict(
        store=store, registry=chain_env.registry, admin=chain_env.admin, agency_id=issuer.agency_id
    )
    with pytest.raises(InvalidInput, match="does not supersede"):
        revoke_by_authority(**common, digest=ds[0], reason=Reason.SUPERSEDED)
    result = revoke_by_authority(**common, digest=ds[0], reason=Reason.COURT_ORDER)
    assert result.by_authority and result.block_number > 0
    assert outcome(chain_env, receipts[0]) is Outcome.REVOKED
    assert revoke_by_authority(**common, digest=ds[0], reason=Reason.COURT_ORDER).already
    revoke_by_authority(**common, digest=receipts[0].merkle.root, reason=5, batch=True)
    assert {outcome(chain_env, r) for r in receipts} == {Outcome.REVOKED}


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
