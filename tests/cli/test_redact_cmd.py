"""`registry redact SEALED.json --hide /path ... [--out FILE]`: the record.redact of the sealed
record, written as `registry issue` writes sealed records; offline, refusals named."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from registry import record
from registry.receipt import parse_receipt

RECORD: dict[str, Any] = {
    "type": "BirthCertificate",
    "number": "B-2026-000001",
    "child": {"given": "Mari", "family": "Tamm", "born": "2026-03-14"},
    "languages": ["et", "en", "fr"],
    "address": {"street": "Pikk 7", "city": "Tallinn"},
    "weight": 3.45,
    "twin": False,
    "note": "Nõmme \u2014 \U0001f476 \u007f",
}


@pytest.fixture
def redact_cli() -> Any:
    """`registry redact` through the real `registry` app."""
    from registry.cli import app

    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args))


def _sealed(tmp_path: Path, document: record.SealedDocument, name: str = "birth") -> Path:
    path = tmp_path / f"{name}.sealed.json"
    path.write_text(json.dumps(record.to_json(document), indent=2) + "\n")
    return path


def _expected(document: record.SealedDocument, hide: list[str]) -> str:
    return json.dumps(record.to_json(record.redact(document, hide)), indent=2) + "\n"


def test_hides_fields_exactly_as_record_redact(redact_cli: Any, tmp_path: Path) -> None:
    document = record.seal_record(RECORD)
    path = _sealed(tmp_path, document)
    hide = ["/address", "/child/born", "/languages/1", "/note"]
    args = ["redact", str(path)]
    for pointer in hide:
        args += ["--hide", pointer]
    result = redact_cli(*args)
    assert result.exit_code == 0, result.output
    assert result.stdout == _expected(document, hide)
    shown = record.parse_sealed_document(result.stdout)
    assert record.verify_document(shown) == document.digest  # the digest is unchanged
    assert len(shown.redacted) == 5  # street, city, born, the second language, the note
    assert shown.data["languages"] == ["et", None, "fr"]  # a hole keeps the indexes
    assert "Pikk" not in result.stdout and "2026-03-14" not in result.stdout


def test_writes_to_a_file_and_keeps_the_receipt(redact_cli: Any, tmp_path: Path) -> None:
    document = record.seal_record(RECORD)
    receipt = {
        "type": "RecordReceipt",
        "version": 2,
        "digest": "0x" + document.digest.hex(),
        "digestKind": "record",
        "leaf": "0x" + "11" * 32,
        "merkle": {"root": "0x" + "22" * 32, "proof": [], "count": 1},
        "anchor": {
            "chainId": 31337,
            "registry": "0x5FbDB2315678afecb367f032d93F642f64180aa3",
            "agency": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
            "blockNumber": 7,
            "anchoredAt": "2026-11-30T06:13:47Z",
        },
        "signature": {"alg": "Ed25519", "publicKey": "0x" + "33" * 32, "value": "0x" + "44" * 64},
    }
    full = record.attach_receipt(document, parse_receipt(receipt))
    path = _sealed(tmp_path, full)
    out = tmp_path / "birth.shown.json"
    result = redact_cli("redact", str(path), "--hide", "/child", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "3 fields hidden" in result.stdout and str(out) in result.stdout
    assert out.read_text() == _expected(full, ["/child"])
    assert json.loads(out.read_text())["receipt"] == receipt

    # Hiding more of an already redacted record adds to its hidden hashes.
    again = redact_cli("redact", str(out), "--hide", "/number")
    assert again.exit_code == 0, again.output
    assert again.stdout == _expected(record.redact(full, ["/child"]), ["/number"])


def test_hiding_everything_leaves_an_empty_record(redact_cli: Any, tmp_path: Path) -> None:
    document = record.seal_record({"a": 1, "b": {}})
    result = redact_cli("redact", str(_sealed(tmp_path, document)), "--hide", "")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["data"] == {} and shown["salts"] == {} and len(shown["redacted"]) == 2


@pytest.mark.parametrize(
    ("hide", "message"),
    [
        ("/address/zip", "no such field"),
        ("address", "starts with '/'"),
        ("/a~2b", "'~' must be written"),
    ],
)
def test_unknown_or_malformed_paths_are_refused(
    redact_cli: Any, tmp_path: Path, hide: str, message: str
) -> None:
    path = _sealed(tmp_path, record.seal_record(RECORD))
    result = redact_cli("redact", str(path), "--hide", hide)
    assert result.exit_code == 2
    assert message in result.output
    if message == "no such field":  # the fields that can be hidden are named
        assert "/address/street" in result.output


def test_already_hidden_field_is_refused(redact_cli: Any, tmp_path: Path) -> None:
    document = record.redact(record.seal_record(RECORD), ["/address"])
    result = redact_cli("redact", str(_sealed(tmp_path, document)), "--hide", "/address")
    assert result.exit_code == 2
    assert "already redacted" in result.output


def test_a_tampered_record_is_refused(redact_cli: Any, tmp_path: Path) -> None:
    sealed = record.to_json(record.seal_record(RECORD))
    sealed["data"]["child"]["born"] = "2025-03-14"
    path = tmp_path / "tampered.sealed.json"
    path.write_text(json.dumps(sealed))
    result = redact_cli("redact", str(path), "--hide", "/address")
    assert result.exit_code == 1
    assert "differs from the document's" in result.output


def test_not_a_sealed_record_and_missing_files(redact_cli: Any, tmp_path: Path) -> None:
    other = tmp_path / "receipt.json"
    other.write_text('{"type": "RecordReceipt"}')
    result = redact_cli("redact", str(other), "--hide", "/a")
    assert result.exit_code == 2 and "error:" in result.output
    missing = redact_cli("redact", str(tmp_path / "nope.json"), "--hide", "/a")
    assert missing.exit_code == 2 and "cannot read" in missing.output
    no_hide = redact_cli("redact", str(other))
    assert no_hide.exit_code == 2 and "--hide" in no_hide.output


def test_never_overwrites_the_input(redact_cli: Any, tmp_path: Path) -> None:
    path = _sealed(tmp_path, record.seal_record(RECORD))
    before = path.read_text()
    result = redact_cli("redact", str(path), "--hide", "/address", "--out", str(path))
    assert result.exit_code == 2 and "that is the input" in result.output
    assert path.read_text() == before


def test_help_has_an_example(redact_cli: Any) -> None:
    result = redact_cli("redact", "--help")
    assert result.exit_code == 0
    assert "Example: registry redact" in result.output
