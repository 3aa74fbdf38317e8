"""Gas benchmark of every RecordRegistry transaction, with the anchor's theoretical floor.

anchor_floor = 21,000 (tx) + calldata (16 per non-zero byte, 4 per zero byte)
             + 22,100 (one cold SSTORE of the anchor slot) + 2,100 (cold SLOAD of the agency)
             + the Anchored log (375 + 375 per topic + 8 per data byte).
"""

from __future__ import annotations

import secrets
from typing import Any

from eth_hash.auto import keccak
from hexbytes import HexBytes
from web3 import Web3

from registry.chain import RegistryContract, connect, fund_from_dev_account, new_account
from registry.chain.contract import Reason
from registry.chain.tx import TxOptions

OPENATTESTATION_ISSUE_GAS = 47_886
"""OpenAttestation DocumentStore.issue() on the same node, for reference (issue #2)."""

BATCH_100K = 100_000
DEPTH_100K = 17  # ceil(log2(100_000))


def calldata_gas(data: bytes) -> int:
    """Intrinsic calldata cost (EIP-2028)."""
    zeros = data.count(0)
    return 4 * zeros + 16 * (len(data) - zeros)


def log_gas(log: Any) -> int:
    """LOG opcode cost of one emitted log, memory expansion aside."""
    return 375 + 375 * len(log["topics"]) + 8 * len(bytes(log["data"]))


def _synthetic_proof(depth: int) -> tuple[bytes, list[bytes], bytes]:
    """A leaf, a `depth`-long proof and the root it leads to (sorted-pair keccak, as OZ)."""
    leaf = keccak(keccak(secrets.token_bytes(32)))
    proof = [keccak(secrets.token_bytes(32)) for _ in range(depth)]
    node = leaf
    for sibling in proof:
        node = keccak(min(node, sibling) + max(node, sibling))
    return leaf, proof, node


def measure_gas(rpc: str | None = None) -> dict[str, Any]:
    """Deploy on a fresh embedded chain (or the node at `rpc`, funding from its dev account)
    and return the gas used by each operation."""
    w3: Web3 = connect(rpc)
    admin, agency = new_account(), new_account()
    for account in (admin, agency):
        fund_from_dev_account(w3, account.address)
    options = TxOptions(poll_interval=0.05)
    registry, deployed = RegistryContract.deploy(w3, admin, options=options)
    registered = registry.register_agency(
        admin, account=agency.address, name="Benchmark Agency", signing_key=secrets.token_bytes(32)
    )
    rotated = registry.rotate_signing_key(agency, secrets.token_bytes(32))

    leaf, proof, root = _synthetic_proof(DEPTH_100K)
    anchored = registry.anchor(agency, root=root, leaf_count=BATCH_100K)
    tx = w3.eth.get_transaction(HexBytes(anchored.tx_hash))
    floor = (
        21_000
        + calldata_gas(bytes(tx["input"]))
        + 22_100
        + 2_100
        + sum(log_gas(log) for log in anchored.logs)
    )
    revoked_leaf = registry.revoke(
        agency,
        root=root,
        leaf=leaf,
        proof=proof,
        reason=Reason.SUPERSEDED,
        replacement=secrets.token_bytes(32),
    )
    _, _, root2 = _synthetic_proof(DEPTH_100K)
    registry.anchor(agency, root=root2, leaf_count=BATCH_100K)
    revoked_batch = registry.revoke(
        agency, root=root2, leaf=root2, proof=[], reason=Reason.ISSUED_IN_ERROR
    )
    suspended = registry.suspend_agency(admin, agency.address)
    return {
        "chain_id": int(w3.eth.chain_id),
        "node": rpc or "embedded",
        "deploy": deployed.gas_used,
        "register_agency": registered.gas_used,
        "rotate_signing_key": rotated.gas_used,
        "anchor": anchored.gas_used,
        "anchor_floor": floor,
        "anchor_over_floor_pct": round(100 * (anchored.gas_used - floor) / floor, 2),
        "revoke_leaf_depth17": revoked_leaf.gas_used,
        "revoke_batch": revoked_batch.gas_used,
        "suspend_agency": suspended.gas_used,
        "gas_per_record_batch_100000": anchored.gas_used / BATCH_100K,
        "openattestation_issue_reference": OPENATTESTATION_ISSUE_GAS,
    }
