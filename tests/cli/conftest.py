from __future__ import annotations

import pytest
from typer.testing import CliRunner


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path):
    """Invoke the `registry` CLI in-process; a passphrase comes from the environment."""
    from registry.cli import app

    monkeypatch.setenv("REGISTRY_KEYSTORE_PASSPHRASE", "correct horse battery staple")
    monkeypatch.setenv("REGISTRY_DATA_DIR", str(tmp_path / "data"))
    runner = CliRunner()

    def invoke(*args: str, env: dict[str, str] | None = None):
        return runner.invoke(app, list(args), env=env)

    return invoke
