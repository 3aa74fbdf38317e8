"""Exporting a sealed record as a W3C Verifiable Credential (docs/credentials.md): the sealed
document with its receipt, signed (eddsa-jcs-2022) by the agency key that signed the receipt,
the issuer named as the registry names the agency.

The key must be the receipt's: a verifier holds the credential's proof to the key the chain
says was the agency's at the anchor time. After a rotation that key is a retired key file of
the data directory (kept, never deleted), which is looked up here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from registry import keys
from registry.credential import build_credential
from registry.errors import InvalidInput, RegistryError, SigningKeyError
from registry.receipt import Receipt
from registry.record import (
    MAX_DOCUMENT_BYTES,
    MAX_DOCUMENT_DEPTH,
    load_json_strict,
    parse_sealed_document,
)
from registry.service import records
from registry.service.agencies import AgencyRef
from registry.service.keyring import Keyring
from registry.service.operator import Operator, slug
from registry.trustlist import caip10
from registry.types import to_hex

__all__ = ["agency_credential", "credential_from_sealed", "export_credential"]


def export_credential(
    operator: Operator,
    digest: bytes,
    *,
    passphrase: str,
    agency: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The credential of an anchored structured record of this registry, from its stored
    sealed document (decrypted with its agency's data key; with the setting
    `delete_document_after_download` this counts as the download). `agency` (name or address)
    picks the record of that agency when several hold the digest; by default the earliest
    anchored. The key files are decrypted with `passphrase`."""
    agency_id = operator.agency(agency).id if agency is not None else None
    sealed = operator.sealed_document_for(digest, agency_id=agency_id, passphrase=passphrase)
    return credential_from_sealed(operator, sealed, passphrase=passphrase, now=now)


def credential_from_sealed(
    operator: Operator,
    sealed: Mapping[str, Any] | bytes,
    *,
    passphrase: str,
    agency: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The credential of a sealed document with its receipt (a SEALED.json file's text, read
    by the strict rules of docs/receipt.md 2.2.1, or a parsed one): the agency is the
    receipt's, whose key files this data directory must hold; `agency`, if given, must be that
    agency."""
    if isinstance(sealed, bytes):
        parsed = load_json_strict(
            sealed, where="", max_bytes=MAX_DOCUMENT_BYTES, max_depth=MAX_DOCUMENT_DEPTH
        )
        if not isinstance(parsed, dict):
            raise InvalidInput("expected a sealed document (a JSON object)")
        sealed = parsed
    receipt = _receipt_of(sealed)
    _check_registry(operator, receipt)
    owner = operator.agency(receipt.anchor.agency)
    if agency is not None and operator.agency(agency).id != owner.id:
        raise InvalidInput(
            f"the sealed record was issued by {owner.name!r} ({receipt.anchor.agency}), not by "
            f"{agency!r}",
            field="--agency",
        )
    current = operator.agency_signing_key(owner.name, passphrase)
    key = _receipt_key(operator, owner.name, receipt, current=current, passphrase=passphrase)
    return build_credential(
        sealed,
        agency_name=_registered_name(operator, receipt),
        signing_key=key,
        created=_created(now),
    )


def agency_credential(
    keyring: Keyring, agency: AgencyRef, digest: bytes, *, now: datetime | None = None
) -> dict[str, Any]:
    """The credential of one of the agency's own anchored structured records (the API's
    `GET /v1/records/{digest}/credential`): as `records.sealed_document` (NotYours for another
    agency's record, NotADocument for a file, NotAnchoredYet, DocumentPurged), signed with the
    key the server holds for the agency (or, after a rotation, its retired key file)."""
    sealed = records.sealed_document(keyring, agency, digest)
    receipt = _receipt_of(sealed)
    operator = keyring.operator
    current = keyring.issuer_for(agency).signing_key
    key = _receipt_key(operator, agency.name, receipt, current=current, keyring=keyring)
    return build_credential(
        sealed,
        agency_name=_registered_name(operator, receipt),
        signing_key=key,
        created=_created(now),
    )


# ------------------------------------------------------------------ helpers


def _receipt_of(sealed: Mapping[str, Any]) -> Receipt:
    receipt = parse_sealed_document(sealed).receipt
    if receipt is None:
        raise InvalidInput(
            "the sealed document has no receipt yet: a credential is made once it is anchored",
            field="receipt",
        )
    return receipt


def _check_registry(operator: Operator, receipt: Receipt) -> None:
    """A sealed record of another registry is not this operator's to sign."""
    anchor, own = receipt.anchor, operator.registry
    if anchor.chain_id != own.chain_id or anchor.registry.lower() != own.address.lower():
        raise InvalidInput(
            f"the sealed record was anchored on {caip10(anchor.chain_id, anchor.registry)}, not "
            f"on this registry {caip10(own.chain_id, own.address)}",
            field="receipt.anchor.registry",
        )


def _registered_name(operator: Operator, receipt: Receipt) -> str:
    """The agency's name as the registry holds it: what a verifier holds `issuer.name` to."""
    return operator.registry.agency_of(receipt.anchor.agency).name


def _receipt_key(
    operator: Operator,
    name: str,
    receipt: Receipt,
    *,
    current: Ed25519PrivateKey,
    passphrase: str | None = None,
    keyring: Keyring | None = None,
) -> Ed25519PrivateKey:
    """The agency key that signed the receipt: the current one, else a retired key file of the
    agency (a rotation retires the old file, it never deletes it)."""
    wanted = receipt.signature.public_key
    if keys.public_key_bytes(current) == wanted:
        return current
    pattern = f"{slug(name)}.ed25519.json.ed25519-*.retired"
    retired = sorted(operator.keys_dir.glob(pattern), reverse=True)  # newest first
    if retired and passphrase is None and keyring is not None:
        passphrase = keyring.passphrase
    for path in retired:
        try:
            key = keys.load_signing_key(path, passphrase or "")
        except RegistryError:
            continue
        if keys.public_key_bytes(key) == wanted:
            return key
    raise SigningKeyError(
        f"agency {name!r}: the record's receipt was signed by the key {to_hex(wanted)}, which "
        "is neither its current signing key nor a retired one held here; a credential is "
        "signed by the receipt's key"
    )


def _created(now: datetime | None) -> str:
    moment = now if now is not None else datetime.now(UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
