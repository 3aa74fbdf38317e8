"""The `registry` command line: a thin Typer shell over the service layer.

Every RegistryError is turned into one line on stderr and an exit code here, in one place:
0 ok/valid, 1 verification or operation failed, 2 usage or input error, 3 could not check.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import typer
from typer._click import exceptions as click_exceptions
from typer._click.core import Context  # typer vendors click; its Context is this one
from typer.core import TyperGroup

from registry.errors import RegistryError


class RegistryGroup(TyperGroup):
    """Top-level group that maps project errors to a message and an exit code."""

    def invoke(self, ctx: Context) -> Any:
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
    help=(
        "Public Records Registry: anchor record hashes on an Ethereum chain; verify anywhere.\n\n"
        "Example: registry demo"
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _register() -> None:
    from registry.cli import agency, bench, chain_cmds, demo, operate, verify_cmd
    from registry.cli import audit as audit_cmd
    from registry.cli import credential as credential_cmd
    from registry.cli import keys as keys_cmd
    from registry.cli import opendata as opendata_cmd
    from registry.cli import serve as serve_cmd
    from registry.cli import trustlist as trustlist_cmd

    app.add_typer(agency.app, name="agency")
    app.add_typer(bench.app, name="bench")
    app.add_typer(keys_cmd.app, name="keys")
    app.add_typer(trustlist_cmd.app, name="trustlist")
    app.add_typer(credential_cmd.app, name="credential")
    opendata_cmd.register(app, bench.app)
    chain_cmds.register(app)
    demo.register(app)
    verify_cmd.register(app)
    operate.register(app, agency.app)
    audit_cmd.register(app)
    serve_cmd.register(app)


_register()


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except RegistryError as exc:  # raised outside a command (e.g. at settings load)
        typer.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
