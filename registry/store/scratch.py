"""Throw-away PostgreSQL schemas for tests and benchmarks: isolated, parallel-safe, dropped."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from registry.store.db import unavailable_message
from registry.store.errors import StoreUnavailable

__all__ = ["DEFAULT_PG_URL", "scratch_schema"]

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@contextmanager
def scratch_schema(url: str = DEFAULT_PG_URL, *, prefix: str = "scratch") -> Iterator[str]:
    """Create a uniquely named schema in the database at `url`; yield a URL that uses it.

    The yielded URL sets the connection's search_path, so every table, the Alembic version
    table and the journal trigger land in the schema. Close engines on it before the block
    ends: the schema is dropped with everything in it.
    """
    name = f"{prefix}_{uuid.uuid4().hex[:16]}"
    parsed = make_url(url).set(drivername="postgresql+psycopg")
    admin = create_engine(parsed, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    try:
        try:
            with admin.connect() as connection:
                connection.exec_driver_sql(f'CREATE SCHEMA "{name}"')
        except DBAPIError as exc:
            raise StoreUnavailable(unavailable_message(parsed, exc)) from exc
        try:
            yield parsed.update_query_dict({"options": f"-csearch_path={name}"}).render_as_string(
                hide_password=False
            )
        finally:
            with admin.connect() as connection:
                connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    finally:
        admin.dispose()
