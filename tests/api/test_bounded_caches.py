"""The server's caches are bounded LRU: filled past the bound they keep exactly the bound, the
most recently used entries survive, one entry goes at a time (never the whole cache), and the
metrics count hits, misses and evictions."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from api.metrics import Metrics
from registry.service.caches import LruCache
from registry.service.chain_reader import CachingChainReader, VerificationCache
from registry.service.queries import PipelineStats
from registry.service.verify import Outcome


def _metrics() -> Metrics:
    return Metrics(stats=lambda: PipelineStats({}, {}, 0.0, 0.0), worker_running=lambda: True)


def _sample(text: str, name: str, cache: str) -> float:
    prefix = f'{name}{{cache="{cache}"}} '
    lines = [line for line in text.splitlines() if line.startswith(prefix)]
    assert lines, f"{prefix!r} not in the metrics"
    return float(lines[0].removeprefix(prefix))


def test_lru_keeps_the_bound_and_the_recent_entries() -> None:
    cache: LruCache[int, str] = LruCache("test", 100)
    for n in range(250):
        cache[n] = str(n)
        if n >= 50:
            assert cache.lookup(0) == "0"  # used all along: never the one evicted
    assert len(cache) == 100
    assert set(cache) == {0, *range(151, 250)}  # the hot key and the newest 99
    assert cache.lookup(150) is None  # the least recently used went first
    stats = cache.stats()
    assert (stats.size, stats.max_size, stats.evictions) == (100, 100, 150)
    assert stats.hits == 200 and stats.misses == 1


def test_lru_refuses_a_zero_bound() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        LruCache("test", 0)


class _CountingRegistry:
    """Answers a receipt's reading without a chain and counts the reads (each would be one
    JSON-RPC request)."""

    def __init__(self) -> None:
        self.calls = 0

    def read_receipt(self, **_: Any) -> Any:
        self.calls += 1
        return SimpleNamespace(
            check=SimpleNamespace(included=False, anchor=SimpleNamespace(agency=None)),
            key=SimpleNamespace(agency=None, valid_from=0, valid_until=1),
            agency=SimpleNamespace(name=""),
            block=1,
        )


def _receipt(n: int) -> Any:
    anchor = SimpleNamespace(chain_id=1, registry="0x" + "11" * 20, agency="0x" + "22" * 20)
    merkle = SimpleNamespace(proof=(), root=n.to_bytes(32, "big"))
    signature = SimpleNamespace(public_key=b"\x01" * 32)
    return SimpleNamespace(
        anchor=anchor, leaf=n.to_bytes(32, "big"), merkle=merkle, signature=signature
    )


def test_chain_answer_cache_evicts_one_at_a_time() -> None:
    node = _CountingRegistry()
    reader = CachingChainReader(
        registry_for=lambda chain_id, address: node,  # type: ignore[arg-type,return-value]
        revocation_ttl=3600.0,
        max_entries=1_000,
    )
    hot = _receipt(0)
    for n in range(2_500):
        reader.answer(_receipt(n))
        reader.answer(hot)  # a receipt verified again and again stays cached
    assert node.calls == 2_500  # the hot one asked the node once
    answers = next(c for c in reader.caches() if c.name == "chain_answers")
    stats = answers.stats()
    assert (stats.size, stats.evictions) == (1_000, 1_500)
    calls = node.calls
    for n in range(1_501, 2_500):  # the 999 newest are still answered from the cache
        reader.answer(_receipt(n))
    reader.answer(hot)
    assert node.calls == calls
    reader.answer(_receipt(1_000))  # an old one was evicted: the node is asked again
    assert node.calls == calls + 1

    metrics = _metrics()
    metrics.watch_caches(*(cache.stats for cache in reader.caches()))
    text = metrics.render().decode()
    assert _sample(text, "registry_cache_entries", "chain_answers") == 1_000
    assert _sample(text, "registry_cache_max_entries", "chain_answers") == 1_000
    assert _sample(text, "registry_cache_evictions_total", "chain_answers") == 1_501
    assert _sample(text, "registry_cache_hits_total", "chain_answers") == 2_500 + 1_000
    assert _sample(text, "registry_cache_misses_total", "chain_answers") == 2_501


def test_verification_cache_is_lru_with_metrics() -> None:
    reader = CachingChainReader(
        registry_for=lambda chain_id, address: None,  # type: ignore[arg-type,return-value]
        revocation_ttl=3600.0,
    )
    cache = VerificationCache(reader, size=50)
    keys = [VerificationCache.key(f"body {n}".encode(), None) for n in range(120)]
    for n, key in enumerate(keys):
        cache.put(
            key,
            generation=reader.generation,
            receipt=_receipt(n),
            encoded=f"answer {n}".encode(),
            outcome=Outcome.VALID,
        )
        assert cache.get(keys[0]) is not None  # kept warm
    assert cache.get(keys[1]) is None
    assert all(cache.get(key) is not None for key in keys[-49:])
    stats = cache.stats()
    assert (stats.size, stats.max_size, stats.evictions) == (50, 50, 70)

    metrics = _metrics()
    metrics.watch_caches(cache.stats)
    text = metrics.render().decode()
    assert _sample(text, "registry_cache_entries", "verifications") == 50
    assert _sample(text, "registry_cache_evictions_total", "verifications") == 70
    assert _sample(text, "registry_cache_hits_total", "verifications") == 120 + 49
    assert _sample(text, "registry_cache_misses_total", "verifications") == 1
