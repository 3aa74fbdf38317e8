"""Chain outage: with anvil stopped, submissions are still accepted; anchoring retries with
backoff and completes when the node is back (same port, state kept in its --state file)."""

from __future__ import annotations

import hashlib
import threading
import time

import pytest

from registry.chain import connect
from registry.chain.devnode import free_port, start_anvil
from registry.service.issuing import IssuingConfig
from registry.service.sandbox import deploy_dev_registry, dev_issuer, register_dev_agency
from registry.store import counts_by_status, open_store, read_journal


def items(n: int, tag: str) -> list[tuple[bytes, str, None]]:
    return [(hashlib.sha256(f"{tag} {i}".encode()).digest(), "file", None) for i in range(n)]


@pytest.mark.anvil
def test_anchoring_survives_a_node_outage(tmp_path):
    port, state = free_port(), tmp_path / "anvil-state.json"
    node = start_anvil(port=port, state_path=state)
    try:
        w3 = connect(node.url, timeout=2)
        reg, authority = deploy_dev_registry(w3)
        agency = register_dev_agency(reg, authority, "Tax Office")
        store = open_store(None, data_dir=tmp_path / "data")
        config = IssuingConfig(batch_size=10, batch_age=0, retry_initial=0.1, retry_max=0.5)
        issuer = dev_issuer(store, reg, agency, config)
        issuer.submit(items(10, "before"))
        issuer.drain()

        node.stop()  # the outage
        accepted = issuer.submit(items(10, "during"))  # the store alone takes submissions
        assert len(accepted.new_ids) == 10
        worker = threading.Thread(target=issuer.drain, daemon=True)
        worker.start()
        time.sleep(2.0)
        assert worker.is_alive()  # retrying, not crashed, not "done"
        with store.session() as session:
            retries = [e for e in read_journal(session) if e.kind == "batch.retry"]
            assert counts_by_status(session)["anchored"] == 10
        assert retries, "each failed attempt is journaled"

        node = start_anvil(port=port, state_path=state)  # back, with its state
        worker.join(timeout=60)
        assert not worker.is_alive()
        with store.session() as session:
            assert counts_by_status(session)["anchored"] == 20
        root = issuer.receipts(2)[0].merkle.root
        assert reg.anchor_of(agency.address, root).agency == agency.account.address
    finally:
        node.stop()
