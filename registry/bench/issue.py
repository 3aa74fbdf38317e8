"""Issuing throughput: structured records per second from submission to confirmed receipts.

Timed: sealing every record (salts, field hashes, digest; in a worker process, pipelined with
the rest), the durable submit into the store, sealing batches (Merkle root + Ed25519
signature), anchoring each batch and waiting for its confirmation, and building every
record's receipt. Not timed: generating the synthetic records, deploying the registry,
registering the agency, starting the (long-lived, in a service) sealing worker.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from registry import keys
from registry.chain import RegistryContract, connect, fund_from_dev_account, new_account
from registry.chain.tx import TxOptions
from registry.service.issuing import Issuer, IssuingConfig, SealPool, issue_records
from registry.store import add_agency, bind_store, open_store


def synthetic_certificate(i: int) -> dict[str, Any]:
    """A birth certificate of typical size (9 fields, nested object and array)."""
    return {
        "type": "BirthCertificate",
        "number": f"B-2026-{i:07d}",
        "child": {"given": f"Given{i % 977}", "family": f"Family{i % 1013}", "born": "2026-03-14"},
        "place": "Tallinn",
        "parents": [f"Mother{i % 389}", f"Father{i % 397}"],
        "issuedBy": "Civil Registry Office",
    }


def measure_issue(
    records: int = 100_000,
    *,
    rpc: str | None = None,
    db: str | None = None,
    batch_size: int = 10_000,
    workers: int = 1,
) -> dict[str, Any]:
    """Issue `records` structured records end to end and return the timings."""
    w3 = connect(rpc)
    admin, agency = new_account(), new_account()
    for account in (admin, agency):
        fund_from_dev_account(w3, account.address)
    registry, _ = RegistryContract.deploy(w3, admin, options=TxOptions(poll_interval=0.01))
    key = keys.generate_signing_key()
    public = keys.public_key_bytes(key)
    registry.register_agency(admin, account=agency.address, name="Bench Office", signing_key=public)
    data = [synthetic_certificate(i) for i in range(records)]
    with tempfile.TemporaryDirectory(prefix="registry-bench-") as tmp:
        store = open_store(db, data_dir=Path(tmp))
        try:
            with store.session() as session:
                bind_store(
                    session,
                    chain_id=registry.chain_id,
                    genesis_hash=bytes(w3.eth.get_block(0)["hash"]),
                    registry_address=registry.address,
                )
                agency_id = add_agency(
                    session, address=agency.address, name="Bench Office", signing_public_key=public
                ).id
            issuer = Issuer(
                store=store,
                registry=registry,
                account=agency,
                signing_key=key,
                agency_id=agency_id,
                # No age limit during the run: only full batches; the last one is forced.
                config=IssuingConfig(batch_size=batch_size, batch_age=3600.0),
            )
            phases: dict[str, float] = {}
            pool = SealPool(workers) if workers else None
            try:
                start = time.perf_counter()
                issue_records(issuer, data, pool=pool)
                phases["issue_to_confirmed"] = time.perf_counter() - start
                mark = time.perf_counter()
                receipts = [r for b in issuer.confirmed_batches() for r in issuer.receipts(b)]
                phases["receipts"] = time.perf_counter() - mark
            finally:
                if pool is not None:
                    pool.close()
            total = time.perf_counter() - start
            store_url = store.url
        finally:
            store.close()
    if len(receipts) != records:
        raise AssertionError(f"{len(receipts)} receipts for {records} records")
    return {
        "records": records,
        "batch_size": batch_size,
        "seconds": round(total, 3),
        "records_per_s": round(records / total, 1),
        "phases_s": {k: round(v, 3) for k, v in phases.items()},
        "seal_workers": workers,
        "chain": rpc or "embedded",
        "store": store_url.split("?")[0],
    }
