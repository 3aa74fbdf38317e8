"""Chain outage: with anvil stopped, submissions are still accepted; anchoring retries with
backoff and completes when the node is back (same port, state kept in its --state file)."""

from __future__ import annotations

import hashlib
import threading
import time

import pytest

from registry import keys
from registry.chain import RegistryContract, connect, fund_from_dev_account, new_account
from registry.chain.devnode import free_port, start_anvil
from registry.chain.tx import TxOptions
from registry.service.issuing import Issuer, IssuingConfig
from registry.store import add_agency, counts_by_status, open_store, read_journal


def items(n: int, tag: str) -> list[tuple[bytes, str, None]]:
    return [(hashlib.sha256(f"{tag} {i}".encode()).digest(), "file", None) for i in range(n)]


@pytest.mark.anvil
def test_anchoring_survives_a_node_outage(tmp_path):
    port, state = free_port(), tmp_path / "anvil-state.json"
    node = start_anvil(port=port, state_path=state)
    try:
        w3 = connect(node.url, timeout=2)
        admin, agency = new_account(), new_account()
        for account in (admin, agency):
            fund_from_dev_account(w3, account.address)
        reg, _ = RegistryContract.deploy(w3, admin, options=TxOptions(poll_interval=0.02))
        key = keys.generate_signing_key()
        reg.register_agency(
            admin, account=agency.address, name="Tax Office", signing_key=keys.public_key_bytes(key)
        )
        store = open_store(None, data_dir=tmp_path / "data")
        with store.session() as session:
            agency_id = add_agency(
                session,
                address=agency.address,
                name="Tax Office",
                signing_public_key=keys.public_key_bytes(key),
            ).id
        issuer = Issuer(
            store=store,
            registry=reg,
            account=agency,
            signing_key=key,
            agency_id=agency_id,
            config=IssuingConfig(batch_size=10, batch_age=0, retry_initial=0.1, retry_max=0.5),
        )
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
        assert reg.anchor_of(issuer.receipts(2)[0].merkle.root).agency == agency.address
    finally:
        node.stop()
