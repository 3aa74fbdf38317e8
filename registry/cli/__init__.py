"""The `registry` command line: a thin Typer shell over the service layer.

Every RegistryError is turned into one line on stderr and an exit code here, in one place:
0 ok/valid, 1 verification or operation failed, 2 usage or input error, 3 could not check.

The commands are loaded lazily: `COMMANDS` names each top-level command, the module that
defines it and its one-line summary, so `registry --help` lists them without importing any
command module (and so neither web3 nor SQLAlchemy), and `registry verify` imports only what
verifying needs. tests/cli/test_help.py holds the table to the real commands' help.
"""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass
from typing import Any

import typer
from typer._click import exceptions as click_exceptions
from typer._click.core import Command, Context  # typer vendors click; its Context is this one
from typer.core import TyperCommand, TyperGroup

from registry.errors import RegistryError


@dataclass(frozen=True)
class Entry:
    """A top-level command: where it is defined (`module:attribute`, a Typer app for a group
    or a function for a command) and its summary for `registry --help`: the start of its
    help, cut at a word (tests/cli/test_help.py holds it to the real help)."""

    target: str
    summary: str


COMMANDS: dict[str, Entry] = {
    # the operator (docs/operating.md)
    "init": Entry(
        "registry.cli.operate:init",
        "Create the data directory: config.toml, the registry authority's encrypted keystore.",
    ),
    "node": Entry(
        "registry.cli.chain_cmds:node",
        "Run a persistent local anvil node; its state is saved on exit and reloaded on start.",
    ),
    "deploy": Entry(
        "registry.cli.chain_cmds:deploy",
        "Deploy a new RecordRegistry; prints its address and block.",
    ),
    "agency": Entry("registry.cli.agency:app", "Agencies (registry authority)."),
    "issue": Entry(
        "registry.cli.operate:issue",
        "Issue records: submit (durable), seal in batches, anchor, wait for confirmations",
    ),
    "revoke": Entry(
        "registry.cli.operate:revoke",
        "Revoke or supersede one of the agency's own records, or a whole batch",
    ),
    "status": Entry(
        "registry.cli.operate:status",
        "Show the registry, the store it reads, records by status, batches by state, agencies.",
    ),
    "receipt": Entry(
        "registry.cli.operate:receipt",
        "Print the receipt (files) or sealed document (records) of an anchored record as JSON.",
    ),
    "store": Entry("registry.cli.store:app", "The operator's store (SQLite or PostgreSQL)."),
    "keys": Entry("registry.cli.keys:app", "Key files of the data directory."),
    "account": Entry("registry.cli.chain_cmds:account_app", "Transaction-sending accounts."),
    "token": Entry(
        "registry.cli.serve:token_app", "API tokens (shown once; only their hash is stored)."
    ),
    "serve": Entry(
        "registry.cli.serve:serve",
        "Run the HTTP API and the verification page",
    ),
    "worker": Entry(
        "registry.cli.serve:worker",
        "Run the anchoring worker alone, without the API: the one `registry serve` runs.",
    ),
    "credential": Entry(
        "registry.cli.credential:app",
        "W3C Verifiable Credentials 2.0 of sealed records (docs/credentials.md)",
    ),
    # anyone
    "verify": Entry(
        "registry.cli.verify_cmd:verify",
        "Verify a document against the chain",
    ),
    "redact": Entry("registry.cli.redact:redact", "Hide fields of a sealed record"),
    "trustlist": Entry(
        "registry.cli.trustlist:app",
        "The alliance trust list (docs/trust.md)",
    ),
    # the auditor (docs/audit.md)
    "audit": Entry(
        "registry.cli.audit:audit",
        "Audit a registry from its event log alone, agency by agency",
    ),
    "export": Entry(
        "registry.cli.audit:export",
        "Export every anchor, revocation, agency, signing key, compromise window",
    ),
    "verify-folder": Entry(
        "registry.cli.audit:verify_folder",
        "Verify every document and receipt in a folder against the chain",
    ),
    "compare": Entry(
        "registry.cli.audit:compare",
        "Compare two registry deployments, e.g. before and after a migration",
    ),
    "opendata": Entry(
        "registry.cli.opendata:app", "Open data: the registry's activity as a published dataset."
    ),
    # the whole story, and the figures
    "demo": Entry(
        "registry.cli.demo:demo",
        "Run the demo on an in-memory chain",
    ),
    "bench": Entry("registry.cli.bench:app", "Benchmarks."),
}
"""Every top-level command, in the order `registry --help` lists them."""


def load_command(name: str) -> Command:
    """The real click command of `COMMANDS[name]` (its module imported now)."""
    module_name, _, attribute = COMMANDS[name].target.partition(":")
    target = getattr(importlib.import_module(module_name), attribute)
    if isinstance(target, typer.Typer):
        command: Command = typer.main.get_group(target)
    else:
        single = typer.Typer()
        single.command(name)(target)
        command = typer.main.get_command(single)
    command.name = name
    return command


class RegistryGroup(TyperGroup):
    """Top-level group that loads its commands lazily and maps project errors to a message
    and an exit code."""

    _listing = False

    def list_commands(self, ctx: Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        if self._listing:  # the help's list of commands: the summary, nothing imported
            return TyperCommand(
                name=cmd_name, help=entry.summary, short_help=entry.summary, callback=None
            )
        loaded = self.commands.get(cmd_name)
        if loaded is None:
            loaded = self.commands[cmd_name] = load_command(cmd_name)
        return loaded

    def format_help(self, ctx: Context, formatter: Any) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False

    def invoke(self, ctx: Context) -> Any:
        common = sys.modules.get("registry.cli.common")
        if common is not None:  # an earlier command of this process may have set it
            common.json_to_stdout(False)
        try:
            return super().invoke(ctx)
        except RegistryError as exc:
            typer.echo(f"error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            typer.echo("interrupted", err=True)
            ctx.exit(130)
        except (typer.Exit, typer.Abort, click_exceptions.ClickException):
            raise
        except Exception as exc:  # a bug: still one line for the user, the details in debug
            if os.environ.get("REGISTRY_DEBUG"):
                raise
            typer.echo(
                f"error: unexpected {type(exc).__name__}: {exc} "
                "(this is a bug; REGISTRY_DEBUG=1 shows the traceback)",
                err=True,
            )
            ctx.exit(1)


app = typer.Typer(
    cls=RegistryGroup,
    rich_markup_mode=None,  # the root's help in plain text: rich is not imported for it
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def registry() -> None:
    """Public Records Registry: anchor record hashes on an Ethereum chain; verify anywhere.

    Example: registry demo
    """


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except RegistryError as exc:  # raised outside a command (e.g. at settings load)
        typer.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
