"""The app factory: routes by resource under /v1, one problem+json handler, the body limit, a
rate limit per client on every route, security headers on every answer, the citizen page at
`/`, the OpenAPI explorer at `/docs` (from installed assets, no CDN), and the anchoring worker
started and stopped with the app's lifespan."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp

from api.errors import problem_handler, problem_responses
from api.middleware import (
    DOCS_CONTENT_SECURITY_POLICY,
    BodyLimitMiddleware,
    SecurityHeadersMiddleware,
)
from api.ratelimit import UNLIMITED_PATHS, RateLimitMiddleware, TokenBucket
from api.routes import (
    admin,
    agencies,
    batches,
    health,
    labels,
    opendata,
    records,
    trust,
    verify,
    webhooks,
)
from api.runtime import ApiRuntime
from api.schemas import EXTRA_COMPONENTS
from registry.errors import RegistryError
from registry.service.operator import Operator
from registry.settings import Settings, load_settings

log = logging.getLogger("api")

STATIC_DIR = Path(__file__).parent / "static"
PASSPHRASE_ENV = "REGISTRY_KEYSTORE_PASSPHRASE"

DESCRIPTION = """\
Government agencies issue records (certificates, licences, decisions) whose hashes are
anchored on an Ethereum chain; anyone verifies a document — valid, tampered, revoked,
superseded, unknown, untrusted — without trusting this server: a receipt and any node of the
chain are enough.

**Auth.** Agencies and the registry authority send `Authorization: Bearer prr_...`. An agency
token acts for its own agency only; the admin token only administers. Verification and public
reads need no token. Every route but `/healthz` is rate-limited per client address (IPv6 by
/64; writes count only when refused), verification by a limit of its own (429, Retry-After).

**Errors** are RFC 9457 `application/problem+json`; a malformed field is 422 naming it, and a
chain outage is 503 with Retry-After on writes, and outcome ERROR (never INVALID) on verify.
"""

TAGS = [
    {"name": "records", "description": "Issue records; their status, receipts, revocation."},
    {"name": "verify", "description": "Verify a document, receipt or digest (public)."},
    {"name": "agencies", "description": "Issuing agencies and their signing keys (public)."},
    {"name": "batches", "description": "Anchored batches (public); revoking a whole batch."},
    {"name": "trust", "description": "The alliance trust lists this server holds (public)."},
    {"name": "webhooks", "description": "An agency's signed notifications of its anchors."},
    {"name": "admin", "description": "The registry authority: agencies and API tokens."},
    {"name": "health", "description": "Liveness, readiness, metrics, service information."},
    {"name": "opendata", "description": "The registry's activity as open data (public)."},
    {"name": "labels", "description": "Field labels of record types, for pages (public)."},
]


def create_app(
    settings: Settings | None = None,
    *,
    operator: Operator | None = None,
    passphrase: str | None = None,
    run_worker: bool = True,
) -> FastAPI:
    """The registry's FastAPI app.

    With an `operator`, the app serves it (its settings win over `settings`); without one, the
    operator is opened from the settings when the app starts (a configured node and registry;
    the embedded chain needs `registry serve`, which builds one). The keystore passphrase
    comes from `passphrase` or REGISTRY_KEYSTORE_PASSPHRASE; without it the server verifies
    and serves reads but cannot issue. `run_worker=False` leaves anchoring to someone else.
    """
    if operator is not None:
        settings = operator.settings
    elif settings is None:
        settings = load_settings()
    if passphrase is None:
        passphrase = os.environ.get(PASSPHRASE_ENV) or None
    runtime: ApiRuntime | None = None
    if operator is not None:
        runtime = ApiRuntime.build(operator, passphrase=passphrase, run_worker=run_worker)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        active = app.state.registry
        if active is None:
            opened = Operator.open(settings)
            active = ApiRuntime.build(
                opened, passphrase=passphrase, run_worker=run_worker, owns_operator=True
            )
            app.state.registry = active
        active.start()
        try:
            yield
        finally:
            active.stop()

    app = FastAPI(
        title="Public Records Registry",
        version="1.0.0",
        summary="Anchor public records on an Ethereum chain; verify them anywhere.",
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
        docs_url=None,  # FastAPI's /docs loads Swagger UI from a CDN with an inline script
        redoc_url=None,
    )
    app.state.registry = runtime
    for exc_class in (RegistryError, RequestValidationError, StarletteHTTPException, Exception):
        app.add_exception_handler(exc_class, problem_handler)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.api_max_body_bytes)
    app.add_middleware(
        RateLimitMiddleware,
        limiter=TokenBucket(rate=settings.api_rate, burst=settings.api_burst),
    )
    _secure_every_answer(app, hsts_max_age=settings.api_hsts_max_age)
    for module in (
        records,
        verify,
        trust,
        agencies,
        batches,
        webhooks,
        admin,
        health,
        opendata,
        labels,
    ):
        app.include_router(module.router)
    _serve_docs(app)
    _serve_page(app)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _secure_every_answer(app: FastAPI, *, hsts_max_age: int) -> None:
    """Security headers outside Starlette's own error middleware, so that even a 500 has them
    (`add_middleware` would place them inside it)."""
    build = app.build_middleware_stack

    def build_secured() -> ASGIApp:
        return SecurityHeadersMiddleware(build(), hsts_max_age=hsts_max_age)

    app.build_middleware_stack = build_secured  # type: ignore[method-assign]


def swagger_ui_dir() -> Path | None:
    """Swagger UI's files from the installed `swagger-ui-bundle-v2` package (None if absent)."""
    try:
        from swagger_ui_bundle import swagger_ui_path
    except ImportError:
        return None
    path = Path(str(swagger_ui_path))
    return path if (path / "swagger-ui-bundle.js").is_file() else None


def _serve_docs(app: FastAPI) -> None:
    """The OpenAPI explorer at `/docs`: Swagger UI from the installed package at
    `/docs/assets`, started by /static/docs.js (no inline script: the CSP forbids it)."""
    assets = swagger_ui_dir()
    page = STATIC_DIR / "docs.html"

    @app.get("/docs", include_in_schema=False)
    async def docs() -> FileResponse:
        if assets is None or not page.is_file():
            raise StarletteHTTPException(
                404, "the API explorer is not installed (pip install swagger-ui-bundle-v2)"
            )
        csp = {"Content-Security-Policy": DOCS_CONTENT_SECURITY_POLICY}
        return FileResponse(page, media_type="text/html", headers=csp)

    if assets is not None:
        app.mount("/docs/assets", StaticFiles(directory=assets), name="swagger-ui")


def _serve_page(app: FastAPI) -> None:
    """The citizen's page at `/` and its assets at `/static` (api/static/, no CDN)."""
    if not STATIC_DIR.is_dir():
        return
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    index = STATIC_DIR / "index.html"

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        if not index.is_file():
            raise StarletteHTTPException(404, "the verification page is not installed")
        return FileResponse(index, media_type="text/html")

    app.mount("/", StaticFiles(directory=STATIC_DIR, html=True), name="pages")


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, plus the schemas of bodies that routes read raw (strictly, or fast)
    so that `$ref`s to them resolve, and the 429 that the rate limit may answer anywhere."""
    schema = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for model in EXTRA_COMPONENTS:
        generated = model.model_json_schema(
            by_alias=True, ref_template="#/components/schemas/{model}", mode="serialization"
        )
        for name, sub in generated.pop("$defs", {}).items():
            components.setdefault(name, sub)
        components.setdefault(model.__name__, generated)
    too_many = problem_responses(429)[429]
    for path, item in schema.get("paths", {}).items():
        if path in UNLIMITED_PATHS:
            continue
        for method, operation in item.items():
            if method in ("get", "head", "options", "post", "put", "patch", "delete"):
                operation.setdefault("responses", {}).setdefault("429", too_many)
    return schema


__all__ = ["create_app"]
