"""Inspecting a store that may not be this registry's (the audit's `--db`): does it have the
registry's tables, and the driver's errors while reading it told apart as an outage (could
not check) or a database that is not a registry store (bad input)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import inspect
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from registry.errors import InvalidInput
from registry.store.db import Store
from registry.store.errors import StoreUnavailable

__all__ = ["read_errors", "require_registry_tables"]


@contextmanager
def read_errors(store: Store | None) -> Iterator[None]:
    """A database that drops the connection mid-read is an outage (could not check); one
    whose schema is not the registry's is bad input."""
    if store is None:
        yield
        return
    try:
        yield
    except (OperationalError, InterfaceError) as exc:
        raise StoreUnavailable(f"the store {store.url} stopped answering: {exc.orig}") from exc
    except DBAPIError as exc:
        raise InvalidInput(
            f"--db {store.url}: cannot read it as a registry store ({exc.orig}); is it the "
            "store of another version of the registry?"
        ) from exc


def require_registry_tables(store: Store) -> None:
    """Refuse a database without the registry's tables (a wrong --db)."""
    try:
        tables = set(inspect(store.engine).get_table_names())
    except DBAPIError as exc:
        raise StoreUnavailable(f"cannot read the store {store.url}: {exc.orig}") from exc
    if not {"batches", "records", "revocations", "agencies"} <= tables:
        raise InvalidInput(f"--db {store.url}: not a registry store (no batches/records tables)")
