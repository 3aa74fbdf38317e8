"""Small types that must not be mixed up: digests, leaves, roots, addresses."""

from __future__ import annotations

from functools import lru_cache
from typing import NewType

from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address

Digest = NewType("Digest", bytes)
"""32-byte SHA-256 of a file, or a structured record's digest."""

Leaf = NewType("Leaf", bytes)
"""32-byte Merkle leaf: keccak256(keccak256(abi.encode(digest)))."""

Root = NewType("Root", bytes)
"""32-byte Merkle root of a batch, the value anchored on chain."""

TxHash = NewType("TxHash", bytes)
"""32-byte transaction hash."""

Address = ChecksumAddress
"""EIP-55 checksummed 20-byte account or contract address (eth-typing's NewType)."""

SigningKey32 = NewType("SigningKey32", bytes)
"""32-byte raw Ed25519 public key as stored on chain."""


@lru_cache(maxsize=8_192)
def checksum_address(value: str) -> Address:
    """The EIP-55 form of a 0x + 40 hex digits address. Cached: a verifier meets the same few
    registries and agencies in every request, and each conversion costs two keccak hashes."""
    return to_checksum_address(value)


def to_hex(value: bytes) -> str:
    """Lower-case 0x-prefixed hex, the project's one hex form."""
    return "0x" + value.hex()
