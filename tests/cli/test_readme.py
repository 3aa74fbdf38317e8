"""The README's operator story ("Using a real node") runs as written, on a node it starts itself
with `registry node` (on a free port instead of 8545): each line in a shell of its own, in a
fresh folder, with the placeholders 0xDIGEST and 0xNEW replaced by the digests `registry issue`
printed for birth-0001 and birth-0002, as its text says."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import time
from pathlib import Path

import pytest

from registry.chain.devnode import free_port

ROOT = Path(__file__).resolve().parents[2]
SECTION = "## Using a real node"


def operator_lines() -> list[str]:
    """The command lines of the README's first shell block under SECTION (continuations
    joined, comments kept)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split(SECTION, 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    return [line for line in block.replace("\\\n", "").splitlines() if line.strip()]


def _command(line: str) -> str:
    """A line without its trailing comment (two spaces or more, then #)."""
    return re.sub(r"\s{2,}#.*$", "", line).strip()


def test_the_story_is_the_one_tested() -> None:
    commands = [_command(line) for line in operator_lines()]
    assert commands[0].startswith(".venv/bin/registry node --port 8545")
    assert ".venv/bin/registry verify receipts/birth-0001.sealed.json" in commands
    assert any(c.startswith(".venv/bin/registry revoke 0xDIGEST") for c in commands)


def _wait_for(port: int, node: subprocess.Popen[bytes], log: Path) -> None:
    import socket

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert node.poll() is None, log.read_text()
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    pytest.fail(f"`registry node` did not listen within 60 s:\n{log.read_text()}")


@pytest.mark.anvil
def test_readme_operator_story_runs_as_written(tmp_path: Path) -> None:
    port = free_port()
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
    env["REGISTRY_INSECURE_TEST_KDF"] = "1"  # cheap key files (tests/conftest.py)
    env.pop("COLUMNS", None)
    log = tmp_path / "node.log"
    node: subprocess.Popen[bytes] | None = None
    digests: dict[str, str] = {}
    try:
        for line in operator_lines():
            command = _command(line).replace("8545", str(port))
            if command.endswith("&"):
                node = subprocess.Popen(
                    ["bash", "-c", command[:-1].strip()],
                    cwd=tmp_path,
                    env=env,
                    stdout=log.open("ab"),
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
                _wait_for(port, node, log)
                continue
            if command.startswith("export "):
                name, _, value = command.removeprefix("export ").partition("=")
                env[name] = shlex.split(value)[0]
                continue
            command = command.replace("0xDIGEST", digests.get("birth-0001", "0xDIGEST"))
            command = command.replace("0xNEW", digests.get("birth-0002", "0xNEW"))
            done = subprocess.run(
                ["bash", "-c", command],
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                stdin=subprocess.DEVNULL,
                timeout=300,
            )
            shown = done.stdout + done.stderr
            assert done.returncode == 0, (command, shown)
            assert "Traceback" not in shown, (command, shown)
            if " issue " in command:
                for found in re.finditer(r"(0x[0-9a-f]{64})\s+receipts/(birth-\d+)\.sealed", shown):
                    digests[found.group(2)] = found.group(1)
                assert set(digests) == {"birth-0001", "birth-0002"}, shown
            if " verify " in command:
                assert "VALID — issued by Civil Registry Office" in done.stdout, shown
            if command.endswith(" status"):
                assert "registry.db" in done.stdout and "records" in done.stdout, shown
                assert "1 revoked" in done.stdout, shown
        assert sorted(p.name for p in (tmp_path / "receipts").iterdir()) == [
            "birth-0001.sealed.json",
            "birth-0002.sealed.json",
        ]
    finally:
        if node is not None and node.poll() is None:
            os.killpg(node.pid, signal.SIGTERM)
            node.wait(timeout=30)
