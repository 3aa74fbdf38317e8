"""Fixtures for receipt tests: a receipt factory and the worked-example script."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
from receipt_helpers import ROOT_DIR, make_receipt

from registry.receipt import Receipt


@pytest.fixture
def receipt_factory() -> Callable[..., Receipt]:
    """Build valid receipts; keyword arguments as make_receipt."""
    return make_receipt


@pytest.fixture(scope="session")
def example_script() -> ModuleType:
    """scripts/receipt_example.py, imported as a module."""
    path = ROOT_DIR / "scripts" / "receipt_example.py"
    spec = importlib.util.spec_from_file_location("receipt_example", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def receipt_schema() -> dict[str, Any]:
    """docs/receipt.schema.json."""
    import json

    return dict(json.loads((ROOT_DIR / "docs" / "receipt.schema.json").read_text()))
