"""Audit speed: how long `registry audit --db` takes over 1,000,000 records (10 batches).

Not timed: creating the data. Records are file digests (SHA-256 of a counter) inserted in bulk
with the store's own functions (add_records, claim_pending, seal_batch), each batch's root
signed with the agency key over the v2 root message (naming the agency) and anchored in the
agency's namespace on the chain, then marked confirmed, exactly the states the issuing pipeline
leaves. Timed: the whole audit (event log with its compromise windows, every batch read and its
root recomputed over kind-bound leaves, signatures, key windows, roots, revocations and
replacements, agency by agency).
"""

from __future__ import annotations

import hashlib
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount

from registry import keys
from registry.chain import RegistryContract, connect, new_account
from registry.chain.node import Node
from registry.chain.tx import TxOptions
from registry.merkle import KIND_FILE, MerkleTree
from registry.service.audit import AuditReport, Progress, audit_registry
from registry.store import Store, add_agency, bind_store, open_store, repo

MILLION = 1_000_000
CHUNK = 50_000


def _setup_chain(rpc: str | None) -> tuple[RegistryContract, LocalAccount, LocalAccount]:
    """A fresh registry on `rpc` (or the embedded chain) with a funded admin and agency."""
    w3 = connect(rpc)
    admin, agency = new_account(), new_account()
    for account in (admin, agency):
        Node(w3).fund_from_dev(account.address)
    registry, _ = RegistryContract.deploy(w3, admin, options=TxOptions(poll_interval=0.01))
    return registry, admin, agency


def create_audit_data(
    store: Store,
    registry: RegistryContract,
    admin: LocalAccount,
    agency: LocalAccount,
    *,
    records: int,
    batches: int,
    progress: Callable[[int], None] | None = None,
) -> None:
    """`records` file digests in `batches` batches, sealed, signed, anchored and confirmed."""
    if records < batches or batches < 1:
        raise ValueError(f"{records} records cannot fill {batches} batches")
    key = keys.generate_signing_key()
    public = keys.public_key_bytes(key)
    registry.register_agency(admin, account=agency.address, name="Audit Office", signing_key=public)
    with store.session() as session:
        bind_store(
            session,
            chain_id=registry.chain_id,
            genesis_hash=registry.node.genesis_hash(),
            registry_address=registry.address,
        )
        agency_id = add_agency(
            session, address=agency.address, name="Audit Office", signing_public_key=public
        ).id
    size, extra = divmod(records, batches)
    n = 0
    for b in range(batches):
        count = size + (1 if b < extra else 0)
        for start in range(n, n + count, CHUNK):
            items = [
                (hashlib.sha256(i.to_bytes(8, "big")).digest(), "file", None)
                for i in range(start, min(start + CHUNK, n + count))
            ]
            with store.session() as session:
                repo.add_records(session, agency_id=agency_id, items=items)
        n += count
        with store.session(write=True) as session:
            claimed = repo.claim_pending(session, agency_id=agency_id, limit=count)
            tree = MerkleTree.from_digests([digest for _, digest, _ in claimed], KIND_FILE)
            batch_id = repo.seal_batch(
                session,
                agency_id=agency_id,
                record_ids=[record_id for record_id, _, _ in claimed],
                root=tree.root,
                signature=keys.sign_root(
                    key,
                    chain_id=registry.chain_id,
                    registry=registry.address,
                    agency=agency.address,
                    root=tree.root,
                ),
                public_key=public,
                leaf_count=tree.count,
            )
        tx = registry.anchor(agency, root=tree.root, leaf_count=tree.count)
        anchored_at = registry.node.block_time(tx.block_number)
        with store.session() as session:
            repo.mark_submitted(session, batch_id, tx_hash=tx.tx_hash, nonce=0, raw_tx=b"")
            repo.mark_anchored(
                session,
                batch_id,
                block_number=tx.block_number,
                block_hash=tx.block_hash,
                anchored_at=anchored_at,
            )
            repo.mark_confirmed(session, batch_id, confirmations=tx.confirmations)
        if progress is not None:
            progress(count)


def measure_audit(
    records: int = MILLION,
    *,
    batches: int = 10,
    rpc: str | None = None,
    db: str | None = None,
    progress: Progress | None = None,
    on_created: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Create the data (untimed), audit it (timed); the figures, with `seconds_1m` measured
    when `records` is a million and scaled linearly from the run otherwise."""
    registry, admin, agency = _setup_chain(rpc)
    with tempfile.TemporaryDirectory(prefix="registry-bench-audit-") as tmp:
        store = open_store(db, data_dir=Path(tmp))
        try:
            create = time.perf_counter()
            create_audit_data(
                store,
                registry,
                admin,
                agency,
                records=records,
                batches=batches,
                progress=on_created,
            )
            created_s = time.perf_counter() - create
            start = time.perf_counter()
            report: AuditReport = audit_registry(registry, store=store, progress=progress)
            seconds = time.perf_counter() - start
            store_url = store.url
        finally:
            store.close()
    if report.findings or report.summary.get("store_records") != records:
        raise AssertionError(
            f"audit of fresh data not clean: {report.summary}, {report.findings[:3]}"
        )
    return {
        "records": records,
        "batches": batches,
        "seconds": round(seconds, 3),
        "seconds_1m": round(seconds * MILLION / records, 3),
        "seconds_1m_measured": records == MILLION,
        "records_per_s": round(records / seconds, 1),
        "create_seconds": round(created_s, 3),
        "outcome": str(report.outcome),
        "chain": rpc or "embedded",
        "store": store_url.split("?")[0],
    }
