"""Strict JSON reading: the one set of rules by which records, sealed documents and receipts
are read (docs/receipt.md section 2.2). No repeated key, no NaN or infinity, one number rule
(the nearest IEEE 754 double, integral values as ints, at most 2**53 - 1 in magnitude),
bounded depth decided on the raw text before any parse, and every refusal a RecordError naming
its JSON pointer. Pure: the receipt and record modules both read through it.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any, TypeAlias

from registry.errors import InvalidRecord, RedactionError

MAX_DEPTH = 32
"""Deepest nesting of objects and arrays in a record; the record object itself is level 1."""

MAX_DOCUMENT_DEPTH = MAX_DEPTH + 1
"""Deepest nesting in a sealed document: its ``data`` is one level below the top."""

MAX_SAFE_INTEGER = 2**53 - 1
"""Largest magnitude a number may have: every integer up to it is exactly a double."""

JSONScalar: TypeAlias = bool | int | float | str | None
JSONValue: TypeAlias = JSONScalar | list["JSONValue"] | dict[str, "JSONValue"]
JSONObject: TypeAlias = dict[str, JSONValue]
Token: TypeAlias = str | int
Path: TypeAlias = tuple[Token, ...]


# --------------------------------------------------------------------------- errors


class RecordError(InvalidRecord):
    """A record is not acceptable JSON; ``path`` is the JSON pointer of the offending part.

    ``record_index`` is the record's position when seal_records raised it, else None.
    """

    record_index: int | None = None

    def __init__(self, path: str, problem: str, *, where: str = "") -> None:
        self.path = path
        self.where = where
        # A key may hold a lone surrogate; escape it so the message can always be printed.
        self.printable_path = path.encode("utf-8", "backslashreplace").decode("utf-8")
        super().__init__(problem, field=where + self.printable_path or None)
        if self.field is None:
            self.args = (f"(top level): {problem}",)


class RecordTooLarge(RecordError):
    """The record's JSON text is over the size limit."""


class MalformedJSON(RecordError):
    """The text is not valid UTF-8 JSON."""


class DuplicateKey(RecordError):
    """An object names the same key twice; which value counts would be ambiguous."""


class NonFiniteNumber(RecordError):
    """NaN, Infinity, or a number too large for a double: RFC 8785 cannot encode it."""


class NumberUnderflow(RecordError):
    """A number that is not zero but rounds to zero as a double (``1e-400``)."""


class UnsafeInteger(RecordError):
    """A number beyond +-(2**53 - 1), however written: readers would disagree on its value."""


class RecordTooDeep(RecordError):
    """Objects and arrays are nested deeper than MAX_DEPTH."""


class NotAnObject(RecordError):
    """The top level of a record is not a JSON object."""


class NonStringKey(RecordError):
    """A Python dict has a key that is not a string: JSON keys are strings."""


class InvalidString(RecordError):
    """A string or key holds a lone surrogate, which is not Unicode text."""


class UnsupportedValue(RecordError):
    """A Python value that has no JSON form (bytes, set, tuple, datetime...)."""


class EmptyRecord(RecordError):
    """The record has no fields, so there is nothing to seal."""


# --------------------------------------------------------------------------- pointers


def to_pointer(path: Iterable[Token]) -> str:
    """RFC 6901 JSON pointer for a path of reference tokens."""
    return "".join("/" + str(t).replace("~", "~0").replace("/", "~1") for t in path)


_BAD_ESCAPE = re.compile(r"~(?![01])")


def parse_pointer(pointer: str) -> list[str]:
    """Reference tokens of an RFC 6901 JSON pointer; RedactionError if it is malformed."""
    if not isinstance(pointer, str):
        raise RedactionError(f"{pointer!r}: a path is a JSON pointer string such as '/address'")
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise RedactionError(f"{pointer!r}: a JSON pointer starts with '/' (e.g. '/address')")
    parts = pointer[1:].split("/")
    for part in parts:
        if _BAD_ESCAPE.search(part):
            raise RedactionError(f"{pointer!r}: '~' must be written '~0' and '/' as '~1'")
    return [p.replace("~1", "/").replace("~0", "~") for p in parts]


# --------------------------------------------------------------------------- strict JSON


class _Constant:
    """Placeholder the parser leaves for NaN/Infinity, reported later with its path."""

    def __init__(self, name: str) -> None:
        self.name = name


class _BigNumber:
    """Placeholder for an integer literal too long to be exact."""

    def __init__(self, text: str) -> None:
        self.text = text


class _BadNumber:
    """Placeholder for a number literal that overflows or underflows a double."""

    def __init__(self, text: str, error: type[RecordError], problem: str) -> None:
        self.text = text
        self.error = error
        self.problem = problem


class _DuplicateKeys:
    """Placeholder for an object that names a key twice."""

    def __init__(self, key: str) -> None:
        self.key = key


def _object_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any] | _DuplicateKeys:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            return _DuplicateKeys(key)
        obj[key] = value
    return obj


def _parse_int(text: str) -> int | _BigNumber:
    # 17 characters hold every integer up to 2**53 with its sign; longer ones are
    # refused later with their path (and never reach int(), which caps at 4300 digits).
    return int(text) if len(text) <= 17 else _BigNumber(text)


_NONZERO_MANTISSA = re.compile(r"[1-9]")


def _parse_float(text: str) -> float | _BadNumber:
    """A literal with a fraction or an exponent, as the nearest double, or a placeholder
    when rounding to a double would change it into another kind of value."""
    value = float(text)  # correctly rounded, linear in the length of the literal
    if math.isinf(value):
        return _BadNumber(text, NonFiniteNumber, "overflows a double")
    if value == 0.0 and _NONZERO_MANTISSA.search(text.partition("e")[0].partition("E")[0]):
        return _BadNumber(text, NumberUnderflow, "is not zero but rounds to zero as a double")
    return value


_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\],:]')
# A JSON string literal (unrolled, so the regex engine does not backtrack per character).
# It matches every string JSON accepts, and the scan below reads the text exactly as
# json.loads does up to the first error, where json.loads stops.
_STRING_LITERAL = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_AS_PARENS = str.maketrans("[{]}", "(())")


def _nests_deeper(text: str, max_depth: int) -> bool:
    """Whether objects and arrays in ``text`` nest deeper than ``max_depth``.

    Decided on the raw text before json.loads runs: the C parser recurses once per level,
    and deep enough nesting would overflow the C stack (a crash, not an exception) or
    stop at whatever recursion limit is set. Strings are cut out, brackets kept (all
    four as one kind), then innermost pairs removed one level per pass, each pass a C
    loop: a text still holding an opener after ``max_depth`` passes nests deeper.
    Unbalanced brackets count as nesting, so a malformed text errs on the side of "too
    deep", never the other way.
    """
    if text.count("[") + text.count("{") <= max_depth:
        return False
    brackets = _NOT_BRACKET.sub("", _STRING_LITERAL.sub("", text)).translate(_AS_PARENS)
    for _ in range(max_depth):
        if "(" not in brackets:
            return False
        inner = brackets.replace("()", "")
        if len(inner) == len(brackets):
            return True  # no pair left to remove: an opener is never closed
        brackets = inner
    return "(" in brackets


def nests_deeper(text: bytes | str, max_depth: int) -> bool:
    """Whether JSON text nests objects and arrays deeper than ``max_depth``, decided without
    parsing it (so without recursion): for code that must look at untrusted JSON before
    the strict reader does. Text that is not UTF-8 counts as not nested (the reader refuses
    it anyway)."""
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            return False
    return _nests_deeper(text, max_depth)


_KEEP_STRUCTURE = bytes(range(256)).translate(None, b'"[]{}')
"""Every byte but the quote and the four brackets: what nests_deeper_raw deletes."""


def nests_deeper_raw(raw: bytes, max_depth: int) -> bool:
    """nests_deeper for untrusted bytes, in time linear in their size whatever they hold (the
    regular expressions of nests_deeper cost a Python-level step per string: 100,000 keys
    take a fifth of a second). Escapes are removed first (an escaped backslash, then an
    escaped quote), every byte but quotes and brackets is deleted, the parts between quotes
    dropped; then the same pairing passes. Exact for JSON text; for malformed text it errs on
    the side of "too deep" up to the first error, which is as far as json.loads reads."""
    if raw.count(b"[") + raw.count(b"{") <= max_depth:
        return False
    bare = raw.replace(b"\\\\", b"").replace(b'\\"', b"").translate(None, _KEEP_STRUCTURE)
    brackets = b"".join(bare.split(b'"')[::2]).translate(bytes.maketrans(b"[{]}", b"(())"))
    for _ in range(max_depth):
        if b"(" not in brackets:
            return False
        inner = brackets.replace(b"()", b"")
        if len(inner) == len(brackets):
            return True  # no pair left to remove: an opener is never closed
        brackets = inner
    return b"(" in brackets


_LOCATE_LIMIT = 1 << 16
"""Tokens the error path reads to name the pointer of too-deep nesting, at most."""


def _pointer_at_depth(text: str, max_depth: int) -> str:
    """JSON pointer of the first container nested deeper than max_depth (raw text scan).

    Only for text _nests_deeper refused. It reads at most _LOCATE_LIMIT tokens, so a
    large text costs bounded time; past that the pointer is the top level.
    """
    stack: list[list[Any]] = []
    last_string = '""'
    for count, match in enumerate(_JSON_TOKEN.finditer(text)):
        if count >= _LOCATE_LIMIT:
            break
        token = match.group()
        if token.startswith('"'):
            last_string = token
        elif token in "{[":
            if len(stack) >= max_depth:
                return to_pointer(frame[1] for frame in stack)
            stack.append(["{", ""] if token == "{" else ["[", 0])
        elif token in "}]":
            if stack:
                stack.pop()
        elif token == ":" and stack and stack[-1][0] == "{":
            try:
                stack[-1][1] = json.loads(last_string)
            except ValueError:
                stack[-1][1] = last_string[1:-1]
        elif token == "," and stack and stack[-1][0] == "[":
            stack[-1][1] += 1
    return ""


def _load_json(raw: str | bytes, *, max_bytes: int, max_depth: int) -> object:
    """Parse JSON text, leaving placeholders for what _clean must refuse with a path."""
    if isinstance(raw, bytes | bytearray | memoryview):
        data = bytes(raw)
        if len(data) > max_bytes:
            raise RecordTooLarge("", f"{len(data)} bytes is over the {max_bytes}-byte limit")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedJSON("", f"not UTF-8 text (bad byte at offset {exc.start})") from exc
    elif isinstance(raw, str):
        size = len(raw) if len(raw) > max_bytes else len(raw.encode("utf-8", "surrogatepass"))
        if size > max_bytes:
            raise RecordTooLarge("", f"{size} bytes is over the {max_bytes}-byte limit")
        text = raw
    else:
        raise MalformedJSON("", f"expected JSON text (str or bytes), got {type(raw).__name__}")
    if _nests_deeper(text, max_depth):
        where = _pointer_at_depth(text, max_depth)
        raise RecordTooDeep(where, f"nested deeper than {max_depth} levels")
    try:
        return json.loads(
            text,
            object_pairs_hook=_object_pairs,
            parse_constant=_Constant,
            parse_int=_parse_int,
            parse_float=_parse_float,
        )
    except json.JSONDecodeError as exc:
        problem = f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        raise MalformedJSON("", problem) from exc
    except ValueError as exc:
        raise MalformedJSON("", f"invalid JSON: {exc}") from exc


def load_json_strict(
    text: bytes | str, *, where: str, max_bytes: int, max_depth: int = MAX_DOCUMENT_DEPTH
) -> JSONValue:
    """Parse JSON text by the registry's strict rules, for issuing and verifying alike.

    Refused, each with a RecordError subclass (an InvalidInput) whose ``path`` is the JSON
    pointer of the culprit and whose message is ``where`` + pointer + ``: problem``
    (``document/data/name: duplicate key 'name'``): more than ``max_bytes`` bytes of
    UTF-8; bytes that are not UTF-8; text that is not JSON; an object naming a key
    twice, at any depth; objects and arrays nested deeper than ``max_depth`` (the top
    level is level 1; checked before parsing, see _nests_deeper); strings or keys with
    lone surrogates; NaN and Infinity; numbers breaking the number rule (module
    docstring). The result holds plain dict, list, str, int, float, bool and None, with
    every integral number as an int (``1.0`` and ``-0.0`` come back as ``1`` and ``0``).

    Parse untrusted text with this, never with json.loads, which keeps the last of two
    equal keys: ``{"name": "Mallory", "name": "Ann"}`` would read as Ann.
    """
    try:
        return _clean(_load_json(text, max_bytes=max_bytes, max_depth=max_depth), (), 1, max_depth)
    except RecordError as exc:
        located = type(exc)(exc.path, exc.problem, where=where)
        raise located from exc


def _number(value: float, path: Path) -> int | float:
    """A finite number in its canonical Python form: an int when it is integral."""
    if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
        raise UnsafeInteger(
            to_pointer(path),
            f"number {_abbreviate(repr(value))} is beyond +-(2**53 - 1); write it as a string",
        )
    return int(value) if value.is_integer() else value


def _clean(value: object, path: Path, depth: int, max_depth: int) -> JSONValue:
    """Copy a value into plain JSON types, refusing what RFC 8785 cannot encode."""
    if value is None or isinstance(value, bool):
        return None if value is None else bool(value)
    if isinstance(value, int):
        if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            raise UnsafeInteger(
                to_pointer(path),
                f"integer {_abbreviate(str(value))} is beyond +-(2**53 - 1); write it as a string",
            )
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise NonFiniteNumber(
                to_pointer(path), f"number {value} is not finite (too large for a double or NaN)"
            )
        return _number(float(value), path)
    if isinstance(value, str):
        _check_unicode(value, path, "string")
        return str.__str__(value)
    if isinstance(value, _Constant):
        raise NonFiniteNumber(to_pointer(path), f"{value.name} is not a JSON number")
    if isinstance(value, _BigNumber):
        raise UnsafeInteger(
            to_pointer(path),
            f"integer {_abbreviate(value.text)} is beyond +-(2**53 - 1); write it as a string",
        )
    if isinstance(value, _BadNumber):
        raise value.error(to_pointer(path), f"number {_abbreviate(value.text)} {value.problem}")
    if isinstance(value, _DuplicateKeys):
        raise DuplicateKey(to_pointer((*path, value.key)), f"duplicate key {value.key!r}")
    if isinstance(value, Mapping | list):
        if depth > max_depth:
            raise RecordTooDeep(to_pointer(path), f"nested deeper than {max_depth} levels")
        if isinstance(value, list):
            return [_clean(v, (*path, i), depth + 1, max_depth) for i, v in enumerate(value)]
        out: JSONObject = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise NonStringKey(
                    to_pointer(path), f"key {key!r} ({type(key).__name__}) is not a string"
                )
            _check_unicode(key, (*path, key), "key")
            out[str.__str__(key)] = _clean(item, (*path, key), depth + 1, max_depth)
        return out
    raise UnsupportedValue(to_pointer(path), f"{type(value).__name__} has no JSON form")


def _check_unicode(text: str, path: Path, what: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidString(
            to_pointer(path), f"{what} holds a lone surrogate at character {exc.start}"
        ) from None


def _abbreviate(text: str) -> str:
    return text if len(text) <= 24 else f"{text[:10]}...{text[-6:]} ({len(text)} digits)"
