"""A token bucket per client, in memory: the public verify routes' rate limit."""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict


class TokenBucket:
    """Each client may send `burst` requests at once, then `rate` per second. Memory is bounded:
    past `max_clients`, the least recently seen client is forgotten (it starts full again)."""

    def __init__(self, *, rate: float, burst: int, max_clients: int = 100_000) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.max_clients = max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def take(self, client: str, *, now: float | None = None) -> float:
        """Spend one token of `client`: 0.0 if allowed, else the seconds until one is back."""
        if not self.enabled:
            return 0.0
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, at = self._buckets.pop(client, (self.burst, now))
            tokens = min(self.burst, tokens + (now - at) * self.rate)
            if tokens >= 1.0:
                self._buckets[client] = (tokens - 1.0, now)
                wait = 0.0
            else:
                self._buckets[client] = (tokens, now)
                wait = (1.0 - tokens) / self.rate
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
        return wait

    @staticmethod
    def retry_after(wait: float) -> int:
        """Whole seconds for a Retry-After header (at least 1)."""
        return max(1, math.ceil(wait))
