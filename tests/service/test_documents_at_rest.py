"""Sealed documents at rest: encrypted with the agency's data key (a data-key file), bound to
their record's digest, readable by the agency alone; deleted by the retention rule or after
download while digest, batch and receipt stay; 410 Gone from the API once deleted."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.app import create_app
from registry import keys, record
from registry.errors import SigningKeyError, WrongPassphrase
from registry.service.admin import issue_api_token
from registry.service.documents import (
    CIPHERTEXT_PREFIX,
    DocumentPurged,
    DocumentUnreadable,
    decrypt_document,
    encrypt_document,
)
from registry.service.issuing import Issuer
from registry.service.operator import Operator
from registry.settings import Settings
from registry.store import Store, repo

PASSPHRASE = "documents at rest test"
NAME = "Kristjan Zzyzxhausen"
BIRTH = {"type": "BirthCertificate", "child": {"name": NAME, "born": "2026-11-02"}}
DEATH = {"type": "DeathCertificate", "person": {"name": "Other Person"}}


def _operator(env: Any, store: Store, tmp_path: Path, **settings: Any) -> Operator:
    values: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "registry_address": env.registry.address,
        "chain_id": env.registry.chain_id,
        "batch_age": 0.0,
        **settings,
    }
    with store.session() as session:
        repo.bind_store(
            session,
            chain_id=env.registry.chain_id,
            genesis_hash=bytes(env.w3.eth.get_block(0)["hash"]),
            registry_address=env.registry.address,
        )
    return Operator(Settings(**values), registry=env.registry, store=store)


def _issue(issuer: Issuer, *records: dict[str, Any]) -> list[bytes]:
    """Seal, submit and anchor `records`; their digests."""
    sealed = [issuer.seal(r) for r in records]
    issuer.submit(
        [(bytes(s.digest), "record", record.sealed_json_bytes(s).decode()) for s in sealed]
    )
    for batch_id in issuer.seal_batches(force=True):
        issuer.anchor_batch(batch_id)
    return [bytes(s.digest) for s in sealed]


@pytest.fixture
def world(chain_env: Any, store: Store, tmp_path: Path) -> tuple[Operator, Issuer]:
    op = _operator(chain_env, store, tmp_path)
    (tmp_path / "data" / "keys").mkdir(parents=True)
    _, issuer = op.create_agency(
        "Birth Office", passphrase=PASSPHRASE, admin=chain_env.admin, fund_from_dev=True
    )
    return op, issuer


def _stored(store: Store, digest: bytes) -> str | None:
    with store.session() as session:
        value = session.execute(
            text("SELECT document FROM records WHERE digest = :d"), {"d": digest}
        ).scalar()
    return None if value is None else str(value)


def test_the_store_never_holds_the_clear_document(
    world: tuple[Operator, Issuer], store: Store, tmp_path: Path
) -> None:
    op, issuer = world
    [digest] = _issue(issuer, BIRTH)
    stored = _stored(store, digest)
    assert stored is not None and stored.startswith(CIPHERTEXT_PREFIX)
    assert NAME not in stored and "salt" not in stored
    if store.url.startswith("sqlite"):
        with store.engine.connect() as connection:  # move the WAL into the main file too
            connection.exec_driver_sql("PRAGMA wal_checkpoint(FULL)")
    needle = NAME.encode()
    for path in (tmp_path / "data").rglob("*"):
        if path.is_file():
            assert needle not in path.read_bytes(), f"{path} holds the citizen's name in clear"
    assert (op.keys_dir / "birth-office.data.json").is_file()


def test_round_trip_gives_the_sealed_document_with_receipt(world: tuple[Operator, Issuer]) -> None:
    op, issuer = world
    [digest] = _issue(issuer, BIRTH)
    sealed = op.sealed_document_for(digest, agency_id=issuer.agency_id)
    assert sealed["data"] == BIRTH and sealed["receipt"]["digest"] == "0x" + digest.hex()
    parsed = record.parse_sealed_document(sealed)
    assert bytes(parsed.digest) == digest


def test_a_fresh_operator_reads_with_the_data_key_file(
    world: tuple[Operator, Issuer], chain_env: Any, store: Store, tmp_path: Path
) -> None:
    _, issuer = world
    [digest] = _issue(issuer, BIRTH)
    fresh = _operator(chain_env, store, tmp_path)
    with pytest.raises(SigningKeyError, match="passphrase"):
        fresh.sealed_document_for(digest, agency_id=issuer.agency_id)
    with pytest.raises(WrongPassphrase):
        fresh.sealed_document_for(digest, agency_id=issuer.agency_id, passphrase="wrong one!")
    sealed = fresh.sealed_document_for(digest, agency_id=issuer.agency_id, passphrase=PASSPHRASE)
    assert sealed["data"] == BIRTH
    # The data-key file is its own kind: it cannot be loaded as the salt secret, nor back.
    with pytest.raises(SigningKeyError, match="data-key"):
        keys.load_salt_secret(fresh.agency_data_key_file("Birth Office"), PASSPHRASE)
    salt_file = fresh.agency_key_files("Birth Office").salt_secret
    with pytest.raises(SigningKeyError, match="salt-secret"):
        keys.load_data_key(salt_file, PASSPHRASE)


def test_the_data_key_file_is_listed_and_rekeyed(tmp_path: Path) -> None:
    path = tmp_path / "office.data.json"
    key = keys.generate_data_key()
    keys.save_data_key(key, path, PASSPHRASE)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    info = keys.describe_key_file(path)
    assert info.kind is keys.SecretKind.DATA_KEY and info.current and info.public
    with pytest.raises(SigningKeyError, match="already there"):
        keys.save_data_key(keys.generate_data_key(), path, PASSPHRASE)  # never overwritten
    keys.rekey_files([path], old=PASSPHRASE, new="a new passphrase for keys")
    assert keys.load_data_key(path, "a new passphrase for keys") == key


def test_a_ciphertext_swapped_between_records_is_refused(
    world: tuple[Operator, Issuer], store: Store
) -> None:
    op, issuer = world
    first, second = _issue(issuer, BIRTH, DEATH)
    a, b = _stored(store, first), _stored(store, second)
    with store.session() as session:
        for digest, value in ((first, b), (second, a)):
            session.execute(
                text("UPDATE records SET document = :v WHERE digest = :d"),
                {"v": value, "d": digest},
            )
    for digest in (first, second):
        with pytest.raises(DocumentUnreadable, match="another record's ciphertext"):
            op.sealed_document_for(digest, agency_id=issuer.agency_id)


def test_a_wrong_data_key_is_refused(world: tuple[Operator, Issuer], store: Store) -> None:
    op, issuer = world
    [digest] = _issue(issuer, BIRTH)
    with pytest.raises(DocumentUnreadable):
        op.sealed_document_for(digest, agency_id=issuer.agency_id, data_key=os.urandom(32))
    stored = _stored(store, digest)
    assert stored is not None
    with pytest.raises(DocumentUnreadable):
        decrypt_document(data_key=issuer.data_key, digest=digest, stored=stored[:-4] + "AAAA")


def test_encryption_is_randomised_and_bound_to_the_digest() -> None:
    key, digest = os.urandom(32), b"\x07" * 32
    one = encrypt_document(data_key=key, digest=digest, document='{"a":1}')
    assert one != encrypt_document(data_key=key, digest=digest, document='{"a":1}')
    assert decrypt_document(data_key=key, digest=digest, stored=one) == '{"a":1}'
    with pytest.raises(DocumentUnreadable):
        decrypt_document(data_key=key, digest=b"\x08" * 32, stored=one)


def _anchored_at(store: Store, digest: bytes) -> datetime:
    with store.session() as session:
        rec = repo.record_by_digest(session, digest)
        assert rec is not None and rec.batch_id is not None
        batch = repo.batch_by_id(session, rec.batch_id)
        assert batch is not None and batch.anchored_at is not None
        return datetime.fromtimestamp(batch.anchored_at, UTC)


def test_retention_purge_keeps_receipt_and_digest(
    chain_env: Any, store: Store, tmp_path: Path
) -> None:
    op = _operator(chain_env, store, tmp_path, document_retention_days=30)
    (tmp_path / "data" / "keys").mkdir(parents=True)
    _, issuer = op.create_agency(
        "Birth Office", passphrase=PASSPHRASE, admin=chain_env.admin, fund_from_dev=True
    )
    [digest] = _issue(issuer, BIRTH)
    receipt = op.receipt_for(digest)
    anchored = _anchored_at(store, digest)
    early = op.purge_documents(now=anchored + timedelta(days=29))
    assert early is not None and early.records == 0
    assert op.sealed_document_for(digest, agency_id=issuer.agency_id)["data"] == BIRTH
    late = op.purge_documents(now=anchored + timedelta(days=30, seconds=1))
    assert late is not None and late.records == 1
    assert _stored(store, digest) is None
    with pytest.raises(DocumentPurged, match="retention"):
        op.sealed_document_for(digest, agency_id=issuer.agency_id)
    assert op.receipt_for(digest) == receipt  # digest, batch and receipt stay
    with store.session() as session:
        rec = repo.record_by_digest(session, digest)
        assert rec is not None and rec.status == "anchored" and rec.document_purged_at
    # No rule, no purge.
    assert _operator(chain_env, store, tmp_path).purge_documents() is None


def test_download_then_delete(chain_env: Any, store: Store, tmp_path: Path) -> None:
    op = _operator(chain_env, store, tmp_path, delete_document_after_download=True)
    (tmp_path / "data" / "keys").mkdir(parents=True)
    _, issuer = op.create_agency(
        "Birth Office", passphrase=PASSPHRASE, admin=chain_env.admin, fund_from_dev=True
    )
    [digest] = _issue(issuer, BIRTH)
    assert op.sealed_document_for(digest, agency_id=issuer.agency_id)["data"] == BIRTH
    with pytest.raises(DocumentPurged):
        op.sealed_document_for(digest, agency_id=issuer.agency_id)
    assert op.receipt_for(digest).digest == digest


def test_clear_documents_of_an_old_store_are_encrypted(
    world: tuple[Operator, Issuer], store: Store
) -> None:
    op, issuer = world
    sealed = issuer.seal(BIRTH)
    digest = bytes(sealed.digest)
    with store.session() as session:  # as the store kept it before encryption at rest
        repo.add_records(
            session,
            agency_id=issuer.agency_id,
            items=[(digest, "record", record.sealed_json_bytes(sealed).decode())],
        )
    for batch_id in issuer.seal_batches(force=True):
        issuer.anchor_batch(batch_id)
    assert NAME in (_stored(store, digest) or "")
    assert op.encrypt_clear_documents("Birth Office", passphrase=PASSPHRASE) == 1
    assert op.encrypt_clear_documents("Birth Office", passphrase=PASSPHRASE) == 0
    stored = _stored(store, digest)
    assert stored is not None and NAME not in stored and stored.startswith(CIPHERTEXT_PREFIX)
    assert op.sealed_document_for(digest, agency_id=issuer.agency_id)["data"] == BIRTH


def test_api_answers_410_gone_once_purged(chain_env: Any, store: Store, tmp_path: Path) -> None:
    op = _operator(chain_env, store, tmp_path, document_retention_days=1)
    (tmp_path / "data" / "keys").mkdir(parents=True)
    agency, issuer = op.create_agency(
        "Birth Office", passphrase=PASSPHRASE, admin=chain_env.admin, fund_from_dev=True
    )
    [digest] = _issue(issuer, BIRTH)
    _, token = issue_api_token(store, agency_id=agency.id, label="a")
    app = create_app(operator=op, passphrase=PASSPHRASE, run_worker=False)
    url = f"/v1/records/0x{digest.hex()}/document"
    headers = {"Authorization": f"Bearer {token}"}
    with TestClient(app) as client:
        ok = client.get(url, headers=headers)
        assert ok.status_code == 200 and ok.json()["data"] == BIRTH
        op.purge_documents(now=_anchored_at(store, digest) + timedelta(days=2))
        gone = client.get(url, headers=headers)
        assert gone.status_code == 410
        assert gone.headers["content-type"].startswith("application/problem+json")
        problem = gone.json()
        assert problem["type"].endswith(":document-purged") and "retention" in problem["detail"]
        assert client.get(f"/v1/records/0x{digest.hex()}/receipt").status_code == 200
