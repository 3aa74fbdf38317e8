"""HTTP middleware of the app: the request body limit, and the security headers on every answer.

The body limit is enforced on what the client actually sends (a lying or missing Content-Length
does not help), by raising from `receive`; the route reading the body then fails inside the app,
so the one problem handler answers it.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = "default-src 'self'; frame-ancestors 'none'"
"""Only this origin's scripts, styles, images and fetches; no inline script or style (the page
and /docs load theirs from files); no framing (click-jacking)."""

DOCS_CONTENT_SECURITY_POLICY = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'"
"""/docs only: Swagger UI's stylesheet draws its icons as data: SVG images (images cannot run
script); everything else as strict as CONTENT_SECURITY_POLICY."""

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate CSP 2
}


class ContentTooLarge(HTTPException):
    """The request body is over the configured limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = None
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = None
                break
        limit = self.max_bytes
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            if declared is not None and declared > limit:
                raise ContentTooLarge(limit)
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise ContentTooLarge(limit)
            return message

        await self.app(scope, limited, send)


class SecurityHeadersMiddleware:
    """Adds SECURITY_HEADERS to every answer (errors and 429s included; a route may set its own
    Content-Security-Policy, as /docs does), and
    Strict-Transport-Security when the request came over HTTPS: TLS terminated by this server,
    or X-Forwarded-Proto: https from a trusted proxy (uvicorn sets the scope's scheme from it
    only for `trusted_proxies`). Over plain HTTP, HSTS would be ignored by browsers anyway."""

    def __init__(self, app: ASGIApp, *, hsts_max_age: int) -> None:
        self.app = app
        self.hsts = f"max-age={hsts_max_age}" if hsts_max_age > 0 else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
                if https and self.hsts is not None:
                    headers["Strict-Transport-Security"] = self.hsts
            await send(message)

        await self.app(scope, receive, with_headers)
