"""Deterministic, secret-keyed salts: the same record sealed twice by the same agency gets the
same salts, hence the same digest, so a re-submitted record is one record (idempotency), while
nobody without the agency's secret can predict a salt (so redacted values stay unguessable).

salt stream = SHAKE-256(HMAC-SHA256(secret, RFC 8785 canonical form of the record) || counter)
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from typing import Any

import rfc8785

SALT_SEED_TAG = b"RecordRegistry/salt-seed/v1"


def record_salt_source(secret: bytes, record: Mapping[str, Any]) -> Callable[[int], bytes]:
    """A `salt_source` for `registry.record.seal_record`: successive calls return successive
    bytes of a stream determined by `secret` and the record's canonical JSON.

    Raises whatever `rfc8785` raises for a value it cannot canonicalize; seal the record with
    random salts first to get the project's precise error for it."""
    seed = hmac.new(secret, rfc8785.dumps(record), hashlib.sha256).digest()
    counter = 0

    def take(n: int) -> bytes:
        nonlocal counter
        block = hashlib.shake_256(seed + counter.to_bytes(8, "big")).digest(n)
        counter += 1
        return block

    return take
