"""Issuing throughput and memory: structured records per second from submission to confirmed
receipts, and the peak resident set of the job.

Timed: sealing every record (salts, field hashes, digest; in a worker process, pipelined with
the rest), the durable submit into the store, sealing batches (Merkle root + Ed25519
signature), anchoring each batch and waiting for its confirmation, and building every
record's receipt (a batch's receipts as soon as it is confirmed, while later batches are still
being sealed and anchored: what a bulk job writing receipts out does). Not timed: deploying
the registry, registering the agency, starting the (long-lived, in a service) sealing worker.

The records are generated lazily and the receipts counted, not kept, as a job over a file of
millions of records would: `peak_rss_mb` is then the issuing pipeline's own footprint, which
must not grow with the number of records (issue 12: under 600 MB at 1,000,000 and 3,000,000).
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from registry.chain import connect
from registry.service.issuing import IssuingConfig, issue_stream
from registry.service.sandbox import (
    bind_dev_store,
    deploy_dev_registry,
    dev_issuer,
    register_dev_agency,
)
from registry.service.sealing import SealPool
from registry.store import open_store
from registry.store.scratch import scratch_schema


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


def synthetic_certificates(count: int) -> Iterator[dict[str, Any]]:
    """`count` certificates, made one at a time as the job reads them."""
    return (synthetic_certificate(i) for i in range(count))


def peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    """Peak resident set size in MB (MiB) of this process (RUSAGE_SELF) or of its largest
    waited-for child (RUSAGE_CHILDREN); ru_maxrss is in KiB on Linux, bytes on macOS."""
    peak = resource.getrusage(who).ru_maxrss
    return round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


def measure_issue(
    records: int = 100_000,
    *,
    rpc: str | None = None,
    db: str | None = None,
    batch_size: int = 10_000,
    workers: int = 2,
) -> dict[str, Any]:
    """Issue `records` structured records end to end and return the timings and peak memory.

    `peak_rss_mb` is this process's peak resident set (the whole run: chain, store, issuing);
    `peak_rss_workers_mb` the largest sealing worker's, read once the pool is closed (0 when
    sealing inline): separate figures, not a sum. Two workers by default: sealing and
    encrypting are the heaviest steps, and the second one also fills the time this process
    waits on the store's fsyncs and the chain."""
    w3 = connect(rpc)
    registry, authority = deploy_dev_registry(w3)
    agency = register_dev_agency(registry, authority, "Bench Office")
    receipts = 0
    receipts_s = 0.0
    with ExitStack() as scratch, tempfile.TemporaryDirectory(prefix="registry-bench-") as tmp:
        if db is not None and db.startswith("postgresql"):
            # A schema of its own, dropped after: every run starts from empty tables.
            db = scratch.enter_context(scratch_schema(db, prefix="bench"))
        store = open_store(db, data_dir=Path(tmp))
        try:
            bind_dev_store(store, registry)
            # No age limit during the run: only full batches; the last one is forced.
            config = IssuingConfig(batch_size=batch_size, batch_age=3600.0)
            issuer = dev_issuer(store, registry, agency, config)

            def build_receipts(batch_id: int) -> None:
                nonlocal receipts, receipts_s
                mark = time.perf_counter()
                receipts += len(issuer.receipts(batch_id))  # built, counted, dropped
                receipts_s += time.perf_counter() - mark

            pool = SealPool(workers) if workers else None
            try:
                start = time.perf_counter()
                submitted = issue_stream(
                    issuer, synthetic_certificates(records), pool=pool, on_confirmed=build_receipts
                )
                total = time.perf_counter() - start
            finally:
                if pool is not None:
                    pool.close()
            store_url = store.url
        finally:
            store.close()
    if submitted != records or receipts != records:
        raise AssertionError(f"{submitted} submitted, {receipts} receipts for {records} records")
    return {
        "records": records,
        "batch_size": batch_size,
        "seconds": round(total, 3),
        "records_per_s": round(records / total, 1),
        "phases_s": {
            "issue_to_confirmed": round(total - receipts_s, 3),
            "receipts": round(receipts_s, 3),
        },
        "peak_rss_mb": peak_rss_mb(),
        "peak_rss_workers_mb": peak_rss_mb(resource.RUSAGE_CHILDREN) if workers else 0.0,
        "seal_workers": workers,
        "chain": rpc or "embedded",
        "store": store_url.split("?")[0],
    }
