"""How the app is served: uvicorn's options from the settings, and uvicorn's httptools protocol
with the limits uvicorn lacks.

uvicorn cuts idle keep-alive connections, but has no deadline for a request's head, no limit on
its size (httptools buffers a 50 MB header whole) or on the number of header fields, accepts two
Host headers, and accepts connections until file descriptors run out. `hardened_http` adds those
limits in the protocol itself, where a slow client costs one timer and a few bytes; `registry
serve` uses it (docs/api.md, "Serving"). A reverse proxy in front can add per-client connection
caps; trust it with `trusted_proxies`.
"""

from __future__ import annotations

import asyncio
import copyreg
import ipaddress
import logging
from dataclasses import dataclass
from typing import Any

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from registry.settings import Settings

log = logging.getLogger("api.server")


@dataclass(frozen=True)
class HttpLimits:
    """What one client may cost the server before its request reaches the app."""

    header_timeout: float = 10.0
    body_timeout: float = 30.0
    max_header_bytes: int = 16 * 1024
    max_headers: int = 100
    max_connections: int = 4_000

    @classmethod
    def from_settings(cls, settings: Settings) -> HttpLimits:
        return cls(
            header_timeout=settings.http_header_timeout,
            body_timeout=settings.http_body_timeout,
            max_header_bytes=settings.http_max_header_bytes,
            max_headers=settings.http_max_headers,
            max_connections=settings.http_max_connections,
        )


class _Refused(Exception):
    """Raised from a parser callback to stop parsing; `send_400_response` then answers."""


class HardenedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with deadlines and size limits on the request head, an idle
    deadline on the body, one Host header, and a cap on open connections."""

    limits = HttpLimits()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._refusal: tuple[int, str] | None = None
        self._reading_head = True
        self._head_bytes = 0
        self._header_count = 0
        self._head_size = 0
        self._host_seen = False
        self._head_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None

    # --- connection

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.limits.max_connections:
            # Closed before reading a byte: this client costs nothing more than the accept.
            log.warning("connection limit (%d) reached", self.limits.max_connections)
            transport.abort()
            return
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timers()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refusal is not None:
            return
        if self._reading_head:
            self._head_bytes += len(data)
        super().data_received(data)
        head_too_long = self._reading_head and self._head_bytes > self.limits.max_header_bytes
        if self._refusal is None and head_too_long:
            self._refuse(431, "Request header fields too large.")

    # --- parser callbacks

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._header_count = 0
        self._head_size = 0
        self._host_seen = False
        if not self._reading_head:  # a keep-alive connection's next request
            self._reading_head = True
            self._head_bytes = 0
        self._arm_head_timer()

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        self._head_size += len(url)
        if len(self.url) > self.limits.max_header_bytes:
            self._refusal = (414, "Request URI too long.")
            raise _Refused

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_count += 1
        if self._header_count > self.limits.max_headers:
            self._refusal = (431, "Too many request header fields.")
            raise _Refused
        self._head_size += len(name) + len(value) + 4
        if self._head_size > self.limits.max_header_bytes:
            self._refusal = (431, "Request header fields too large.")
            raise _Refused
        if name.lower() == b"host":
            if self._host_seen:  # RFC 9112 3.2: more than one Host is a 400
                self._refusal = (400, "More than one Host header.")
                raise _Refused
            self._host_seen = True
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._reading_head = False
        self._head_bytes = 0
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        super().on_headers_complete()
        self._arm_body_timer()

    def on_body(self, body: bytes) -> None:
        super().on_body(body)
        self._arm_body_timer()

    def on_message_complete(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None
        super().on_message_complete()

    # --- refusals and deadlines

    def send_400_response(self, msg: str) -> None:
        """uvicorn answers every parser error here; a refusal of ours answers with its status."""
        status, reason = self._refusal or (400, msg)
        self._refusal = self._refusal or (400, msg)
        self._cancel_timers()
        body = reason.encode("ascii")
        content = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:
            content.extend([name, b": ", value, b"\r\n"])
        content.extend(
            [
                b"content-type: text/plain; charset=utf-8\r\n",
                b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
                b"connection: close\r\n",
                b"\r\n",
                body,
            ]
        )
        self.transport.write(b"".join(content))
        self.transport.close()

    def _refuse(self, status: int, reason: str) -> None:
        self._refusal = (status, reason)
        self.send_400_response(reason)

    def _arm_head_timer(self) -> None:
        if self._head_timer is None and not self.transport.is_closing():
            self._head_timer = self.loop.call_later(self.limits.header_timeout, self._head_late)

    def _arm_body_timer(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None
        if self.cycle is not None and self.cycle.more_body and not self.transport.is_closing():
            self._body_timer = self.loop.call_later(self.limits.body_timeout, self._body_late)

    def _head_late(self) -> None:
        self._head_timer = None
        if not self.transport.is_closing() and self._reading_head:
            self._refuse(408, "Request header timeout.")

    def _body_late(self) -> None:
        self._body_timer = None
        if self.transport.is_closing() or self.cycle is None or not self.cycle.more_body:
            return
        if self.flow.read_paused:  # the app is behind, not the client
            self._arm_body_timer()
            return
        log.info("closing a connection whose request body stalled")
        self.transport.close()

    def _cancel_timers(self) -> None:
        for timer in (self._head_timer, self._body_timer):
            if timer is not None:
                timer.cancel()
        self._head_timer = self._body_timer = None


class _LimitedProtocolClass(type):
    """The metaclass of `hardened_http`'s classes: such a class is pickled as the call that
    makes it (`hardened_http(limits)`), so that uvicorn can send it, inside its config, to the
    worker processes of `registry serve --workers N` (a class made at run time cannot be
    pickled by name)."""


def _rebuild(cls: _LimitedProtocolClass) -> tuple[object, tuple[HttpLimits]]:
    return hardened_http, (cls.limits,)  # type: ignore[attr-defined]


copyreg.pickle(_LimitedProtocolClass, _rebuild)  # type: ignore[arg-type]


def hardened_http(limits: HttpLimits) -> type[HardenedHttpProtocol]:
    """The protocol class for uvicorn's `http=` option, with these limits (picklable)."""
    made = _LimitedProtocolClass(
        "HardenedHttpProtocol", (HardenedHttpProtocol,), {"limits": limits}
    )
    return made  # type: ignore[return-value]


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """uvicorn.run / uvicorn.Config keyword arguments for serving the app under `settings`.

    X-Forwarded-For and X-Forwarded-Proto are believed only from `trusted_proxies` (uvicorn's
    own default trusts 127.0.0.1, which lets any local process, or a proxy that passes the
    header through, pick its rate-limit bucket).
    """
    proxies = [str(ipaddress.ip_network(p, strict=False)) for p in settings.trusted_proxies]
    options: dict[str, Any] = {
        "http": hardened_http(HttpLimits.from_settings(settings)),
        "proxy_headers": bool(proxies),
        "forwarded_allow_ips": ",".join(proxies) if proxies else "",
        "timeout_keep_alive": settings.http_keep_alive,
        "server_header": False,
    }
    if settings.tls_certfile is not None:
        options["ssl_certfile"] = str(settings.tls_certfile)
        options["ssl_keyfile"] = str(settings.tls_keyfile) if settings.tls_keyfile else None
    return options


__all__ = ["HardenedHttpProtocol", "HttpLimits", "hardened_http", "uvicorn_options"]
