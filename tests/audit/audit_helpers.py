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
        reg.rotate_signing_key(env.agency_a, public)
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
