"""The citizen's verification page in real headless Chromium against the real app.

Each case uploads what a citizen holds, checks the words the page shows, and saves a
screenshot to test-artifacts/web/. File bytes must never leave the browser: only the
SHA-256 digest (and the receipt JSON) reach the server.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from web_world import AGENCY_NAME, Server, World

SHA_SIZES = [0, 3, 55, 56, 63, 64, 65, 1000, 100_000]  # around the 64-byte block edges
VERIFY_CALLS = re.compile(r"/v1/verify")
ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


class Requests:
    """Every request the page makes: method, URL, body."""

    def __init__(self, page: Any) -> None:
        self.seen: list[tuple[str, str, bytes]] = []
        page.on("request", self._record)

    def _record(self, request: Any) -> None:
        self.seen.append((request.method, request.url, request.post_data_buffer or b""))

    def verify_calls(self) -> list[tuple[str, str, Any]]:
        """Calls to the verify API: method, path with query, JSON body (None without one)."""
        return [
            (method, url.split("/", 3)[3], json.loads(body) if body else None)
            for method, url, body in self.seen
            if "/v1/verify" in url
        ]

    def assert_local(self, server: Server) -> None:
        """Nothing is fetched from anywhere but the registry itself (no CDN, no fonts)."""
        foreign = [url for _, url, _ in self.seen if not url.startswith((server.url, "data:"))]
        assert not foreign, f"the page fetched from elsewhere: {foreign}"

    def assert_never_sent(self, data: bytes) -> None:
        for method, url, body in self.seen:
            assert data not in body, f"{method} {url} carried the file's bytes"
            assert base64.b64encode(data) not in body, f"{method} {url} carried the file (base64)"


def check(
    page: Any, server: Server, document: Path, receipt: Path | None = None
) -> tuple[str, Requests]:
    """Open the page, choose the files, press Check; the outcome the page shows."""
    requests = Requests(page)
    page.goto(server.url + "/")
    page.set_input_files("#document", str(document))
    if receipt is not None:
        page.set_input_files("#receipt", str(receipt))
    page.get_by_role("button", name="Check", exact=True).click()
    result = page.locator("#result [data-outcome]")
    result.wait_for()
    requests.assert_local(server)
    return str(result.get_attribute("data-outcome")), requests


def result_text(page: Any) -> str:
    return " ".join(str(page.inner_text("#result")).split())


def shoot(page: Any, artifacts: Path, name: str, *, full_page: bool = True) -> None:
    path = artifacts / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    assert path.stat().st_size > 1000


def test_valid_file_with_receipt_sends_only_the_digest(
    page: Any, server: Server, world: World, artifacts: Path
) -> None:
    outcome, requests = check(page, server, world.files["diploma"], world.files["diploma-receipt"])
    assert outcome == "VALID"
    text = result_text(page)
    assert "Valid" in page.inner_text("#result h2")
    assert "authentic and unaltered" in text
    assert f"Issued by {AGENCY_NAME}" in text
    assert ISO_UTC.match(str(page.get_attribute("#result time", "datetime")))
    assert "Anchored" in text
    # Focus moves to the result, so a screen reader or keyboard user lands on it.
    assert page.evaluate("document.activeElement.id") == "result-title"
    shoot(page, artifacts, "valid")

    pdf = world.files["diploma"].read_bytes()
    receipt = json.loads(world.files["diploma-receipt"].read_text())
    # The receipt goes in the body, the digest computed in the browser in the query: no file.
    digest = "0x" + hashlib.sha256(pdf).hexdigest()
    assert requests.verify_calls() == [("POST", f"v1/verify?digest={digest}", receipt)]
    requests.assert_never_sent(pdf)

    page.get_by_text("Show the 9 checks").click()
    checks = page.locator("#checks li")
    assert checks.count() == 9
    assert "Revocation: passed" in str(page.inner_text("#checks"))


def test_tampered_file(page: Any, server: Server, world: World, artifacts: Path) -> None:
    outcome, requests = check(
        page, server, world.files["diploma-altered"], world.files["diploma-receipt"]
    )
    assert outcome == "TAMPERED"
    assert "Tampered" in page.inner_text("#result h2")
    assert "altered" in result_text(page)
    assert "Do not rely on it" in result_text(page)
    assert "Issued by" not in result_text(page)  # the receipt's agency did not issue this
    requests.assert_never_sent(world.files["diploma-altered"].read_bytes())
    shoot(page, artifacts, "tampered")


def test_revoked_file_shows_the_reason(
    page: Any, server: Server, world: World, artifacts: Path
) -> None:
    outcome, _ = check(page, server, world.files["licence"], world.files["licence-receipt"])
    assert outcome == "REVOKED"
    assert "Revoked" in page.inner_text("#result h2")
    text = result_text(page)
    assert f"{AGENCY_NAME} issued this document but has since revoked it" in text
    assert "Reason: issued in error" in text
    shoot(page, artifacts, "revoked")


def test_redacted_sealed_document_is_valid(
    page: Any, server: Server, world: World, artifacts: Path
) -> None:
    outcome, requests = check(page, server, world.files["certificate-redacted"])
    assert outcome == "VALID"
    text = result_text(page)
    assert "authentic and unaltered" in text
    assert "B-2026-000001" in text  # the disclosed fields are shown ...
    assert "Pikk" not in text  # ... the hidden ones are not
    assert "2 fields were hidden by the holder" in text
    # A sealed record is meant to be shown: it is sent as it is.
    sealed = json.loads(world.files["certificate-redacted"].read_text())
    assert requests.verify_calls() == [("POST", "v1/verify", sealed)]
    shoot(page, artifacts, "redacted")


def test_altered_sealed_document_is_tampered(page: Any, server: Server, world: World) -> None:
    outcome, _ = check(page, server, world.files["certificate-tampered"])
    assert outcome == "TAMPERED"


def test_superseded_links_to_its_replacement(
    page: Any, server: Server, world: World, artifacts: Path
) -> None:
    outcome, _ = check(page, server, world.files["old-certificate"])
    assert outcome == "SUPERSEDED"
    assert "Superseded" in page.inner_text("#result h2")
    assert world.digests["corrected-certificate"] in result_text(page)
    shoot(page, artifacts, "superseded")
    text = result_text(page)
    assert "Replacement record to look up" in text
    assert "authentic" not in text
    page.get_by_role("link", name="Look up the replacement record").click()
    page.wait_for_url(re.compile(re.escape(world.digests["corrected-certificate"])))
    replacement = page.locator("#result [data-outcome]")
    replacement.wait_for()
    # A looked-up record is in force; no document was checked, so never "Valid".
    assert replacement.get_attribute("data-outcome") == "IN_FORCE"
    looked_up = result_text(page)
    assert "This record exists and is in force. No document was checked." in looked_up
    assert "Valid" not in page.inner_text("#result h2") and "authentic" not in looked_up
    shoot(page, artifacts, "replacement-in-force")


def test_file_never_issued_is_unknown(page: Any, server: Server, world: World) -> None:
    _, requests = check(page, server, world.files["unknown"])
    assert "Unknown to the registry" in page.inner_text("#result h2")
    data = world.files["unknown"].read_bytes()
    digest = "0x" + hashlib.sha256(data).hexdigest()
    # The browser hashed the file in hand: it says so (digestKind=file), so that the answer
    # could be VALID; a typed digest is sent without it.
    assert requests.verify_calls() == [("GET", f"v1/verify/{digest}?digestKind=file", None)]
    requests.assert_never_sent(data)


def test_receipt_alone_is_in_force_never_valid(
    page: Any, server: Server, world: World, artifacts: Path
) -> None:
    """A receipt with no document: the record exists and is in force; nothing was checked
    against a document, and the page never calls it valid or authentic."""
    requests = Requests(page)
    page.goto(server.url + "/")
    page.set_input_files("#receipt", str(world.files["diploma-receipt"]))
    page.get_by_role("button", name="Check", exact=True).click()
    result = page.locator("#result [data-outcome]")
    result.wait_for()
    assert result.get_attribute("data-outcome") == "IN_FORCE"
    text = result_text(page)
    assert "This record exists and is in force. No document was checked." in text
    assert "Valid" not in page.inner_text("#result h2")
    assert "authentic" not in text and "unaltered" not in text
    receipt = json.loads(world.files["diploma-receipt"].read_text())
    assert requests.verify_calls() == [("POST", "v1/verify", receipt)]
    assert "txHash" not in text and "index" not in receipt["merkle"]
    shoot(page, artifacts, "in-force")


def test_typed_digest_is_in_force(page: Any, server: Server, world: World) -> None:
    requests = Requests(page)
    page.goto(server.url + "/?digest=" + world.digests["diploma"])
    result = page.locator("#result [data-outcome]")
    result.wait_for()
    assert result.get_attribute("data-outcome") == "IN_FORCE"
    assert requests.verify_calls() == [("GET", f"v1/verify/{world.digests['diploma']}", None)]


def test_unreachable_registry_says_nothing_against_the_document(
    page: Any, server: Server, world: World, artifacts: Path
) -> None:
    page.route(VERIFY_CALLS, lambda route: route.abort("connectionrefused"))
    check(page, server, world.files["diploma"], world.files["diploma-receipt"])
    assert "Could not check" in page.inner_text("#result h2")
    assert "this says nothing against the document" in result_text(page)
    shoot(page, artifacts, "error")


BY_AUTHORITY = {
    "name": "revocation",
    "status": "fail",
    "reason": "this record revoked by the registry authority",
    "details": {"reasonCode": 5, "byAuthority": True},
}


def test_revoked_by_the_authority(page: Any, server: Server, world: World) -> None:
    """A revocation by the registry authority, answered here by the browser itself with the
    API's JSON shape. (ERROR and UNTRUSTED come from real API answers:
    test_verify_real_failures.py.)"""
    answer = {
        "outcome": "REVOKED",
        "agency": None,
        "agencyName": None,
        "anchoredAt": None,
        "blockNumber": None,
        "revocationReason": "court order",
        "replacement": None,
        "checks": [BY_AUTHORITY],
    }
    page.route(VERIFY_CALLS, lambda route: route.fulfill(json=answer))
    check(page, server, world.files["diploma"], world.files["diploma-receipt"])
    assert "Revoked" in page.inner_text("#result h2")
    assert "the registry authority has since revoked it" in result_text(page)


def test_damaged_receipt_is_explained(
    page: Any, server: Server, world: World, tmp_path: Path
) -> None:
    """A malformed receipt is TAMPERED (200, the format check failing): said so, with the
    field named."""
    receipt = json.loads(world.files["diploma-receipt"].read_text())
    receipt["merkle"]["root"] = "0x1234"
    damaged = tmp_path / "damaged.receipt.json"
    damaged.write_text(json.dumps(receipt))
    outcome, _ = check(page, server, world.files["diploma"], damaged)
    assert outcome == "TAMPERED"
    text = result_text(page)
    assert "damaged or malformed" in text and "merkle.root" in text


def test_receipt_field_refuses_other_files(page: Any, server: Server, world: World) -> None:
    """A file chosen as 'receipt' that is not one is never sent (it may be private)."""
    requests = Requests(page)
    page.goto(server.url + "/")
    page.set_input_files("#document", str(world.files["diploma"]))
    page.set_input_files("#receipt", str(world.files["licence"]))
    page.get_by_role("button", name="Check", exact=True).click()
    page.get_by_text("is not a receipt").first.wait_for()
    assert requests.verify_calls() == []
    assert page.evaluate("document.activeElement.id") == "receipt"


def _choose_with_keyboard(page: Any, path: Any) -> None:
    """Open the focused file input's chooser with Space and pick `path`. Chromium may drop a
    chooser request that comes too soon after the previous one (seen under load): the key
    press is then repeated, up to three times, each a real keyboard activation."""
    for attempt in range(3):
        try:
            with page.expect_file_chooser(timeout=5_000) as chooser:
                page.keyboard.press("Space")
        except Exception:
            if attempt == 2:
                raise
            page.wait_for_timeout(300)
            continue
        chooser.value.set_files(str(path))
        return


def test_keyboard_only(page: Any, server: Server, world: World) -> None:
    """Tab to the document field, open the file chooser with the keyboard, Tab to Check."""
    page.goto(server.url + "/")
    focused = []
    for _ in range(8):
        page.keyboard.press("Tab")
        focused.append(page.evaluate("document.activeElement.id"))
        if focused[-1] == "document":
            break
    assert focused[-1] == "document", f"Tab order: {focused}"
    _choose_with_keyboard(page, world.files["diploma"])
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "receipt"
    _choose_with_keyboard(page, world.files["diploma-receipt"])
    while page.evaluate("document.activeElement.id") != "check":
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.locator("#result [data-outcome='VALID']").wait_for()
    assert page.evaluate("document.activeElement.id") == "result-title"


def test_document_and_receipt_dropped_together(page: Any, server: Server, world: World) -> None:
    """Drag and drop both files at once: each lands in its own field."""
    page.goto(server.url + "/")
    files = [
        {"name": p.name, "data": base64.b64encode(p.read_bytes()).decode()}
        for p in (world.files["diploma-receipt"], world.files["diploma"])
    ]
    page.evaluate(
        """(files) => {
          const dt = new DataTransfer();
          for (const f of files) {
            const bytes = Uint8Array.from(atob(f.data), (c) => c.charCodeAt(0));
            dt.items.add(new File([bytes], f.name));
          }
          const zone = document.getElementById("document-drop");
          for (const type of ["dragenter", "dragover", "drop"]) {
            zone.dispatchEvent(new DragEvent(type, {dataTransfer: dt, bubbles: true}));
          }
        }""",
        files,
    )
    page.wait_for_function(
        "document.getElementById('document').files.length === 1"
        " && document.getElementById('receipt').files.length === 1"
    )
    assert page.evaluate("document.getElementById('document').files[0].name") == "diploma.pdf"
    page.get_by_role("button", name="Check", exact=True).click()
    page.locator("#result [data-outcome='VALID']").wait_for()


def test_readable_on_a_phone(browser: Any, server: Server, world: World, artifacts: Path) -> None:
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True
    )
    try:
        page = context.new_page()
        outcome, _ = check(page, server, world.files["licence"], world.files["licence-receipt"])
        assert outcome == "REVOKED"
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the page scrolls sideways on a phone ({width}px wide)"
        # The result heading was focused, which scrolled it into view.
        box = page.locator("#result-title").bounding_box()
        assert box is not None and 0 <= box["y"] < 844
        shoot(page, artifacts, "phone-revoked", full_page=False)
    finally:
        context.close()


def test_sha256_fallback_matches_webcrypto(page: Any, server: Server) -> None:
    """The pure-JS SHA-256 (used where WebCrypto is missing: plain-http intranets)."""
    page.goto(server.url + "/")
    samples = [bytes((i * 31 + 7) % 256 for i in range(n)) for n in SHA_SIZES]
    got = page.evaluate(
        """async (samples) => {
          const R = window.RegistryVerify;
          const out = [];
          for (const b64 of samples) {
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            out.push([R.toHex(R.sha256Fallback(bytes)), await R.sha256Hex(bytes)]);
          }
          return out;
        }""",
        [base64.b64encode(s).decode() for s in samples],
    )
    expected = [["0x" + hashlib.sha256(s).hexdigest()] * 2 for s in samples]
    assert got == expected


def test_the_issuing_country_is_shown_plainly(page: Any, server: Server, world: World) -> None:
    """A verifier holding an alliance trust list names the country whose registry anchored the
    document (the API's JSON shape, answered here by the browser itself; the API's own
    answers are tested in tests/api/test_trust_list_api.py and tests/trust/)."""
    answer = {
        "outcome": "VALID",
        "agency": "0x1441677Bbcb74A03A866Be2Bf6dA305e5b05EA04",
        "agencyName": "Ministry of Education A",
        "anchoredAt": "2026-11-30T06:13:47Z",
        "blockNumber": 7,
        "registry": "eip155:7001:0x66A65F37618D0377EB9f39480a3C036ddB915867",
        "country": "KZ",
        "registryName": "Country A registry",
        "revocationReason": None,
        "replacement": None,
        "checks": [],
    }
    page.route(VERIFY_CALLS, lambda route: route.fulfill(json=answer))
    check(page, server, world.files["diploma"], world.files["diploma-receipt"])
    text = result_text(page)
    assert "Issuing country" in text
    assert "Kazakhstan (KZ)" in text and "Country A registry" in text


VALID_ANSWER = {
    "outcome": "VALID",
    "agency": None,
    "agencyName": "Civil Registry Office",
    "anchoredAt": "2026-11-30T06:13:47Z",
    "blockNumber": 3,
    "revocationReason": None,
    "replacement": None,
    "checks": [],
}


@pytest.mark.parametrize("kind", ["credential", "openattestation"])
def test_credentials_and_openattestation_documents_are_sent_as_they_are(
    page: Any, server: Server, world: World, tmp_path: Path, kind: str
) -> None:
    """A W3C credential or an OA wrapped document is a document with its own proof: the page
    sends it whole (POST /v1/verify), with no receipt; the API's verdicts on them are tested
    in tests/api/test_credential_api.py and tests/api/test_oa_api.py."""
    if kind == "credential":
        sealed = json.loads(world.files["certificate"].read_text())
        document = {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiableCredential", "RegistryRecordCredential"],
            "credentialSubject": sealed["data"],
            "evidence": [{"type": "SealedRecord", "document": sealed}],
        }
    else:
        fixtures = Path(__file__).parents[1] / "standards" / "fixtures" / "openattestation"
        document = json.loads((fixtures / "generated" / "batch3-0.json").read_text())
    path = tmp_path / f"{kind}.json"
    path.write_text(json.dumps(document))
    sent: list[Any] = []

    def answer(route: Any) -> None:
        sent.append(route.request.post_data_json)
        route.fulfill(json=VALID_ANSWER)

    page.route(VERIFY_CALLS, answer)
    page.goto(server.url + "/")
    page.set_input_files("#document", str(path))
    said = "verifiable credential" if kind == "credential" else "OpenAttestation"
    page.locator("#document-chosen", has_text=said).wait_for()  # classified in the browser
    page.get_by_role("button", name="Check", exact=True).click()
    page.locator("#result [data-outcome]").wait_for()
    assert sent == [document]
    assert "Valid" in page.inner_text("#result h2")
    if kind == "credential":  # the fields it carries are shown as a sealed record's
        assert next(iter(sealed["data"])) in result_text(page)
