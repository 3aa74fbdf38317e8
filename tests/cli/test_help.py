"""Every CLI command has help text with an example (sqlite-utils style documentation check)."""

from __future__ import annotations

import typer
import typer.main

from registry.cli import app


def _commands(group, prefix: str = ""):
    found = []
    ctx = typer.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        path = f"{prefix} {name}".strip()
        if hasattr(command, "commands"):
            found.append((path, command))
            found.extend(_commands(command, path))
        else:
            found.append((path, command))
    return found


def test_every_command_has_help_with_an_example():
    root = typer.main.get_command(app)
    assert hasattr(root, "commands")
    commands = _commands(root)
    assert {"demo", "deploy", "bench gas", "agency add", "agency list", "account new"} <= {
        name for name, _ in commands
    }
    for name, command in commands:
        text = command.help or ""
        assert text.strip(), f"`registry {name}` has no help text"
        assert "Example: registry" in text, f"`registry {name}` help has no example"


def test_every_option_is_described():
    root = typer.main.get_command(app)
    for name, command in _commands(root):
        for param in command.params:
            if getattr(param, "param_type_name", "") == "option" and param.name != "help":
                assert param.help, f"`registry {name}` option {param.opts} has no help"
