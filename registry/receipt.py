"""The record receipt, version 2: build it, write it as JSON, parse it strictly, check it offline.

A receipt plus any JSON-RPC endpoint of the chain is enough to verify a document; the
issuing server is not needed. docs/receipt.md describes every field and the whole
verification algorithm; docs/receipt.schema.json is the JSON Schema.

Parsing is strict so that two readers never disagree on what a receipt says: hex is
lower-case with ``0x``; addresses must carry a correct EIP-55 checksum (all-lower-case
is refused too: a checksum is the only typo check an address has); timestamps are
``YYYY-MM-DDTHH:MM:SSZ``; unknown and missing fields are errors. Every InvalidReceipt
message starts with the JSON path of the field at fault, e.g. ``merkle.proof[3]``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, cast

from registry.checks import Check, CheckName
from registry.errors import InvalidInput, InvalidProof, InvalidReceipt
from registry.jsontext import load_json_strict
from registry.keys import verify_root_signature
from registry.merkle import KIND_FILE, KIND_RECORD, leaf_hash, process_proof
from registry.types import Address, Digest, Leaf, Root, SigningKey32, checksum_address, to_hex

__all__ = [
    "KIND_CODES",
    "MAX_CHAIN_ID",
    "MAX_LEAF_COUNT",
    "MAX_PROOF_LENGTH",
    "MAX_RECEIPT_BYTES",
    "RECEIPT_TYPE",
    "RECEIPT_VERSION",
    "Anchor",
    "DigestKind",
    "MerkleInfo",
    "Receipt",
    "ReceiptSignature",
    "build_receipt",
    "check_receipt_offline",
    "parse_receipt",
    "plausible_proof_lengths",
    "receipt_to_json",
]

RECEIPT_TYPE = "RecordReceipt"
RECEIPT_VERSION = 2
MAX_PROOF_LENGTH = 64
"""No batch is that large (the contract's leaf count is a uint32): a longer proof is garbage."""
MAX_LEAF_COUNT = 2**32 - 1
MAX_CHAIN_ID = 2**53 - 1
"""Chain ids above this cannot be read exactly by a JavaScript verifier."""
MAX_BLOCK_NUMBER = 2**63 - 1
SIGNATURE_ALG = "Ed25519"
MAX_RECEIPT_BYTES = 64 * 1024
"""Largest receipt text read: a full one is under 6 KiB, so anything bigger is refused unread."""

DigestKind = Literal["file", "record"]
KIND_CODES: dict[str, int] = {"file": KIND_FILE, "record": KIND_RECORD}
"""The leaf kind bound into the Merkle leaf for each digestKind (docs/receipt.md section 2.3)."""


def kind_leaf(kind: DigestKind, digest: bytes) -> Leaf:
    """The Merkle leaf of a digest of this kind."""
    code = KIND_CODES.get(kind)
    if code is None:
        raise InvalidInput(f"expected 'file' or 'record', got {kind!r}", field="digestKind")
    return leaf_hash(code, digest)


_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
_TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_HEX = re.compile(r"0x(?:[0-9a-f]{2})*")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_ZERO_ADDRESS = "0x" + "0" * 40


@dataclass(frozen=True)
class MerkleInfo:
    """Where the leaf sits: the batch root, the sibling hashes, and the batch size.

    (v1 also carried the record's position in the batch; nothing on chain proves it, so v2
    drops it rather than display an unproven number.)"""

    root: Root
    proof: tuple[bytes, ...]
    count: int


@dataclass(frozen=True)
class Anchor:
    """The on-chain anchoring of the batch root, as the issuer saw it. Every field is checked
    against the contract's `check(agency, ...)` answer (which stores the block number too);
    v1's transaction hash, which nothing on chain proves, is gone."""

    chain_id: int
    registry: Address
    agency: Address
    block_number: int
    anchored_at: datetime

    @property
    def anchored_at_unix(self) -> int:
        """The anchor time as Unix seconds, the unit the contract stores."""
        return int(self.anchored_at.timestamp())


@dataclass(frozen=True)
class ReceiptSignature:
    """The agency's Ed25519 signature over the root message (see registry.keys)."""

    public_key: SigningKey32
    value: bytes
    alg: Literal["Ed25519"] = "Ed25519"


@dataclass(frozen=True)
class Receipt:
    """A version-2 record receipt. Build with build_receipt, read with parse_receipt."""

    digest: Digest
    digest_kind: DigestKind
    leaf: Leaf
    merkle: MerkleInfo
    anchor: Anchor
    signature: ReceiptSignature


def receipt_to_json(receipt: Receipt) -> dict[str, Any]:
    """The receipt as a JSON object, in the field order of docs/receipt.md."""
    return {
        "type": RECEIPT_TYPE,
        "version": RECEIPT_VERSION,
        "digest": _hex(receipt.digest),
        "digestKind": receipt.digest_kind,
        "leaf": _hex(receipt.leaf),
        "merkle": {
            "root": _hex(receipt.merkle.root),
            "proof": [_hex(p) for p in receipt.merkle.proof],
            "count": receipt.merkle.count,
        },
        "anchor": {
            "chainId": receipt.anchor.chain_id,
            "registry": receipt.anchor.registry,
            "agency": receipt.anchor.agency,
            "blockNumber": receipt.anchor.block_number,
            "anchoredAt": _timestamp_text(receipt.anchor.anchored_at),
        },
        "signature": {
            "alg": receipt.signature.alg,
            "publicKey": _hex(receipt.signature.public_key),
            "value": _hex(receipt.signature.value),
        },
    }


def _hex(value: object) -> object:
    # Leaves non-bytes as they are, so parse_receipt reports them by field name.
    return to_hex(bytes(value)) if isinstance(value, bytes | bytearray) else value


def _timestamp_text(value: object) -> object:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).strftime(_TIMESTAMP_FORMAT)
    return value


def build_receipt(
    *,
    digest: bytes,
    digest_kind: DigestKind,
    root: bytes,
    proof: Sequence[bytes],
    count: int,
    chain_id: int,
    registry: str,
    agency: str,
    block_number: int,
    anchored_at: datetime | int,
    public_key: bytes,
    signature: bytes,
) -> Receipt:
    """A receipt for one record of an anchored batch; the leaf is computed from the digest.

    Addresses may be given in any case and are checksummed; ``anchored_at`` is Unix
    seconds or an aware datetime. The result is validated exactly as parse_receipt
    would, and the proof must lead to the root (InvalidProof otherwise), so a receipt
    that leaves the issuer is always well-formed.
    """
    when: object = anchored_at
    if isinstance(anchored_at, int) and not isinstance(anchored_at, bool):
        try:
            when = datetime.fromtimestamp(anchored_at, UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise InvalidReceipt(f"{anchored_at} is not a time", field="anchor.anchoredAt") from exc
    draft = Receipt(
        digest=Digest(digest),
        digest_kind=digest_kind,
        leaf=(
            kind_leaf(digest_kind, digest)
            if _is_bytes(digest, 32) and digest_kind in KIND_CODES
            else Leaf(b"")  # parse_receipt below names the bad digest or kind
        ),
        merkle=MerkleInfo(root=Root(root), proof=tuple(proof), count=count),
        anchor=Anchor(
            chain_id=chain_id,
            registry=_checksummed(registry),
            agency=_checksummed(agency),
            block_number=block_number,
            anchored_at=cast("datetime", when),  # checked by parse_receipt below
        ),
        signature=ReceiptSignature(public_key=SigningKey32(public_key), value=signature),
    )
    receipt = parse_receipt(receipt_to_json(draft))
    if process_proof(receipt.leaf, list(receipt.merkle.proof)) != receipt.merkle.root:
        raise InvalidProof(
            f"does not lead from leaf {to_hex(receipt.leaf)} to root {to_hex(receipt.merkle.root)}",
            field="merkle.proof",
        )
    return receipt


def build_batch_receipts(
    *,
    digests: Sequence[bytes],
    kinds: Sequence[DigestKind],
    proofs: Sequence[Sequence[bytes]],
    root: bytes,
    chain_id: int,
    registry: str,
    agency: str,
    block_number: int,
    anchored_at: datetime | int,
    public_key: bytes,
    signature: bytes,
    leaves: Sequence[bytes] | None = None,
) -> list[Receipt]:
    """Receipts for every record of one anchored batch, in leaf order, fast.

    The batch-wide parts (anchor, signature, root) are validated once, through build_receipt
    for the first record, and shared; each further receipt only gets its leaf computed. The
    proofs must come from the batch's own MerkleTree (``all_proofs``): they are not re-walked
    here, which is what makes 100,000 receipts take a second instead of twenty. ``leaves``,
    if given, must be the same tree's leaves (``MerkleTree.leaves()``), saving the hashing.
    """
    count = len(digests)
    if not (count == len(kinds) == len(proofs)) or count == 0:
        raise InvalidInput("digests, kinds and proofs: expected equal, non-zero lengths")
    first = build_receipt(
        digest=digests[0],
        digest_kind=kinds[0],
        root=root,
        proof=proofs[0],
        count=count,
        chain_id=chain_id,
        registry=registry,
        agency=agency,
        block_number=block_number,
        anchored_at=anchored_at,
        public_key=public_key,
        signature=signature,
    )
    receipts = [first]
    root_, anchor, signature_ = first.merkle.root, first.anchor, first.signature
    new = object.__new__
    # Frozen dataclasses set each field through object.__setattr__; for 100,000 receipts
    # of already-validated parts, filling __dict__ directly is several times faster.
    for index in range(1, count):
        digest = digests[index]
        if len(digest) != 32:
            raise InvalidInput("expected 32 bytes", field=f"digests[{index}]")
        info = new(MerkleInfo)
        info.__dict__.update(root=root_, proof=tuple(proofs[index]), count=count)
        receipt = new(Receipt)
        receipt.__dict__.update(
            digest=bytes(digest),
            digest_kind=kinds[index],
            leaf=leaves[index] if leaves is not None else kind_leaf(kinds[index], digest),
            merkle=info,
            anchor=anchor,
            signature=signature_,
        )
        receipts.append(receipt)
    return receipts


def _is_bytes(value: object, length: int) -> bool:
    return isinstance(value, bytes | bytearray) and len(value) == length


def _checksummed(address: str) -> Address:
    # An all-lower or all-upper address carries no checksum: add it. Mixed case is kept
    # as given, so parse_receipt refuses a wrong checksum instead of "fixing" a typo.
    if isinstance(address, str) and _ADDRESS.fullmatch(address):
        body = address[2:]
        if body == body.lower() or body == body.upper():
            return checksum_address(address)
    return cast("Address", address)  # unchecked here: parse_receipt names the field


# --------------------------------------------------------------------------- parsing


def _load(text: str | bytes) -> object:
    """The receipt text, read by the same strict JSON rules as a sealed document
    (docs/receipt.md section 2.2): no repeated key, no NaN, bounded depth, one number rule
    (so `1.0` is the integer 1)."""
    try:
        return load_json_strict(text, where="receipt", max_bytes=MAX_RECEIPT_BYTES)
    except InvalidInput as exc:
        raise InvalidReceipt(exc.problem, field=exc.field) from None


class _Reader:
    """Reads one receipt object, naming every field by its JSON path in errors."""

    def __init__(self, where: str) -> None:
        self.where = where

    def path(self, name: str) -> str:
        if not name:
            return self.where or "receipt"
        if not self.where or name.startswith("["):
            return f"{self.where}{name}" if self.where else name
        return f"{self.where}.{name}"

    def fail(self, name: str, problem: str) -> InvalidReceipt:
        return InvalidReceipt(problem, field=self.path(name))

    def members(self, value: object, name: str, keys: Sequence[str]) -> Mapping[str, object]:
        if not isinstance(value, Mapping):
            raise self.fail(name, f"expected a JSON object, got {_json_type(value)}")
        prefix = f"{name}." if name else ""
        for key in value:
            if key not in keys:
                raise self.fail(f"{prefix}{key}", "unknown field")
        for key in keys:
            if key not in value:
                raise self.fail(f"{prefix}{key}", "missing")
        return value

    def hex_bytes(self, value: object, name: str, length: int) -> bytes:
        if not isinstance(value, str) or not _HEX.fullmatch(value) or len(value) != 2 + 2 * length:
            raise self.fail(
                name, f"expected {length}-byte hex (0x + {2 * length} lower-case hex digits)"
            )
        return bytes.fromhex(value[2:])

    def integer(self, value: object, name: str, low: int, high: int) -> int:
        if type(value) is not int:
            raise self.fail(name, f"expected an integer, got {_json_type(value)}")
        if not low <= value <= high:
            raise self.fail(name, f"{value} is out of range [{low}, {high}]")
        return value

    def address(self, value: object, name: str) -> Address:
        if not isinstance(value, str) or not _ADDRESS.fullmatch(value):
            raise self.fail(name, "expected an address (0x + 40 hex digits, EIP-55 checksummed)")
        if value.lower() == _ZERO_ADDRESS:
            raise self.fail(name, "the zero address is not an account")
        expected = checksum_address(value)
        if value != expected:
            raise self.fail(name, f"bad or missing EIP-55 checksum; expected {expected}")
        return expected  # the same string, typed as checksummed

    def timestamp(self, value: object, name: str) -> datetime:
        if not isinstance(value, str) or not _TIMESTAMP.fullmatch(value):
            raise self.fail(name, "expected UTC time as YYYY-MM-DDTHH:MM:SSZ")
        try:
            parsed = datetime.strptime(value, _TIMESTAMP_FORMAT).replace(tzinfo=UTC)
        except ValueError as exc:
            raise self.fail(name, f"not a real date and time ({exc})") from None
        if parsed.year < 1970:
            raise self.fail(name, "before 1970: no chain block has such a time")
        return parsed


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


_TOP_KEYS = ("type", "version", "digest", "digestKind", "leaf", "merkle", "anchor", "signature")
_MERKLE_KEYS = ("root", "proof", "count")
_ANCHOR_KEYS = ("chainId", "registry", "agency", "blockNumber", "anchoredAt")
_SIGNATURE_KEYS = ("alg", "publicKey", "value")


def plausible_proof_lengths(count: int) -> tuple[int, int]:
    """Shortest and longest proof in a StandardMerkleTree of ``count`` leaves."""
    return (count.bit_length() - 1, (count - 1).bit_length())


def parse_receipt(obj: Mapping[str, Any] | str | bytes, *, where: str = "") -> Receipt:
    """Validate a receipt (JSON text or parsed object) field by field.

    ``where`` prefixes error paths when the receipt sits inside another document
    (``"receipt"`` in a sealed document). Raises InvalidReceipt naming the field.
    """
    raw: object = _load(obj) if isinstance(obj, str | bytes | bytearray) else obj
    read = _Reader(where)
    top = read.members(raw, "", _TOP_KEYS)
    if top["type"] != RECEIPT_TYPE:
        raise read.fail("type", f"expected {RECEIPT_TYPE!r}, got {top['type']!r}")
    version = top["version"]
    if type(version) is not int or version != RECEIPT_VERSION:
        raise read.fail(
            "version", f"unsupported version {version!r} (this reader knows {RECEIPT_VERSION})"
        )
    digest = Digest(read.hex_bytes(top["digest"], "digest", 32))
    kind = top["digestKind"]
    if kind != "file" and kind != "record":
        raise read.fail("digestKind", f"expected 'file' or 'record', got {kind!r}")
    leaf = Leaf(read.hex_bytes(top["leaf"], "leaf", 32))

    merkle = read.members(top["merkle"], "merkle", _MERKLE_KEYS)
    root = Root(read.hex_bytes(merkle["root"], "merkle.root", 32))
    count = read.integer(merkle["count"], "merkle.count", 1, MAX_LEAF_COUNT)
    proof_raw = merkle["proof"]
    if not isinstance(proof_raw, list):
        raise read.fail("merkle.proof", f"expected an array, got {_json_type(proof_raw)}")
    if len(proof_raw) > MAX_PROOF_LENGTH:
        raise read.fail(
            "merkle.proof", f"{len(proof_raw)} hashes; no proof is longer than {MAX_PROOF_LENGTH}"
        )
    proof = tuple(read.hex_bytes(p, f"merkle.proof[{i}]", 32) for i, p in enumerate(proof_raw))
    shortest, longest = plausible_proof_lengths(count)
    if not shortest <= len(proof) <= longest:
        expected = str(shortest) if shortest == longest else f"{shortest} or {longest}"
        raise read.fail(
            "merkle.proof",
            f"{len(proof)} hashes cannot be a proof in a batch of {count} (expected {expected})",
        )

    anchor = read.members(top["anchor"], "anchor", _ANCHOR_KEYS)
    parsed_anchor = Anchor(
        chain_id=read.integer(anchor["chainId"], "anchor.chainId", 1, MAX_CHAIN_ID),
        registry=read.address(anchor["registry"], "anchor.registry"),
        agency=read.address(anchor["agency"], "anchor.agency"),
        block_number=read.integer(anchor["blockNumber"], "anchor.blockNumber", 1, MAX_BLOCK_NUMBER),
        anchored_at=read.timestamp(anchor["anchoredAt"], "anchor.anchoredAt"),
    )

    signature = read.members(top["signature"], "signature", _SIGNATURE_KEYS)
    if signature["alg"] != SIGNATURE_ALG:
        raise read.fail("signature.alg", f"expected 'Ed25519', got {signature['alg']!r}")
    parsed_signature = ReceiptSignature(
        public_key=SigningKey32(read.hex_bytes(signature["publicKey"], "signature.publicKey", 32)),
        value=read.hex_bytes(signature["value"], "signature.value", 64),
    )
    return Receipt(
        digest=digest,
        digest_kind=kind,
        leaf=leaf,
        merkle=MerkleInfo(root=root, proof=proof, count=count),
        anchor=parsed_anchor,
        signature=parsed_signature,
    )


# --------------------------------------------------------------------------- offline check


def check_receipt_offline(
    receipt: Receipt | Mapping[str, Any] | str | bytes,
    *,
    digest: bytes | None = None,
    digest_kind: DigestKind | None = None,
) -> list[Check]:
    """The checks that need no chain: format, integrity, inclusion, signature.

    ``digest`` is the digest recomputed from the document in hand and ``digest_kind`` what it
    was recomputed from (the bytes of a file, or a sealed record): both or neither. Without a
    document the integrity check only confirms the receipt's leaf matches its own kind and
    digest and is reported as skipped. A passing signature proves only that the key in the
    receipt signed this root for this chain, registry and agency; whether that key belonged to
    the agency at the anchor time is the on-chain step (keyOf).
    """
    if (digest is None) != (digest_kind is None):
        raise InvalidInput("digest and digest_kind: give both (a document in hand) or neither")
    if digest is not None and not _is_bytes(digest, 32):
        raise InvalidInput("a document digest is 32 bytes", field="digest")
    if digest_kind is not None and digest_kind not in KIND_CODES:
        raise InvalidInput(f"expected 'file' or 'record', got {digest_kind!r}", field="digest_kind")
    if not isinstance(receipt, Receipt):
        try:
            receipt = parse_receipt(receipt)
        except InvalidReceipt as exc:
            after = "the receipt is malformed"
            return [
                Check.failed(CheckName.FORMAT, str(exc)),
                Check.skipped(CheckName.INTEGRITY, after),
                Check.skipped(CheckName.INCLUSION, after),
                Check.skipped(CheckName.SIGNATURE, after),
            ]
    checks = [Check.passed(CheckName.FORMAT, f"receipt version {RECEIPT_VERSION}, well-formed")]
    checks.append(_integrity(receipt, digest, digest_kind))
    checks.append(_inclusion(receipt))
    checks.append(_signature(receipt))
    return checks


def _integrity(receipt: Receipt, digest: bytes | None, kind: DigestKind | None) -> Check:
    expected_leaf = kind_leaf(receipt.digest_kind, receipt.digest)
    if receipt.leaf != expected_leaf:
        return Check.failed(
            CheckName.INTEGRITY,
            f"leaf {to_hex(receipt.leaf)} is not the leaf of the {receipt.digest_kind} digest "
            f"{to_hex(receipt.digest)} ({to_hex(expected_leaf)})",
        )
    if digest is None or kind is None:
        return Check.skipped(
            CheckName.INTEGRITY, "no document given; the receipt's leaf matches its digest"
        )
    if kind != receipt.digest_kind:
        # A file's receipt never verifies a record, nor the reverse, whatever the 32 bytes.
        return Check.failed(
            CheckName.INTEGRITY,
            f"the receipt is for a {receipt.digest_kind} digest, but a {kind} was given",
        )
    if bytes(digest) != receipt.digest:
        return Check.failed(
            CheckName.INTEGRITY,
            f"the document's digest {to_hex(bytes(digest))} is not the receipt's "
            f"{to_hex(receipt.digest)}: the document was altered or is another document",
        )
    return Check.passed(
        CheckName.INTEGRITY,
        f"document digest {to_hex(receipt.digest)} matches",
        digest=to_hex(receipt.digest),
        digestKind=receipt.digest_kind,
    )


def _inclusion(receipt: Receipt) -> Check:
    computed = process_proof(receipt.leaf, list(receipt.merkle.proof))
    if computed != receipt.merkle.root:
        return Check.failed(
            CheckName.INCLUSION,
            f"the proof leads to {to_hex(computed)}, not to the root {to_hex(receipt.merkle.root)}",
        )
    return Check.passed(
        CheckName.INCLUSION,
        f"leaf is in the batch with root {to_hex(receipt.merkle.root)}",
        root=to_hex(receipt.merkle.root),
    )


def _signature(receipt: Receipt) -> Check:
    anchor = receipt.anchor
    valid = verify_root_signature(
        receipt.signature.public_key,
        receipt.signature.value,
        chain_id=anchor.chain_id,
        registry=anchor.registry,
        agency=anchor.agency,
        root=receipt.merkle.root,
    )
    if not valid:
        return Check.failed(
            CheckName.SIGNATURE,
            f"the Ed25519 signature is not by key {to_hex(receipt.signature.public_key)} over "
            f"root {to_hex(receipt.merkle.root)} for agency {anchor.agency} on chain "
            f"{anchor.chain_id}, registry {anchor.registry}",
        )
    return Check.passed(
        CheckName.SIGNATURE,
        f"signed by key {to_hex(receipt.signature.public_key)} for agency {anchor.agency}, "
        f"chain {anchor.chain_id}, registry {anchor.registry} (key ownership is checked on chain)",
        publicKey=to_hex(receipt.signature.public_key),
    )
