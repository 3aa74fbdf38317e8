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
    RegistryOpt,
    RpcOpt,
    console,
    err_console,
    settings_from,
)
from registry.errors import ChainUnavailable, InvalidInput, StoreUnavailable
from registry.service.audit import (
    AuditOutcome,
    AuditReport,
    audit_registry,
    could_not_check,
)
from registry.service.audit import Progress as AuditProgress
from registry.service.connection import attach_registry, audit_store

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
    try:
        path.write_text(json.dumps(report.to_json(), indent=2) + "\n")
    except OSError as exc:
        raise InvalidInput(f"--json {path}: cannot write ({exc.strerror})") from exc


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
    report_path: Annotated[
        Path | None,
        typer.Option("--json", help="Write the JSON report, with every finding, to this file."),
    ] = None,
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

    Example: registry audit --rpc http://127.0.0.1:8545 --registry 0x5FbDB2315678afecb367f032d93F642f64180aa3 --db sqlite:///.registry/registry.db --json audit.json
    """  # noqa: E501
    settings = settings_from(rpc=rpc, registry=registry, chain_id=chain_id)
    span = log_span if log_span is not None else settings.log_span
    if span < 1:
        raise InvalidInput(f"--log-span {span}: must be at least 1 block")
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
        console.print(f"report: {report_path}")
    if report.outcome is not AuditOutcome.CLEAN:
        raise typer.Exit(report.outcome.exit_code)


def register(app: typer.Typer) -> None:
    app.command("audit")(audit)
