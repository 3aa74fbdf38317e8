"""`registry opendata export`: the registry's activity as open data (CSV, JSON and a DCAT-AP
3.0.1 catalog), from the chain alone; and `registry bench opendata`, its benchmark
(registered by the bench group)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from registry.cli.common import (
    ChainIdOpt,
    JsonOpt,
    RegistryOpt,
    RpcOpt,
    console,
    err_console,
    print_json,
    settings_from,
)
from registry.errors import InvalidInput
from registry.opendata import CatalogMeta
from registry.service.connection import attach_registry
from registry.service.opendata import export_open_data

app = typer.Typer(
    help="Open data: the registry's activity as a published dataset. "
    "Example: registry opendata export site/opendata --rpc http://127.0.0.1:8545 "
    "--registry 0x5FbDB2315678afecb367f032d93F642f64180aa3",
    no_args_is_help=True,
)

DEFAULT_BASE_URL = "http://127.0.0.1:8000/opendata"
"""Where `registry serve` (default port) publishes the same files."""


@app.command("export")
def export(
    directory: Annotated[
        Path,
        typer.Argument(
            help="Folder to write activity.csv, activity.json, catalog.jsonld and catalog.ttl "
            "into (created; an existing folder must be empty, or pass --force).",
        ),
    ],
    rpc: RpcOpt = None,
    registry: RegistryOpt = None,
    chain_id: ChainIdOpt = None,
    from_block: Annotated[
        int,
        typer.Option(
            "--from-block",
            help="First block to read: the registry's deployment block (default 0). A later "
            "block gives the months from then on (agencies registered before it unnamed).",
        ),
    ] = 0,
    to_block: Annotated[
        int | None,
        typer.Option(
            "--to-block",
            help="Last block to read (default: the head); a finalised block makes the files "
            "reproducible byte for byte.",
        ),
    ] = None,
    base_url: Annotated[
        str,
        typer.Option(
            "--base-url",
            help="Where the files will be published (the catalog's access and download URLs: "
            "BASE/activity.csv, ...).",
        ),
    ] = DEFAULT_BASE_URL,
    landing_page: Annotated[
        str | None,
        typer.Option(
            "--landing-page", help="A web page about the data, e.g. the server's /stats page."
        ),
    ] = None,
    publisher: Annotated[
        str, typer.Option("--publisher", help="Name of the publishing body (dct:publisher).")
    ] = "Registry authority",
    contact: Annotated[
        str | None,
        typer.Option("--contact", help="Contact e-mail address of the dataset (contact point)."),
    ] = None,
    country: Annotated[
        str | None,
        typer.Option(
            "--country",
            help="ISO 3166-1 alpha-3 code of the country covered (dct:spatial; default: Europe).",
        ),
    ] = None,
    log_span: Annotated[
        int | None,
        typer.Option(
            "--log-span",
            help="Blocks per eth_getLogs request (default 5000, REGISTRY_LOG_SPAN); lower it "
            "for nodes that cap log ranges.",
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="Replace the open-data files of a folder that has files."),
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Export the registry's monthly activity per agency, from its event log alone: records
    and batches anchored, median records per batch, gas used by anchoring (from the anchoring
    transactions' receipts), revocations by reason, supersessions, key rotations, suspensions,
    compromise marks, and a registry-wide series. Writes activity.csv (RFC 4180, UTF-8),
    activity.json, and a DCAT-AP 3.0.1 catalog (catalog.jsonld, catalog.ttl) for open-data
    portals. Nothing is read from the operator's database: anyone can reproduce the files from
    a node. Exit code 0 written, 2 bad input, 3 node unreachable (nothing written).

    Example: registry opendata export site/opendata --rpc http://127.0.0.1:8545 --registry 0x5FbDB2315678afecb367f032d93F642f64180aa3 --base-url https://data.example.gov/registry --contact opendata@example.gov
    """  # noqa: E501
    settings = settings_from(rpc=rpc, registry=registry, chain_id=chain_id)
    meta = CatalogMeta(
        base_url=base_url,
        landing_page=landing_page,
        publisher=publisher,
        contact_email=contact,
        country=country.upper() if country else None,
    )
    span = log_span if log_span is not None else settings.log_span
    if span < 1:
        raise InvalidInput(f"--log-span {span}: must be at least 1 block")
    reg = attach_registry(settings)
    with Progress(
        TextColumn("{task.description:<20}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task("event log (blocks)", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        result = export_open_data(
            reg,
            directory,
            meta=meta,
            from_block=from_block,
            to_block=to_block,
            span=span,
            force=force,
            progress=progress,
        )
    info = result.info
    table = Table(title=f"Open data of registry {info.registry} on chain {info.chain_id}")
    table.add_column("file")
    table.add_column("bytes", justify="right")
    for name, size in result.files.items():
        table.add_row(str(result.directory / name), f"{size:,}")
    console.print(table)
    console.print(
        f"{result.rows:,} rows ({result.agencies} agencies, {info.events:,} events, blocks "
        f"{info.from_block:,} to {info.to_block:,}) in {result.seconds:.2f} s"
    )
    if json_out:
        print_json(
            {
                "directory": str(result.directory),
                "files": result.files,
                "registry": info.registry,
                "chainId": info.chain_id,
                "fromBlock": info.from_block,
                "toBlock": info.to_block,
                "events": info.events,
                "rows": result.rows,
                "agencies": result.agencies,
                "seconds": round(result.seconds, 3),
            }
        )


def bench_opendata(
    records: int = typer.Option(1_000_000, "--records", help="Records anchored (in total)."),
    batches: int = typer.Option(100, "--batches", help="Batches the records are anchored in."),
    agencies: int = typer.Option(2, "--agencies", help="Agencies the batches are spread over."),
    repeat: int = typer.Option(3, "--repeat", min=1, help="Timed exports of the same chain."),
    rpc: RpcOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Time `registry opendata export` over 1,000,000 records anchored in 100 batches (target:
    under 10 s), on a fresh embedded chain (or --rpc, e.g. anvil): real Merkle roots anchored
    by real transactions, a few revocations, a suspension and a key rotation (not timed); then
    the export, timed, with the process's peak resident set.

    Example: registry bench opendata --records 1000000 --batches 100 --json
    """
    from registry.bench.opendata import measure_opendata

    figures = measure_opendata(records, batches=batches, agencies=agencies, repeat=repeat, rpc=rpc)
    console.print(
        f"exported {figures['records']:,} records in {figures['batches']} batches "
        f"({figures['events']} events, {figures['rows']} rows) in "
        f"{figures['seconds_median']:.2f} s median of {figures['repeat']} "
        f"(runs: {', '.join(f'{s:.2f}' for s in figures['seconds'])}; {figures['chain']}); "
        f"peak RSS {figures['peak_rss_mb']:,.0f} MB"
    )
    if json_out:
        print_json(figures)
