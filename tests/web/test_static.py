"""Static checks of the web pages (no browser): nothing loaded from the internet, every form
control labelled, a viewport for phones, a language."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parents[2] / "api" / "static"
PAGES = ["index.html", "audit.html"]
EXTERNAL = re.compile(
    r"""(?:src|href|action)\s*=\s*["']?(?:https?:)?//|url\(\s*["']?(?:https?:)?//|@import""", re.I
)


class Page(HTMLParser):
    """The facts of one HTML page the checks need."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.label_for: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "label" and a.get("for"):
            self.label_for.add(str(a["for"]))


def parse(name: str) -> Page:
    page = Page()
    page.feed((STATIC / name).read_text())
    return page


def test_static_files_exist() -> None:
    for name in [*PAGES, "app.js", "audit.js", "style.css"]:
        assert (STATIC / name).is_file(), name


@pytest.mark.parametrize("name", [*PAGES, "app.js", "audit.js", "style.css"])
def test_nothing_loaded_from_elsewhere(name: str) -> None:
    """No CDN, no web fonts, no external scripts: many government networks have no internet."""
    text = (STATIC / name).read_text()
    assert not EXTERNAL.search(text), EXTERNAL.search(text)
    assert 'fetch("http' not in text and "fetch('http" not in text


@pytest.mark.parametrize("name", PAGES)
def test_page_is_accessible_by_construction(name: str) -> None:
    page = parse(name)
    html = [a for t, a in page.tags if t == "html"]
    assert html and html[0].get("lang"), "the page names its language"
    viewport = [a for t, a in page.tags if t == "meta" and a.get("name") == "viewport"]
    assert viewport and "width=device-width" in str(viewport[0].get("content"))
    controls = [
        a
        for t, a in page.tags
        if t in ("input", "select", "textarea") and a.get("type") not in ("hidden", "submit")
    ]
    assert controls
    for a in controls:
        assert a.get("id") in page.label_for, f"control without a <label for>: {a}"
    assert any(a.get("aria-live") for _, a in page.tags), "a live region announces results"
    assert any(t == "main" for t, _ in page.tags)
    scripts = [a.get("src") for t, a in page.tags if t == "script"]
    assert scripts and all(str(s).startswith("/static/") for s in scripts)


def test_file_input_is_a_real_labelled_input() -> None:
    page = parse("index.html")
    inputs = {a.get("id"): a for t, a in page.tags if t == "input"}
    assert inputs["document"].get("type") == "file"
    assert inputs["receipt"].get("type") == "file"
