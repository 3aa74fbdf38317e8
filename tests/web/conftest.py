"""Browser-test fixtures: the world (chain, store, issued documents), the real app served by
uvicorn on a loopback port, Debian's Chromium driven by Playwright, and axe-core to check the
pages' accessibility.

Chromium is never downloaded: Playwright drives /usr/bin/chromium, which scripts/setup.sh
installs; axe-core is an npm package of contracts/ (its devDependencies), which setup.sh
installs too. A missing browser or axe fails the tests, never skips them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from web_a11y import AXE_SCRIPT, VIEWPORTS
from web_world import Server, World, build_world, make_app

CHROMIUM = Path(os.environ.get("REGISTRY_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"
SETUP_HINT = "run `bash scripts/setup.sh` (as root it installs Debian's chromium with apt-get)"


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    w = build_world(tmp_path_factory.mktemp("web"))
    yield w
    w.close()


@pytest.fixture(scope="session")
def server(world: World) -> Iterator[Server]:
    s = Server(make_app(world)).start()
    yield s
    s.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.is_file() or not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"Chromium not found at {CHROMIUM}: {SETUP_HINT}", pytrace=False)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail(f"the Python package playwright is not installed: {SETUP_HINT}", pytrace=False)
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any, server: Server) -> Iterator[Any]:
    """A fresh desktop-sized page; page errors fail the test."""
    context = browser.new_context(viewport={"width": 1024, "height": 900}, locale="en-GB")
    p = context.new_page()
    p.set_default_timeout(10_000)
    errors: list[str] = []
    p.on("pageerror", lambda exc: errors.append(str(exc)))
    yield p
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def axe_script() -> Path:
    if not AXE_SCRIPT.is_file():
        pytest.fail(
            f"axe-core not found at {AXE_SCRIPT}: run `bash scripts/setup.sh` (npm install in "
            "contracts/)",
            pytrace=False,
        )
    return AXE_SCRIPT


@pytest.fixture
def a11y_page(
    browser: Any, server: Server, axe_script: Path, artifacts: Path
) -> Iterator[Callable[..., Any]]:
    """A page at 1280 px (laptop) or 390 px (phone), in a locale, for the axe-core checks.

    Its context bypasses the Content-Security-Policy, only so that axe's script can be added
    to the page (add_script_tag inlines it); every other browser test runs under the CSP.
    """
    contexts: list[Any] = []
    errors: list[str] = []

    def open_page(width: int, locale: str = "en-GB") -> Any:
        context = browser.new_context(
            **VIEWPORTS[width], locale=locale, bypass_csp=True, accept_downloads=True
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
