"""The registry as an operator runs it: settings + chain + store + keys in the data directory.

The CLI and the API are thin shells over this class. Layout of the data directory:

    config.toml                      settings written by `registry init` / `registry deploy`
    registry.db                      the SQLite store (unless database_url points elsewhere)
    keys/admin.json                  the registry authority's account (transaction-key file)
    keys/<agency>.account.json       an agency's current transaction account (transaction-key)
    keys/<agency>.ed25519.json       an agency's current receipt-signing key (signing-key file)
    keys/<agency>.salt.json          an agency's salt secret (salt-secret file)
    keys/<agency>.data.json          an agency's data key, which encrypts its sealed documents
                                     in the store (data-key file; registry.service.documents)
    keys/<agency>.*.retired          keys replaced by a rotation or a move (kept, never reused)

Every key file is an Ethereum keystore v3 (scrypt) labelled with its kind (registry.keys), all
under the one operator passphrase; `registry keys rekey` changes it.

An agency's identity is the address it was registered with (`Agency.address`); after the
authority moves it to a new transaction account, `Agency.account` differs from it.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eth_account.signers.local import LocalAccount
from web3 import Web3

from registry import keys
from registry.chain import (
    RegistryContract,
    create_keystore,
    load_keystore,
    new_account,
)
from registry.chain.tx import TxOptions
from registry.errors import InvalidInput, SigningKeyError, UnknownAgency
from registry.receipt import Receipt
from registry.service import authority, documents
from registry.service.issue_inputs import IssueItem, collect_inputs, sealed_json, write_outputs
from registry.service.issuing import Issuer, IssuingConfig
from registry.service.receipts import BatchTrees, stored_receipt
from registry.service.status import _store_status, _wrong_store_way_out
from registry.service.trust import chain_nodes, held_trust_lists, trusted_registries
from registry.service.verify import ChainReader, TrustedRegistry
from registry.settings import Settings
from registry.store import Store, open_store, repo
from registry.store.errors import DuplicateAgency, NotFound, WrongStore
from registry.store.models import Agency
from registry.trustlist import TrustList

TREE_CACHE_SIZE = 8
"""Merkle trees of confirmed batches kept in memory for receipt lookups."""


def slug(name: str) -> str:
    """File-name-safe form of an agency name."""
    text = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    if not text:
        raise InvalidInput(f"agency name {name!r}: needs at least one letter or digit")
    return text


class AgencyKeyFiles(NamedTuple):
    """The paths of an agency's three key files in the data directory."""

    account: Path
    signing_key: Path
    salt_secret: Path


class Operator:
    """One registry deployment as seen by its operator."""

    def __init__(self, settings: Settings, *, registry: RegistryContract, store: Store) -> None:
        self.settings = settings
        self.registry = registry
        self.store = store
        self._trees = BatchTrees(TREE_CACHE_SIZE)
        self._data_keys: dict[int, bytes] = {}  # agency id -> data key, once decrypted

    # ------------------------------------------------------------ opening

    @classmethod
    def open(
        cls,
        settings: Settings,
        *,
        w3: Web3 | None = None,
        registry: RegistryContract | None = None,
    ) -> Operator:
        """Connect, attach to the configured registry (identity-checked), open the store and
        bind it to this chain and registry (refusing a store of another)."""
        if registry is None:
            from registry.service.connection import attach_registry  # (it imports tx_options)

            registry = attach_registry(
                settings,
                w3=w3,
                missing="no registry configured: run `registry deploy` (or set "
                "REGISTRY_REGISTRY_ADDRESS)",
                embedded="start a node with `registry node` and set rpc (or run `registry demo`)",
            )
        store = open_store(settings.database_url, data_dir=settings.data_dir)
        try:
            genesis = registry.node.genesis_hash()
            with store.session() as session:
                repo.bind_store(
                    session,
                    chain_id=registry.chain_id,
                    genesis_hash=genesis,
                    registry_address=registry.address,
                )
        except WrongStore as exc:
            store.close()
            raise WrongStore(f"{exc}. {_wrong_store_way_out(settings, store.url)}") from exc
        except BaseException:
            store.close()
            raise
        return cls(settings, registry=registry, store=store)

    def close(self) -> None:
        self.store.close()

    # --------------------------------------------------------------- keys

    @property
    def keys_dir(self) -> Path:
        return self.settings.keys_dir

    def agency_key_files(self, name: str) -> AgencyKeyFiles:
        """Where the agency's key files are (whether or not they exist)."""
        base = self.keys_dir / slug(name)
        return AgencyKeyFiles(
            account=base.with_name(base.name + ".account.json"),
            signing_key=base.with_name(base.name + ".ed25519.json"),
            salt_secret=base.with_name(base.name + ".salt.json"),
        )

    def has_agency_keys(self, name: str) -> bool:
        """Whether this data directory holds all three of the agency's key files."""
        return all(path.is_file() for path in self.agency_key_files(name))

    def admin_account(self, passphrase: str) -> LocalAccount:
        return load_keystore(self.keys_dir / "admin.json", passphrase)

    def agency_account(self, name: str, passphrase: str) -> LocalAccount:
        return load_keystore(self.agency_key_files(name).account, passphrase)

    def agency_signing_key(self, name: str, passphrase: str) -> Ed25519PrivateKey:
        path = self.agency_key_files(name).signing_key
        old = path.with_suffix(".pem")
        if not path.exists() and old.exists():
            raise SigningKeyError(
                f"{old}: agency {name!r} has its signing key in the old PKCS#8 PEM format "
                "(PBKDF2, 2,048 iterations), no longer loaded; convert every key file with "
                "`registry keys rekey`"
            )
        return keys.load_signing_key(path, passphrase)

    def agency_salt_secret(self, name: str, passphrase: str) -> bytes:
        """The agency's own salt secret (generated at creation; survives key rotations)."""
        return keys.load_salt_secret(self.agency_key_files(name).salt_secret, passphrase)

    def agency_data_key_file(self, name: str) -> Path:
        """Where the agency's data-key file is (whether or not it exists)."""
        return self.keys_dir / f"{slug(name)}.data.json"

    def agency_data_key(self, name: str, passphrase: str) -> bytes:
        """The agency's data key (encrypts its sealed documents at rest). An agency created
        before documents were encrypted gets one now, saved like its other keys."""
        path = self.agency_data_key_file(name)
        if not path.exists():
            with suppress(SigningKeyError):  # another process may have just written it
                keys.save_data_key(keys.generate_data_key(), path, passphrase)
        return keys.load_data_key(path, passphrase)

    def _retire(self, path: Path, tag: str) -> None:
        """Keep a replaced key file under a name that says it is retired (never deleted)."""
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        stem, _, suffix = path.name.partition(".")
        os.replace(path, path.with_name(f"{stem}.{suffix}.{tag}-{stamp}.retired"))

    # ----------------------------------------------------------- agencies

    def create_agency(
        self,
        name: str,
        *,
        passphrase: str,
        admin: LocalAccount | None = None,
        fund_from_dev: bool = False,
    ) -> tuple[Agency, Issuer]:
        """Generate an agency's account, signing key and salt secret (saved encrypted in the
        data directory), register it on chain with the authority account (`admin`, else
        decrypted from keys/admin.json) and in the store; return it with its ready issuer."""
        account_path, key_path, salt_path = self.agency_key_files(name)
        data_path = self.agency_data_key_file(name)
        with self.store.session() as session:
            if any(a.name == name for a in repo.list_agencies(session)):
                raise DuplicateAgency(f"an agency named {name!r} is already in the store")
        if any(
            p.exists()
            for p in (account_path, key_path, salt_path, data_path, key_path.with_suffix(".pem"))
        ):
            raise DuplicateAgency(f"agency {name!r} already has keys in {self.keys_dir}")
        admin = admin or self.admin_account(passphrase)
        account = new_account()
        signing_key = keys.generate_signing_key()
        salt_secret = keys.generate_salt_secret()
        data_key = keys.generate_data_key()
        create_keystore(account, account_path, passphrase)
        keys.save_signing_key(signing_key, key_path, passphrase)
        keys.save_salt_secret(salt_secret, salt_path, passphrase)
        keys.save_data_key(data_key, data_path, passphrase)
        if fund_from_dev:
            self.registry.node.fund_from_dev(account.address)
        public = keys.public_key_bytes(signing_key)
        self.registry.register_agency(admin, account=account.address, name=name, signing_key=public)
        with self.store.session() as session:
            agency = repo.add_agency(
                session, address=account.address, name=name, signing_public_key=public
            )
        return agency, self.issuer_from_keys(
            agency,
            account=account,
            signing_key=signing_key,
            salt_secret=salt_secret,
            data_key=data_key,
        )

    def agency(self, name_or_address: str) -> Agency:
        """An agency of the store by name, identity address or current account."""
        address = _checksum_or_same(name_or_address)
        with self.store.session() as session:
            found = repo.agency_by_name_or_address(session, name_or_address, address)
        if found is None:
            raise UnknownAgency(
                f"no agency {name_or_address!r} in this registry's store ({self.store.url}); "
                "`registry status` lists the agencies of the store it reads"
            )
        return found

    def issuing_config(self) -> IssuingConfig:
        """The pipeline limits and anchoring behaviour from the settings."""
        s = self.settings
        return IssuingConfig(
            batch_size=s.batch_size,
            batch_age=s.batch_age,
            confirmations=s.confirmations,
            tx_timeout=s.tx_timeout,
            gas_margin=s.gas_margin,
        )

    def issuer_from_keys(
        self,
        agency: Agency,
        *,
        account: LocalAccount,
        signing_key: Ed25519PrivateKey,
        salt_secret: bytes | None = None,
        data_key: bytes | None = None,
    ) -> Issuer:
        """The agency's issuer, from keys already in memory (`salt_secret` is needed to seal
        structured records; without it only file digests can be issued). `data_key` encrypts
        its sealed documents in the store; without it the issuer makes a key that lives in
        memory only (embedded set-ups), which this operator then uses to read them."""
        issuer = Issuer(
            store=self.store,
            registry=self.registry,
            account=account,
            signing_key=signing_key,
            agency_id=agency.id,
            config=self.issuing_config(),
            agency_address=agency.address,
            salt_secret=salt_secret,
            data_key=data_key or self._data_keys.get(agency.id) or keys.generate_data_key(),
        )
        self._data_keys[agency.id] = issuer.data_key
        return issuer

    def issuer(self, agency: Agency, *, passphrase: str) -> Issuer:
        """The agency's issuer, decrypting its keys from the data directory."""
        return self.issuer_from_keys(
            agency,
            account=self.agency_account(agency.name, passphrase),
            signing_key=self.agency_signing_key(agency.name, passphrase),
            salt_secret=self.agency_salt_secret(agency.name, passphrase),
            data_key=self.agency_data_key(agency.name, passphrase),
        )

    # ------------------------------------------------- authority operations

    def rotate_agency_key(self, name: str, *, passphrase: str) -> Agency:
        """A new signing key for the agency: the agency proposes it, the authority confirms it
        (both keys are held here). The new key is saved before anything is sent (as
        <agency>.ed25519.next.json), and replaces the current file once confirmed; the old one
        is kept, retired. The salt secret is untouched: digests do not change."""
        agency = self.agency(name)
        current = self.agency_key_files(agency.name).signing_key
        pending = current.with_name(current.name.replace(".ed25519.json", ".ed25519.next.json"))
        account = self.agency_account(agency.name, passphrase)
        admin = self.admin_account(passphrase)
        if pending.exists():  # an earlier rotation stopped half-way: finish that one
            new_key = keys.load_signing_key(pending, passphrase)
        else:
            new_key = keys.generate_signing_key()
            keys.save_signing_key(new_key, pending, passphrase)
        authority.rotate_signing_key(
            store=self.store,
            registry=self.registry,
            agency_account=account,
            admin=admin,
            agency_id=agency.id,
            new_key=new_key,
        )
        self._retire(current, "ed25519")
        os.replace(pending, current)
        return self.agency(agency.address)

    def mark_agency_compromised(self, name: str, *, since: int, passphrase: str) -> Agency:
        """The authority marks the agency's transaction account stolen since `since`."""
        agency = self.agency(name)
        authority.mark_compromised(
            store=self.store,
            registry=self.registry,
            admin=self.admin_account(passphrase),
            agency_id=agency.id,
            since=since,
        )
        return self.agency(agency.address)

    def move_agency(self, name: str, *, passphrase: str, fund_from_dev: bool = False) -> Agency:
        """The authority moves the agency to a fresh transaction account (new keystore,
        written before anything is sent); identity, keys and history are kept. The old
        keystore is kept, retired."""
        agency = self.agency(name)
        current = self.agency_key_files(agency.name).account
        pending = current.with_name(current.name.replace(".account.json", ".account.next.json"))
        admin = self.admin_account(passphrase)
        if pending.exists():  # an earlier move stopped half-way: finish that one
            account = load_keystore(pending, passphrase)
        else:
            account = new_account()
            create_keystore(account, pending, passphrase)
        if fund_from_dev:
            self.registry.node.fund_from_dev(account.address)
        authority.move_agency(
            store=self.store,
            registry=self.registry,
            admin=admin,
            agency_id=agency.id,
            new_account=account.address,
        )
        if current.exists():
            self._retire(current, "account")
        os.replace(pending, current)
        return self.agency(agency.address)

    def issuing_agency_of(self, digest: bytes, *, batch: bool = False) -> int:
        """The store id of the agency whose record (or, with `batch`, batch root) this is: the
        earliest anchored one when several agencies hold the digest."""
        with self.store.session() as session:
            if batch:
                found = repo.batch_by_root(session, digest)
                owner = found.agency_id if found is not None else None
            else:
                rec = repo.record_by_digest(session, digest)
                owner = rec.agency_id if rec is not None else None
        if owner is None:
            what = "batch with root" if batch else "record with digest"
            raise NotFound(f"no {what} 0x{digest.hex()} in this registry's store")
        return owner

    # --------------------------------------------------------- documents

    def receipt_for(
        self, digest: bytes, *, agency_id: int | None = None, kind: str | None = None
    ) -> Receipt:
        """The receipt of an anchored record (of one agency, or the public lookup: the earliest
        anchored one, records of `kind` first); InvalidInput if unknown or not anchored yet."""
        return stored_receipt(
            self.store, self._trees, self.registry, digest, agency_id=agency_id, kind=kind
        )

    def data_key_of(self, agency_id: int, *, passphrase: str | None = None) -> bytes:
        """The agency's data key: the one already in memory (an issuer of this operator), else
        decrypted from its key file with `passphrase`."""
        found = self._data_keys.get(agency_id)
        if found is not None:
            return found
        with self.store.session() as session:
            agency = repo.agency_by_id(session, agency_id)
        if agency is None:
            raise UnknownAgency(f"no agency #{agency_id} in this registry's store")
        if passphrase is None:
            raise SigningKeyError(
                f"agency {agency.name!r}: its sealed documents are encrypted and its data key "
                "is not loaded; give the keystore passphrase (REGISTRY_KEYSTORE_PASSPHRASE)"
            )
        key = self.agency_data_key(agency.name, passphrase)
        self._data_keys[agency_id] = key
        return key

    def sealed_document_for(
        self,
        digest: bytes,
        *,
        agency_id: int | None = None,
        passphrase: str | None = None,
        data_key: bytes | None = None,
    ) -> dict[str, Any]:
        """The sealed structured record with its receipt, as the citizen keeps it, decrypted
        with its agency's data key (`data_key`, else data_key_of). With the setting
        `delete_document_after_download` its stored contents are deleted once read.

        InvalidInput: not a structured record here; DocumentPurged: contents deleted."""
        try:
            return documents.download_sealed_document(
                self.store,
                digest=digest,
                agency_id=agency_id,
                data_key_for=lambda owner: (
                    data_key
                    if data_key is not None
                    else self.data_key_of(owner, passphrase=passphrase)
                ),
                receipt_for=lambda value, owner: self.receipt_for(value, agency_id=owner),
                delete_after=self.settings.delete_document_after_download,
            )
        except NotFound as exc:
            raise InvalidInput(str(exc)) from exc

    def purge_documents(self, *, now: datetime | None = None) -> documents.Purged | None:
        """Apply the retention rule (`document_retention_days`): delete the sealed contents of
        records anchored longer ago, keeping digest, batch and receipt. None: no rule set."""
        return documents.purge_documents(
            self.store, retention_days=self.settings.document_retention_days, now=now
        )

    def encrypt_clear_documents(self, name: str, *, passphrase: str) -> int:
        """Encrypt the agency's sealed documents stored in clear before an upgrade."""
        agency = self.agency(name)
        return documents.encrypt_clear_documents(
            self.store, agency_id=agency.id, data_key=self.agency_data_key(agency.name, passphrase)
        )

    def trusted(self, lists: list[TrustList] | None = None) -> list[TrustedRegistry]:
        """The registries of the trust lists (default: the held ones, checked now), this
        operator's own, and those of `settings.trusted`."""
        own = (self.registry.chain_id, self.registry.address)
        if lists is None:
            lists = held_trust_lists(self.settings)
        return trusted_registries(self.settings, lists, own=own)

    def reader(self) -> ChainReader:
        node_for = chain_nodes(
            self.settings, own=self.registry.w3, own_chain=self.registry.chain_id
        )
        return ChainReader(
            registry_for=lambda chain_id, address: (
                self.registry
                if chain_id == self.registry.chain_id
                and address.lower() == self.registry.address.lower()
                else RegistryContract.at(
                    node_for(chain_id), address, chain_id=chain_id, options=self.registry.options
                )
            ),
            revocation_ttl=self.settings.revocation_ttl,
            node_for=node_for,
        )

    def status(self) -> dict[str, Any]:
        # Only the states some batch is in (a fresh registry shows no batches at all).
        return {
            "registry": self.registry.address,
            "chainId": self.registry.chain_id,
            **_store_status(self.store),
        }


@dataclass(frozen=True)
class PendingSubmission:
    """Records stored as pending while the node was down: what, for whom, in which store."""

    items: list[IssueItem]
    agency: str
    store: str


def submit_without_node(
    settings: Settings,
    paths: Sequence[Path],
    *,
    agency: str,
    passphrase: str,
    as_files: bool = False,
) -> PendingSubmission:
    """With the node unreachable: seal the inputs and store them as `pending` (durable,
    idempotent per digest), as `registry issue` would before anchoring; the anchoring worker
    (`registry worker`, `registry serve`) or the next `registry issue` anchors them once the
    node answers. Only into a store already bound to the configured registry (WrongStore
    otherwise); UnknownAgency if the agency is not in it."""
    from registry.service.sealing import seal_with_secret

    store = open_store(settings.database_url, data_dir=settings.data_dir)
    try:
        with store.session() as session:
            bound = repo.store_binding(session)
            address = _checksum_or_same(agency)
            found = repo.agency_by_name_or_address(session, agency, address)
        configured = (settings.registry_address or "").lower()
        if bound is None or (configured and bound.registry_address.lower() != configured):
            raise WrongStore(
                f"the store ({store.url}) is not bound to the configured registry "
                f"{settings.registry_address}: records are stored without the node only for a "
                "registry the store already serves"
            )
        if found is None:
            raise UnknownAgency(
                f"no agency {agency!r} in this registry's store ({store.url}); "
                "`registry status` lists the agencies of the store it reads"
            )
        base = settings.keys_dir / slug(found.name)
        salt = keys.load_salt_secret(base.with_name(base.name + ".salt.json"), passphrase)
        data_key = keys.load_data_key(base.with_name(base.name + ".data.json"), passphrase)
        items = list(
            collect_inputs(
                paths,
                seal=lambda data: seal_with_secret(salt, data),
                max_record_bytes=settings.max_record_bytes,
                as_files=as_files,
            )
        )
        if not items:
            raise InvalidInput("nothing to issue: no files found")
        stored = documents.encrypt_items(
            data_key, [(i.digest, i.kind, sealed_json(i)) for i in items]
        )
        with store.session() as session:
            repo.add_records(session, agency_id=found.id, items=stored)
        return PendingSubmission(items=items, agency=found.name, store=store.url)
    finally:
        store.close()


def tx_options(settings: Settings) -> TxOptions:
    return TxOptions(
        confirmations=settings.confirmations,
        timeout=settings.tx_timeout,
        gas_margin=settings.gas_margin,
    )


def _checksum_or_same(value: str) -> str:
    with suppress(ValueError):
        if Web3.is_address(value):
            return str(Web3.to_checksum_address(value))
    return value


__all__ = [
    "AgencyKeyFiles",
    "IssueItem",
    "Operator",
    "collect_inputs",
    "sealed_json",
    "slug",
    "submit_without_node",
    "write_outputs",
]
