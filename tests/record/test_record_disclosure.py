"""Selective disclosure: redaction keeps the digest, leaves a defined shape, cannot be faked."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from record_strategies import records

from registry.errors import RedactionError
from registry.record import (
    SealedDocument,
    disclosed_fields,
    document_digest,
    field_hash,
    parse_pointer,
    parse_sealed_document,
    redact,
    seal_record,
    to_json,
    to_pointer,
)

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def all_pointers(value: Any, path: tuple[Any, ...] = ()) -> list[str]:
    """The pointer of every node below the root: leaves and containers alike."""
    found: list[str] = []
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return found
    for token, item in items:
        found.append(to_pointer((*path, token)))
        found += all_pointers(item, (*path, token))
    return found


RECORD = {
    "name": "Ada",
    "address": {"street": "1 Main St", "city": "London"},
    "children": [{"name": "Byron"}, {"name": "Anne"}, None],
    "notes": {},
    "tags": [],
}


def sealed() -> SealedDocument:
    return seal_record(RECORD)


def test_redacting_a_leaf_moves_its_hash_and_keeps_the_digest() -> None:
    doc = sealed()
    salt = doc.salts["/address/city"]
    out = redact(doc, ["/address/city"])
    assert out.data["address"] == {"street": "1 Main St"}
    assert "/address/city" not in out.salts
    assert out.redacted == (field_hash(["address", "city"], salt, "London"),)
    assert out.digest == doc.digest
    assert document_digest(out) == doc.digest


def test_redacting_a_subtree_moves_every_leaf_inside() -> None:
    out = redact(sealed(), "/address")
    assert "address" not in out.data
    assert len(out.redacted) == 2
    assert document_digest(out) == out.digest


def test_an_object_emptied_by_redaction_disappears_but_an_empty_one_stays() -> None:
    out = redact(sealed(), ["/address/street", "/address/city"])
    assert "address" not in out.data
    assert out.data["notes"] == {} and out.data["tags"] == []
    assert "/notes" in out.salts and "/tags" in out.salts
    hidden = redact(out, ["/notes"])
    assert "notes" not in hidden.data
    assert document_digest(hidden) == hidden.digest


def test_a_hidden_array_element_leaves_a_hole_and_trailing_holes_go() -> None:
    doc = sealed()
    middle = redact(doc, ["/children/1"])
    assert middle.data["children"] == [{"name": "Byron"}, None, None]
    assert "/children/2" in middle.salts  # the real null keeps its salt
    assert "/children/1/name" not in middle.salts
    last = redact(doc, ["/children/2"])
    assert last.data["children"] == [{"name": "Byron"}, {"name": "Anne"}]
    both = redact(doc, ["/children/1", "/children/2"])
    assert both.data["children"] == [{"name": "Byron"}]
    first = redact(doc, ["/children/0/name"])
    assert first.data["children"] == [None, {"name": "Anne"}, None]
    for out in (middle, last, both, first):
        assert document_digest(out) == doc.digest
        again = parse_sealed_document(json.dumps(to_json(out)))
        assert again == out


def test_redacting_everything_leaves_an_empty_object() -> None:
    doc = sealed()
    out = redact(doc, [""])
    assert out.data == {} and out.salts == {}
    assert len(out.redacted) == len(doc.salts)
    assert document_digest(parse_sealed_document(to_json(out))) == doc.digest


@pytest.mark.parametrize(
    "path",
    ["/nope", "/address/zip", "/children/3", "/children/01", "/name/x", "/tags/0", "//"],
)
def test_redacting_a_missing_path_names_it(path: str) -> None:
    with pytest.raises(RedactionError) as excinfo:
        redact(sealed(), [path])
    assert repr(path) in str(excinfo.value)


def test_redacting_twice_names_the_already_hidden_path() -> None:
    out = redact(sealed(), ["/children/1"])
    with pytest.raises(RedactionError, match="already redacted"):
        redact(out, ["/children/1"])


@pytest.mark.parametrize("path", ["name", "/a~2b", "/~"])
def test_malformed_pointers_are_refused(path: str) -> None:
    with pytest.raises(RedactionError) as excinfo:
        redact(sealed(), [path])
    assert repr(path) in str(excinfo.value)


@FAST
@given(record=records, data=st.data())
def test_any_redaction_keeps_the_digest(record: dict[str, Any], data: st.DataObject) -> None:
    doc = seal_record(record)
    paths = data.draw(st.lists(st.sampled_from(["", *all_pointers(doc.data)]), max_size=4))
    # A container whose only leaves are already chosen still names a subtree, so every
    # pointer of the original exists; redact them all at once.
    out = redact(doc, paths)
    assert out.digest == doc.digest
    assert document_digest(out) == doc.digest
    assert len(out.salts) + len(out.redacted) == len(doc.salts)
    assert parse_sealed_document(json.dumps(to_json(out))) == out


@FAST
@given(record=records, data=st.data())
def test_redaction_in_steps_equals_redaction_at_once(
    record: dict[str, Any], data: st.DataObject
) -> None:
    doc = seal_record(record)
    leaves = [p for p, _ in disclosed_fields(doc)]
    chosen = data.draw(st.lists(st.sampled_from(leaves), min_size=1, max_size=4, unique=True))
    at_once = redact(doc, chosen)
    stepwise = doc
    for pointer in chosen:
        stepwise = redact(stepwise, [pointer])
    assert stepwise == at_once


def reveal(doc: SealedDocument, pointer: str, value: Any, salt: str) -> SealedDocument:
    """Put a field back into a redacted document, dropping one redacted hash."""
    data = copy.deepcopy(doc.data)
    tokens = parse_pointer(pointer)
    node: Any = data
    for token in tokens[:-1]:
        node = node.setdefault(token, {})
    node[tokens[-1]] = value
    hash_ = field_hash(tokens, salt, value)
    redacted = tuple(h for h in doc.redacted if h != hash_)
    if len(redacted) == len(doc.redacted):  # a made-up field takes a hidden one's place
        redacted = doc.redacted[1:]
    return SealedDocument(
        data=data, salts={**doc.salts, pointer: salt}, redacted=redacted, digest=doc.digest
    )


def test_revealing_the_true_field_restores_and_a_made_up_one_does_not() -> None:
    doc = seal_record({"name": "Ada", "born": "1815-12-10"})
    salt = doc.salts["/born"]
    hidden = redact(doc, ["/born"])
    assert document_digest(reveal(hidden, "/born", "1815-12-10", salt)) == doc.digest
    assert document_digest(reveal(hidden, "/born", "1816-01-01", salt)) != doc.digest
    assert document_digest(reveal(hidden, "/born", "1815-12-10", "0x" + "00" * 16)) != doc.digest
    # A field that was never there, shown in place of a hidden one.
    assert document_digest(reveal(hidden, "/age", 30, salt)) != doc.digest


@FAST
@given(record=records, data=st.data())
def test_revealing_a_field_that_was_never_there_changes_the_digest(
    record: dict[str, Any], data: st.DataObject
) -> None:
    doc = seal_record(record)
    leaves = [p for p, _ in disclosed_fields(doc)]
    hidden_pointer = data.draw(st.sampled_from(leaves))
    hidden = redact(doc, [hidden_pointer])
    key = data.draw(st.text(max_size=4).filter(lambda k: k not in record))
    fake = reveal(hidden, to_pointer([key]), data.draw(st.integers(-1000, 1000)), "0x" + "ab" * 16)
    assert document_digest(fake) != doc.digest
