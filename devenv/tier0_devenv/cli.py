"""`python -m tier0_devenv up|down|status|watch`: the commands behind `make up/down/status`.

Plain lines for people (a progress line per component, then a table) rather than
JSON logs: this is a terminal tool, and its daemons' own logs are the structured ones
(under <run_dir>/logs). Exit codes: 0 done, 1 a component failed, 2 bad settings.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence

from pydantic import ValidationError

from . import stack
from .processes import DevenvError, Supervisor
from .settings import DevenvSettings
from .steps import Row
from .watch import BackoffPolicy, Watcher

HEADERS = ("NAME", "PID", "URL", "STATUS", "RESTARTS")


def _say(line: str) -> None:
    print(f"[tier0] {line}", flush=True)


def format_table(rows: Sequence[Row]) -> str:
    cells = [HEADERS] + [
        (
            row.name,
            "-" if row.pid is None else str(row.pid),
            row.url or "-",
            row.status,
            "-" if row.restarts is None else str(row.restarts),
        )
        for row in rows
    ]
    widths = [max(len(cell[i]) for cell in cells) for i in range(len(HEADERS))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in cells
    )


def _up(settings: DevenvSettings) -> int:
    _say(f"run folder {settings.run_dir} (logs in {settings.run_dir / 'logs'})")
    try:
        rows = list(stack.up(settings, _say))
    except DevenvError as exc:
        print(f"\n[tier0] FAILED: {exc}", file=sys.stderr, flush=True)
        print("[tier0] what started keeps running; `make down` stops it", file=sys.stderr)
        return 1
    print()
    print(format_table(rows))
    notes = stack.notes(settings)
    if notes:
        # Unprefixed, so the export lines can be pasted into a shell as they are.
        print("\n" + "\n".join(notes))
    return 0


def _down(settings: DevenvSettings) -> int:
    stopped = stack.down(settings, _say)
    _say(f"stopped {len(stopped)} process(es)")
    return 0


def _status(settings: DevenvSettings) -> int:
    rows = stack.status(settings)
    print(format_table(rows))
    return 1 if any(row.status == "UNHEALTHY" for row in rows) else 0


def _watch(settings: DevenvSettings) -> int:
    """Run the watcher until SIGTERM (`make down` stops it first, newest first)."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    policy = BackoffPolicy(
        settings.restart_backoff_first,
        settings.restart_backoff_limit,
        settings.restart_backoff_reset,
    )
    watcher = Watcher(Supervisor(settings.run_dir), stack.watched_specs(settings), policy)
    watcher.run(stop, settings.watch_interval)
    return 0


COMMANDS = {"up": _up, "down": _down, "status": _status, "watch": _watch}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tier0_devenv",
        description="Run tier0 locally as processes; settings come from TIER0_* variables "
        "(docs/local.md).",
    )
    parser.add_argument("command", choices=sorted(COMMANDS))
    args = parser.parse_args(argv)
    try:
        settings = DevenvSettings()
    except ValidationError as exc:
        print(f"[tier0] bad settings:\n{exc}", file=sys.stderr)
        return 2
    try:
        return COMMANDS[args.command](settings)
    except DevenvError as exc:
        print(f"[tier0] {exc}", file=sys.stderr)
        return 1
