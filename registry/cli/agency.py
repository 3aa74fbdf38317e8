"""`registry agency ...`: register, list, suspend, reinstate agencies; rotate a signing key,
mark an agency compromised, move it to a new account (authority operations)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from registry.cli.common import (
    ChainIdOpt,
    JsonOpt,
    KeystoreOpt,
    RegistryOpt,
    RpcOpt,
    console,
    hex32,
    load_sender,
    passphrase_for,
    print_json,
    settings_from,
)
from registry.cli.operate import agency_create
from registry.errors import InvalidInput
from registry.settings import Settings, load_settings

if TYPE_CHECKING:
    from registry.service.operator import Operator

app = typer.Typer(
    help="Agencies (registry authority). Example: registry agency list --rpc URL --registry ADDR",
    no_args_is_help=True,
)

app.command("create")(agency_create)

AccountArg = Annotated[str, typer.Argument(help="The agency's identity address.")]


@app.command("add")
def add(
    account: AccountArg,
    name: Annotated[str, typer.Option(help="Public name of the agency.")],
    signing_key: Annotated[str, typer.Option(help="Ed25519 public key, 32 bytes hex.")],
    keystore: KeystoreOpt,
    rpc: RpcOpt = None,
    registry: RegistryOpt = None,
    chain_id: ChainIdOpt = None,
) -> None:
    """Register an agency with its first signing key (admin keystore).

    Example: registry agency add 0xAb.. --name Land --signing-key 0x1f.. --keystore a.json
    """
    from registry.service.agencies import add_agency_on_chain

    key = hex32(signing_key, "--signing-key")
    block = add_agency_on_chain(
        settings_from(rpc=rpc, registry=registry, chain_id=chain_id),
        lambda: load_sender(keystore),
        account=account,
        name=name,
        signing_key=key,
    )
    console.print(f"registered {name} ({account}) in block {block}")


@app.command("suspend")
def suspend(
    account: AccountArg,
    keystore: KeystoreOpt,
    rpc: RpcOpt = None,
    registry: RegistryOpt = None,
    chain_id: ChainIdOpt = None,
) -> None:
    """Suspend an agency: it can no longer anchor or revoke (admin keystore).

    Example: registry agency suspend 0xAbC... --keystore admin.json --rpc URL --registry ADDR
    """
    _set_status(
        account,
        keystore,
        settings_from(rpc=rpc, registry=registry, chain_id=chain_id),
        suspend=True,
    )


@app.command("reinstate")
def reinstate(
    account: AccountArg,
    keystore: KeystoreOpt,
    rpc: RpcOpt = None,
    registry: RegistryOpt = None,
    chain_id: ChainIdOpt = None,
) -> None:
    """Reinstate a suspended agency (admin keystore).

    Example: registry agency reinstate 0xAbC... --keystore admin.json --rpc URL --registry ADDR
    """
    _set_status(
        account,
        keystore,
        settings_from(rpc=rpc, registry=registry, chain_id=chain_id),
        suspend=False,
    )


def _set_status(account: str, keystore: Path, settings: Settings, *, suspend: bool) -> None:
    """Suspend or reinstate on chain, then mirror it into the operator's store if there is one."""
    from registry.service.agencies import set_agency_status

    block = set_agency_status(settings, lambda: load_sender(keystore), account, active=not suspend)
    console.print(f"{'suspended' if suspend else 'reinstated'} {account} in block {block}")


NameArg = Annotated[str, typer.Argument(help="The agency's name (or identity address).")]


@app.command("rotate-key")
def rotate_key(name: NameArg) -> None:
    """Give an agency a new Ed25519 signing key: the agency proposes it, the authority confirms
    it (both keys are in the data directory; the passphrase from REGISTRY_KEYSTORE_PASSPHRASE
    or asked). The old key's window closes now; salts and digests do not change.

    Example: registry agency rotate-key "Civil Registry Office"
    """
    op = _operator()
    agency = op.rotate_agency_key(name, passphrase=passphrase_for(op.keys_dir))
    console.print(f"{agency.name}: signing key rotated to {agency.signing_public_key}")


@app.command("compromise")
def compromise(
    name: NameArg,
    since: Annotated[
        str,
        typer.Option(help="When the transaction key was stolen (ISO time, UTC if no offset)."),
    ],
) -> None:
    """Mark an agency compromised since a time (authority): its anchors and revocations from
    then on are void for every verifier; earlier records stay valid. Then move it.

    Example: registry agency compromise "Civil Registry Office" --since 2026-11-23T10:00:00Z
    """
    when = _iso_seconds(since)
    op = _operator()
    agency = op.mark_agency_compromised(name, since=when, passphrase=passphrase_for(op.keys_dir))
    console.print(f"{agency.name} ({agency.address}) marked compromised since {since}")


@app.command("move")
def move(
    name: NameArg,
    fund_from_dev: Annotated[
        bool, typer.Option(help="Fund the new account from the node's dev account (anvil).")
    ] = False,
) -> None:
    """Move an agency to a new transaction account (authority): a fresh encrypted keystore in
    the data directory; identity, keys, anchors and history are kept; the old account retires.

    Example: registry agency move "Civil Registry Office" --fund-from-dev
    """
    op = _operator()
    agency = op.move_agency(
        name, passphrase=passphrase_for(op.keys_dir), fund_from_dev=fund_from_dev
    )
    console.print(f"{agency.name} ({agency.address}) now acts from account {agency.account}")


def _iso_seconds(text: str) -> int:
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidInput(f"--since {text!r}: not an ISO time (2026-11-23T10:00:00Z)") from exc
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp())


def _operator() -> Operator:
    from registry.service.operator import Operator

    return Operator.open(load_settings())


@app.command("list")
def list_agencies(
    rpc: RpcOpt = None,
    registry: RegistryOpt = None,
    chain_id: ChainIdOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """List every agency, rebuilt from the registry's event log.

    Example: registry agency list --rpc http://127.0.0.1:8545 --registry 0x5FbD...
    """
    from registry.service.agencies import chain_agencies

    settings = settings_from(rpc=rpc, registry=registry, chain_id=chain_id)
    address, agencies = chain_agencies(settings)
    rows: list[dict[str, str | int]] = [
        {
            "address": agency.address,
            "name": agency.name,
            "status": agency.status,
            "registeredAt": agency.registered_at,
            "statusChangedAt": agency.status_changed_at,
            "signingKey": "0x" + agency.signing_key.hex(),
        }
        for agency in agencies
    ]
    # One line per agency, whole values (never cut to a column): addresses and keys copy.
    console.print(f"agencies of registry {address}: {len(rows)}")
    for row in rows:
        console.print(f"{row['name']}  {row['address']}  {row['status']}  key {row['signingKey']}")
    if json_out:
        print_json({"registry": address, "agencies": rows})
