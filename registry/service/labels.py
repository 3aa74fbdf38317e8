"""Field labels the operator publishes for record types: one JSON file per type in
``<data_dir>/labels/<type>.json`` (registry.labels has the format), read when asked, so that a
new or corrected file needs no restart."""

from __future__ import annotations

from pathlib import Path

from registry.errors import ConfigError, InvalidInput, NotFound
from registry.labels import MAX_LABELS_BYTES, ResolvedLabels, is_record_type, parse_labels
from registry.settings import Settings

__all__ = ["LABELS_FOLDER", "labels_dir", "record_labels"]

LABELS_FOLDER = "labels"


def labels_dir(settings: Settings) -> Path:
    """Where the operator puts labels files: ``<data_dir>/labels``."""
    return settings.data_dir / LABELS_FOLDER


def record_labels(
    settings: Settings, record_type: str, *, accept_language: str | None = None
) -> ResolvedLabels:
    """The labels of a record type in the reader's language.

    NotFound when the type has no labels file (or the name could not be a file's);
    ConfigError when the operator's file is unreadable or malformed, naming the culprit.
    """
    if not is_record_type(record_type):
        raise NotFound(f"no labels for record type {record_type!r}")
    path = labels_dir(settings) / f"{record_type}.json"
    try:
        with path.open("rb") as stream:
            text = stream.read(MAX_LABELS_BYTES + 1)
    except FileNotFoundError as exc:
        raise NotFound(f"no labels for record type {record_type!r}") from exc
    except OSError as exc:
        raise ConfigError(f"labels file {path.name}: cannot read ({exc.strerror})") from exc
    try:
        labels = parse_labels(text)
    except InvalidInput as exc:
        raise ConfigError(f"labels file {path.name}: {exc}") from exc
    if labels.record_type != record_type:
        raise ConfigError(
            f"labels file {path.name}: its type is {labels.record_type!r}, not {record_type!r}"
        )
    return labels.resolve(accept_language)
