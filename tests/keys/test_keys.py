"""Agency keys: the 121-byte v2 root message, sign and verify (key files: test_keyfiles.py)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry import keys
from registry.errors import InvalidInput, SigningKeyError
from registry.keys import (
    ROOT_MESSAGE_TAG,
    generate_signing_key,
    public_key_bytes,
    root_signing_message,
    sign_root,
    signing_key_from_seed,
    verify_root_signature,
)

REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
AGENCY = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
ROOT = bytes(range(32))
PASSPHRASE = "correct horse battery staple"


# --------------------------------------------------------------------------- message


def test_root_message_layout() -> None:
    message = root_signing_message(chain_id=31337, registry=REGISTRY, agency=AGENCY, root=ROOT)
    assert len(message) == 121
    assert message[:17] == ROOT_MESSAGE_TAG == b"RecordRegistry/v2"
    assert message[17:49] == (31337).to_bytes(32, "big")
    assert message[49:69] == bytes.fromhex(REGISTRY[2:])
    assert message[69:89] == bytes.fromhex(AGENCY[2:])
    assert message[89:] == ROOT


def test_root_message_accepts_address_bytes_and_lower_case() -> None:
    expected = root_signing_message(chain_id=1, registry=REGISTRY, agency=AGENCY, root=ROOT)
    lower = root_signing_message(
        chain_id=1, registry=REGISTRY.lower(), agency=AGENCY.lower(), root=ROOT
    )
    raw = root_signing_message(
        chain_id=1,
        registry=bytes.fromhex(REGISTRY[2:]),
        agency=bytes.fromhex(AGENCY[2:]),
        root=ROOT,
    )
    assert lower == raw == expected


@pytest.mark.parametrize(
    "kwargs",
    [
        {"chain_id": 0},
        {"chain_id": -1},
        {"chain_id": True},
        {"chain_id": 2**256},
        {"registry": REGISTRY.replace("F", "f", 1)},  # broken checksum
        {"registry": "0x1234"},
        {"registry": b"\x00" * 19},
        {"agency": AGENCY.replace("C", "c", 1)},
        {"agency": b"\x00" * 21},
        {"root": ROOT[:31]},
    ],
)
def test_root_message_refuses_bad_parts(kwargs: dict[str, Any]) -> None:
    args: dict[str, Any] = {
        "chain_id": 31337,
        "registry": REGISTRY,
        "agency": AGENCY,
        "root": ROOT,
        **kwargs,
    }
    with pytest.raises(InvalidInput):
        root_signing_message(**args)


# --------------------------------------------------------------------------- signatures


def test_known_test_vector() -> None:
    """The TEST ONLY key of docs/receipt.md (seed 0x01 * 32); cross-checked with Node's crypto."""
    key = signing_key_from_seed(b"\x01" * 32)
    assert public_key_bytes(key).hex() == (
        "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c"
    )
    with pytest.raises(SigningKeyError):
        signing_key_from_seed(b"\x01" * 31)


def test_sign_and_verify() -> None:
    key = generate_signing_key()
    public = public_key_bytes(key)
    signature = sign_root(key, chain_id=31337, registry=REGISTRY, agency=AGENCY, root=ROOT)
    assert len(signature) == 64 and len(public) == 32
    ok: dict[str, Any] = {"chain_id": 31337, "registry": REGISTRY, "agency": AGENCY, "root": ROOT}
    assert verify_root_signature(public, signature, **ok)
    assert public_key_bytes(key.public_key()) == public
    changes: list[dict[str, Any]] = [
        {"chain_id": 1},
        {"registry": AGENCY},
        {"agency": REGISTRY},
        {"root": bytes(32)},
    ]
    for change in changes:
        assert not verify_root_signature(public, signature, **{**ok, **change})
    other = public_key_bytes(generate_signing_key())
    assert not verify_root_signature(other, signature, **ok)
    assert not verify_root_signature(public[:31], signature, **ok)
    assert not verify_root_signature(public, signature[:63], **ok)
    assert not verify_root_signature(b"\xff" * 32, signature, **ok)


KEY = signing_key_from_seed(b"\x02" * 32)
PUBLIC = public_key_bytes(KEY)
SIGNATURE = sign_root(KEY, chain_id=5, registry=REGISTRY, agency=AGENCY, root=ROOT)


@settings(max_examples=150, deadline=None)
@given(
    which=st.sampled_from(["signature", "public", "root"]),
    bit=st.integers(0, 64 * 8 - 1),
)
def test_any_flipped_bit_fails_verification(which: str, bit: int) -> None:
    parts = {
        "signature": bytearray(SIGNATURE),
        "public": bytearray(PUBLIC),
        "root": bytearray(ROOT),
    }
    target = parts[which]
    bit %= len(target) * 8
    target[bit // 8] ^= 1 << (bit % 8)
    assert not verify_root_signature(
        bytes(parts["public"]),
        bytes(parts["signature"]),
        chain_id=5,
        registry=REGISTRY,
        agency=AGENCY,
        root=bytes(parts["root"]),
    )


# --------------------------------------------------------------------------- salt secret


def test_salts_no_longer_come_from_the_signing_key() -> None:
    """v1's keys.salt_secret(signing_key) fails loudly: no silent fallback."""
    with pytest.raises(SigningKeyError, match="own salt secret"):
        keys.salt_secret(generate_signing_key())
