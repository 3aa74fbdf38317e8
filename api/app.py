"""The app factory: routes by resource under /v1, one problem+json handler, the body limit, the
citizen page at `/`, and the anchoring worker started and stopped with the app's lifespan."""

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

from api.errors import problem_handler
from api.middleware import BodyLimitMiddleware
from api.routes import admin, agencies, batches, health, records, verify
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
reads need no token. Verification is rate-limited per client (429 with Retry-After).

**Errors** are RFC 9457 `application/problem+json`; a malformed field is 422 naming it, and a
chain outage is 503 with Retry-After on writes, and outcome ERROR (never INVALID) on verify.
"""

TAGS = [
    {"name": "records", "description": "Issue records; their status, receipts, revocation."},
    {"name": "verify", "description": "Verify a document, receipt or digest (public)."},
    {"name": "agencies", "description": "Issuing agencies and their signing keys (public)."},
    {"name": "batches", "description": "Anchored batches (public); revoking a whole batch."},
    {"name": "admin", "description": "The registry authority: agencies and API tokens."},
    {"name": "health", "description": "Liveness, readiness, metrics, service information."},
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
        redoc_url=None,
    )
    app.state.registry = runtime
    for exc_class in (RegistryError, RequestValidationError, StarletteHTTPException, Exception):
        app.add_exception_handler(exc_class, problem_handler)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.api_max_body_bytes)
    for module in (records, verify, agencies, batches, admin, health):
        app.include_router(module.router)
    _serve_page(app)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


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
    so that `$ref`s to them resolve."""
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
    return schema


__all__ = ["create_app"]
