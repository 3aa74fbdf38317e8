"""Rate limits per client, in memory: a token bucket per client key, and the middleware that
applies one to every route (the verify routes have their own, stricter one in `api.deps`).

A client is its address as the server sees it: the peer, or the X-Forwarded-For address that a
*trusted* proxy vouched for (uvicorn's proxy headers, set from `trusted_proxies`). IPv6 clients
are bucketed by /64, the block one subscriber usually gets: per-address buckets would hand a
single host 2**64 fresh buckets.
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections import OrderedDict

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import problem

UNLIMITED_PATHS = frozenset({"/healthz"})
"""Liveness probes must answer even while a client is throttled; /healthz does no work."""
OWN_LIMIT_PREFIX = "/v1/verify"
"""The verify routes have their own limit (`api_verify_rate`, in `api.deps`)."""
READS = frozenset({"GET", "HEAD", "OPTIONS"})


def client_key(address: str) -> str:
    """The bucket of a client address: IPv4 as is, IPv6 by its /64 (IPv4-mapped IPv6 as the
    IPv4 address); anything else (a unix socket, 'testclient') as is."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


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

    def wait(self, client: str, *, now: float | None = None) -> float:
        """Seconds until `client` has a token (0.0: it has one now), without spending it."""
        if not self.enabled:
            return 0.0
        key = client_key(client)
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, at = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.rate)
        return 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.rate

    def take(self, client: str, *, now: float | None = None) -> float:
        """Spend one token of `client` (an address; IPv6 counts by /64): 0.0 if allowed, else
        the seconds until one is back."""
        if not self.enabled:
            return 0.0
        key = client_key(client)
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, at = self._buckets.pop(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - at) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                wait = 0.0
            else:
                self._buckets[key] = (tokens, now)
                wait = (1.0 - tokens) / self.rate
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
        return wait

    @staticmethod
    def retry_after(wait: float) -> int:
        """Whole seconds for a Retry-After header (at least 1)."""
        return max(1, math.ceil(wait))


class RateLimitMiddleware:
    """Answers 429 (problem+json, Retry-After) to a client past its bucket, before the request
    reaches a route, so a throttled request costs no body read, no store and no chain call.

    Reads (GET, HEAD, OPTIONS: the page, /docs, /metrics, /readyz, /v1/agencies, /v1/records/*,
    /v1/batches/*) each spend a token. Writes need a token of the API, so only the refused ones
    (401, 403) spend: an agency's issuing system is never throttled by its own volume, while
    guessing tokens from one address is. /healthz is free; /v1/verify has its own limit."""

    def __init__(self, app: ASGIApp, *, limiter: TokenBucket) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"] if scope["type"] == "http" else ""
        if (
            scope["type"] != "http"
            or not self.limiter.enabled
            or path in UNLIMITED_PATHS
            or path.startswith(OWN_LIMIT_PREFIX)
        ):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        address = client[0] if client else "unknown"
        read = scope["method"] in READS
        wait = self.limiter.take(address) if read else self.limiter.wait(address)
        if wait > 0:
            await self._refuse(scope, receive, send, address=address, wait=wait)
            return
        if read:
            await self.app(scope, receive, send)
            return

        async def charge_refusals(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] in (401, 403):
                self.limiter.take(address)
            await send(message)

        await self.app(scope, receive, charge_refusals)

    async def _refuse(
        self, scope: Scope, receive: Receive, send: Send, *, address: str, wait: float
    ) -> None:
        seconds = self.limiter.retry_after(wait)
        response = problem(
            429,
            slug="rate-limited",
            detail=f"too many requests from {client_key(address)}; the limit is "
            f"{self.limiter.rate:g}/s (burst {self.limiter.burst:g}); retry in {seconds} s",
            instance=scope["path"],
            headers={"Retry-After": str(seconds)},
        )
        await response(scope, receive, send)
