"""Reading request bodies strictly, and the OpenAPI description of bodies read that way.

Structured records are parsed with the record module's strict reader (unique keys, finite
numbers, safe integers, depth and size limits), the same as `registry issue` does, not with a
lenient JSON parser that would silently keep the last of two duplicate keys.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import ClientDisconnect

from api.errors import ClientGone, InvalidField, UnsupportedMediaType
from api.middleware import ContentTooLarge
from registry import record
from registry.errors import InvalidInput

Model = TypeVar("Model", bound=BaseModel)
Result = TypeVar("Result")

SMALL_BODY_BYTES = 16 * 1024
"""Largest body of the small JSON requests (a digest, a revocation, an agency, a token label)."""

SMALL_BODY_DEPTH = 4
"""Deepest nesting of a small JSON request (each is one flat object)."""

INLINE_BYTES = 64 * 1024
"""Bodies up to this size are parsed on the event loop; larger ones in a worker thread, so
that one big body never stalls every other request (and /healthz) while it is read."""


HEAVY_THREADS = 2
"""Worker threads parsing or hashing large bodies at once. Few: each holds the GIL while it
works, and every thread more in the queue for it delays the event loop (and /healthz)."""

_heavy = threading.local()


def _heavy_limiter() -> anyio.CapacityLimiter:
    """The limiter of the running event loop's heavy work (one per loop and thread)."""
    loop = asyncio.get_running_loop()
    if getattr(_heavy, "loop", None) is not loop:
        _heavy.loop, _heavy.limiter = loop, anyio.CapacityLimiter(HEAVY_THREADS)
    limiter: anyio.CapacityLimiter = _heavy.limiter
    return limiter


async def off_loop(size: int, work: Callable[..., Result], *args: Any, **kwargs: Any) -> Result:
    """`work(*args, **kwargs)`, in a worker thread (at most HEAVY_THREADS at once) when it
    handles more than INLINE_BYTES."""
    if size <= INLINE_BYTES:
        return work(*args, **kwargs)
    call = functools.partial(work, *args, **kwargs)
    return await anyio.to_thread.run_sync(call, limiter=_heavy_limiter())


JSON = "application/json"
MULTIPART = "multipart/form-data"


def require_media_type(request: Request, expected: str) -> None:
    """Refuse (415, naming `expected`) a body of another media type: a form or `text/plain`
    sent to a JSON route is not guessed at. Checked on the header alone, after the route's
    dependencies (auth) and before a byte of the body is read. `application/json` also takes
    any `application/*+json`."""
    given = request.headers.get("content-type")
    media = (given or "").split(";", 1)[0].strip().lower()
    if media == expected or (expected == JSON and _is_json_suffix(media)):
        return
    raise UnsupportedMediaType(expected=expected, got=given)


def _is_json_suffix(media: str) -> bool:
    """Whether `media` is a structured-syntax `+json` type of `application/` (RFC 6839)."""
    kind, _, sub = media.partition("/")
    return kind == "application" and sub.endswith("+json") and len(sub) > len("+json")


async def read_body(request: Request, *, max_bytes: int) -> bytes:
    """The raw body, refused with 413 as soon as it is known to exceed `max_bytes` (by its
    Content-Length or by what arrives). Call it only after the route's dependencies (auth,
    rate limit) have run: nothing of an unauthenticated body is read."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise ContentTooLarge(max_bytes)
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_bytes:
                raise ContentTooLarge(max_bytes)
            chunks.append(chunk)
    except ClientDisconnect as exc:
        raise ClientGone() from exc
    return b"".join(chunks)


def _strict_json(raw: bytes, *, max_bytes: int, max_depth: int, where: str) -> Any:
    if not raw.strip():
        raise InvalidField(where, "empty body; expected a JSON object")
    if record.nests_deeper_raw(raw, max_depth):
        # Decided cheaply on the raw bytes (the strict reader would also name the pointer).
        raise InvalidField(where, f"nested deeper than {max_depth} levels")
    try:
        return record.load_json_strict(raw, where="", max_bytes=max_bytes, max_depth=max_depth)
    except record.RecordError as exc:
        raise InvalidField(where + (exc.printable_path or ""), exc.problem) from exc


async def read_json(
    request: Request, *, max_bytes: int, max_depth: int, where: str = "body"
) -> Any:
    """The body as JSON, read strictly (`record.load_json_strict`: size and depth decided on
    the raw bytes before any parsing, unique keys, finite numbers); large bodies are parsed
    off the event loop. Another Content-Type than JSON: 415."""
    require_media_type(request, JSON)
    raw = await read_body(request, max_bytes=max_bytes)
    return await off_loop(
        len(raw), _strict_json, raw, max_bytes=max_bytes, max_depth=max_depth, where=where
    )


async def read_model(
    request: Request,
    model: type[Model],
    *,
    max_bytes: int = SMALL_BODY_BYTES,
    max_depth: int = SMALL_BODY_DEPTH,
) -> Model:
    """The body as `model`: read strictly after authentication (a route taking a pydantic body
    parameter would have FastAPI read and parse it before any dependency ran), then validated;
    a validation error is answered like FastAPI's own (fields `body/...`)."""
    value = await read_json(request, max_bytes=max_bytes, max_depth=max_depth)
    if not isinstance(value, dict):
        raise InvalidField("body", f"expected a JSON object, got {type(value).__name__}")
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        raise RequestValidationError(
            [{**error, "loc": ("body", *error.get("loc", ()))} for error in errors]
        ) from exc


async def read_form(request: Request, *, max_files: int, max_fields: int) -> FormData:
    """The multipart form, parsed after the route's dependencies (auth, rate limit) ran. The
    caller closes it (`await form.close()`). Another Content-Type: 415."""
    require_media_type(request, MULTIPART)
    try:
        return await request.form(max_files=max_files, max_fields=max_fields)
    except ClientDisconnect as exc:
        raise ClientGone() from exc
    except MultiPartException as exc:
        raise InvalidField("body", f"malformed multipart body: {exc.message}") from exc
    except StarletteHTTPException as exc:
        # Starlette turns its MultiPartException into a bare 400 inside an app: one answer,
        # the documented 422 naming the body.
        if exc.status_code != 400:
            raise
        raise InvalidField("body", f"malformed multipart body: {exc.detail}") from exc


def strict_object(raw: bytes, *, max_bytes: int, where: str = "body") -> dict[str, Any]:
    """`raw` as one JSON object, strictly; InvalidField names the field at fault."""
    if not raw.strip():
        raise InvalidField(where, "empty body; expected a JSON object")
    if record.nests_deeper_raw(raw, record.MAX_DEPTH):
        raise InvalidField(where, f"nested deeper than {record.MAX_DEPTH} levels")
    try:
        return dict(record.parse_record_json(raw, max_bytes=max_bytes))
    except record.RecordError as exc:
        raise InvalidField(where + (exc.printable_path or ""), exc.problem) from exc


def only_keys(obj: dict[str, Any], allowed: tuple[str, ...], *, where: str = "body") -> None:
    for key in obj:
        if key not in allowed:
            raise InvalidField(f"{where}/{key}", "unknown field")
    for key in allowed:
        if key not in obj:
            raise InvalidField(f"{where}/{key}", "field required")


def seal_error(exc: InvalidInput, where: str) -> InvalidField:
    """A sealing error of one record as a field error at `where` + the record's pointer."""
    if isinstance(exc, record.RecordError):
        return InvalidField(where + (exc.printable_path or ""), exc.problem)
    return InvalidField(where, str(exc))


def json_body(schema: str, *, examples: dict[str, Any], required: bool = True) -> dict[str, Any]:
    """`openapi_extra` declaring a JSON body of component `schema` with named examples."""
    return {
        "requestBody": {
            "required": required,
            "content": {
                "application/json": {
                    "schema": {"$ref": f"#/components/schemas/{schema}"},
                    "examples": {
                        name: {"summary": name.replace("-", " "), "value": value}
                        for name, value in examples.items()
                    },
                }
            },
        }
    }


def json_body_any_of(schemas: list[str], *, examples: dict[str, Any]) -> dict[str, Any]:
    extra = json_body(schemas[0], examples=examples)
    content = extra["requestBody"]["content"]["application/json"]
    content["schema"] = {"oneOf": [{"$ref": f"#/components/schemas/{s}"} for s in schemas]}
    return extra


def multipart_body(
    files: dict[str, str], *, required: tuple[str, ...], schema: str
) -> dict[str, Any]:
    """`openapi_extra` declaring a multipart body of `files` (name: description), for routes
    that read their form themselves (after authentication)."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "title": schema,
                        "type": "object",
                        "properties": {
                            name: {"type": "string", "format": "binary", "description": text}
                            for name, text in files.items()
                        },
                        "required": list(required),
                    }
                }
            },
        }
    }
