"""Agency keys held by a long-running server: decrypted once into memory, each account's
transactions serialised (one nonce sequence per account)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from eth_account.signers.local import LocalAccount

from registry.errors import RegistryError, SigningKeyError, UnknownAgency
from registry.service.agencies import AgencyRef, list_store_agencies
from registry.service.issuing import Issuer
from registry.service.operator import Operator
from registry.store import repo

log = logging.getLogger(__name__)


class KeysUnavailable(SigningKeyError):
    """This server holds no usable key for the agency (no key files, or no passphrase)."""


# ------------------------------------------------------------------ keys


class Keyring:
    """Agency keys decrypted once and kept in memory, one `Issuer` per agency, plus the registry
    authority's account; and one lock per sending account, because two transactions from one
    account at once would race for the same nonce (anchoring worker vs. a revocation)."""

    def __init__(self, operator: Operator, passphrase: str | None) -> None:
        self.operator = operator
        self._passphrase = passphrase
        self._issuers: dict[int, Issuer] = {}
        self._admin: LocalAccount | None = None
        self._guard = threading.Lock()
        self._loading: dict[int, threading.Lock] = {}
        self._senders: dict[str, threading.RLock] = {}

    def has_key_files(self, agency: AgencyRef) -> bool:
        return self.operator.has_agency_keys(agency.name)

    def put(self, agency_id: int, issuer: Issuer) -> None:
        """Hand in an issuer whose keys are already in memory (tests, embedded mode)."""
        with self._guard:
            self._issuers[agency_id] = issuer

    def put_admin(self, account: LocalAccount) -> None:
        self._admin = account

    def loaded(self) -> list[Issuer]:
        with self._guard:
            return list(self._issuers.values())

    def issuer_for(self, agency: AgencyRef) -> Issuer:
        """The agency's issuer, decrypting its keys on first use (scrypt: about a second)."""
        with self._guard:
            found = self._issuers.get(agency.id)
            if found is not None:
                return found
            loading = self._loading.setdefault(agency.id, threading.Lock())
        with loading:
            with self._guard:
                found = self._issuers.get(agency.id)
            if found is not None:
                return found
            if self._passphrase is None:
                raise KeysUnavailable(
                    f"agency {agency.name!r}: no keystore passphrase given to this server "
                    "(set REGISTRY_KEYSTORE_PASSPHRASE)"
                )
            if not self.has_key_files(agency):
                raise KeysUnavailable(
                    f"agency {agency.name!r}: this server holds no keys for it in "
                    f"{self.operator.keys_dir}"
                )
            with self.operator.store.session() as session:
                row = repo.agency_by_id(session, agency.id)
            if row is None:
                raise UnknownAgency(f"agency {agency.name!r} is no longer in the store")
            issuer = self.operator.issuer(row, passphrase=self._passphrase)
            with self._guard:
                self._issuers[agency.id] = issuer
            return issuer

    def load_available(self) -> list[str]:
        """Decrypt the keys of every active agency whose key files are here; returns the names
        loaded. An agency whose keys cannot be opened is logged and skipped."""
        names = []
        for agency in list_store_agencies(self.operator.store):
            if not agency.active or not self.has_key_files(agency):
                continue
            try:
                self.issuer_for(agency)
                names.append(agency.name)
            except RegistryError as exc:
                log.warning("agency %s: keys not loaded: %s", agency.name, exc)
        return names

    def admin(self) -> LocalAccount:
        """The registry authority's account (DATA_DIR/keys/admin.json), decrypted once."""
        with self._guard:
            if self._admin is not None:
                return self._admin
        if self._passphrase is None:
            raise KeysUnavailable(
                "the registry authority's keystore needs a passphrase "
                "(REGISTRY_KEYSTORE_PASSPHRASE)"
            )
        if not (self.operator.keys_dir / "admin.json").is_file():
            raise KeysUnavailable(
                f"this server holds no registry authority key ({self.operator.keys_dir}/admin.json)"
            )
        account = self.operator.admin_account(self._passphrase)
        with self._guard:
            self._admin = account
        return account

    @property
    def passphrase(self) -> str:
        if self._passphrase is None:
            raise KeysUnavailable("no keystore passphrase given (set REGISTRY_KEYSTORE_PASSPHRASE)")
        return self._passphrase

    @contextmanager
    def sending(self, address: str) -> Iterator[None]:
        """Hold the lock of one sending account for a transaction (or a whole anchoring)."""
        with self._guard:
            lock = self._senders.setdefault(address.lower(), threading.RLock())
        with lock:
            yield
