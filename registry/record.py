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

The number rule (the same whether a record comes as a Python dict, as JSON text, or in
a sealed document being verified): a number is the IEEE 754 double nearest to what is
written (I-JSON). ``1``, ``1.0``, ``1e0`` and ``10e-1`` are one value; ``0``, ``0.0`` and
``-0.0`` are one value, zero. A number is refused when its double is not finite (``1e400``,
NaN, Infinity), when a literal that is not zero rounds to zero (``1e-400``), and when its
magnitude is beyond 2**53 - 1, however it is written (``9007199254740992``, ``1e21``,
``2.5e300``). Parsed and sealed data hold every integral number as a Python int and
every other one as a float, so equal values are equal objects and print alike. Write
identifiers, money and other exact decimals as strings.
"""

from __future__ import annotations

import binascii
import hashlib
import json
import os
import re
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
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
from registry.jsontext import (
    MAX_DEPTH,
    MAX_DOCUMENT_DEPTH,
    MAX_SAFE_INTEGER,
    DuplicateKey,
    EmptyRecord,
    InvalidString,
    JSONObject,
    JSONValue,
    MalformedJSON,
    NonFiniteNumber,
    NonStringKey,
    NotAnObject,
    NumberUnderflow,
    Path,
    RecordError,
    RecordTooDeep,
    RecordTooLarge,
    Token,
    UnsafeInteger,
    UnsupportedValue,
    _clean,
    _DuplicateKeys,
    _load_json,
    load_json_strict,
    parse_pointer,
    to_pointer,
)
from registry.jsontext import JSONScalar as JSONScalar  # re-exported
from registry.jsontext import _nests_deeper as _nests_deeper  # re-exported for tests
from registry.jsontext import nests_deeper as nests_deeper  # re-exported
from registry.jsontext import nests_deeper_raw as nests_deeper_raw  # re-exported
from registry.receipt import Receipt, parse_receipt, receipt_to_json
from registry.types import Digest, to_hex

__all__ = [
    "CHUNK_SIZE",
    "MAX_DEPTH",
    "MAX_DOCUMENT_BYTES",
    "MAX_DOCUMENT_DEPTH",
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
    "NumberUnderflow",
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
    "load_json_strict",
    "parse_pointer",
    "parse_record_json",
    "parse_sealed_document",
    "record_digest",
    "record_fields",
    "redact",
    "seal_record",
    "sealed_json_bytes",
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

SALT_BYTES = 16
"""Random bytes per field salt; 128 bits make guessing a redacted value by hashing useless."""

_MAX_SALT_BYTES = 64
SEALED_TYPE = "SealedRecord"
SEALED_VERSION = 1

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


def _clean_record(value: object, *, max_depth: int = MAX_DEPTH) -> JSONObject:
    if not isinstance(value, Mapping | _DuplicateKeys):
        kind = "array" if isinstance(value, list) else type(value).__name__
        raise NotAnObject("", f"a record is a JSON object, got {kind}")
    cleaned = _clean(value, (), 1, max_depth)
    assert isinstance(cleaned, dict)
    return cleaned


def parse_record_json(text: str | bytes, *, max_bytes: int = MAX_RECORD_BYTES) -> JSONObject:
    """Parse a record's JSON text strictly: load_json_strict's rules with MAX_DEPTH, and the
    top level a non-empty object.

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


_Leaf: TypeAlias = tuple[str, Path, JSONValue]
"""A leaf as a plain (pointer, path, value) tuple, FieldLeaf's fields in order.

Sealed documents keep their leaves in this form: the garbage collector stops tracking
a tuple of strings and numbers, while a FieldLeaf (a tuple subclass) stays tracked,
and issuing holds very many documents in memory at once.
"""


def field_hash(path: Iterable[Token], salt_hex: str, value: JSONValue) -> bytes:
    """SHA-256 of the RFC 8785 form of ``[path, salt_hex, value]``."""
    try:
        canonical = rfc8785.dumps([list(path), salt_hex, value])
    except rfc8785.CanonicalizationError as exc:  # _clean keeps this from happening
        raise InvalidRecord(f"cannot canonicalize: {exc}", field=to_pointer(path)) from exc
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


class _Irregular(Exception):
    """Internal: the fast walk met something only the strict _clean can judge."""


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _walk_record(record: object) -> tuple[JSONObject, list[_Leaf]]:
    """Copy a record made of plain JSON types and list its leaves, in one pass.

    The fast equivalent of ``_clean_record`` then ``_record_leaves(data, None)`` for
    the common case: exact dict, list, str, int, float, bool and None, all valid. On
    anything else (subclasses, tuples, NaN, unsafe numbers, lone surrogates, too deep)
    it raises _Irregular and the caller takes the strict path, which raises the precise
    error or converts the value. It accepts nothing _clean refuses, and its copy is
    the one _clean makes (integral floats become ints).
    """
    if type(record) is not dict:
        raise _Irregular
    leaves: list[_Leaf] = []
    data = _walk(record, (), "", 1, leaves) if record else {}
    assert isinstance(data, dict)
    return data, leaves


def _walk(
    node: dict[Any, Any] | list[Any], path: Path, pointer: str, depth: int, leaves: list[_Leaf]
) -> JSONObject | list[JSONValue]:
    """Copy a non-empty regular container at ``depth``, appending its leaves in order."""
    is_object = isinstance(node, dict)
    obj: JSONObject = {}
    array: list[JSONValue] = []
    items: Iterable[tuple[Any, Any]] = node.items() if isinstance(node, dict) else enumerate(node)
    for token, item in items:
        if is_object:
            if type(token) is not str or not (token.isascii() or _is_utf8(token)):
                raise _Irregular
            step = (
                token.replace("~", "~0").replace("/", "~1")
                if "~" in token or "/" in token
                else token
            )
        else:
            step = str(token)
        child_path = (*path, token)
        child_pointer = f"{pointer}/{step}"
        kind = type(item)
        if kind is str:
            if not (item.isascii() or _is_utf8(item)):
                raise _Irregular
        elif kind is int:
            if not -MAX_SAFE_INTEGER <= item <= MAX_SAFE_INTEGER:
                raise _Irregular
        elif kind is float:
            # The number rule: finite, within +-(2**53 - 1) (NaN fails both comparisons),
            # and an int when integral, so 1.0 and -0.0 are stored and printed as 1 and 0.
            if not -MAX_SAFE_INTEGER <= item <= MAX_SAFE_INTEGER:
                raise _Irregular
            if item.is_integer():
                item = int(item)
        elif kind is dict or kind is list:
            if depth >= MAX_DEPTH:
                raise _Irregular
            if item:
                item = _walk(item, child_path, child_pointer, depth + 1, leaves)
                if is_object:
                    obj[token] = item
                else:
                    array.append(item)
                continue
            item = {} if kind is dict else []
        elif item is not None and kind is not bool:
            raise _Irregular
        if is_object:
            obj[token] = item
        else:
            array.append(item)
        leaves.append((child_pointer, child_path, item))
    return obj if is_object else array


# --------------------------------------------------------------------------- sealed document


@dataclass(frozen=True)
class SealedDocument:
    """A sealed structured record as its holder keeps it.

    ``data`` holds the disclosed fields; ``salts`` maps each disclosed leaf's JSON
    pointer to its salt; ``redacted`` holds the field hashes of hidden leaves, sorted;
    ``digest`` is the record digest stated at sealing time; ``receipt`` is added once
    the batch is anchored. Construction checks the structure (every leaf salted, no
    stray salt, hex forms, the receipt's digest equal to ``digest``); it does not
    recompute the digest: see verify_document.
    """

    data: JSONObject
    salts: Mapping[str, str]
    redacted: tuple[bytes, ...]
    digest: Digest
    receipt: Receipt | None = None
    _leaves: tuple[_Leaf, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        regular = _regular_document(self.data, self.salts)
        if regular is not None:
            data, salts, leaves = regular
        else:
            data, salts, leaves = _strict_document(self.data, self.salts)
        redacted = tuple(self.redacted)
        for i, item in enumerate(redacted):
            if not isinstance(item, bytes) or len(item) != 32:
                raise InvalidDocument("expected a 32-byte field hash", field=f"redacted[{i}]")
            if i and redacted[i - 1] >= item:
                raise InvalidDocument(
                    "field hashes must be sorted and unique", field=f"redacted[{i}]"
                )
        if not leaves and not redacted:
            raise InvalidDocument("the record has no fields, disclosed or redacted", field="data")
        if not isinstance(self.digest, bytes) or len(self.digest) != 32:
            raise InvalidDocument("expected 32 bytes", field="digest")
        if self.receipt is not None and not isinstance(self.receipt, Receipt):
            raise InvalidDocument("expected a Receipt (use attach_receipt)", field="receipt")
        if self.receipt is not None and self.receipt.digest_kind != "record":
            raise InvalidDocument(
                "a sealed record's receipt must say 'record'", field="receipt.digestKind"
            )
        if self.receipt is not None and self.receipt.digest != self.digest:
            # The document's two statements of its digest disagree: refuse it outright.
            raise InvalidDocument(
                f"{to_hex(self.receipt.digest)} is not the document's digest {to_hex(self.digest)}",
                field="receipt.digest",
            )
        object.__setattr__(self, "data", data)
        object.__setattr__(self, "salts", salts)
        object.__setattr__(self, "redacted", redacted)
        object.__setattr__(self, "digest", Digest(bytes(self.digest)))
        object.__setattr__(self, "_leaves", leaves)


def _strict_document(
    raw_data: object, raw_salts: object
) -> tuple[JSONObject, dict[str, str], tuple[_Leaf, ...]]:
    """Check data against salts the slow, general way (holes, Mapping subclasses, errors)."""
    try:
        data = _clean_record(raw_data)
    except RecordError as exc:
        raise InvalidDocument(exc.problem, field=f"data{exc.printable_path}") from exc
    salts = _check_salts(raw_salts)
    leaves = _record_leaves(data, salts)
    _check_holes(data, (), salts)
    for leaf in leaves:
        if leaf.pointer not in salts:
            raise InvalidDocument("field has no salt in salts", field=f"data{leaf.pointer}")
    stray = salts.keys() - {leaf.pointer for leaf in leaves}
    if stray:
        raise InvalidDocument("no such field in data", field=f"salts[{min(stray)!r}]")
    return data, salts, tuple((leaf.pointer, leaf.path, leaf.value) for leaf in leaves)


def _regular_document(
    raw_data: object, raw_salts: object
) -> tuple[JSONObject, dict[str, str], tuple[_Leaf, ...]] | None:
    """The common case of _strict_document in one pass, or None to take the strict path.

    It applies when the data is made of plain JSON types only and every leaf, array nulls
    included, has a salt, in document order: then there are no redaction holes and no
    stray salts, and the result is exactly what _strict_document would return. Whatever
    is unusual (a Mapping subclass, a hole, salts in another order, an error in the
    data) goes the strict way, which also raises the precise error.
    """
    try:
        data, leaves = _walk_record(raw_data)
    except _Irregular:
        return None
    salts = _check_salts(raw_salts)  # the strict path's next check, same errors
    if len(salts) != len(leaves) or any(
        pointer != leaf[0] for pointer, leaf in zip(salts, leaves, strict=True)
    ):
        return None
    return data, salts, tuple(leaves)


def _check_salts(salts: object) -> dict[str, str]:
    if not isinstance(salts, Mapping):
        raise InvalidDocument("expected a JSON object of pointer -> salt", field="salts")
    checked: dict[str, str] = {}
    for pointer, salt in salts.items():
        if not isinstance(pointer, str):
            raise InvalidDocument("keys are JSON pointer strings", field=f"salts[{pointer!r}]")
        if not isinstance(salt, str) or not _SALT_HEX.fullmatch(salt):
            raise InvalidDocument(
                f"expected 0x + lower-case hex of {SALT_BYTES} to {_MAX_SALT_BYTES} bytes",
                field=f"salts[{pointer!r}]",
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
                "ends with a redaction hole; trailing holes are dropped",
                field=f"data{to_pointer(path)}",
            )
        for index, item in enumerate(value):
            _check_holes(item, (*path, index), salts)


def seal_record(
    record: Mapping[str, Any], *, salt_source: Callable[[int], bytes] = secrets.token_bytes
) -> SealedDocument:
    """Salt every leaf of a record and compute its digest; the result has no receipt yet.

    ``salt_source(16)`` is called once per leaf, in document order; the default
    (``secrets.token_bytes``) is called once for all of them.
    """
    data, leaves = _prepare(record)
    digits = _salt_digits(len(leaves), salt_source)
    return _trusted_document(
        data,
        _salts_of(leaves, digits.decode("ascii"), 0),
        _digest_of(leaves, digits, 0),
        tuple(leaves),
    )


def _prepare(record: object) -> tuple[JSONObject, list[_Leaf]]:
    """A record's regular copy and its leaves; the RecordError seal_record raises if bad."""
    try:
        data, leaves = _walk_record(record)
    except _Irregular:
        # Not plain JSON types, or not valid: the strict copy raises the precise error,
        # or converts (Mapping or str subclasses...) into a regular record.
        data, leaves = _walk_record(_clean_record(record))
    if not leaves:
        raise EmptyRecord("", "the record has no fields")
    return data, leaves


def record_fields(record: Mapping[str, Any]) -> list[FieldLeaf]:
    """A record's leaf fields in document order, with values in canonical form: the
    leaves seal_record salts, in the order it asks its ``salt_source`` for salts.

    Raises the RecordError seal_record would raise for the record.
    """
    return [FieldLeaf(*leaf) for leaf in _prepare(record)[1]]


_token_bytes = secrets.token_bytes


def _salt_digits(count: int, salt_source: Callable[[int], bytes]) -> bytes:
    """Lower-case hex digits (ASCII) of ``count`` salts, one after the other."""
    if salt_source is _token_bytes:
        return binascii.hexlify(_token_bytes(SALT_BYTES * count))
    salts = []
    for _ in range(count):
        salt = salt_source(SALT_BYTES)
        if not isinstance(salt, bytes) or len(salt) != SALT_BYTES:
            raise InvalidInput(f"salt_source must return {SALT_BYTES} bytes")
        salts.append(bytes(salt))
    return binascii.hexlify(b"".join(salts))


_SALT_DIGITS = 2 * SALT_BYTES
_HASH_PREFIXES: dict[Path, bytes] = {}
_STRING_FORMS: dict[str, bytes] = {}
_CACHE_MAX = 1 << 15


def _hash_prefix(path: Path) -> bytes:
    """``[`` + JCS(path) + ``,"0x``: how JCS([path, salt_hex, value]) starts."""
    prefix = b"[" + rfc8785.dumps(list(path)) + b',"0x'
    if len(_HASH_PREFIXES) >= _CACHE_MAX:
        _HASH_PREFIXES.clear()  # memory stays bounded when paths do not repeat
    _HASH_PREFIXES[path] = prefix
    return prefix


def _digest_of(leaves: Iterable[_Leaf], digits: bytes, start: int) -> Digest:
    """Record digest of regular leaves salted with ``digits[start:]``, 32 digits each.

    Each field hash is field_hash's SHA-256 of ``rfc8785.dumps([list(path), salt_hex,
    value])``, the canonical text assembled from rfc8785's output for its parts: RFC 8785
    writes an array as ``[`` + members joined by ``,`` + ``]``, and ``salt_hex`` (``0x`` and
    lower-case hex digits, nothing to escape) is written as itself in quotes. The path
    and string value parts are cached. tests/record/test_record_seal_fast.py checks the result
    against field_hash and record_digest.
    """
    prefixes = _HASH_PREFIXES
    strings = _STRING_FORMS
    dumps = rfc8785.dumps
    sha256 = hashlib.sha256
    hashes: list[bytes] = []
    for _, path, value in leaves:
        end = start + _SALT_DIGITS
        prefix = prefixes.get(path) or _hash_prefix(path)
        if type(value) is not str:
            form = dumps(value)
        elif (cached := strings.get(value)) is not None:
            form = cached
        else:
            # Types, places, dates, names recur across records: keep their forms.
            form = dumps(value)
            if len(strings) >= _CACHE_MAX:
                strings.clear()  # memory stays bounded when values do not repeat
            strings[value] = form
        hashes.append(sha256(b"".join((prefix, digits[start:end], b'",', form, b"]"))).digest())
        start = end
    hashes.sort()
    return Digest(sha256(b"".join(hashes)).digest())


def _salts_of(leaves: Iterable[_Leaf], text: str, start: int) -> dict[str, str]:
    """pointer -> salt_hex for the leaves, taking 32 digits each from ``text[start:]``."""
    salts: dict[str, str] = {}
    for leaf in leaves:
        end = start + _SALT_DIGITS
        salts[leaf[0]] = "0x" + text[start:end]
        start = end
    return salts


def _trusted_document(
    data: JSONObject, salts: dict[str, str], digest: Digest, leaves: tuple[_Leaf, ...]
) -> SealedDocument:
    """A SealedDocument without receipt from parts built here, skipping re-validation.

    Only for a fresh regular copy of the data (from _walk_record), its leaves, and one
    salt per leaf in leaf order: exactly what __post_init__ would produce from them.
    """
    doc = object.__new__(SealedDocument)
    # As the dataclass __init__ does; unlike __dict__.update, it keeps the attributes
    # inline, with no per-document dict for the garbage collector to scan.
    put = object.__setattr__
    put(doc, "data", data)
    put(doc, "salts", salts)
    put(doc, "redacted", ())
    put(doc, "digest", digest)
    put(doc, "receipt", None)
    put(doc, "_leaves", leaves)
    return doc


# --------------------------------------------------------------------------- many records
# The pure steps of sealing many records with fresh salts, a chunk at a time: check and copy
# (_prepare_chunk), draw the salts (_chunk_digits), hash (_hash_work for a worker process,
# _digest_chunk there), build the documents (_build_documents). registry.service.sealing runs
# them, in this process or in its pool of workers, with the garbage collector paused.

_CHUNK_RECORDS = 1000
_Prepared: TypeAlias = tuple[JSONObject, list[_Leaf]]


def _prepare_chunk(records: Sequence[Mapping[str, Any]], begin: int) -> list[_Prepared]:
    """_prepare for records[begin:begin + _CHUNK_RECORDS]; errors name the record's index."""
    prepared = []
    for index in range(begin, min(begin + _CHUNK_RECORDS, len(records))):
        try:
            prepared.append(_prepare(records[index]))
        except RecordError as exc:
            raise _with_index(exc, index) from exc
    return prepared


def _with_index(exc: RecordError, index: int) -> RecordError:
    """The same error for the record at ``index`` of a batch."""
    located = type(exc)(exc.path, exc.problem)
    located.field = f"records[{index}]{exc.printable_path}"
    located.args = (f"{located.field}: {exc.problem}",)
    located.record_index = index
    return located


def _chunk_digits(prepared: list[_Prepared]) -> bytes:
    """Fresh salts for every leaf of the chunk, as hex digits: one call to the OS."""
    total = sum(len(leaves) for _, leaves in prepared)
    return binascii.hexlify(_token_bytes(SALT_BYTES * total))


def _build_documents(
    prepared: list[_Prepared], digits: bytes, digests: bytes | None
) -> list[SealedDocument]:
    """Documents for prepared records, salted from ``digits`` in order (32 per leaf).

    ``digests`` holds their record digests, 32 bytes each, when workers computed them.
    """
    text = digits.decode("ascii")
    docs = []
    start = 0
    for number, (data, leaves) in enumerate(prepared):
        if digests is None:
            digest = _digest_of(leaves, digits, start)
        else:
            digest = Digest(digests[32 * number : 32 * number + 32])
        docs.append(_trusted_document(data, _salts_of(leaves, text, start), digest, tuple(leaves)))
        start += _SALT_DIGITS * len(leaves)
    return docs


_HashWork: TypeAlias = tuple[list[Path], list[int], list[JSONValue], list[int], bytes]


def _hash_work(prepared: list[_Prepared], digits: bytes) -> _HashWork:
    """What a worker needs to hash a chunk, compact to send: the distinct paths, each
    leaf's path number and value, the leaf count of each record, and the salts."""
    numbers: dict[Path, int] = {}
    path_numbers = []
    values = []
    counts = []
    for _, leaves in prepared:
        counts.append(len(leaves))
        for _, path, value in leaves:
            number = numbers.get(path)
            if number is None:
                number = numbers[path] = len(numbers)
            path_numbers.append(number)
            values.append(value)
    return list(numbers), path_numbers, values, counts, digits


def _digest_chunk(work: _HashWork) -> bytes:
    """Worker: the record digests (32 bytes each, in order) of a chunk from _hash_work."""
    paths, path_numbers, values, counts, digits = work
    leaves: list[_Leaf] = [("", paths[n], v) for n, v in zip(path_numbers, values, strict=True)]
    digests = []
    first = 0
    for count in counts:
        digests.append(_digest_of(leaves[first : first + count], digits, _SALT_DIGITS * first))
        first += count
    return b"".join(digests)


def _disclosed_hashes(doc: SealedDocument) -> list[bytes]:
    return [field_hash(path, doc.salts[pointer], value) for pointer, path, value in doc._leaves]


def document_digest(doc: SealedDocument) -> Digest:
    """Recompute the record digest from data, salts and redacted (ignores ``doc.digest``).

    A verifier wants verify_document, which also holds the result to ``doc.digest``.
    """
    return record_digest([*_disclosed_hashes(doc), *doc.redacted])


def verify_document(doc: SealedDocument) -> Digest:
    """Recompute the digest; TamperedDocument if it differs from the stated or receipt digest.

    (The receipt's digest always equals the stated one: SealedDocument refuses otherwise.)
    """
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
    return [(pointer, value) for pointer, _, value in doc._leaves]


def attach_receipt(doc: SealedDocument, receipt: Receipt | Mapping[str, Any]) -> SealedDocument:
    """The document with its receipt; refuses a receipt for another digest or a file."""
    parsed = receipt if isinstance(receipt, Receipt) else parse_receipt(receipt)
    if parsed.digest != doc.digest:
        raise InvalidDocument(
            f"{to_hex(parsed.digest)} is not this document's {to_hex(doc.digest)}",
            field="receipt.digest",
        )
    return SealedDocument(
        data=doc.data, salts=doc.salts, redacted=doc.redacted, digest=doc.digest, receipt=parsed
    )


def to_json(doc: SealedDocument) -> dict[str, Any]:
    """The sealed document as a JSON object (salts in document order, hex lower-case)."""
    return {
        "type": SEALED_TYPE,
        "version": SEALED_VERSION,
        "data": _copy_data(doc.data),
        "salts": dict(doc.salts),
        "redacted": [to_hex(h) for h in doc.redacted],
        "digest": to_hex(doc.digest),
        "receipt": None if doc.receipt is None else receipt_to_json(doc.receipt),
    }


def _copy_data(data: object) -> JSONObject:
    """A fresh copy of a document's data, as _clean_record gives (and with its errors)."""
    try:
        return _walk_record(data)[0]
    except _Irregular:
        return _clean_record(data)


_COMPACT_JSON = json.JSONEncoder(allow_nan=False, separators=(",", ":"))


def sealed_json_bytes(doc: SealedDocument) -> bytes:
    """The document as compact JSON text (ASCII, no whitespace), for storing or sending.

    The same bytes as ``json.dumps(to_json(doc), separators=(",", ":")).encode()``, made
    without to_json's fresh copy of the data: the document's data was checked when it was
    built. parse_sealed_document reads the text back to an equal document.
    """
    return _COMPACT_JSON.encode(
        {
            "type": SEALED_TYPE,
            "version": SEALED_VERSION,
            "data": doc.data,
            "salts": doc.salts,
            "redacted": [to_hex(h) for h in doc.redacted],
            "digest": to_hex(doc.digest),
            "receipt": None if doc.receipt is None else receipt_to_json(doc.receipt),
        }
    ).encode("ascii")


_DOCUMENT_KEYS = ("type", "version", "data", "salts", "redacted", "digest", "receipt")


def parse_sealed_document(
    obj: Mapping[str, Any] | str | bytes, *, max_bytes: int = MAX_DOCUMENT_BYTES
) -> SealedDocument:
    """Validate a sealed document; InvalidDocument names the field.

    Give it the document's raw JSON text (str or bytes), read with load_json_strict: a
    dict from json.loads has already lost one of two equal keys, so only the text can be
    checked for them. A parsed object is accepted for documents built in this process.
    Refused besides: any key at the top level but the seven of the format, and a
    receipt whose digest is not ``digest``. The digest itself is not recomputed here
    (a tampered document is well-formed): verify_document does that.
    """
    try:
        parsed: object = obj
        if isinstance(obj, str | bytes | bytearray | memoryview):
            parsed = load_json_strict(
                obj, where="", max_bytes=max_bytes, max_depth=MAX_DOCUMENT_DEPTH
            )
        if not isinstance(parsed, Mapping | _DuplicateKeys):
            raise InvalidDocument(f"expected a JSON object, got {type(parsed).__name__}")
        envelope = _clean(parsed, (), 1, MAX_DOCUMENT_DEPTH)
    except RecordError as exc:
        where = exc.printable_path.lstrip("/")
        if not where:
            raise InvalidDocument(f"(top level): {exc.problem}") from exc
        raise InvalidDocument(exc.problem, field=where) from exc
    assert isinstance(envelope, dict)
    missing = [k for k in _DOCUMENT_KEYS if k not in envelope]
    if missing:
        raise InvalidDocument("missing", field=missing[0])
    unknown = sorted(envelope.keys() - set(_DOCUMENT_KEYS))
    if unknown:
        raise InvalidDocument("unknown field", field=unknown[0])
    if envelope["type"] != SEALED_TYPE:
        raise InvalidDocument(f"expected {SEALED_TYPE!r}, got {envelope['type']!r}", field="type")
    version = envelope["version"]
    if type(version) is not int or version != SEALED_VERSION:
        raise InvalidDocument(
            f"unsupported version {version!r} (this reader knows {SEALED_VERSION})",
            field="version",
        )
    data = envelope["data"]
    if not isinstance(data, dict):
        raise InvalidDocument("expected a JSON object", field="data")
    salts = _check_salts(envelope["salts"])
    redacted_hex = envelope["redacted"]
    if not isinstance(redacted_hex, list):
        raise InvalidDocument("expected an array of field hashes", field="redacted")
    redacted = tuple(_hex32(h, f"redacted[{i}]") for i, h in enumerate(redacted_hex))
    digest = Digest(_hex32(envelope["digest"], "digest"))
    receipt = None
    if envelope["receipt"] is not None:
        receipt_obj = envelope["receipt"]
        if not isinstance(receipt_obj, dict):
            raise InvalidDocument("expected a JSON object or null", field="receipt")
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
        raise InvalidDocument("expected 32-byte hex (0x + 64 lower-case hex digits)", field=where)
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
    leaves = [FieldLeaf(*leaf) for leaf in document._leaves]
    for leaf in leaves:
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
    kept = [leaf for leaf in leaves if leaf.pointer not in hidden]
    newly = [
        field_hash(leaf.path, document.salts[leaf.pointer], leaf.value)
        for leaf in leaves
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
