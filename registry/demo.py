"""The end-to-end demo on the embedded chain: the story the README's first command tells."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from registry import keys, merkle
from registry.chain import RegistryContract, connect, fund_from_dev_account, new_account
from registry.chain.tx import TxOptions
from registry.errors import ContractRevert


@dataclass(frozen=True)
class DemoOutcome:
    """What the demo established, for tests and for the closing summary."""

    registry: str
    chain_id: int
    root: bytes
    record_valid: bool
    forged_rejected: bool
    outsider_refused: bool


def run_demo(say: Callable[[str], None], *, batch_size: int = 1_000) -> DemoOutcome:
    """Deploy, register two agencies, anchor a batch, check a record, reject a forgery."""
    w3 = connect()
    say(f"Embedded chain started (chain id {w3.eth.chain_id}); nothing leaves this process.")
    authority, civil, education, outsider = (new_account() for _ in range(4))
    for account in (authority, civil, education, outsider):
        fund_from_dev_account(w3, account.address)
    registry, deployed = RegistryContract.deploy(
        w3, authority, options=TxOptions(poll_interval=0.01)
    )
    say(f"RecordRegistry deployed at {registry.address} ({deployed.gas_used:,} gas).")

    civil_key, education_key = keys.generate_signing_key(), keys.generate_signing_key()
    for account, name, key in (
        (civil, "Civil Registry Office", civil_key),
        (education, "Ministry of Education", education_key),
    ):
        registry.register_agency(
            authority, account=account.address, name=name, signing_key=keys.public_key_bytes(key)
        )
        say(f"Registered agency {name!r} at {account.address}.")

    certificates = [f"Birth certificate no. {i:06d}\n".encode() for i in range(batch_size)]
    digests = [hashlib.sha256(doc).digest() for doc in certificates]
    tree = merkle.MerkleTree.from_digests(digests)
    signature = keys.sign_root(
        civil_key, chain_id=registry.chain_id, registry=registry.address, root=tree.root
    )
    anchored = registry.anchor(civil, root=tree.root, leaf_count=tree.count)
    say(
        f"Civil Registry anchored {tree.count:,} certificates as one root "
        f"0x{tree.root.hex()[:16]}… "
        f"in block {anchored.block_number} ({anchored.gas_used:,} gas, "
        f"{anchored.gas_used / tree.count:.1f} gas per record); root signed with Ed25519."
    )

    index = 417
    leaf, proof = tree.leaf(index), tree.proof(index)
    result = registry.check(leaf=leaf, proof=proof, root=tree.root)
    window = registry.key_of(keys.public_key_bytes(civil_key))
    signed_ok = (
        keys.verify_root_signature(
            keys.public_key_bytes(civil_key),
            signature,
            chain_id=registry.chain_id,
            registry=registry.address,
            root=tree.root,
        )
        and window.agency == civil.address
        and window.valid_at(result.anchor.anchored_at)
    )
    valid = result.included and result.anchor.agency == civil.address and signed_ok
    say(
        f"Certificate #{index}: included={result.included}, anchored by "
        f"{registry.agency_of(civil.address).name!r}, signature {'ok' if signed_ok else 'BAD'}, "
        f"not revoked -> {'VALID' if valid else 'NOT VALID'}."
    )

    forged_digest = hashlib.sha256(b"Birth certificate no. 000417 (altered)\n").digest()
    forged = registry.check(leaf=merkle.leaf_hash(forged_digest), proof=proof, root=tree.root)
    say(
        "An altered certificate presented with the real proof: "
        f"included={forged.included} -> {'REJECTED' if not forged.included else 'ACCEPTED?!'}."
    )

    refused = False
    try:
        registry.revoke(outsider, root=tree.root, leaf=leaf, proof=proof, reason=3)
    except ContractRevert as exc:
        refused = True
        say(f"An outsider trying to revoke it is refused on chain: {exc.error_name}.")
    return DemoOutcome(
        registry=registry.address,
        chain_id=registry.chain_id,
        root=tree.root,
        record_valid=valid,
        forged_rejected=not forged.included,
        outsider_refused=refused,
    )
