"""In Chromium, with every request outside the server refused: /docs renders the API's
operations from Swagger UI installed with the project (no CDN), and the pages and /docs work
under the Content-Security-Policy (no inline script or style refused)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from web_world import Server

CSP = "default-src 'self'; frame-ancestors 'none'"
DOCS_CSP = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'"  # Swagger's icons


@dataclass
class Offline:
    page: Any
    outside: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # CSP violations in the console
    errors: list[str] = field(default_factory=list)


@pytest.fixture
def offline(browser: Any, server: Server) -> Iterator[Offline]:
    """A page whose network is closed except for the server under test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(15_000)
    seen = Offline(page)

    def only_the_server(route: Any) -> None:
        if route.request.url.startswith(server.url + "/"):
            route.continue_()
        else:
            seen.outside.append(route.request.url)
            route.abort("internetdisconnected")

    context.route("**/*", only_the_server)
    page.on("pageerror", lambda exc: seen.errors.append(str(exc)))
    page.on(
        "console",
        lambda msg: seen.refused.append(msg.text) if "Content Security Policy" in msg.text else 0,
    )
    yield seen
    context.close()


def test_docs_render_offline_from_installed_assets(offline: Offline, server: Server) -> None:
    page = offline.page
    answer = page.goto(server.url + "/docs")
    assert answer is not None and answer.status == 200
    assert answer.headers["content-security-policy"] == DOCS_CSP
    page.wait_for_selector(".opblock-summary-path")
    assert "Public Records Registry" in page.locator(".info .title").inner_text()
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert len(paths) >= 25 and "/v1/verify" in " ".join(paths)
    page.locator(".opblock-summary-path", has_text="/healthz").first.click()
    page.wait_for_selector(".opblock-body")  # an operation opens: the UI is live, not a picture
    assert offline.outside == [], f"loaded from elsewhere: {offline.outside}"
    assert offline.errors == [], offline.errors
    assert offline.refused == [], offline.refused


@pytest.mark.parametrize("path", ["/", "/static/audit.html"])
def test_pages_break_nothing_under_the_csp(offline: Offline, server: Server, path: str) -> None:
    page = offline.page
    answer = page.goto(server.url + path)
    assert answer is not None and answer.status == 200
    assert answer.headers["content-security-policy"] == CSP
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "no-referrer"
    page.wait_for_load_state("networkidle")
    assert page.locator("main").is_visible()
    assert offline.outside == [] and offline.errors == [], (offline.outside, offline.errors)
    assert offline.refused == [], offline.refused
