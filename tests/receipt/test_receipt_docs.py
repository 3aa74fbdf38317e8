"""docs/receipt.md never drifts from scripts/receipt_example.py, and its examples really verify."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from types import ModuleType
from typing import Any

import jsonschema
import pytest
from receipt_helpers import ROOT_DIR

from registry.receipt import check_receipt_offline, parse_receipt
from registry.record import bytes_digest, document_digest, parse_sealed_document, verify_document

DOC = ROOT_DIR / "docs" / "receipt.md"


@pytest.fixture(scope="module")
def blocks(example_script: ModuleType) -> dict[str, tuple[str, str]]:
    result: dict[str, tuple[str, str]] = example_script.example_blocks()
    return result


def test_doc_examples_equal_the_scripts_output(
    example_script: ModuleType, blocks: dict[str, tuple[str, str]]
) -> None:
    text = DOC.read_text(encoding="utf-8")
    in_doc = example_script.doc_blocks(text)
    assert set(in_doc) == set(blocks), "docs/receipt.md and the script name different blocks"
    for name, (_, body) in blocks.items():
        assert in_doc[name] == body, (
            f"example block {name!r} drifted: run scripts/receipt_example.py --write"
        )
    assert example_script.render_doc(text, blocks) == text


def test_every_hex_number_in_the_doc_comes_from_the_script(
    blocks: dict[str, tuple[str, str]],
) -> None:
    produced = "\n".join(body for _, body in blocks.values()).lower()
    for number in re.findall(r"0x[0-9a-fA-F]{8,}", DOC.read_text(encoding="utf-8")):
        assert number.lower() in produced, f"{number} in docs/receipt.md is not from the script"


def test_script_check_mode_agrees(example_script: ModuleType) -> None:
    assert example_script.main(["--check"]) == 0


def test_the_example_receipt_is_valid(
    blocks: dict[str, tuple[str, str]], receipt_schema: dict[str, Any]
) -> None:
    obj = json.loads(blocks["receipt"][1])
    jsonschema.validate(obj, receipt_schema)
    receipt = parse_receipt(obj)
    checks = check_receipt_offline(
        receipt, digest=bytes_digest(b"hello registry\n"), digest_kind="file"
    )
    assert all(c.ok for c in checks)


def test_the_example_sealed_document_verifies_before_and_after_redaction(
    blocks: dict[str, tuple[str, str]], receipt_schema: dict[str, Any]
) -> None:
    sealed = parse_sealed_document(blocks["sealed"][1])
    digest = verify_document(sealed)
    assert sealed.receipt is not None
    jsonschema.validate(json.loads(blocks["sealed"][1])["receipt"], receipt_schema)
    assert all(
        c.ok for c in check_receipt_offline(sealed.receipt, digest=digest, digest_kind="record")
    )
    shown = json.loads(blocks["redacted"][1])
    assert shown["receipt"] == "(unchanged)"
    shown["receipt"] = None
    assert document_digest(parse_sealed_document(shown)) == digest


def test_the_keccak_one_liner_prints_the_leaf(
    example_script: ModuleType, blocks: dict[str, tuple[str, str]]
) -> None:
    lines = blocks["file"][1].splitlines()
    command = next(line for line in lines if line.startswith("$ python3 -c"))
    expected = lines[lines.index(command) + 1]
    kind, digest = command.rsplit(" ", 2)[1:]
    program = re.search(r"-c '(.*)'", command)
    assert program is not None
    result = subprocess.run(
        [sys.executable, "-c", program.group(1), kind, digest],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == expected


@pytest.mark.skipif(shutil.which("sha256sum") is None, reason="no sha256sum on this system")
def test_the_sha256sum_line(blocks: dict[str, tuple[str, str]]) -> None:
    lines = blocks["file"][1].splitlines()
    result = subprocess.run(
        ["sha256sum"], input=b"hello registry\n", capture_output=True, check=True
    )
    assert result.stdout.decode().strip() == lines[1]
