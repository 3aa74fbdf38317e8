"""File digests, field hashes and record digests: known values and tamper evidence."""

from __future__ import annotations

import copy
import hashlib
import io
import json
from typing import Any

import pytest
import rfc8785
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from record_strategies import records, scalars

from registry.errors import InvalidInput
from registry.record import (
    CHUNK_SIZE,
    SALT_BYTES,
    SealedDocument,
    bytes_digest,
    disclosed_fields,
    document_digest,
    field_hash,
    file_digest,
    parse_pointer,
    record_digest,
    seal_record,
    to_pointer,
)

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def fixed_salts(start: int = 1) -> Any:
    counter = iter(range(start, 256))
    return lambda n: bytes([next(counter)]) * n


# --------------------------------------------------------------------------- files


def test_file_digest_is_sha256_of_the_bytes(tmp_path: Any) -> None:
    path = tmp_path / "hello.txt"
    path.write_bytes(b"hello registry\n")
    expected = hashlib.sha256(b"hello registry\n").digest()
    assert file_digest(path) == expected
    assert file_digest(str(path)) == expected
    assert bytes_digest(b"hello registry\n") == expected


class CountingStream(io.BytesIO):
    """A stream that remembers the largest read it was asked for."""

    largest = 0

    def read(self, size: int | None = -1) -> bytes:
        self.largest = max(self.largest, size if size is not None and size >= 0 else 1 << 62)
        return super().read(size)


def test_file_digest_streams_in_bounded_chunks() -> None:
    data = bytes(range(256)) * (CHUNK_SIZE // 256 * 2 + 7)  # a bit over 2 MiB
    stream = CountingStream(data)
    assert file_digest(stream) == hashlib.sha256(data).digest()
    assert stream.largest == CHUNK_SIZE


def test_file_digest_of_empty_file(tmp_path: Any) -> None:
    path = tmp_path / "empty"
    path.write_bytes(b"")
    assert file_digest(path) == hashlib.sha256(b"").digest()


def test_file_digest_refuses_text_streams_and_missing_files(tmp_path: Any) -> None:
    with pytest.raises(InvalidInput, match="binary stream"):
        file_digest(io.StringIO("text"))  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="cannot read file") as excinfo:
        file_digest(tmp_path / "nope.pdf")
    assert "nope.pdf" in str(excinfo.value)


# --------------------------------------------------------------------------- field hashes


def test_field_hash_known_value() -> None:
    # Cross-checked with Node: sha256(JSON.stringify([["name"], salt, "Ada Lovelace"])).
    salt = "0x" + "01" * 16
    assert rfc8785.dumps([["name"], salt, "Ada Lovelace"]) == (
        b'[["name"],"0x01010101010101010101010101010101","Ada Lovelace"]'
    )
    assert field_hash(["name"], salt, "Ada Lovelace").hex() == (
        "d9dd1bc798618478029c7742de19ec589fadbf0a087141fba58fce253e8d9375"
    )


def test_record_digest_is_sha256_of_sorted_concatenation() -> None:
    hashes = [bytes([9]) * 32, bytes([1]) * 32, bytes([5]) * 32]
    expected = hashlib.sha256(b"".join(sorted(hashes))).digest()
    assert record_digest(hashes) == expected
    assert record_digest(reversed(hashes)) == expected
    with pytest.raises(InvalidInput):
        record_digest([b"short"])


def test_object_and_array_with_the_same_pointers_differ() -> None:
    as_object = seal_record({"a": {"0": 1}}, salt_source=fixed_salts())
    as_array = seal_record({"a": [1]}, salt_source=fixed_salts())
    assert as_object.salts == as_array.salts  # same pointer, same salt
    assert as_object.digest != as_array.digest


def test_empty_containers_are_leaves() -> None:
    values: list[Any] = [{}, [], None, 0, ""]
    digests = {
        json.dumps(value): seal_record({"a": value, "b": 1}, salt_source=fixed_salts()).digest
        for value in values
    }
    assert len(set(digests.values())) == len(digests)
    with_empty = seal_record({"a": {}, "b": 1}, salt_source=fixed_salts())
    assert with_empty.salts.keys() == {"/a", "/b"}
    without = SealedDocument(
        data={"b": 1},
        salts={"/b": with_empty.salts["/b"]},
        redacted=(),
        digest=with_empty.digest,
    )
    assert document_digest(without) != with_empty.digest


def test_seal_uses_fresh_16_byte_salts() -> None:
    doc = seal_record({"a": 1, "b": [1, 2], "c": {"d": None}})
    assert set(doc.salts) == {"/a", "/b/0", "/b/1", "/c/d"}
    assert len(set(doc.salts.values())) == 4
    assert all(len(bytes.fromhex(s[2:])) == SALT_BYTES for s in doc.salts.values())
    assert seal_record({"a": 1}).digest != seal_record({"a": 1}).digest


def test_salt_source_must_give_16_bytes() -> None:
    with pytest.raises(InvalidInput, match="16 bytes"):
        seal_record({"a": 1}, salt_source=lambda n: b"short")


def test_numbers_follow_i_json() -> None:
    # 1 and 1.0 are one JSON value; true and 1 are not.
    one = seal_record({"a": 1}, salt_source=fixed_salts()).digest
    assert seal_record({"a": 1.0}, salt_source=fixed_salts()).digest == one
    assert seal_record({"a": True}, salt_source=fixed_salts()).digest != one
    assert seal_record({"a": "1"}, salt_source=fixed_salts()).digest != one


def test_pointers_escape_tilde_and_slash() -> None:
    assert to_pointer(["a/b", "~", 0, ""]) == "/a~1b/~0/0/"
    assert parse_pointer("/a~1b/~0/0/") == ["a/b", "~", "0", ""]
    doc = seal_record({"a/b": {"~": [1]}})
    assert list(doc.salts) == ["/a~1b/~0/0"]


# --------------------------------------------------------------------------- tampering


def set_at(data: Any, pointer: str, value: Any) -> None:
    tokens = parse_pointer(pointer)
    node = data
    for token in tokens[:-1]:
        node = node[int(token)] if isinstance(node, list) else node[token]
    last = tokens[-1]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


def canonical(value: Any) -> bytes:
    return rfc8785.dumps(value)


@FAST
@given(record=records)
def test_sealed_digest_matches_recomputation(record: dict[str, Any]) -> None:
    doc = seal_record(record)
    assert document_digest(doc) == doc.digest
    assert len(doc.salts) == len(disclosed_fields(doc))


@FAST
@given(record=records, data=st.data())
def test_any_value_change_changes_the_digest(record: dict[str, Any], data: st.DataObject) -> None:
    doc = seal_record(record)
    pointer, old = data.draw(st.sampled_from(disclosed_fields(doc)))
    new: Any = data.draw(
        st.one_of(scalars, st.just({}), st.just([])).filter(
            lambda v: canonical(v) != canonical(old)
        )
    )
    changed = copy.deepcopy(doc.data)
    set_at(changed, pointer, new)
    tampered = SealedDocument(data=changed, salts=doc.salts, redacted=(), digest=doc.digest)
    assert document_digest(tampered) != doc.digest


def object_members(value: Any, pointer: str = "") -> list[tuple[str, str]]:
    """(pointer of an object, one of its keys) for every member of every object."""
    found: list[tuple[str, str]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            found.append((pointer, key))
            found += object_members(item, f"{pointer}/{to_pointer([key])[1:]}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += object_members(item, f"{pointer}/{index}")
    return found


@FAST
@given(record=records, data=st.data())
def test_any_key_change_changes_the_digest(record: dict[str, Any], data: st.DataObject) -> None:
    doc = seal_record(record)
    parent, key = data.draw(st.sampled_from(object_members(doc.data)))
    changed = copy.deepcopy(doc.data)
    owner: Any = changed
    for token in parse_pointer(parent):
        owner = owner[int(token)] if isinstance(owner, list) else owner[token]
    new_key = data.draw(st.text(max_size=5).filter(lambda k: k not in owner))
    owner[new_key] = owner.pop(key)
    old_prefix = parent + to_pointer([key])
    new_prefix = parent + to_pointer([new_key])
    salts = {
        (
            new_prefix + p[len(old_prefix) :]
            if p == old_prefix or p.startswith(old_prefix + "/")
            else p
        ): s
        for p, s in doc.salts.items()
    }
    tampered = SealedDocument(data=changed, salts=salts, redacted=(), digest=doc.digest)
    assert document_digest(tampered) != doc.digest


@FAST
@given(record=records, data=st.data())
def test_any_salt_bit_flip_changes_the_digest(record: dict[str, Any], data: st.DataObject) -> None:
    doc = seal_record(record)
    pointer = data.draw(st.sampled_from(sorted(doc.salts)))
    salt = bytearray.fromhex(doc.salts[pointer][2:])
    bit = data.draw(st.integers(0, len(salt) * 8 - 1))
    salt[bit // 8] ^= 1 << (bit % 8)
    salts = {**doc.salts, pointer: "0x" + salt.hex()}
    tampered = SealedDocument(data=doc.data, salts=salts, redacted=(), digest=doc.digest)
    assert document_digest(tampered) != doc.digest


@FAST
@given(record=records, data=st.data())
def test_adding_a_field_changes_the_digest(record: dict[str, Any], data: st.DataObject) -> None:
    doc = seal_record(record)
    key = data.draw(st.text(max_size=5).filter(lambda k: k not in doc.data))
    value = data.draw(scalars)
    added = {**copy.deepcopy(doc.data), key: value}
    salts = {**doc.salts, to_pointer([key]): "0x" + bytes(16).hex()}
    tampered = SealedDocument(data=added, salts=salts, redacted=(), digest=doc.digest)
    assert document_digest(tampered) != doc.digest
