"""`registry deploy`, `registry account new`, `registry node`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from registry.cli.common import (
    ChainIdOpt,
    JsonOpt,
    RpcOpt,
    console,
    load_sender,
    passphrase_for,
    print_json,
    settings_from,
)
from registry.errors import InvalidInput
from registry.settings import write_config

account_app = typer.Typer(
    help="Transaction-sending accounts. Example: registry account new keys/admin.json",
    no_args_is_help=True,
)


@account_app.command("new")
def account_new(
    path: Annotated[
        Path, typer.Argument(help="Keystore file to create (mode 0600).", dir_okay=False)
    ],
) -> None:
    """Create a new account in an encrypted keystore; prints its address.

    The passphrase comes from REGISTRY_KEYSTORE_PASSPHRASE or is asked for.
    Example: registry account new .registry/keys/admin.json
    """
    from registry.service.connection import new_keystore

    if path.exists():
        raise InvalidInput(f"{path}: already exists; refusing to overwrite a key")
    address = new_keystore(path, passphrase_for(path))
    console.print(f"created {path}: {address}")


def deploy(
    keystore: Annotated[
        Path | None,
        typer.Option(
            help="Deployer's keystore (default: DATA_DIR/keys/admin.json).", dir_okay=False
        ),
    ] = None,
    rpc: RpcOpt = None,
    chain_id: ChainIdOpt = None,
    admin: Annotated[
        str | None, typer.Option(help="Registry authority address (default: the deployer).")
    ] = None,
    fund_from_dev: Annotated[
        bool, typer.Option(help="Fund the deployer from the node's dev account (anvil only).")
    ] = False,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="Deploy even though config.toml already names a registry, and name the new one "
            "there instead (only while the data directory's store holds nothing of the old).",
        ),
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Deploy a new RecordRegistry; prints its address and block.

    Saves the address in the data directory's config.toml. When config.toml already names a
    registry, nothing is deployed (its store, agencies and keys belong to that registry):
    run a second registry from a data directory of its own (REGISTRY_DATA_DIR).

    Example: registry deploy --rpc http://127.0.0.1:8545 --keystore .registry/keys/admin.json
    """
    from registry.service.connection import deploy_registry, store_binding

    settings = settings_from(rpc=rpc, chain_id=chain_id)
    config = settings.data_dir / "config.toml"
    named = _configured_registry(config)
    if named:
        bound = store_binding(settings)
        if not replace or bound is not None:
            held = f"; its store ({bound}) holds its records" if bound else ""
            raise InvalidInput(
                f"{config} already names registry {named}{held}, and a second deploy would "
                "leave it behind: nothing was deployed. Keep using it, or deploy another "
                "registry from a data directory of its own: REGISTRY_DATA_DIR=DIR registry "
                "init, then registry deploy"
                + ("" if bound else " (or pass --replace to name the new one in this config)")
            )
    registry = deploy_registry(
        settings,
        lambda: load_sender(keystore or settings.keys_dir / "admin.json"),
        admin=admin,
        fund_from_dev=fund_from_dev,
    )
    info = {
        "registry": registry.address,
        "chainId": registry.chain_id,
        "block": registry.block_number,
        "txHash": "0x" + registry.tx_hash.hex(),
        "gasUsed": registry.gas_used,
    }
    console.print(
        f"RecordRegistry deployed at {registry.address} on chain {registry.chain_id} "
        f"(block {registry.block_number}, {registry.gas_used:,} gas)"
    )
    if config.is_file():
        write_config(
            config,
            {
                "rpc": settings.rpc,
                "registry_address": registry.address,
                "chain_id": registry.chain_id,
            },
        )
        console.print(f"saved in {config}")
    if json_out:
        print_json(info)


def _configured_registry(config: Path) -> str | None:
    """The registry address config.toml names, if any."""
    import tomllib

    try:
        value = tomllib.loads(config.read_text()).get("registry_address")
    except (OSError, ValueError):
        return None
    return str(value) if value else None


def node(
    port: Annotated[int, typer.Option(help="Loopback port to listen on.")] = 8545,
    state: Annotated[
        Path | None, typer.Option(help="State file (default: DATA_DIR/anvil-state.json).")
    ] = None,
    block_time: Annotated[
        float | None, typer.Option(help="Seconds per block (default: mine on each tx).")
    ] = None,
) -> None:
    """Run a persistent local anvil node; its state is saved on exit and reloaded on start.

    SIGTERM or Ctrl-C stops anvil (which writes its state file) and exits 0.
    Example: registry node --port 8545
    """
    from registry.service.node import run_local_node

    settings = settings_from()
    state_path = state or settings.data_dir / "anvil-state.json"
    run_local_node(
        port=port,
        state_path=state_path,
        block_time=block_time,
        on_started=lambda url: console.print(
            f"anvil on {url} (chain 31337), state in {state_path}; Ctrl-C to stop"
        ),
    )
    console.print(f"anvil stopped; state saved in {state_path}")
