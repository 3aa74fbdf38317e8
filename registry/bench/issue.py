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

from registry.chain import connect
from registry.service.issuing import IssuingConfig, issue_records
from registry.service.sandbox import (
    bind_dev_store,
    deploy_dev_registry,
    dev_issuer,
    register_dev_agency,
)
from registry.service.sealing import SealPool
from registry.store import open_store


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
    registry, authority = deploy_dev_registry(w3)
    agency = register_dev_agency(registry, authority, "Bench Office")
    data = [synthetic_certificate(i) for i in range(records)]
    with tempfile.TemporaryDirectory(prefix="registry-bench-") as tmp:
        store = open_store(db, data_dir=Path(tmp))
        try:
            bind_dev_store(store, registry)
            # No age limit during the run: only full batches; the last one is forced.
            config = IssuingConfig(batch_size=batch_size, batch_age=3600.0)
            issuer = dev_issuer(store, registry, agency, config)
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
