"""Deterministic, secret-keyed salts: the same record sealed twice by the same agency gets the
same salts, hence the same digest, so a re-submitted record is one record (idempotency), while
nobody without the agency's secret can predict a salt (so redacted values stay unguessable).

    fields      = the record's leaf fields as seal_record sees them (record.record_fields):
                  path and value, numbers in canonical form (1.0 and -0.0 are 1 and 0)
    seed        = HMAC-SHA256(secret, JSON of [[path, value], ...] sorted by JSON pointer)
    salt stream = SHAKE-256(seed); the field whose pointer sorts k-th gets bytes 16k..16k+15

"The same record" means the same JSON value: the seed and each field's salt depend on
neither how a number is spelt (``1``, ``1.0``, ``1e0``) nor the order of an object's keys,
so neither changes the digest. The seed is not part of any digest, so the standard
library's C JSON encoder writes it (RFC 8785 governs the field hashes); it is unambiguous
because the values are canonical (an int when integral, else the float's shortest repr).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from registry.record import SALT_BYTES, FieldLeaf, record_fields


def _seed(secret: bytes, fields: Sequence[FieldLeaf]) -> bytes:
    # Within one record pointers are unique (an object key "0" and an array index 0
    # never share a parent), so sorting by pointer is a total order on its fields.
    text = json.dumps(
        [[list(f.path), f.value] for f in fields],
        ensure_ascii=False,
        separators=(",", ":"),
        allow_nan=False,
    )
    return hmac.new(secret, text.encode("utf-8"), hashlib.sha256).digest()


def record_seed(secret: bytes, record: Mapping[str, Any]) -> bytes:
    """The per-record seed; raises the RecordError (a ValueError) seal_record would raise."""
    return _seed(secret, sorted(record_fields(record), key=_pointer))


def record_salt_source(secret: bytes, record: Mapping[str, Any]) -> Callable[[int], bytes]:
    """A `salt_source` for `registry.record.seal_record`: successive calls return the salts of
    the record's fields in document order (the order seal_record asks for them)."""
    fields = record_fields(record)
    ordered = sorted(range(len(fields)), key=lambda i: fields[i].pointer)
    stream = hashlib.shake_256(_seed(secret, [fields[i] for i in ordered])).digest(
        SALT_BYTES * len(fields)
    )
    salts = [b""] * len(fields)
    for rank, index in enumerate(ordered):
        salts[index] = stream[SALT_BYTES * rank : SALT_BYTES * (rank + 1)]
    in_order = b"".join(salts)
    position = 0

    def take(n: int) -> bytes:
        # Past the record's fields it returns short, and seal_record refuses the salt.
        nonlocal position
        out = in_order[position : position + n]
        position += n
        return out

    return take


def _pointer(leaf: FieldLeaf) -> str:
    return leaf.pointer
