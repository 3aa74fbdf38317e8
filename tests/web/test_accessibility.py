"""Every state of the pages passes axe-core 4 (WCAG 2.0, 2.1, 2.2 A and AA, and axe's best
practices) at 1280 px and on a 390 px phone, where nothing scrolls sideways: the citizen's page
before a check, after each verdict and with the redaction tool; the auditors' page and its
tables; the statistics page.

Each state's findings go to test-artifacts/web/axe/STATE-WIDTH.json and its screenshot to
test-artifacts/web/states/STATE-WIDTH.png.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from web_a11y import axe_check
from web_world import Server, World

VERIFY_CALLS = "**/v1/verify**"
UNTRUSTED = {
    "outcome": "UNTRUSTED",
    "agency": "0x1441677Bbcb74A03A866Be2Bf6dA305e5b05EA04",
    "agencyName": None,
    "anchoredAt": "2026-11-30T06:13:47Z",
    "blockNumber": 7,
    "revocationReason": None,
    "replacement": None,
    "checks": [
        {"name": "format", "status": "pass", "reason": None, "details": {}},
        {"name": "trust", "status": "fail", "reason": "registry not trusted", "details": {}},
    ],
}
TOO_MANY = {"type": "about:blank", "title": "Too Many Requests", "status": 429, "detail": "slow"}

State = Callable[[Any, Server, World, Path], None]


def _check(page: Any, server: Server, document: Path, receipt: Path | None = None) -> None:
    page.goto(server.url + "/")
    page.set_input_files("#document", str(document))
    if receipt is not None:
        page.set_input_files("#receipt", str(receipt))
    page.get_by_role("button", name="Check", exact=True).click()
    page.locator("#result [data-outcome]").wait_for()


def _lookup(page: Any, server: Server, query: str) -> None:
    page.goto(server.url + "/static/audit.html" + query)
    page.locator("#audit-title").wait_for()


def _redaction_tool(page: Any, server: Server, world: World) -> None:
    page.goto(server.url + "/")
    page.set_input_files("#document", str(world.files["certificate"]))
    page.locator("#redact summary").click()
    page.locator('#redact input[data-pointer="/address/street"]').check()
    page.locator('#redact input[data-pointer="/child/born"]').check()


def _damaged_receipt(world: World, tmp: Path) -> Path:
    receipt = json.loads(world.files["diploma-receipt"].read_text())
    receipt["merkle"]["root"] = "0x1234"
    path = tmp / "damaged.receipt.json"
    path.write_text(json.dumps(receipt))
    return path


def _routed(answer: dict[str, Any], status: int = 200) -> Callable[[Any], None]:
    return lambda route: route.fulfill(status=status, json=answer)


def _with_route(page: Any, handler: Callable[[Any], None]) -> Any:
    page.route(VERIFY_CALLS, handler)
    return page


def _redaction_done(page: Any, server: Server, world: World) -> None:
    _redaction_tool(page, server, world)
    page.get_by_role("button", name="Download a copy with these fields hidden").click()
    page.locator("#redact-done").get_by_text("Downloaded").wait_for()


def _nothing_ticked(page: Any, server: Server, world: World) -> None:
    page.goto(server.url + "/")
    page.set_input_files("#document", str(world.files["certificate"]))
    page.locator("#redact summary").click()
    page.get_by_role("button", name="Download a copy with these fields hidden").click()
    page.get_by_text("Tick at least one field to hide.").wait_for()


STATES: dict[str, State] = {
    "verify-first": lambda p, s, w, t: p.goto(s.url + "/"),
    "verify-valid": lambda p, s, w, t: _check(p, s, w.files["diploma"], w.files["diploma-receipt"]),
    "verify-in-force": lambda p, s, w, t: (
        p.goto(f"{s.url}/?digest={w.digests['corrected-certificate']}"),
        p.locator("#result [data-outcome='IN_FORCE']").wait_for(),
    ),
    "verify-tampered": lambda p, s, w, t: _check(
        p, s, w.files["diploma-altered"], w.files["diploma-receipt"]
    ),
    "verify-malformed": lambda p, s, w, t: _check(p, s, w.files["diploma"], _damaged_receipt(w, t)),
    "verify-revoked": lambda p, s, w, t: _check(
        p, s, w.files["licence"], w.files["licence-receipt"]
    ),
    "verify-superseded": lambda p, s, w, t: _check(p, s, w.files["old-certificate"]),
    "verify-redacted-labelled": lambda p, s, w, t: _check(p, s, w.files["certificate-redacted"]),
    "verify-unknown": lambda p, s, w, t: _check(p, s, w.files["unknown"]),
    "verify-untrusted": lambda p, s, w, t: _check(
        _with_route(p, _routed(UNTRUSTED)), s, w.files["diploma"], w.files["diploma-receipt"]
    ),
    "verify-error": lambda p, s, w, t: _check(
        _with_route(p, lambda route: route.abort("connectionrefused")),
        s,
        w.files["diploma"],
        w.files["diploma-receipt"],
    ),
    "verify-too-many": lambda p, s, w, t: _check(
        _with_route(p, _routed(TOO_MANY, 429)), s, w.files["diploma"], w.files["diploma-receipt"]
    ),
    "verify-form-error": lambda p, s, w, t: (
        p.goto(s.url + "/"),
        p.get_by_role("button", name="Check", exact=True).click(),
        p.get_by_text("Choose a document to check first.").wait_for(),
    ),
    "redact-tool": lambda p, s, w, t: _redaction_tool(p, s, w),
    "redact-downloaded": lambda p, s, w, t: _redaction_done(p, s, w),
    "redact-nothing-ticked": lambda p, s, w, t: _nothing_ticked(p, s, w),
    "audit-first": lambda p, s, w, t: p.goto(s.url + "/static/audit.html"),
    "audit-batch": lambda p, s, w, t: _lookup(p, s, f"?batch={w.roots['diploma']}"),
    "audit-agency": lambda p, s, w, t: _lookup(p, s, f"?agency={w.agency}"),
    "audit-agencies": lambda p, s, w, t: _lookup(p, s, "?agencies"),
    "audit-nothing": lambda p, s, w, t: _lookup(p, s, "?batch=0x" + "ab" * 32),
    "stats": lambda p, s, w, t: (p.goto(s.url + "/stats"), p.locator("h1").wait_for()),
}


CASES = [(state, width) for state in STATES for width in (1280, 390)]


@pytest.mark.parametrize(("state", "width"), CASES)
def test_every_state_passes_axe(
    a11y_page: Callable[..., Any],
    server: Server,
    world: World,
    artifacts: Path,
    tmp_path: Path,
    state: str,
    width: int,
) -> None:
    page = a11y_page(width)
    STATES[state](page, server, world, tmp_path)
    report = axe_check(page, artifacts, f"{state}-{width}")
    assert report["passes"] > 10  # axe really ran its rules
    if width == 390:
        scroll = page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= 390, f"{state}: the page scrolls sideways on a phone ({scroll} px)"


@pytest.mark.parametrize("width", [1280, 390])
def test_labels_in_another_language_pass_axe(
    a11y_page: Callable[..., Any], server: Server, world: World, artifacts: Path, width: int
) -> None:
    """Estonian labels on the English page: each is marked lang="et" (WCAG 3.1.2)."""
    page = a11y_page(width, locale="et-EE")
    _check(page, server, world.files["certificate-redacted"])
    assert page.locator('#result .field-name[lang="et"]').count() > 0
    axe_check(page, artifacts, f"verify-labels-et-{width}")
