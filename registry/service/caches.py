"""Bounded caches: a dict of at most N entries, least recently used out first, with the
figures the metrics report. Used by every chain reader (CLI and server alike) and by the
server's verification cache."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

__all__ = ["CACHE_ENTRIES", "CacheStats", "LruCache"]

CACHE_ENTRIES = 200_000
"""Bound of each of the chain reader's caches (answers, open key windows, names)."""


K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True)
class CacheStats:
    """One cache's figures for the metrics: how it is used and how full it is."""

    name: str
    hits: int
    misses: int
    evictions: int
    size: int
    max_size: int


class LruCache(OrderedDict[K, V]):
    """A dict of at most `max_size` entries: storing one more evicts the least recently used
    one (never the whole cache, which would turn a flood of new keys into a miss for every
    key). `lookup` counts hits and misses and marks the entry used; thread-safe."""

    def __init__(self, name: str, max_size: int) -> None:
        super().__init__()
        if max_size < 1:
            raise ValueError(f"cache {name}: max_size must be at least 1, not {max_size}")
        self.name = name
        self.max_size = max_size
        self.hits = 0
        self.misses = 0
        self.evictions = 0
        self._lock = threading.RLock()

    def lookup(self, key: K) -> V | None:
        with self._lock:
            value = super().get(key)
            if value is None:
                self.misses += 1
                return None
            self.hits += 1
            self.move_to_end(key)
            return value

    def get(self, key: K, default: Any = None) -> Any:  # type: ignore[override]
        """As `lookup` (counted, marks the entry used): readers that treat it as a dict count."""
        value = self.lookup(key)
        return default if value is None else value

    def peek(self, key: K) -> V | None:
        """The entry, neither counted nor marked used (a look that answers no request)."""
        with self._lock:
            return super().get(key)

    def __setitem__(self, key: K, value: V) -> None:
        with self._lock:
            super().__setitem__(key, value)
            self.move_to_end(key)
            while len(self) > self.max_size:
                self.popitem(last=False)
                self.evictions += 1

    def drop_where(self, doomed: Callable[[K], bool]) -> int:
        """Remove the entries whose key `doomed` picks (an event changed them); how many."""
        with self._lock:
            keys = [key for key in self if doomed(key)]
            for key in keys:
                del self[key]
            return len(keys)

    def clear(self) -> None:
        with self._lock:
            super().clear()

    def stats(self) -> CacheStats:
        with self._lock:
            return CacheStats(
                self.name, self.hits, self.misses, self.evictions, len(self), self.max_size
            )
