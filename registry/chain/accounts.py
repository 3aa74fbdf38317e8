"""Transaction-sending keys: eth-account local accounts and passphrase-encrypted keystores."""

from __future__ import annotations

from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from registry import keys
from registry.errors import InvalidInput, SigningKeyError


def new_account() -> LocalAccount:
    """A fresh random account (private key from the OS CSPRNG)."""
    account: LocalAccount = Account.create()
    return account


def create_keystore(account: LocalAccount, path: Path, passphrase: str) -> Path:
    """Write `account` as a transaction-key file (an Ethereum keystore v3, scrypt n=2**18,
    labelled: registry.keys), mode 0600, atomically; never over an existing file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    keys.save_secret(
        bytes(account.key), path, kind=keys.SecretKind.TRANSACTION_KEY, passphrase=passphrase
    )
    return path


def load_keystore(path: Path, passphrase: str) -> LocalAccount:
    """Decrypt a transaction-key file (or any Ethereum keystore v3: geth's, eth-account's);
    a wrong passphrase raises WrongPassphrase, another kind of key file SigningKeyError."""
    if not path.is_file():
        raise SigningKeyError(f"{path}: keystore file not found")
    secret = keys.load_secret(path, kind=keys.SecretKind.TRANSACTION_KEY, passphrase=passphrase)
    account: LocalAccount = Account.from_key(secret)
    return account


def fund_from_dev_account(w3: Web3, to: str, wei: int = 10**20) -> None:
    """Send `wei` to `to` from the node's first unlocked account (eth-tester, anvil: dev only)."""
    accounts = w3.eth.accounts
    if not accounts:
        raise InvalidInput("this node has no unlocked dev account to fund from; fund the account")
    tx = w3.eth.send_transaction({"from": accounts[0], "to": to, "value": wei})  # type: ignore[typeddict-item]
    w3.eth.wait_for_transaction_receipt(tx)
