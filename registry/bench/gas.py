"""Gas benchmark of every RecordRegistry (protocol v2) transaction, with the anchor's floor.

The anchor floor of the v2 layout is what any contract storing one slot per (agency, root)
must pay, computed from the anchor transaction actually sent:

    21,000                 transaction
  + calldata               4 per zero byte, 16 per non-zero byte (EIP-2028) of the tx input
  +  2,100                 cold SLOAD of the caller's account slot (who is acting, for whom)
  + 22,100                 cold SLOAD + SSTORE (zero to non-zero) of the anchor slot
  +  1,756                 LOG3: 375 + 3 x 375 topics + 8 x 32 data bytes

The revocations are measured on a real 100,000-record batch built with registry.merkle, with
a leaf whose proof is 17 hashes deep (the peers' figure is for a depth-17 proof too).
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3

from registry.chain import RegistryContract, connect, new_account
from registry.chain.node import Node
from registry.chain.tx import TxOptions
from registry.merkle import KIND_RECORD, MerkleTree
from registry.vocabulary import Reason

BATCH_100K = 100_000
DEPTH_100K = 17  # ceil(log2(100_000)): the deepest proofs of a 100k batch

PEERS = {
    "openattestation_documentstore_issue": 47_886,
    "trustvc_revoke_leaf_depth17": 73_280,
    "trustvc_revoke_root": 51_812,
}
"""Peers measured on anvil 1.7.1 by the author of issue 9."""

TARGETS = {
    "anchor_over_floor_ratio": 1.03,
    "revoke_leaf_depth17": 73_280,
    "revoke_leaf_depth17_with_replacement": 95_000,
    "revoke_batch": 52_000,
}
"""Upper bounds of issue 9 (ratio for the anchor, gas for the rest)."""

ANCHOR_LOG_GAS = 375 + 3 * 375 + 8 * 32
COLD_SLOAD = 2_100
COLD_SSTORE_NEW = 22_100  # cold SLOAD (2,100) then a zero-to-non-zero SSTORE (20,000)


def calldata_gas(data: bytes) -> int:
    """Intrinsic calldata cost (EIP-2028)."""
    zeros = data.count(0)
    return 4 * zeros + 16 * (len(data) - zeros)


def anchor_floor(calldata: bytes) -> int:
    """The least gas an anchor with this calldata can cost in the v2 layout (module docstring)."""
    return 21_000 + calldata_gas(calldata) + COLD_SLOAD + COLD_SSTORE_NEW + ANCHOR_LOG_GAS


def batch_100k(seed: bytes) -> tuple[MerkleTree, int]:
    """A 100,000-record tree and the index of a record whose proof is 17 hashes deep."""
    digests = [hashlib.sha256(seed + i.to_bytes(4, "big")).digest() for i in range(BATCH_100K)]
    tree = MerkleTree.from_digests(digests, KIND_RECORD)
    index = next(i for i in range(BATCH_100K) if len(tree.proof(i)) == DEPTH_100K)
    return tree, index


def measure_gas(rpc: str | None = None) -> dict[str, Any]:
    """Deploy on a fresh embedded chain (or the node at `rpc`, funding from its dev account),
    run every transaction once and return the gas each used, the anchor floor, the peers and
    the targets."""
    w3: Web3 = connect(rpc)
    admin, agency, other, moved_to = (new_account() for _ in range(4))
    actors: tuple[LocalAccount, ...] = (admin, agency, other, moved_to)
    for account in actors:
        Node(w3).fund_from_dev(account.address)
    registry, deployed = RegistryContract.deploy(w3, admin, options=TxOptions(poll_interval=0.05))
    gas: dict[str, int] = {"deploy": deployed.gas_used}

    gas["registerAgency"] = registry.register_agency(
        admin, account=agency.address, name="Benchmark Agency", signing_key=secrets.token_bytes(32)
    ).gas_used
    registry.register_agency(
        admin, account=other.address, name="Second Agency", signing_key=secrets.token_bytes(32)
    )
    new_key = secrets.token_bytes(32)
    gas["proposeSigningKey"] = registry.propose_signing_key(agency, new_key).gas_used
    gas["confirmSigningKey"] = registry.confirm_signing_key(admin, agency.address, new_key).gas_used

    tree, index = batch_100k(secrets.token_bytes(16))
    anchored = registry.anchor(agency, root=tree.root, leaf_count=tree.count)
    calldata = registry.node.transaction_input(anchored.tx_hash)
    floor = anchor_floor(calldata)
    gas["anchor"] = anchored.gas_used

    def revoke_leaf(i: int, replacement: bytes) -> int:
        reason = Reason.SUPERSEDED if any(replacement) else Reason.ISSUED_IN_ERROR
        proof = tree.proof(i)
        assert len(proof) == DEPTH_100K
        return registry.revoke(
            agency,
            root=tree.root,
            leaf=tree.leaf(i),
            proof=proof,
            reason=reason,
            replacement=replacement,
        ).gas_used

    deep = [i for i in range(index, BATCH_100K) if len(tree.proof(i)) == DEPTH_100K][:3]
    gas["revoke_leaf_depth17"] = revoke_leaf(deep[0], b"\0" * 32)
    gas["revoke_leaf_depth17_with_replacement"] = revoke_leaf(deep[1], secrets.token_bytes(32))
    gas["revokeByAuthority_leaf_depth17"] = registry.revoke_by_authority(
        admin,
        agency=agency.address,
        root=tree.root,
        leaf=tree.leaf(deep[2]),
        proof=tree.proof(deep[2]),
        reason=Reason.COURT_ORDER,
    ).gas_used

    second, _ = batch_100k(secrets.token_bytes(16))
    registry.anchor(agency, root=second.root, leaf_count=second.count)
    gas["revoke_batch"] = registry.revoke(
        agency, root=second.root, leaf=second.root, proof=[], reason=Reason.WITHDRAWN
    ).gas_used

    gas["suspendAgency"] = registry.suspend_agency(admin, agency.address).gas_used
    gas["reinstateAgency"] = registry.reinstate_agency(admin, agency.address).gas_used

    last = registry.anchor(other, root=secrets.token_bytes(32), leaf_count=1)
    gas["markCompromised"] = registry.mark_compromised(
        admin, other.address, since=registry.node.block_time(last.block_number)
    ).gas_used
    gas["moveAgency"] = registry.move_agency(
        admin, other.address, new_account=moved_to.address
    ).gas_used

    # Flat and numeric (besides node/chain_id): `registry bench gas` prints every other key.
    return {
        "chain_id": registry.chain_id,
        "node": rpc or "embedded",
        **gas,
        "anchor_floor": floor,
        "anchor_over_floor_ratio": round(gas["anchor"] / floor, 4),
        "anchor_over_floor_pct": round(100 * (gas["anchor"] - floor) / floor, 2),
        "gas_per_record_batch_100000": gas["anchor"] / BATCH_100K,
        "openattestation_issue_reference": PEERS["openattestation_documentstore_issue"],
        "trustvc_revoke_leaf_depth17_reference": PEERS["trustvc_revoke_leaf_depth17"],
        "trustvc_revoke_root_reference": PEERS["trustvc_revoke_root"],
    }


def missed_targets(figures: dict[str, Any]) -> list[str]:
    """The targets of issue 9 that `figures` (from measure_gas) misses, as readable lines."""
    missed = []
    ratio = figures["anchor_over_floor_ratio"]
    if ratio > TARGETS["anchor_over_floor_ratio"]:
        missed.append(f"anchor is {ratio} x its floor (> {TARGETS['anchor_over_floor_ratio']})")
    for name in ("revoke_leaf_depth17", "revoke_leaf_depth17_with_replacement", "revoke_batch"):
        if figures[name] > TARGETS[name]:
            missed.append(f"{name} used {figures[name]:,} gas (> {TARGETS[name]:,})")
    return missed
