"""`registry bench ...`: measured figures (gas, Merkle speed)."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from registry.cli.common import JsonOpt, RpcOpt, console, print_json

app = typer.Typer(help="Benchmarks. Example: registry bench gas --json", no_args_is_help=True)


@app.command("gas")
def bench_gas(rpc: RpcOpt = None, json_out: JsonOpt = False) -> None:
    """Gas of deploy, registerAgency, rotateSigningKey, anchor (vs. its floor), revoke of a leaf
    with a depth-17 proof (a 100k batch) and of a whole batch, on a fresh chain.

    Example: registry bench gas --json
    """
    from registry.bench.gas import measure_gas

    figures = measure_gas(rpc)
    table = Table(title=f"RecordRegistry gas on {figures['node']} (chain {figures['chain_id']})")
    table.add_column("operation")
    table.add_column("gas", justify="right")
    for key, value in figures.items():
        if key in ("node", "chain_id"):
            continue
        table.add_row(key, f"{value:,.2f}" if isinstance(value, float) else f"{value:,}")
    console.print(table)
    console.print(
        f"anchor is {figures['anchor_over_floor_pct']}% above its floor; "
        f"per record in a 100k batch: {figures['gas_per_record_batch_100000']:.3f} gas "
        f"(OpenAttestation DocumentStore: {figures['openattestation_issue_reference']:,} per issue)"
    )
    if json_out:
        print_json(figures)


@app.command("merkle")
def bench_merkle_cmd(
    leaves: int = typer.Option(1_000_000, "--leaves", help="Number of digests in the tree."),
    json_out: JsonOpt = False,
) -> None:
    """Time the Merkle root and every proof of 1,000,000 digests (target: under 4 s), and the
    keccak backends per call.

    Example: registry bench merkle --json
    """
    from registry.bench.merkle import bench_merkle, compare_keccak_backends

    backends = compare_keccak_backends()
    figures = dict(bench_merkle(leaves))
    figures["keccak_ns_per_call"] = backends
    console.print(
        f"{figures['leaves']:,} leaves: root {figures['seconds_root']:.2f} s, all proofs "
        f"{figures['seconds_proofs']:.2f} s, total {figures['seconds_total']:.2f} s "
        f"(keccak: {figures['keccak_backend']})"
    )
    for name, ns in sorted(backends.items(), key=lambda kv: kv[1]):
        console.print(f"  {name:<40} {ns:>8,.0f} ns/keccak")
    if json_out:
        print_json(figures)


@app.command("issue")
def bench_issue(
    records: int = typer.Option(100_000, "--records", help="Structured records to issue."),
    rpc: RpcOpt = None,
    db: str | None = typer.Option(None, "--db", help="Store URL (default: a temporary SQLite)."),
    batch_size: int = typer.Option(10_000, "--batch-size", help="Records per batch."),
    workers: int = typer.Option(
        2, "--workers", help="Sealing worker processes (0: inline; they also encrypt)."
    ),
    json_out: JsonOpt = False,
) -> None:
    """Issuing throughput: records/s from submission to confirmed receipts (targets: 15,000/s
    with 100,000 records on SQLite, 12,000/s on PostgreSQL), and the peak resident set, which
    must not grow with the number of records (under 600 MB at 1,000,000 and 3,000,000).

    Example: registry bench issue --records 100000 --json
    """
    from registry.bench.issue import measure_issue

    figures = measure_issue(records, rpc=rpc, db=db, batch_size=batch_size, workers=workers)
    console.print(
        f"{figures['records']:,} records in {figures['seconds']:.2f} s = "
        f"{figures['records_per_s']:,.0f} records/s ({figures['chain']}, {figures['store']})"
    )
    for phase, seconds in figures["phases_s"].items():
        console.print(f"  {phase:<16} {seconds:>7.2f} s")
    console.print(
        f"  peak RSS {figures['peak_rss_mb']:,.0f} MB (sealing workers: "
        f"{figures['peak_rss_workers_mb']:,.0f} MB each at most)"
    )
    if json_out:
        print_json(figures)


@app.command("audit")
def bench_audit(
    records: int = typer.Option(1_000_000, "--records", help="Records to create and audit."),
    batches: int = typer.Option(10, "--batches", help="Batches the records are split into."),
    rpc: RpcOpt = None,
    db: str | None = typer.Option(None, "--db", help="Store URL (default: a temporary SQLite)."),
    json_out: JsonOpt = False,
) -> None:
    """Time `registry audit --db` over 1,000,000 records in 10 anchored batches (target: under
    10 s). The data is created first (not timed); the audit runs with a progress bar.

    Example: registry bench audit --records 1000000 --json
    """
    from registry.bench.audit import measure_audit
    from registry.cli.audit import progress_bar, progress_callback

    with progress_bar() as bar:
        creating = bar.add_task("creating records", total=records)
        figures = measure_audit(
            records,
            batches=batches,
            rpc=rpc,
            db=db,
            progress=progress_callback(bar),
            on_created=lambda n: bar.advance(creating, n),
        )
    console.print(
        f"audited {figures['records']:,} records in {figures['batches']} batches in "
        f"{figures['seconds']:.2f} s = {figures['records_per_s']:,.0f} records/s "
        f"(1M: {figures['seconds_1m']:.2f} s{'' if figures['seconds_1m_measured'] else ', scaled'}"
        f"; {figures['chain']}, {figures['store']})"
    )
    if json_out:
        print_json(figures)


@app.command("api")
def bench_api(
    cold: int = typer.Option(
        20_000, "--cold", min=1, help="Distinct never-verified receipts, one request each."
    ),
    records: int = typer.Option(
        0, "--records", min=0, help="Records submitted in bulk first (at least --cold)."
    ),
    bulk: int = typer.Option(5_000, "--bulk", min=1, help="Records per bulk request."),
    repeat: int = typer.Option(
        20_000, "--repeat", min=0, help="Requests of the repeat_cache phase (identical bytes)."
    ),
    distinct: int = typer.Option(
        2_000, "--distinct", min=1, help="Receipts the repeat_cache phase cycles over."
    ),
    concurrency: int = typer.Option(16, "--concurrency", min=1, help="Requests in flight."),
    clients: int = typer.Option(
        2, "--clients", min=1, help="Load client processes (the connections split among them)."
    ),
    workers: int = typer.Option(1, "--workers", min=1, help="Server processes (serve --workers)."),
    compare_workers: bool = typer.Option(
        False,
        "--compare-workers",
        help="Run twice, with 1 and with 2 server processes, and report both and the ratio 2:1.",
    ),
    seconds: float = typer.Option(600.0, "--seconds", help="Time cap of each load phase."),
    client: str = typer.Option(
        "raw", "--client", help="Load client: 'raw' (asyncio HTTP/1.1) or 'httpx'."
    ),
    rpc: RpcOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """HTTP API load against `registry serve --workers N` on a fresh anvil and SQLite store, in
    three phases reported apart: `cold` (each of --cold receipts never verified before, sent
    once: the full verification work, the headline), `warm` (the same receipts again with other
    bytes: chain answers may be cached, not whole answers) and `repeat_cache` (identical bytes
    again: the server's cache of whole answers, not verification work). Each: verifications/s,
    p50/p90/p99 ms, count, errors. The load runs in --clients processes of its own. With
    --compare-workers the JSON holds `workers_1`, `workers_2` and `ratio_2_to_1`.

    Example: registry bench api --json
    """
    from registry.bench.api import compare_workers as compare
    from registry.bench.api import measure_api

    if client not in ("raw", "httpx"):
        raise typer.BadParameter("expected 'raw' or 'httpx'", param_hint="--client")
    options: dict[str, Any] = {
        "records": records,
        "bulk": bulk,
        "cold": cold,
        "repeat": repeat,
        "distinct": distinct,
        "concurrency": concurrency,
        "clients": clients,
        "seconds": seconds,
        "client": client,
        "rpc": None if rpc in (None, "embedded") else rpc,
    }
    if compare_workers:
        figures = compare(**options)
        runs = [figures["workers_1"], figures["workers_2"]]
    else:
        figures = measure_api(workers=workers, **options)
        runs = [figures]
    for run in runs:
        console.print(
            f"{run['server']}: {run['records']:,} records issued through the API (bulk, "
            f"wait=true) at {run['issued_records_per_s']:,.0f}/s, submission to receipts"
        )
        for phase in ("cold", "warm", "repeat_cache"):
            p = run[phase]
            console.print(
                f"  {phase:<13} {p['per_s']:>9,.1f} verifications/s  p50 {p['p50_ms']:.1f} ms  "
                f"p90 {p['p90_ms']:.1f} ms  p99 {p['p99_ms']:.1f} ms  ({p['count']:,} requests, "
                f"{p['distinct_receipts']:,} distinct, {p['errors']} errors)"
            )
    if compare_workers:
        ratios = ", ".join(f"{k} {v:.2f}" for k, v in figures["ratio_2_to_1"].items())
        console.print(f"2 processes : 1 process: {ratios}")
    if json_out:
        print_json(figures)


def _with_opendata() -> None:
    """`registry bench opendata` is defined beside `registry opendata export`."""
    from registry.cli.opendata import bench_opendata

    app.command("opendata")(bench_opendata)


_with_opendata()
