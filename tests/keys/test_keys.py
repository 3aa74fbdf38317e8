"""Agency keys: encrypted storage of signing keys and salt secrets, the 121-byte v2 root
message, sign and verify."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st

from registry import keys
from registry.errors import InvalidInput, SigningKeyError, WrongPassphrase
from registry.keys import (
    ROOT_MESSAGE_TAG,
    generate_salt_secret,
    generate_signing_key,
    load_salt_secret,
    load_signing_key,
    public_key_bytes,
    root_signing_message,
    save_salt_secret,
    save_signing_key,
    sign_root,
    signing_key_from_seed,
    verify_root_signature,
)

REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
AGENCY = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
ROOT = bytes(range(32))
PASSPHRASE = "correct horse battery staple"


# --------------------------------------------------------------------------- storage


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    key = generate_signing_key()
    path = tmp_path / "agency.pem"
    save_signing_key(key, path, PASSPHRASE)
    loaded = load_signing_key(path, PASSPHRASE)
    assert public_key_bytes(loaded) == public_key_bytes(key)
    assert path.read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert load_signing_key(path, PASSPHRASE.encode()) is not None


def test_key_file_is_0600_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        save_signing_key(generate_signing_key(), tmp_path / "k.pem", PASSPHRASE)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "k.pem").stat().st_mode) == 0o600


def test_key_file_is_never_readable_by_others_even_before_it_is_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[int] = []
    real_link = os.link

    def spy_link(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
        seen.append(stat.S_IMODE(os.stat(src).st_mode))
        assert Path(src).read_bytes()  # fully written before it gets its name
        real_link(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "link", spy_link)
    save_signing_key(generate_signing_key(), tmp_path / "k.pem", PASSPHRASE)
    assert seen == [0o600]
    assert [p.name for p in tmp_path.iterdir()] == ["k.pem"]  # no temp file left


def test_save_refuses_to_overwrite_unless_asked(tmp_path: Path) -> None:
    path = tmp_path / "k.pem"
    first = generate_signing_key()
    save_signing_key(first, path, PASSPHRASE)
    with pytest.raises(SigningKeyError, match="already there"):
        save_signing_key(generate_signing_key(), path, PASSPHRASE)
    assert public_key_bytes(load_signing_key(path, PASSPHRASE)) == public_key_bytes(first)
    second = generate_signing_key()
    save_signing_key(second, path, PASSPHRASE, overwrite=True)
    assert public_key_bytes(load_signing_key(path, PASSPHRASE)) == public_key_bytes(second)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["k.pem"]


def test_save_into_a_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(SigningKeyError, match="cannot create"):
        save_signing_key(generate_signing_key(), tmp_path / "no" / "k.pem", PASSPHRASE)


def test_empty_passphrase_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SigningKeyError, match="empty"):
        save_signing_key(generate_signing_key(), tmp_path / "k.pem", "")


def test_wrong_passphrase_says_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "k.pem"
    save_signing_key(generate_signing_key(), path, PASSPHRASE)
    with pytest.raises(WrongPassphrase) as excinfo:
        load_signing_key(path, "wrong")
    message = str(excinfo.value)
    assert "\n" not in message
    assert "wrong passphrase" in message and "try again" in message
    assert str(path) in message


def test_load_missing_or_foreign_files(tmp_path: Path) -> None:
    with pytest.raises(SigningKeyError, match="no such key file"):
        load_signing_key(tmp_path / "missing.pem", PASSPHRASE)
    garbage = tmp_path / "garbage.pem"
    garbage.write_bytes(b"not a key at all")
    with pytest.raises(SigningKeyError, match="not an encrypted PKCS#8 key"):
        load_signing_key(garbage, PASSPHRASE)
    plain = tmp_path / "plain.pem"
    plain.write_bytes(
        generate_signing_key().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with pytest.raises(SigningKeyError, match="not an encrypted"):
        load_signing_key(plain, PASSPHRASE)
    other = tmp_path / "ec.pem"
    other.write_bytes(
        ec.generate_private_key(ec.SECP256K1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(PASSPHRASE.encode()),
        )
    )
    with pytest.raises(SigningKeyError, match="not an Ed25519 key") as excinfo:
        load_signing_key(other, PASSPHRASE)
    assert not isinstance(excinfo.value, WrongPassphrase)


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


def test_salt_secret_round_trip_encrypted_0600(tmp_path: Path) -> None:
    secret = generate_salt_secret()
    assert len(secret) == 32 and secret != generate_salt_secret()
    path = tmp_path / "agency.salt.json"
    save_salt_secret(secret, path, PASSPHRASE)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert secret.hex() not in text and '"kdf": "scrypt"' in text and "aes-256-gcm" in text
    assert load_salt_secret(path, PASSPHRASE) == secret
    with pytest.raises(SigningKeyError, match="already there"):
        save_salt_secret(generate_salt_secret(), path, PASSPHRASE)
    assert load_salt_secret(path, PASSPHRASE) == secret


def test_salt_secret_wrong_passphrase_damage_and_foreign_files(tmp_path: Path) -> None:
    path = tmp_path / "agency.salt.json"
    save_salt_secret(generate_salt_secret(), path, PASSPHRASE)
    with pytest.raises(WrongPassphrase, match="wrong passphrase"):
        load_salt_secret(path, "not it")
    damaged = path.read_text().replace('"ciphertext": "', '"ciphertext": "00', 1)
    (tmp_path / "damaged.json").write_text(damaged)
    with pytest.raises(SigningKeyError, match="not a salt-secret file"):
        load_salt_secret(tmp_path / "damaged.json", PASSPHRASE)
    (tmp_path / "foreign.json").write_text('{"type": "x"}')
    with pytest.raises(SigningKeyError, match="not a salt-secret file"):
        load_salt_secret(tmp_path / "foreign.json", PASSPHRASE)
    with pytest.raises(SigningKeyError, match="no such"):
        load_salt_secret(tmp_path / "missing.json", PASSPHRASE)
    with pytest.raises(SigningKeyError, match="empty"):
        save_salt_secret(generate_salt_secret(), tmp_path / "x.json", "")


def test_salts_no_longer_come_from_the_signing_key() -> None:
    """v1's keys.salt_secret(signing_key) fails loudly: no silent fallback."""
    with pytest.raises(SigningKeyError, match="own salt secret"):
        keys.salt_secret(generate_signing_key())
