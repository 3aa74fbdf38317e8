"""Helpers for the service tests (a module of its own: several conftest.py files exist)."""

from __future__ import annotations

from registry import keys
from registry.service.issuing import Issuer, IssuingConfig
from registry.store import Store, add_agency, bind_store

SEED_A = b"\x01" * 32
SALT_SECRET_A = b"\x5a" * 32


def make_issuer(env, store: Store, *, seed: bytes = SEED_A, **config) -> Issuer:
    """Agency A with the seed's Ed25519 key registered on chain and in the store."""
    key = keys.signing_key_from_seed(seed)
    public = keys.public_key_bytes(key)
    reg = env.registry
    if reg.agency_of(env.agency_a.address).signing_key != public:
        reg.rotate_signing_key(env.agency_a, env.admin, public)
    genesis = bytes(env.w3.eth.get_block(0)["hash"])
    with store.session() as session:
        bind_store(
            session, chain_id=reg.chain_id, genesis_hash=genesis, registry_address=reg.address
        )
        agency = add_agency(
            session,
            address=env.agency_a.address,
            name="Civil Registry Office",
            signing_public_key=public,
        )
        agency_id = agency.id
    return Issuer(
        store=store,
        registry=reg,
        account=env.agency_a,
        signing_key=key,
        agency_id=agency_id,
        config=IssuingConfig(**{"batch_size": 10, "batch_age": 3600.0, **config}),
        agency_address=env.agency_a.address,
        salt_secret=SALT_SECRET_A,
    )
