"""Self-healing for `make up`: restart a crashed component with back-off, count restarts.

`make up` starts daemons and exits; nothing noticed when one died. The watcher is the
last process `make up` starts (`python -m tier0_devenv watch`): every WATCH_INTERVAL it
looks at each component `up` recorded, and one whose process is gone (crashed, killed,
OOM) is started again through the same Supervisor.start as `up` (same spec, same
health wait), after a back-off that doubles from RESTART_BACKOFF_FIRST to
RESTART_BACKOFF_LIMIT seconds and resets once the process stayed up for
RESTART_BACKOFF_RESET seconds -- a kubelet's CrashLoopBackOff, scaled to a laptop.
A component `down` stopped has no pidfile and is left alone.

Why our own loop rather than supervisord or process-compose: see docs/local.md
("Self-healing"). In short, both would have to become the parent of every daemon,
giving `make up` a start path of its own beside the one the pytest fixtures share
with it (tier0_devenv.processes); supervisord restarts a process that dies after
start-up at once, with no back-off and no readiness probe; process-compose has both
(a fixed back-off) but is a Go build. What the watcher adds is ~150 lines on top of the
Supervisor that already records, probes and stops every daemon.

Restart counts and the next back-off are written to ``<run_dir>/restarts.json`` on
every pass (atomically), which `make status` reads; its ``heartbeat`` is the
watcher's own health.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from .processes import (
    DevenvError,
    ProcessSpec,
    Supervisor,
    process_alive,
    process_start_ticks,
)

STATE_FILE: Final = "restarts.json"
#: The watcher is healthy while its heartbeat is younger than this.
HEARTBEAT_STALE_SECONDS: Final = 10.0


@dataclass(frozen=True)
class BackoffPolicy:
    first: float = 1.0
    limit: float = 60.0
    reset_after: float = 60.0


@dataclass
class Tracked:
    """What the watcher knows of one component."""

    restarts: int = 0
    delay: float = 0.0
    #: monotonic time of the last start the watcher saw or made
    started: float = 0.0
    #: monotonic time the next restart is due; None while the process runs
    due: float | None = None
    last_error: str = ""
    last_restart: float | None = None
    #: The last start was the watcher's own and failed (its pidfile is gone with it).
    retrying: bool = False


def _log(event: str, **fields: Any) -> None:
    """One JSON line on stdout (the Supervisor captures it into logs/watch.log)."""
    print(json.dumps({"event": event, "time": round(time.time(), 3), **fields}), flush=True)


class Watcher:
    def __init__(
        self,
        supervisor: Supervisor,
        specs: Sequence[ProcessSpec],
        policy: BackoffPolicy = BackoffPolicy(),
        *,
        clock: Callable[[], float] = time.monotonic,
        log: Callable[..., None] = _log,
    ) -> None:
        self.supervisor = supervisor
        self.specs = {spec.name: spec for spec in specs}
        self.policy = policy
        self.clock = clock
        self.log = log
        now = clock()
        self.tracked = {name: Tracked(delay=policy.first, started=now) for name in self.specs}

    @property
    def state_path(self) -> Path:
        return self.supervisor.run_dir / STATE_FILE

    def check(self) -> list[str]:
        """One pass: schedule crashed components, restart those that are due."""
        restarted = []
        now = self.clock()
        for name, spec in self.specs.items():
            track = self.tracked[name]
            if track.due is None:
                rec = self.supervisor.record(name)
                if rec is None:
                    continue  # never started, or stopped on purpose by `down`
                # Alive by pid and start time, not command line: a wrapper that is still
                # exec-ing (rabbitmq-server -> beam.smp) is being started, not crashed.
                if process_alive(rec.pid) and process_start_ticks(rec.pid) == rec.start_ticks:
                    continue
                if now - track.started >= self.policy.reset_after:
                    track.delay = self.policy.first
                track.due = now + track.delay
                track.delay = min(track.delay * 2, self.policy.limit)
                self.log("crashed", name=name, restart_in=round(track.due - now, 2))
            if now < track.due:
                continue
            if not track.retrying and self.supervisor.record(name) is None:
                # Stopped on purpose (`down`, a deliberate restart) while it was due.
                track.due = None
                self.log("restart_cancelled", name=name)
                continue
            track.restarts += 1
            track.last_restart = time.time()
            try:
                rec, _ = self.supervisor.start(spec)
            except DevenvError as exc:
                # A failed start is a crash of its own: back off further and retry.
                track.last_error = str(exc).splitlines()[0][:300]
                track.started = self.clock()
                track.due = track.started + track.delay
                track.delay = min(track.delay * 2, self.policy.limit)
                track.retrying = True
                self.log("restart_failed", name=name, error=track.last_error,
                         restart_in=round(track.due - track.started, 2))  # fmt: skip
                continue
            track.started = self.clock()
            track.due = None
            track.retrying = False
            track.last_error = ""
            restarted.append(name)
            self.log("restarted", name=name, pid=rec.pid, restarts=track.restarts)
        self.write_state()
        return restarted

    def write_state(self) -> None:
        now = self.clock()
        state = {
            "heartbeat": time.time(),
            "pid": os.getpid(),
            "components": {
                name: {
                    "restarts": track.restarts,
                    "last_restart": track.last_restart,
                    "restart_in": None if track.due is None else round(track.due - now, 2),
                    "last_error": track.last_error,
                }
                for name, track in self.tracked.items()
            },
        }
        tmp = self.state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2))
        tmp.replace(self.state_path)

    def run(self, stop: threading.Event, interval: float = 0.5) -> None:
        self.log("watching", components=sorted(self.specs), interval=interval,
                 backoff=vars(self.policy))  # fmt: skip
        while not stop.is_set():
            self.check()
            stop.wait(interval)


def read_state(run_dir: Path) -> dict[str, Any]:
    """restarts.json as the watcher last wrote it ({} when there is none)."""
    try:
        data = json.loads((run_dir / STATE_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def restarts(run_dir: Path) -> dict[str, int]:
    """Restarts per component name, for `make status`."""
    components = read_state(run_dir).get("components", {})
    return {name: int(entry.get("restarts", 0)) for name, entry in components.items()}


def heartbeat_fresh(run_dir: Path) -> bool:
    beat = read_state(run_dir).get("heartbeat")
    return isinstance(beat, (int, float)) and time.time() - beat < HEARTBEAT_STALE_SECONDS
