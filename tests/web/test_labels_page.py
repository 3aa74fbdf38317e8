"""Field labels on the citizen's page: the operator's labels for the record type, in the
browser's language, with each field's raw key beside them; labels only ever replace words."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from web_world import Server, World

LABELS_CALLS = "**/v1/labels/**"


def check_sealed(page: Any, server: Server, document: Path) -> None:
    page.goto(server.url + "/")
    page.set_input_files("#document", str(document))
    page.get_by_role("button", name="Check", exact=True).click()
    page.locator("#result [data-outcome]").wait_for()


def field_rows(page: Any) -> list[tuple[str, str]]:
    """(name cell, value cell) of each row of the result's fields table, as shown."""
    rows = page.locator("#result table.fields tbody tr")
    return [
        (
            " ".join(rows.nth(i).locator("th").inner_text().split()),
            rows.nth(i).locator("td").inner_text(),
        )
        for i in range(rows.count())
    ]


def test_labels_with_raw_keys(page: Any, server: Server, world: World, artifacts: Path) -> None:
    check_sealed(page, server, world.files["certificate-redacted"])
    assert field_rows(page) == [
        ("Record type /type", "BirthCertificate"),
        ("Certificate number /number", "B-2026-000001"),
        ("Child \u203a Given name /child/given", "Mari"),
        ("Child \u203a Family name /child/family", "Tamm"),
        ("Child \u203a Date of birth /child/born", "2026-03-14"),
        ("Place of birth /place", "Tallinn"),
    ]
    text = page.inner_text("#result")
    assert "Record type: Birth certificate (BirthCertificate)" in " ".join(text.split())
    # The raw pointer is also the row's tooltip.
    assert page.locator("#result table.fields tbody th").first.get_attribute("title") == "/type"
    page.screenshot(path=str(artifacts / "labels-en.png"), full_page=True)


def test_labels_in_the_browsers_language(
    browser: Any, server: Server, world: World, artifacts: Path
) -> None:
    context = browser.new_context(viewport={"width": 1024, "height": 900}, locale="et-EE")
    try:
        page = context.new_page()
        check_sealed(page, server, world.files["certificate"])
        rows = dict(field_rows(page))
        assert rows["Laps \u203a Eesnimi /child/given"] == "Mari"
        # No Estonian label for the city: its raw key, under the labelled parent.
        assert rows["Aadress \u203a city /address/city"] == "Tallinn"
        names = page.locator("#result .field-name[lang='et']")
        assert names.count() == len(rows)  # every name is marked as Estonian for readers
        assert page.get_attribute("html", "lang") == "en"
        page.screenshot(path=str(artifacts / "labels-et.png"), full_page=True)
    finally:
        context.close()


def test_without_labels_the_raw_keys(page: Any, server: Server, world: World) -> None:
    page.route(LABELS_CALLS, lambda route: route.fulfill(status=404, json={"status": 404}))
    check_sealed(page, server, world.files["certificate-redacted"])
    rows = field_rows(page)
    assert rows[2] == ("child \u203a given", "Mari")
    assert page.locator("#result .field-key").count() == 0
    assert page.locator("#result .field-name[lang]").count() == 0


def test_labels_cannot_hide_or_disguise_a_field(page: Any, server: Server, world: World) -> None:
    """Whatever a labels answer holds, every field keeps its row and its raw key, markup is
    text, and a label with a control, zero-width or direction character is not used."""
    hostile = {
        "type": "BirthCertificate",
        "language": "en",
        "languages": ["en"],
        "title": '<img src="x" id="injected">',
        "fields": {
            "/number": "Valid until",  # a misleading name: the raw key still says /number
            "/child/given": '<img src="x" id="injected">',
            "/child/family": "",  # empty: the raw key
            "/child/born": "Born\u202e",  # a direction override: not used
            "/place": "Pla\u200bce",  # zero-width space: not used
            "/type": 42,  # not text: not used
        },
    }
    page.route(LABELS_CALLS, lambda route: route.fulfill(json=hostile))
    check_sealed(page, server, world.files["certificate-redacted"])
    rows = field_rows(page)
    assert len(rows) == 6  # every disclosed field, as without labels
    assert ("Valid until /number", "B-2026-000001") in rows
    assert ('child \u203a <img src="x" id="injected"> /child/given', "Mari") in rows
    assert ("child \u203a family", "Tamm") in rows
    assert ("child \u203a born", "2026-03-14") in rows
    assert ("place", "Tallinn") in rows and ("type", "BirthCertificate") in rows
    assert page.locator("#injected").count() == 0
