"""Key files: one scrypt container (Ethereum keystore v3, labelled with its kind) for signing
keys, salt secrets and transaction keys; the passphrase policy; rekeying a directory."""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from eth_account import Account
from eth_keyfile import decode_keyfile_json

from registry import keys
from registry.errors import InvalidInput, SigningKeyError, WrongPassphrase
from registry.keys import (
    SecretKind,
    generate_salt_secret,
    generate_signing_key,
    load_salt_secret,
    load_secret,
    load_signing_key,
    public_key_bytes,
    save_salt_secret,
    save_secret,
    save_signing_key,
)

PASSPHRASE = "correct horse battery staple"
NEW = "a new passphrase, long enough"
REAL_N = 2**18  # keys.KDF_N without REGISTRY_INSECURE_TEST_KDF (set by tests/conftest.py)


@pytest.fixture(autouse=True)
def fast_scrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests of the mechanics write cheap files; the real cost (2**18, ~1 s a file) is
    measured where a test puts it back."""
    monkeypatch.setattr(keys, "KDF_N", 2**10)


def _tx_key() -> bytes:
    return bytes(Account.create().key)


def _write_old_pem(path: Path, passphrase: str = PASSPHRASE) -> bytes:
    """A signing key as the code before unified key files wrote it (PKCS#8, PBKDF2 2,048)."""
    key = generate_signing_key()
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(passphrase.encode()),
        )
    )
    return bytes(public_key_bytes(key))


def _write_old_salt(path: Path, secret: bytes, passphrase: str = PASSPHRASE) -> None:
    """A salt secret in the earlier format (scrypt n=2**15 + AES-256-GCM)."""
    salt, nonce = os.urandom(16), os.urandom(12)
    key = Scrypt(salt=salt, length=32, n=2**15, r=8, p=1).derive(passphrase.encode())
    ciphertext = AESGCM(key).encrypt(nonce, secret, b"RecordRegistry/salt-secret/v1")
    doc = {
        "type": "RecordRegistrySaltSecret",
        "version": 1,
        "kdf": "scrypt",
        "kdfparams": {"n": 2**15, "r": 8, "p": 1, "salt": salt.hex()},
        "cipher": "aes-256-gcm",
        "nonce": nonce.hex(),
        "ciphertext": ciphertext.hex(),
    }
    path.write_text(json.dumps(doc))


# --------------------------------------------------------------------------- the container


def test_signing_key_round_trip(tmp_path: Path) -> None:
    key = generate_signing_key()
    path = tmp_path / "agency.ed25519.json"
    save_signing_key(key, path, PASSPHRASE)
    assert public_key_bytes(load_signing_key(path, PASSPHRASE)) == public_key_bytes(key)
    assert load_signing_key(path, PASSPHRASE.encode()) is not None
    doc = json.loads(path.read_text())
    assert doc["kind"] == "signing-key" and doc["publicKey"] == bytes(public_key_bytes(key)).hex()
    seed = key.private_bytes_raw()
    assert seed.hex() not in path.read_text()


def test_salt_secret_round_trip(tmp_path: Path) -> None:
    secret = generate_salt_secret()
    assert len(secret) == 32 and secret != generate_salt_secret()
    path = tmp_path / "agency.salt.json"
    save_salt_secret(secret, path, PASSPHRASE)
    assert load_salt_secret(path, PASSPHRASE) == secret
    assert json.loads(path.read_text())["kind"] == "salt-secret"
    assert secret.hex() not in path.read_text()
    with pytest.raises(SigningKeyError, match="already there"):
        save_salt_secret(generate_salt_secret(), path, PASSPHRASE)
    assert load_salt_secret(path, PASSPHRASE) == secret


def test_every_file_is_scrypt_2_18_with_a_fresh_salt_and_loads_in_about_a_second(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each file costs an attacker its own n=2**18 scrypt per guess: nothing shared."""
    monkeypatch.setattr(keys, "KDF_N", REAL_N)
    paths = [tmp_path / "a.json", tmp_path / "b.json", tmp_path / "c.json"]
    save_signing_key(generate_signing_key(), paths[0], PASSPHRASE)
    save_salt_secret(generate_salt_secret(), paths[1], PASSPHRASE)
    save_secret(_tx_key(), paths[2], kind=SecretKind.TRANSACTION_KEY, passphrase=PASSPHRASE)
    docs = [json.loads(p.read_text()) for p in paths]
    params = [d["crypto"]["kdfparams"] for d in docs]
    assert all(d["crypto"]["kdf"] == "scrypt" for d in docs)
    assert all((p["n"], p["r"], p["p"], p["dklen"]) == (2**18, 8, 1, 32) for p in params)
    assert len({p["salt"] for p in params}) == 3
    assert len({d["crypto"]["cipherparams"]["iv"] for d in docs}) == 3
    started = time.perf_counter()
    load_signing_key(paths[0], PASSPHRASE)
    assert time.perf_counter() - started < 10  # ~1 s; a bound that survives a busy machine


def test_files_are_standard_ethereum_keystores(tmp_path: Path) -> None:
    """Other tools read them: eth-keyfile any kind, eth-account (wallets) a transaction key;
    and a keystore written by eth-account loads as a transaction key."""
    key = generate_signing_key()
    save_signing_key(key, tmp_path / "s.json", PASSPHRASE)
    doc = json.loads((tmp_path / "s.json").read_text())
    assert decode_keyfile_json(doc, PASSPHRASE.encode()) == key.private_bytes_raw()
    tx = _tx_key()
    save_secret(tx, tmp_path / "t.json", kind=SecretKind.TRANSACTION_KEY, passphrase=PASSPHRASE)
    tx_doc = json.loads((tmp_path / "t.json").read_text())
    assert bytes(Account.decrypt(tx_doc, PASSPHRASE)) == tx
    assert tx_doc["address"] == Account.from_key(tx).address[2:].lower()
    foreign = Account.encrypt(tx, PASSPHRASE, kdf="pbkdf2", iterations=1000)
    (tmp_path / "geth.json").write_text(json.dumps(foreign))
    loaded = load_secret(
        tmp_path / "geth.json", kind=SecretKind.TRANSACTION_KEY, passphrase=PASSPHRASE
    )
    assert loaded == tx


def test_key_file_is_0600_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        save_signing_key(generate_signing_key(), tmp_path / "k.json", PASSPHRASE)
        save_salt_secret(generate_salt_secret(), tmp_path / "s.json", PASSPHRASE)
    finally:
        os.umask(old)
    for name in ("k.json", "s.json"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600


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
    save_signing_key(generate_signing_key(), tmp_path / "k.json", PASSPHRASE)
    assert seen == [0o600]
    assert [p.name for p in tmp_path.iterdir()] == ["k.json"]  # no temp file left


def test_save_refuses_to_overwrite_unless_asked(tmp_path: Path) -> None:
    path = tmp_path / "k.json"
    first = generate_signing_key()
    save_signing_key(first, path, PASSPHRASE)
    with pytest.raises(SigningKeyError, match="already there"):
        save_signing_key(generate_signing_key(), path, PASSPHRASE)
    assert public_key_bytes(load_signing_key(path, PASSPHRASE)) == public_key_bytes(first)
    second = generate_signing_key()
    save_signing_key(second, path, PASSPHRASE, overwrite=True)
    assert public_key_bytes(load_signing_key(path, PASSPHRASE)) == public_key_bytes(second)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["k.json"]


def test_save_into_a_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(SigningKeyError, match="cannot create"):
        save_signing_key(generate_signing_key(), tmp_path / "no" / "k.json", PASSPHRASE)


def test_empty_passphrase_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SigningKeyError, match="empty"):
        save_signing_key(generate_signing_key(), tmp_path / "k.json", "")
    with pytest.raises(SigningKeyError, match="empty"):
        save_salt_secret(generate_salt_secret(), tmp_path / "s.json", "")


def test_wrong_passphrase_says_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "k.json"
    save_signing_key(generate_signing_key(), path, PASSPHRASE)
    with pytest.raises(WrongPassphrase) as excinfo:
        load_signing_key(path, "wrong")
    message = str(excinfo.value)
    assert "\n" not in message
    assert "wrong passphrase" in message and "try again" in message
    assert str(path) in message
    assert "REGISTRY_KEYSTORE_PASSPHRASE" in message


# --------------------------------------------------------------------------- kinds


def _one_of_each(tmp_path: Path) -> dict[SecretKind, Path]:
    paths = {kind: tmp_path / f"{kind}.json" for kind in SecretKind}
    save_signing_key(generate_signing_key(), paths[SecretKind.SIGNING_KEY], PASSPHRASE)
    save_salt_secret(generate_salt_secret(), paths[SecretKind.SALT_SECRET], PASSPHRASE)
    keys.save_data_key(keys.generate_data_key(), paths[SecretKind.DATA_KEY], PASSPHRASE)
    save_secret(
        _tx_key(),
        paths[SecretKind.TRANSACTION_KEY],
        kind=SecretKind.TRANSACTION_KEY,
        passphrase=PASSPHRASE,
    )
    return paths


def test_file_kinds_cannot_be_swapped(tmp_path: Path) -> None:
    paths = _one_of_each(tmp_path)
    for held, path in paths.items():
        assert load_secret(path, kind=held, passphrase=PASSPHRASE)
        for wanted in SecretKind:
            if wanted is held:
                continue
            with pytest.raises(SigningKeyError, match=f"holds a {held}, not a {wanted}") as info:
                load_secret(path, kind=wanted, passphrase=PASSPHRASE)
            assert not isinstance(info.value, WrongPassphrase)


@pytest.mark.parametrize(
    ("held", "label", "field"),
    [
        (SecretKind.SALT_SECRET, "signing-key", "publicKey"),
        (SecretKind.SIGNING_KEY, "salt-secret", "fingerprint"),
        (SecretKind.SALT_SECRET, "transaction-key", "address"),
    ],
)
def test_a_relabelled_file_is_refused(
    tmp_path: Path, held: SecretKind, label: str, field: str
) -> None:
    """Editing the label is not enough: the check value comes from the secret itself."""
    path = _one_of_each(tmp_path)[held]
    doc = json.loads(path.read_text())
    doc["kind"] = label
    doc[field] = "00" * (20 if field == "address" else 32)
    path.write_text(json.dumps(doc))
    with pytest.raises(SigningKeyError, match="altered or relabelled"):
        load_secret(path, kind=SecretKind(label), passphrase=PASSPHRASE)


def test_load_missing_damaged_or_foreign_files(tmp_path: Path) -> None:
    with pytest.raises(SigningKeyError, match="no such key file"):
        load_signing_key(tmp_path / "missing.json", PASSPHRASE)
    (tmp_path / "garbage").write_bytes(b"not a key at all")
    with pytest.raises(SigningKeyError, match="not a key file"):
        load_signing_key(tmp_path / "garbage", PASSPHRASE)
    (tmp_path / "foreign.json").write_text('{"type": "x"}')
    with pytest.raises(SigningKeyError, match="not a key file"):
        load_salt_secret(tmp_path / "foreign.json", PASSPHRASE)
    path = tmp_path / "s.json"
    save_salt_secret(generate_salt_secret(), path, PASSPHRASE)
    doc = json.loads(path.read_text())
    doc["crypto"]["ciphertext"] = "00" + doc["crypto"]["ciphertext"]
    (tmp_path / "damaged.json").write_text(json.dumps(doc))
    with pytest.raises(SigningKeyError, match="damaged key file"):
        load_salt_secret(tmp_path / "damaged.json", PASSPHRASE)


def test_a_hostile_scrypt_cost_is_refused_before_deriving(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    save_salt_secret(generate_salt_secret(), path, PASSPHRASE)
    doc = json.loads(path.read_text())
    doc["crypto"]["kdfparams"]["n"] = 2**30
    path.write_text(json.dumps(doc))
    started = time.perf_counter()
    with pytest.raises(SigningKeyError, match="out of range"):
        load_salt_secret(path, PASSPHRASE)
    assert time.perf_counter() - started < 1


def test_an_old_pem_signing_key_is_refused_with_the_way_out(tmp_path: Path) -> None:
    _write_old_pem(tmp_path / "agency.ed25519.pem")
    with pytest.raises(SigningKeyError, match="old PKCS#8 PEM") as info:
        load_signing_key(tmp_path / "agency.ed25519.pem", PASSPHRASE)
    assert "registry keys rekey" in str(info.value)


def test_an_old_salt_secret_is_refused_with_the_way_out(tmp_path: Path) -> None:
    _write_old_salt(tmp_path / "agency.salt.json", generate_salt_secret())
    with pytest.raises(SigningKeyError, match="old format") as info:
        load_salt_secret(tmp_path / "agency.salt.json", PASSPHRASE)
    assert "registry keys rekey" in str(info.value)


# --------------------------------------------------------------------------- policy


@pytest.mark.parametrize("weak", ["", "short", "elevenchars"])
def test_weak_passphrases_are_refused(weak: str) -> None:
    with pytest.raises(InvalidInput, match=r"empty|too short") as info:
        keys.check_new_passphrase(weak)
    if weak:
        assert "at least 12" in str(info.value)


def test_twelve_characters_are_enough() -> None:
    keys.check_new_passphrase("twelve chars")


# --------------------------------------------------------------------------- rekey


def _legacy_directory(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    """A keys directory as a deployment made before unified key files has it."""
    d = tmp_path / "keys"
    d.mkdir()
    admin = _tx_key()
    (d / "admin.json").write_text(json.dumps(Account.encrypt(admin, PASSPHRASE, iterations=1024)))
    public = _write_old_pem(d / "office.ed25519.pem")
    retired = _write_old_pem(d / "office.ed25519.pem.ed25519-20260101T000000Z.retired")
    salt = generate_salt_secret()
    _write_old_salt(d / "office.salt.json", salt)
    account = _tx_key()
    save_secret(account, d / "office.account.json", kind="transaction-key", passphrase=PASSPHRASE)  # type: ignore[arg-type]
    (d / "README").write_text("not a key")
    return d, {"admin": admin, "public": public, "retired": retired, "salt": salt, "acct": account}


def _files(d: Path) -> list[Path]:
    return sorted(p for p in d.iterdir() if p.is_file())


def test_rekey_converts_and_re_encrypts_every_file(tmp_path: Path) -> None:
    d, want = _legacy_directory(tmp_path)
    done = keys.rekey_files(_files(d), old=PASSPHRASE, new=NEW)
    actions = {o.target.name: o.action for o in done}
    assert actions == {
        "admin.json": "converted",
        "office.account.json": "rekeyed",
        "office.ed25519.json": "converted",
        "office.ed25519.json.ed25519-20260101T000000Z.retired": "converted",
        "office.salt.json": "converted",
    }
    assert sorted(p.name for p in d.iterdir()) == sorted([*actions, "README"])  # no temp, no PEM
    for name in actions:
        assert stat.S_IMODE((d / name).stat().st_mode) == 0o600
        assert describe(d / name).current
    tx = SecretKind.TRANSACTION_KEY
    assert load_secret(d / "admin.json", kind=tx, passphrase=NEW) == want["admin"]
    assert load_secret(d / "office.account.json", kind=tx, passphrase=NEW) == want["acct"]
    assert load_salt_secret(d / "office.salt.json", NEW) == want["salt"]
    key = load_signing_key(d / "office.ed25519.json", NEW)
    assert bytes(public_key_bytes(key)) == want["public"]
    retired = load_signing_key(d / "office.ed25519.json.ed25519-20260101T000000Z.retired", NEW)
    assert bytes(public_key_bytes(retired)) == want["retired"]
    for path in _files(d):
        if path.name != "README":
            with pytest.raises(WrongPassphrase):
                keys.load_secret(path, kind=describe(path).kind, passphrase=PASSPHRASE)  # type: ignore[arg-type]


def describe(path: Path) -> keys.KeyFileInfo:
    return keys.describe_key_file(path)


def test_rekey_with_a_wrong_old_passphrase_changes_nothing(tmp_path: Path) -> None:
    d, _ = _legacy_directory(tmp_path)
    before = {p.name: p.read_bytes() for p in _files(d)}
    with pytest.raises(WrongPassphrase, match="no file was changed"):
        keys.rekey_files(_files(d), old="not the passphrase", new=NEW)
    assert {p.name: p.read_bytes() for p in _files(d)} == before


def test_rekey_checks_every_file_before_writing_any(tmp_path: Path) -> None:
    """One file under another passphrase: the whole run stops before anything is written."""
    d, _ = _legacy_directory(tmp_path)
    save_salt_secret(generate_salt_secret(), d / "other.salt.json", "some other passphrase")
    before = {p.name: p.read_bytes() for p in _files(d)}
    with pytest.raises(WrongPassphrase, match=r"other\.salt\.json"):
        keys.rekey_files(_files(d), old=PASSPHRASE, new=NEW)
    assert {p.name: p.read_bytes() for p in _files(d)} == before


def test_rekey_refuses_a_weak_new_passphrase(tmp_path: Path) -> None:
    d, _ = _legacy_directory(tmp_path)
    before = {p.name: p.read_bytes() for p in _files(d)}
    with pytest.raises(InvalidInput, match="too short"):
        keys.rekey_files(_files(d), old=PASSPHRASE, new="short")
    assert {p.name: p.read_bytes() for p in _files(d)} == before


def test_a_rekey_cut_short_can_be_run_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = list(_one_of_each(tmp_path).values())
    real_replace = os.replace
    calls: list[str] = []

    def dying_replace(src: Any, dst: Any) -> None:
        calls.append(str(dst))
        if len(calls) == 2:
            raise OSError(5, "simulated crash")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", dying_replace)
    with pytest.raises(OSError, match="simulated crash"):
        keys.rekey_files(paths, old=PASSPHRASE, new=NEW)
    monkeypatch.setattr(os, "replace", real_replace)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # temps removed
    done = keys.rekey_files(paths, old=PASSPHRASE, new=NEW)
    assert sorted(o.action for o in done) == ["already rekeyed"] + ["rekeyed"] * (len(paths) - 1)
    for path in paths:
        kind = describe(path).kind
        assert kind is not None
        assert load_secret(path, kind=kind, passphrase=NEW)


def test_the_suite_shortcut_is_off_by_default() -> None:
    """Only the test suite lowers the scrypt cost; a fresh interpreter writes n=2**18."""
    import subprocess
    import sys

    env = {k: v for k, v in __import__("os").environ.items() if k != "REGISTRY_INSECURE_TEST_KDF"}
    out = subprocess.run(
        [sys.executable, "-c", "import registry.keys as k; print(k.KDF_N)"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == str(2**18)
