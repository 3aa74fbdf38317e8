"""The citizen's page hides fields of a sealed record in the browser (api/static/redact.js):
the downloaded copy is byte for byte what `registry redact` (registry.record.redact) writes,
verifies VALID through the API, and nothing is sent while it is made."""

from __future__ import annotations

import json
import sys
import urllib.request
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from web_world import Server, World

from registry import record

sys.path.insert(0, str(Path(__file__).parents[1] / "record"))
from record_strategies import records

DOWNLOAD = "Download a copy with these fields hidden"
TRICKY: dict[str, Any] = {
    "b": 1,
    "10": "ten",  # keys that look like array indexes keep their place
    "2": [1, None, {"x": []}, {}],
    "num": {
        "f": 3.45,
        "tiny": 1e-7,
        "small": 0.0001,
        "neg": -2.5,
        "big": 123456789012.5,
        "max": 9007199254740991,
        "zero": -0.0,
        "exp": 1.5e-5,
        "subnormal": 5e-324,
    },
    "text": {
        "uni": "Nõmme \u2014 \U0001f476",
        "ctrl": 'a\u0001b\n\t"\\/',
        "del": "\u007f",
        "sep": "\u2028\u2029",
        "empty": "",
    },
    "weird keys": {"a/b": 1, "c~d": 2, "": 3, "ü": 4},
    "list": [["nested", 1], [], [[]], True, False, None, "last"],
}


def python_redact(text: str | bytes, pointers: list[str]) -> str:
    """What `registry redact` writes for this record and these fields."""
    document = record.parse_sealed_document(text)
    return json.dumps(record.to_json(record.redact(document, pointers)), indent=2) + "\n"


def sealed_text(document: record.SealedDocument) -> str:
    return json.dumps(record.to_json(document), indent=2) + "\n"


REDACT_IN_BROWSER = """async ([text, pointers]) =>
  (await window.RegistryRedact.redactText(text, pointers)).text"""


def browser_redact(page: Any, text: str, pointers: list[str]) -> str:
    """What the page's redact.js makes of the same record and fields."""
    return str(page.evaluate(REDACT_IN_BROWSER, [text, pointers]))


def verify_through_the_api(server: Server, body: bytes) -> dict[str, Any]:
    request = urllib.request.Request(
        server.url + "/v1/verify",
        data=body,
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return dict(json.loads(answer.read()))


def test_hide_fields_download_and_check(
    page: Any, server: Server, world: World, artifacts: Path
) -> None:
    seen: list[tuple[str, str]] = []
    page.on("request", lambda r: seen.append((r.method, r.url.removeprefix(server.url))))
    page.goto(server.url + "/")
    assert page.locator("#redact").is_hidden()  # only for a sealed record
    page.set_input_files("#document", str(world.files["certificate"]))
    page.get_by_text("Hide fields before you share this record").click()
    original = record.parse_sealed_document(world.files["certificate"].read_bytes())
    boxes = page.locator("#redact input[type=checkbox]")
    pointers = [pointer for pointer, _ in record.disclosed_fields(original)]
    assert [boxes.nth(i).get_attribute("data-pointer") for i in range(boxes.count())] == pointers
    # Each box is named by the field's label (the operator's labels for BirthCertificate).
    page.get_by_label("Hide Address \u203a Street").check()
    page.get_by_label("Hide Child \u203a Date of birth").check()
    page.screenshot(path=str(artifacts / "redact-tool.png"), full_page=True)
    with page.expect_download() as info:
        page.get_by_role("button", name=DOWNLOAD).click()
    download = info.value
    assert download.suggested_filename == "certificate.redacted.sealed.json"
    copy = Path(download.path()).read_bytes()
    hidden = ["/address/street", "/child/born"]
    assert copy == python_redact(world.files["certificate"].read_bytes(), hidden).encode()
    page.get_by_text("with 2 fields hidden").wait_for()
    page.screenshot(path=str(artifacts / "redact-downloaded.png"), full_page=True)
    # Nothing left the browser: the page asked only for the labels of the record's type.
    asked = [(m, u) for m, u in seen if not u.startswith(("/static/", "/favicon"))]
    assert asked == [("GET", "/"), ("GET", "/v1/labels/BirthCertificate")]

    answer = verify_through_the_api(server, copy)
    assert answer["outcome"] == "VALID"
    page.get_by_role("button", name="Check the copy").click()
    page.locator("#result [data-outcome='VALID']").wait_for()
    text = " ".join(page.inner_text("#result").split())
    assert "Pikk 7" not in text and "2026-03-14" not in text
    assert "2 fields were hidden by the holder" in text
    page.screenshot(path=str(artifacts / "redact-checked.png"), full_page=True)


def test_a_subtree_and_an_already_redacted_record(page: Any, server: Server, world: World) -> None:
    """Hiding more of a redacted record: the copy is what record.redact makes of it."""
    page.goto(server.url + "/")
    page.set_input_files("#document", str(world.files["certificate-redacted"]))
    page.get_by_text("Hide fields before you share this record").click()
    assert "2 fields are hidden already." in page.inner_text("#redact")
    for pointer in ("/child/given", "/child/family", "/child/born"):  # all of /child
        page.locator(f'#redact input[data-pointer="{pointer}"]').check()
    with page.expect_download() as info:
        page.get_by_role("button", name=DOWNLOAD).click()
    copy = Path(info.value.path()).read_text()
    assert copy == python_redact(world.files["certificate-redacted"].read_bytes(), ["/child"])
    assert verify_through_the_api(server, copy.encode())["outcome"] == "VALID"


def test_the_same_bytes_as_record_redact_for_awkward_records(page: Any, server: Server) -> None:
    """Numbers (Python's float repr, -0), escapes (non-ASCII, controls, DEL, U+2028), keys that
    look like indexes or need ~0/~1, empty containers, nulls, holes in arrays."""
    page.goto(server.url + "/")
    document = record.seal_record(TRICKY)
    text = sealed_text(document)
    leaves = [pointer for pointer, _ in record.disclosed_fields(document)]
    cases = [[p] for p in leaves] + [
        ["/2"],
        ["/list/1", "/list/3"],
        ["/list/6"],  # the last element: no trailing hole
        ["/weird keys/a~1b", "/weird keys/c~0d", "/weird keys/"],
        ["/text", "/num/f"],
        [""],  # everything
    ]
    for pointers in cases:
        assert browser_redact(page, text, pointers) == python_redact(text, pointers), pointers
    # Hiding more of a copy with holes in its arrays.
    holed = python_redact(text, ["/list/1", "/2/0"])
    for pointers in (["/list/2/0"], ["/2/2/x"], ["/list/0/1", "/num"]):
        assert browser_redact(page, holed, pointers) == python_redact(holed, pointers)


def _reversed(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _reversed(v) for k, v in reversed(list(value.items()))}
    return value


def test_any_layout_in_the_layout_of_registry_issue(
    page: Any, server: Server, world: World
) -> None:
    """A sealed record written compactly, its receipt's members in reverse order: the copy is
    still what `registry redact` writes (receipt in the format's order, two-space indent)."""
    page.goto(server.url + "/")
    sealed = json.loads(world.files["certificate"].read_text())
    sealed["receipt"] = _reversed(sealed["receipt"])
    text = json.dumps(sealed, separators=(",", ":"), ensure_ascii=False)
    assert browser_redact(page, text, ["/place"]) == python_redact(text, ["/place"])


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data(), value=records)
def test_the_same_bytes_as_record_redact_for_any_record(
    page: Any, server: Server, data: st.DataObject, value: dict[str, Any]
) -> None:
    if not page.url.startswith(server.url):
        page.goto(server.url + "/")
    document = record.seal_record(value)
    text = sealed_text(document)
    leaves = [pointer for pointer, _ in record.disclosed_fields(document)]
    pointers = data.draw(st.lists(st.sampled_from(leaves), min_size=1, unique=True))
    assert browser_redact(page, text, pointers) == python_redact(text, pointers)


def test_refusals_are_said(page: Any, server: Server, world: World) -> None:
    page.goto(server.url + "/")
    page.set_input_files("#document", str(world.files["certificate"]))
    page.get_by_text("Hide fields before you share this record").click()
    page.get_by_role("button", name=DOWNLOAD).click()
    page.get_by_text("Tick at least one field to hide.").wait_for()
    assert page.evaluate("document.activeElement.id") == "hide-0"

    # An altered record does not match its digest: hiding fields would not make it verify.
    page.set_input_files("#document", str(world.files["certificate-tampered"]))
    page.get_by_text("Hide fields before you share this record").click()
    page.locator('#redact input[data-pointer="/address/city"]').check()
    page.get_by_role("button", name=DOWNLOAD).click()
    page.get_by_text("does not match its own digest").wait_for()

    # A file that is not a sealed record gets no tool; "Start again" closes it.
    page.set_input_files("#document", str(world.files["diploma"]))
    page.locator("#document-chosen").get_by_text("diploma.pdf").wait_for()
    assert page.locator("#redact").is_hidden()
    page.set_input_files("#document", str(world.files["certificate"]))
    page.locator("#redact").wait_for()
    page.get_by_role("button", name="Start again").click()
    assert page.locator("#redact").is_hidden()
