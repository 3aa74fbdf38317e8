"""`registry bench ...`: measured figures (gas, Merkle speed)."""

from __future__ import annotations

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
    """Time the Merkle root and every proof of 1,000,000 digests (target: under 10 s), and the
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
    workers: int = typer.Option(1, "--workers", help="Sealing worker processes (0: inline)."),
    json_out: JsonOpt = False,
) -> None:
    """Issuing throughput: records/s from submission to confirmed receipts (target: 10,000/s
    with 100,000 records).

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
    60 s). The data is created first (not timed); the audit runs with a progress bar.

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
    records: int = typer.Option(5_000, "--records", help="Records submitted in bulk first."),
    verifications: int = typer.Option(
        20_000, "--verifications", help="Verify requests in the steady-state load (at most)."
    ),
    distinct: int = typer.Option(500, "--distinct", help="Distinct receipts the load cycles."),
    cold: int = typer.Option(1_000, "--cold", help="Never-seen receipts verified once each."),
    concurrency: int = typer.Option(16, "--concurrency", help="Requests in flight."),
    seconds: float = typer.Option(60.0, "--seconds", help="Time cap of each load phase."),
    client: str = typer.Option(
        "raw", "--client", help="Load client: 'raw' (asyncio HTTP/1.1) or 'httpx'."
    ),
    rpc: RpcOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """HTTP API load: verifications/s with p50/p99 latency over loopback, and bulk submission
    throughput, against `registry serve` on a fresh anvil (target: >= 1,000 verifications/s,
    p99 < 50 ms).

    Example: registry bench api --json
    """
    from registry.bench.api import measure_api

    if client not in ("raw", "httpx"):
        raise typer.BadParameter("expected 'raw' or 'httpx'", param_hint="--client")
    figures = measure_api(
        records=records,
        verifications=verifications,
        distinct=distinct,
        cold=cold,
        concurrency=concurrency,
        seconds=seconds,
        client=client,
        rpc=None if rpc in (None, "embedded") else rpc,
    )
    console.print(
        f"verify: {figures['verify_per_s']:,.0f}/s, p50 {figures['verify_p50_ms']:.1f} ms, "
        f"p99 {figures['verify_p99_ms']:.1f} ms ({figures['verify_requests']:,} requests over "
        f"{figures['distinct_receipts']} receipts, {concurrency} in flight)"
    )
    if "verify_cold_per_s" in figures:
        console.print(
            f"verify, never-seen receipts: {figures['verify_cold_per_s']:,.0f}/s, "
            f"p99 {figures['verify_cold_p99_ms']:.1f} ms (one node call each)"
        )
    console.print(
        f"bulk submission: {figures['submit_records_per_s']:,.0f} records/s stored; "
        f"{figures['anchored_records_per_s']:,.0f} records/s to anchored"
    )
    if json_out:
        print_json(figures)
