"""Protocol v2 (issue 9): records and sealed documents are read strictly and one way only.

Each test is named for the attack it stops. The rules are written out for independent
verifiers in docs/receipt.md sections 2.2 and 4.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from typing import Any

import pytest
import rfc8785
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from record_strategies import keys, records

import registry.record as record_module
from registry.errors import InvalidDocument, InvalidInput, TamperedDocument
from registry.record import (
    MAX_DEPTH,
    MAX_DOCUMENT_DEPTH,
    MAX_SAFE_INTEGER,
    DuplicateKey,
    InvalidString,
    MalformedJSON,
    NonFiniteNumber,
    NumberUnderflow,
    RecordError,
    RecordTooDeep,
    RecordTooLarge,
    SealedDocument,
    UnsafeInteger,
    load_json_strict,
    parse_record_json,
    parse_sealed_document,
    seal_record,
    sealed_json_bytes,
    to_json,
    to_pointer,
    verify_document,
)
from registry.salts import record_salt_source, record_seed

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SECRET = b"\x07" * 32


def zero_salts(n: int) -> bytes:
    return b"\x00" * n


def sealed_text(record: dict[str, Any]) -> str:
    """A genuine sealed document (no receipt) as JSON text, with fixed salts."""
    return sealed_json_bytes(seal_record(record, salt_source=zero_salts)).decode()


def load(text: str | bytes, *, max_bytes: int = 1 << 20) -> Any:
    return load_json_strict(text, where="document", max_bytes=max_bytes)


# --------------------------------------------------------------------------- duplicate keys


def test_duplicate_key_in_sealed_data_is_refused() -> None:
    """json.loads keeps the last of two keys: a verifier using it would show "Ann" for a
    document whose signer may have seen "Mallory"."""
    text = sealed_text({"name": "Ann"}).replace('"name":"Ann"', '"name":"Mallory","name":"Ann"')
    assert json.loads(text)["data"]["name"] == "Ann"  # what a lax reader would accept
    with pytest.raises(InvalidDocument, match=r"^data/name: duplicate key 'name'"):
        parse_sealed_document(text)
    with pytest.raises(DuplicateKey) as excinfo:
        load(text)
    assert excinfo.value.path == "/data/name"
    assert str(excinfo.value) == "document/data/name: duplicate key 'name'"


def test_duplicate_key_in_salts_is_refused() -> None:
    text = sealed_text({"name": "Ann"})
    salt = json.loads(text)["salts"]["/name"]
    twice = text.replace(f'"/name":"{salt}"', f'"/name":"0x{"ab" * 16}","/name":"{salt}"')
    assert twice != text
    with pytest.raises(InvalidDocument, match=r"^salts/~1name: duplicate key '/name'"):
        parse_sealed_document(twice)


def test_duplicate_top_level_key_is_refused() -> None:
    text = sealed_text({"name": "Ann"})
    twice = text.replace('"redacted":[]', '"redacted":["0x' + "00" * 32 + '"],"redacted":[]')
    with pytest.raises(InvalidDocument, match=r"^redacted: duplicate key 'redacted'"):
        parse_sealed_document(twice)


def test_duplicate_key_in_embedded_receipt_is_refused() -> None:
    text = sealed_text({"name": "Ann"})
    receipt = '{"type":"RecordReceipt","merkle":{"root":"0x1","root":"0x2"}}'
    with_receipt = text.replace('"receipt":null', f'"receipt":{receipt}')
    with pytest.raises(InvalidDocument, match=r"^receipt/merkle/root: duplicate key 'root'"):
        parse_sealed_document(with_receipt)


def test_duplicate_key_deep_inside_arrays_is_named_by_its_pointer() -> None:
    text = '{"a": [1, {"b": [{"c~/": 1, "c~/": 2}]}]}'
    with pytest.raises(DuplicateKey) as excinfo:
        load(text)
    assert excinfo.value.path == "/a/1/b/0/c~0~1"
    with pytest.raises(DuplicateKey, match=r"^/a/1/b/0/c~0~1: duplicate key"):
        parse_record_json(text)


def _objects(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Paths of the non-empty objects in a value, the value itself first."""
    found = [path] if isinstance(value, dict) and value else []
    if isinstance(value, dict | list):
        children = value.items() if isinstance(value, dict) else enumerate(value)
        for token, item in children:
            found.extend(_objects(item, (*path, token)))
    return found


def _dumps_doubling(value: Any, target: tuple[Any, ...], path: tuple[Any, ...] = ()) -> str:
    """JSON text of value in which the object at ``target`` names its first key twice."""
    if isinstance(value, dict):
        members = [
            json.dumps(k) + ":" + _dumps_doubling(v, target, (*path, k)) for k, v in value.items()
        ]
        if path == target:
            members.insert(0, members[0])
        return "{" + ",".join(members) + "}"
    if isinstance(value, list):
        items = [_dumps_doubling(v, target, (*path, i)) for i, v in enumerate(value)]
        return "[" + ",".join(items) + "]"
    return json.dumps(value)


@FAST
@given(records, st.data())
def test_a_duplicate_key_anywhere_is_refused_with_its_pointer(
    record: dict[str, Any], data: st.DataObject
) -> None:
    target = data.draw(st.sampled_from(_objects(record)))
    node: Any = record
    for token in target:
        node = node[token]
    text = _dumps_doubling(record, target)
    with pytest.raises(DuplicateKey) as excinfo:
        load(text)
    assert excinfo.value.path == to_pointer((*target, next(iter(node))))


# --------------------------------------------------------------------------- other text rules


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_refused(literal: str) -> None:
    with pytest.raises(NonFiniteNumber, match=rf"^document/a/0: {literal} is not a JSON number"):
        load(f'{{"a": [{literal}]}}')


@pytest.mark.parametrize(
    ("text", "pointer"),
    [('{"a": "x\\ud800"}', "/a"), ('{"k\\udc00": 1}', "/k\udc00"), ('{"a": ["\\udbff"]}', "/a/0")],
)
def test_lone_surrogate_is_refused(text: str, pointer: str) -> None:
    with pytest.raises(InvalidString, match="lone surrogate") as excinfo:
        load(text)
    assert excinfo.value.path == pointer
    assert load('{"a": "\\ud83d\\ude00"}') == {"a": "😀"}  # a pair is one character


@pytest.mark.parametrize(
    "raw",
    [
        b'{"a": "\xff"}',  # never valid in UTF-8
        b'{"a": "\xc0\xaf"}',  # overlong "/"
        b'{"a": "\xed\xa0\x80"}',  # a surrogate encoded as UTF-8 (CESU-8)
        b'{"a": "\xe2\x82"}',  # truncated sequence
        '{"a": 1}'.encode("utf-16"),
    ],
)
def test_invalid_utf8_is_refused(raw: bytes) -> None:
    with pytest.raises(MalformedJSON, match=r"^document: not UTF-8 text"):
        load(raw)


def test_oversized_text_is_refused_before_parsing() -> None:
    with pytest.raises(RecordTooLarge, match=r"^document: 20 bytes is over the 19-byte limit"):
        load_json_strict(b'{"a": "0123456789"}'.ljust(20), where="document", max_bytes=19)


def test_strict_errors_are_invalid_input_with_the_where_prefix() -> None:
    with pytest.raises(InvalidInput, match=r"^body: invalid JSON at line 1 column 2"):
        load_json_strict("{", where="body", max_bytes=100)
    with pytest.raises(RecordError, match=r"^\(top level\): invalid JSON"):
        load_json_strict("{", where="", max_bytes=100)


# --------------------------------------------------------------------------- nesting


def nested(depth: int, *, inner: str = "1") -> str:
    """``depth`` levels of alternating objects and arrays around ``inner``."""
    text = inner
    for level in range(depth):
        text = f'{{"k": {text}}}' if level % 2 else f"[{text}]"
    return text


def test_deep_nesting_is_refused_without_recursion(monkeypatch: pytest.MonkeyPatch) -> None:
    """The depth is decided on the raw text: json.loads never sees a too-deep document."""

    loads = json.loads

    def no_parse(text: str, **kwargs: Any) -> Any:
        if len(text) > 1000:  # the document itself (a key's string literal is fine)
            raise AssertionError("json.loads called on a too-deep text")
        return loads(text, **kwargs)

    monkeypatch.setattr(json, "loads", no_parse)  # the module record.py calls
    for text in ("[" * 1_000_000 + "]" * 1_000_000, "[" * 1_000_000, '{"a":' * 500_000):
        with pytest.raises(RecordTooDeep, match=f"nested deeper than {MAX_DOCUMENT_DEPTH}"):
            load(text, max_bytes=4 << 20)
    with pytest.raises(InvalidDocument, match="nested deeper"):
        parse_sealed_document(sealed_text({"a": 1}).replace('"a":1', '"a":' + "[" * 100_000))


def test_deep_nesting_cannot_crash_the_process() -> None:
    """With a high recursion limit, json.loads on deep nesting overflows the C stack and
    kills the process (no exception to catch); the pre-scan refuses it first."""
    script = textwrap.dedent(
        """
        import sys
        sys.setrecursionlimit(10_000_000)
        from registry.record import RecordTooDeep, load_json_strict, parse_sealed_document
        from registry.errors import InvalidDocument
        text = '{"data":' + '[' * 2_000_000 + ']' * 2_000_000 + '}'
        try:
            load_json_strict(text, where="d", max_bytes=8 << 20)
        except RecordTooDeep:
            pass
        try:
            parse_sealed_document(text, max_bytes=8 << 20)
        except InvalidDocument:
            print("refused")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "refused"


def test_nesting_limit_is_exact_and_named_by_pointer() -> None:
    assert load(nested(MAX_DOCUMENT_DEPTH))
    with pytest.raises(RecordTooDeep) as excinfo:
        load(nested(MAX_DOCUMENT_DEPTH + 1))
    # The pointer of the first container one level too deep.
    tokens = ["k" if level % 2 else 0 for level in reversed(range(MAX_DOCUMENT_DEPTH + 1))]
    assert excinfo.value.path == to_pointer(tokens[:MAX_DOCUMENT_DEPTH])
    assert parse_record_json('{"a": ' + nested(MAX_DEPTH - 1) + "}")
    with pytest.raises(RecordTooDeep):
        parse_record_json('{"a": ' + nested(MAX_DEPTH) + "}")


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    text = json.dumps({"a": "[" * 100 + '\\"{' * 100, "b": ["]]]", '"[[[['], "[[[": "{{{"})
    assert load(text) == json.loads(text)


json_trees = st.recursive(
    st.one_of(st.integers(-5, 5), st.text(alphabet='[]{}"\\ab', max_size=6), st.none()),
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(st.text(alphabet='[]{}"\\k', max_size=3), children, max_size=3),
    ),
    max_leaves=40,
)


def tree_depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max(map(tree_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(tree_depth, value), default=0)
    return 0


@FAST
@given(json_trees, st.integers(1, 12), st.booleans())
def test_depth_prescan_agrees_with_the_parsed_depth(
    value: Any, max_depth: int, ascii_only: bool
) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only)
    assert record_module._nests_deeper(text, max_depth) == (tree_depth(value) > max_depth)


# --------------------------------------------------------------------------- numbers


def digest_of(text: str) -> bytes:
    return seal_record(parse_record_json(text), salt_source=zero_salts).digest


def issued(record: dict[str, Any]) -> SealedDocument:
    """Sealed as the issuing service seals: deterministic salts from the agency's secret."""
    return seal_record(record, salt_source=record_salt_source(SECRET, record))


def test_integer_and_float_spellings_hash_the_same() -> None:
    spellings = ["1", "1.0", "1e0", "1E0", "1.000e+0", "10e-1", "0.1e1", "100e-2"]
    texts = [f'{{"x": {s}}}' for s in spellings]
    assert len({digest_of(t) for t in texts}) == 1
    # ...also with the issuer's deterministic salts, so re-submitting 1.0 for 1 is one record,
    assert len({bytes(issued(parse_record_json(t)).digest) for t in texts}) == 1
    # ...and from Python values, whose sealed text writes the number one way.
    assert issued({"x": 1.0}) == issued({"x": 1})
    assert sealed_json_bytes(issued({"x": 1.0})) == sealed_json_bytes(issued({"x": 1}))
    assert b'"data":{"x":1}' in sealed_json_bytes(issued({"x": 1.0}))
    assert parse_record_json('{"x": 1e0}') == {"x": 1}
    assert type(parse_record_json('{"x": 1e0}')["x"]) is int


def test_negative_zero_is_zero() -> None:
    spellings = ["0", "-0", "0.0", "-0.0", "0e0", "-0E-3", "0.000e+500"]
    texts = [f'{{"x": [{s}]}}' for s in spellings]
    assert len({digest_of(t) for t in texts}) == 1
    assert all(parse_record_json(t) == {"x": [0]} for t in texts)
    assert all(json.dumps(parse_record_json(t)) == '{"x": [0]}' for t in texts)
    assert issued({"x": [-0.0]}) == issued({"x": [0]})
    assert rfc8785.dumps(-0.0) == b"0"


@pytest.mark.parametrize(
    "literal", ["1e-400", "-1e-400", "0." + "0" * 400 + "1", "2e-324", "1E-99999999999"]
)
def test_underflowing_literal_is_refused(literal: str) -> None:
    """A non-zero amount must not silently become 0."""
    with pytest.raises(NumberUnderflow, match=r"^document/x: number .* rounds to zero"):
        load(f'{{"x": {literal}}}')


def test_the_smallest_double_is_not_an_underflow() -> None:
    assert load('{"x": 5e-324, "y": 3e-324}') == {"x": 5e-324, "y": 5e-324}
    assert digest_of('{"x": 5e-324}') == digest_of('{"x": 4.9406564584124654e-324}')


@pytest.mark.parametrize("literal", ["1e400", "-1e400", "1.8e308", "1" + "0" * 400 + ".0"])
def test_overflowing_literal_is_refused(literal: str) -> None:
    with pytest.raises(NonFiniteNumber, match=r"^document/x: number .* overflows a double"):
        load(f'{{"x": {literal}}}')


@pytest.mark.parametrize(
    "literal",
    [
        "9007199254740992",
        "-9007199254740992",
        "9007199254740992.0",
        "9.007199254740992e15",
        "9007199254740991.5",  # rounds up to 2**53
        "1e21",
        "1E21",
        "-1e21",
        "100000000000000000000",
        "1e20",
        "2.5e300",
        "1" * 5000,
    ],
)
def test_numbers_beyond_2_53_are_refused_however_written(literal: str) -> None:
    """A double beyond 2**53 - 1 stands for many integers; readers that keep integer
    literals exact (Python, Go, Rust, Java) and JavaScript's JSON.stringify, which writes
    1e20 as 100000000000000000000, would not agree on it."""
    with pytest.raises(UnsafeInteger, match=r"^document/x: .* is beyond \+-\(2\*\*53 - 1\)"):
        load(f'{{"x": {literal}}}')


@pytest.mark.parametrize("value", [2**53, -(2**60), 1e21, 2.0**53, -1e300])
def test_numbers_beyond_2_53_are_refused_from_python_values(value: float) -> None:
    with pytest.raises(UnsafeInteger, match=r"^/x: "):
        seal_record({"x": value})
    with pytest.raises(UnsafeInteger):
        record_salt_source(SECRET, {"x": value})


def test_largest_safe_number_is_accepted_in_every_spelling() -> None:
    spellings = ["9007199254740991", "9007199254740991.0", "9.007199254740991e15"]
    assert {json.dumps(load(f'{{"x": {s}}}')) for s in spellings} == {'{"x": 9007199254740991}'}
    assert load('{"x": -9007199254740991.4}') == {"x": -MAX_SAFE_INTEGER}


def test_exponent_integers_canonicalise_as_plain_numbers() -> None:
    """1E2 is the double 100: stored as the int 100, written "100" by JCS."""
    assert load('{"x": 1E2, "y": 1.5e3, "z": 1e15, "w": 1e-7}') == {
        "x": 100,
        "y": 1500,
        "z": 10**15,
        "w": 1e-7,
    }
    assert digest_of('{"x": 1E2}') == digest_of('{"x": 100}')
    assert rfc8785.dumps([100, 1500, 10**15, 1e-7, 0.1]) == b"[100,1500,1000000000000000,1e-7,0.1]"


safe_doubles = st.floats(min_value=-MAX_SAFE_INTEGER, max_value=MAX_SAFE_INTEGER)


@FAST
@given(safe_doubles)
def test_every_spelling_of_a_double_gives_one_digest(value: float) -> None:
    spellings = {repr(value), f"{value:.17e}", f"{value:.25g}", json.dumps(value)}
    if value.is_integer():
        spellings.add(str(int(value)))
    texts = [f'{{"v": [{s}]}}' for s in spellings]
    parsed = [parse_record_json(t) for t in texts]
    assert all(p == parsed[0] and repr(p) == repr(parsed[0]) for p in parsed)
    assert len({bytes(issued(p).digest) for p in parsed}) == 1
    assert len({digest_of(t) for t in texts}) == 1
    assert issued({"v": [value]}).digest == issued(parsed[0]).digest


def test_a_sealed_document_is_read_by_the_same_number_rule() -> None:
    """Verifying follows the issuing rule: 1.0 and 1 in a sealed document are one value,
    and what issuing refuses, a sealed document may not carry either."""
    genuine = issued({"x": 1, "y": 0})
    text = sealed_json_bytes(genuine).decode()
    respelt = text.replace('"x":1,', '"x":1.0e0,').replace('"y":0}', '"y":-0.0}')
    assert respelt != text
    assert verify_document(parse_sealed_document(respelt)) == genuine.digest
    for bad, error in (("1e21", "beyond"), ("1e-400", "rounds to zero"), ("NaN", "NaN")):
        with pytest.raises(InvalidDocument, match=f"^data/x: .*{error}"):
            parse_sealed_document(text.replace('"x":1,', f'"x":{bad},'))


# --------------------------------------------------------------------------- deterministic salts


def test_resubmitting_with_keys_in_another_order_is_one_record() -> None:
    one = {"name": "Ann", "born": {"y": 1990, "m": 4.0}, "langs": ["et", "fi"]}
    two = {"langs": ["et", "fi"], "born": {"m": 4, "y": 1990.0}, "name": "Ann"}
    assert record_seed(SECRET, one) == record_seed(SECRET, two)
    assert issued(one).digest == issued(two).digest
    assert issued(one).salts == issued(two).salts  # same salt per field, whatever the order


def test_deterministic_salts_differ_per_record_field_and_secret() -> None:
    base = issued({"a": 1, "b": 1})
    assert len(set(base.salts.values())) == 2
    assert issued({"a": 1, "b": 2}).salts["/a"] != base.salts["/a"]
    record = {"a": 1, "b": 1}
    other = seal_record(record, salt_source=record_salt_source(b"\x08" * 32, record))
    assert other.salts["/a"] != base.salts["/a"]
    # An object key "0" and an array index 0 share a pointer but are different records.
    assert record_seed(SECRET, {"a": {"0": 1}}) != record_seed(SECRET, {"a": [1]})


@FAST
@given(records, st.randoms(use_true_random=False))
def test_deterministic_digest_ignores_key_order(record: dict[str, Any], rnd: Any) -> None:
    def shuffled(value: Any) -> Any:
        if isinstance(value, dict):
            items = list(value.items())
            rnd.shuffle(items)
            return {k: shuffled(v) for k, v in items}
        if isinstance(value, list):
            return [shuffled(v) for v in value]
        return value

    assert issued(shuffled(record)).digest == issued(record).digest


# --------------------------------------------------------------------------- envelope


@pytest.mark.parametrize("key", ["extra", "Digest", "receipt2", ""])
def test_extra_top_level_key_is_refused(key: str) -> None:
    text = sealed_text({"name": "Ann"})
    with pytest.raises(InvalidDocument, match=f"^{key}: unknown field"):
        parse_sealed_document(text[:-1] + f',"{key}":null}}')


def test_stated_digest_that_is_not_the_recomputed_one_is_tampered() -> None:
    """``digest`` is not a free comment: verify_document holds it to the recomputation."""
    doc = seal_record({"name": "Ann"}, salt_source=zero_salts)
    obj = to_json(doc)
    obj["digest"] = "0x" + "11" * 32
    forged = parse_sealed_document(json.dumps(obj))
    with pytest.raises(TamperedDocument, match="differs from the document's"):
        verify_document(forged)


def test_key_names_may_still_look_like_anything() -> None:
    """Strictness is about ambiguity, not about what keys say."""
    odd = {"": 1, "/": 2, "~": 3, "digest": 4, "__proto__": 5}
    assert load(json.dumps(odd)) == odd
    assert issued(odd).digest == issued(dict(reversed(list(odd.items())))).digest


@given(keys)
def test_a_key_and_its_escaped_spelling_are_one_key(key: str) -> None:
    """JSON escapes (\\u0061 for a) do not make a second key: the two collide."""
    units = key.encode("utf-16-be")
    escaped = "".join(f"\\u{units[i]:02x}{units[i + 1]:02x}" for i in range(0, len(units), 2))
    text = f'{{{json.dumps(key, ensure_ascii=False)}: 1, "{escaped}": 2}}'
    with pytest.raises(DuplicateKey):
        load(text)
