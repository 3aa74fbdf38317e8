"""Values shared by the store tests (a module of its own: `conftest` is not importable by name)."""

from __future__ import annotations

import hashlib

ADDRESS_A = "0x" + "aa" * 20
ADDRESS_B = "0x" + "bb" * 20


def digest(n: int) -> bytes:
    """A distinct 32-byte digest per integer."""
    return hashlib.sha256(n.to_bytes(8, "big")).digest()
