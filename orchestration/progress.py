"""Terminal progress for runs started from the command line."""

import os
import time
from contextlib import contextmanager

from rich.console import Console

console = Console(stderr=True, highlight=False)
ENABLED = os.environ.get("QUOTALINK_PROGRESS", "1") != "0"


@contextmanager
def step(name: str):
    """Print a line when a pipeline step starts and when it ends, with its duration."""
    t0 = time.perf_counter()
    if ENABLED:
        console.print(f"[cyan]▶[/] {name} …")
    summary: dict = {}
    try:
        yield summary
    except Exception:
        if ENABLED:
            console.print(f"[red]✗[/] {name} failed after {time.perf_counter() - t0:.1f}s")
        raise
    if ENABLED:
        extra = ", ".join(f"{k} {v}" for k, v in summary.items())
        console.print(f"[green]✓[/] {name} ({time.perf_counter() - t0:.1f}s){': ' + extra if extra else ''}")


def skipped(context, name: str) -> None:
    """Say that a step was skipped: its inputs are those of its last success."""
    if ENABLED:
        console.print(f"[dim]·[/] {name} skipped: inputs unchanged since its last run")
    context.log.info(f"{name}: inputs unchanged since its last run, skipped")


def replay(context, specs, done: dict, name: str):
    """Materialisations of a skipped multi-asset, with the metadata of its last real run."""
    import dagster as dg

    skipped(context, name)
    for spec in specs:
        meta = dict(done.get(spec.key.to_user_string(), {}))
        meta["skipped"] = True
        yield dg.MaterializeResult(asset_key=spec.key, metadata=meta)
