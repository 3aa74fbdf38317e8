"""Options and helpers shared by the CLI commands (settings, keystores, output)."""

from __future__ import annotations

import json
import os
import sys
from contextvars import ContextVar
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from registry.errors import InvalidInput
from registry.settings import Settings, load_settings

if TYPE_CHECKING:
    from registry.service.connection import Account

_json_output: ContextVar[bool] = ContextVar("json_output", default=False)
"""Set while a command prints JSON on stdout: then everything for people goes to stderr."""


class _HumanConsole(Console):
    """The console for people: stdout, or stderr while the command prints JSON (--json), so
    that stdout is one JSON document a machine can parse whole."""

    @property
    def file(self) -> IO[str]:
        if _json_output.get() and self._file is None:
            return sys.stderr
        return super().file

    @file.setter
    def file(self, new_file: IO[str]) -> None:
        self._file = new_file


# soft_wrap: long lines are never broken by rich (an address or digest stays one piece that
# can be copied); the terminal wraps them if it must.
console = _HumanConsole(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def _json_flag(value: bool) -> bool:
    _json_output.set(bool(value))
    return value


def say(text: str) -> None:
    """A plain line for people: stdout, or stderr while the command prints JSON (--json)."""
    typer.echo(text, err=_json_output.get())


def json_to_stdout(value: bool) -> None:
    """Say whether this command prints JSON on stdout (human text then goes to stderr)."""
    _json_output.set(value)


PASSPHRASE_ENV = "REGISTRY_KEYSTORE_PASSPHRASE"
NEW_PASSPHRASE_ENV = "REGISTRY_NEW_KEYSTORE_PASSPHRASE"

RpcOpt = Annotated[
    str | None,
    typer.Option("--rpc", help="JSON-RPC URL of the chain, or 'embedded' (env REGISTRY_RPC)."),
]
RegistryOpt = Annotated[
    str | None,
    typer.Option("--registry", help="Registry contract address (env REGISTRY_REGISTRY_ADDRESS)."),
]
ChainIdOpt = Annotated[
    int | None, typer.Option("--chain-id", help="Expected chain id (env REGISTRY_CHAIN_ID).")
]
KeystoreOpt = Annotated[
    Path,
    typer.Option("--keystore", help="Encrypted keystore of the sending account.", dir_okay=False),
]
JsonOpt = Annotated[
    bool,
    typer.Option(
        "--json",
        help="Print one JSON document on stdout (and nothing else; messages go to stderr).",
        callback=_json_flag,
    ),
]


def settings_from(
    *,
    rpc: str | None = None,
    registry: str | None = None,
    chain_id: int | None = None,
    **more: Any,
) -> Settings:
    """The settings with the command line's values (None: not given) over the rest."""
    return load_settings(rpc=rpc, registry_address=registry, chain_id=chain_id, **more)


def _stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


def _ask_hidden(prompt: str, env: str) -> str:
    """Ask at the terminal without echo; with no terminal, say which variable to set (rather
    than a getpass warning and a read from a pipe)."""
    if not _stdin_is_terminal():
        raise InvalidInput(f"no passphrase: set {env} (there is no terminal to ask on)")
    return str(typer.prompt(prompt, hide_input=True))


def passphrase_for(path: Path, *, prompt: str | None = None) -> str:
    """The passphrase of existing key files: from the environment, else asked without echo."""
    value = os.environ.get(PASSPHRASE_ENV)
    if value is not None:
        return value
    return _ask_hidden(prompt or f"Passphrase for {path}", PASSPHRASE_ENV)


def new_passphrase_for(path: Path, *, env: str = PASSPHRASE_ENV) -> str:
    """A passphrase being chosen for new key files: from `env`, else typed twice; refused if
    empty or shorter than keys.MIN_PASSPHRASE_CHARS."""
    from registry import keys

    value = os.environ.get(env)
    if value is not None:
        keys.check_new_passphrase(value)
        return value
    value = _ask_hidden(f"New passphrase for {path}", env)
    keys.check_new_passphrase(value)
    if _ask_hidden("Type it again", env) != value:
        raise InvalidInput("the two passphrases typed differ; nothing was written")
    return value


def load_sender(path: Path) -> Account:
    from registry.service.connection import open_keystore

    return open_keystore(path, passphrase_for(path))


def print_json(data: Any) -> None:
    """One JSON document on one line: with --json, the whole of stdout."""
    typer.echo(json.dumps(data, sort_keys=True, default=str))


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """'1 record', '2 records' (with thousands separators)."""
    return f"{count:,} {noun if count == 1 else (nouns or noun + 's')}"


def hex32(value: str, what: str) -> bytes:
    """Parse a 0x-prefixed 32-byte hex argument, naming it in the error."""
    text = value[2:] if value.startswith("0x") else value
    try:
        raw = bytes.fromhex(text)
    except ValueError as exc:
        raise InvalidInput(f"{what}: {value!r} is not hex") from exc
    if len(raw) != 32:
        raise InvalidInput(f"{what}: expected 32 bytes, got {len(raw)}")
    return raw
