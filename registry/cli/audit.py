"""`registry audit`: re-check the whole registry from the chain alone, for auditors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from registry.cli.common import (
    ChainIdOpt,
    JsonOpt,
    RegistryOpt,
    RpcOpt,
    console,
    err_console,
    json_to_stdout,
    print_json,
    say,
    settings_from,
)
from registry.errors import ChainUnavailable, InvalidInput, StoreUnavailable
from registry.service.audit import (
    AuditOutcome,
    AuditReport,
    ItemResult,
    audit_registry,
    compare_snapshots,
    could_not_check,
    folder_exit_code,
    read_registry,
)
from registry.service.audit import Progress as AuditProgress
from registry.service.audit import verify_folder as verify_folder_items
from registry.service.audit.export import digests_of_leaves, export_snapshot
from registry.service.connection import attach_registry, audit_store
from registry.settings import Settings
from registry.vocabulary import Outcome

PHASES = {"events": "event log (blocks)", "store": "store (records)", "files": "files"}
SHOWN = 50
"""Findings listed on the terminal; the JSON report has all of them."""


@contextmanager
def progress_bar() -> Iterator[Progress]:
    """A rich progress bar on stderr (stdout keeps the summary), gone when done."""
    with Progress(
        TextColumn("{task.description:<20}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        yield bar


def progress_callback(bar: Progress) -> AuditProgress:
    """A progress callback for the audit that draws one bar per phase on `bar`."""
    tasks: dict[str, TaskID] = {}

    def report(phase: str, done: int, total: int) -> None:
        if phase not in tasks:
            tasks[phase] = bar.add_task(PHASES.get(phase, phase), total=total)
        bar.update(tasks[phase], completed=done, total=total)

    return report


def show_report(report: AuditReport) -> None:
    """The summary table, then the findings (the first SHOWN of them)."""
    console.print(f"[bold]Audit of registry {report.registry} on chain {report.chain_id}[/bold]")
    table = Table()
    table.add_column("checked")
    table.add_column("count", justify="right")
    if report.to_block is not None:
        table.add_row("blocks", f"{report.from_block:,} to {report.to_block:,}")
    for key, value in report.summary.items():
        if key != "blocks":
            table.add_row(key.replace("_", " "), f"{value:,}")
    for kind, count in report.by_kind().items():
        table.add_row(f"[red]{kind}[/red]", f"[red]{count:,}[/red]")
    console.print(table)
    if report.findings:
        findings = Table(title="Findings", show_lines=False)
        for column in ("kind", "subject", "detail"):
            findings.add_column(column, overflow="fold")
        for f in report.findings[:SHOWN]:
            findings.add_row(str(f.kind), f.subject, f.detail)
        console.print(findings)
        if len(report.findings) > SHOWN:
            console.print(f"... and {len(report.findings) - SHOWN:,} more in the JSON report")
    colour = {"clean": "green", "findings": "red", "could_not_check": "yellow"}
    text = str(report.outcome).upper().replace("_", " ")
    line = f"[bold {colour[report.outcome]}]{text}[/] in {report.seconds:.2f} s"
    if report.error:
        line += f": {report.error}"
    console.print(line)


def write_report(report: AuditReport, path: Path) -> None:
    write_json(report.to_json(), path)


def write_json(data: object, path: Path) -> None:
    """A JSON report to `path`, or to stdout for `-` (then the whole of stdout)."""
    if str(path) == "-":
        typer.echo(json.dumps(data, indent=2))
        return
    try:
        path.write_text(json.dumps(data, indent=2) + "\n")
    except OSError as exc:
        raise InvalidInput(f"--json {path}: cannot write ({exc.strerror})") from exc


ReportOpt = Annotated[
    Path | None,
    typer.Option(
        "--json",
        help="Write the JSON report to this file ('-': to stdout, which then holds only it).",
        dir_okay=False,
    ),
]
TimeoutOpt = Annotated[
    float | None,
    typer.Option("--timeout", help="Seconds per JSON-RPC request (env REGISTRY_RPC_TIMEOUT)."),
]
LogSpanOpt = Annotated[
    int | None,
    typer.Option(
        "--log-span",
        help="Blocks per eth_getLogs request (default 5000, REGISTRY_LOG_SPAN); lower it "
        "for nodes that cap log ranges.",
    ),
]


def _span(settings: Settings, log_span: int | None) -> int:
    span = log_span if log_span is not None else settings.log_span
    if span < 1:
        raise InvalidInput(f"--log-span {span}: must be at least 1 block")
    return span


def _folder(path: Path | None, option: str) -> Path | None:
    if path is not None and not path.is_dir():
        raise InvalidInput(f"{option} {path}: not a folder")
    return path


def audit(
    rpc: RpcOpt = None,
    registry: RegistryOpt = None,
    chain_id: ChainIdOpt = None,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="The operator's store (sqlite:///path or postgresql://...), checked against the "
            "chain; only read, never written or migrated.",
        ),
    ] = None,
    receipts: Annotated[
        Path | None,
        typer.Option(
            "--receipts", help="A folder of receipts (*.json) to verify.", file_okay=False
        ),
    ] = None,
    documents: Annotated[
        Path | None,
        typer.Option(
            "--documents",
            help="A folder of documents: files with NAME.receipt.json next to them, and sealed "
            "JSON documents.",
            file_okay=False,
        ),
    ] = None,
    from_block: Annotated[
        int,
        typer.Option("--from-block", help="First block to read: the registry's deployment block."),
    ] = 0,
    to_block: Annotated[
        int | None,
        typer.Option(
            "--to-block",
            help="Last block to read (default: the head); a finalised block makes the audit "
            "repeatable.",
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
    report_path: ReportOpt = None,
) -> None:
    """Audit a registry from its event log alone, agency by agency: agencies (status history,
    compromise windows, moves to new accounts), signing keys (proposals, confirmations, validity
    windows), anchors and revocations (the agency's own and the authority's), reporting every
    anchor or revocation inside a compromise window as void; with --db the operator's store
    against the chain (every batch's kind-bound leaves recomputed to its root, roots and
    revocations both ways, replacements that must be the same agency's records, signing keys
    and their windows); with --receipts and --documents every receipt and document, trusting
    only this registry (a receipt alone is IN_FORCE, not a finding).

    Exit code 0 clean, 1 findings, 2 bad input, 3 could not check (node or database down).

    --db takes the store's URL or the path of its SQLite file (.registry/registry.db).

    Example: registry audit --rpc http://127.0.0.1:8545 --registry 0x5FbDB2315678afecb367f032d93F642f64180aa3 --db .registry/registry.db --json audit.json
    """  # noqa: E501
    json_to_stdout(str(report_path) == "-")
    settings = settings_from(rpc=rpc, registry=registry, chain_id=chain_id)
    span = _span(settings, log_span)
    receipts_dir = _folder(receipts, "--receipts")
    documents_dir = _folder(documents, "--documents")
    address = settings.registry_address or ""
    store = None
    try:
        reg = attach_registry(settings)
        store = audit_store(db, data_dir=settings.data_dir)
    except (ChainUnavailable, StoreUnavailable) as exc:
        report = could_not_check(str(exc), registry=address, from_block=from_block)
    else:
        try:
            with progress_bar() as bar:
                report = audit_registry(
                    reg,
                    store=store,
                    receipts_dir=receipts_dir,
                    documents_dir=documents_dir,
                    from_block=from_block,
                    to_block=to_block,
                    log_span=span,
                    progress=progress_callback(bar),
                )
        finally:
            if store is not None:
                store.close()
    show_report(report)
    if report_path is not None:
        write_report(report, report_path)
        if str(report_path) != "-":
            console.print(f"report: {report_path}")
    if report.outcome is not AuditOutcome.CLEAN:
        raise typer.Exit(report.outcome.exit_code)


def export(
    rpc: RpcOpt = None,
    registry: RegistryOpt = None,
    chain_id: ChainIdOpt = None,
    out: Annotated[Path, typer.Option("--out", help="Folder for the CSV files (created).")] = Path(
        "."
    ),
    from_block: Annotated[
        int,
        typer.Option("--from-block", help="First block to read: the registry's deployment block."),
    ] = 0,
    receipts: Annotated[
        Path | None,
        typer.Option(
            "--receipts",
            help="A folder of receipts and sealed documents: revoked records they prove are "
            "listed by their record digest too (the chain knows only their leaf).",
            file_okay=False,
        ),
    ] = None,
    log_span: LogSpanOpt = None,
    timeout: TimeoutOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Export every anchor, revocation, agency, signing key, compromise window, status change
    and account move of a registry, rebuilt from its event log alone, to CSV files.

    Writes anchors.csv, revocations.csv (hash: the leaf the chain names; digest: the record
    digest receipts carry, where --receipts proves it), agencies.csv, keys.csv,
    compromises.csv, status_history.csv, moves.csv. Needs only a node: not the operator's
    server or database. Exit code 0 done, 2 bad input, 3 node unreachable.

    Example: registry export --rpc http://127.0.0.1:8545 --registry 0x5FbDB2315678afecb367f032d93F642f64180aa3 --out export/
    """  # noqa: E501
    settings = settings_from(rpc=rpc, registry=registry, chain_id=chain_id, rpc_timeout=timeout)
    if out.exists() and not out.is_dir():
        raise InvalidInput(f"--out {out}: exists and is not a folder")
    span = _span(settings, log_span)
    digests = digests_of_leaves(receipts) if receipts is not None else None
    snapshot = read_registry(attach_registry(settings), from_block=from_block, span=span)
    rows = export_snapshot(snapshot, out, digests=digests)
    say(
        f"registry {snapshot.address} on chain {snapshot.chain_id}, blocks "
        f"{snapshot.from_block}-{snapshot.to_block}:"
    )
    for name, count in rows.items():
        say(f"  {out / name}: {count} rows")
    if json_out:
        print_json(
            {
                "registry": snapshot.address,
                "chainId": snapshot.chain_id,
                "fromBlock": snapshot.from_block,
                "toBlock": snapshot.to_block,
                "files": {str(out / name): count for name, count in rows.items()},
            }
        )


def verify_folder(
    folder: Annotated[
        Path, typer.Argument(help="Folder of documents and receipts (searched recursively).")
    ],
    rpc: RpcOpt = None,
    registry: RegistryOpt = None,
    chain_id: ChainIdOpt = None,
    report_path: ReportOpt = None,
    timeout: TimeoutOpt = None,
) -> None:
    """Verify every document and receipt in a folder against the chain, trusting only the
    registry given.

    The folder may hold files with their receipt next to them (`diploma.pdf` +
    `diploma.pdf.receipt.json` or `diploma.receipt.json`), sealed JSON documents (the receipt
    inside) and receipts alone. A receipt alone is at best IN_FORCE (no document checked). A
    superseded document names its replacement, a record to look up. Needs no operator server
    or database. Exit code 0 every document VALID (every receipt alone IN_FORCE), 1 at least
    one is not, 2 bad input, 3 a document could not be checked.

    Example: registry verify-folder certificates/ --rpc http://127.0.0.1:8545 --registry 0x5FbDB2315678afecb367f032d93F642f64180aa3
    """  # noqa: E501
    json_to_stdout(str(report_path) == "-")
    if not folder.is_dir():
        raise InvalidInput(f"{folder}: not a folder")
    settings = settings_from(rpc=rpc, registry=registry, chain_id=chain_id, rpc_timeout=timeout)
    try:
        results = verify_folder_items(attach_registry(settings), folder)
    except ChainUnavailable as exc:
        raise ChainUnavailable(f"could not check: {exc}") from exc
    if not results:
        raise InvalidInput(f"{folder}: nothing to verify")
    for r in results:
        say(_folder_line(r))
    counts: dict[str, int] = {}
    for r in results:
        key = str(r.verification.outcome) if r.verification else "PROBLEM"
        counts[key] = counts.get(key, 0) + 1
    say(", ".join(f"{n} {k}" for k, n in sorted(counts.items())))
    if report_path is not None:
        write_json([_folder_json(r) for r in results], report_path)
    code = folder_exit_code(results)
    if code:
        raise typer.Exit(code)


def _folder_line(r: ItemResult) -> str:
    v = r.verification
    outcome = str(v.outcome) if v else "PROBLEM"
    why = ""
    if r.finding is not None:
        why = f"  [{r.finding.kind}] {r.finding.detail}"
    elif v is not None and v.agency_name:
        why = f"  {v.agency_name}, anchored {v.anchored_at}"
        if v.outcome is Outcome.IN_FORCE:
            why += "; no document checked (a receipt alone)"
        if v.revocation_reason:
            why += f"; revoked: {v.revocation_reason}"
        if v.replacement:
            why += f"; replaced by record {v.replacement} (look it up to verify it)"
    return f"{outcome:<10} {r.item.name}{why}"


def _folder_json(r: ItemResult) -> dict[str, object]:
    v = r.verification
    return {
        "name": r.item.name,
        "outcome": str(v.outcome) if v else None,
        "replacement": v.replacement if v else None,
        "finding": r.finding.to_json() if r.finding else None,
        "verification": v.to_json() if v else None,
    }


def compare(
    rpc_a: Annotated[str, typer.Option("--rpc-a", help="JSON-RPC URL of the first chain.")],
    registry_a: Annotated[str, typer.Option("--registry-a", help="First registry's address.")],
    registry_b: Annotated[str, typer.Option("--registry-b", help="Second registry's address.")],
    rpc_b: Annotated[
        str | None,
        typer.Option("--rpc-b", help="JSON-RPC URL of the second chain (default: --rpc-a)."),
    ] = None,
    from_block_a: Annotated[
        int, typer.Option("--from-block-a", help="First registry's deployment block.")
    ] = 0,
    from_block_b: Annotated[
        int, typer.Option("--from-block-b", help="Second registry's deployment block.")
    ] = 0,
    log_span: LogSpanOpt = None,
    report_path: ReportOpt = None,
    timeout: TimeoutOpt = None,
) -> None:
    """Compare two registry deployments, e.g. before and after a migration: agencies,
    signing keys, anchors and revocations in one and not the other, or different.

    Both are rebuilt from their event logs alone. Compared: agencies (name, status, current
    key), keys (owner; current or retired), anchors (agency, record count), revocations
    (reason, replacement). Not compared: times and blocks, which a migration changes by
    nature. Exit code 0 the same, 1 different, 2 bad input, 3 a node unreachable.

    Example: registry compare --rpc-a http://127.0.0.1:8545 --registry-a 0x5FbDB2315678afecb367f032d93F642f64180aa3 --registry-b 0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512
    """  # noqa: E501
    json_to_stdout(str(report_path) == "-")
    snapshots = []
    for rpc, address, from_block in (
        (rpc_a, registry_a, from_block_a),
        (rpc_b or rpc_a, registry_b, from_block_b),
    ):
        settings = settings_from(rpc=rpc, registry=address, rpc_timeout=timeout)
        settings = settings.model_copy(update={"chain_id": None})
        span = _span(settings, log_span)
        snapshots.append(read_registry(attach_registry(settings), from_block=from_block, span=span))
    first, second = snapshots
    differences = compare_snapshots(first, second)
    for name, snap in (("first", first), ("second", second)):
        st = snap.state
        say(
            f"{name}: registry {snap.address} on chain {snap.chain_id}: {len(st.agencies)} "
            f"agencies, {len(st.keys)} keys, {len(st.anchors)} anchors, "
            f"{len(st.revocations)} revocations"
        )
    for d in differences:
        say(f"{d.kind:<15} {d.subject}: {d.detail}")
    say("the same" if not differences else f"{len(differences)} differences")
    if report_path is not None:
        data = {
            "first": {"registry": first.address, "chainId": first.chain_id},
            "second": {"registry": second.address, "chainId": second.chain_id},
            "differences": [d.to_json() for d in differences],
        }
        write_json(data, report_path)
    if differences:
        raise typer.Exit(1)
