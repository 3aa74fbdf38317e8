"""Open data (docs/opendata.md), public: the registry's monthly activity per agency as CSV and
JSON, its DCAT-AP 3.0.1 catalog as JSON-LD and Turtle, and the statistics page at `/stats`.

The numbers come from the registry mirror's copy of the chain's events (the same files
`registry opendata export` writes from a node), refreshed as the mirror follows the chain.
Every answer carries an ETag (a conditional GET gets 304), Cache-Control and Last-Modified
(the time of the last block read), and may be read from any origin (open data).
"""

from __future__ import annotations

import hashlib
from email.utils import formatdate
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.deps import RuntimeDep
from api.errors import problem_responses
from api.runtime import ApiRuntime
from api.statspage import render_stats_page
from registry.opendata import FILES, CatalogMeta
from registry.service.opendata import OpenDataFeed, OpenDataSnapshot, open_data_feed

router = APIRouter(tags=["opendata"])

CACHE_CONTROL = "public, max-age=30"
"""Short: the files change as the chain grows; a conditional GET after that costs nothing."""

CSV_EXAMPLE = (
    "month,scope,agency,agency_name,agency_status,agencies_registered,agencies_active,"
    "records_anchored,batches_anchored,median_records_per_batch,largest_batch,"
    "gas_used_anchoring,revocations,...\r\n"
    "2026-03,registry,,,,0,2,1200,5,250,250,329770,1,...\r\n"
    '2026-03,agency,0x70997970C51812dc3A010C7d01b50e0d17dc79C8,"Civil Registry Office",active,'
    "0,,1000,4,250,250,263816,1,...\r\n"
)
JSON_EXAMPLE: dict[str, Any] = {
    "title": "Public Records Registry: monthly activity by agency",
    "registry": "eip155:31337:0x5FbDB2315678afecb367f032d93F642f64180aa3",
    "chainId": 31337,
    "address": "0x5FbDB2315678afecb367f032d93F642f64180aa3",
    "fromBlock": 0,
    "toBlock": 42,
    "toBlockTime": "2026-03-14T10:00:00Z",
    "columns": [{"name": "month", "type": "string", "description": "YYYY-MM, UTC."}],
    "batchSizes": [{"records": "101-1,000", "batches": 5}],
    "revocationsByReason": [{"reason": 2, "text": "superseded", "revocations": 1}],
    "rows": [{"month": "2026-03", "scope": "registry", "records_anchored": 1200}],
}
JSONLD_EXAMPLE: dict[str, Any] = {
    "@context": {"dcat": "http://www.w3.org/ns/dcat#", "dct": "http://purl.org/dc/terms/"},
    "@graph": [
        {
            "@id": "https://registry.example.gov/opendata/#dataset",
            "@type": "dcat:Dataset",
            "dct:title": {"@value": "Public Records Registry: monthly activity", "@language": "en"},
        }
    ],
}
TURTLE_EXAMPLE = (
    "@prefix dcat: <http://www.w3.org/ns/dcat#> .\n"
    "@prefix dct: <http://purl.org/dc/terms/> .\n\n"
    "<https://registry.example.gov/opendata/#dataset> a dcat:Dataset ;\n"
    '    dct:title "Public Records Registry: monthly activity"@en .\n'
)
CACHING_HEADERS = {
    "ETag": {"description": "The file's version (a SHA-256 prefix).", "schema": {"type": "string"}},
    "Cache-Control": {"description": CACHE_CONTROL, "schema": {"type": "string"}},
    "Last-Modified": {
        "description": "Time of the last block read.",
        "schema": {"type": "string"},
    },
    "X-Registry-Block": {
        "description": "The last block read (the files are as of this block).",
        "schema": {"type": "string"},
    },
}
NOT_MODIFIED: dict[int | str, Any] = {
    304: {"description": "Not modified: If-None-Match named the current ETag."}
}


def _feed(request: Request, runtime: ApiRuntime) -> OpenDataFeed:
    """The app's feed, made on first use (over the runtime's mirror when it keeps one)."""
    feed: OpenDataFeed | None = getattr(request.app.state, "opendata", None)
    if feed is None or feed.registry is not runtime.operator.registry:
        feed = open_data_feed(
            runtime.operator.registry,
            mirror=runtime.reader.mirror,
            confirmations=runtime.settings.confirmations,
            span=runtime.settings.log_span,
        )
        request.app.state.opendata = feed
    return feed


def _meta(request: Request) -> CatalogMeta:
    site = str(request.base_url).rstrip("/")
    return CatalogMeta(base_url=site + "/opendata", landing_page=site + "/stats")


def _answer(request: Request, body: bytes, media_type: str, snapshot: OpenDataSnapshot) -> Response:
    etag = '"' + hashlib.sha256(body).hexdigest()[:40] + '"'
    headers = {
        "ETag": etag,
        "Cache-Control": CACHE_CONTROL,
        "Access-Control-Allow-Origin": "*",
        "X-Registry-Block": str(snapshot.info.to_block),
    }
    if snapshot.info.to_time:
        headers["Last-Modified"] = formatdate(snapshot.info.to_time, usegmt=True)
    asked = request.headers.get("if-none-match", "")
    if asked.strip() == "*" or etag in [t.strip().removeprefix("W/") for t in asked.split(",")]:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


def _content(media_type: str, example: Any, description: str) -> dict[int | str, Any]:
    schema = {"type": "object"} if isinstance(example, dict) else {"type": "string"}
    return {
        200: {
            "description": description,
            "headers": CACHING_HEADERS,
            "content": {media_type: {"schema": schema, "example": example}},
        },
        **NOT_MODIFIED,
        **problem_responses(503),
    }


@router.get(
    "/opendata/activity.csv",
    summary="Monthly activity per agency (CSV)",
    description="One row per month and agency, and a registry-wide row per month: records and "
    "batches anchored, median and largest batch, gas used by anchoring, revocations by reason, "
    "supersessions, key rotations, suspensions, compromise marks, moves (docs/opendata.md "
    "describes every column). RFC 4180, UTF-8, CRLF line ends. From the chain's events only.",
    response_class=Response,
    responses=_content("text/csv", CSV_EXAMPLE, "activity.csv"),
)
def activity_csv(request: Request, runtime: RuntimeDep) -> Response:
    snapshot = _feed(request, runtime).snapshot()
    return _answer(request, snapshot.csv, FILES["activity.csv"], snapshot)


@router.get(
    "/opendata/activity.json",
    summary="Monthly activity per agency (JSON)",
    description="The rows of activity.csv as JSON objects (an empty cell is null), with the "
    "columns and their descriptions, the registry and block range they were read from, the "
    "batch-size histogram and the revocations by reason over the whole period.",
    response_class=Response,
    responses=_content("application/json", JSON_EXAMPLE, "activity.json"),
)
def activity_json(request: Request, runtime: RuntimeDep) -> Response:
    snapshot = _feed(request, runtime).snapshot()
    return _answer(request, snapshot.json, FILES["activity.json"], snapshot)


@router.get(
    "/opendata/catalog.jsonld",
    summary="DCAT-AP 3.0.1 catalog (JSON-LD)",
    description="The dataset's DCAT-AP 3.0.1 description for open-data portals (CKAN's DCAT "
    "harvester reads it): the catalog, its publisher, the dataset (keywords, theme, temporal "
    "coverage, monthly accrual, contact point) and one distribution per file with its access "
    "and download URL on this server, media type, EU file type, licence (CC BY 4.0), size and "
    "SHA-256.",
    response_class=Response,
    responses=_content("application/ld+json", JSONLD_EXAMPLE, "catalog.jsonld"),
)
def catalog_jsonld(request: Request, runtime: RuntimeDep) -> Response:
    snapshot = _feed(request, runtime).snapshot()
    body = snapshot.catalog(_meta(request)).jsonld
    return _answer(request, body, FILES["catalog.jsonld"], snapshot)


@router.get(
    "/opendata/catalog.ttl",
    summary="DCAT-AP 3.0.1 catalog (Turtle)",
    description="The same catalog as catalog.jsonld, in Turtle.",
    response_class=Response,
    responses=_content("text/turtle", TURTLE_EXAMPLE, "catalog.ttl"),
)
def catalog_ttl(request: Request, runtime: RuntimeDep) -> Response:
    snapshot = _feed(request, runtime).snapshot()
    body = snapshot.catalog(_meta(request)).turtle
    return _answer(request, body, FILES["catalog.ttl"], snapshot)


@router.get("/stats", include_in_schema=False)
def stats_page(request: Request, runtime: RuntimeDep) -> Response:
    snapshot = _feed(request, runtime).snapshot()
    body = render_stats_page(snapshot).encode()
    return _answer(request, body, "text/html; charset=utf-8", snapshot)


__all__ = ["router"]
