"""The open data over HTTP: /opendata/activity.csv, activity.json, catalog.jsonld, catalog.ttl
and the /stats page, from the registry mirror, with caching headers; the same bytes as
`registry opendata export` from the node; updated as the mirror follows the chain."""

from __future__ import annotations

import csv
import io
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import rdflib
from api_helpers import ONLY_EMBEDDED_SQLITE, Api, serving_api
from rdflib.compare import isomorphic

from registry.chain import fund_from_dev_account, new_account
from registry.opendata import CatalogMeta
from registry.service.opendata import export_open_data

sys.path.insert(0, str(Path(__file__).parents[1] / "opendata"))
from opendata_helpers import HOSTILE_NAME, conforms

pytestmark = ONLY_EMBEDDED_SQLITE

TYPES = {
    "/opendata/activity.csv": "text/csv; charset=utf-8",
    "/opendata/activity.json": "application/json",
    "/opendata/catalog.jsonld": "application/ld+json",
    "/opendata/catalog.ttl": "text/turtle; charset=utf-8",
}


def wait_for(check: Callable[[], Any], *, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the mirror")
        time.sleep(0.2)


def records(api: Api) -> int:
    rows = api.client.get("/opendata/activity.json").json()["rows"]
    return sum(r["records_anchored"] for r in rows if r["scope"] == "registry")


def followed(api: Api) -> dict[str, Any]:
    """activity.json once the mirror has followed the registry's agencies into the store."""

    def ready() -> dict[str, Any] | None:
        data = api.client.get("/opendata/activity.json").json()
        return data if any(r["scope"] == "agency" for r in data["rows"]) else None

    return wait_for(ready)


def graph(body: bytes, fmt: str) -> rdflib.Graph:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return rdflib.Graph().parse(data=body, format=fmt)


def test_the_four_files_with_their_types_and_caching_headers(api: Api) -> None:
    followed(api)
    for path, media in TYPES.items():
        answer = api.client.get(path)
        assert answer.status_code == 200, (path, answer.text)
        assert answer.headers["content-type"] == media
        assert answer.headers["cache-control"] == "public, max-age=30"
        assert answer.headers["access-control-allow-origin"] == "*"
        assert answer.headers["last-modified"].endswith(" GMT")
        etag = answer.headers["etag"]
        assert etag.startswith('"') and etag.endswith('"') and len(etag) > 20
        again = api.client.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
        assert again.headers["etag"] == etag
        other = api.client.get(path, headers={"If-None-Match": '"something-else"'})
        assert other.status_code == 200
    text = api.client.get("/opendata/activity.csv").content.decode("utf-8")
    assert text.splitlines()[0].startswith("month,scope,agency,agency_name")
    assert "\r\n" in text
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    names = {r["agency_name"] for r in rows if r["scope"] == "agency"}
    assert {"Civil Registry Office", "Ministry of Education"} <= names


def test_the_catalog_conforms_and_names_this_servers_files(api: Api) -> None:
    followed(api)
    jsonld = api.client.get("/opendata/catalog.jsonld").content
    turtle = api.client.get("/opendata/catalog.ttl").content
    g1, g2 = graph(jsonld, "json-ld"), graph(turtle, "turtle")
    for g in (g1, g2):
        ok, report = conforms(g)
        assert ok, report
    assert isomorphic(g1, g2)
    dcat = rdflib.Namespace("http://www.w3.org/ns/dcat#")
    urls = {str(o) for o in g1.objects(None, dcat.accessURL)}
    assert urls == {
        "http://testserver/opendata/activity.csv",
        "http://testserver/opendata/activity.json",
    }
    assert {str(o) for o in g1.objects(None, dcat.landingPage)} == {"http://testserver/stats"}
    size = {str(s): int(o) for s, o in g1.subject_objects(dcat.byteSize)}[
        "http://testserver/opendata/#activity.csv"
    ]
    assert size == len(api.client.get("/opendata/activity.csv").content)


def test_the_files_follow_the_chain_through_the_mirror(api: Api) -> None:
    followed(api)
    before = records(api)
    etag = api.client.get("/opendata/activity.csv").headers["etag"]
    api.submit({"type": "Licence", "number": "L-1"})
    api.submit({"type": "Licence", "number": "L-2"}, who="b")
    wait_for(lambda: records(api) == before + 2)
    assert api.client.get("/opendata/activity.csv").headers["etag"] != etag


def test_the_same_bytes_as_the_export_from_a_node(api: Api, tmp_path: Path) -> None:
    api.submit({"type": "Licence", "number": "L-3"})
    wait_for(lambda: records(api) >= 1)
    answer = api.client.get("/opendata/activity.json")
    to_block = int(answer.headers["x-registry-block"])
    meta = CatalogMeta(
        base_url="http://testserver/opendata", landing_page="http://testserver/stats"
    )
    export_open_data(api.operator.registry, tmp_path / "out", meta=meta, to_block=to_block)
    for name in ("activity.csv", "activity.json", "catalog.jsonld", "catalog.ttl"):
        served = api.client.get(f"/opendata/{name}").content
        assert served == (tmp_path / "out" / name).read_bytes(), name


def test_the_stats_page_escapes_what_the_chain_says(api: Api) -> None:
    env = api.env
    hostile = new_account()
    fund_from_dev_account(env.w3, hostile.address)
    env.registry.register_agency(
        env.admin, account=hostile.address, name=HOSTILE_NAME, signing_key=b"\xc3" * 32
    )
    wait_for(
        lambda: any(
            r["agency_name"] == HOSTILE_NAME
            for r in api.client.get("/opendata/activity.json").json()["rows"]
        )
    )
    answer = api.client.get("/stats")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    assert "default-src 'self'" in answer.headers["content-security-policy"]
    page = answer.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<img src=x" not in page
    assert "<script" not in page and " style=" not in page
    for link in TYPES:
        assert f'href="{link}"' in page
    for chart in ("chart-records", "chart-reasons", "chart-sizes"):
        assert f'id="{chart}"' in page
    assert page.count("<table>") == 4
    assert (
        api.client.get("/stats", headers={"If-None-Match": answer.headers["etag"]}).status_code
        == 304
    )


@pytest.mark.parametrize("path", ["/opendata/activity.xml", "/opendata/../v1/info"])
def test_nothing_else_under_opendata(api: Api, path: str) -> None:
    answer = api.client.get(path)
    assert answer.status_code in (200, 404)
    if path.endswith(".xml"):
        assert answer.status_code == 404


def test_without_a_mirror_the_files_follow_the_node(
    chain_env: Any, store: Any, tmp_path: Path
) -> None:
    with serving_api(chain_env, store, tmp_path, mirror=False) as api:
        assert api.runtime.reader.mirror is None
        before = records(api)
        api.submit({"type": "Licence", "number": "L-9"})
        wait_for(lambda: records(api) == before + 1)
        names = {
            r["agency_name"]
            for r in api.client.get("/opendata/activity.json").json()["rows"]
            if r["scope"] == "agency"
        }
        assert {"Civil Registry Office", "Ministry of Education"} <= names
