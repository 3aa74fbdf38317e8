"""Opening the store: migrations equal the models, SQLite settings, clear errors, journal guard."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData, inspect, text
from sqlalchemy.exc import DBAPIError

from registry.errors import ConfigError
from registry.store import Store, StoreUnavailable, append_event, open_store
from registry.store.db import SQLITE_BUSY_TIMEOUT_MS, downgrade, upgrade
from registry.store.errors import PG_START_HINT
from registry.store.models import Base
from registry.store.sql import _pg_execute


def _differences(store: Store, metadata: MetaData = Base.metadata) -> list[object]:
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


def test_migrated_schema_equals_the_models(store: Store) -> None:
    assert _differences(store) == []
    with store.engine.connect() as connection:
        version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    assert version == "0004"


def test_the_comparison_would_see_a_difference(store: Store) -> None:
    changed = MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(changed)
    changed.tables["records"].append_column(Column("extra", Integer))
    assert _differences(store, changed) != []


def test_migrations_go_down_and_up_again(store: Store) -> None:
    downgrade(store.engine, "base")
    assert set(inspect(store.engine).get_table_names()) <= {"alembic_version"}
    upgrade(store.engine)
    assert _differences(store) == []


def test_opening_twice_is_harmless(store: Store, store_url: str, tmp_path: Path) -> None:
    again = open_store(store_url, data_dir=tmp_path)
    again.close()
    assert _differences(store) == []


def test_journal_is_append_only(store: Store) -> None:
    with store.session() as session:
        append_event(session, kind="test.event", subject="s", detail={"n": 1})
    for statement in ("UPDATE journal SET kind = 'forged'", "DELETE FROM journal"):
        with pytest.raises(DBAPIError, match="append-only"), store.session() as session:
            session.execute(text(statement))


def test_default_store_is_sqlite_in_wal_mode(tmp_path: Path) -> None:
    data_dir = tmp_path / "new" / "data"
    with open_store(None, data_dir=data_dir) as store:
        assert (data_dir / "registry.db").is_file()
        with store.engine.connect() as connection:
            pragma = connection.exec_driver_sql
            assert pragma("PRAGMA journal_mode").scalar() == "wal"
            assert pragma("PRAGMA foreign_keys").scalar() == 1
            assert pragma("PRAGMA busy_timeout").scalar() == SQLITE_BUSY_TIMEOUT_MS
        with pytest.raises(DBAPIError, match="FOREIGN KEY"), store.session() as session:
            session.execute(
                text(
                    "INSERT INTO api_tokens (agency_id, scope, token_hash, label, created_at) "
                    "VALUES (42, 'agency', 'h', 'l', '2026-01-01 00:00:00')"
                )
            )


def test_unreachable_postgres_says_how_to_start_it(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailable) as failed:
        open_store("postgresql://postgres@127.0.0.1:1/test", data_dir=tmp_path)
    message = str(failed.value)
    assert PG_START_HINT in message and "127.0.0.1:1" in message and "\n" not in message
    assert failed.value.exit_code == 3


@pytest.mark.postgres
def test_missing_postgres_database_says_how_to_create_it(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailable, match="createdb"):
        open_store("postgresql://postgres@127.0.0.1:5432/no_such_db_xyz", data_dir=tmp_path)


@pytest.mark.parametrize(
    "url", ["mysql://localhost/registry", "sqlite://", "not a url", "sqlite:///:memory:"]
)
def test_unsupported_urls_are_refused(url: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="database URL"):
        open_store(url, data_dir=tmp_path)


@pytest.mark.postgres
def test_a_connection_killed_under_a_bulk_statement_is_an_outage(pg_store: Store) -> None:
    """The bulk paths run SQL on psycopg's own cursor (store/sql.py `_pg_execute`), outside
    SQLAlchemy: a server that drops the connection mid-statement (restart, failover) is still
    StoreUnavailable, never a raw driver error (the anchoring worker logged one as a bug while
    PostgreSQL restarted), and the next session works."""
    with (
        pytest.raises(StoreUnavailable, match="stopped answering"),
        pg_store.session() as session,
    ):
        pid = session.execute(text("SELECT pg_backend_pid()")).scalar()
        with pg_store.engine.connect() as killer:
            killer.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        _pg_execute(session, "SELECT 1", {})
    with pg_store.session() as session:
        assert _pg_execute(session, "SELECT 1", {}) == ([(1,)], 1)
