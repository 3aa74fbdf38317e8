"""The committed artifact is what the pinned compiler makes of the sources, byte for byte."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "build_contracts.py"


def _load_script():
    spec = importlib.util.spec_from_file_location("build_contracts", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_rebuild_is_byte_identical():
    if not (ROOT / "contracts" / "node_modules" / ".bin" / "solcjs").exists():
        pytest.fail("contracts/node_modules missing: run `bash scripts/setup.sh` (npm ci)")
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert "artifact reproducible" in result.stdout
    fresh = _load_script().compile_registry()
    committed = json.loads(
        (ROOT / "registry" / "contract_data" / "RecordRegistry.json").read_text()
    )
    assert fresh["bytecode"] == committed["bytecode"]
    assert fresh["deployedBytecode"] == committed["deployedBytecode"]
    assert fresh["sourceHash"] == committed["sourceHash"]
    assert committed["compiler"]["version"] == "0.8.28"


def test_missing_compiler_is_a_clear_error(monkeypatch, capsys):
    module = _load_script()
    monkeypatch.setattr(module, "_native_solc", lambda: None)
    monkeypatch.setattr(module, "_solcjs", lambda: None)
    assert module.main(["--check"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no Solidity compiler") and "scripts/setup.sh" in err
    assert len(err.strip().splitlines()) == 1
