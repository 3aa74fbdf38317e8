"""API fixtures: the real app (create_app) over an Operator on the test chain (embedded and
anvil, by parameter) and a store (SQLite and PostgreSQL, by parameter), with the anchoring
worker running; agencies A and B with real Ed25519 keys, and an admin and agency tokens."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from api_helpers import Api, serving_api

from registry.store import Store


@pytest.fixture
def api(chain_env: Any, store: Store, tmp_path: Path) -> Iterator[Api]:
    with serving_api(chain_env, store, tmp_path) as running:
        yield running
