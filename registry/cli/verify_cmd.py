"""`registry verify`: check a file, a sealed document or a receipt against any node."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from registry.cli.common import (
    ChainIdOpt,
    JsonOpt,
    RegistryOpt,
    console,
    hex32,
    print_json,
    settings_from,
)
from registry.errors import InvalidInput
from registry.service.trust import rpc_views_reader, verifier_trust
from registry.service.verify import (
    Outcome,
    Verification,
    verification_input,
    verify_digest,
    verify_input,
)
from registry.settings import Settings
from registry.vocabulary import exit_code_of

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
    rpc: Annotated[
        list[str] | None,
        typer.Option(
            "--rpc",
            help="JSON-RPC URL of the receipt's chain (env REGISTRY_RPC), or "
            "eip155:<chainId>=URL for one chain of several (repeatable; setting chain_rpcs).",
        ),
    ] = None,
    registry: RegistryOpt = None,
    chain_id: ChainIdOpt = None,
    trust_list: Annotated[
        list[Path] | None,
        typer.Option(
            "--trust-list",
            help="A signed trust list (docs/trust.md) whose registries are trusted "
            "(repeatable; setting trust_lists).",
            dir_okay=False,
        ),
    ] = None,
    trust_list_key: Annotated[
        list[str] | None,
        typer.Option(
            "--trust-list-key",
            help="A pinned publisher key (Multikey z6Mk...) that a trust list must be signed "
            "by (repeatable; setting trust_list_keys).",
        ),
    ] = None,
    trust: Annotated[
        list[str] | None,
        typer.Option(
            "--trust",
            help="Also trust this registry or OpenAttestation DocumentStore, as CAIP-10 "
            "eip155:<chainId>:<address> (repeatable; setting trusted).",
        ),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Verify a document against the chain: VALID, IN_FORCE (a receipt alone: the record
    exists and is in force, no document checked), TAMPERED, REVOKED, SUPERSEDED, UNKNOWN,
    UNTRUSTED or ERROR. Needs no registry server or database: a receipt and any node.
    Accepts a file with --receipt, a sealed document, a receipt, a W3C Verifiable Credential
    a registry exported (docs/credentials.md), or an OpenAttestation v2 wrapped document,
    checked on its DocumentStore (trust it with --trust eip155:<chainId>:<address>).

    Trusted: the registries of each --trust-list (signed by a --trust-list-key; for anchors
    made while their status was granted; the verdict names the country), the registry given
    with --registry (on --chain-id; without it, on the chain of the --rpc node, which must be
    the receipt's chain), each --trust, and any in REGISTRY_TRUSTED. Each receipt is checked
    on its own chain: --rpc eip155:<chainId>=URL per chain. TAMPERED is decided offline, even
    with no node. Exit code 0 VALID, 4 IN_FORCE, 1 any other verdict, 2 bad input, 3 could
    not check.

    Example: registry verify diploma.pdf --receipt r.json --rpc http://127.0.0.1:8545 --registry 0x5
    """
    urls = [value for value in rpc or [] if not value.startswith("eip155:")]
    if len(urls) > 1:
        raise InvalidInput("--rpc: one plain URL at most; name others eip155:<chainId>=URL")
    settings = settings_from(
        rpc=urls[0] if urls else None,
        registry=registry,
        chain_id=chain_id,
        chain_rpcs=[value for value in rpc or [] if value.startswith("eip155:")] or None,
        trust_lists=trust_list or None,
        trust_list_keys=trust_list_key or None,
        trusted=trust or None,
    )
    if digest is not None:
        _verify_digest(settings, hex32(digest, "--digest"), json_out)
        return
    given = verification_input(
        _read(path, "document") if path else None,
        receipt=_read(receipt, "receipt") if receipt else None,
        where=str(path),
    )
    trusted = verifier_trust(settings)
    # Raw JSON-RPC for the registry's views: web3 is never imported for a receipt.
    result = verify_input(given, trusted=trusted, reader=rpc_views_reader(settings))
    _show(result, f"{path or receipt} ({given.kind})", json_out)


def _verify_digest(settings: Settings, digest: bytes, json_out: bool) -> None:
    """(d) a digest alone: the operator's store supplies the receipt; the chain decides. No
    document is checked, so IN_FORCE is the best verdict."""
    from registry.service.operator import Operator

    op = Operator.open(settings)
    result = verify_digest(
        op.receipt_for, digest, digest_kind=None, trusted=op.trusted(), reader=op.reader()
    )
    _show(result, f"0x{digest.hex()} (digest)", json_out)


def _show(result: Verification, title: str, json_out: bool) -> None:
    if json_out:
        print_json(result.to_json())
    else:
        # One line per check, never cut or folded: a digest in a reason stays one piece.
        console.print(f"[bold]{title}[/bold]")
        for check in result.checks:
            colour = STYLE[str(check.status)]
            console.print(
                f"  [{colour}]{check.status:<5}[/{colour}] {check.name:<10} {check.reason}",
                markup=True,
            )
        console.print(_headline(result))
    code = exit_code_of(result.outcome)
    if code:
        raise typer.Exit(code)


def _headline(result: Verification) -> str:
    headline = f"[bold]{result.outcome}[/bold]"
    if result.outcome is Outcome.TAMPERED:
        return headline + " — the document or its receipt is not what was issued"
    if result.outcome is Outcome.IN_FORCE:
        headline += " — this record exists and is in force; no document was checked"
    if result.agency_name and result.outcome in (Outcome.VALID, Outcome.IN_FORCE):
        headline += f" — issued by {result.agency_name}"
        if result.country:
            headline += f", {result.country} ({result.registry_name})"
        headline += f", anchored {result.anchored_at} (block {result.block_number})"
    elif result.agency_name:
        headline += f" — the receipt names {result.agency_name}"
    if result.replacement:
        headline += f"; replacement record to look up: {result.replacement}"
    return headline


__all__ = ["verify"]
