"""Agency Ed25519 signing keys: create, store encrypted, load, sign and verify batch roots.

An agency signs each batch root it anchors. The signed message (protocol v2) binds the
chain, the registry contract and the agency, so a receipt can be replayed neither against a
look-alike registry nor under another agency's name (one that copied the anchor):

    b"RecordRegistry/v2"            17 bytes, ASCII tag
    chain id                        32 bytes, big-endian
    registry contract address       20 bytes
    agency (identity) address       20 bytes
    Merkle root                     32 bytes
                                   121 bytes in all
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from pathlib import Path
from typing import NoReturn

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from eth_utils.address import is_checksum_address

from registry.errors import InvalidInput, SigningKeyError, WrongPassphrase
from registry.types import SigningKey32

__all__ = [
    "ROOT_MESSAGE_LENGTH",
    "ROOT_MESSAGE_TAG",
    "SALT_SECRET_BYTES",
    "address_bytes",
    "generate_salt_secret",
    "generate_signing_key",
    "load_salt_secret",
    "load_signing_key",
    "public_key_bytes",
    "root_signing_message",
    "salt_secret_file_json",
    "save_salt_secret",
    "save_signing_key",
    "sign_root",
    "signing_key_from_seed",
    "verify_root_signature",
]

ROOT_MESSAGE_TAG = b"RecordRegistry/v2"
ROOT_MESSAGE_LENGTH = 121
_MAX_CHAIN_ID = 2**256 - 1
_ENCRYPTED_PEM = b"-----BEGIN ENCRYPTED PRIVATE KEY-----"
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


def generate_signing_key() -> Ed25519PrivateKey:
    """A fresh Ed25519 key from the operating system's random source."""
    return Ed25519PrivateKey.generate()


def signing_key_from_seed(seed: bytes) -> Ed25519PrivateKey:
    """The Ed25519 key for a 32-byte seed: for test vectors and examples, never for agencies."""
    if len(seed) != 32:
        raise SigningKeyError(f"an Ed25519 seed is 32 bytes, got {len(seed)}")
    return Ed25519PrivateKey.from_private_bytes(seed)


def _passphrase_bytes(passphrase: str | bytes) -> bytes:
    secret = passphrase.encode("utf-8") if isinstance(passphrase, str) else bytes(passphrase)
    if not secret:
        raise SigningKeyError("the passphrase is empty: a signing key file is always encrypted")
    return secret


def save_signing_key(
    key: Ed25519PrivateKey,
    path: str | os.PathLike[str],
    passphrase: str | bytes,
    *,
    overwrite: bool = False,
) -> None:
    """Write the key as encrypted PKCS#8 PEM, mode 0600, atomically.

    The file is written under a temporary name created 0600 in the same directory,
    flushed, then linked (or, with ``overwrite``, renamed) into place, so the key is
    never world-readable and never half-written. Without ``overwrite`` an existing
    file is left alone: losing an agency key is worse than a failed save.
    """
    target = Path(path)
    pem = key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.BestAvailableEncryption(_passphrase_bytes(passphrase)),
    )
    _write_private(target, pem, overwrite=overwrite, what="key")


def _write_private(target: Path, data: bytes, *, overwrite: bool, what: str) -> None:
    """Write `data` to `target` mode 0600, atomically (temp file, fsync, link or rename)."""
    directory = target.parent
    try:
        # mkstemp creates the file with mode 0600 (O_EXCL), whatever the umask.
        fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise SigningKeyError(
            f"{directory}: cannot create the {what} file: {exc.strerror}"
        ) from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if overwrite:
            os.replace(temp_name, target)
        else:
            os.link(temp_name, target)  # fails if the target exists: no silent overwrite
            os.unlink(temp_name)
    except FileExistsError as exc:
        raise SigningKeyError(
            f"{target}: a {what} file is already there; move it away or pass overwrite=True"
        ) from exc
    except OSError as exc:
        raise SigningKeyError(f"{target}: cannot write the {what} file: {exc.strerror}") from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
    _fsync_directory(directory)


def _fsync_directory(directory: Path) -> None:
    # Makes the new directory entry durable; not every platform lets a directory be opened.
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def load_signing_key(path: str | os.PathLike[str], passphrase: str | bytes) -> Ed25519PrivateKey:
    """Read and decrypt a key saved by save_signing_key.

    WrongPassphrase if it does not decrypt; SigningKeyError if the file is missing,
    unencrypted, or not an Ed25519 key.
    """
    target = Path(path)
    try:
        pem = target.read_bytes()
    except FileNotFoundError as exc:
        raise SigningKeyError(f"{target}: no such key file") from exc
    except OSError as exc:
        raise SigningKeyError(f"{target}: cannot read the key file: {exc.strerror}") from exc
    if _ENCRYPTED_PEM not in pem:
        raise SigningKeyError(
            f"{target}: not an encrypted PKCS#8 key file (expected '{_ENCRYPTED_PEM.decode()}')"
        )
    try:
        key = serialization.load_pem_private_key(pem, password=_passphrase_bytes(passphrase))
    except ValueError as exc:
        raise WrongPassphrase(
            f"{target}: wrong passphrase (or a damaged file); check the passphrase and try again"
        ) from exc
    except (TypeError, UnsupportedAlgorithm) as exc:
        raise SigningKeyError(f"{target}: cannot load the key: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"{target}: holds a {type(key).__name__}, not an Ed25519 key")
    return key


def public_key_bytes(key: Ed25519PrivateKey | Ed25519PublicKey) -> SigningKey32:
    """The 32 raw bytes of the public key, as the contract stores it."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return SigningKey32(
        public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )


def address_bytes(address: str | bytes) -> bytes:
    """The 20 bytes of an address given as 20 bytes or 0x-hex (mixed case must be EIP-55)."""
    if isinstance(address, bytes | bytearray):
        if len(address) != 20:
            raise InvalidInput(f"an address is 20 bytes, got {len(address)}")
        return bytes(address)
    if not isinstance(address, str) or not _ADDRESS.fullmatch(address):
        raise InvalidInput(f"{address!r}: expected an address, 0x + 40 hex digits")
    body = address[2:]
    if body != body.lower() and body != body.upper() and not is_checksum_address(address):
        raise InvalidInput(f"{address}: bad EIP-55 checksum (a typo?)")
    return bytes.fromhex(body)


def root_signing_message(
    *, chain_id: int, registry: str | bytes, agency: str | bytes, root: bytes
) -> bytes:
    """The 121 bytes an agency signs for a batch root (layout in the module docstring)."""
    if type(chain_id) is not int or not 1 <= chain_id <= _MAX_CHAIN_ID:
        raise InvalidInput(f"chain id must be a positive integer below 2**256, got {chain_id!r}")
    if not isinstance(root, bytes | bytearray) or len(root) != 32:
        raise InvalidInput("a Merkle root is 32 bytes")
    message = (
        ROOT_MESSAGE_TAG
        + chain_id.to_bytes(32, "big")
        + address_bytes(registry)
        + address_bytes(agency)
        + bytes(root)
    )
    assert len(message) == ROOT_MESSAGE_LENGTH
    return message


def sign_root(
    key: Ed25519PrivateKey,
    *,
    chain_id: int,
    registry: str | bytes,
    agency: str | bytes,
    root: bytes,
) -> bytes:
    """The agency's 64-byte Ed25519 signature over a batch root it anchors on this chain and
    registry."""
    message = root_signing_message(chain_id=chain_id, registry=registry, agency=agency, root=root)
    return key.sign(message)


def verify_root_signature(
    public_key: bytes,
    signature: bytes,
    *,
    chain_id: int,
    registry: str | bytes,
    agency: str | bytes,
    root: bytes,
) -> bool:
    """Whether ``signature`` is the key's signature over the root message.

    Malformed keys or signatures give False; malformed chain id, registry, agency or root raise.
    """
    message = root_signing_message(chain_id=chain_id, registry=registry, agency=agency, root=root)
    if len(public_key) != 32 or len(signature) != 64:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(bytes(public_key)).verify(bytes(signature), message)
    except (InvalidSignature, ValueError):
        return False
    return True


# ------------------------------------------------------------------ salt secret
#
# Each agency has a salt secret of its own: 32 random bytes generated when the agency is
# created, kept next to its other keys, never derived from (nor changed with) its signing key.
# Record salts are derived from it (registry.salts), so re-sealing a record gives the same
# digest across signing-key rotations, and a signing-key holder learns nothing about salts.
#
# File format (JSON, mode 0600), documented in docs/operating.md:
#   {"type": "RecordRegistrySaltSecret", "version": 1,
#    "kdf": "scrypt", "kdfparams": {"n": 32768, "r": 8, "p": 1, "salt": "<16 bytes hex>"},
#    "cipher": "aes-256-gcm", "nonce": "<12 bytes hex>", "ciphertext": "<48 bytes hex>"}
# key = scrypt(passphrase UTF-8, salt, n, r, p, 32 bytes); ciphertext = AES-256-GCM(key,
# nonce, secret, associated data = SALT_SECRET_AAD) (32 bytes + 16-byte tag).

SALT_SECRET_BYTES = 32
SALT_SECRET_TYPE = "RecordRegistrySaltSecret"
SALT_SECRET_AAD = b"RecordRegistry/salt-secret/v1"
_SCRYPT = {"n": 2**15, "r": 8, "p": 1}
_MAX_SCRYPT_N = 2**20


def generate_salt_secret() -> bytes:
    """A fresh 32-byte salt secret from the operating system's random source."""
    return os.urandom(SALT_SECRET_BYTES)


def _scrypt_key(passphrase: str | bytes, *, salt: bytes, n: int, r: int, p: int) -> bytes:
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(_passphrase_bytes(passphrase))


def salt_secret_file_json(secret: bytes, passphrase: str | bytes) -> dict[str, object]:
    """The encrypted file content for a salt secret (format above)."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if len(secret) != SALT_SECRET_BYTES:
        raise SigningKeyError(f"a salt secret is {SALT_SECRET_BYTES} bytes, got {len(secret)}")
    salt, nonce = os.urandom(16), os.urandom(12)
    key = _scrypt_key(passphrase, salt=salt, **_SCRYPT)
    ciphertext = AESGCM(key).encrypt(nonce, bytes(secret), SALT_SECRET_AAD)
    return {
        "type": SALT_SECRET_TYPE,
        "version": 1,
        "kdf": "scrypt",
        "kdfparams": {**_SCRYPT, "salt": salt.hex()},
        "cipher": "aes-256-gcm",
        "nonce": nonce.hex(),
        "ciphertext": ciphertext.hex(),
    }


def save_salt_secret(
    secret: bytes,
    path: str | os.PathLike[str],
    passphrase: str | bytes,
    *,
    overwrite: bool = False,
) -> None:
    """Write the salt secret encrypted (scrypt + AES-256-GCM), mode 0600, atomically; an
    existing file is left alone unless `overwrite` (losing the secret changes every digest
    re-sealed afterwards)."""
    data = json.dumps(salt_secret_file_json(secret, passphrase), indent=2).encode() + b"\n"
    _write_private(Path(path), data, overwrite=overwrite, what="salt secret")


def load_salt_secret(path: str | os.PathLike[str], passphrase: str | bytes) -> bytes:
    """Read and decrypt a salt secret saved by save_salt_secret.

    WrongPassphrase if it does not decrypt; SigningKeyError if the file is missing or not a
    salt-secret file."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    target = Path(path)
    try:
        raw = target.read_bytes()
    except FileNotFoundError as exc:
        raise SigningKeyError(f"{target}: no such salt-secret file") from exc
    except OSError as exc:
        raise SigningKeyError(f"{target}: cannot read the salt secret: {exc.strerror}") from exc
    try:
        doc = json.loads(raw)
        if doc["type"] != SALT_SECRET_TYPE or doc["version"] != 1:
            raise ValueError("not a salt-secret file")
        if doc["kdf"] != "scrypt" or doc["cipher"] != "aes-256-gcm":
            raise ValueError(f"unsupported kdf/cipher {doc['kdf']}/{doc['cipher']}")
        params = doc["kdfparams"]
        n, r, p = int(params["n"]), int(params["r"]), int(params["p"])
        if not (2 <= n <= _MAX_SCRYPT_N and n & (n - 1) == 0 and 1 <= r <= 32 and 1 <= p <= 16):
            raise ValueError("scrypt parameters out of range")
        salt, nonce = bytes.fromhex(params["salt"]), bytes.fromhex(doc["nonce"])
        ciphertext = bytes.fromhex(doc["ciphertext"])
        if len(nonce) != 12 or len(ciphertext) != SALT_SECRET_BYTES + 16:
            raise ValueError("bad nonce or ciphertext length")
    except (ValueError, KeyError, TypeError) as exc:
        raise SigningKeyError(f"{target}: not a salt-secret file ({exc})") from exc
    key = _scrypt_key(passphrase, salt=salt, n=n, r=r, p=p)
    try:
        return AESGCM(key).decrypt(nonce, ciphertext, SALT_SECRET_AAD)
    except InvalidTag as exc:
        raise WrongPassphrase(
            f"{target}: wrong passphrase (or a damaged file); check the passphrase and try again"
        ) from exc


def salt_secret(key: object) -> NoReturn:
    """Removed in protocol v2: salts no longer come from the signing key.

    Raises SigningKeyError always, so no caller silently derives salts from a signing key.
    Use the agency's own salt secret: `Issuer.salt_secret`, loaded with `load_salt_secret`
    (the operator: `Operator.agency_salt_secret(name, passphrase)`)."""
    raise SigningKeyError(
        "keys.salt_secret(signing_key) is gone (protocol v2): record salts come from the "
        "agency's own salt secret (Issuer.salt_secret; keys.load_salt_secret of "
        "keys/<agency>.salt.json), not from its signing key"
    )
