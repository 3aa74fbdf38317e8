"""Keep Python's recursion limit when py-evm (`eth`) or py_ecc is imported.

Both raise the limit to 100,000 or more when imported (py_ecc comes with eth_account, so with
web3; py-evm with the embedded eth-tester chain). With that limit, recursive C code such as
json.loads overflows the C stack on deeply nested input and kills the process (a segfault, not
an exception); with the default limit it raises RecursionError. This finder puts the limit back
as it was right after either module has run, whoever imports it and whenever; installed by
`registry/__init__.py`, so before any part of the registry imports web3.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

RAISING = frozenset({"eth", "py_ecc"})
"""Top-level modules that raise the limit when imported."""

RAISED_LIMIT = 100_000
DEFAULT_LIMIT = 1000


def restore_recursion_limit() -> None:
    """Put the interpreter's default limit back if a module imported before now raised it."""
    if sys.getrecursionlimit() >= RAISED_LIMIT:
        sys.setrecursionlimit(DEFAULT_LIMIT)


class _KeepLimit(importlib.abc.MetaPathFinder):
    """Finds `eth` and `py_ecc` through the other finders and wraps their loading so that the
    recursion limit is the same after as before."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in RAISING:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        loader: Any = spec.loader
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        run = loader.exec_module

        def exec_module(module: ModuleType) -> None:
            limit = min(sys.getrecursionlimit(), RAISED_LIMIT - 1)
            try:
                run(module)
            finally:
                sys.setrecursionlimit(limit)

        loader.exec_module = exec_module
        return spec


def install() -> None:
    """Install the finder once (first on sys.meta_path), and undo an earlier raise."""
    restore_recursion_limit()
    if not any(isinstance(f, _KeepLimit) for f in sys.meta_path):
        sys.meta_path.insert(0, _KeepLimit())
