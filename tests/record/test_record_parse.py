"""Strict record parsing: every bad input raises its own error, naming the JSON pointer."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from record_strategies import keys, records

from registry.errors import InvalidRecord
from registry.record import (
    MAX_DEPTH,
    MAX_RECORD_BYTES,
    DuplicateKey,
    EmptyRecord,
    InvalidString,
    MalformedJSON,
    NonFiniteNumber,
    NonStringKey,
    NotAnObject,
    RecordError,
    RecordTooDeep,
    RecordTooLarge,
    UnsafeInteger,
    UnsupportedValue,
    parse_record_json,
    seal_record,
    to_pointer,
)


@pytest.mark.parametrize(
    ("text", "error", "where"),
    [
        ('{"a": 1, "a": 2}', DuplicateKey, "/a:"),
        ('{"x": [1, {"y": {"z": 1, "z": 2}}]}', DuplicateKey, "/x/1/y/z:"),
        ('{"a": {"b": NaN}}', NonFiniteNumber, "/a/b:"),
        ('{"a": [Infinity]}', NonFiniteNumber, "/a/0:"),
        ('{"a": -Infinity}', NonFiniteNumber, "/a:"),
        ('{"a": 1e400}', NonFiniteNumber, "/a:"),
        ('{"a": {"b~/c": 9007199254740992}}', UnsafeInteger, "/a/b~0~1c:"),
        ('{"a": -12345678901234567890123}', UnsafeInteger, "/a:"),
        ('{"big": 1' + "0" * 5000 + "}", UnsafeInteger, "/big:"),
        ("[1, 2]", NotAnObject, "(top level):"),
        ('"text"', NotAnObject, "(top level):"),
        ("{}", EmptyRecord, "(top level):"),
        ('{"a": 1', MalformedJSON, "line 1"),
        ('{"a": 1} x', MalformedJSON, "line 1"),
        ('\ufeff{"a": 1}', MalformedJSON, "(top level):"),
        ('{"a": "\\ud800"}', InvalidString, "/a:"),
        ('{"\\udc00": 1}', InvalidString, "/\\udc00:"),
    ],
)
def test_bad_json_raises_its_own_error(text: str, error: type[RecordError], where: str) -> None:
    with pytest.raises(error) as excinfo:
        parse_record_json(text)
    assert isinstance(excinfo.value, InvalidRecord)
    assert str(excinfo.value).startswith(where) or where in str(excinfo.value)


def test_safe_integer_bounds_are_inclusive() -> None:
    assert parse_record_json('{"a": 9007199254740991, "b": -9007199254740991}') == {
        "a": 2**53 - 1,
        "b": -(2**53 - 1),
    }


def test_invalid_utf8_bytes() -> None:
    with pytest.raises(MalformedJSON, match="not UTF-8"):
        parse_record_json(b'{"a": "\xff"}')


def test_size_limit_counts_utf8_bytes() -> None:
    body = '{"a": "' + "é" * 40 + '"}'  # 40 characters, 80 bytes
    with pytest.raises(RecordTooLarge, match="over the 60-byte limit"):
        parse_record_json(body, max_bytes=60)
    with pytest.raises(RecordTooLarge):
        parse_record_json(body.encode(), max_bytes=60)
    assert parse_record_json(body, max_bytes=100) == {"a": "é" * 40}
    with pytest.raises(RecordTooLarge):
        parse_record_json(b" " * (MAX_RECORD_BYTES + 1))


def nested(depth: int) -> str:
    """A record whose innermost object is at ``depth`` (the record itself is level 1)."""
    return '{"a": ' * (depth - 1) + "{}" + "}" * (depth - 1)


def test_depth_limit() -> None:
    assert parse_record_json(nested(MAX_DEPTH))
    with pytest.raises(RecordTooDeep) as excinfo:
        parse_record_json(nested(MAX_DEPTH + 1))
    assert str(excinfo.value).startswith("/a" * MAX_DEPTH + ":")


def test_depth_limit_beyond_the_parsers_recursion_limit() -> None:
    text = '{"k": [' * 3000 + "]}" * 3000
    with pytest.raises(RecordTooDeep) as excinfo:
        parse_record_json(text)
    assert str(excinfo.value).startswith("/k/0" * (MAX_DEPTH // 2) + ":")


def test_python_records_are_checked_too() -> None:
    cases: list[tuple[dict[Any, Any], type[RecordError], str]] = [
        ({1: "x"}, NonStringKey, "(top level):"),
        ({"a": {None: 1}}, NonStringKey, "/a:"),
        ({"a": (1, 2)}, UnsupportedValue, "/a:"),
        ({"a": [b"raw"]}, UnsupportedValue, "/a/0:"),
        ({"a": {1, 2}}, UnsupportedValue, "/a:"),
        ({"a": float("nan")}, NonFiniteNumber, "/a:"),
        ({"a": [float("-inf")]}, NonFiniteNumber, "/a/0:"),
        ({"a": 2**64}, UnsafeInteger, "/a:"),
        ({"a": "\ud800"}, InvalidString, "/a:"),
        ({}, EmptyRecord, "(top level):"),
    ]
    for record, error, where in cases:
        with pytest.raises(error) as excinfo:
            seal_record(record)
        assert str(excinfo.value).startswith(where), (record, str(excinfo.value))
    with pytest.raises(NotAnObject):
        seal_record([1])  # type: ignore[arg-type]


def test_deep_python_record() -> None:
    record: dict[str, Any] = {}
    node = record
    for _ in range(MAX_DEPTH):
        node["a"] = {}
        node = node["a"]
    with pytest.raises(RecordTooDeep):
        seal_record(record)


def test_a_cyclic_python_record_is_refused_not_looped() -> None:
    record: dict[str, Any] = {}
    record["self"] = record
    with pytest.raises(RecordTooDeep):
        seal_record(record)


@settings(max_examples=60, deadline=None)
@given(record=records)
def test_valid_json_text_parses_to_the_same_record(record: dict[str, Any]) -> None:
    parsed = parse_record_json(json.dumps(record))
    assert seal_record(parsed, salt_source=lambda n: b"\x07" * n).digest == (
        seal_record(record, salt_source=lambda n: b"\x07" * n).digest
    )


BAD_JSON_VALUES: list[tuple[str, type[RecordError]]] = [
    ("NaN", NonFiniteNumber),
    ("-Infinity", NonFiniteNumber),
    ("1e999", NonFiniteNumber),
    ("18014398509481984", UnsafeInteger),
    ('{"d": 1, "d": 2}', DuplicateKey),
    ('"\\udfff"', InvalidString),
]


@settings(max_examples=80, deadline=None)
@given(
    path=st.lists(st.one_of(keys, st.integers(0, 3)), min_size=1, max_size=6).filter(
        lambda p: isinstance(p[0], str)
    ),
    bad=st.sampled_from(BAD_JSON_VALUES),
)
def test_a_bad_value_anywhere_is_reported_at_its_path(
    path: list[str | int], bad: tuple[str, type[RecordError]]
) -> None:
    text, error = bad
    # Build the JSON text by hand around the bad literal; arrays get null padding.
    for token in reversed(path):
        if isinstance(token, int):
            text = "[" + "null, " * token + text + "]"
        else:
            text = "{" + json.dumps(token) + ": " + text + "}"
    where = to_pointer(path)
    if error is DuplicateKey:
        where += "/d"
    with pytest.raises(error) as excinfo:
        parse_record_json(text)
    assert str(excinfo.value).startswith(where + ":")
