"""Benchmarks for registry.merkle: tree build and proofs at batch scale, keccak backends.

Behind ``registry bench merkle --json``. The target is root and all proofs of 1,000,000
digests in under 4 s (issue 12) on the project's 2-core machine; docs/merkle.md records results.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypedDict

from registry import merkle
from registry.errors import InvalidInput


class MerkleBench(TypedDict):
    """Result of :func:`bench_merkle`; every time is wall-clock seconds."""

    leaves: int
    seconds_root: float
    seconds_proofs: float
    seconds_total: float
    seconds_1m: float
    keccak_backend: str


def bench_merkle(count: int = 1_000_000, *, seed: int = 0) -> MerkleBench:
    """Time ``MerkleTree.from_digests`` (root) and ``all_proofs`` over ``count`` random digests.

    ``seconds_1m`` is the total scaled linearly to 1,000,000 leaves (the real total when
    ``count`` is 1,000,000), so small smoke runs still report the figure the target names.
    """
    if count < 1:
        raise InvalidInput(f"count must be at least 1, got {count}")
    blob = random.Random(seed).randbytes(32 * count)
    digests = [blob[i : i + 32] for i in range(0, len(blob), 32)]
    del blob

    started = time.perf_counter()
    tree = merkle.MerkleTree.from_digests(digests, merkle.KIND_RECORD)
    built = time.perf_counter()
    proofs = tree.all_proofs()
    finished = time.perf_counter()
    if len(proofs) != count:  # keeps the work observable; never expected to fire
        raise AssertionError("all_proofs returned the wrong number of proofs")

    total = finished - started
    return MerkleBench(
        leaves=count,
        seconds_root=built - started,
        seconds_proofs=finished - built,
        seconds_total=total,
        seconds_1m=total * 1_000_000 / count,
        keccak_backend=merkle.KECCAK_BACKEND,
    )


def compare_keccak_backends(calls: int = 100_000, *, repeat: int = 3) -> dict[str, float]:
    """Nanoseconds per keccak256 call of a 64-byte input (a node pair), per installed backend.

    The best of ``repeat`` runs; a backend that is not installed is left out. All
    backends are checked to agree with the one registry.merkle uses.
    """
    data = [random.Random(1).randbytes(64) for _ in range(calls)]
    expected = merkle.keccak256(data[0])
    results: dict[str, float] = {}
    for name, hash_one in _keccak_backends().items():
        if hash_one(data[0]) != expected:
            raise AssertionError(f"keccak backend {name} disagrees with registry.merkle")
        best = min(_time_calls(hash_one, data) for _ in range(repeat))
        results[name] = best * 1e9 / calls
    return results


def _time_calls(hash_one: Callable[[bytes], bytes], data: list[bytes]) -> float:
    started = time.perf_counter()
    for item in data:
        hash_one(item)
    return time.perf_counter() - started


def _keccak_backends() -> dict[str, Callable[[bytes], bytes]]:
    """keccak256 as each installed implementation offers it, called the cheapest way."""
    backends: dict[str, Callable[[bytes], bytes]] = {"registry.merkle.keccak256": merkle.keccak256}
    try:
        import sha3

        pysha3_new = sha3.keccak_256
        backends["safe-pysha3 sha3.keccak_256"] = lambda b: pysha3_new(b).digest()
    except ImportError:
        pass
    try:
        from Crypto.Hash import keccak

        crypto_new = keccak.new
        backends["pycryptodome Crypto.Hash.keccak"] = lambda b: crypto_new(
            data=b, digest_bits=256
        ).digest()
    except ImportError:
        pass
    try:
        from eth_hash.backends import pysha3 as eth_hash_pysha3

        backends["eth-hash pysha3 backend"] = eth_hash_pysha3.keccak256
    except ImportError:
        pass
    try:
        from eth_hash.backends import pycryptodome as eth_hash_pycryptodome

        backends["eth-hash pycryptodome backend"] = eth_hash_pycryptodome.keccak256
    except ImportError:
        pass
    try:
        from eth_hash.auto import keccak as eth_hash_auto

        backends["eth-hash auto (web3 default)"] = eth_hash_auto
    except ImportError:
        pass
    try:  # not a project dependency; measured when present for comparison
        import tiny_keccak

        backends["tiny-keccak"] = tiny_keccak.keccak256
    except ImportError:
        pass
    return backends
