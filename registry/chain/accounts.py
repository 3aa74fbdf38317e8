"""Transaction-sending keys: eth-account local accounts and passphrase-encrypted keystores."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from registry.errors import InvalidInput, SigningKeyError, WrongPassphrase


def new_account() -> LocalAccount:
    """A fresh random account (private key from the OS CSPRNG)."""
    account: LocalAccount = Account.create()
    return account


def create_keystore(account: LocalAccount, path: Path, passphrase: str) -> Path:
    """Write `account` as an encrypted (scrypt) keystore JSON file, mode 0600, atomically."""
    if not passphrase:
        raise InvalidInput("keystore passphrase must not be empty")
    payload = json.dumps(Account.encrypt(account.key, passphrase))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(payload)
    os.replace(tmp, path)
    return path


def load_keystore(path: Path, passphrase: str) -> LocalAccount:
    """Decrypt a keystore file; a wrong passphrase raises WrongPassphrase."""
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise SigningKeyError(f"{path}: keystore file not found") from exc
    except (OSError, ValueError) as exc:
        raise SigningKeyError(f"{path}: not a keystore JSON file ({exc})") from exc
    try:
        key = Account.decrypt(data, passphrase)
    except ValueError as exc:
        if "MAC mismatch" in str(exc):
            raise WrongPassphrase(
                f"{path}: wrong passphrase; set the right one (REGISTRY_KEYSTORE_PASSPHRASE "
                "or --passphrase)"
            ) from exc
        raise SigningKeyError(f"{path}: not a valid keystore ({exc})") from exc
    except (KeyError, TypeError) as exc:
        raise SigningKeyError(f"{path}: not a valid keystore (missing {exc})") from exc
    account: LocalAccount = Account.from_key(key)
    return account


def fund_from_dev_account(w3: Web3, to: str, wei: int = 10**20) -> None:
    """Send `wei` to `to` from the node's first unlocked account (eth-tester, anvil: dev only)."""
    accounts = w3.eth.accounts
    if not accounts:
        raise InvalidInput("this node has no unlocked dev account to fund from; fund the account")
    tx = w3.eth.send_transaction({"from": accounts[0], "to": to, "value": wei})  # type: ignore[typeddict-item]
    w3.eth.wait_for_transaction_receipt(tx)
