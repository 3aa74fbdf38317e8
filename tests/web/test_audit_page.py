"""The auditors' page in real headless Chromium: a batch by root, an agency by address, the
list of agencies; its tables fit a laptop screen and, on a phone, scroll in their own box."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from web_world import AGENCY_NAME, Server, World


def test_batch_then_its_agency(page: Any, server: Server, world: World, artifacts: Path) -> None:
    root = world.roots["diploma"]
    page.goto(server.url + "/static/audit.html")
    page.get_by_label("Batch root or agency address").fill(root)
    page.get_by_role("button", name="Look up").click()
    title = page.locator("#audit-title")
    title.wait_for()
    assert title.inner_text() == "Batch"
    table = " ".join(page.inner_text("#audit-result").split())
    assert root in table
    assert world.agency in table
    assert page.evaluate("document.activeElement.id") == "audit-title"
    page.screenshot(path=str(artifacts / "audit-batch.png"), full_page=True)

    page.locator("#audit-result a", has_text=world.agency).first.click()
    page.wait_for_url(f"**agency={world.agency}")
    page.get_by_role("heading", name=f"Agency: {AGENCY_NAME}").wait_for()
    page.screenshot(path=str(artifacts / "audit-agency.png"), full_page=True)


def test_agency_list_and_unknown_batch(page: Any, server: Server, world: World) -> None:
    page.goto(server.url + "/static/audit.html")
    page.get_by_role("button", name="List all agencies").click()
    page.get_by_role("heading", name="Agencies (1)").wait_for()
    assert AGENCY_NAME in page.inner_text("#audit-result")

    page.get_by_label("Batch root or agency address").fill("0x" + "ab" * 32)
    page.get_by_role("button", name="Look up").click()
    page.get_by_role("heading", name="Nothing to show").wait_for()
    assert "This registry has no batch" in page.inner_text("#audit-result")


def test_bad_input_is_explained(page: Any, server: Server) -> None:
    page.goto(server.url + "/static/audit.html")
    page.get_by_label("Batch root or agency address").fill("0x1234")
    page.get_by_role("button", name="Look up").click()
    page.get_by_text("Enter a batch root").wait_for()
    assert page.evaluate("document.activeElement.id") == "query"


HEX_ON_ONE_LINE = """(selector) => [...document.querySelectorAll(selector)].map((e) => {
  const lines = e.getClientRects().length;
  return [e.textContent, lines];
})"""
FITS = """() => [...document.querySelectorAll('#audit-result .table-wrap')].map(
  (box) => [box.getAttribute('aria-labelledby'), box.scrollWidth <= box.clientWidth])"""


def test_tables_fit_a_laptop_screen(
    browser: Any, server: Server, world: World, artifacts: Path
) -> None:
    """At 1280 px the agency's facts and its keys fit: no table scrolls, no hex value wraps."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        for query, shot in ((f"?agency={world.agency}", "audit-agency-wide"), ("?agencies", None)):
            page.goto(server.url + "/static/audit.html" + query)
            page.locator("#audit-title").wait_for()
            assert all(fits for _, fits in page.evaluate(FITS)), page.evaluate(FITS)
            hexes = page.evaluate(HEX_ON_ONE_LINE, "#audit-result .mono")
            assert hexes and all(lines == 1 for _, lines in hexes), hexes
            if shot:
                page.screenshot(path=str(artifacts / f"{shot}.png"), full_page=True)
        # The keys are a table of their own, named, under the agency's facts.
        page.goto(server.url + f"/static/audit.html?agency={world.agency}")
        page.get_by_role("region", name="Signing keys (1)").wait_for()
        page.goto(server.url + "/static/audit.html?agencies")
        agencies = page.get_by_role("table", name="Agencies (1)")
        assert AGENCY_NAME in agencies.inner_text()
        page.screenshot(path=str(artifacts / "audit-agencies.png"), full_page=True)
    finally:
        context.close()


def test_on_a_phone_tables_scroll_in_their_own_box(
    browser: Any, server: Server, world: World, artifacts: Path
) -> None:
    """At 390 px the page never scrolls sideways; a wide table scrolls inside a box that the
    keyboard can reach."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True
    )
    try:
        page = context.new_page()
        for query in (f"?agency={world.agency}", "?agencies", f"?batch={world.roots['diploma']}"):
            page.goto(server.url + "/static/audit.html" + query)
            page.locator("#audit-title").wait_for()
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, f"{query}: the page scrolls sideways ({width}px)"
            for box in page.locator("#audit-result [role=region]").all():
                assert box.get_attribute("tabindex") == "0"
        page.goto(server.url + f"/static/audit.html?agency={world.agency}")
        page.locator("#audit-title").wait_for()
        page.screenshot(path=str(artifacts / "phone-audit-agency.png"), full_page=True)
    finally:
        context.close()
