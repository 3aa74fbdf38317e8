"""Operator commands: init, agency create, issue, revoke, status, receipt.

The service modules are imported inside each command: `registry --help` and the commands that
do not need web3 or SQLAlchemy never load them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from registry.cli.common import (
    PASSPHRASE_ENV,
    JsonOpt,
    console,
    err_console,
    hex32,
    new_passphrase_for,
    passphrase_for,
    plural,
    print_json,
)
from registry.errors import InvalidInput
from registry.settings import load_settings, write_config
from registry.vocabulary import Reason, reasons_listed

if TYPE_CHECKING:
    from registry.service.operator import Operator
    from registry.service.revoking import RevocationResult

AgencyOpt = Annotated[str, typer.Option("--agency", help="Agency name (or address) to act as.")]


def _operator() -> Operator:
    from registry.service.operator import Operator

    return Operator.open(load_settings())


def _passphrase(op_or_dir: Path) -> str:
    return passphrase_for(op_or_dir)


def init(
    rpc: Annotated[
        str, typer.Option(help="JSON-RPC URL of the chain this registry will use.")
    ] = "http://127.0.0.1:8545",
    data_dir: Annotated[
        Path | None, typer.Option(help="Data directory (default .registry or REGISTRY_DATA_DIR).")
    ] = None,
) -> None:
    """Create the data directory: config.toml, the registry authority's encrypted keystore.

    The passphrase (at least 12 characters; every key file of the data directory is
    encrypted with it) comes from REGISTRY_KEYSTORE_PASSPHRASE or is asked for, twice.
    Example: registry init --rpc http://127.0.0.1:8545
    """
    from registry.service.connection import new_keystore

    settings = load_settings(data_dir=data_dir)
    admin_path = settings.keys_dir / "admin.json"
    if admin_path.exists():
        raise InvalidInput(f"{settings.data_dir} is already initialised ({admin_path} exists)")
    passphrase = new_passphrase_for(admin_path)
    address = new_keystore(admin_path, passphrase)
    write_config(settings.data_dir / "config.toml", {"rpc": rpc})
    console.print(f"initialised {settings.data_dir}: authority account {address}")
    console.print(
        "next: `registry node` (a local chain; skip it for another node), then "
        "`registry deploy --fund-from-dev`, then "
        '`registry agency create "NAME" --fund-from-dev` '
        "(--fund-from-dev pays the gas from a dev node's account; on a real chain fund the "
        "accounts yourself and leave it out)"
    )


def agency_create(
    name: Annotated[str, typer.Argument(help="Public name of the agency.")],
    fund_from_dev: Annotated[
        bool, typer.Option(help="Fund the new account from the node's dev account (anvil).")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Create an agency: generate its account and Ed25519 signing key (encrypted, in the data
    directory), register it on chain with the authority's key, and add it to the store.

    Example: registry agency create "Civil Registry Office" --fund-from-dev
    """
    op = _operator()
    agency, _ = op.create_agency(
        name, passphrase=_passphrase(op.keys_dir), fund_from_dev=fund_from_dev
    )
    console.print(f"agency {agency.name!r} registered: {agency.address}")
    if json_out:
        print_json({"name": agency.name, "address": agency.address})


def issue(
    paths: Annotated[
        list[Path], typer.Argument(help="Files, JSON records, directories, JSON-lines files.")
    ],
    agency: AgencyOpt,
    out: Annotated[
        Path, typer.Option(help="Where receipts and sealed documents are written.")
    ] = Path("receipts"),
    as_file: Annotated[
        bool,
        typer.Option(
            "--as-file",
            help="Anchor every path as a file (its SHA-256), *.json and *.jsonl included: "
            "e.g. a signed trust list, whose exact bytes are published.",
        ),
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Issue records: submit (durable), seal in batches, anchor, wait for confirmations, and
    write one receipt per file and one sealed document (with receipt) per JSON record.

    Prints each record's digest (what `registry revoke` and `registry receipt` take) and the
    file written for it; --json gives them as {"records": [{"digest", "kind", "source",
    "file"}, ...]}.

    Example: registry issue certificates/ --agency "Civil Registry Office" --out receipts/
    """
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    from registry.errors import ChainUnavailable
    from registry.service.operator import collect_inputs, sealed_json, write_outputs

    try:
        op = _operator()
    except ChainUnavailable as exc:
        _issue_without_node(paths, agency=agency, as_file=as_file, json_out=json_out, why=exc)
        return
    who = op.agency(agency)
    issuer = op.issuer(who, passphrase=_passphrase(op.keys_dir))
    items = list(
        collect_inputs(
            paths,
            seal=issuer.seal,
            max_record_bytes=op.settings.max_record_bytes,
            as_files=as_file,
        )
    )
    if not items:
        raise InvalidInput("nothing to issue: no files found")
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as progress:
        task = progress.add_task("submitting", total=len(items))
        step = 5_000
        for start in range(0, len(items), step):
            chunk = items[start : start + step]
            issuer.submit([(i.digest, i.kind, sealed_json(i)) for i in chunk])
            progress.advance(task, len(chunk))
        progress.update(task, description="anchoring")
        issuer.drain()
        progress.update(task, description="writing receipts")
        written = write_outputs(op, items, out, agency_id=who.id, data_key=issuer.data_key)
    rows = [
        {
            "digest": "0x" + item.digest.hex(),
            "kind": item.kind,
            "source": item.source,
            "file": str(f),
        }
        for item, f in zip(items, written, strict=True)
    ]
    shown = 20
    for row in rows[:shown]:
        console.print(f"{row['digest']}  {row['file']}")
    if len(rows) > shown:
        console.print(f"... and {len(rows) - shown:,} more (--json lists every one)")
    console.print(f"issued {plural(len(items), 'record')} for {who.name}; receipts in {out}/")
    if json_out:
        print_json({"issued": len(items), "agency": who.name, "out": str(out), "records": rows})


def _issue_without_node(
    paths: list[Path], *, agency: str, as_file: bool, json_out: bool, why: Exception
) -> None:
    """The node is down: the records are stored as pending (durable), anchored later."""
    from registry.service.operator import submit_without_node

    settings = load_settings()
    done = submit_without_node(
        settings,
        paths,
        agency=agency,
        passphrase=passphrase_for(settings.keys_dir),
        as_files=as_file,
    )
    rows = [
        {"digest": "0x" + i.digest.hex(), "kind": i.kind, "source": i.source, "file": None}
        for i in done.items
    ]
    for row in rows[:20]:
        console.print(f"{row['digest']}  pending")
    err_console.print(
        f"the node is unreachable ({why}); {plural(len(rows), 'record')} for {done.agency} "
        f"stored as pending in {done.store}, no receipt written yet. They are anchored when the "
        "node answers: by `registry worker` or `registry serve`, or by running this command "
        "again (which then writes the receipts)"
    )
    if json_out:
        print_json({"issued": 0, "pending": len(rows), "agency": done.agency, "records": rows})
    raise typer.Exit(3)


def revoke(
    digest: Annotated[str, typer.Argument(help="Digest of the record (or a batch root).")],
    reason: Annotated[
        int,
        typer.Option(help=reasons_listed(short=True) + "."),
    ],
    agency: Annotated[
        str | None,
        typer.Option(
            "--agency",
            help="Agency name (or address) whose record it is (with --by-authority: default "
            "the agency that anchored it first).",
        ),
    ] = None,
    replacement: Annotated[
        str | None,
        typer.Option(help="Digest of the superseding record of the same agency (reason 2)."),
    ] = None,
    batch: Annotated[bool, typer.Option(help="DIGEST is a batch root: revoke it all.")] = False,
    by_authority: Annotated[
        bool,
        typer.Option(help="Revoke as the registry authority (court order, fraud; not reason 2)."),
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Revoke or supersede one of the agency's own records, or a whole batch; or, with
    --by-authority, revoke any agency's record or batch as the registry authority.

    Example: registry revoke 0x9f86d0.. --agency "Civil Registry" --reason 2 --replacement 0x6030..
    """
    from registry.service.revoking import revoke_by_authority

    op = _operator()
    target = hex32(digest, "DIGEST")
    new = hex32(replacement, "--replacement") if replacement else None
    if by_authority:
        if new is not None:
            raise InvalidInput(
                "--by-authority takes no --replacement: the authority does not supersede"
            )
        agency_id = op.agency(agency).id if agency else op.issuing_agency_of(target, batch=batch)
        result = revoke_by_authority(
            store=op.store,
            registry=op.registry,
            admin=op.admin_account(_passphrase(op.keys_dir)),
            agency_id=agency_id,
            digest=target,
            reason=reason,
            batch=batch,
        )
    else:
        if agency is None:
            raise InvalidInput("--agency is needed (or --by-authority)")
        result = _revoke_own(op, agency, target, reason=reason, replacement=new, batch=batch)
    what = "batch" if result.whole_batch else "record"
    by = " by the authority" if result.by_authority else ""
    console.print(
        f"{what} {digest} revoked{by} ({Reason(result.reason).label})"
        + (" — already revoked" if result.already else f" in block {result.block_number}")
    )
    if json_out:
        print_json(
            {
                "digest": "0x" + target.hex(),
                "wholeBatch": result.whole_batch,
                "byAuthority": result.by_authority,
                "reason": int(result.reason),
                "replacement": "0x" + new.hex() if new else None,
                "already": result.already,
                "blockNumber": result.block_number,
            }
        )


def _revoke_own(
    op: Operator,
    agency: str,
    target: bytes,
    *,
    reason: int,
    replacement: bytes | None,
    batch: bool,
) -> RevocationResult:
    from registry.service.revoking import revoke_batch, revoke_record

    who = op.agency(agency)
    account = op.agency_account(who.name, _passphrase(op.keys_dir))
    new = replacement
    common = dict(store=op.store, registry=op.registry, account=account, agency_id=who.id)
    if batch:
        result = revoke_batch(**common, root=target, reason=reason, replacement=new)  # type: ignore[arg-type]
    else:
        result = revoke_record(**common, digest=target, reason=reason, replacement=new)  # type: ignore[arg-type]
    return result


def status(json_out: JsonOpt = False) -> None:
    """Show the registry, the store it reads, records by status, batches by state, agencies.

    The store is named first (SQLite file or PostgreSQL URL, password hidden): a
    REGISTRY_DATABASE_URL pointing elsewhere shows here. With the node down, the store's side
    is still shown and the chain's is said to be unreachable (exit 3).

    Example: registry status --json
    """
    from registry.service.status import operator_status

    info = operator_status(load_settings())
    _show_status(info)
    if json_out:
        print_json(info)
    if info.get("chainError"):
        raise typer.Exit(3)


def _show_status(info: dict[str, Any]) -> None:
    console.print(f"store     {info['store']}")
    if info.get("chainError"):
        console.print(f"registry  {info['registry']} — chain not reachable: {info['chainError']}")
    else:
        console.print(f"registry  {info['registry']} on chain {info['chainId']} ({info['rpc']})")
    records = ", ".join(f"{n:,} {state}" for state, n in info["records"].items())
    console.print(f"records   {records}")
    batches = ", ".join(f"{n:,} {state}" for state, n in info["batches"].items()) or "none"
    console.print(f"batches   {batches}")
    if not info["agencies"]:
        console.print("agencies  none in this store (`registry agency create NAME`)")
    for a in info["agencies"]:
        console.print(f"agency    {a['name']}  {a['address']}  {a['status']}")
    if info.get("note"):
        console.print(f"note: {info['note']}")


def receipt(
    digest: Annotated[str, typer.Argument(help="Digest of an anchored record.")],
) -> None:
    """Print the receipt (files) or sealed document (records) of an anchored record as JSON.

    Example: registry receipt 0x9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
    """
    from registry.receipt import receipt_to_json
    from registry.service.status import receipt_of

    target = hex32(digest, "DIGEST")
    found = receipt_of(load_settings(), target)  # raw JSON-RPC: no web3 for a file's receipt
    if found.digest_kind == "record":
        # the sealed document is encrypted at rest with the agency's data key
        op = _operator()
        payload = op.sealed_document_for(target, passphrase=_passphrase(op.keys_dir))
    else:
        payload = receipt_to_json(found)
    typer.echo(json.dumps(payload, indent=2))


__all__ = ["PASSPHRASE_ENV", "agency_create", "init", "issue", "receipt", "revoke", "status"]
