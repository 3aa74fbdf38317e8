"""Every CLI command has help text with an example (sqlite-utils style documentation check)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

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


def _text(value: str | None) -> str:
    return " ".join((value or "").split())


def test_the_command_table_matches_the_real_commands():
    """`registry --help` lists COMMANDS without importing them: each summary must be the start
    of the real command's help, and the table must name every command there is."""
    from registry.cli import COMMANDS, load_command

    for name, entry in COMMANDS.items():
        command = load_command(name)
        assert command.name == name
        assert _text(command.help).startswith(_text(entry.summary)), (name, command.help)
        assert not entry.summary.endswith((",", ":", ";")), name
    listed = _run_cli("--help").stdout
    for name in COMMANDS:
        assert f"  {name} " in listed, name


def _run_cli(*args: str, code: str = "") -> subprocess.CompletedProcess[str]:
    program = (
        "import sys\n"
        f"sys.argv = ['registry', *{list(args)!r}]\n"
        "from registry.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n" + code
    )
    return subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=120
    )


HEAVY = ("web3", "eth_account", "eth_tester", "eth", "py_ecc", "sqlalchemy", "alembic")


def _loaded(prefixes: tuple[str, ...]) -> str:
    return (
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in "
        f"{prefixes!r} or m.startswith('registry.cli.'))\n"
        "print('LOADED', loaded, file=sys.stderr)\n"
    )


def test_help_imports_no_command_module_and_no_chain_or_store():
    done = _run_cli("--help", code=_loaded(HEAVY))
    assert "Usage: registry" in done.stdout
    assert "LOADED []" in done.stderr, done.stderr


def test_verify_of_a_receipt_imports_neither_web3_nor_the_store(tmp_path):
    """A receipt verified against a node: raw JSON-RPC (the node is down here: ERROR, exit 3,
    which still goes through the whole path), no web3, no py-evm, no SQLAlchemy."""
    from test_hostile_files import REGISTRY, _receipt_of

    pdf = tmp_path / "file.pdf"
    pdf.write_bytes(b"%PDF-1.7 import check\n")
    target = tmp_path / "r.json"
    target.write_text(json.dumps(_receipt_of(pdf.read_bytes())))
    done = _run_cli(
        "verify", str(pdf), "--receipt", str(target), "--rpc", "http://127.0.0.1:1",
        "--registry", REGISTRY, "--json", code=_loaded(HEAVY),
    )  # fmt: skip
    assert "Traceback" not in done.stderr, done.stderr
    assert '"outcome": "ERROR"' in done.stdout, done.stdout  # the node was asked (and is down)
    loaded = done.stderr.split("LOADED ", 1)[1]
    assert not [m for m in ast.literal_eval(loaded) if not m.startswith("registry.cli.")], loaded


def test_auditor_scripts_say_the_registry_command():
    root = Path(__file__).resolve().parents[2]
    for script, command in (
        ("export_registry.py", "registry export"),
        ("verify_folder.py", "registry verify-folder"),
        ("compare_deployments.py", "registry compare"),
    ):
        done = subprocess.run(
            [sys.executable, str(root / "scripts" / script), "--help"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0 and "Usage: registry" in done.stdout, done.stderr
        assert f"Example: {command}" in " ".join(done.stdout.split()), done.stdout
        assert "python scripts" not in done.stdout
