"""The sealed document: JSON round trip, strict validation, receipts, tamper detection."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from registry.errors import InvalidDocument, InvalidReceipt, TamperedDocument
from registry.keys import public_key_bytes, sign_root, signing_key_from_seed
from registry.merkle import KIND_FILE, MerkleTree
from registry.receipt import (
    KIND_CODES,
    Receipt,
    build_receipt,
    check_receipt_offline,
    receipt_to_json,
)
from registry.record import (
    SealedDocument,
    attach_receipt,
    bytes_digest,
    document_digest,
    parse_sealed_document,
    redact,
    seal_record,
    to_json,
    verify_document,
)

REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
AGENCY = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
RECORD = {"name": "Ada", "address": {"city": "London"}, "langs": ["en", "fr"], "notes": {}}


def anchored(doc: SealedDocument, *, kind: str = "record") -> Receipt:
    """A receipt for ``doc`` in a batch of three, signed by the TEST ONLY key."""
    digests = [bytes_digest(b"one"), doc.digest, bytes_digest(b"three")]
    tree = MerkleTree.from_digests(digests, [KIND_FILE, KIND_CODES[kind], KIND_FILE])
    key = signing_key_from_seed(b"\x01" * 32)
    return build_receipt(
        digest=doc.digest,
        digest_kind=kind,  # type: ignore[arg-type]
        root=tree.root,
        proof=tree.proof(1),
        count=3,
        chain_id=31337,
        registry=REGISTRY,
        agency=AGENCY,
        block_number=7,
        anchored_at=1_800_000_000,
        public_key=public_key_bytes(key),
        signature=sign_root(key, chain_id=31337, registry=REGISTRY, agency=AGENCY, root=tree.root),
    )


@pytest.fixture
def document() -> SealedDocument:
    doc = seal_record(RECORD)
    return attach_receipt(doc, anchored(doc))


def test_round_trip_through_json_text(document: SealedDocument) -> None:
    text = json.dumps(to_json(document))
    again = parse_sealed_document(text)
    assert again == document
    assert parse_sealed_document(text.encode()) == document
    assert parse_sealed_document(json.loads(text)) == document
    assert verify_document(again) == document.digest


def test_the_whole_offline_verification_passes_and_survives_redaction(
    document: SealedDocument,
) -> None:
    for doc in (document, redact(document, ["/address", "/langs/0"])):
        parsed = parse_sealed_document(json.dumps(to_json(doc)))
        assert parsed.receipt is not None
        checks = check_receipt_offline(
            parsed.receipt, digest=document_digest(parsed), digest_kind="record"
        )
        assert [c.status for c in checks] == ["pass"] * 4


def test_tampering_fails_integrity(document: SealedDocument) -> None:
    obj = to_json(document)
    obj["data"]["name"] = "Eve"
    tampered = parse_sealed_document(obj)
    with pytest.raises(TamperedDocument, match="differs"):
        verify_document(tampered)
    assert tampered.receipt is not None
    checks = check_receipt_offline(
        tampered.receipt, digest=document_digest(tampered), digest_kind="record"
    )
    assert checks[1].name == "integrity" and checks[1].status == "fail"


def test_a_receipt_for_another_digest_is_refused(document: SealedDocument) -> None:
    """Protocol v2: a document whose ``digest`` and receipt's digest disagree is not
    well-formed, so it is refused when built or parsed (it used to be built, and only
    verify_document noticed)."""
    other = seal_record({"other": 1})
    with pytest.raises(InvalidDocument, match=r"^receipt\.digest: .* is not the document's"):
        SealedDocument(
            data=other.data,
            salts=other.salts,
            redacted=(),
            digest=other.digest,
            receipt=document.receipt,
        )
    obj = to_json(other)
    obj["receipt"] = to_json(document)["receipt"]
    with pytest.raises(InvalidDocument, match=r"^receipt\.digest: "):
        parse_sealed_document(json.dumps(obj))


def test_attach_receipt_refuses_another_documents_receipt(document: SealedDocument) -> None:
    other = seal_record({"other": 1})
    assert document.receipt is not None
    with pytest.raises(InvalidDocument, match=r"receipt\.digest"):
        attach_receipt(other, document.receipt)
    with pytest.raises(InvalidDocument, match="digestKind"):
        attach_receipt(other, anchored(other, kind="file"))
    attached = attach_receipt(other, receipt_to_json(anchored(other)))
    assert attached.receipt is not None


def mutate(document: SealedDocument, change: Any) -> dict[str, Any]:
    obj = copy.deepcopy(to_json(document))
    change(obj)
    return obj


SALT = "0x" + "ab" * 16
BAD_DOCUMENTS: list[tuple[str, Any, str]] = [
    ("missing key", lambda o: o.pop("salts"), "salts: missing"),
    ("unknown key", lambda o: o.update(extra=1), "extra: unknown field"),
    ("type", lambda o: o.update(type="Receipt"), "type:"),
    ("version 2", lambda o: o.update(version=2), "version: unsupported"),
    ("version true", lambda o: o.update(version=True), "version: unsupported"),
    ("data not object", lambda o: o.update(data=[1]), "data: expected a JSON object"),
    ("missing salt", lambda o: o["salts"].pop("/name"), "data/name: field has no salt"),
    ("stray salt", lambda o: o["salts"].update({"/zip": SALT}), "salts['/zip']: no such field"),
    (
        "salt for a container",
        lambda o: o["salts"].update({"/address": SALT}),
        "salts['/address']: no such field",
    ),
    ("upper-case salt", lambda o: o["salts"].update({"/name": SALT.upper()}), "salts['/name']"),
    ("short salt", lambda o: o["salts"].update({"/name": "0xabcd"}), "salts['/name']"),
    ("salt not text", lambda o: o["salts"].update({"/name": 5}), "salts['/name']"),
    ("salts not object", lambda o: o.update(salts=[]), "salts: expected a JSON object"),
    ("redacted not array", lambda o: o.update(redacted={}), "redacted: expected an array"),
    ("redacted bad hex", lambda o: o.update(redacted=["0x12"]), "redacted[0]: expected 32-byte"),
    (
        "redacted unsorted",
        lambda o: o.update(redacted=["0x" + "22" * 32, "0x" + "11" * 32]),
        "redacted[1]: field hashes must be sorted",
    ),
    (
        "redacted repeated",
        lambda o: o.update(redacted=["0x" + "22" * 32, "0x" + "22" * 32]),
        "redacted[1]: field hashes must be sorted and unique",
    ),
    ("digest", lambda o: o.update(digest="0x" + "AB" * 32), "digest: expected 32-byte"),
    ("NaN in data", lambda o: o["data"].update(name=float("nan")), "data/name:"),
    ("big int", lambda o: o["data"].update(name=2**60), "data/name:"),
    (
        "emptied container kept",
        lambda o: (o["data"].update(address={}), o["salts"].pop("/address/city")),
        "data/address: field has no salt",
    ),
    (
        "trailing hole",
        lambda o: o["data"]["langs"].append(None),
        "data/langs: ends with a redaction hole",
    ),
    ("receipt kind", lambda o: o["receipt"].update(digestKind="file"), "digestKind"),
    ("receipt not object", lambda o: o.update(receipt=[]), "receipt: expected a JSON object"),
]


@pytest.mark.parametrize(
    ("change", "message"),
    [(c, m) for _, c, m in BAD_DOCUMENTS],
    ids=[n for n, _, _ in BAD_DOCUMENTS],
)
def test_bad_documents_name_the_field(document: SealedDocument, change: Any, message: str) -> None:
    with pytest.raises(InvalidDocument) as excinfo:
        parse_sealed_document(mutate(document, change))
    assert message in str(excinfo.value)


def test_a_bad_receipt_inside_a_document_is_named_by_its_path(document: SealedDocument) -> None:
    obj = mutate(document, lambda o: o["receipt"]["merkle"]["proof"].__setitem__(0, "0x12"))
    with pytest.raises(InvalidReceipt, match=r"^receipt\.merkle\.proof\[0\]: expected 32-byte"):
        parse_sealed_document(obj)


def test_duplicate_keys_in_document_text_are_named(document: SealedDocument) -> None:
    text = json.dumps(to_json(document))
    twice = text.replace('"digest": ', '"digest": "0x00", "digest": ', 1)
    with pytest.raises(InvalidDocument, match=r"^digest: duplicate key"):
        parse_sealed_document(twice)
    inner = text.replace('"name": "Ada"', '"name": "Ada", "name": "Eve"', 1)
    with pytest.raises(InvalidDocument, match=r"^data/name: duplicate key"):
        parse_sealed_document(inner)


def test_document_text_must_be_json_object() -> None:
    with pytest.raises(InvalidDocument, match="invalid JSON"):
        parse_sealed_document("{")
    with pytest.raises(InvalidDocument, match="expected a JSON object"):
        parse_sealed_document("[]")
    with pytest.raises(InvalidDocument, match="over the"):
        parse_sealed_document("{}", max_bytes=1)


def test_an_empty_document_is_refused() -> None:
    with pytest.raises(InvalidDocument, match="no fields"):
        SealedDocument(data={}, salts={}, redacted=(), digest=b"\x00" * 32)  # type: ignore[arg-type]


def test_document_owns_its_data() -> None:
    record: dict[str, Any] = {"a": {"b": [1]}}
    doc = seal_record(record)
    record["a"]["b"].append(2)
    assert doc.data == {"a": {"b": [1]}}
    assert document_digest(doc) == doc.digest
