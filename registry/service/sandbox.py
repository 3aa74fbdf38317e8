"""Development and benchmark set-ups on a chain with a funded dev account (eth-tester, anvil):
deploy a registry, register agencies with fresh keys, attach a store and an issuer. Used by
the demo, the benchmarks and the tests; never by production paths (it funds from dev accounts).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eth_account.signers.local import LocalAccount
from web3 import Web3

from registry import keys
from registry.chain import RegistryContract, new_account
from registry.chain.node import Node
from registry.chain.tx import TxOptions
from registry.merkle import MerkleTree
from registry.receipt import KIND_CODES, DigestKind, Receipt
from registry.service.issuing import Issuer, IssuingConfig
from registry.service.receipts import AnchoredBatch, batch_receipts
from registry.store import Store, add_agency, bind_store


@dataclass(frozen=True)
class DevAgency:
    """An agency's transaction account, Ed25519 signing key and salt secret, kept in memory.
    Its identity is the account it was registered with (`address`)."""

    name: str
    account: LocalAccount
    signing_key: Ed25519PrivateKey
    salt_secret: bytes = field(default_factory=keys.generate_salt_secret, repr=False)

    @property
    def address(self) -> str:
        return str(self.account.address)


def funded_account(node: Node | Web3) -> LocalAccount:
    """A fresh account funded from the node's first unlocked dev account."""
    account = new_account()
    (node if isinstance(node, Node) else Node(node)).fund_from_dev(account.address)
    return account


def deploy_dev_registry(
    w3: Web3, *, options: TxOptions | None = None
) -> tuple[RegistryContract, LocalAccount]:
    """Deploy a registry from a fresh, funded authority account."""
    authority = funded_account(w3)
    registry, _ = RegistryContract.deploy(
        w3, authority, options=options or TxOptions(poll_interval=0.01)
    )
    return registry, authority


def register_dev_agency(
    registry: RegistryContract, authority: LocalAccount, name: str
) -> DevAgency:
    """A funded account with a new signing key, registered on chain as `name`."""
    agency = DevAgency(name, funded_account(registry.node), keys.generate_signing_key())
    registry.register_agency(
        authority,
        account=agency.account.address,
        name=name,
        signing_key=keys.public_key_bytes(agency.signing_key),
    )
    return agency


def bind_dev_store(store: Store, registry: RegistryContract) -> None:
    """Bind `store` to the registry's chain (genesis hash) and address."""
    with store.session() as session:
        bind_store(
            session,
            chain_id=registry.chain_id,
            genesis_hash=registry.node.genesis_hash(),
            registry_address=registry.address,
        )


def dev_issuer(
    store: Store, registry: RegistryContract, agency: DevAgency, config: IssuingConfig
) -> Issuer:
    """Add the agency to the store and return its issuer (identity = the agency's account)."""
    with store.session() as session:
        agency_id = add_agency(
            session,
            address=agency.account.address,
            name=agency.name,
            signing_public_key=keys.public_key_bytes(agency.signing_key),
        ).id
    return Issuer(
        store=store,
        registry=registry,
        account=agency.account,
        signing_key=agency.signing_key,
        agency_id=agency_id,
        config=config,
        agency_address=agency.account.address,
        salt_secret=agency.salt_secret,
    )


def anchor_by_hand(
    registry: RegistryContract,
    *,
    account: LocalAccount,
    signing_key: Ed25519PrivateKey,
    digests: Sequence[bytes],
    kind: DigestKind,
    agency: str | None = None,
    anchor: bool = True,
) -> tuple[MerkleTree, list[Receipt]]:
    """Sign and anchor a batch of digests of one kind outside the pipeline and store (what a
    thief holding only a transaction key can do, or a test setting a scene), and build every
    receipt from what the chain recorded. `agency` is the identity `account` acts for (itself
    by default); with `anchor=False` the root must already be anchored."""
    identity = agency or account.address
    tree = MerkleTree.from_digests(digests, KIND_CODES[kind])
    if anchor:
        registry.anchor(account, root=tree.root, leaf_count=tree.count)
    on_chain = registry.anchor_of(identity, tree.root)
    signature = keys.sign_root(
        signing_key,
        chain_id=registry.chain_id,
        registry=registry.address,
        agency=identity,
        root=tree.root,
    )
    anchored = AnchoredBatch(
        root=tree.root,
        count=tree.count,
        block_number=on_chain.block_number,
        anchored_at=on_chain.anchored_at,
        public_key=keys.public_key_bytes(signing_key),
        signature=signature,
    )
    receipts = batch_receipts(
        registry, anchored, agency=identity, leaves=[(d, kind) for d in digests], tree=tree
    )
    return tree, receipts
