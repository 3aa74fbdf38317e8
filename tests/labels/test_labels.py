"""Field labels files (registry.labels): read strictly, resolved by the reader's language."""

from __future__ import annotations

import json
from typing import Any

import pytest

from registry.errors import InvalidInput
from registry.labels import choose_language, is_record_type, parse_labels

BIRTH: dict[str, Any] = {
    "type": "BirthCertificate",
    "title": {"en": "Birth certificate", "et": "Sünnitunnistus"},
    "fields": {
        "/number": {"en": "Certificate number", "et": "Tunnistuse number"},
        "/child": {"en": "Child", "et": "Laps"},
        "/child/given": {"en": "Given name"},
        "/parents/*/name": {"en": "Name", "et": "Nimi"},
    },
}


def _text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def test_a_file_resolves_to_one_language() -> None:
    labels = parse_labels(_text(BIRTH))
    assert labels.languages == ("en", "et")
    assert labels.default_language == "en"
    et = labels.resolve("et-EE,et;q=0.9,en;q=0.5")
    assert et.language == "et" and et.title == "Sünnitunnistus"
    # A field without an Estonian label has none: the page shows its raw key.
    assert et.fields == {
        "/number": "Tunnistuse number",
        "/child": "Laps",
        "/parents/*/name": "Nimi",
    }
    en = labels.resolve(None)
    assert en.language == "en" and en.fields["/child/given"] == "Given name"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "en"),
        ("", "en"),
        ("et", "et-EE"),  # a range takes a more specific tag
        ("fr-CA, fr;q=0.9", "fr"),  # lookup: fr-CA falls back to fr
        ("de, *;q=0.1", "en"),  # nothing matches: the default
        ("et;q=0, fr", "fr"),  # q=0 means "not this one"
        ("fr;q=0.2, et-ee;q=0.8", "et-EE"),  # by quality, case-insensitive
        ("??, ;;;, en-;q=abc, fr", "fr"),  # malformed parts are ignored
    ],
)
def test_choose_language(header: str | None, expected: str) -> None:
    assert choose_language(("en", "et-EE", "fr"), header, "en") == expected


@pytest.mark.parametrize(
    ("change", "culprit"),
    [
        ({"type": "../secrets"}, "type"),
        ({"extra": 1}, "extra"),
        ({"fields": []}, "fields"),
        ({"fields": {"child": {"en": "Child"}}}, "fields.child"),  # not a pointer
        ({"fields": {"": {"en": "Record"}}}, "fields."),
        ({"fields": {"/a": {"english": "A"}}}, "fields./a"),
        ({"fields": {"/a": {"en": ""}}}, "fields./a.en"),
        ({"fields": {"/a": {"en": "   "}}}, "fields./a.en"),
        ({"fields": {"/a": {"en": "x" * 121}}}, "fields./a.en"),
        ({"fields": {"/a": {"en": "Name\u202eeman"}}}, "fields./a.en"),  # a bidi override
        ({"fields": {"/a": {"en": "Na\u200bme"}}}, "fields./a.en"),  # zero-width space
        ({"fields": {"/a": {"en": "Line\nbreak"}}}, "fields./a.en"),
        ({"fields": {"/a": {"en": 5}}}, "fields./a.en"),
        ({"title": {}, "fields": {}}, "fields"),  # no label at all
        ({"defaultLanguage": "de"}, "defaultLanguage"),
    ],
)
def test_refused_files_name_the_culprit(change: dict[str, Any], culprit: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_labels(_text({**BIRTH, **change}))
    assert caught.value.field == culprit


def test_repeated_keys_and_bad_json_are_refused() -> None:
    with pytest.raises(InvalidInput, match="duplicate"):
        parse_labels('{"type": "A", "type": "B", "fields": {}}')
    with pytest.raises(InvalidInput):
        parse_labels(b"\xff not json")


def test_record_type_names() -> None:
    assert is_record_type("BirthCertificate") and is_record_type("eu.Diploma_v2-1")
    for bad in ("", "../x", "a/b", ".hidden", "x" * 65, "Birth Certificate", "é"):
        assert not is_record_type(bad), bad
