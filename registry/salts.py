"""Deterministic, secret-keyed salts: the same record sealed twice by the same agency gets the
same salts, hence the same digest, so a re-submitted record is one record (idempotency), while
nobody without the agency's secret can predict a salt (so redacted values stay unguessable).

    seed        = HMAC-SHA256(secret, JSON of the record with sorted keys, no whitespace)
    salt stream = SHAKE-256(seed), read 16 bytes per field in document order

The seed only has to be the same for the same record; it is not part of any digest, so the
standard library's C JSON encoder is used for it (RFC 8785 governs the field hashes).
Records equal as values but written differently (1 vs 1.0) get different salts: they are
then two records, which costs nothing but a duplicate.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from typing import Any

_CHUNK = 512  # bytes of stream drawn at once: 32 fields' salts


def record_seed(secret: bytes, record: Mapping[str, Any]) -> bytes:
    """The per-record seed; raises ValueError/TypeError for values JSON cannot hold."""
    text = json.dumps(
        record, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False
    )
    return hmac.new(secret, text.encode("utf-8", "surrogatepass"), hashlib.sha256).digest()


def record_salt_source(secret: bytes, record: Mapping[str, Any]) -> Callable[[int], bytes]:
    """A `salt_source` for `registry.record.seal_record`: successive calls return successive
    bytes of the record's salt stream."""
    seed = record_seed(secret, record)
    stream = hashlib.shake_256(seed).digest(_CHUNK)
    position = 0

    def take(n: int) -> bytes:
        nonlocal stream, position
        end = position + n
        if end > len(stream):
            stream = hashlib.shake_256(seed).digest(max(2 * len(stream), end))
        out = stream[position:end]
        position = end
        return out

    return take
