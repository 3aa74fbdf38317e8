"""Talking to the chain: one Web3 factory, the contract bindings, sending transactions.

This package and `registry.store` are the only places that do network I/O.

Its names are loaded on first use (PEP 562): importing one part of the package (the lean
JSON-RPC reader, say) does not import web3, and nothing here imports the embedded chain
(py-evm, eth-tester) until a chain is made with it. The recursion limit that py-evm and
py_ecc raise is put back by `registry._recursion`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from registry._recursion import restore_recursion_limit

restore_recursion_limit()  # web3 may have been imported before the registry

_EXPORTS = {
    "create_keystore": "registry.chain.accounts",
    "fund_from_dev_account": "registry.chain.accounts",
    "load_keystore": "registry.chain.accounts",
    "new_account": "registry.chain.accounts",
    "EMBEDDED": "registry.chain.connect",
    "connect": "registry.chain.connect",
    "AgencyInfo": "registry.chain.contract",
    "AgencyStatus": "registry.chain.contract",
    "AnchorInfo": "registry.chain.contract",
    "CheckQuery": "registry.chain.contract",
    "CheckResult": "registry.chain.contract",
    "ChecksAt": "registry.chain.contract",
    "KeyWindow": "registry.chain.contract",
    "ReceiptReading": "registry.chain.contract",
    "RegistryContract": "registry.chain.contract",
    "RevocationInfo": "registry.chain.contract",
    "MalformedAnswer": "registry.chain.lean",
    "TxOptions": "registry.chain.tx",
    "TxResult": "registry.chain.tx",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'registry.chain' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from registry.chain.accounts import (
        create_keystore,
        fund_from_dev_account,
        load_keystore,
        new_account,
    )
    from registry.chain.connect import EMBEDDED, connect
    from registry.chain.contract import (
        AgencyInfo,
        AgencyStatus,
        AnchorInfo,
        CheckQuery,
        CheckResult,
        ChecksAt,
        KeyWindow,
        ReceiptReading,
        RegistryContract,
        RevocationInfo,
    )
    from registry.chain.lean import MalformedAnswer
    from registry.chain.tx import TxOptions, TxResult

__all__ = [
    "EMBEDDED",
    "AgencyInfo",
    "AgencyStatus",
    "AnchorInfo",
    "CheckQuery",
    "CheckResult",
    "ChecksAt",
    "KeyWindow",
    "MalformedAnswer",
    "ReceiptReading",
    "RegistryContract",
    "RevocationInfo",
    "TxOptions",
    "TxResult",
    "connect",
    "create_keystore",
    "fund_from_dev_account",
    "load_keystore",
    "new_account",
]
