"""Helpers for the audit tests: an issuer for agency A, file records issued and anchored,
their receipts written to a folder, and the audit run on the test chain."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from sqlalchemy import text

from registry import keys
from registry.receipt import receipt_to_json
from registry.service.audit import AuditReport, audit_registry
from registry.service.issuing import Issuer, IssuingConfig
from registry.store import Store, add_agency, bind_store

SEED_A = b"\x0a" * 32

# Only the embedded chain / only SQLite, for the tests whose finding does not depend on them.
EMBEDDED = pytest.mark.parametrize("chain_env_session", ["embedded"], indirect=True)
SQLITE = pytest.mark.parametrize("store", ["sqlite"], indirect=True)


def make_issuer(env, store: Store, *, seed: bytes = SEED_A, batch_size: int = 10) -> Issuer:
    """Agency A with the seed's Ed25519 key registered on chain and in the store."""
    key = keys.signing_key_from_seed(seed)
    public = keys.public_key_bytes(key)
    reg = env.registry
    if reg.agency_of(env.agency_a.address).signing_key != public:
        reg.rotate_signing_key(env.agency_a, env.admin, public)
    with store.session() as session:
        bind_store(
            session,
            chain_id=reg.chain_id,
            genesis_hash=bytes(env.w3.eth.get_block(0)["hash"]),
            registry_address=reg.address,
        )
        agency_id = add_agency(
            session,
            address=env.agency_a.address,
            name="Civil Registry Office",
            signing_public_key=public,
        ).id
    return Issuer(
        store=store,
        registry=reg,
        account=env.agency_a,
        signing_key=key,
        agency_id=agency_id,
        config=IssuingConfig(batch_size=batch_size, batch_age=3600.0),
        agency_address=env.agency_a.address,
        salt_secret=b"\x01" * 32,  # TEST ONLY
    )


def file_digest(tag: str, i: int) -> bytes:
    return hashlib.sha256(f"{tag}/{i}".encode()).digest()


def issue_files(issuer: Issuer, count: int, *, tag: str = "file") -> list[bytes]:
    """Issue `count` file records and anchor them all; returns their digests."""
    digests = [file_digest(tag, i) for i in range(count)]
    issuer.submit([(d, "file", None) for d in digests])
    issuer.drain()
    return digests


def write_receipts(issuer: Issuer, folder: Path) -> list[Path]:
    """Every confirmed batch's receipts as JSON files in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for batch_id in issuer.confirmed_batches():
        for i, receipt in enumerate(issuer.receipts(batch_id)):
            path = folder / f"b{batch_id}-{i}.receipt.json"
            path.write_text(json.dumps(receipt_to_json(receipt)))
            paths.append(path)
    return paths


def run_audit(env, store: Store | None = None, **kwargs) -> AuditReport:
    return audit_registry(env.registry, store=store, backoff=0.01, **kwargs)


def kinds(report: AuditReport) -> set[str]:
    return {str(f.kind) for f in report.findings}


def of_kind(report: AuditReport, kind: str) -> list:
    return [f for f in report.findings if f.kind == kind]


def execute(store: Store, sql: str, **params) -> None:
    """Change the store behind the pipeline's back, as a dishonest operator could."""
    with store.session() as session:
        session.execute(text(sql), params)


def anchor_by_hand(env, store: Store, agency_id: int, digests: list[bytes], *, key, account=None):
    """Anchor file digests as agency A without the pipeline (as bench/audit.py does): records
    added, claimed, sealed into a batch signed over the v2 message, anchored from `account`
    (default A's), marked confirmed. Returns (batch id, tree)."""
    from registry.merkle import KIND_FILE, MerkleTree
    from registry.store import repo

    reg, agency = env.registry, env.agency_a.address
    with store.session() as session:
        repo.add_records(session, agency_id=agency_id, items=[(d, "file", None) for d in digests])
    with store.session(write=True) as session:
        claimed = repo.claim_pending(session, agency_id=agency_id, limit=len(digests))
        tree = MerkleTree.from_digests([d for _, d, _ in claimed], KIND_FILE)
        batch_id = repo.seal_batch(
            session,
            agency_id=agency_id,
            record_ids=[i for i, _, _ in claimed],
            root=tree.root,
            signature=keys.sign_root(
                key, chain_id=reg.chain_id, registry=reg.address, agency=agency, root=tree.root
            ),
            public_key=keys.public_key_bytes(key),
            leaf_count=tree.count,
        )
    tx = reg.anchor(account or env.agency_a, root=tree.root, leaf_count=tree.count)
    anchor = reg.anchor_of(agency, tree.root)
    with store.session() as session:
        repo.mark_submitted(session, batch_id, tx_hash=tx.tx_hash, nonce=0, raw_tx=b"")
        repo.mark_anchored(
            session,
            batch_id,
            block_number=anchor.block_number,
            block_hash=tx.block_hash,
            anchored_at=anchor.anchored_at,
        )
        repo.mark_confirmed(session, batch_id, confirmations=1)
    return batch_id, tree


def store_agency(env, store: Store, *, seed: bytes = SEED_A) -> tuple[int, object]:
    """Agency A in the store (bound to the test registry) with the seed's key, rotated in on
    chain (proposed by A, confirmed by the authority). Returns (agency id, signing key)."""
    key = keys.signing_key_from_seed(seed)
    public = keys.public_key_bytes(key)
    reg = env.registry
    if reg.agency_of(env.agency_a.address).signing_key != public:
        reg.rotate_signing_key(env.agency_a, env.admin, public)
    with store.session() as session:
        bind_store(
            session,
            chain_id=reg.chain_id,
            genesis_hash=bytes(env.w3.eth.get_block(0)["hash"]),
            registry_address=reg.address,
        )
        agency_id = add_agency(
            session,
            address=env.agency_a.address,
            name="Civil Registry Office",
            signing_public_key=public,
        ).id
    return agency_id, key
