"""Route dependencies as `Annotated` aliases, so a route's signature reads like a sentence:
`def revoke(digest: DigestPath, body: ..., agency: AgencyDep, runtime: RuntimeDep)`.

Auth model: `Authorization: Bearer prr_...`. An agency token acts for its agency only; the
admin token for the registry authority only; neither can do the other's work. Public reads
and verification need no token. Tokens are looked up by their SHA-256 and never logged.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.errors import Forbidden, RateLimited, Unauthorized
from api.runtime import ApiRuntime
from registry.service.agencies import AgencyRef
from registry.service.operator import Operator
from registry.service.tokens import Caller, authenticate_api_token

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="token",
    description="An agency or admin API token (`prr_...`), made by `registry token create` "
    "or the admin API. Shown once; only its hash is stored.",
)


def runtime_of(request: Request) -> ApiRuntime:
    runtime: ApiRuntime | None = getattr(request.app.state, "registry", None)
    if runtime is None:
        raise RuntimeError("the app has no registry runtime: create it with create_app()")
    return runtime


async def get_runtime(request: Request) -> ApiRuntime:
    # async (no I/O): FastAPI runs a plain `def` dependency in a worker thread, a thread
    # handoff per request that cost a tenth of a verification's time.
    return runtime_of(request)


RuntimeDep = Annotated[ApiRuntime, Depends(get_runtime)]


async def get_operator(runtime: RuntimeDep) -> Operator:
    return runtime.operator


OperatorDep = Annotated[Operator, Depends(get_operator)]


def get_token(
    runtime: RuntimeDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    if credentials is None or not credentials.credentials:
        raise Unauthorized("this route needs a bearer token: Authorization: Bearer prr_...")
    caller = authenticate_api_token(runtime.operator.store, credentials.credentials)
    if caller is None:
        raise Unauthorized("unknown or revoked token")
    return caller


TokenDep = Annotated[Caller, Depends(get_token)]


async def get_agency(token: TokenDep) -> AgencyRef:
    """The agency the token acts for; an admin token is not an agency token."""
    if token.is_admin or token.agency_id is None:
        raise Forbidden("this route needs an agency token (the admin token cannot issue)")
    if token.agency is None:
        raise Unauthorized("the token's agency is no longer in the store")
    return token.agency


AgencyDep = Annotated[AgencyRef, Depends(get_agency)]


async def get_active_agency(agency: AgencyDep) -> AgencyRef:
    """The token's agency, which must not be suspended (writes)."""
    if not agency.active:
        raise Forbidden(f"agency {agency.name!r} is suspended: it can neither issue nor revoke")
    return agency


ActiveAgencyDep = Annotated[AgencyRef, Depends(get_active_agency)]


async def get_admin(token: TokenDep) -> Caller:
    if not token.is_admin:
        raise Forbidden("this route needs the admin token")
    return token


AdminDep = Annotated[Caller, Depends(get_admin)]


def client_address(request: Request) -> str:
    """The client's address as the server sees it (behind a proxy, run uvicorn with
    --forwarded-allow-ips so that this is the real client)."""
    return request.client.host if request.client is not None else "unknown"


async def limit_verify(request: Request) -> None:
    """The public verify routes' rate limit, per client address."""
    runtime = runtime_of(request)
    wait = runtime.limiter.take(client_address(request))
    if wait > 0:
        seconds = runtime.limiter.retry_after(wait)
        raise RateLimited(
            f"too many verify requests from {client_address(request)}; "
            f"the limit is {runtime.limiter.rate:g}/s (burst {runtime.limiter.burst:g}); "
            f"retry in {seconds} s",
            retry_after=seconds,
        )


VerifyLimit = Depends(limit_verify)

DigestPath = Annotated[
    str,
    Path(
        pattern=r"^0x[0-9a-fA-F]{64}$",
        description="A record's digest: 0x and 64 hex digits.",
        examples=["0xa413818bef46c4137cd0f93e3e3a5f076c93203564e31e0fd8f6683854be575b"],
    ),
]
RootPath = Annotated[
    str,
    Path(
        pattern=r"^0x[0-9a-fA-F]{64}$",
        description="A batch's Merkle root: 0x and 64 hex digits.",
        examples=["0x05be7d650024e4a14b167ae2a7a8079de0de4bd9a25569e5ccc23fff2e707bcb"],
    ),
]
AddressPath = Annotated[
    str,
    Path(
        pattern=r"^0x[0-9a-fA-F]{40}$",
        description="An agency's account address (any letter case).",
        examples=["0x70997970C51812dc3A010C7d01b50e0d17dc79C8"],
    ),
]
WaitQuery = Annotated[
    bool,
    Query(
        description="Wait (bounded by `timeout`) until the record is anchored and answer "
        "with its receipt."
    ),
]
TimeoutQuery = Annotated[
    float | None,
    Query(
        ge=0,
        le=3600,
        description="Seconds to wait when `wait=true` (at most the server's "
        "`api_wait_timeout`, default 30).",
    ),
]


def hex32(value: str) -> bytes:
    """A validated 0x + 64-hex string as bytes."""
    return bytes.fromhex(value[2:])


__all__ = [
    "ActiveAgencyDep",
    "AddressPath",
    "AdminDep",
    "AgencyDep",
    "DigestPath",
    "OperatorDep",
    "RootPath",
    "RuntimeDep",
    "TimeoutQuery",
    "TokenDep",
    "VerifyLimit",
    "WaitQuery",
    "client_address",
    "hex32",
]
