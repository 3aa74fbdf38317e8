"""`registry node`: a persistent local anvil node run in the foreground, its state saved on
exit and reloaded on start. SIGTERM or SIGINT stops it cleanly (anvil writes its state)."""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path

from registry.chain.devnode import AnvilNode, start_anvil
from registry.errors import ChainUnavailable


def run_local_node(
    *,
    port: int,
    state_path: Path,
    block_time: float | None,
    on_started: Callable[[str], None],
) -> None:
    """Run anvil until SIGTERM or SIGINT (forwarded once; a second signal kills it), calling
    `on_started(url)` once it answers. ChainUnavailable if anvil stopped by itself or was
    killed (its state file may then be stale)."""
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
        node = started[0]
        if signals_seen:  # asked to stop while anvil was starting
            node.process.send_signal(signals_seen[0])
        else:
            on_started(node.url)
        code = node.process.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for running in started:
            running.stop()
    if not signals_seen:
        raise ChainUnavailable(f"anvil stopped by itself (exit code {code})")
    if code != 0:
        raise ChainUnavailable(f"anvil was killed (exit code {code}); {state_path} may be stale")
