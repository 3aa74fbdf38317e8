"""The fast sealing path gives exactly the digests, documents and errors of the reference one.

seal_record copies and walks a record in one pass, salts it from one call to the OS and
builds each field's canonical text from rfc8785's output for its parts. These tests pin
digests computed before that change, and check the fast path against the reference
functions (field_hash, record_digest, the strict _clean) on generated records.
"""

from __future__ import annotations

import collections
import json
from collections.abc import Iterator
from typing import Any

import pytest
import rfc8785
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from record_strategies import keys, records

import registry.record as record_module
from registry.errors import InvalidDocument
from registry.record import (
    SealedDocument,
    disclosed_fields,
    document_digest,
    field_hash,
    parse_sealed_document,
    record_digest,
    redact,
    seal_record,
    to_json,
    to_pointer,
    verify_document,
)

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

EXAMPLE = {
    "type": "BirthCertificate",
    "name": {"given": "Ana", "family": "Ivanova"},
    "born": "2026-01-02",
    "place": "Tallinn",
    "parents": ["Maria Ivanova", "Peter Ivanov"],
    "registry_no": "B-2026-000123",
}

# Escapes in keys, all scalar kinds, number forms, empty containers, nested arrays,
# non-ASCII text and characters JSON must escape.
TRICKY = {
    "a/b": {"~x": [1, 2.5, -0.0, None, True, False, {}, []]},
    "empty": {},
    "big": 9007199254740991,
    "neg": -9007199254740991,
    "f": 1e15,
    "small": 1e-7,
    "uni": 'Tõnu Ñ 😀 "q" \\ \n',
    "": "blank key",
    "nested": [[{"0": [None]}]],
    "é": "x",
}


def fixed_salts(start: int = 1) -> Any:
    counter = iter(range(start, 256))
    return lambda n: bytes([next(counter)]) * n


def salts_of(doc: SealedDocument) -> Any:
    """A salt_source replaying a document's salts in order."""
    salts: Iterator[str] = iter(doc.salts.values())
    return lambda n: bytes.fromhex(next(salts)[2:])


def reference_digest(doc: SealedDocument) -> bytes:
    """The record digest by the reference functions: field_hash over rfc8785 of each triple."""
    leaves = record_module._record_leaves(doc.data, doc.salts)
    return record_digest(
        field_hash(leaf.path, doc.salts[leaf.pointer], leaf.value) for leaf in leaves
    )


# --------------------------------------------------------------------------- pinned values


def test_digest_of_the_example_is_unchanged() -> None:
    """Computed with seal_record before the fast path existed."""
    doc = seal_record(EXAMPLE, salt_source=fixed_salts())
    assert doc.digest.hex() == "5e8cf8ca85eba479202fa98ff65167802f79fdef987f0ea523c721ae72021deb"
    assert doc.salts == {
        "/type": "0x" + "01" * 16,
        "/name/given": "0x" + "02" * 16,
        "/name/family": "0x" + "03" * 16,
        "/born": "0x" + "04" * 16,
        "/place": "0x" + "05" * 16,
        "/parents/0": "0x" + "06" * 16,
        "/parents/1": "0x" + "07" * 16,
        "/registry_no": "0x" + "08" * 16,
    }
    assert doc.data == EXAMPLE
    assert doc.redacted == ()
    assert doc.receipt is None


def test_digest_of_a_tricky_record_is_unchanged() -> None:
    """Computed with the reference functions (field_hash, record_digest over _clean's
    leaves). Protocol v2 refuses numbers beyond 2**53 - 1, so ``"f"`` is now 1e15 (it was
    1e21, and the digest pinned then c5ea1bdf...)."""
    doc = seal_record(TRICKY, salt_source=fixed_salts(30))
    assert doc.digest.hex() == "0065eb1af859d0b98884b3bca801d69522c9f401626262724a3b9f01dc22ec8a"
    assert list(doc.salts) == [
        *(f"/a~1b/~0x/{i}" for i in range(8)),
        "/empty",
        "/big",
        "/neg",
        "/f",
        "/small",
        "/uni",
        "/",
        "/nested/0/0/0/0",
        "/é",
    ]
    # Numbers in canonical form: -0.0 is 0 and the integral 1e15 an int.
    assert json.dumps(doc.data) == json.dumps(TRICKY).replace("-0.0", "0").replace(
        "1000000000000000.0", "1000000000000000"
    )


def test_salt_source_is_called_once_per_leaf_with_16() -> None:
    calls: list[int] = []

    def source(n: int) -> bytes:
        calls.append(n)
        return bytes([len(calls)]) * n

    seal_record(EXAMPLE, salt_source=source)
    assert calls == [16] * 8


def test_default_salts_are_fresh_16_byte_hex() -> None:
    one, two = seal_record(EXAMPLE), seal_record(EXAMPLE)
    for doc in (one, two):
        assert all(len(s) == 34 and s.startswith("0x") for s in doc.salts.values())
        assert len(set(doc.salts.values())) == 8
        assert verify_document(doc) == doc.digest
    assert set(one.salts.values()).isdisjoint(two.salts.values())


# --------------------------------------------------------------------------- against the reference


@FAST
@given(records)
def test_fast_digest_equals_the_reference_functions(record: dict[str, Any]) -> None:
    doc = seal_record(record)
    assert doc.digest == reference_digest(doc)
    assert document_digest(doc) == doc.digest


@FAST
@given(records)
def test_fast_document_equals_the_validated_one(record: dict[str, Any]) -> None:
    doc = seal_record(record, salt_source=fixed_salts())
    checked = SealedDocument(data=doc.data, salts=doc.salts, redacted=(), digest=doc.digest)
    assert checked == doc
    assert checked._leaves == doc._leaves
    assert doc.data == record and doc.data is not record
    assert parse_sealed_document(json.dumps(to_json(doc))) == doc
    reference = record_module._record_leaves(record_module._clean_record(record), None)
    assert disclosed_fields(doc) == [(leaf.pointer, leaf.value) for leaf in reference]
    assert list(doc.salts) == [leaf.pointer for leaf in reference]


@FAST
@given(
    st.lists(st.one_of(keys, st.integers(0, 5)), max_size=4),
    st.binary(min_size=16, max_size=16),
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**53) + 1, 2**53 - 1),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(),
        st.just({}),
        st.just([]),
    ),
)
def test_assembled_canonical_text_is_rfc8785s(path: list[Any], salt: bytes, value: Any) -> None:
    digits = salt.hex().encode()
    expected = field_hash(path, "0x" + salt.hex(), value)
    leaf = (to_pointer(path), tuple(path), value)
    assert record_module._digest_of([leaf], digits, 0) == record_digest([expected])
    salt_hex = "0x" + salt.hex()
    parts = [rfc8785.dumps(path), rfc8785.dumps(salt_hex), rfc8785.dumps(value)]
    assert rfc8785.dumps([path, salt_hex, value]) == b"[" + b",".join(parts) + b"]"
    assert rfc8785.dumps(salt_hex) == b'"' + salt_hex.encode() + b'"'


def test_caches_stay_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(record_module, "_CACHE_MAX", 4)
    monkeypatch.setattr(record_module, "_HASH_PREFIXES", {})
    monkeypatch.setattr(record_module, "_STRING_FORMS", {})
    for i in range(20):
        doc = seal_record({f"k{i}": f"v{i}", "same": "value", "list": [f"x{i}"]})
        assert doc.digest == reference_digest(doc)
        assert len(record_module._HASH_PREFIXES) <= 4
        assert len(record_module._STRING_FORMS) <= 4


# --------------------------------------------------------------------------- irregular input


class Record(collections.UserDict[str, Any]):
    """A Mapping that is not a dict."""


class Text(str):
    """A str subclass."""


def test_mapping_and_str_subclasses_seal_like_plain_values() -> None:
    plain = seal_record({"a": {"b": "x"}, "c": [1]}, salt_source=fixed_salts())
    odd = seal_record(
        Record({"a": collections.OrderedDict(b=Text("x")), Text("c"): [1]}),
        salt_source=fixed_salts(),
    )
    assert odd == plain
    assert type(odd.data) is dict and type(odd.data["a"]) is dict
    assert type(odd.data["a"]["b"]) is str
    assert all(type(k) is str for k in odd.data)


def _deep(levels: int) -> Any:
    value: Any = 1
    for _ in range(levels):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("record", "error", "message", "path"),
    [
        (
            {"a": {"b": [1, float("nan")]}},
            "NonFiniteNumber",
            "/a/b/1: number nan is not finite (too large for a double or NaN)",
            "/a/b/1",
        ),
        (
            {"n": 2**53},
            "UnsafeInteger",
            "/n: integer 9007199254740992 is beyond +-(2**53 - 1); write it as a string",
            "/n",
        ),
        (
            {"s": "x\udc80"},
            "InvalidString",
            "/s: string holds a lone surrogate at character 1",
            "/s",
        ),
        (
            {"k\ud800": 1},
            "InvalidString",
            "/k\\ud800: key holds a lone surrogate at character 1",
            "/k\ud800",
        ),
        ({"a": {1: "x"}}, "NonStringKey", "/a: key 1 (int) is not a string", "/a"),
        ({"t": (1, 2)}, "UnsupportedValue", "/t: tuple has no JSON form", "/t"),
        ({"b": b"x"}, "UnsupportedValue", "/b: bytes has no JSON form", "/b"),
        ([1], "NotAnObject", "(top level): a record is a JSON object, got array", ""),
        ({}, "EmptyRecord", "(top level): the record has no fields", ""),
        (
            {"d": _deep(32)},
            "RecordTooDeep",
            "/d" + "/0" * 31 + ": nested deeper than 32 levels",
            "/d" + "/0" * 31,
        ),
    ],
)
def test_errors_are_unchanged(record: Any, error: str, message: str, path: str) -> None:
    """Messages recorded from seal_record before the fast path existed."""
    with pytest.raises(record_module.RecordError) as caught:
        seal_record(record)
    assert type(caught.value).__name__ == error
    assert str(caught.value) == message
    assert caught.value.path == path
    assert caught.value.record_index is None


def test_depth_limit_is_the_same_for_empty_containers() -> None:
    empties: tuple[Any, ...] = ({}, [])
    for empty in empties:
        inner: Any = empty
        for _ in range(30):
            inner = [inner]
        seal_record({"d": inner})  # 32 levels: the record, then 31 arrays
        with pytest.raises(record_module.RecordTooDeep):
            seal_record({"d": [inner]})


# --------------------------------------------------------------------------- documents


@FAST
@given(records, st.data())
def test_document_checks_agree_with_the_strict_path(record: dict[str, Any], data: Any) -> None:
    """The one-pass check in SealedDocument either defers or matches _strict_document."""
    doc = seal_record(record, salt_source=fixed_salts())
    pointers = list(doc.salts)
    salts = dict(doc.salts)
    variant = data.draw(st.sampled_from(["as is", "reversed", "missing", "stray", "bad salt"]))
    if variant == "reversed":
        salts = dict(reversed(salts.items()))
    elif variant == "missing":
        del salts[data.draw(st.sampled_from(pointers))]
    elif variant == "stray":
        salts["/no/such/field"] = "0x" + "00" * 16
    elif variant == "bad salt":
        salts[data.draw(st.sampled_from(pointers))] = "0X" + "00" * 16

    def outcome(check: Any) -> Any:
        try:
            result = check(doc.data, salts)
        except InvalidDocument as exc:
            return str(exc)
        return None if result is None else (result[0], result[1], list(result[2]))

    strict = outcome(record_module._strict_document)
    regular = outcome(record_module._regular_document)
    assert regular is None or regular == strict


def test_documents_with_holes_and_subclasses_still_validate() -> None:
    doc = seal_record({"a": [1, None, 2], "b": {"c": None}}, salt_source=fixed_salts())
    hidden = redact(doc, "/a/0")
    assert hidden.data == {"a": [None, None, 2], "b": {"c": None}}
    again = SealedDocument(
        data=Record(hidden.data),  # type: ignore[arg-type]
        salts=hidden.salts,
        redacted=hidden.redacted,
        digest=doc.digest,
    )
    assert again == hidden
    assert verify_document(again) == doc.digest
    with pytest.raises(InvalidDocument, match="ends with a redaction hole"):
        SealedDocument(
            data={"a": [1, None]}, salts={"/a/0": "0x" + "01" * 16}, redacted=(), digest=doc.digest
        )
