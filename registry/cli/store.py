"""`registry store ...`: the operator's store: move it from SQLite to PostgreSQL."""

from __future__ import annotations

from typing import Annotated

import typer

from registry.cli.common import JsonOpt, console, print_json
from registry.settings import load_settings

app = typer.Typer(
    help="The operator's store (SQLite or PostgreSQL). "
    "Example: registry store migrate --to postgresql://registry@127.0.0.1/registry",
    no_args_is_help=True,
)


@app.command("migrate")
def migrate(
    to: Annotated[
        str,
        typer.Option(
            "--to", help="The new store's URL (postgresql://USER:PASSWORD@HOST/DB); must be empty."
        ),
    ],
    json_out: JsonOpt = False,
) -> None:
    """Copy this registry's store (the data directory's SQLite file, or REGISTRY_DATABASE_URL)
    into an empty new database, table by table, then count every table on both sides. The
    old store is left as it was. Refused if the new database already holds a registry's data.
    Stop `registry serve` and `registry worker` first; afterwards set REGISTRY_DATABASE_URL
    (or database_url in config.toml) to the new URL.

    Example: registry store migrate --to postgresql://registry@127.0.0.1/registry
    """
    from registry.service.connection import migrate_store

    settings = load_settings()
    moved = migrate_store(settings, to)
    console.print(f"copied {moved.source} to {moved.target}:")
    for name, count in moved.rows.items():
        console.print(f"  {name}: {count:,} rows")
    console.print(
        f"every table counted on both sides. Next: set REGISTRY_DATABASE_URL={moved.target} "
        "(or database_url in config.toml); the old store is unchanged"
    )
    if json_out:
        print_json({"source": moved.source, "target": moved.target, "rows": moved.rows})


__all__ = ["app"]
