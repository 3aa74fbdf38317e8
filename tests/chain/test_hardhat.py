"""The chain conformance suite (tests/chain/test_contract.py) and one issuing run against
Hardhat's node (npm `hardhat`, EDR): "any JSON-RPC node" shown on a second, independent
implementation, not only on anvil. One Hardhat node per test session (per xdist worker)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
import test_contract
from chain_envs import ChainEnv, build_chain_env

from registry.chain import connect
from registry.chain.devnode import HardhatNode, start_hardhat
from registry.service.issuing import IssuingConfig, issue_records
from registry.service.sandbox import (
    bind_dev_store,
    deploy_dev_registry,
    dev_issuer,
    register_dev_agency,
)
from registry.service.verify import (
    ChainReader,
    Outcome,
    TrustedRegistry,
    registry_resolver,
    verify_receipt,
)
from registry.store import open_store

pytestmark = pytest.mark.npm


@pytest.fixture(scope="session")
def hardhat_node() -> Iterator[HardhatNode]:
    """One Hardhat node per test session on a free loopback port; fails (never skips) if
    hardhat is not installed (scripts/setup.sh installs it)."""
    node = start_hardhat()
    yield node
    node.stop()


@pytest.fixture(scope="session")
def chain_env_session(hardhat_node: HardhatNode) -> ChainEnv:
    """Overrides tests/conftest.py's fixture of this name for this module: the same set-up
    (deployed registry, two agencies, funded actors) on Hardhat. conftest's `chain_env` wraps
    it in an evm_snapshot/evm_revert per test, as on anvil."""
    return build_chain_env("hardhat", connect(hardhat_node.url))


# The conformance suite, collected here a second time: its tests resolve `chain_env_session`
# to the Hardhat fixture above, so every test of test_contract.py runs on Hardhat too.
globals().update(
    {name: test for name, test in vars(test_contract).items() if name.startswith("test_")}
)


def test_issuing_run_on_hardhat_verifies_valid(hardhat_node: HardhatNode, tmp_path: Path):
    """Seal 12 records, anchor them in three batches through the issuer, build their
    receipts, and verify each one VALID by a verifier that attaches to the registry on its own
    connection to the Hardhat node."""
    w3 = connect(hardhat_node.url)
    registry, authority = deploy_dev_registry(w3)
    agency = register_dev_agency(registry, authority, "Land Office")
    store = open_store(None, data_dir=tmp_path / "data")
    try:
        bind_dev_store(store, registry)
        issuer = dev_issuer(store, registry, agency, IssuingConfig(batch_size=5, batch_age=3600))
        records = [{"type": "deed", "parcel": f"P-{i}", "owner": f"Owner {i}"} for i in range(12)]
        digests = issue_records(issuer, records)
        assert issuer.unfinished() == [] and issuer.pending_count() == 0
        batches = issuer.confirmed_batches()
        receipts = [receipt for batch in batches for receipt in issuer.receipts(batch)]
        assert len(batches) == 3 and sorted(r.digest for r in receipts) == sorted(digests)
        blocks = {r.anchor.block_number for r in receipts}
        assert len(blocks) == 3 and all(0 < b <= w3.eth.block_number for b in blocks)

        verifier = ChainReader(
            registry_for=registry_resolver(
                lambda chain_id: connect(hardhat_node.url, expected_chain_id=chain_id)
            ),
            revocation_ttl=0,
        )
        trusted = [TrustedRegistry(registry.chain_id, registry.address)]
        for receipt in receipts:
            verification = verify_receipt(
                receipt,
                trusted=trusted,
                reader=verifier,
                digest=receipt.digest,
                digest_kind=receipt.digest_kind,
            )
            assert verification.outcome is Outcome.VALID, verification.to_json()
            assert verification.agency_name == "Land Office"
        other = hashlib.sha256(b"a document that was never issued").digest()
        forged = verify_receipt(
            receipts[0],
            trusted=trusted,
            reader=verifier,
            digest=other,
            digest_kind=receipts[0].digest_kind,
        )
        assert forged.outcome is Outcome.TAMPERED
    finally:
        store.close()
