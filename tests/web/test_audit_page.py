"""The auditors' page in real headless Chromium: a batch by root, an agency by address."""

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
