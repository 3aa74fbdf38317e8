"""Every command with a --json option prints one JSON document on stdout and nothing else
(messages go to stderr), on a real anvil node: the whole of stdout goes through json.loads.

The commands are enumerated from the CLI itself, so a new command with --json fails here until
it is added to RUNS. Each runs as a process of its own (as a script would run it), so output of
child processes and of rich's consoles is caught too."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from registry.cli import app
from registry.store.scratch import DEFAULT_PG_URL, scratch_schema

pytestmark = pytest.mark.anvil
PASS = "json output passphrase"
AGENCY = "Civil Registry Office"
PG_URL = os.environ.get("REGISTRY_TEST_PG_URL", DEFAULT_PG_URL)


def json_commands() -> dict[str, bool]:
    """Every command path with a --json option: True for a flag, False for `--json FILE`."""
    found: dict[str, bool] = {}

    def walk(group, prefix: str) -> None:
        ctx = typer.Context(group)
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            path = f"{prefix} {name}".strip()
            if hasattr(command, "list_commands"):
                walk(command, path)
                continue
            for param in command.params:
                if "--json" in getattr(param, "opts", []):
                    found[path] = bool(param.is_flag)

    walk(typer.main.get_command(app), "")
    return found


class World:
    """A registry on anvil made with the CLI: one agency, records issued, one superseded."""

    def __init__(self, root: Path, rpc: str) -> None:
        self.root = root
        self.rpc = rpc
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")},
            "REGISTRY_INSECURE_TEST_KDF": "1",
            "REGISTRY_DATA_DIR": str(root / "data"),
            "REGISTRY_KEYSTORE_PASSPHRASE": PASS,
        }
        self.registry = ""
        self.digests: list[str] = []

    def run(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", "from registry.cli import main; main()", *args],
            capture_output=True,
            text=True,
            env={**self.env, **env},
            cwd=self.root,
            timeout=300,
        )

    def ok(self, *args: str) -> subprocess.CompletedProcess[str]:
        done = self.run(*args)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        return done


@pytest.fixture(scope="module")
def world(anvil_node, tmp_path_factory) -> World:
    root = tmp_path_factory.mktemp("json")
    w = World(root, anvil_node.url)
    w.ok("init", "--rpc", anvil_node.url)
    w.registry = json.loads(w.ok("deploy", "--fund-from-dev", "--json").stdout)["registry"]
    inputs = root / "in"
    inputs.mkdir()
    (inputs / "birth.jsonl").write_text('{"child": "Ana"}\n{"child": "Ben"}\n')
    (inputs / "diploma.pdf").write_bytes(b"%PDF-1.7 diploma\n")
    w.ok("agency", "create", AGENCY, "--fund-from-dev")
    issued = json.loads(w.ok("issue", str(inputs), "--agency", AGENCY, "--json").stdout)
    w.digests = [r["digest"] for r in issued["records"]]
    return w


def runs(w: World, tmp: Path, pg: str) -> dict[str, list[str]]:
    """The arguments of each command with --json ('-' where --json takes a file)."""
    node = ["--rpc", w.rpc, "--registry", w.registry]
    tmp.mkdir(parents=True, exist_ok=True)
    key = tmp / "publisher.key.json"
    trust = tmp / "list.json"
    first, second = w.digests[0], w.digests[1]
    return {
        "deploy": ["deploy", "--rpc", w.rpc, "--keystore", str(w.root / "data/keys/admin.json"),
                   "--json"],
        "agency create": ["agency", "create", "Land Office", "--fund-from-dev", "--json"],
        "agency list": ["agency", "list", "--json"],
        "issue": ["issue", str(w.root / "in" / "diploma.pdf"), "--agency", AGENCY, "--json"],
        "revoke": ["revoke", first, "--agency", AGENCY, "--reason", "2", "--replacement",
                   second, "--json"],
        "status": ["status", "--json"],
        "store migrate": ["store", "migrate", "--to", pg, "--json"],
        "keys list": ["keys", "list", "--json"],
        "token create": ["token", "create", "--agency", AGENCY, "--json"],
        "token list": ["token", "list", "--json"],
        "verify": ["verify", str(w.root / "receipts" / "birth-0001.sealed.json"), "--json"],
        "trustlist keygen": ["trustlist", "keygen", "--out", str(key), "--json"],
        "trustlist sign": ["trustlist", "sign", str(trust), "--key", str(key), "--json"],
        "trustlist verify": ["trustlist", "verify", str(trust), "--json"],
        "trustlist show": ["trustlist", "show", str(trust), "--json"],
        "audit": ["audit", *node, "--db", str(w.root / "data" / "registry.db"), "--json", "-"],
        "export": ["export", *node, "--out", str(tmp / "export"), "--json"],
        "verify-folder": ["verify-folder", str(w.root / "receipts"), *node, "--json", "-"],
        "compare": ["compare", "--rpc-a", w.rpc, "--registry-a", w.registry, "--registry-b",
                    w.registry, "--json", "-"],
        "opendata export": ["opendata", "export", str(tmp / "opendata"), *node, "--json"],
        "bench gas": ["bench", "gas", "--rpc", w.rpc, "--json"],
        "bench merkle": ["bench", "merkle", "--leaves", "64", "--json"],
        "bench issue": ["bench", "issue", "--records", "20", "--workers", "0", "--json"],
        "bench audit": ["bench", "audit", "--records", "40", "--batches", "2", "--json"],
        "bench opendata": ["bench", "opendata", "--records", "40", "--batches", "2",
                           "--repeat", "1", "--json"],
        "bench api": ["bench", "api", "--cold", "4", "--repeat", "4", "--distinct", "2",
                      "--records", "4", "--bulk", "4", "--clients", "1", "--concurrency", "2",
                      "--seconds", "20", "--json"],
    }  # fmt: skip


def test_every_command_with_json_prints_only_json(world: World, tmp_path: Path) -> None:
    commands = json_commands()
    with scratch_schema(PG_URL, prefix="clijson") as pg:
        table = runs(world, tmp_path, pg)
        assert set(table) == set(commands), "add the new command with --json to RUNS"
        for name, flag in commands.items():
            assert ("-" not in table[name]) == flag, name
        # a trust list to sign, verify and show
        trust = tmp_path / "list.json"
        world.ok("trustlist", "create", str(trust), "--operator", "A", "--territory", "EU")
        order = ["trustlist keygen", "trustlist sign"] + [
            n for n in table if n not in ("trustlist keygen", "trustlist sign", "store migrate")
        ]
        order.append("store migrate")  # last: the store holds everything made above
        for name in order:
            # a second deploy goes to a data directory of its own (this one names a registry)
            other = {"REGISTRY_DATA_DIR": str(tmp_path / "other")} if name == "deploy" else {}
            done = world.run(*table[name], **other)
            assert "Traceback" not in done.stderr, (name, done.stderr)
            assert done.returncode in (0, 1, 4), (name, done.returncode, done.stderr)
            try:
                shown = json.loads(done.stdout)
            except ValueError:
                pytest.fail(f"`registry {name} --json`: stdout is not one JSON document:\n"
                            f"{done.stdout[:2000]}")  # fmt: skip
            if name == "trustlist keygen":
                table["trustlist verify"] += ["--trust-list-key", shown["multikey"]]
