"""A throw-away registry on the in-process chain (`registry serve` without a node), and the
provider made safe to share between threads."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.providers.eth_tester import EthereumTesterProvider

from registry.chain import (
    RegistryContract,
    connect,
    create_keystore,
    fund_from_dev_account,
    new_account,
)
from registry.service.operator import Operator, tx_options
from registry.settings import Settings


def serialize_provider(w3: Web3) -> None:
    """Make the in-process eth-tester chain safe to share between threads (the anchoring worker
    and request handlers): py-evm is not thread-safe, so its requests take turns."""
    provider = w3.provider
    if not isinstance(provider, EthereumTesterProvider) or hasattr(provider, "_registry_lock"):
        return
    lock = threading.RLock()
    original = provider.make_request

    def make_request(method: Any, params: Any) -> Any:
        with lock:
            return original(method, params)

    provider.make_request = make_request  # type: ignore[method-assign]
    provider._registry_lock = lock  # type: ignore[attr-defined]
    provider._request_func_cache = (None, None)  # type: ignore[assignment]  # rebuild with it


def open_embedded(
    settings: Settings, *, data_dir: Path, passphrase: str
) -> tuple[Operator, LocalAccount]:
    """A fresh registry on a new in-process chain with its store in `data_dir`: the authority
    account is created and funded from the chain's dev account, the contract deployed. Every
    anchor vanishes with the process, so `data_dir` must be thrown away with it."""
    w3 = connect()
    serialize_provider(w3)
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
