# ruff: noqa: E402  (the recursion limit is read before the imports below; see there)
"""Talking to the chain: one Web3 factory, the contract bindings, sending transactions.

This package and `registry.store` are the only places that do network I/O.
"""

import sys

# py-evm (`eth`) and py_ecc raise Python's recursion limit to 100,000 when imported (by web3).
# With that limit, recursive C code such as json.loads overflows the C stack on deeply nested
# input and kills the process (a segfault, not an exception); with the default limit it
# raises RecursionError. So the limit is put back after they are imported. When something
# imported web3 before this package, the limit seen here is already theirs: then the
# interpreter's default is restored.
_WEB3_RECURSION_LIMIT = 100_000
_PYTHON_DEFAULT_RECURSION_LIMIT = 1000
_limit_before = sys.getrecursionlimit()

import eth  # noqa: F401  (imported first, for the limit above)
import py_ecc  # noqa: F401
import web3  # noqa: F401

if _limit_before >= _WEB3_RECURSION_LIMIT:
    _limit_before = _PYTHON_DEFAULT_RECURSION_LIMIT
sys.setrecursionlimit(_limit_before)

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
