"""The public statistics page (/stats) in real headless Chromium, on a laptop (1280 x 800) and a
phone (390 x 844): three charts readable without scrolling, the numbers as accessible tables,
links to the downloads, no horizontal scroll, no CSP violation, an agency's hostile name shown
as text. Screenshots under test-artifacts/web/.

A world of its own (not web_world's, which other page tests count agencies in): three agencies
on an embedded chain, batches over four months, revocations of several reasons."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from web_world import Server

from api.app import create_app
from registry.chain import RegistryContract, connect
from registry.chain.tx import TxOptions
from registry.merkle import KIND_FILE, MerkleTree
from registry.service.operator import Operator
from registry.service.sandbox import funded_account, register_dev_agency
from registry.settings import Settings
from registry.store import bind_store, open_store
from registry.vocabulary import Reason

HOSTILE = 'Office "<img src=x onerror=alert(1)>", Ltd.'
MONTH = 31 * 24 * 3600
LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def _tree(seed: str, count: int) -> MerkleTree:
    return MerkleTree.from_digests(
        [hashlib.sha256(f"{seed}{i}".encode()).digest() for i in range(count)], KIND_FILE
    )


@pytest.fixture(scope="module")
def stats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    w3 = connect()
    authority = funded_account(w3)
    registry, _ = RegistryContract.deploy(w3, authority, options=TxOptions(poll_interval=0.01))
    offices = [
        register_dev_agency(registry, authority, name)
        for name in ("Civil Registry Office", "Ministry of Education", HOSTILE)
    ]
    for month in range(4):
        for i, office in enumerate(offices):
            for b in range(1 + (month + i) % 3):
                tree = _tree(f"{month}-{i}-{b}", 5 + 40 * b + 90 * i)
                registry.anchor(office.account, root=tree.root, leaf_count=tree.count)
                if b == 1:
                    reason = (Reason.ISSUED_IN_ERROR, Reason.FRAUD, Reason.WITHDRAWN)[i]
                    registry.revoke(
                        office.account,
                        root=tree.root,
                        leaf=tree.leaf(0),
                        proof=tree.proof(0),
                        reason=reason,
                    )
        registry.node.advance(MONTH)
    data_dir = tmp_path_factory.mktemp("stats") / "data"
    store = open_store(None, data_dir=data_dir)
    with store.session() as session:
        bind_store(
            session,
            chain_id=registry.chain_id,
            genesis_hash=registry.node.genesis_hash(),
            registry_address=registry.address,
        )
    settings = Settings(
        data_dir=data_dir, registry_address=registry.address, chain_id=registry.chain_id
    )
    operator = Operator(settings, registry=registry, store=store)
    server = Server(create_app(operator=operator, run_worker=False)).start()
    # Once for the module: the open data appear when the mirror has followed the chain.
    deadline = time.monotonic() + 60
    while b"Civil Registry Office" not in httpx.get(server.url + "/opendata/activity.csv").content:
        assert time.monotonic() < deadline, "the open data never showed the registry's activity"
        time.sleep(0.5)
    yield server
    server.stop()
    operator.close()


def _open(browser: Any, server: Server, viewport: dict[str, int]) -> tuple[Any, Any, list[str]]:
    context = browser.new_context(viewport=viewport, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(10_000)
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    deadline = time.monotonic() + 30
    while True:  # the mirror's first steps, a second or two after the server starts
        page.goto(server.url + "/stats")
        if (
            page.locator("#chart-records rect.s0").count()
            and page.locator(".legend li").count() == 3
        ):
            return context, page, problems
        if time.monotonic() > deadline:
            raise AssertionError("the statistics page never showed the registry's activity")
        time.sleep(0.5)


def _charts_box(page: Any) -> list[dict[str, float]]:
    return [
        page.locator(f"#{c}").bounding_box()
        for c in ("chart-records", "chart-reasons", "chart-sizes")
    ]


def _no_horizontal_scroll(page: Any) -> bool:
    return bool(
        page.evaluate(
            "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        )
    )


def test_laptop_three_charts_without_scrolling(
    browser: Any, stats_server: Server, artifacts: Path
) -> None:
    context, page, problems = _open(browser, stats_server, LAPTOP)
    try:
        page.get_by_role("heading", name="Registry statistics", level=1).wait_for()
        boxes = _charts_box(page)
        for box in boxes:
            assert box["y"] >= 0 and box["y"] + box["height"] <= LAPTOP["height"], boxes
        assert len({round(b["y"]) for b in boxes}) == 1  # side by side
        assert _no_horizontal_scroll(page)
        for name in ("Records anchored per month, by agency", "Revocations by reason"):
            assert page.get_by_role("img", name=name).count() == 1
        assert page.get_by_role("table").count() == 4
        assert page.get_by_role("columnheader", name="Records per batch").count() == 1
        for link in ("activity.csv", "activity.json", "catalog.jsonld", "catalog.ttl"):
            assert page.get_by_role("link", name=link, exact=True).count() == 1
        lead = page.inner_text(".stats-lead")
        assert "records in" in lead and "3 agencies" in lead
        assert page.locator("main img").count() == 0  # the hostile name stays text
        assert HOSTILE in page.inner_text(".legend")
        assert HOSTILE in page.inner_text("#table-agencies")
        page.screenshot(path=str(artifacts / "stats-1280.png"))
        page.screenshot(path=str(artifacts / "stats-1280-full.png"), full_page=True)
        csv = page.request.get(stats_server.url + "/opendata/activity.csv")
        assert csv.ok and csv.headers["content-type"] == "text/csv; charset=utf-8"
    finally:
        context.close()
    assert not problems, problems


def test_phone_each_chart_fits_the_screen(
    browser: Any, stats_server: Server, artifacts: Path
) -> None:
    context, page, problems = _open(browser, stats_server, PHONE)
    try:
        assert _no_horizontal_scroll(page)
        for box in _charts_box(page):
            assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
            assert box["height"] <= PHONE["height"]
        # The chart text stays legible once the SVG is scaled to the phone's width.
        shown = page.evaluate(
            "(() => { const svg = document.querySelector('#chart-records svg');"
            " const px = parseFloat(getComputedStyle(svg.querySelector('text')).fontSize);"
            " return px * svg.getBoundingClientRect().width / 360; })()"
        )
        assert shown >= 10.5, shown
        # Wide tables scroll inside their own box, never the page.
        assert (
            page.evaluate("getComputedStyle(document.querySelector('#table-records')).overflowX")
            == "auto"
        )
        page.screenshot(path=str(artifacts / "stats-390.png"))
        page.screenshot(path=str(artifacts / "stats-390-full.png"), full_page=True)
        page.locator("#table-sizes").scroll_into_view_if_needed()
        assert _no_horizontal_scroll(page)
    finally:
        context.close()
    assert not problems, problems
