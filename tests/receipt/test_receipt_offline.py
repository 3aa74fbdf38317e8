"""The offline check: format, integrity, inclusion, signature; every flipped bit is caught."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from eth_utils.address import to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st
from receipt_helpers import make_receipt

from registry.checks import Check, CheckName, CheckStatus
from registry.errors import InvalidInput
from registry.receipt import Receipt, check_receipt_offline, receipt_to_json
from registry.types import Digest, Leaf, Root

RECEIPT = make_receipt(count=13, index=6)


def statuses(checks: list[Check]) -> dict[str, str]:
    return {c.name: str(c.status) for c in checks}


def test_a_good_receipt_passes() -> None:
    checks = check_receipt_offline(RECEIPT, digest=RECEIPT.digest, digest_kind="file")
    assert [c.name for c in checks] == ["format", "integrity", "inclusion", "signature"]
    assert all(c.ok for c in checks)
    assert checks[2].details == {"root": "0x" + RECEIPT.merkle.root.hex()}


def test_without_a_document_integrity_is_skipped() -> None:
    checks = statuses(check_receipt_offline(receipt_to_json(RECEIPT)))
    assert checks == {
        "format": "pass",
        "integrity": "skip",
        "inclusion": "pass",
        "signature": "pass",
    }


def test_another_documents_digest_fails_integrity() -> None:
    checks = check_receipt_offline(RECEIPT, digest=b"\x00" * 32, digest_kind="file")
    assert checks[1].status is CheckStatus.FAIL
    assert "altered" in checks[1].reason
    with pytest.raises(InvalidInput):
        check_receipt_offline(RECEIPT, digest=b"\x00" * 31, digest_kind="file")
    with pytest.raises(InvalidInput, match="both"):
        check_receipt_offline(RECEIPT, digest=RECEIPT.digest)


def test_flipped_digest_kind_is_tampered() -> None:
    """Attack (issue 9, item 1): a digest anchored as a file, its receipt's digestKind flipped
    to "record" (leaf left as is, or recomputed for the new kind): integrity or inclusion fails."""
    flipped = receipt_to_json(RECEIPT)
    flipped["digestKind"] = "record"
    checks = statuses(check_receipt_offline(flipped))
    assert checks["integrity"] == "fail"
    from registry.receipt import kind_leaf

    flipped["leaf"] = "0x" + kind_leaf("record", RECEIPT.digest).hex()
    checks = statuses(check_receipt_offline(flipped))
    assert checks["integrity"] == "pass" or checks["integrity"] == "skip"
    assert checks["inclusion"] == "fail"


def test_record_receipt_never_verifies_a_file_with_the_same_digest() -> None:
    """Attack (issue 9, item 1): a file whose SHA-256 equals a record's digest."""
    record_receipt = make_receipt(kind="record")
    checks = check_receipt_offline(record_receipt, digest=record_receipt.digest, digest_kind="file")
    assert statuses(checks)["integrity"] == "fail"


def test_a_document_of_the_wrong_kind_fails_integrity() -> None:
    assert RECEIPT.digest_kind == "file"
    checks = check_receipt_offline(RECEIPT, digest=RECEIPT.digest, digest_kind="record")
    assert checks[1].status is CheckStatus.FAIL and "file" in checks[1].reason
    assert check_receipt_offline(RECEIPT, digest=RECEIPT.digest, digest_kind="file")[1].ok


def test_a_malformed_receipt_fails_format_and_skips_the_rest() -> None:
    obj = receipt_to_json(RECEIPT)
    obj["merkle"]["proof"][2] = "0xzz"
    checks = check_receipt_offline(obj)
    assert statuses(checks) == {
        "format": "fail",
        "integrity": "skip",
        "inclusion": "skip",
        "signature": "skip",
    }
    assert checks[0].reason.startswith("merkle.proof[2]:")


def test_a_leaf_that_is_not_the_digests_leaf_fails_integrity() -> None:
    wrong = dataclasses.replace(RECEIPT, leaf=Leaf(bytes(32)))
    assert statuses(check_receipt_offline(wrong))["integrity"] == "fail"


def flip(value: bytes, bit: int) -> bytes:
    changed = bytearray(value)
    bit %= len(changed) * 8
    changed[bit // 8] ^= 1 << (bit % 8)
    return bytes(changed)


@settings(max_examples=60, deadline=None)
@given(position=st.integers(0, 10), bit=st.integers(0, 255))
def test_any_flipped_bit_in_the_proof_fails_inclusion(position: int, bit: int) -> None:
    proof = list(RECEIPT.merkle.proof)
    position %= len(proof)
    proof[position] = flip(proof[position], bit)
    changed = dataclasses.replace(
        RECEIPT, merkle=dataclasses.replace(RECEIPT.merkle, proof=tuple(proof))
    )
    checks = statuses(check_receipt_offline(changed, digest=RECEIPT.digest, digest_kind="file"))
    assert checks["inclusion"] == "fail"
    assert checks["signature"] == "pass"


@settings(max_examples=60, deadline=None)
@given(bit=st.integers(0, 255))
def test_any_flipped_bit_in_the_root_fails_inclusion_and_signature(bit: int) -> None:
    root = Root(flip(RECEIPT.merkle.root, bit))
    changed = dataclasses.replace(RECEIPT, merkle=dataclasses.replace(RECEIPT.merkle, root=root))
    checks = statuses(check_receipt_offline(changed, digest=RECEIPT.digest, digest_kind="file"))
    assert checks["inclusion"] == "fail"
    assert checks["signature"] == "fail"


@settings(max_examples=60, deadline=None)
@given(which=st.sampled_from(["value", "public_key"]), bit=st.integers(0, 511))
def test_any_flipped_bit_in_the_signature_or_key_fails_signature(which: str, bit: int) -> None:
    signature: Any = RECEIPT.signature
    signature = dataclasses.replace(signature, **{which: flip(getattr(signature, which), bit)})
    changed = dataclasses.replace(RECEIPT, signature=signature)
    checks = statuses(check_receipt_offline(changed, digest=RECEIPT.digest, digest_kind="file"))
    assert checks["signature"] == "fail"
    assert checks["inclusion"] == "pass"


@settings(max_examples=60, deadline=None)
@given(bit=st.integers(0, 255))
def test_any_flipped_bit_in_the_digest_fails_integrity(bit: int) -> None:
    changed = dataclasses.replace(RECEIPT, digest=Digest(flip(RECEIPT.digest, bit)))
    assert statuses(check_receipt_offline(changed))["integrity"] == "fail"
    assert (
        statuses(check_receipt_offline(RECEIPT, digest=changed.digest, digest_kind="file"))[
            "integrity"
        ]
        == "fail"
    )


@pytest.mark.parametrize(
    "anchor_change",
    [
        {"chain_id": 1},
        {"registry": to_checksum_address("0x70997970c51812dc3a010c7d01b50e0d17dc79c8")},
        {"agency": to_checksum_address("0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc")},
    ],
)
def test_the_signature_binds_chain_registry_and_agency(anchor_change: dict[str, Any]) -> None:
    replayed = dataclasses.replace(
        RECEIPT, anchor=dataclasses.replace(RECEIPT.anchor, **anchor_change)
    )
    assert statuses(check_receipt_offline(replayed))["signature"] == "fail"


def test_receipt_in_a_batch_of_one() -> None:
    single: Receipt = make_receipt(count=1, index=0)
    assert single.merkle.proof == ()
    assert bytes(single.merkle.root) == bytes(single.leaf)
    assert all(c.status in ("pass", "skip") for c in check_receipt_offline(single))


def test_check_shape() -> None:
    check = Check.errored(CheckName.ANCHORED, "node timed out", url="http://node")
    assert check.status == "error" and not check.ok
    assert check.to_json() == {
        "name": "anchored",
        "status": "error",
        "reason": "node timed out",
        "details": {"url": "http://node"},
    }
    assert Check("x", "skip", "n/a").status is CheckStatus.SKIP  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Check("x", "maybe", "?")  # type: ignore[arg-type]
