"""OpenAttestation v2 wrapped documents, checked offline exactly as OpenAttestation does.

An OpenAttestation (OA) v2 wrapped document carries its data salted (each value replaced by
the string ``"<uuid v4>:<type>:<value>"``), a target hash over that data, a Merkle proof and
the batch's Merkle root, which the issuer anchors in a DocumentStore (or mints in a token
registry). This module recomputes both hashes bit for bit as ``@govtechsg/open-attestation``
6.x does (``src/2.0/digest.ts``, ``src/2.0/salt.ts``, ``src/shared/merkle/merkle.ts``,
``src/shared/utils/hashing.ts``) and lists the hashes oa-verify asks the chain about
(``src/verifiers/documentStatus/utils.ts``: ``getIntermediateHashes``):

* target hash: flatten ``data`` with the ``flatley`` package (keys joined with ``.``, array
  indices as keys, non-empty objects and arrays descended into, empty ones kept as values),
  drop undefined values (lodash ``omitBy``), hash each pair as
  keccak256(JSON.stringify({[key]: value})), add ``privacy.obfuscatedData``, sort the hex
  strings, and hash the JSON text of the sorted array: keccak256(JSON.stringify(sorted)).
  The salted strings are hashed as they are: no unsalting is involved.
* Merkle root: fold the proof onto the stated target hash, each step keccak256 of the two
  32-byte hashes sorted bytewise and concatenated.
* revocation: oa-verify asks ``isRevoked`` for the stated target hash and for every
  intermediate hash up the proof (the last is the root when the proof holds: 1 + len(proof)
  hashes), and ``isIssued`` for the stated Merkle root (a token registry: ``ownerOf`` it).

OA's hash does not cover every value a document shows, and this module reproduces that too
(the target hash must match OA's), but reports those values as ``uncovered_fields`` so that a
verifier never shows them as attested:

* a key that is ``""`` does not extend the flattened key (flatley tests the prefix for
  truthiness), so ``{"": {"b": ...}}`` lands on ``b``; when two values land on one key the
  later one (in JavaScript key order) is hashed and the other is not;
* flattened keys ``__proto__``, ``constructor`` and ``prototype`` never reach the hash (an
  assignment to ``__proto__`` is dropped, and lodash's ``omitBy`` refuses the other two).

Other behaviour worth knowing, all reproduced: a key containing ``.`` makes OA throw (refused
here, naming the key); ``{"a": {"0": x}}`` and ``{"a": [x]}`` hash alike; obfuscating the last
field of an object leaves ``{}``, which is then hashed, so OA rejects its own output; an
obfuscated array element becomes ``null`` once written as JSON, which OA rejects likewise; the
target hash is compared as text, so an upper-case targetHash never verifies. Values that are
not salted strings (numbers, booleans, null) are hashed with JavaScript's formatting
(``1e+21``, ``0.1``, ``-0`` as ``0``). Unsalting trims the text after the uuid as
``String.prototype.trim`` does, so a value's trailing whitespace is not shown (it is hashed).

Pure: no I/O. keccak256 is the project's one implementation (registry.merkle).
"""

from __future__ import annotations

import copy
import math
import re
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from registry.checks import Check, CheckName
from registry.errors import InvalidInput
from registry.merkle import keccak256
from registry.types import Address, checksum_address

__all__ = [
    "OA_V2_SCHEMA_ID",
    "OA_V3_SCHEMA_ID",
    "SIGNATURE_TYPE",
    "UNDEFINED",
    "IdentityProof",
    "IntegrityResult",
    "InvalidWrappedDocument",
    "Issuer",
    "Undefined",
    "WrappedDocument",
    "check_document_integrity",
    "compute_target_hash",
    "flatten_data",
    "intermediate_hashes",
    "is_wrapped_v2",
    "merkle_root_of",
    "parse_wrapped_v2",
    "salt",
    "uncovered_fields",
    "unsalt",
]

OA_V2_SCHEMA_ID: Final = "https://schema.openattestation.com/2.0/schema.json"
OA_V3_SCHEMA_ID: Final = "https://schema.openattestation.com/3.0/schema.json"
SIGNATURE_TYPE: Final = "SHA3MerkleProof"
HASH_SIZE = 32


class InvalidWrappedDocument(InvalidInput):
    """An OpenAttestation v2 wrapped document is malformed; the message names the field."""


class Undefined:
    """JavaScript's ``undefined``: what OA unsalts ``"<uuid>:undefined:..."`` to."""

    _instance: Undefined | None = None

    def __new__(cls) -> Undefined:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "undefined"

    def __bool__(self) -> bool:
        return False


UNDEFINED: Final = Undefined()
"""The one ``undefined``. compute_target_hash skips it, as OA's ``omitBy`` does."""


# --------------------------------------------------------------------------- JavaScript text

# String.prototype.trim's WhiteSpace and LineTerminator (Python's str.strip() differs).
_JS_WHITESPACE = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)
_JSON_ESCAPE = re.compile(r'[\x00-\x1f"\\\ud800-\udfff]')
_SHORT_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
}
_MAX_SAFE_INTEGER = 2**53


def _js_string(text: str) -> str:
    """JSON.stringify of a string: control characters and lone surrogates escaped (lower-case
    hex), everything else, U+2028 included, as it is."""
    if any("\ud800" <= c <= "\udfff" for c in text):
        # A pair of surrogates is one character to JavaScript: join the pairs first.
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
    body = _JSON_ESCAPE.sub(lambda m: _SHORT_ESCAPES.get(m[0]) or f"\\u{ord(m[0]):04x}", text)
    return f'"{body}"'


def _js_number(value: int | float) -> int | float:
    """The double JavaScript holds for a JSON number: big integers round, huge ones overflow to
    infinity. Integers it holds exactly come back as int."""
    if isinstance(value, int) and -_MAX_SAFE_INTEGER <= value <= _MAX_SAFE_INTEGER:
        return value
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def _js_number_text(value: int | float) -> str:
    """String(n) for a JavaScript number (ECMAScript Number::toString, radix 10)."""
    number = _js_number(value)
    if isinstance(number, int):
        return str(number)
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    if number == 0:
        return "0"
    sign = "-" if number < 0 else ""
    # repr gives the shortest digits that round-trip, the same digits JavaScript chooses.
    mantissa, _, exponent = repr(abs(number)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    all_digits = whole + fraction
    significant = all_digits.lstrip("0")
    point = len(whole) - (len(all_digits) - len(significant)) + int(exponent or 0)
    digits = significant.rstrip("0")
    k = len(digits)
    if k <= point <= 21:
        return sign + digits + "0" * (point - k)
    if 0 < point <= 21:
        return sign + digits[:point] + "." + digits[point:]
    if -6 < point <= 0:
        return sign + "0." + "0" * -point + digits
    e = point - 1
    tail = f"e{'+' if e >= 0 else '-'}{abs(e)}"
    return sign + (digits if k == 1 else digits[0] + "." + digits[1:]) + tail


def _js_json_leaf(value: object, *, where: str) -> str:
    """JSON.stringify of a flattened leaf: a primitive or an empty object or array."""
    if isinstance(value, str):
        return _js_string(value)
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        number = _js_number(value)
        if isinstance(number, float) and not math.isfinite(number):
            return "null"
        return _js_number_text(number)
    if isinstance(value, Mapping) and not value:
        return "{}"
    if isinstance(value, list) and not value:
        return "[]"
    raise InvalidWrappedDocument(f"{type(value).__name__} is not a JSON value", field=where)


def _utf16_order(text: str) -> bytes:
    """Sort key comparing strings as JavaScript does: by UTF-16 code units."""
    return text.encode("utf-16-be", "surrogatepass")


# --------------------------------------------------------------------------- paths

_IDENTIFIER = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")


def _path_text(path: Sequence[str | int]) -> str:
    """A readable JSON path: ``data.issuers[0].documentStore``, ``data["a.b"]``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _IDENTIFIER.fullmatch(part):
            out += f".{part}" if out else part
        else:
            out += f"[{_js_string(part)}]"
    return out


_ARRAY_INDEX = re.compile(r"0|[1-9][0-9]*")


def _js_keys(node: Mapping[str, Any] | list[Any]) -> Iterator[tuple[str, int | str, Any]]:
    """(key as text, key as path part, value) in JavaScript's ``Object.keys`` order: array
    indices ascending first, then the other keys in insertion order."""
    if isinstance(node, list):
        for i, value in enumerate(node):
            yield str(i), i, value
        return
    indices: list[tuple[int, str]] = []
    others: list[str] = []
    for key in node:
        if not isinstance(key, str):
            raise InvalidWrappedDocument(f"object key {key!r} is not a string")
        if _ARRAY_INDEX.fullmatch(key) and int(key) < 2**32 - 1:
            indices.append((int(key), key))
        else:
            others.append(key)
    for _, key in sorted(indices):
        yield key, key, node[key]
    for key in others:
        yield key, key, node[key]


# --------------------------------------------------------------------------- flattening


@dataclass(frozen=True)
class _Flattened:
    leaves: dict[str, Any]
    """Flattened key -> value, exactly the pairs OA hashes."""
    uncovered: tuple[str, ...]
    """Paths of values present in the data that none of those pairs covers."""


# Flattened keys that never reach OA's hash: `output.__proto__ = v` sets no own key, and lodash
# (>= 4.17.21) baseSet, used by omitBy, silently refuses the other two.
_DROPPED_KEYS = frozenset({"__proto__", "constructor", "prototype"})


def _flatten(data: Mapping[str, Any], *, root: str = "data") -> _Flattened:
    if not isinstance(data, Mapping):
        raise InvalidWrappedDocument(f"expected an object, got {_json_type(data)}", field=root)
    leaves: dict[str, Any] = {}
    sources: dict[str, tuple[str | int, ...]] = {}
    uncovered: list[tuple[str | int, ...]] = []

    def step(node: Mapping[str, Any] | list[Any], prefix: str, path: tuple[str | int, ...]) -> None:
        for key, part, value in _js_keys(node):
            where = (*path, part)
            if "." in key:
                raise InvalidWrappedDocument(
                    "key names must not contain '.': OpenAttestation cannot hash them",
                    field=_path_text(where),
                )
            # flatley: `prev ? prev + "." + key : key`, so an empty prefix adds nothing.
            flat = f"{prefix}.{key}" if prefix else key
            if isinstance(value, Mapping | list) and value:
                step(value, flat, where)
                continue
            if value is UNDEFINED:
                continue  # omitBy(isKeyOrValueUndefined); nothing is shown either
            if flat in _DROPPED_KEYS:
                uncovered.append(where)
                continue
            if flat in sources:
                uncovered.append(sources[flat])  # overwritten: the earlier value is not hashed
            leaves[flat] = value
            sources[flat] = where

    step(data, "", (root,))
    return _Flattened(leaves, tuple(_path_text(p) for p in uncovered))


def flatten_data(data: Mapping[str, Any]) -> dict[str, Any]:
    """OA's flattened data (flatley, then lodash ``omitBy`` of undefined): the key/value pairs
    whose hashes make up the target hash, e.g. ``{"a": [{"b": 1}]}`` -> ``{"a.0.b": 1}``."""
    return dict(_flatten(data).leaves)


def uncovered_fields(data: Mapping[str, Any]) -> tuple[str, ...]:
    """Paths of values in ``data`` that OA's target hash does not cover (see the module doc):
    a tamperer can change them and OA still says the document is valid."""
    return _flatten(data).uncovered


def _leaf_hashes(flattened: _Flattened) -> list[str]:
    return [
        keccak256(f"{{{_js_string(key)}:{_js_json_leaf(value, where=key)}}}".encode()).hex()
        for key, value in flattened.leaves.items()
    ]


def _digest(flattened: _Flattened, obfuscated: Sequence[str]) -> bytes:
    for i, h in enumerate(obfuscated):
        if not isinstance(h, str):
            raise InvalidWrappedDocument(
                f"expected a string, got {_json_type(h)}", field=f"privacy.obfuscatedData[{i}]"
            )
    hashes = sorted([*obfuscated, *_leaf_hashes(flattened)], key=_utf16_order)
    text = "[" + ",".join(_js_string(h) for h in hashes) + "]"
    return keccak256(text.encode())


def compute_target_hash(data: Mapping[str, Any], obfuscated: Sequence[str] = ()) -> bytes:
    """OA's ``digestDocument``: the target hash of a document's (salted) ``data`` and its
    ``privacy.obfuscatedData`` hex strings, as 32 bytes."""
    return _digest(_flatten(data), obfuscated)


# --------------------------------------------------------------------------- salting

_UUID_V4 = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", re.IGNORECASE
)
_UUID_V4_PREFIX_LENGTH = 37  # 36 characters and the colon
_JS_DECIMAL = re.compile(r"[+-]?(?:Infinity|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)")
_JS_RADIX_DIGITS = {
    "0x": (16, re.compile(r"[0-9a-fA-F]+")),
    "0o": (8, re.compile(r"[0-7]+")),
    "0b": (2, re.compile(r"[01]+")),
}


def _js_to_number(text: str) -> int | float:
    """JavaScript ``Number(text)``; integers it holds exactly as int, NaN when unreadable."""
    text = text.strip(_JS_WHITESPACE)
    if not text:
        return 0
    radix = _JS_RADIX_DIGITS.get(text[:2].lower())
    if radix is not None:
        base, digits = radix
        if not digits.fullmatch(text[2:]):
            return math.nan
        return _as_shown(_js_number(int(text[2:], base)))
    if not _JS_DECIMAL.fullmatch(text):
        return math.nan
    return _as_shown(float(text.replace("Infinity", "inf")))


def _as_shown(number: int | float) -> int | float:
    """An integral double within 2**53 as int (5, not 5.0); anything else (-0.0, 1e21, NaN)
    as it is."""
    if isinstance(number, int):
        return number
    if number.is_integer() and abs(number) <= _MAX_SAFE_INTEGER and math.copysign(1, number) > 0:
        return int(number)
    return number


def _unsalt_value(value: str, *, where: str) -> Any:
    if not value or not _UUID_V4.fullmatch(value.split(":", 1)[0]):
        return value
    kind, _, text = value[_UUID_V4_PREFIX_LENGTH:].strip(_JS_WHITESPACE).partition(":")
    if kind == "string":
        return text
    if kind == "number":
        return _js_to_number(text)
    if kind == "boolean":
        return text == "true"
    if kind == "null":
        return None
    if kind == "undefined":
        return UNDEFINED
    raise InvalidWrappedDocument(f"unknown salted type {kind!r} in {value!r}", field=where)


def unsalt(data: Any, *, root: str = "data") -> Any:
    """OA's ``unsaltData``: every salted string ``"<uuid v4>:<type>:<value>"`` in ``data``
    turned back into its typed value, as OA shows it (see the module doc); strings without a
    uuid v4 prefix, and non-strings, are returned as they are. ``"<uuid>:undefined:..."``
    gives UNDEFINED; an unknown type is an InvalidWrappedDocument naming the field."""

    def walk(node: Any, path: tuple[str | int, ...]) -> Any:
        if isinstance(node, Mapping):
            return {key: walk(value, (*path, key)) for key, value in node.items()}
        if isinstance(node, list):
            return [walk(value, (*path, i)) for i, value in enumerate(node)]
        if isinstance(node, str):
            return _unsalt_value(node, where=_path_text(path))
        return node

    return walk(data, (root,))


def _typed_text(value: Any) -> str:
    """OA's ``primitiveToTypedString``."""
    if value is UNDEFINED:
        return "undefined:undefined"
    if value is None:
        return "null:null"
    if isinstance(value, bool):
        return f"boolean:{'true' if value else 'false'}"
    if isinstance(value, int | float):
        return f"number:{_js_number_text(value)}"
    if isinstance(value, str):
        return f"string:{value}"
    raise InvalidWrappedDocument(f"{type(value).__name__} is not a JSON value")


def salt(data: Any, *, make_salt: Callable[[], str] | None = None) -> Any:
    """OA's ``saltData``: every primitive in ``data`` (objects and arrays descended into)
    replaced by ``"<salt>:<type>:<value>"``; the salt is a fresh uuid v4 unless ``make_salt``
    gives one."""
    new_salt = make_salt or (lambda: str(uuid.uuid4()))
    if isinstance(data, Mapping):
        return {key: salt(value, make_salt=new_salt) for key, value in data.items()}
    if isinstance(data, list):
        return [salt(value, make_salt=new_salt) for value in data]
    return f"{new_salt()}:{_typed_text(data)}"


# --------------------------------------------------------------------------- Merkle proof


def _combine(a: bytes, b: bytes) -> bytes:
    """OA's ``combineHashBuffers``: keccak256 of the two hashes sorted bytewise."""
    return keccak256(a + b if a <= b else b + a)


def _check_hash(value: object, *, where: str) -> bytes:
    if not isinstance(value, bytes) or len(value) != HASH_SIZE:
        raise InvalidWrappedDocument("expected 32 bytes", field=where)
    return value


def intermediate_hashes(target_hash: bytes, proof: Sequence[bytes]) -> tuple[bytes, ...]:
    """oa-verify's ``getIntermediateHashes``: the target hash and every hash up the proof, the
    last being the root when the proof holds. A DocumentStore is asked ``isRevoked`` for each."""
    node = _check_hash(target_hash, where="targetHash")
    hashes = [node]
    for i, sibling in enumerate(proof):
        node = _combine(node, _check_hash(sibling, where=f"proof[{i}]"))
        hashes.append(node)
    return tuple(hashes)


def merkle_root_of(target_hash: bytes, proof: Sequence[bytes]) -> bytes:
    """OA's ``checkProof`` folding: the root the proof leads to from the target hash."""
    return intermediate_hashes(target_hash, proof)[-1]


# --------------------------------------------------------------------------- documents


@dataclass(frozen=True)
class IdentityProof:
    """How an issuer's identity is proven: ``DNS-TXT`` (location), ``DNS-DID`` or ``DID`` (key)."""

    type: str
    location: str | None = None
    key: str | None = None


@dataclass(frozen=True)
class Issuer:
    """One entry of ``data.issuers``, unsalted. The store addresses are EIP-55 checksummed."""

    name: str
    document_store: Address | None = None
    certificate_store: Address | None = None
    token_registry: Address | None = None
    identity_proof: IdentityProof | None = None

    @property
    def store(self) -> Address | None:
        """The DocumentStore oa-verify checks: ``documentStore``, else ``certificateStore``."""
        return self.document_store or self.certificate_store


@dataclass(frozen=True)
class WrappedDocument:
    """A parsed OA v2 wrapped document. ``salted_data`` is ``data`` as wrapped (what is
    hashed), ``data`` its unsalted values (what is shown); ``obfuscated`` the hex strings of
    ``privacy.obfuscatedData`` as written (they are hashed as text)."""

    version: str | None
    target_hash: bytes
    merkle_root: bytes
    proof: tuple[bytes, ...]
    salted_data: dict[str, Any]
    data: dict[str, Any]
    obfuscated: tuple[str, ...]
    issuers: tuple[Issuer, ...]


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
_LOWER_HEX64 = re.compile(r"[0-9a-f]{64}")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_MISSING = object()


def _field(doc: Mapping[str, Any], key: str, *, where: str) -> Any:
    value = doc.get(key, _MISSING)
    if value is _MISSING:
        raise InvalidWrappedDocument("missing", field=where)
    return value


def _hash_field(value: object, *, where: str, lower_case: bool = False) -> bytes:
    pattern = _LOWER_HEX64 if lower_case else _HEX64
    if not isinstance(value, str) or not pattern.fullmatch(value):
        digits = "64 lower-case hex digits" if lower_case else "64 hex digits"
        shown = repr(value) if isinstance(value, str) else _json_type(value)
        raise InvalidWrappedDocument(f"expected {digits} (no 0x), got {shown}", field=where)
    return bytes.fromhex(value)


def _optional_text(issuer: Mapping[str, Any], key: str, *, where: str) -> str | None:
    value = issuer.get(key)
    if value is None or isinstance(value, str):
        return value
    raise InvalidWrappedDocument(f"expected a string, got {_json_type(value)}", field=where)


def _address(issuer: Mapping[str, Any], key: str, *, where: str) -> Address | None:
    value = issuer.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not _ADDRESS.fullmatch(value):
        shown = repr(value) if isinstance(value, str) else _json_type(value)
        raise InvalidWrappedDocument(f"expected 0x and 40 hex digits, got {shown}", field=where)
    address = checksum_address(value)
    digits = value[2:]
    # As ethers (and so oa-verify): mixed case must be the EIP-55 checksum.
    if digits != digits.lower() and digits != digits.upper() and value != address:
        raise InvalidWrappedDocument(f"bad EIP-55 checksum in {value}", field=where)
    return address


def _issuers(data: Mapping[str, Any]) -> tuple[Issuer, ...]:
    raw = _field(data, "issuers", where="data.issuers")
    if not isinstance(raw, list) or not raw:
        raise InvalidWrappedDocument("expected a non-empty array", field="data.issuers")
    issuers = []
    for i, issuer in enumerate(raw):
        where = f"data.issuers[{i}]"
        if not isinstance(issuer, Mapping):
            raise InvalidWrappedDocument(
                f"expected an object, got {_json_type(issuer)}", field=where
            )
        name = _field(issuer, "name", where=f"{where}.name")
        if not isinstance(name, str):
            raise InvalidWrappedDocument(
                f"expected a string, got {_json_type(name)}", field=f"{where}.name"
            )
        proof = issuer.get("identityProof")
        identity: IdentityProof | None = None
        if proof is not None:
            if not isinstance(proof, Mapping):
                raise InvalidWrappedDocument(
                    f"expected an object, got {_json_type(proof)}", field=f"{where}.identityProof"
                )
            kind = _optional_text(proof, "type", where=f"{where}.identityProof.type")
            if kind is None:
                raise InvalidWrappedDocument("missing", field=f"{where}.identityProof.type")
            identity = IdentityProof(
                type=kind,
                location=_optional_text(proof, "location", where=f"{where}.identityProof.location"),
                key=_optional_text(proof, "key", where=f"{where}.identityProof.key"),
            )
        issuers.append(
            Issuer(
                name=name,
                document_store=_address(issuer, "documentStore", where=f"{where}.documentStore"),
                certificate_store=_address(
                    issuer, "certificateStore", where=f"{where}.certificateStore"
                ),
                token_registry=_address(issuer, "tokenRegistry", where=f"{where}.tokenRegistry"),
                identity_proof=identity,
            )
        )
    return tuple(issuers)


def parse_wrapped_v2(document: Mapping[str, Any]) -> WrappedDocument:
    """Read an OA v2 wrapped document: ``signature`` (type SHA3MerkleProof, targetHash,
    proof, merkleRoot), salted ``data`` with its issuers, ``privacy.obfuscatedData``.

    Refuses, with InvalidWrappedDocument naming the field, what OA would refuse or could
    never verify: hashes that are not 64 hex digits (targetHash lower-case: OA compares it as
    text), a missing or non-object ``data``, another signature type, a v3 document, unknown
    salted types, issuer addresses that are not addresses or carry a bad checksum.
    """
    if not isinstance(document, Mapping):
        raise InvalidWrappedDocument(f"expected an object, got {_json_type(document)}")
    version = document.get("version")
    if version is not None and not isinstance(version, str):
        raise InvalidWrappedDocument(
            f"expected a string, got {_json_type(version)}", field="version"
        )
    if version == OA_V3_SCHEMA_ID:
        raise InvalidWrappedDocument("an OpenAttestation v3 document, not v2", field="version")
    signature = _field(document, "signature", where="signature")
    if not isinstance(signature, Mapping):
        raise InvalidWrappedDocument(
            f"expected an object, got {_json_type(signature)}", field="signature"
        )
    kind = _field(signature, "type", where="signature.type")
    if kind != SIGNATURE_TYPE:
        raise InvalidWrappedDocument(
            f"expected {SIGNATURE_TYPE!r}, got {kind!r}", field="signature.type"
        )
    target_hash = _hash_field(
        _field(signature, "targetHash", where="signature.targetHash"),
        where="signature.targetHash",
        lower_case=True,
    )
    merkle_root = _hash_field(
        _field(signature, "merkleRoot", where="signature.merkleRoot"),
        where="signature.merkleRoot",
    )
    raw_proof = _field(signature, "proof", where="signature.proof")
    if not isinstance(raw_proof, list):
        raise InvalidWrappedDocument(
            f"expected an array, got {_json_type(raw_proof)}", field="signature.proof"
        )
    proof = tuple(_hash_field(p, where=f"signature.proof[{i}]") for i, p in enumerate(raw_proof))
    salted = _field(document, "data", where="data")
    if not isinstance(salted, Mapping):
        raise InvalidWrappedDocument(f"expected an object, got {_json_type(salted)}", field="data")
    privacy = document.get("privacy", {})
    if not isinstance(privacy, Mapping):
        raise InvalidWrappedDocument(
            f"expected an object, got {_json_type(privacy)}", field="privacy"
        )
    raw_obfuscated = privacy.get("obfuscatedData", [])
    if not isinstance(raw_obfuscated, list):
        raise InvalidWrappedDocument(
            f"expected an array, got {_json_type(raw_obfuscated)}", field="privacy.obfuscatedData"
        )
    for i, h in enumerate(raw_obfuscated):
        _hash_field(h, where=f"privacy.obfuscatedData[{i}]")
    _flatten(salted)  # refuses keys OA cannot hash, naming them
    plain = unsalt(salted)
    return WrappedDocument(
        version=version,
        target_hash=target_hash,
        merkle_root=merkle_root,
        proof=proof,
        salted_data=copy.deepcopy(dict(salted)),
        data=plain,
        obfuscated=tuple(raw_obfuscated),
        issuers=_issuers(plain),
    )


def is_wrapped_v2(document: object) -> bool:
    """Whether ``document`` is an OA v2 wrapped document that parse_wrapped_v2 accepts."""
    if not isinstance(document, Mapping):
        return False
    try:
        parse_wrapped_v2(document)
    except InvalidWrappedDocument:
        return False
    return True


# --------------------------------------------------------------------------- integrity


@dataclass(frozen=True)
class IntegrityResult:
    """What an offline check of an OA v2 document found, and what to ask the chain.

    ``valid`` is OpenAttestation's own verdict (``verifySignature``). ``intact`` also needs
    every shown value to be covered by the target hash: show a document as attested only
    when it is intact and the chain says its root is issued and none of
    ``revocation_hashes`` is revoked.
    """

    target_hash: bytes
    """signature.targetHash, as stated."""
    computed_target_hash: bytes
    merkle_root: bytes
    """signature.merkleRoot, as stated: ask a DocumentStore ``isIssued`` (a token registry
    ``ownerOf``) for it."""
    computed_merkle_root: bytes
    """Where the proof leads from the stated target hash (OA folds the stated one)."""
    revocation_hashes: tuple[bytes, ...]
    """Ask a DocumentStore ``isRevoked`` for each: target hash, then each hash up the proof."""
    uncovered_fields: tuple[str, ...]
    """Paths of shown values that the target hash does not cover."""

    @property
    def target_hash_matches(self) -> bool:
        """The data and obfuscated hashes give the stated target hash."""
        return self.computed_target_hash == self.target_hash

    @property
    def merkle_root_matches(self) -> bool:
        """The proof leads from the stated target hash to the stated Merkle root."""
        return self.computed_merkle_root == self.merkle_root

    @property
    def valid(self) -> bool:
        """OpenAttestation's verdict: both hashes match."""
        return self.target_hash_matches and self.merkle_root_matches

    @property
    def intact(self) -> bool:
        """Valid, and every shown value is covered by the target hash."""
        return self.valid and not self.uncovered_fields

    @property
    def issuance_hash(self) -> bytes:
        """The hash a DocumentStore is asked ``isIssued`` for: the stated Merkle root."""
        return self.merkle_root

    def checks(self) -> tuple[Check, Check]:
        """The integrity (target hash) and inclusion (proof to root) checks."""
        if not self.target_hash_matches:
            integrity = Check.failed(
                CheckName.INTEGRITY,
                "the document's data does not hash to its targetHash: it was altered",
                computed=self.computed_target_hash.hex(),
            )
        elif self.uncovered_fields:
            integrity = Check.failed(
                CheckName.INTEGRITY,
                "OpenAttestation accepts the hash, but it does not cover "
                + ", ".join(self.uncovered_fields),
                openattestation_valid=True,
            )
        else:
            integrity = Check.passed(CheckName.INTEGRITY, "the data hashes to its targetHash")
        if self.merkle_root_matches:
            inclusion = Check.passed(
                CheckName.INCLUSION, "the proof leads from the targetHash to the merkleRoot"
            )
        else:
            inclusion = Check.failed(
                CheckName.INCLUSION,
                "the proof does not lead from the targetHash to the merkleRoot",
                computed=self.computed_merkle_root.hex(),
            )
        return integrity, inclusion


def check_document_integrity(document: Mapping[str, Any] | WrappedDocument) -> IntegrityResult:
    """Check an OA v2 wrapped document offline as OA's ``verifySignature`` does, and list the
    hashes oa-verify asks a DocumentStore about. Malformed documents raise
    InvalidWrappedDocument; a mismatch is a result, not an error."""
    parsed = document if isinstance(document, WrappedDocument) else parse_wrapped_v2(document)
    flattened = _flatten(parsed.salted_data)
    hashes = intermediate_hashes(parsed.target_hash, parsed.proof)
    return IntegrityResult(
        target_hash=parsed.target_hash,
        computed_target_hash=_digest(flattened, parsed.obfuscated),
        merkle_root=parsed.merkle_root,
        computed_merkle_root=hashes[-1],
        revocation_hashes=hashes,
        uncovered_fields=flattened.uncovered,
    )
