"""Agency keys: create, store encrypted, load, sign and verify batch roots.

An agency signs each batch root it anchors. The signed message (protocol v2) binds the
chain, the registry contract and the agency, so a receipt can be replayed neither against a
look-alike registry nor under another agency's name (one that copied the anchor):

    b"RecordRegistry/v2"            17 bytes, ASCII tag
    chain id                        32 bytes, big-endian
    registry contract address       20 bytes
    agency (identity) address       20 bytes
    Merkle root                     32 bytes
                                   121 bytes in all

Every secret (Ed25519 signing seed, salt secret, transaction key) is kept in one container
format, an Ethereum keystore v3 file labelled with the kind of secret it holds (see "key
files" below and docs/operating.md).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import re
import tempfile
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any, NoReturn

from cryptography.exceptions import InvalidSignature, InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from eth_keys.datatypes import PrivateKey as Secp256k1PrivateKey
from eth_utils.crypto import keccak

from registry.errors import InvalidInput, SigningKeyError, WrongPassphrase
from registry.types import SigningKey32, checksum_address

__all__ = [
    "DATA_KEY_BYTES",
    "KDF_N",
    "MIN_PASSPHRASE_CHARS",
    "ROOT_MESSAGE_LENGTH",
    "ROOT_MESSAGE_TAG",
    "SALT_SECRET_BYTES",
    "KeyFileInfo",
    "SecretKind",
    "address_bytes",
    "check_new_passphrase",
    "describe_key_file",
    "generate_data_key",
    "generate_salt_secret",
    "generate_signing_key",
    "load_data_key",
    "load_salt_secret",
    "load_secret",
    "load_signing_key",
    "lock_secret",
    "public_key_bytes",
    "rekey_files",
    "root_signing_message",
    "save_data_key",
    "save_salt_secret",
    "save_secret",
    "save_signing_key",
    "sign_root",
    "signing_key_from_seed",
    "unlock_secret",
    "verify_root_signature",
]

ROOT_MESSAGE_TAG = b"RecordRegistry/v2"
ROOT_MESSAGE_LENGTH = 121
_MAX_CHAIN_ID = 2**256 - 1
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


def generate_signing_key() -> Ed25519PrivateKey:
    """A fresh Ed25519 key from the operating system's random source."""
    return Ed25519PrivateKey.generate()


def signing_key_from_seed(seed: bytes) -> Ed25519PrivateKey:
    """The Ed25519 key for a 32-byte seed: for test vectors and examples, never for agencies."""
    if len(seed) != 32:
        raise SigningKeyError(f"an Ed25519 seed is 32 bytes, got {len(seed)}")
    return Ed25519PrivateKey.from_private_bytes(seed)


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
    if body != body.lower() and body != body.upper() and checksum_address(address) != address:
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


@lru_cache(maxsize=1_024)
def _public_key(raw: bytes) -> Ed25519PublicKey:
    """The key object of 32 raw bytes (a verifier meets the same few agency keys again and
    again; the signature itself is verified every time)."""
    return Ed25519PublicKey.from_public_bytes(raw)


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
        _public_key(bytes(public_key)).verify(bytes(signature), message)
    except (InvalidSignature, ValueError):
        return False
    return True


# ------------------------------------------------------------------ salt secret
#
# Each agency has a salt secret of its own: 32 random bytes generated when the agency is
# created, kept next to its other keys, never derived from (nor changed with) its signing key.
# Record salts are derived from it (registry.salts), so re-sealing a record gives the same
# digest across signing-key rotations, and a signing-key holder learns nothing about salts.

SALT_SECRET_BYTES = 32


def generate_salt_secret() -> bytes:
    """A fresh 32-byte salt secret from the operating system's random source."""
    return os.urandom(SALT_SECRET_BYTES)


# ------------------------------------------------------------------ data key
#
# Each agency also has a data key: 32 random bytes (AES-256-GCM) that encrypt its sealed
# documents at rest in the store (registry.service.documents). It is kept only in its key file,
# under the operator passphrase like every other secret; the store holds ciphertexts alone.

DATA_KEY_BYTES = 32


def generate_data_key() -> bytes:
    """A fresh 32-byte AES-256 data key from the operating system's random source."""
    return os.urandom(DATA_KEY_BYTES)


# ------------------------------------------------------------------ key files
#
# One container for every secret: an Ethereum keystore v3 file (the format geth, eth-account
# and eth-keyfile read and write) with a "kind" label and a public check value:
#
#   {"kind": "signing-key" | "salt-secret" | "data-key" | "transaction-key",
#    "publicKey": <Ed25519 public key, hex>        (signing-key)
#    "fingerprint": <SHA-256(tag | secret), hex>   (salt-secret, data-key: one tag per kind)
#    "address": <secp256k1 address, hex>           (transaction-key, as in every keystore)
#    "version": 3, "id": <uuid4>,
#    "crypto": {"kdf": "scrypt", "kdfparams": {"n": 262144, "r": 8, "p": 1, "dklen": 32,
#               "salt": <16 fresh random bytes per file>}, "cipher": "aes-128-ctr",
#               "cipherparams": {"iv": ...}, "ciphertext": ..., "mac": keccak(dk[16:32] | ct)}}
#
# The label stops one kind being loaded as another; the check value, recomputed from the
# decrypted secret, makes a relabelled file fail too (whoever edits the label cannot compute
# the check value of a secret it does not know). A fresh scrypt salt per file means each file
# must be attacked on its own: no file is cheaper to crack than n=2**18 allows.

KDF_N = 2**18
"""scrypt cost for every key file written (r=8, p=1: 256 MiB and about 0.9 s per file on a
2-core test machine), eth-keyfile's and geth's default."""
if os.environ.get("REGISTRY_INSECURE_TEST_KDF") == "1":
    # The test suite only (tests/conftest.py sets it for itself and its subprocesses): files
    # written this way say their cost, `registry keys list` shows it, and `rekey` rewrites
    # them at the full cost. Never set it for a real deployment.
    KDF_N = 2**10
MIN_PASSPHRASE_CHARS = 12
_SCRYPT_R, _SCRYPT_P = 8, 1
_MAX_SCRYPT_N = 2**20  # a hostile file must not make a load take gigabytes
_MAX_PBKDF2_ROUNDS = 10_000_000
_SALT_FINGERPRINT_TAG = b"RecordRegistry/salt-secret/fingerprint/v1"
_DATA_KEY_FINGERPRINT_TAG = b"RecordRegistry/data-key/fingerprint/v1"
_SECP256K1_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_ENCRYPTED_PEM = b"-----BEGIN ENCRYPTED PRIVATE KEY-----"
_LEGACY_SALT_TYPE = "RecordRegistrySaltSecret"
_REKEY_HINT = "convert it (and every key file) with `registry keys rekey`"


class SecretKind(StrEnum):
    """What a key file holds."""

    SIGNING_KEY = "signing-key"
    SALT_SECRET = "salt-secret"
    DATA_KEY = "data-key"
    TRANSACTION_KEY = "transaction-key"


_CHECK_FIELD = {
    SecretKind.SIGNING_KEY: "publicKey",
    SecretKind.SALT_SECRET: "fingerprint",
    SecretKind.DATA_KEY: "fingerprint",
    SecretKind.TRANSACTION_KEY: "address",
}


def check_new_passphrase(passphrase: str) -> None:
    """Refuse a passphrase too weak to protect new key files (empty, or under 12 characters).

    Applied where a passphrase is chosen (init, rekey), not on loading existing files."""
    if not passphrase:
        raise InvalidInput("the passphrase is empty: key files are always encrypted")
    if len(passphrase) < MIN_PASSPHRASE_CHARS:
        raise InvalidInput(
            f"the passphrase is too short ({len(passphrase)} characters): use at least "
            f"{MIN_PASSPHRASE_CHARS}, e.g. four or five random words"
        )


def _passphrase_bytes(passphrase: str | bytes) -> bytes:
    secret = passphrase.encode("utf-8") if isinstance(passphrase, str) else bytes(passphrase)
    if not secret:
        raise SigningKeyError("the passphrase is empty: a key file is always encrypted")
    return secret


def _check_value(kind: SecretKind, secret: bytes) -> str:
    """The public value a file of this kind carries, computed from its secret."""
    if kind is SecretKind.SIGNING_KEY:
        return bytes(public_key_bytes(signing_key_from_seed(secret))).hex()
    if kind is SecretKind.SALT_SECRET:
        return hashlib.sha256(_SALT_FINGERPRINT_TAG + secret).hexdigest()
    if kind is SecretKind.DATA_KEY:
        return hashlib.sha256(_DATA_KEY_FINGERPRINT_TAG + secret).hexdigest()
    if not 0 < int.from_bytes(secret, "big") < _SECP256K1_ORDER:
        raise SigningKeyError("not a valid secp256k1 private key")
    return Secp256k1PrivateKey(secret).public_key.to_address()[2:].lower()


def _aes_ctr(key: bytes, iv: bytes, data: bytes) -> bytes:
    cipher = Cipher(algorithms.AES(key), modes.CTR(iv)).encryptor()
    return cipher.update(data) + cipher.finalize()


def lock_secret(
    secret: bytes, *, kind: SecretKind, passphrase: str | bytes, scrypt_n: int | None = None
) -> dict[str, Any]:
    """The key-file content (format above) holding a 32-byte `secret` of `kind`; scrypt cost
    `scrypt_n` (default KDF_N, read at call time)."""
    if len(secret) != 32:
        raise SigningKeyError(f"a {kind} is 32 bytes, got {len(secret)}")
    check = _check_value(kind, bytes(secret))
    n = KDF_N if scrypt_n is None else scrypt_n
    salt, iv = os.urandom(16), os.urandom(16)
    derived = Scrypt(salt=salt, length=32, n=n, r=_SCRYPT_R, p=_SCRYPT_P).derive(
        _passphrase_bytes(passphrase)
    )
    ciphertext = _aes_ctr(derived[:16], iv, bytes(secret))
    return {
        "kind": str(kind),
        _CHECK_FIELD[kind]: check,
        "version": 3,
        "id": str(uuid.uuid4()),
        "crypto": {
            "cipher": "aes-128-ctr",
            "cipherparams": {"iv": iv.hex()},
            "ciphertext": ciphertext.hex(),
            "kdf": "scrypt",
            "kdfparams": {
                "dklen": 32,
                "n": n,
                "p": _SCRYPT_P,
                "r": _SCRYPT_R,
                "salt": salt.hex(),
            },
            "mac": keccak(derived[16:32] + ciphertext).hex(),
        },
    }


def _kind_of(doc: Mapping[str, Any]) -> SecretKind:
    """The kind a parsed file says it holds; a keystore without a label (geth, eth-account,
    or this registry before labels) holds a transaction key."""
    label = doc.get("kind")
    if label is None:
        if doc.get("type") == _LEGACY_SALT_TYPE:
            raise ValueError(f"a salt secret in the old format (scrypt n=2**15); {_REKEY_HINT}")
        if doc.get("version") == 3 and isinstance(doc.get("crypto", doc.get("Crypto")), dict):
            return SecretKind.TRANSACTION_KEY
        raise ValueError("not a key file of this registry (no 'kind', not a keystore)")
    try:
        return SecretKind(label)
    except ValueError:
        raise ValueError(f"unknown kind {label!r}") from None


def _derive(crypto: Mapping[str, Any], passphrase: bytes) -> bytes:
    """The 32-byte key from the file's KDF, after bounding its cost."""
    params = crypto["kdfparams"]
    salt = bytes.fromhex(params["salt"])
    if int(params.get("dklen", 32)) != 32:
        raise ValueError("dklen must be 32")
    if crypto["kdf"] == "scrypt":
        n, r, p = int(params["n"]), int(params["r"]), int(params["p"])
        if not (2 <= n <= _MAX_SCRYPT_N and n & (n - 1) == 0 and 1 <= r <= 8 and 1 <= p <= 16):
            raise ValueError(f"scrypt parameters out of range (n={n}, r={r}, p={p})")
        return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase)
    if crypto["kdf"] == "pbkdf2":  # foreign keystores (transaction keys) only
        rounds = int(params["c"])
        if params.get("prf") != "hmac-sha256" or not 1 <= rounds <= _MAX_PBKDF2_ROUNDS:
            raise ValueError("unsupported pbkdf2 parameters")
        kdf = PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=salt, iterations=rounds)
        return kdf.derive(passphrase)
    raise ValueError(f"unsupported kdf {crypto['kdf']!r}")


def unlock_secret(
    doc: Mapping[str, Any], *, kind: SecretKind, passphrase: str | bytes, source: str
) -> bytes:
    """The 32-byte secret of a parsed key file, which must hold a `kind`.

    WrongPassphrase if it does not decrypt; SigningKeyError (naming `source`) if the file is
    of another kind, damaged or relabelled."""
    try:
        found = _kind_of(doc)
    except ValueError as exc:
        raise SigningKeyError(f"{source}: {exc}") from exc
    if found is not kind:
        raise SigningKeyError(f"{source}: holds a {found}, not a {kind}; is it the right file?")
    try:
        crypto = doc.get("crypto", doc.get("Crypto"))
        if not isinstance(crypto, dict) or crypto.get("cipher") != "aes-128-ctr":
            raise ValueError("unsupported cipher")
        ciphertext = bytes.fromhex(crypto["ciphertext"])
        iv = bytes.fromhex(crypto["cipherparams"]["iv"])
        mac = bytes.fromhex(crypto["mac"])
        if len(ciphertext) != 32 or len(iv) != 16:
            raise ValueError("bad ciphertext or iv length")
        derived = _derive(crypto, _passphrase_bytes(passphrase))
    except (KeyError, TypeError, ValueError) as exc:
        raise SigningKeyError(f"{source}: damaged key file ({exc})") from exc
    if not hmac.compare_digest(keccak(derived[16:32] + ciphertext), mac):
        raise WrongPassphrase(
            f"{source}: wrong passphrase (or a damaged file); check the passphrase "
            "(REGISTRY_KEYSTORE_PASSPHRASE, or the one typed) and try again"
        )
    secret = _aes_ctr(derived[:16], iv, ciphertext)
    field = _CHECK_FIELD[kind]
    stored = doc.get(field)
    if stored is None and kind is SecretKind.TRANSACTION_KEY and "kind" not in doc:
        return secret  # a foreign keystore may omit its address
    expected = _check_value(kind, secret)
    if not isinstance(stored, str) or stored.lower().removeprefix("0x") != expected:
        raise SigningKeyError(
            f"{source}: the secret does not match the file's {field}: the file was altered "
            "or relabelled; restore it from a backup"
        )
    return secret


def _read_json_key_file(target: Path) -> dict[str, Any]:
    try:
        raw = target.read_bytes()
    except FileNotFoundError as exc:
        raise SigningKeyError(f"{target}: no such key file") from exc
    except OSError as exc:
        raise SigningKeyError(f"{target}: cannot read the key file: {exc.strerror}") from exc
    if _ENCRYPTED_PEM in raw:
        raise SigningKeyError(
            f"{target}: a signing key in the old PKCS#8 PEM format (PBKDF2, 2,048 iterations), "
            f"no longer loaded; {_REKEY_HINT}"
        )
    try:
        doc = json.loads(raw)
    except ValueError as exc:
        raise SigningKeyError(f"{target}: not a key file (not JSON)") from exc
    if not isinstance(doc, dict):
        raise SigningKeyError(f"{target}: not a key file (not a JSON object)")
    return doc


def load_secret(
    path: str | os.PathLike[str], *, kind: SecretKind, passphrase: str | bytes
) -> bytes:
    """Read and decrypt the 32-byte secret of a key file that must hold a `kind`."""
    target = Path(path)
    return unlock_secret(
        _read_json_key_file(target), kind=kind, passphrase=passphrase, source=str(target)
    )


def save_secret(
    secret: bytes,
    path: str | os.PathLike[str],
    *,
    kind: SecretKind,
    passphrase: str | bytes,
    overwrite: bool = False,
    scrypt_n: int | None = None,
) -> None:
    """Write a key file (mode 0600, atomically); an existing file is left alone unless
    `overwrite`: losing a key is worse than a failed save."""
    doc = lock_secret(secret, kind=kind, passphrase=passphrase, scrypt_n=scrypt_n)
    data = json.dumps(doc, indent=2).encode() + b"\n"
    _write_private(Path(path), data, overwrite=overwrite, what=str(kind))


def save_signing_key(
    key: Ed25519PrivateKey,
    path: str | os.PathLike[str],
    passphrase: str | bytes,
    *,
    overwrite: bool = False,
    scrypt_n: int | None = None,
) -> None:
    """Write the agency's Ed25519 key (its 32-byte seed) as a signing-key file."""
    seed = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    save_secret(
        seed,
        path,
        kind=SecretKind.SIGNING_KEY,
        passphrase=passphrase,
        overwrite=overwrite,
        scrypt_n=scrypt_n,
    )


def load_signing_key(path: str | os.PathLike[str], passphrase: str | bytes) -> Ed25519PrivateKey:
    """Read and decrypt a signing-key file (an old PKCS#8 PEM file is refused: rekey it)."""
    seed = load_secret(path, kind=SecretKind.SIGNING_KEY, passphrase=passphrase)
    return signing_key_from_seed(seed)


def save_salt_secret(
    secret: bytes,
    path: str | os.PathLike[str],
    passphrase: str | bytes,
    *,
    overwrite: bool = False,
    scrypt_n: int | None = None,
) -> None:
    """Write the salt secret as a salt-secret file (losing it changes every digest re-sealed
    afterwards, hence no overwrite unless asked)."""
    if len(secret) != SALT_SECRET_BYTES:
        raise SigningKeyError(f"a salt secret is {SALT_SECRET_BYTES} bytes, got {len(secret)}")
    save_secret(
        secret,
        path,
        kind=SecretKind.SALT_SECRET,
        passphrase=passphrase,
        overwrite=overwrite,
        scrypt_n=scrypt_n,
    )


def load_salt_secret(path: str | os.PathLike[str], passphrase: str | bytes) -> bytes:
    """Read and decrypt a salt-secret file."""
    return load_secret(path, kind=SecretKind.SALT_SECRET, passphrase=passphrase)


def save_data_key(
    key: bytes,
    path: str | os.PathLike[str],
    passphrase: str | bytes,
    *,
    scrypt_n: int | None = None,
) -> None:
    """Write the agency's data key as a data-key file; never overwrites one (losing a data key
    makes every document it encrypted unreadable)."""
    if len(key) != DATA_KEY_BYTES:
        raise SigningKeyError(f"a data key is {DATA_KEY_BYTES} bytes, got {len(key)}")
    save_secret(key, path, kind=SecretKind.DATA_KEY, passphrase=passphrase, scrypt_n=scrypt_n)


def load_data_key(path: str | os.PathLike[str], passphrase: str | bytes) -> bytes:
    """Read and decrypt a data-key file."""
    return load_secret(path, kind=SecretKind.DATA_KEY, passphrase=passphrase)


def _write_private(target: Path, data: bytes, *, overwrite: bool, what: str) -> None:
    """Write `data` to `target` mode 0600, atomically (temp file, fsync, link or rename)."""
    temp_name = _write_temp(target, data, what=what)
    try:
        if overwrite:
            os.replace(temp_name, target)
        else:
            os.link(temp_name, target)  # fails if the target exists: no silent overwrite
    except FileExistsError as exc:
        raise SigningKeyError(
            f"{target}: a {what} file is already there; move it away or pass overwrite=True"
        ) from exc
    except OSError as exc:
        raise SigningKeyError(f"{target}: cannot write the {what} file: {exc.strerror}") from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
    _fsync_directory(target.parent)


def _write_temp(target: Path, data: bytes, *, what: str) -> str:
    """A temporary file next to `target`, mode 0600 from its creation, holding `data` on disk."""
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
    except OSError as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise SigningKeyError(f"{target}: cannot write the {what} file: {exc.strerror}") from exc
    return temp_name


def _fsync_directory(directory: Path) -> None:
    # Makes the new directory entry durable; not every platform lets a directory be opened.
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# ------------------------------------------------------------ listing and rekeying


@dataclass(frozen=True)
class KeyFileInfo:
    """What a file of a keys directory is, read without decrypting it."""

    path: Path
    kind: SecretKind | None  # None: not a key file
    form: str  # "current", "unlabelled keystore", "old PEM", "old salt secret", "not a key"
    kdf: str  # e.g. "scrypt n=2^18 r=8 p=1"; "" when unknown
    public: str  # the check value (public key, fingerprint, address); "" when none

    @property
    def current(self) -> bool:
        """Whether the file is already in the current, labelled format."""
        return self.form == "current"


def _kdf_text(crypto: Any) -> str:
    with contextlib.suppress(KeyError, TypeError, ValueError, AttributeError):
        params = crypto["kdfparams"]
        if crypto["kdf"] == "scrypt":
            n = int(params["n"])
            shown = f"2^{n.bit_length() - 1}" if n & (n - 1) == 0 else str(n)
            return f"scrypt n={shown} r={params['r']} p={params['p']}"
        return f"{crypto['kdf']} c={params.get('c')}"
    return ""


def describe_key_file(path: str | os.PathLike[str]) -> KeyFileInfo:
    """Classify a file without decrypting it (for `registry keys list` and rekey)."""
    target = Path(path)
    try:
        raw = target.read_bytes()
    except OSError:
        return KeyFileInfo(target, None, "not a key", "", "")
    if _ENCRYPTED_PEM in raw:
        return KeyFileInfo(target, SecretKind.SIGNING_KEY, "old PEM", "PBKDF2 2048", "")
    try:
        doc = json.loads(raw)
        if not isinstance(doc, dict):
            raise ValueError("not an object")
    except ValueError:
        return KeyFileInfo(target, None, "not a key", "", "")
    if doc.get("type") == _LEGACY_SALT_TYPE:
        params = doc.get("kdfparams", {})
        kdf = _kdf_text({"kdf": doc.get("kdf"), "kdfparams": params})
        return KeyFileInfo(target, SecretKind.SALT_SECRET, "old salt secret", kdf, "")
    try:
        kind = _kind_of(doc)
    except ValueError:
        return KeyFileInfo(target, None, "not a key", "", "")
    form = "current" if "kind" in doc else "unlabelled keystore"
    public = str(doc.get(_CHECK_FIELD[kind], ""))
    return KeyFileInfo(target, kind, form, _kdf_text(doc.get("crypto", doc.get("Crypto"))), public)


def _unlock_legacy_pem(raw: bytes, passphrase: str | bytes, source: str) -> bytes:
    try:
        key = serialization.load_pem_private_key(raw, password=_passphrase_bytes(passphrase))
    except ValueError as exc:
        raise WrongPassphrase(
            f"{source}: wrong passphrase (or a damaged file); check the passphrase and try again"
        ) from exc
    except (TypeError, UnsupportedAlgorithm) as exc:
        raise SigningKeyError(f"{source}: cannot load the key: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"{source}: holds a {type(key).__name__}, not an Ed25519 key")
    return key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )


def _unlock_legacy_salt(doc: Mapping[str, Any], passphrase: str | bytes, source: str) -> bytes:
    """The salt secret of a file in the format used before key files were unified
    (scrypt n=2**15 + AES-256-GCM); read only to convert it."""
    try:
        params = doc["kdfparams"]
        n, r, p = int(params["n"]), int(params["r"]), int(params["p"])
        if doc["kdf"] != "scrypt" or doc["cipher"] != "aes-256-gcm":
            raise ValueError("unsupported kdf or cipher")
        if not (2 <= n <= _MAX_SCRYPT_N and n & (n - 1) == 0 and 1 <= r <= 8 and 1 <= p <= 16):
            raise ValueError("scrypt parameters out of range")
        salt, nonce = bytes.fromhex(params["salt"]), bytes.fromhex(doc["nonce"])
        ciphertext = bytes.fromhex(doc["ciphertext"])
        if len(nonce) != 12 or len(ciphertext) != SALT_SECRET_BYTES + 16:
            raise ValueError("bad nonce or ciphertext length")
    except (KeyError, TypeError, ValueError) as exc:
        raise SigningKeyError(f"{source}: damaged salt-secret file ({exc})") from exc
    key = Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(_passphrase_bytes(passphrase))
    try:
        return AESGCM(key).decrypt(nonce, ciphertext, b"RecordRegistry/salt-secret/v1")
    except InvalidTag as exc:
        raise WrongPassphrase(
            f"{source}: wrong passphrase (or a damaged file); check the passphrase and try again"
        ) from exc


def _unlock_any(info: KeyFileInfo, passphrase: str | bytes) -> bytes:
    """The secret of any key file, current or old format."""
    assert info.kind is not None
    source = str(info.path)
    raw = info.path.read_bytes()
    if info.form == "old PEM":
        return _unlock_legacy_pem(raw, passphrase, source)
    doc = json.loads(raw)
    if info.form == "old salt secret":
        return _unlock_legacy_salt(doc, passphrase, source)
    return unlock_secret(doc, kind=info.kind, passphrase=passphrase, source=source)


@dataclass(frozen=True)
class Rekeyed:
    """What `rekey_files` did to one file."""

    path: Path  # the file as it was
    target: Path  # the file as it is now (differs when an old PEM file was converted)
    kind: SecretKind
    action: (
        str  # "rekeyed", "converted" (from an old format), "already rekeyed" (by a run cut short)
    )


def _opens_with(info: KeyFileInfo, passphrase: str) -> bool:
    try:
        _unlock_any(info, passphrase)
    except WrongPassphrase:
        return False
    return True


def _converted_name(path: Path) -> Path:
    name = path.name
    return path.with_name(name.replace(".pem", ".json", 1) if ".pem" in name else name + ".json")


def rekey_files(
    paths: Iterable[str | os.PathLike[str]],
    *,
    old: str,
    new: str,
    scrypt_n: int | None = None,
) -> list[Rekeyed]:
    """Re-encrypt key files under a new passphrase, in place, converting old formats.

    All or nothing as far as a file system allows: every file is decrypted with the old
    passphrase and every new file is written (temporary, 0600, fsynced) before the first one
    replaces its original; a failure before that changes nothing. A run cut short during the
    renames can simply be repeated: files already under the new passphrase are left alone.
    Files that are not key files are ignored (the caller lists them: describe_key_file)."""
    check_new_passphrase(new)
    plan: list[tuple[KeyFileInfo, bytes, Path]] = []
    done: list[Rekeyed] = []
    for path in paths:
        info = describe_key_file(path)
        if info.kind is None:
            continue
        try:
            secret = _unlock_any(info, old)
        except WrongPassphrase as exc:
            if info.current and new != old and _opens_with(info, new):  # an interrupted rekey
                done.append(Rekeyed(info.path, info.path, info.kind, "already rekeyed"))
                continue
            raise WrongPassphrase(f"{exc}; no file was changed") from exc
        target = info.path if info.form != "old PEM" else _converted_name(info.path)
        if target != info.path and target.exists():
            raise SigningKeyError(f"{info.path}: cannot convert it, {target} is already there")
        plan.append((info, secret, target))
    temps: list[tuple[str, KeyFileInfo, Path]] = []
    try:
        for info, secret, target in plan:
            assert info.kind is not None
            doc = lock_secret(secret, kind=info.kind, passphrase=new, scrypt_n=scrypt_n)
            data = json.dumps(doc, indent=2).encode() + b"\n"
            temps.append((_write_temp(target, data, what=str(info.kind)), info, target))
        for temp, info, target in temps:
            os.replace(temp, target)
            if target != info.path:
                os.unlink(info.path)
            assert info.kind is not None
            action = "rekeyed" if info.current else "converted"
            done.append(Rekeyed(info.path, target, info.kind, action))
    finally:
        for temp, _, _ in temps:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
        directories = {target.parent for _, _, target in plan}
        for directory in directories:
            _fsync_directory(directory)
    return done


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
