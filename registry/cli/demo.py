"""`registry demo`: the whole story on the embedded chain, in readable steps."""

from __future__ import annotations

import typer

from registry.cli.common import console


def demo() -> None:
    """Run the demo on an in-memory chain: deploy, two agencies, batches, the verdicts (valid,
    tampered, redacted, superseded, untrusted, a receipt alone IN_FORCE), then the v2 attacks:
    front-running, a stolen transaction key, the authority's compromise mark and move.

    Example: registry demo
    """
    from registry.demo import run_demo

    step = 0

    def say(text: str) -> None:
        nonlocal step
        step += 1
        console.print(f"[bold]{step:>2}.[/bold] {text}")

    outcome = run_demo(say)
    if outcome.as_expected:
        console.print("[green]Demo complete: every outcome as expected.[/green]")
    else:
        console.print(f"[red]Demo found a problem: {outcome.outcomes}[/red]")
        raise typer.Exit(1)
