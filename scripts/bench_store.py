"""Store speed check: submit, claim and seal N records on SQLite and PostgreSQL; print seconds.

Not a unit test: a figure to watch. The issuing pipeline must carry >= 10,000 records/s end to
end, so the store's share (here) has to be well below a second per 10,000 records.

    .venv/bin/python scripts/bench_store.py                       # both backends, 100,000
    .venv/bin/python scripts/bench_store.py --backend sqlite --records 20000 --json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from registry.store import (
    Store,
    add_agency,
    add_records,
    claim_pending,
    counts_by_status,
    mark_anchored,
    mark_confirmed,
    mark_submitted,
    open_store,
    seal_batch,
)
from registry.store.scratch import DEFAULT_PG_URL, scratch_schema


@contextmanager
def _store(backend: str, pg_url: str) -> Iterator[Store]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp, open_store(None, data_dir=Path(tmp)) as store:
            yield store
    else:
        scratch = scratch_schema(pg_url, prefix="bench_store")
        with scratch as url, open_store(url, data_dir=Path(tempfile.gettempdir())) as store:
            yield store


def bench(
    backend: str, *, records: int, chunk: int, batch: int, doc_bytes: int, pg_url: str
) -> dict[str, object]:
    """Time each phase of the store's part of issuing `records` records."""
    kind = "record" if doc_bytes else "file"
    document = json.dumps({"name": "x" * max(doc_bytes - 12, 0)}) if doc_bytes else None
    items = [
        (hashlib.sha256(n.to_bytes(8, "big")).digest(), kind, document) for n in range(records)
    ]
    with _store(backend, pg_url) as store:
        with store.session() as session:
            agency = add_agency(
                session, address="0x" + "42" * 20, name="Bench", signing_public_key=b"\x01" * 32
            ).id
        started = time.perf_counter()
        for start in range(0, records, chunk):
            with store.session() as session:
                add_records(session, agency_id=agency, items=items[start : start + chunk])
        submitted = time.perf_counter()
        batches: list[int] = []
        while True:
            with store.session() as session:
                claimed = claim_pending(session, agency_id=agency, limit=batch)
                if not claimed:
                    break
                root = hashlib.sha256(b"root %d" % len(batches)).digest()
                batches.append(
                    seal_batch(
                        session,
                        agency_id=agency,
                        record_ids=[record_id for record_id, _, _ in claimed],
                        root=root,
                        signature=b"\x00" * 64,
                        public_key=b"\x01" * 32,
                        leaf_count=len(claimed),
                    )
                )
        sealed = time.perf_counter()
        for batch_id in batches:
            with store.session() as session:
                mark_submitted(
                    session, batch_id, tx_hash=b"\x02" * 32, nonce=batch_id, raw_tx=b"tx"
                )
            with store.session() as session:
                mark_anchored(
                    session, batch_id, block_number=1, block_hash=b"\x03" * 32, anchored_at=1
                )
            with store.session() as session:
                mark_confirmed(session, batch_id, confirmations=1)
        confirmed = time.perf_counter()
        with store.session() as session:
            assert counts_by_status(session)["anchored"] == records
    insert_claim_seal = sealed - started
    return {
        "backend": backend,
        "records": records,
        "batch_size": batch,
        "document_bytes": doc_bytes,
        "submit_s": round(submitted - started, 3),
        "claim_seal_s": round(sealed - submitted, 3),
        "insert_claim_seal_s": round(insert_claim_seal, 3),
        "records_per_s": round(records / insert_claim_seal),
        "confirm_s": round(confirmed - sealed, 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--chunk", type=int, default=10_000, help="records per submission")
    parser.add_argument("--batch", type=int, default=10_000, help="records per sealed batch")
    parser.add_argument("--document-bytes", type=int, default=600, help="0: file digests only")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--json", action="store_true", help="one JSON object per backend")
    args = parser.parse_args(argv)
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    for backend in backends:
        result = bench(
            backend,
            records=args.records,
            chunk=args.chunk,
            batch=args.batch,
            doc_bytes=args.document_bytes,
            pg_url=args.pg_url,
        )
        if args.json:
            print(json.dumps(result))
        else:
            print(
                f"{backend:9} {args.records:,} records: submit {result['submit_s']:.2f} s, "
                f"claim+seal {result['claim_seal_s']:.2f} s, "
                f"total {result['insert_claim_seal_s']:.2f} s "
                f"({result['records_per_s']:,} records/s); confirm {result['confirm_s']:.2f} s"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
