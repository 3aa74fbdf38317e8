"""`registry deploy`, `registry account new`, `registry node`."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Annotated

import typer

from registry.chain import (
    RegistryContract,
    connect,
    create_keystore,
    fund_from_dev_account,
    new_account,
)
from registry.chain.devnode import AnvilNode, start_anvil
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
from registry.errors import ChainUnavailable, InvalidInput
from registry.service.operator import tx_options
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
    if path.exists():
        raise InvalidInput(f"{path}: already exists; refusing to overwrite a key")
    account = new_account()
    create_keystore(account, path, passphrase_for(path))
    console.print(f"created {path}: {account.address}")


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
    json_out: JsonOpt = False,
) -> None:
    """Deploy a new RecordRegistry; prints its address and block.

    Example: registry deploy --rpc http://127.0.0.1:8545 --keystore .registry/keys/admin.json
    """
    settings = settings_from(rpc=rpc, chain_id=chain_id)
    if settings.rpc == "embedded":
        raise InvalidInput(
            "deploying on the embedded chain would vanish on exit; pass --rpc URL "
            "(start a local node with `registry node`), or run `registry demo`"
        )
    sender = load_sender(keystore or settings.keys_dir / "admin.json")
    w3 = connect(settings.rpc, timeout=settings.rpc_timeout, expected_chain_id=settings.chain_id)
    if fund_from_dev:
        fund_from_dev_account(w3, sender.address)
    registry, result = RegistryContract.deploy(
        w3, sender, admin=admin, options=tx_options(settings)
    )
    info = {
        "registry": registry.address,
        "chainId": registry.chain_id,
        "block": result.block_number,
        "txHash": "0x" + result.tx_hash.hex(),
        "gasUsed": result.gas_used,
    }
    console.print(
        f"RecordRegistry deployed at {registry.address} on chain {registry.chain_id} "
        f"(block {result.block_number}, {result.gas_used:,} gas)"
    )
    config = settings.data_dir / "config.toml"
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
    settings = settings_from()
    state_path = state or settings.data_dir / "anvil-state.json"
    started: list[AnvilNode] = []
    signals_seen: list[int] = []

    def forward(signum: int, _frame: object) -> None:
        # Only forward here: waiting for the process inside a handler that interrupted
        # Popen.wait() deadlocks on the lock that wait() holds.
        signals_seen.append(signum)
        for running in started:
            running.process.send_signal(signum if len(signals_seen) == 1 else signal.SIGKILL)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        # anvil in a session of its own: a terminal's Ctrl-C reaches only this process, which
        # forwards it once; a second signal kills anvil.
        started.append(
            start_anvil(
                port=port,
                state_path=state_path,
                block_time=block_time,
                quiet=False,
                own_session=True,
            )
        )
        node_ = started[0]
        if signals_seen:  # asked to stop while anvil was starting
            node_.process.send_signal(signals_seen[0])
        else:
            console.print(
                f"anvil on {node_.url} (chain 31337), state in {state_path}; Ctrl-C to stop"
            )
        code = node_.process.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for running in started:
            running.stop()
    if not signals_seen:
        raise ChainUnavailable(f"anvil stopped by itself (exit code {code})")
    if code != 0:
        raise ChainUnavailable(f"anvil was killed (exit code {code}); {state_path} may be stale")
    console.print(f"anvil stopped; state saved in {state_path}")


def register(app: typer.Typer) -> None:
    app.add_typer(account_app, name="account")
    app.command("deploy")(deploy)
    app.command("node")(node)
