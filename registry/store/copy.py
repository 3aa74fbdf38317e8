"""Copying a whole store into another database (`registry store migrate`): SQLite to
PostgreSQL, table by table in foreign-key order, every row as it is (ids included), then each
table counted on both sides. The tables are the models' (both stores at the latest schema)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, Integer, Table, func, insert, select, text

from registry.store.db import Store
from registry.store.errors import WrongStore
from registry.store.models import Base

CHUNK = 5_000
"""Rows read and written at a time: memory stays flat however big the store."""

Progress = Callable[[str, int], None]


def _tables() -> list[Table]:
    return list(Base.metadata.sorted_tables)


def table_counts(store: Store) -> dict[str, int]:
    """Rows in each table of the store."""
    with store.engine.connect() as connection:
        return {
            t.name: int(connection.execute(select(func.count()).select_from(t)).scalar_one())
            for t in _tables()
        }


def copy_store(source: Store, target: Store, *, progress: Progress | None = None) -> dict[str, int]:
    """Copy every row of `source` into `target`, in one transaction on the target; return the
    rows per table. WrongStore if the target already holds any row (nothing is written), or if
    the counts differ afterwards (the transaction is rolled back)."""
    held = {name: n for name, n in table_counts(target).items() if n}
    if held:
        shown = ", ".join(f"{name} {n:,}" for name, n in sorted(held.items()))
        only_bound = set(held) <= {"registry_meta", "journal"}
        raise WrongStore(
            f"the target store {target.url} is not empty ({shown}); nothing was copied: give "
            "an empty database"
            + (
                " (this one holds only its binding to a registry, written when a command ran "
                "against it: drop and create it again)"
                if only_bound
                else ""
            )
        )
    with source.engine.connect() as reading, target.engine.begin() as writing:
        for table in _tables():
            done = 0
            result = reading.execution_options(yield_per=CHUNK).execute(select(table))
            for rows in result.mappings().partitions(CHUNK):
                writing.execute(insert(table), [dict(row) for row in rows])
                done += len(rows)
                if progress is not None:
                    progress(table.name, done)
            if writing.dialect.name == "postgresql":
                _reset_sequence(writing, table)
        copied = {
            t.name: int(writing.execute(select(func.count()).select_from(t)).scalar_one())
            for t in _tables()
        }
        expected = table_counts(source)
        if copied != expected:
            differ = [n for n in expected if expected[n] != copied.get(n)]
            raise WrongStore(f"the copy's counts differ from the source's in {differ}; rolled back")
    return copied


def _reset_sequence(connection: Connection, table: Table) -> None:
    """After rows were inserted with their ids, the id sequence continues after the largest."""
    pk = list(table.primary_key.columns)
    if len(pk) != 1 or not isinstance(pk[0].type, Integer):
        return
    column = pk[0].name
    statement = text(
        "SELECT setval(pg_get_serial_sequence(:table, :column), "
        f'COALESCE((SELECT MAX("{column}") FROM "{table.name}"), 1), '
        f'(SELECT MAX("{column}") FROM "{table.name}") IS NOT NULL) '
        "WHERE pg_get_serial_sequence(:table, :column) IS NOT NULL"
    )
    connection.execute(statement, {"table": table.name, "column": column})
