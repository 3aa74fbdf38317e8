"""Talking to the chain: one Web3 factory, the contract bindings, sending transactions.

This package and `registry.store` are the only places that do network I/O.
"""

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
    CheckResult,
    KeyWindow,
    RegistryContract,
    RevocationInfo,
)
from registry.chain.tx import TxOptions, TxResult

__all__ = [
    "EMBEDDED",
    "AgencyInfo",
    "AgencyStatus",
    "AnchorInfo",
    "CheckResult",
    "KeyWindow",
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
