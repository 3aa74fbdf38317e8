"""`registry verify`: check a file, a sealed document or a receipt against any node."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from registry.chain import connect
from registry.cli.common import (
    ChainIdOpt,
    JsonOpt,
    RegistryOpt,
    RpcOpt,
    console,
    hex32,
    print_json,
    settings_from,
)
from registry.errors import InvalidInput
from registry.service.operator import Operator
from registry.service.verify import (
    ChainReader,
    Outcome,
    TrustedRegistry,
    Verification,
    registry_resolver,
    verification_input,
    verify_digest,
    verify_receipt,
)
from registry.settings import Settings

EXIT_CODES = {Outcome.VALID: 0, Outcome.ERROR: 3}
STYLE = {"pass": "green", "fail": "red", "skip": "dim", "error": "yellow"}


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"{what} {path}: cannot read ({exc.strerror})") from exc


def verify(
    path: Annotated[
        Path | None,
        typer.Argument(help="A file, a sealed JSON document, or a receipt.", dir_okay=False),
    ] = None,
    receipt: Annotated[
        Path | None, typer.Option("--receipt", help="The receipt of a file (JSON).")
    ] = None,
    digest: Annotated[
        str | None,
        typer.Option("--digest", help="Verify a record by digest alone (looked up in the store)."),
    ] = None,
    rpc: RpcOpt = None,
    registry: RegistryOpt = None,
    chain_id: ChainIdOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Verify a document against the chain: VALID, TAMPERED, REVOKED, SUPERSEDED, UNKNOWN,
    UNTRUSTED or ERROR. Needs no registry server or database: a receipt and any node.

    The registry given with --registry (on --chain-id, default the node's) is trusted, plus any
    in REGISTRY_TRUSTED. Exit code 0 valid, 1 not valid, 2 bad input, 3 could not check.

    Example: registry verify diploma.pdf --receipt r.json --rpc http://127.0.0.1:8545 --registry 0x5
    """
    settings = settings_from(rpc=rpc, registry=registry, chain_id=chain_id)
    if digest is not None:
        _verify_digest(settings, hex32(digest, "--digest"), json_out)
        return
    given = verification_input(
        _read(path, "document") if path else None,
        receipt=_read(receipt, "receipt") if receipt else None,
        where=str(path),
    )
    if settings.rpc == "embedded":
        raise InvalidInput("pass --rpc URL of a node of the receipt's chain (env REGISTRY_RPC)")
    trusted = [
        TrustedRegistry(int(chain), address)
        for chain, _, address in (t.partition(":") for t in settings.trusted)
    ]
    w3 = None

    def node(for_chain: int) -> object:
        nonlocal w3
        if w3 is None:
            w3 = connect(settings.rpc, timeout=settings.rpc_timeout, expected_chain_id=for_chain)
        return w3

    if settings.registry_address:
        trust_chain = settings.chain_id
        if trust_chain is None:
            w3 = connect(settings.rpc, timeout=settings.rpc_timeout)
            trust_chain = int(w3.eth.chain_id)
        trusted.append(TrustedRegistry(trust_chain, settings.registry_address))
    if not trusted:
        raise InvalidInput("no trusted registry: pass --registry ADDR (or set REGISTRY_TRUSTED)")
    reader = ChainReader(
        registry_for=registry_resolver(node),  # type: ignore[arg-type]
        revocation_ttl=settings.revocation_ttl,
    )
    result = verify_receipt(given.receipt, trusted=trusted, reader=reader, digest=given.digest)
    _show(result, f"{path or receipt} ({given.kind})", json_out)


def _verify_digest(settings: Settings, digest: bytes, json_out: bool) -> None:
    """(d) a digest alone: the operator's store supplies the receipt; the chain decides."""
    op = Operator.open(settings)
    result = verify_digest(op.receipt_for, digest, trusted=op.trusted(), reader=op.reader())
    _show(result, f"0x{digest.hex()} (digest)", json_out)


def _show(result: Verification, title: str, json_out: bool) -> None:
    table = Table(title=title, show_lines=False)
    for column in ("check", "status", "reason"):
        table.add_column(column)
    for check in result.checks:
        colour = STYLE[str(check.status)]
        table.add_row(check.name, f"[{colour}]{check.status}[/{colour}]", check.reason)
    console.print(table)
    headline = f"[bold]{result.outcome}[/bold]"
    if result.agency_name:
        headline += f" — issued by {result.agency_name}, anchored {result.anchored_at}"
    console.print(headline)
    if json_out:
        print_json(result.to_json())
    code = EXIT_CODES.get(result.outcome, 1)
    if code:
        raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    app.command("verify")(verify)
