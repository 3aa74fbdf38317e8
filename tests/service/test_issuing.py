"""The issuing pipeline on both chains and both stores: submit, seal at size/age limits,
anchor, confirm, receipts that verify; idempotent submission; resume of every state."""

from __future__ import annotations

import hashlib

import pytest
from chain_envs import ISSUING_BACKENDS
from issuing_helpers import make_issuer

from registry.chain.events import fetch_events
from registry.errors import ContractRevert
from registry.service.verify import ChainReader, Outcome, TrustedRegistry, verify_receipt
from registry.store import counts_by_status, unfinished_batches

pytestmark = pytest.mark.parametrize("chain_env_session", ISSUING_BACKENDS, indirect=True)


def items(n: int, tag: str = "cert") -> list[tuple[bytes, str, None]]:
    return [(hashlib.sha256(f"{tag} {i}".encode()).digest(), "file", None) for i in range(n)]


def verify(env, receipt) -> Outcome:
    reader = ChainReader(registry_for=lambda chain_id, address: env.registry, revocation_ttl=0)
    trusted = [TrustedRegistry(env.registry.chain_id, env.registry.address)]
    return verify_receipt(
        receipt,
        trusted=trusted,
        reader=reader,
        digest=receipt.digest,  # the document's digest, recomputed by its holder
        digest_kind=receipt.digest_kind,
    ).outcome


def test_submit_seal_anchor_confirm_receipts(chain_env, store):
    issuer = make_issuer(chain_env, store)
    submitted = issuer.submit(items(25))
    assert len(submitted.new_ids) == 25
    with store.session() as session:
        assert counts_by_status(session)["pending"] == 25
    sealed = issuer.seal_batches()  # two full batches; 5 wait for the age limit
    assert len(sealed) == 2
    assert issuer.pending_count() == 5
    assert issuer.seal_batches(force=True) and issuer.pending_count() == 0
    issuer.resume()
    assert issuer.unfinished() == []
    with store.session() as session:
        assert counts_by_status(session)["anchored"] == 25
    receipts = [r for batch in sealed for r in issuer.receipts(batch)]
    assert len(receipts) == 20
    assert {verify(chain_env, r) for r in receipts[:3] + receipts[-2:]} == {Outcome.VALID}
    assert [r.digest for r in issuer.receipts(sealed[0])] == [d for d, _, _ in items(10)]


def test_same_record_twice_is_one_record(chain_env, store):
    issuer = make_issuer(chain_env, store)
    first = issuer.submit(items(3))
    again = issuer.submit(items(3) + items(1, tag="new"))
    assert again.existing_ids == first.ids and len(again.new_ids) == 1
    issuer.drain()
    with store.session() as session:
        assert counts_by_status(session)["anchored"] == 4


def test_age_limit_seals_a_partial_batch(chain_env, store):
    issuer = make_issuer(chain_env, store, batch_age=0.0)
    issuer.submit(items(3))
    assert len(issuer.seal_batches()) == 1


def sealed_and_recorded(issuer, store):
    """A sealed batch of 10 whose signed anchor tx is recorded but not sent: the state a crash
    between `submitted` and the broadcast leaves (the issuer's own sign-and-record step)."""
    issuer.submit(items(10))
    (batch_id,) = issuer.seal_batches()
    with store.session() as session:
        root = bytes(unfinished_batches(session)[0].root)
    return batch_id, root, issuer._sign_and_record(batch_id, root, 10)


def test_resume_sends_the_recorded_transaction_once(chain_env, store):
    """Crash after the signed tx was recorded but before it was sent: resume sends that very
    transaction (same hash, same nonce); running resume again anchors nothing twice."""
    issuer = make_issuer(chain_env, store)
    _batch_id, root, signed = sealed_and_recorded(issuer, store)
    assert chain_env.registry.anchor_of(chain_env.agency_a.address, root).agency is None
    issuer.resume()
    issuer.resume()
    anchored = [e for e in fetch_events(chain_env.registry) if e.name == "Anchored"]
    assert [e.args["root"] for e in anchored] == [root]
    assert anchored[0].tx_hash == signed.tx_hash


def test_resume_confirms_a_batch_already_on_chain(chain_env, store):
    """Crash after the tx was sent and mined but before the store heard of it."""
    issuer = make_issuer(chain_env, store)
    batch_id, _root, signed = sealed_and_recorded(issuer, store)
    chain_env.w3.eth.send_raw_transaction(signed.raw)
    issuer.resume()
    assert issuer.unfinished() == []
    assert verify(chain_env, issuer.receipts(batch_id)[0]) is Outcome.VALID


def test_reverted_anchor_is_resigned_and_the_refusal_named(chain_env, store):
    """A recorded anchor tx that was mined but reverted (agency suspended meanwhile) is not
    rebroadcast forever: resume re-signs, and the contract's refusal surfaces by name."""
    issuer = make_issuer(chain_env, store)
    batch_id, _root, signed = sealed_and_recorded(issuer, store)
    chain_env.registry.suspend_agency(chain_env.admin, chain_env.agency_a.address)
    chain_env.w3.eth.send_raw_transaction(signed.raw)  # mined, reverts: AgencyNotActive
    with pytest.raises(ContractRevert, match="AgencyNotActive"):
        issuer.anchor_batch(batch_id)
    chain_env.registry.reinstate_agency(chain_env.admin, chain_env.agency_a.address)
    issuer.resume()
    assert issuer.unfinished() == []
    assert verify(chain_env, issuer.receipts(batch_id)[0]) is Outcome.VALID
