"""Field labels: the words a page shows for a record type's fields, in several languages.

An agency's record type (the record's ``type`` field, e.g. ``BirthCertificate``) may have a
labels file that the operator publishes; the citizen's page then shows "Child > Given name"
rather than ``child > given``. The file (docs/web.md, "Field labels")::

    {
      "type": "BirthCertificate",
      "defaultLanguage": "en",
      "title": {"en": "Birth certificate", "et": "Sünnitunnistus"},
      "fields": {
        "/child": {"en": "Child", "et": "Laps"},
        "/child/given": {"en": "Given name", "et": "Eesnimi"},
        "/parents/*/name": {"en": "Name", "et": "Nimi"}
      }
    }

Fields are named by JSON pointer (RFC 6901); a ``*`` token stands for any array index. A
label names one level: the page joins the labels of a leaf's ancestors. Labels are
presentation only, so they are held to plain text: a label cannot be empty (hiding a field's
name), long, or carry control, format or bidirectional-override characters (which could make
it read as another text); the page always shows the raw pointer beside it. Pure: no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from registry.errors import InvalidInput
from registry.jsontext import load_json_strict, parse_pointer

__all__ = [
    "MAX_LABELS_BYTES",
    "MAX_LABEL_CHARS",
    "RecordLabels",
    "ResolvedLabels",
    "choose_language",
    "is_record_type",
    "parse_labels",
]

MAX_LABELS_BYTES = 256 * 1024
"""Largest labels file read."""

MAX_LABEL_CHARS = 120
"""Longest label: a field's name, not a paragraph."""

_RECORD_TYPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8}){0,4}")
_LANGUAGE_RANGE = re.compile(r"\*|[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*")
_QUALITY = re.compile(r"q=(0(?:\.\d{0,3})?|1(?:\.0{0,3})?)")
# Unicode categories a label may not hold: controls, format characters (bidirectional
# overrides and isolates, zero-width joiners...), surrogates, private use, unassigned.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_FILE_KEYS = frozenset({"type", "defaultLanguage", "title", "fields"})


def is_record_type(value: str) -> bool:
    """A record type name that can name a labels file: letters, digits, ``.``, ``_``, ``-``."""
    return bool(_RECORD_TYPE.fullmatch(value))


@dataclass(frozen=True)
class ResolvedLabels:
    """The labels of a record type in one language, as the page gets them."""

    record_type: str
    language: str
    languages: tuple[str, ...]
    title: str | None
    fields: Mapping[str, str]


@dataclass(frozen=True)
class RecordLabels:
    """A record type's labels file, checked: pointer -> language -> label."""

    record_type: str
    default_language: str
    languages: tuple[str, ...]
    title: Mapping[str, str]
    fields: Mapping[str, Mapping[str, str]]

    def resolve(self, accept_language: str | None) -> ResolvedLabels:
        """The labels in the language the reader prefers (``Accept-Language``), or in the
        default language. A field with no label in that language has none (the page shows
        its raw key)."""
        language = choose_language(self.languages, accept_language, self.default_language)
        return ResolvedLabels(
            record_type=self.record_type,
            language=language,
            languages=self.languages,
            title=self.title.get(language),
            fields={
                pointer: labels[language]
                for pointer, labels in self.fields.items()
                if language in labels
            },
        )


def parse_labels(text: str | bytes) -> RecordLabels:
    """Read a labels file strictly; InvalidInput names the culprit (``fields./child.en``)."""
    value = load_json_strict(text, where="", max_bytes=MAX_LABELS_BYTES, max_depth=3)
    if not isinstance(value, dict):
        raise InvalidInput("a labels file is a JSON object")
    unknown = sorted(value.keys() - _FILE_KEYS)
    if unknown:
        raise InvalidInput("unknown field", field=unknown[0])
    record_type = value.get("type")
    if not isinstance(record_type, str) or not is_record_type(record_type):
        raise InvalidInput(
            "expected a record type (letters, digits, '.', '_', '-'; at most 64)", field="type"
        )
    seen: list[str] = []
    title = _labels_by_language(value.get("title", {}), "title", seen)
    fields_value = value.get("fields")
    if not isinstance(fields_value, dict):
        raise InvalidInput("expected an object of JSON pointer -> labels", field="fields")
    fields: dict[str, dict[str, str]] = {}
    for pointer, labels in fields_value.items():
        where = f"fields.{pointer}"
        try:
            tokens = parse_pointer(pointer)
        except InvalidInput as exc:
            raise InvalidInput(exc.problem, field=where) from exc
        if not tokens:
            raise InvalidInput("the record itself has no label", field=where)
        fields[pointer] = _labels_by_language(labels, where, seen)
    if not seen:
        raise InvalidInput("no label in any language", field="fields")
    default = value.get("defaultLanguage", "en" if "en" in seen else seen[0])
    if not isinstance(default, str) or default not in seen:
        raise InvalidInput(
            f"expected one of the file's languages ({', '.join(seen)})", field="defaultLanguage"
        )
    return RecordLabels(
        record_type=record_type,
        default_language=default,
        languages=tuple(seen),
        title=title,
        fields=fields,
    )


def _labels_by_language(value: object, where: str, seen: list[str]) -> dict[str, str]:
    if not isinstance(value, dict):
        raise InvalidInput("expected an object of language -> label", field=where)
    labels: dict[str, str] = {}
    for language, label in value.items():
        if not _LANGUAGE.fullmatch(language):
            raise InvalidInput(
                f"{language!r} is not a language tag (BCP 47: en, et-EE)", field=where
            )
        labels[language] = _check_label(label, f"{where}.{language}")
        if language not in seen:
            seen.append(language)
    return labels


def _check_label(label: object, where: str) -> str:
    if not isinstance(label, str) or not label.strip():
        raise InvalidInput("a label is a non-empty string", field=where)
    if len(label) > MAX_LABEL_CHARS:
        raise InvalidInput(f"a label is at most {MAX_LABEL_CHARS} characters", field=where)
    for char in label:
        if unicodedata.category(char) in _REFUSED_CATEGORIES:
            raise InvalidInput(
                f"U+{ord(char):04X} is not allowed in a label (a control, format or "
                "direction character)",
                field=where,
            )
    return label


def choose_language(
    available: tuple[str, ...] | list[str], accept_language: str | None, default: str
) -> str:
    """The available language an ``Accept-Language`` value prefers (RFC 9110, RFC 4647
    lookup: ``et-EE`` falls back to ``et``; ``et`` also takes ``et-EE``), or ``default``.

    Malformed parts of the header are ignored, never an error.
    """
    by_lower = {tag.lower(): tag for tag in available}
    ranges: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")[:32]):
        pieces = [p.strip() for p in part.split(";")]
        tag = pieces[0]
        if not _LANGUAGE_RANGE.fullmatch(tag):
            continue
        quality = 1.0
        for parameter in pieces[1:]:
            match = _QUALITY.fullmatch(parameter.replace(" ", ""))
            if match:
                quality = float(match.group(1))
        if quality > 0:
            ranges.append((-quality, position, tag.lower()))
    for _, _, wanted in sorted(ranges):
        if wanted == "*":
            return default
        parts = wanted.split("-")
        while parts:
            found = by_lower.get("-".join(parts))
            if found is not None:
                return found
            parts.pop()
        for lower, tag in by_lower.items():
            if lower.startswith(wanted + "-"):
                return tag
    return default
