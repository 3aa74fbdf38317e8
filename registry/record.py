"""Document digests: files, structured records, sealed documents and selective disclosure.

A file's digest is the SHA-256 of its bytes, so ``sha256sum`` and a browser agree.

A structured record is a JSON object. Every leaf field gets its own random salt and
its own hash; the record digest is the SHA-256 of the sorted field hashes. That lets
the holder hide a field (its hash moves to ``redacted``) without changing the digest,
while the salt stops anyone from confirming a guess of the hidden value.

Precisely (docs/receipt.md repeats this for independent verifiers):

- A *leaf* is a scalar (string, number, true, false, null), an empty object ``{}`` or
  an empty array ``[]``. Empty containers are leaves so that removing one is seen.
- A leaf's *path* is its list of reference tokens from the record root: object keys as
  JSON strings, array indexes as JSON integers. Its JSON pointer (RFC 6901, ``~`` as
  ``~0`` and ``/`` as ``~1``) names it in ``salts`` and in redaction requests.
- ``field_hash = SHA-256(JCS([path, salt_hex, value]))`` with JCS = RFC 8785 and
  ``salt_hex`` the salt exactly as written in the document: ``0x`` + lower-case hex of
  16 random bytes. Keeping array indexes as integers in the hashed path means
  ``{"a": {"0": 1}}`` and ``{"a": [1]}`` have different digests, although both have the
  pointer ``/a/0``.
- ``record digest = SHA-256(h_1 || h_2 || ... || h_n)``, the 32-byte field hashes of
  every leaf, disclosed or redacted, sorted bytewise.

Numbers are I-JSON numbers (IEEE 754 doubles): ``1``, ``1.0`` and ``1e0`` are one value;
integers beyond +-(2**53 - 1), NaN and infinities are refused. Write identifiers,
money and other exact decimals as strings.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, Any, NamedTuple, TypeAlias

import rfc8785

from registry.errors import (
    InvalidDocument,
    InvalidInput,
    InvalidRecord,
    RedactionError,
    TamperedDocument,
)
from registry.receipt import Receipt, parse_receipt, receipt_to_json
from registry.types import Digest, to_hex

__all__ = [
    "CHUNK_SIZE",
    "MAX_DEPTH",
    "MAX_DOCUMENT_BYTES",
    "MAX_RECORD_BYTES",
    "MAX_SAFE_INTEGER",
    "SALT_BYTES",
    "SEALED_TYPE",
    "SEALED_VERSION",
    "DuplicateKey",
    "EmptyRecord",
    "FieldLeaf",
    "InvalidString",
    "JSONObject",
    "JSONValue",
    "MalformedJSON",
    "NonFiniteNumber",
    "NonStringKey",
    "NotAnObject",
    "RecordError",
    "RecordTooDeep",
    "RecordTooLarge",
    "SealedDocument",
    "UnsafeInteger",
    "UnsupportedValue",
    "attach_receipt",
    "bytes_digest",
    "disclosed_fields",
    "document_digest",
    "field_hash",
    "file_digest",
    "parse_pointer",
    "parse_record_json",
    "parse_sealed_document",
    "record_digest",
    "redact",
    "seal_record",
    "to_json",
    "to_pointer",
    "verify_document",
]

CHUNK_SIZE = 1 << 20
"""Bytes read at a time when hashing a file: memory stays constant whatever its size."""

MAX_RECORD_BYTES = 1 << 20
"""Largest structured record accepted as JSON text."""

MAX_DOCUMENT_BYTES = 4 << 20
"""Largest sealed document accepted as JSON text (a record plus ~60 bytes of salt per field)."""

MAX_DEPTH = 32
"""Deepest nesting of objects and arrays in a record; the record object itself is level 1."""

MAX_SAFE_INTEGER = 2**53 - 1
"""Largest integer magnitude RFC 8785 (and JavaScript) represents exactly."""

SALT_BYTES = 16
"""Random bytes per field salt; 128 bits make guessing a redacted value by hashing useless."""

_MAX_SALT_BYTES = 64
SEALED_TYPE = "SealedRecord"
SEALED_VERSION = 1

JSONScalar: TypeAlias = bool | int | float | str | None
JSONValue: TypeAlias = JSONScalar | list["JSONValue"] | dict[str, "JSONValue"]
JSONObject: TypeAlias = dict[str, JSONValue]
Token: TypeAlias = str | int
Path: TypeAlias = tuple[Token, ...]

_HEX32 = re.compile(r"0x[0-9a-f]{64}")
_SALT_HEX = re.compile(rf"0x(?:[0-9a-f]{{2}}){{{SALT_BYTES},{_MAX_SALT_BYTES}}}")


# --------------------------------------------------------------------------- files


def file_digest(source: str | os.PathLike[str] | IO[bytes]) -> Digest:
    """SHA-256 of a file (by path) or of a binary stream, read 1 MiB at a time."""
    hasher = hashlib.sha256()
    if isinstance(source, str | os.PathLike):
        try:
            with open(source, "rb") as stream:
                _feed(hasher.update, stream)
        except OSError as exc:
            raise InvalidInput(f"{os.fspath(source)}: cannot read file: {exc.strerror}") from exc
    else:
        _feed(hasher.update, source)
    return Digest(hasher.digest())


def _feed(update: Callable[[bytes], None], stream: IO[bytes]) -> None:
    while chunk := stream.read(CHUNK_SIZE):
        if not isinstance(chunk, bytes | bytearray | memoryview):
            raise InvalidInput("file_digest needs a binary stream (open the file with 'rb')")
        update(chunk)


def bytes_digest(data: bytes) -> Digest:
    """SHA-256 of bytes already in memory: the same digest file_digest gives for them."""
    return Digest(hashlib.sha256(data).digest())


# --------------------------------------------------------------------------- errors


class RecordError(InvalidRecord):
    """A record is not acceptable JSON; ``path`` is the JSON pointer of the offending part."""

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        self.problem = problem
        # A key may hold a lone surrogate; escape it so the message can always be printed.
        self.printable_path = path.encode("utf-8", "backslashreplace").decode("utf-8")
        super().__init__(f"{self.printable_path or '(top level)'}: {problem}")


class RecordTooLarge(RecordError):
    """The record's JSON text is over the size limit."""


class MalformedJSON(RecordError):
    """The text is not valid UTF-8 JSON."""


class DuplicateKey(RecordError):
    """An object names the same key twice; which value counts would be ambiguous."""


class NonFiniteNumber(RecordError):
    """NaN, Infinity, or a number too large for a double: RFC 8785 cannot encode it."""


class UnsafeInteger(RecordError):
    """An integer beyond +-(2**53 - 1): JSON readers would silently round it."""


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


_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\],:]')


def _pointer_at_depth(text: str, max_depth: int) -> str:
    """JSON pointer of the first container nested deeper than max_depth (raw text scan)."""
    stack: list[list[Any]] = []
    last_string = '""'
    for match in _JSON_TOKEN.finditer(text):
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
    try:
        return json.loads(
            text,
            object_pairs_hook=_object_pairs,
            parse_constant=_Constant,
            parse_int=_parse_int,
        )
    except RecursionError:
        where = _pointer_at_depth(text, max_depth)
        raise RecordTooDeep(where, f"nested deeper than {max_depth} levels") from None
    except json.JSONDecodeError as exc:
        problem = f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        raise MalformedJSON("", problem) from exc
    except ValueError as exc:
        raise MalformedJSON("", f"invalid JSON: {exc}") from exc


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
        return float(value)
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


def _clean_record(value: object, *, max_depth: int = MAX_DEPTH) -> JSONObject:
    if not isinstance(value, Mapping | _DuplicateKeys):
        kind = "array" if isinstance(value, list) else type(value).__name__
        raise NotAnObject("", f"a record is a JSON object, got {kind}")
    cleaned = _clean(value, (), 1, max_depth)
    assert isinstance(cleaned, dict)
    return cleaned


def parse_record_json(text: str | bytes, *, max_bytes: int = MAX_RECORD_BYTES) -> JSONObject:
    """Parse a record's JSON text strictly: one object, unique keys, finite safe numbers.

    Raises a RecordError subclass naming the problem and its JSON pointer.
    """
    record = _clean_record(_load_json(text, max_bytes=max_bytes, max_depth=MAX_DEPTH))
    if not record:
        raise EmptyRecord("", "the record has no fields")
    return record


# --------------------------------------------------------------------------- hashing


class FieldLeaf(NamedTuple):
    """One disclosed leaf field: where it is and its value."""

    pointer: str
    path: Path
    value: JSONValue


def field_hash(path: Iterable[Token], salt_hex: str, value: JSONValue) -> bytes:
    """SHA-256 of the RFC 8785 form of ``[path, salt_hex, value]``."""
    try:
        canonical = rfc8785.dumps([list(path), salt_hex, value])
    except rfc8785.CanonicalizationError as exc:  # _clean keeps this from happening
        raise InvalidRecord(f"{to_pointer(path)}: cannot canonicalize: {exc}") from exc
    return hashlib.sha256(canonical).digest()


def record_digest(field_hashes: Iterable[bytes]) -> Digest:
    """SHA-256 over the bytewise-sorted 32-byte field hashes."""
    hashes = sorted(field_hashes)
    if any(len(h) != 32 for h in hashes):
        raise InvalidInput("every field hash is 32 bytes")
    return Digest(hashlib.sha256(b"".join(hashes)).digest())


def _iter_leaves(
    value: JSONValue, path: Path, salts: Mapping[str, str] | None
) -> Iterator[FieldLeaf]:
    """Leaves of a tree; with ``salts``, unsalted nulls in arrays are redaction holes."""
    if isinstance(value, dict) and value:
        for key, item in value.items():
            yield from _iter_leaves(item, (*path, key), salts)
    elif isinstance(value, list) and value:
        for index, item in enumerate(value):
            child = (*path, index)
            if salts is not None and item is None and to_pointer(child) not in salts:
                continue  # a hole left by redaction keeps later indexes stable
            yield from _iter_leaves(item, child, salts)
    else:
        yield FieldLeaf(to_pointer(path), path, value)


# --------------------------------------------------------------------------- sealed document


@dataclass(frozen=True)
class SealedDocument:
    """A sealed structured record as its holder keeps it.

    ``data`` holds the disclosed fields; ``salts`` maps each disclosed leaf's JSON
    pointer to its salt; ``redacted`` holds the field hashes of hidden leaves, sorted;
    ``digest`` is the record digest stated at sealing time; ``receipt`` is added once
    the batch is anchored. Construction checks the structure (every leaf salted, no
    stray salt, hex forms); it does not check the digest: see document_digest.
    """

    data: JSONObject
    salts: Mapping[str, str]
    redacted: tuple[bytes, ...]
    digest: Digest
    receipt: Receipt | None = None
    _leaves: tuple[FieldLeaf, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            data = _clean_record(self.data)
        except RecordError as exc:
            raise InvalidDocument(f"data{exc.printable_path}: {exc.problem}") from exc
        salts = _check_salts(self.salts)
        leaves = _record_leaves(data, salts)
        _check_holes(data, (), salts)
        for leaf in leaves:
            if leaf.pointer not in salts:
                raise InvalidDocument(f"data{leaf.pointer}: field has no salt in salts")
        stray = salts.keys() - {leaf.pointer for leaf in leaves}
        if stray:
            raise InvalidDocument(f"salts[{min(stray)!r}]: no such field in data")
        redacted = tuple(self.redacted)
        for i, item in enumerate(redacted):
            if not isinstance(item, bytes) or len(item) != 32:
                raise InvalidDocument(f"redacted[{i}]: expected a 32-byte field hash")
            if i and redacted[i - 1] >= item:
                raise InvalidDocument(f"redacted[{i}]: field hashes must be sorted and unique")
        if not leaves and not redacted:
            raise InvalidDocument("data: the record has no fields, disclosed or redacted")
        if not isinstance(self.digest, bytes) or len(self.digest) != 32:
            raise InvalidDocument("digest: expected 32 bytes")
        if self.receipt is not None and not isinstance(self.receipt, Receipt):
            raise InvalidDocument("receipt: expected a Receipt (use attach_receipt)")
        if self.receipt is not None and self.receipt.digest_kind != "record":
            raise InvalidDocument("receipt.digestKind: a sealed record's receipt must say 'record'")
        object.__setattr__(self, "data", data)
        object.__setattr__(self, "salts", salts)
        object.__setattr__(self, "redacted", redacted)
        object.__setattr__(self, "digest", Digest(bytes(self.digest)))
        object.__setattr__(self, "_leaves", leaves)


def _check_salts(salts: object) -> dict[str, str]:
    if not isinstance(salts, Mapping):
        raise InvalidDocument("salts: expected a JSON object of pointer -> salt")
    checked: dict[str, str] = {}
    for pointer, salt in salts.items():
        if not isinstance(pointer, str):
            raise InvalidDocument(f"salts[{pointer!r}]: keys are JSON pointer strings")
        if not isinstance(salt, str) or not _SALT_HEX.fullmatch(salt):
            raise InvalidDocument(
                f"salts[{pointer!r}]: expected 0x + lower-case hex of "
                f"{SALT_BYTES} to {_MAX_SALT_BYTES} bytes"
            )
        checked[pointer] = salt
    return checked


def _record_leaves(data: JSONObject, salts: Mapping[str, str] | None) -> tuple[FieldLeaf, ...]:
    """Leaf fields of a record; the record object itself is never a leaf, even when empty."""
    return tuple(_iter_leaves(data, (), salts)) if data else ()


def _check_holes(value: JSONValue, path: Path, salts: Mapping[str, str]) -> None:
    """Refuse trailing holes: redaction drops them, so one there was added by hand."""
    if isinstance(value, dict):
        for key, item in value.items():
            _check_holes(item, (*path, key), salts)
    elif isinstance(value, list):
        holes = [
            i
            for i, item in enumerate(value)
            if item is None and to_pointer((*path, i)) not in salts
        ]
        if holes and holes[-1] == len(value) - 1:
            raise InvalidDocument(
                f"data{to_pointer(path)}: ends with a redaction hole; trailing holes are dropped"
            )
        for index, item in enumerate(value):
            _check_holes(item, (*path, index), salts)


def seal_record(
    record: Mapping[str, Any], *, salt_source: Callable[[int], bytes] = secrets.token_bytes
) -> SealedDocument:
    """Salt every leaf of a record and compute its digest; the result has no receipt yet."""
    data = _clean_record(record)
    if not data:
        raise EmptyRecord("", "the record has no fields")
    salts: dict[str, str] = {}
    hashes: list[bytes] = []
    for leaf in _record_leaves(data, None):
        salt = salt_source(SALT_BYTES)
        if not isinstance(salt, bytes) or len(salt) != SALT_BYTES:
            raise InvalidInput(f"salt_source must return {SALT_BYTES} bytes")
        salts[leaf.pointer] = to_hex(salt)
        hashes.append(field_hash(leaf.path, salts[leaf.pointer], leaf.value))
    return SealedDocument(data=data, salts=salts, redacted=(), digest=record_digest(hashes))


def _disclosed_hashes(doc: SealedDocument) -> list[bytes]:
    return [field_hash(leaf.path, doc.salts[leaf.pointer], leaf.value) for leaf in doc._leaves]


def document_digest(doc: SealedDocument) -> Digest:
    """Recompute the record digest from data, salts and redacted (ignores ``doc.digest``)."""
    return record_digest([*_disclosed_hashes(doc), *doc.redacted])


def verify_document(doc: SealedDocument) -> Digest:
    """Recompute the digest; TamperedDocument if it differs from the stated or receipt digest."""
    digest = document_digest(doc)
    if digest != doc.digest:
        raise TamperedDocument(
            f"recomputed digest {to_hex(digest)} differs from the document's {to_hex(doc.digest)}"
        )
    if doc.receipt is not None and doc.receipt.digest != digest:
        raise TamperedDocument(
            f"recomputed digest {to_hex(digest)} differs from the receipt's "
            f"{to_hex(doc.receipt.digest)}"
        )
    return digest


def disclosed_fields(doc: SealedDocument) -> list[tuple[str, JSONValue]]:
    """The disclosed leaf fields as (JSON pointer, value), in document order."""
    return [(leaf.pointer, leaf.value) for leaf in doc._leaves]


def attach_receipt(doc: SealedDocument, receipt: Receipt | Mapping[str, Any]) -> SealedDocument:
    """The document with its receipt; refuses a receipt for another digest or a file."""
    parsed = receipt if isinstance(receipt, Receipt) else parse_receipt(receipt)
    if parsed.digest != doc.digest:
        raise InvalidDocument(
            f"receipt.digest: {to_hex(parsed.digest)} is not this document's {to_hex(doc.digest)}"
        )
    return SealedDocument(
        data=doc.data, salts=doc.salts, redacted=doc.redacted, digest=doc.digest, receipt=parsed
    )


def to_json(doc: SealedDocument) -> dict[str, Any]:
    """The sealed document as a JSON object (salts in document order, hex lower-case)."""
    return {
        "type": SEALED_TYPE,
        "version": SEALED_VERSION,
        "data": _clean_record(doc.data),
        "salts": dict(doc.salts),
        "redacted": [to_hex(h) for h in doc.redacted],
        "digest": to_hex(doc.digest),
        "receipt": None if doc.receipt is None else receipt_to_json(doc.receipt),
    }


_DOCUMENT_KEYS = ("type", "version", "data", "salts", "redacted", "digest", "receipt")


def parse_sealed_document(
    obj: Mapping[str, Any] | str | bytes, *, max_bytes: int = MAX_DOCUMENT_BYTES
) -> SealedDocument:
    """Validate a sealed document (JSON text or parsed object); InvalidDocument names the field."""
    try:
        parsed: object = obj
        if isinstance(obj, str | bytes | bytearray | memoryview):
            parsed = _load_json(obj, max_bytes=max_bytes, max_depth=MAX_DEPTH + 1)
        if not isinstance(parsed, Mapping | _DuplicateKeys):
            raise InvalidDocument(f"expected a JSON object, got {type(parsed).__name__}")
        envelope = _clean(parsed, (), 1, MAX_DEPTH + 1)
    except RecordError as exc:
        where = exc.printable_path.lstrip("/")
        raise InvalidDocument(f"{where or '(top level)'}: {exc.problem}") from exc
    assert isinstance(envelope, dict)
    missing = [k for k in _DOCUMENT_KEYS if k not in envelope]
    if missing:
        raise InvalidDocument(f"{missing[0]}: missing")
    unknown = sorted(envelope.keys() - set(_DOCUMENT_KEYS))
    if unknown:
        raise InvalidDocument(f"{unknown[0]}: unknown field")
    if envelope["type"] != SEALED_TYPE:
        raise InvalidDocument(f"type: expected {SEALED_TYPE!r}, got {envelope['type']!r}")
    version = envelope["version"]
    if type(version) is not int or version != SEALED_VERSION:
        raise InvalidDocument(
            f"version: unsupported version {version!r} (this reader knows {SEALED_VERSION})"
        )
    data = envelope["data"]
    if not isinstance(data, dict):
        raise InvalidDocument("data: expected a JSON object")
    salts = _check_salts(envelope["salts"])
    redacted_hex = envelope["redacted"]
    if not isinstance(redacted_hex, list):
        raise InvalidDocument("redacted: expected an array of field hashes")
    redacted = tuple(_hex32(h, f"redacted[{i}]") for i, h in enumerate(redacted_hex))
    digest = Digest(_hex32(envelope["digest"], "digest"))
    receipt = None
    if envelope["receipt"] is not None:
        receipt_obj = envelope["receipt"]
        if not isinstance(receipt_obj, dict):
            raise InvalidDocument("receipt: expected a JSON object or null")
        receipt = parse_receipt(receipt_obj, where="receipt")
    return SealedDocument(
        data=data,
        salts=salts,
        redacted=redacted,
        digest=digest,
        receipt=receipt,
    )


def _hex32(value: object, where: str) -> bytes:
    if not isinstance(value, str) or not _HEX32.fullmatch(value):
        raise InvalidDocument(f"{where}: expected 32-byte hex (0x + 64 lower-case hex digits)")
    return bytes.fromhex(value[2:])


# --------------------------------------------------------------------------- disclosure


def redact(document: SealedDocument, paths: Iterable[str] | str) -> SealedDocument:
    """Hide fields: a path names a leaf or a whole subtree; the digest stays the same.

    Hidden leaves' field hashes join ``redacted``; their salts go. What remains is
    rebuilt from the disclosed leaves, so:

    - an object member that is hidden disappears; an object or array left with no
      disclosed leaf disappears too (an *originally* empty one is a leaf of its own
      with a salt, so the two are never confused);
    - a hidden array element leaves a hole, written ``null`` with no salt, so later
      indexes keep their meaning; holes at the end of an array are dropped.

    A path that names nothing disclosed (absent, or already hidden) raises RedactionError.
    """
    wanted = [paths] if isinstance(paths, str) else list(paths)
    for pointer in wanted:
        parse_pointer(pointer)
    targets = set(wanted)
    hidden: set[str] = set()
    found: set[str] = set()
    for leaf in document._leaves:
        # Walk the leaf's ancestors (and itself) by pointer: one set lookup per level.
        prefix = ""
        hits = [prefix] if prefix in targets else []
        for token in leaf.path:
            prefix += to_pointer((token,))
            if prefix in targets:
                hits.append(prefix)
        if hits:
            hidden.add(leaf.pointer)
            found.update(hits)
    for pointer in wanted:
        if pointer not in found:
            raise RedactionError(
                f"{pointer!r}: no such field in the document (never there, or already redacted)"
            )
    kept = [leaf for leaf in document._leaves if leaf.pointer not in hidden]
    newly = [
        field_hash(leaf.path, document.salts[leaf.pointer], leaf.value)
        for leaf in document._leaves
        if leaf.pointer in hidden
    ]
    return SealedDocument(
        data=_build_tree(kept),
        salts={leaf.pointer: document.salts[leaf.pointer] for leaf in kept},
        redacted=tuple(sorted([*document.redacted, *newly])),
        digest=document.digest,
        receipt=document.receipt,
    )


def _build_tree(leaves: Iterable[FieldLeaf]) -> JSONObject:
    """The smallest tree holding these leaves at their paths; missing array items are null."""
    root: JSONObject = {}
    for leaf in leaves:
        node: JSONObject | list[JSONValue] = root
        for token, following in zip(leaf.path, leaf.path[1:], strict=False):
            fresh: JSONValue = [] if isinstance(following, int) else {}
            node = _child(node, token, fresh)
        _put(node, leaf.path[-1], leaf.value)
    return root


def _child(
    node: JSONObject | list[JSONValue], token: Token, fresh: JSONValue
) -> JSONObject | list[JSONValue]:
    existing = _get(node, token)
    if existing is None:
        _put(node, token, fresh)
        existing = fresh
    assert isinstance(existing, dict | list)
    return existing


def _get(node: JSONObject | list[JSONValue], token: Token) -> JSONValue:
    if isinstance(node, dict):
        return node.get(str(token))
    assert isinstance(token, int)
    return node[token] if token < len(node) else None


def _put(node: JSONObject | list[JSONValue], token: Token, value: JSONValue) -> None:
    if isinstance(node, dict):
        node[str(token)] = value
        return
    assert isinstance(token, int)
    node.extend([None] * (token + 1 - len(node)))
    node[token] = value
