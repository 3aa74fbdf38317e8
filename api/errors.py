"""Every error the API answers is RFC 9457 problem+json, made by ONE handler (`problem_handler`)
from the project's exception hierarchy, FastAPI's validation errors, HTTP exceptions, and
anything unexpected. Bad input is 4xx, never 500; a chain or store outage is 503 with
Retry-After; an unexpected bug is a 500 that reveals nothing and is logged."""

from __future__ import annotations

import logging
import math
from http import HTTPStatus
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from registry.errors import (
    ChainError,
    ChainUnavailable,
    ClaimLost,
    ConfigError,
    DuplicateAgency,
    DuplicateRecord,
    InvalidInput,
    InvalidTransition,
    NotFound,
    ReferenceTaken,
    RegistryError,
    SigningKeyError,
    StoreUnavailable,
    TamperedDocument,
    TransactionFailed,
    UnknownAgency,
    WrongAgency,
    WrongStore,
)
from registry.service.idempotency import IdempotencyKeyInUse, IdempotencyKeyReused
from registry.service.outages import as_registry_error
from registry.service.records import InvalidCursor, NotAnchoredYet, NotYours
from registry.service.verify import node_failure, redact_urls
from registry.service.webhooks import UnsafeWebhookUrl

log = logging.getLogger("api")

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "urn:public-records-registry:problem:"
"""Problem `type` URIs are URNs (docs/api.md lists them): stable names, no host to resolve."""


class ApiError(RegistryError):
    """An error of the HTTP layer itself (authentication, scope, rate, state of a resource)."""

    status = 400
    slug = "bad-request"

    def __init__(self, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.headers = headers or {}


class Unauthorized(ApiError):
    """No bearer token, or one this registry does not know (or that was revoked)."""

    status = 401
    slug = "unauthorized"

    def __init__(self, message: str) -> None:
        super().__init__(message, headers={"WWW-Authenticate": 'Bearer realm="registry"'})


class Forbidden(ApiError):
    """The token is valid but its scope does not allow this (another agency's record, admin)."""

    status = 403
    slug = "forbidden"


class NotAnchored(ApiError):
    """The record exists but its batch is not anchored yet: no receipt to give."""

    status = 409
    slug = "not-anchored"


class UnsupportedMediaType(ApiError):
    """The request body is not of the media type the route reads (JSON, or a multipart form);
    the answer names the one expected (and says it in `Accept-Post`)."""

    status = 415
    slug = "unsupported-media-type"

    def __init__(self, *, expected: str, got: str | None) -> None:
        sent = f"got {got!r}" if got else "no Content-Type was sent"
        super().__init__(
            f"this route reads a {expected} body: send Content-Type: {expected} ({sent})",
            headers={"Accept-Post": expected},
        )
        self.expected = expected


class RateLimited(ApiError):
    """The client sent more verify requests than its rate allows."""

    status = 429
    slug = "rate-limited"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, headers={"Retry-After": str(retry_after)})


class ClientGone(ApiError):
    """The client closed the connection before its request body had arrived: nobody reads
    the answer, and it is no error of the server's (logged at debug level, no traceback)."""

    status = 400
    slug = "client-disconnected"

    def __init__(self) -> None:
        super().__init__("the client disconnected before the request body was complete")


class InvalidField(InvalidInput):
    """A request field is malformed; carries the field's name."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, field=field)


# (exception class, HTTP status, problem slug, Retry-After?) — the first matching class wins,
# so subclasses come before their bases.
_MAPPING: tuple[tuple[type[BaseException], int, str, bool], ...] = (
    (NotYours, 403, Forbidden.slug, False),
    (NotAnchoredYet, 409, NotAnchored.slug, True),
    (NotFound, 404, "not-found", False),
    (UnknownAgency, 404, "unknown-agency", False),
    (WrongAgency, 403, "wrong-agency", False),
    (ReferenceTaken, 409, "reference-taken", False),
    (IdempotencyKeyInUse, 409, "idempotency-key-in-use", True),
    (IdempotencyKeyReused, 422, "idempotency-key-reused", False),
    (InvalidCursor, 422, "invalid-cursor", False),
    (UnsafeWebhookUrl, 422, "unsafe-url", False),
    (DuplicateRecord, 409, "duplicate-record", False),
    (DuplicateAgency, 409, "duplicate-agency", False),
    (InvalidTransition, 409, "conflict", False),
    (ClaimLost, 409, "conflict", False),
    (StoreUnavailable, 503, "store-unavailable", True),
    (WrongStore, 500, "wrong-store", False),
    (ChainUnavailable, 503, "chain-unavailable", True),
    (TransactionFailed, 409, "chain-refused", False),
    (ChainError, 502, "chain-error", False),
    (SigningKeyError, 503, "keys-unavailable", False),
    (InvalidInput, 422, "invalid-input", False),
    (TamperedDocument, 422, "tampered", False),
    (ConfigError, 500, "config-error", False),
    (RegistryError, 400, "bad-request", False),
)


def problem(
    status: int,
    *,
    slug: str,
    detail: str,
    instance: str | None = None,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    """One problem+json response."""
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + slug,
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if instance is not None:
        body["instance"] = instance
    body.update({k: v for k, v in extensions.items() if v is not None})
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


def _validation_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    out = []
    for error in exc.errors():
        loc = [str(part) for part in error.get("loc", ())]
        # The body as a JSON pointer (like the strict readers); path.digest, query.timeout.
        separator = "/" if loc and loc[0] == "body" else "."
        field = separator.join(loc) or "body"
        message = str(error.get("msg", "invalid"))
        ctx = error.get("ctx") or {}
        if error.get("type") == "json_invalid" and "error" in ctx:
            message = f"malformed JSON: {ctx['error']}"
        out.append({"field": field, "message": message})
    return out


def _retry_after(request: Request, exc: BaseException | None = None) -> str:
    state = getattr(request.app.state, "registry", None)
    settings = getattr(state, "settings", None)
    seconds = getattr(settings, "api_retry_after", 10)
    if isinstance(exc, NotAnchoredYet | IdempotencyKeyInUse) and settings is not None:
        # Not an outage: the record waits for its batch to close (batch_age) and be anchored
        # (a block or two); ask again about then, never later than an outage's hint.
        soon = math.ceil(settings.batch_age + 2 * settings.api_worker_interval) + 1
        seconds = max(1, min(seconds, soon))
    return str(seconds)


def _count_chain_error(request: Request, where: str) -> None:
    state = getattr(request.app.state, "registry", None)
    metrics = getattr(state, "metrics", None)
    if metrics is not None:
        metrics.chain_errors.labels(where).inc()


STORE_UNAVAILABLE = "the record store could not be reached; try again later"
"""The public reason of every store outage: never the database's host, port or the driver's
text (the detail goes to the log)."""


def _store_unavailable(request: Request, exc: StoreUnavailable) -> JSONResponse:
    # An outage, not a bug: a warning without traceback, once per request.
    log.warning("%s %s: %s", request.method, request.url.path, exc)
    return problem(
        503,
        slug="store-unavailable",
        detail=STORE_UNAVAILABLE,
        instance=request.url.path,
        headers={"Retry-After": _retry_after(request)},
    )


async def problem_handler(request: Request, exc: Exception) -> JSONResponse:
    """The one exception handler: every error of every route becomes problem+json here."""
    instance = request.url.path
    if isinstance(exc, RequestValidationError):
        errors = _validation_errors(exc)
        fields = ", ".join(e["field"] for e in errors)
        return problem(
            422,
            slug="invalid-input",
            detail=f"invalid request: {fields}: {errors[0]['message']}" if errors else "invalid",
            instance=instance,
            errors=errors,
        )
    if isinstance(exc, ClientGone | ClientDisconnect):
        log.debug("%s %s: the client disconnected mid-body", request.method, instance)
        return problem(400, slug=ClientGone.slug, detail=str(ClientGone()), instance=instance)
    if isinstance(exc, ApiError):
        return problem(
            exc.status, slug=exc.slug, detail=str(exc), instance=instance, headers=exc.headers
        )
    if isinstance(exc, RegistryError):
        status, slug, retry = next(
            (status, slug, retry) for cls, status, slug, retry in _MAPPING if isinstance(exc, cls)
        )
        headers = {"Retry-After": _retry_after(request, exc)} if retry else None
        detail = str(exc)
        if isinstance(exc, ChainError):
            _count_chain_error(request, "request")
            if isinstance(exc, TransactionFailed):
                # The contract's or node's refusal of a transaction: the agency needs its
                # reason (a custom error's name); no URL is in it, and none could slip out.
                detail = redact_urls(detail)
            else:
                # Never the node's URL (an API key may be in it), host, port or an exception's
                # text: a stable reason; the detail goes to the log, its URLs redacted.
                detail = node_failure(exc, where=f"{request.method} {instance}")
                if retry:
                    detail += "; try again later"
        elif isinstance(exc, StoreUnavailable):
            return _store_unavailable(request, exc)
        elif status >= 500:
            log.error(
                "%s %s: %s: %s", request.method, instance, type(exc).__name__, redact_urls(detail)
            )
        extensions: dict[str, Any] = {}
        if status == 422:
            field = exc.field if isinstance(exc, InvalidInput) else None
            message = exc.problem if isinstance(exc, InvalidField) else str(exc)
            extensions["errors"] = [{"field": field or "body", "message": message}]
        return problem(
            status, slug=slug, detail=detail, instance=instance, headers=headers, **extensions
        )
    if isinstance(exc, StarletteHTTPException):
        slugs = {404: "not-found", 405: "method-not-allowed", 413: "content-too-large"}
        detail = str(exc.detail) if exc.detail else HTTPStatus(exc.status_code).phrase
        return problem(
            exc.status_code,
            slug=slugs.get(exc.status_code, f"http-{exc.status_code}"),
            detail=detail,
            instance=instance,
            headers=dict(exc.headers) if exc.headers else None,
        )
    outage = as_registry_error(exc)  # a driver error raised outside a store session
    if isinstance(outage, StoreUnavailable):
        return _store_unavailable(request, outage)
    log.exception("%s %s: unexpected %s", request.method, instance, type(exc).__name__)
    return problem(
        500,
        slug="internal-error",
        detail="an unexpected error occurred; it has been logged",
        instance=instance,
    )


# ------------------------------------------------------------------ OpenAPI

_EXAMPLES: dict[int, tuple[str, str]] = {
    401: ("unauthorized", "no bearer token; send Authorization: Bearer prr_..."),
    403: ("forbidden", "record 0x9f86... was issued by another agency"),
    404: ("not-found", "no record with digest 0x9f86d081... in this registry"),
    409: ("conflict", "the record is pending; its batch is not anchored yet"),
    413: ("content-too-large", "the request body is larger than 20971520 bytes"),
    415: (
        "unsupported-media-type",
        "this route reads a application/json body: send Content-Type: application/json "
        "(got 'text/plain')",
    ),
    422: ("invalid-input", "digest: expected 0x and 64 hex digits"),
    429: ("rate-limited", "too many verify requests from 203.0.113.7; retry in 2 s"),
    502: ("chain-error", "the node answered wrongly"),
    503: ("chain-unavailable", "the registry's node could not be reached; try again later"),
}


def problem_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for problem+json answers with these status codes."""
    out: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        slug, detail = _EXAMPLES[code]
        entry: dict[str, Any] = {
            "description": f"{HTTPStatus(code).phrase} (RFC 9457 problem details)",
            "content": {
                PROBLEM_MEDIA_TYPE: {
                    "schema": {"$ref": "#/components/schemas/Problem"},
                    "example": {
                        "type": PROBLEM_BASE + slug,
                        "title": HTTPStatus(code).phrase,
                        "status": code,
                        "detail": detail,
                        "instance": "/v1/...",
                    },
                }
            },
        }
        if code in (409, 429, 503):
            entry["headers"] = {
                "Retry-After": {
                    "description": "Seconds to wait before trying again"
                    + (
                        " (a 409 that passes by itself: not anchored yet, or a request with "
                        "the same Idempotency-Key still running)."
                        if code == 409
                        else "."
                    ),
                    "schema": {"type": "string"},
                }
            }
        if code == 415:
            entry["headers"] = {
                "Accept-Post": {
                    "description": "The media type the route reads.",
                    "schema": {"type": "string"},
                }
            }
        if code == 401:
            entry["headers"] = {
                "WWW-Authenticate": {"description": "Bearer.", "schema": {"type": "string"}}
            }
        out[code] = entry
    return out


__all__ = [
    "PROBLEM_MEDIA_TYPE",
    "ApiError",
    "ClientGone",
    "Forbidden",
    "InvalidField",
    "NotAnchored",
    "RateLimited",
    "Unauthorized",
    "UnsupportedMediaType",
    "problem",
    "problem_handler",
    "problem_responses",
]
