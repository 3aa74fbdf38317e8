"""docs/opendata.md describes every column, every file and route, and how to publish."""

from __future__ import annotations

from pathlib import Path

from registry.opendata import COLUMNS, FILES

DOC = Path(__file__).resolve().parents[2] / "docs" / "opendata.md"


def test_the_doc_describes_every_column_file_and_route() -> None:
    text = DOC.read_text()
    for column in COLUMNS:
        assert f"| `{column.name}` | {column.type} |" in text, column.name
    for name, media in FILES.items():
        assert f"`{name}`" in text and f"GET /opendata/{name}" in text and media in text
    for heading in ("## Publishing to an open-data portal", "## The statistics page", "## Speed"):
        assert heading in text
    assert "registry opendata export" in text and "registry bench opendata" in text
