"""Sealed documents at rest: encrypted with the agency's data key, deleted by retention.

A sealed document holds a record's personal data and its salts, so the store never keeps it
in clear. Each agency has a 32-byte data key (a data-key file in the keys directory, under the
operator passphrase: registry.keys); a stored document is

    "aesgcm1:" + base64(nonce (12 random bytes) | AES-256-GCM ciphertext and tag)

with `b"RecordRegistry/document/v1" | digest` as associated data, so a ciphertext copied to
another record's row (or encrypted under another agency's key) does not decrypt.

Retention (settings `document_retention_days`, `delete_document_after_download`) deletes the
contents and keeps the digest, the batch and the receipt: a citizen's copy still verifies.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from registry import keys, record
from registry.errors import RegistryError
from registry.receipt import Receipt
from registry.store import Store, repo
from registry.store.errors import NotFound
from registry.store.models import utcnow

__all__ = [
    "CIPHERTEXT_PREFIX",
    "DocumentPurged",
    "DocumentUnreadable",
    "Purged",
    "decrypt_document",
    "download_sealed_document",
    "encrypt_clear_documents",
    "encrypt_document",
    "encrypt_items",
    "is_encrypted",
    "purge_documents",
]

CIPHERTEXT_PREFIX = "aesgcm1:"
_AD_TAG = b"RecordRegistry/document/v1"
_NONCE_BYTES = 12
_DAY = 86_400


class DocumentUnreadable(RegistryError):
    """A stored sealed document does not decrypt with its agency's data key: another key,
    another record's ciphertext, or altered bytes."""


class DocumentPurged(RegistryError):
    """The record's sealed contents were deleted (retention or download); its digest, batch
    and receipt remain."""


def _check_key(data_key: bytes) -> AESGCM:
    if len(data_key) != keys.DATA_KEY_BYTES:
        raise DocumentUnreadable(f"a data key is {keys.DATA_KEY_BYTES} bytes, got {len(data_key)}")
    return AESGCM(bytes(data_key))


def is_encrypted(stored: str) -> bool:
    """Whether a stored document is a ciphertext (not a clear one from before encryption)."""
    return stored.startswith(CIPHERTEXT_PREFIX)


def encrypt_document(*, data_key: bytes, digest: bytes, document: str) -> str:
    """The stored form of a sealed document's JSON, bound to its record's digest."""
    nonce = os.urandom(_NONCE_BYTES)
    sealed = _check_key(data_key).encrypt(nonce, document.encode("utf-8"), _AD_TAG + digest)
    return CIPHERTEXT_PREFIX + base64.b64encode(nonce + sealed).decode("ascii")


def decrypt_document(*, data_key: bytes, digest: bytes, stored: str) -> str:
    """The sealed document's JSON from its stored form (a clear one from before encryption is
    returned as is); DocumentUnreadable if it does not decrypt for this key and digest."""
    if not is_encrypted(stored):
        return stored
    try:
        raw = base64.b64decode(stored[len(CIPHERTEXT_PREFIX) :], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise DocumentUnreadable(f"0x{digest.hex()}: the stored document is damaged") from exc
    nonce, sealed = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:]
    try:
        clear = _check_key(data_key).decrypt(nonce, sealed, _AD_TAG + digest)
    except (InvalidTag, ValueError) as exc:
        raise DocumentUnreadable(
            f"0x{digest.hex()}: the stored document does not decrypt with the agency's data "
            "key (another key, another record's ciphertext, or altered)"
        ) from exc
    return clear.decode("utf-8")


def encrypt_items(
    data_key: bytes, items: Sequence[tuple[bytes, str, str | None]]
) -> list[tuple[bytes, str, str | None]]:
    """Submission items `(digest, kind, document)` with every document encrypted."""
    aead = _check_key(data_key)
    out: list[tuple[bytes, str, str | None]] = []
    for digest, kind, document in items:
        if document is not None and not is_encrypted(document):
            nonce = os.urandom(_NONCE_BYTES)
            sealed = aead.encrypt(nonce, document.encode("utf-8"), _AD_TAG + bytes(digest))
            document = CIPHERTEXT_PREFIX + base64.b64encode(nonce + sealed).decode("ascii")
        out.append((digest, kind, document))
    return out


def download_sealed_document(
    store: Store,
    *,
    digest: bytes,
    agency_id: int | None,
    data_key_for: Callable[[int], bytes],
    receipt_for: Callable[[bytes, int], Receipt],
    delete_after: bool = False,
) -> dict[str, Any]:
    """The sealed structured record with its receipt, as the citizen keeps it; with
    `delete_after`, its stored contents are deleted once it has been read.

    NotFound: no such structured record; DocumentPurged: its contents were deleted."""
    with store.session() as session:
        rec = repo.record_by_digest(session, digest, agency_id=agency_id)
        if rec is None or rec.digest_kind != "record":
            raise NotFound(f"0x{digest.hex()} is not a structured record of this store")
        stored, owner, record_id = rec.document, rec.agency_id, rec.id
        purged_at = rec.document_purged_at
    if stored is None:
        when = f" on {purged_at:%Y-%m-%d}" if purged_at is not None else ""
        raise DocumentPurged(
            f"the sealed contents of 0x{digest.hex()} were deleted{when} under the registry's "
            "retention rule; its receipt remains, and the citizen's copy still verifies"
        )
    clear = decrypt_document(data_key=data_key_for(owner), digest=digest, stored=stored)
    sealed = record.parse_sealed_document(clear)
    receipt = receipt_for(digest, owner)
    answer = record.to_json(record.attach_receipt(sealed, receipt))
    if delete_after:
        with store.session(write=True) as session:
            repo.forget_document(session, record_id, reason="downloaded")
    return answer


@dataclass(frozen=True)
class Purged:
    """What one retention pass deleted."""

    records: int
    anchored_before: int  # Unix seconds (block time)


def purge_documents(
    store: Store, *, retention_days: int | None, now: datetime | None = None
) -> Purged | None:
    """Delete the sealed contents of records anchored more than `retention_days` ago (block
    time), keeping digest, batch and receipt. None: no retention rule (keep)."""
    if retention_days is None:
        return None
    moment = now or utcnow()
    cutoff = int(moment.timestamp()) - retention_days * _DAY
    with store.session(write=True) as session:
        count = repo.purge_documents(session, anchored_before=cutoff)
    return Purged(count, cutoff)


def encrypt_clear_documents(store: Store, *, agency_id: int, data_key: bytes) -> int:
    """Encrypt the agency's documents stored in clear before encryption at rest (an upgraded
    store); returns how many. Safe to repeat and to interrupt."""
    done = 0
    while True:
        with store.session(write=True) as session:
            rows = repo.plain_documents(session, agency_id=agency_id, prefix=CIPHERTEXT_PREFIX)
            if not rows:
                return done
            repo.replace_documents(
                session,
                [
                    (rid, encrypt_document(data_key=data_key, digest=digest, document=doc))
                    for rid, digest, doc in rows
                ],
            )
        done += len(rows)
