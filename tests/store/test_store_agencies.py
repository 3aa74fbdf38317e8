"""Agencies, API tokens (only their hash is stored) and the chain binding of a store."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_utils.address import to_checksum_address
from sqlalchemy import text
from store_helpers import ADDRESS_A, ADDRESS_B

from registry.errors import InvalidInput, UnknownAgency
from registry.store import (
    DuplicateAgency,
    NotFound,
    Store,
    WrongStore,
    add_agency,
    agency_by_address,
    authenticate,
    bind_store,
    issue_token,
    list_agencies,
    list_tokens,
    open_store,
    read_journal,
    revoke_token,
    set_agency_signing_key,
    set_agency_status,
    store_binding,
)
from registry.store.models import Base

GENESIS = "0x" + "ab" * 32
REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"


def test_agencies(store: Store, agencies: tuple[int, int]) -> None:
    a, b = agencies
    with store.session() as session:
        found = agency_by_address(session, ADDRESS_A.upper().replace("0X", "0x"))
        assert found is not None and found.id == a and found.status == "active"
        assert found.address == to_checksum_address(ADDRESS_A) != ADDRESS_A  # EIP-55
        assert found.signing_key == b"\xa1" * 32
        with pytest.raises(DuplicateAgency):
            add_agency(session, address=ADDRESS_B, name="again", signing_public_key=b"\x01" * 32)
        with pytest.raises(InvalidInput, match="address"):
            agency_by_address(session, "0x1234")
        set_agency_status(session, b, "suspended")
        set_agency_signing_key(session, a, b"\xa2" * 32)
        with pytest.raises(UnknownAgency):
            set_agency_status(session, 999, "active")
        with pytest.raises(InvalidInput):
            set_agency_status(session, a, "deleted")
    with store.session() as session:
        assert [(x.id, x.status) for x in list_agencies(session)] == [
            (a, "active"),
            (b, "suspended"),
        ]
        assert [e.kind for e in read_journal(session)] == [
            "agency.registered",
            "agency.registered",
            "agency.suspended",
            "agency.key_rotated",
        ]


def _everything_in_the_database(store: Store) -> str:
    """Every value of every table, as text and as decoded bytes."""
    parts: list[str] = []
    with store.engine.connect() as connection:
        for name in [*Base.metadata.tables, "alembic_version"]:
            for row in connection.execute(text(f"SELECT * FROM {name}")):
                for value in row:
                    if isinstance(value, bytes | memoryview):
                        parts.append(bytes(value).decode("latin-1"))
                    parts.append(str(value))
    return "\n".join(parts)


def test_tokens_are_stored_as_hashes_only(
    store: Store, store_url: str, agencies: tuple[int, int]
) -> None:
    a, _ = agencies
    with store.session() as session:
        agency_token = issue_token(session, agency_id=a, scope="agency", label="issuing server")
        admin_token = issue_token(session, agency_id=None, scope="admin", label="ops")
    assert agency_token.startswith("prr_") and len(agency_token) > 40
    with store.session() as session:
        who = authenticate(session, agency_token)
        assert who is not None and who.agency_id == a and who.scope == "agency"
        admin = authenticate(session, admin_token)
        assert admin is not None and admin.agency_id is None and admin.scope == "admin"
        assert authenticate(session, agency_token[:-1] + "x") is None
        assert authenticate(session, "not-a-token") is None
    dump = _everything_in_the_database(store)
    for token in (agency_token, admin_token):
        assert token not in dump and token.removeprefix("prr_") not in dump
    if store_url.startswith("sqlite"):
        path = Path(store_url.removeprefix("sqlite:///"))
        raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
        assert agency_token.encode() not in raw and admin_token.encode() not in raw


def test_token_revocation_and_scope_rules(store: Store, agencies: tuple[int, int]) -> None:
    a, _ = agencies
    with store.session() as session:
        token = issue_token(session, agency_id=a, scope="agency", label="old")
        with pytest.raises(InvalidInput, match="admin token"):
            issue_token(session, agency_id=a, scope="admin", label="x")
        with pytest.raises(InvalidInput, match="admin token"):
            issue_token(session, agency_id=None, scope="agency", label="x")
        with pytest.raises(InvalidInput, match="scope"):
            issue_token(session, agency_id=None, scope="root", label="x")
        with pytest.raises(UnknownAgency):
            issue_token(session, agency_id=999, scope="agency", label="x")
    with store.session() as session:
        (row,) = list_tokens(session, agency_id=a)
        revoke_token(session, row.id)
        revoke_token(session, row.id)
        with pytest.raises(NotFound):
            revoke_token(session, 999)
    with store.session() as session:
        assert authenticate(session, token) is None
        assert [e.kind for e in read_journal(session, subject=f"token:{row.id}")] == [
            "token.issued",
            "token.revoked",
        ]


def test_store_is_bound_to_one_chain_and_registry(
    store: Store, store_url: str, tmp_path: Path
) -> None:
    with store.session() as session:
        assert store_binding(session) is None
        bind_store(session, chain_id=31337, genesis_hash=GENESIS, registry_address=REGISTRY)
    with store.session() as session:  # the same chain again, any spelling: fine
        bind_store(
            session,
            chain_id=31337,
            genesis_hash=bytes.fromhex("ab" * 32),
            registry_address=REGISTRY.lower(),
        )
    store.close()
    reopened = open_store(store_url, data_dir=tmp_path)
    try:
        with reopened.session() as session:
            with pytest.raises(WrongStore) as refused:
                bind_store(session, chain_id=1, genesis_hash=GENESIS, registry_address=REGISTRY)
            message = str(refused.value)
            assert "this store belongs to chain 31337" in message
            assert f"registry {REGISTRY}; refusing to mix it with chain 1" in message
            other = "0x" + "12" * 20
            with pytest.raises(WrongStore, match="refusing to mix"):
                bind_store(session, chain_id=31337, genesis_hash=GENESIS, registry_address=other)
            with pytest.raises(WrongStore, match="genesis 0x" + "cd" * 32):
                bind_store(
                    session,
                    chain_id=31337,
                    genesis_hash="0x" + "cd" * 32,
                    registry_address=REGISTRY,
                )
            binding = store_binding(session)
            assert binding is not None and binding.chain_id == 31337
            assert [e.kind for e in read_journal(session, subject="store")] == ["store.bound"]
    finally:
        reopened.close()
