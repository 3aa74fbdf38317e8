"""Open-data export speed: `registry opendata export` over 1,000,000 records in 100 batches.

Not timed: the chain. A fresh registry (embedded, or --rpc) with `agencies` agencies; the
records are file digests (SHA-256 of a counter) in `batches` real Merkle trees whose roots are
anchored by real transactions, spread over the agencies and over several months of block time;
then a leaf revocation, a whole-batch revocation, a supersession, the authority's revocation, a
suspension and reinstatement and a key rotation, so that every column has something to count.
Timed: the whole export (event log, receipts of the anchoring transactions, the fold, the
four files written and moved into place), `repeat` times; then once more under tracemalloc for
the export's own peak of Python allocations.
"""

from __future__ import annotations

import csv
import hashlib
import io
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

from registry import keys
from registry.bench.issue import peak_rss_mb
from registry.chain import RegistryContract, connect
from registry.chain.node import Node
from registry.merkle import KIND_FILE, MerkleTree
from registry.opendata import CatalogMeta
from registry.service.opendata import export_open_data
from registry.service.sandbox import deploy_dev_registry, register_dev_agency
from registry.vocabulary import Reason

MONTH = 31 * 24 * 3600


def build_chain(rpc: str | None, *, records: int, batches: int, agencies: int) -> RegistryContract:
    """A registry with `records` records anchored in `batches` batches, and events of every
    other kind."""
    if records < batches or batches < 1 or agencies < 1:
        raise ValueError(f"{records} records cannot fill {batches} batches of {agencies} agencies")
    w3 = connect(rpc)
    node = Node(w3)
    registry, authority = deploy_dev_registry(w3)
    offices = [
        register_dev_agency(registry, authority, f'Office {i + 1}, "bench"')
        for i in range(agencies)
    ]
    size, extra = divmod(records, batches)
    trees: list[tuple[int, MerkleTree]] = []
    n = 0
    for b in range(batches):
        count = size + (1 if b < extra else 0)
        digests = [hashlib.sha256(i.to_bytes(8, "big")).digest() for i in range(n, n + count)]
        n += count
        tree = MerkleTree.from_digests(digests, KIND_FILE)
        office = offices[b % agencies]
        registry.anchor(office.account, root=tree.root, leaf_count=tree.count)
        trees.append((b % agencies, tree))
        if b % max(1, batches // 4) == 0:
            node.advance(MONTH)  # spread the batches over months
    first, tree = trees[0]
    account = offices[first].account
    registry.revoke(
        account, root=tree.root, leaf=tree.leaf(0), proof=tree.proof(0), reason=Reason.FRAUD
    )
    registry.revoke(
        account,
        root=tree.root,
        leaf=tree.leaf(1),
        proof=tree.proof(1),
        reason=Reason.SUPERSEDED,
        replacement=hashlib.sha256(b"replacement").digest(),
    )
    last, whole = trees[-1]
    registry.revoke(
        offices[last].account,
        root=whole.root,
        leaf=whole.root,
        proof=[],
        reason=Reason.ISSUED_IN_ERROR,
    )
    registry.revoke_by_authority(
        authority,
        agency=offices[first].address,
        root=tree.root,
        leaf=tree.leaf(2),
        proof=tree.proof(2),
        reason=Reason.COURT_ORDER,
    )
    registry.suspend_agency(authority, offices[last].address)
    registry.reinstate_agency(authority, offices[last].address)
    registry.rotate_signing_key(
        account, authority, keys.public_key_bytes(keys.generate_signing_key())
    )
    return registry


def measure_opendata(
    records: int = 1_000_000,
    *,
    batches: int = 100,
    agencies: int = 2,
    repeat: int = 3,
    rpc: str | None = None,
) -> dict[str, Any]:
    """Build the chain (untimed), export it `repeat` times (timed); the figures."""
    built = time.perf_counter()
    registry = build_chain(rpc, records=records, batches=batches, agencies=agencies)
    build_s = time.perf_counter() - built
    meta = CatalogMeta(base_url="https://data.example.gov/registry")
    runs: list[float] = []
    with tempfile.TemporaryDirectory(prefix="registry-bench-opendata-") as tmp:
        for i in range(repeat):
            start = time.perf_counter()
            result = export_open_data(registry, Path(tmp) / f"run{i}", meta=meta)
            runs.append(time.perf_counter() - start)
        csv_text = (result.directory / "activity.csv").read_text(encoding="utf-8")
        tracemalloc.start()
        export_open_data(registry, Path(tmp) / "traced", meta=meta)
        _, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    anchored = sum(
        int(row["records_anchored"])
        for row in csv.DictReader(io.StringIO(csv_text, newline=""))
        if row["scope"] == "registry"
    )
    if anchored != records:
        raise AssertionError(f"the export counts {anchored} records anchored, not {records}")
    return {
        "records": records,
        "batches": batches,
        "agencies": agencies,
        "events": result.info.events,
        "rows": result.rows,
        "repeat": repeat,
        "seconds": [round(s, 3) for s in runs],
        "seconds_median": round(statistics.median(runs), 3),
        "bytes": result.files,
        "peak_rss_mb": peak_rss_mb(),
        "export_traced_peak_mb": round(traced_peak / (1 << 20), 2),
        "build_seconds": round(build_s, 1),
        "chain": rpc or "embedded",
    }
