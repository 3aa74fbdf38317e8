"""Start and stop local development nodes: anvil (npm `@foundry-rs/anvil`) for tests,
benchmarks and `registry node` (a persistent single-machine chain with its state file), and
Hardhat's node (npm `hardhat`, on EDR) as a second, independent JSON-RPC implementation."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from registry.errors import ChainUnavailable

_HERE = Path(__file__).resolve()
DEV_CHAIN_ID = 31337


def _node_modules_dirs() -> list[Path]:
    """contracts/node_modules of this checkout and of the current directory."""
    return [base / "contracts" / "node_modules" for base in (_HERE.parents[2], Path.cwd())]


def find_anvil() -> Path:
    """The anvil binary: $REGISTRY_ANVIL, the platform binary that npm installed under
    contracts/node_modules of this checkout (or of the current directory), or `anvil` on PATH.

    The platform binary comes before the npm launcher `.bin/anvil`: the launcher is a node
    process that, on SIGTERM, forwards the signal and exits at once, before anvil has written
    its --state file; waiting on it would not wait for anvil."""
    candidates: list[Path] = []
    if os.environ.get("REGISTRY_ANVIL"):
        candidates.append(Path(os.environ["REGISTRY_ANVIL"]))
    for modules in _node_modules_dirs():
        candidates += sorted(modules.glob("@foundry-rs/anvil-*/bin/anvil"))
        candidates.append(modules / ".bin" / "anvil")
    on_path = shutil.which("anvil")
    if on_path:
        candidates.append(Path(on_path))
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise ChainUnavailable(
        "anvil not found: run `bash scripts/setup.sh` (npm installs @foundry-rs/anvil into "
        "contracts/node_modules) or set REGISTRY_ANVIL to the binary"
    )


def find_hardhat() -> Path:
    """Hardhat's command line: $REGISTRY_HARDHAT (a `node_modules/.bin/hardhat`), or
    contracts/node_modules/.bin/hardhat of this checkout (or of the current directory)."""
    candidates: list[Path] = []
    if os.environ.get("REGISTRY_HARDHAT"):
        candidates.append(Path(os.environ["REGISTRY_HARDHAT"]))
    candidates += [modules / ".bin" / "hardhat" for modules in _node_modules_dirs()]
    for candidate in candidates:
        if candidate.exists():
            return candidate
    raise ChainUnavailable(
        "hardhat not found: run `bash scripts/setup.sh` (npm installs hardhat into "
        "contracts/node_modules) or set REGISTRY_HARDHAT to its .bin/hardhat"
    )


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class DevNode:
    """A running development node process on 127.0.0.1."""

    process: subprocess.Popen[bytes]
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the node with SIGTERM and wait for it; SIGKILL after `timeout` seconds."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass
class AnvilNode(DevNode):
    """A running anvil process; it writes its --state file when it stops on SIGTERM/SIGINT."""

    state_path: Path | None = None


@dataclass
class HardhatNode(DevNode):
    """A running Hardhat node (EDR), configured by a generated file in `config_dir`."""

    config_dir: Path | None = None

    def stop(self, timeout: float = 10.0) -> None:
        super().stop(timeout)
        if self.config_dir is not None:
            shutil.rmtree(self.config_dir, ignore_errors=True)


def start_anvil(
    *,
    port: int | None = None,
    state_path: Path | None = None,
    block_time: float | None = None,
    chain_id: int = DEV_CHAIN_ID,
    timeout: float = 20.0,
    quiet: bool = True,
    own_session: bool = False,
) -> AnvilNode:
    """Start anvil on 127.0.0.1 and wait until it answers eth_chainId.

    `own_session` puts anvil in a session of its own, so that a terminal's Ctrl-C reaches
    only the caller, which then stops anvil once (`registry node` does)."""
    binary = find_anvil()
    port = port or free_port()
    args = [str(binary), "--host", "127.0.0.1", "--port", str(port), "--chain-id", str(chain_id)]
    if state_path is not None:
        state_path.parent.mkdir(parents=True, exist_ok=True)
        args += ["--state", str(state_path)]
    if block_time is not None:
        args += ["--block-time", str(block_time)]
    out = subprocess.DEVNULL if quiet else None
    process = subprocess.Popen(
        args, stdout=out, stderr=out, stdin=subprocess.DEVNULL, start_new_session=own_session
    )
    node = AnvilNode(process=process, port=port, state_path=state_path)
    _wait_until_answering(node, what="anvil", chain_id=chain_id, timeout=timeout)
    return node


def start_hardhat(
    *,
    port: int | None = None,
    chain_id: int = DEV_CHAIN_ID,
    timeout: float = 60.0,
    quiet: bool = True,
) -> HardhatNode:
    """Start Hardhat's node (`hardhat node`, EDR) on 127.0.0.1 and wait until it answers
    eth_chainId. Its config is a generated file in a temporary directory (nothing to
    compile: the registry deploys its committed artifact); the node keeps no state."""
    binary = find_hardhat()
    port = port or free_port()
    config_dir = Path(tempfile.mkdtemp(prefix="registry-hardhat-"))
    config = config_dir / "hardhat.config.js"
    config.write_text(
        f"module.exports = {{ networks: {{ hardhat: {{ chainId: {int(chain_id)} }} }} }};\n"
    )
    args = [
        str(binary),
        "--config",
        str(config),
        "node",
        "--hostname",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    out = subprocess.DEVNULL if quiet else None
    # Hardhat refuses to run from an installation that is not local to its working directory:
    # run it from the directory that holds node_modules/.bin/hardhat.
    cwd = binary.parents[2]
    env = {**os.environ, "HARDHAT_DISABLE_TELEMETRY_PROMPT": "true"}
    process = subprocess.Popen(
        args, stdout=out, stderr=out, stdin=subprocess.DEVNULL, cwd=cwd, env=env
    )
    node = HardhatNode(process=process, port=port, config_dir=config_dir)
    _wait_until_answering(node, what="hardhat node", chain_id=chain_id, timeout=timeout)
    return node


def _wait_until_answering(node: DevNode, *, what: str, chain_id: int, timeout: float) -> None:
    """Poll eth_chainId until the node answers `chain_id`; stop it and raise ChainUnavailable
    if it exits or does not answer within `timeout` seconds."""
    request = urllib.request.Request(
        node.url,
        data=json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if node.process.poll() is not None:
            node.stop()
            raise ChainUnavailable(
                f"{what} exited at start (code {node.process.returncode}); "
                f"args: {node.process.args!r}"
            )
        try:
            with direct.open(request, timeout=1.0) as answer:
                answered = int(json.load(answer)["result"], 16)
        except (OSError, ValueError, KeyError):  # not listening yet, or not answering JSON
            time.sleep(0.05)
            continue
        if answered == chain_id:
            return
        node.stop()
        raise ChainUnavailable(
            f"port {node.port} answers chain id {answered}, not {what}'s {chain_id}: "
            "another node holds the port"
        )
    node.stop()
    raise ChainUnavailable(f"{what} did not answer on port {node.port} within {timeout:.0f}s")
