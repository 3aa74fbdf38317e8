"""Start and stop a local anvil node (npm `@foundry-rs/anvil`): for tests, benchmarks and
`registry node` (a persistent single-machine chain with its state file)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from registry.errors import ChainUnavailable

_HERE = Path(__file__).resolve()


def find_anvil() -> Path:
    """The anvil binary: $REGISTRY_ANVIL, contracts/node_modules/.bin/anvil of this checkout
    (or of the current directory), or `anvil` on PATH."""
    candidates: list[Path] = []
    if os.environ.get("REGISTRY_ANVIL"):
        candidates.append(Path(os.environ["REGISTRY_ANVIL"]))
    for base in (_HERE.parents[2], Path.cwd()):
        candidates.append(base / "contracts" / "node_modules" / ".bin" / "anvil")
    on_path = shutil.which("anvil")
    if on_path:
        candidates.append(Path(on_path))
    for candidate in candidates:
        if candidate.exists():
            return candidate
    raise ChainUnavailable(
        "anvil not found: run `bash scripts/setup.sh` (npm installs @foundry-rs/anvil into "
        "contracts/node_modules) or set REGISTRY_ANVIL to the binary"
    )


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class AnvilNode:
    """A running anvil process on 127.0.0.1."""

    process: subprocess.Popen[bytes]
    port: int
    state_path: Path | None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Stop the node gracefully (anvil writes its --state file on SIGTERM)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_anvil(
    *,
    port: int | None = None,
    state_path: Path | None = None,
    block_time: float | None = None,
    chain_id: int = 31337,
    timeout: float = 20.0,
    quiet: bool = True,
) -> AnvilNode:
    """Start anvil on 127.0.0.1 and wait until it answers JSON-RPC."""
    binary = find_anvil()
    port = port or free_port()
    args = [str(binary), "--host", "127.0.0.1", "--port", str(port), "--chain-id", str(chain_id)]
    if state_path is not None:
        state_path.parent.mkdir(parents=True, exist_ok=True)
        args += ["--state", str(state_path)]
    if block_time is not None:
        args += ["--block-time", str(block_time)]
    out = subprocess.DEVNULL if quiet else None
    process = subprocess.Popen(args, stdout=out, stderr=out, stdin=subprocess.DEVNULL)
    node = AnvilNode(process=process, port=port, state_path=state_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ChainUnavailable(
                f"anvil exited at start (code {process.returncode}); args: {args}"
            )
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return node
        except OSError:
            time.sleep(0.05)
    node.stop()
    raise ChainUnavailable(f"anvil did not open port {port} within {timeout:.0f}s")
