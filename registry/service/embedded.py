"""A throw-away registry on the in-process chain (`registry serve` without a node), and the
provider made safe to share between threads."""

from __future__ import annotations

from pathlib import Path

from eth_account.signers.local import LocalAccount

from registry.chain import (
    RegistryContract,
    connect,
    create_keystore,
    fund_from_dev_account,
    new_account,
)
from registry.chain.node import serialize_provider
from registry.service.operator import Operator, tx_options
from registry.settings import Settings


def share_between_threads(operator: Operator) -> bool:
    """Whether the operator runs on the in-process eth-tester chain; if so, make it safe to
    share between threads (the anchoring worker and request handlers): py-evm is not
    thread-safe, so its requests take turns (`Node.serialize`)."""
    node = operator.registry.node
    if not node.embedded:
        return False
    node.serialize()
    return True


def open_embedded(
    settings: Settings, *, data_dir: Path, passphrase: str
) -> tuple[Operator, LocalAccount]:
    """A fresh registry on a new in-process chain with its store in `data_dir`: the authority
    account is created and funded from the chain's dev account, the contract deployed. Every
    anchor vanishes with the process, so `data_dir` must be thrown away with it."""
    w3 = connect()
    serialize_provider(w3)  # before any thread shares it (Node.serialize on a bare Web3)
    admin = new_account()
    fund_from_dev_account(w3, admin.address)
    create_keystore(admin, data_dir / "keys" / "admin.json", passphrase)
    registry, _ = RegistryContract.deploy(w3, admin, options=tx_options(settings))
    local = settings.model_copy(
        update={
            "data_dir": data_dir,
            "database_url": None,
            "registry_address": registry.address,
            "chain_id": registry.chain_id,
        }
    )
    return Operator.open(local, registry=registry), admin
