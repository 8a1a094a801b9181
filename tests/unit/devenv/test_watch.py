"""The watcher restarts a crashed daemon after a doubling back-off, leaves stopped ones
alone, and counts restarts for `make status` (real processes, a stepped clock)."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from tests.support.wait import wait_for
from tier0_devenv import watch
from tier0_devenv.processes import CallableCheck, ProcessSpec, Supervisor, process_alive
from tier0_devenv.watch import BackoffPolicy, Watcher

PAUSE = "import signal; signal.pause()"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _kill(supervisor: Supervisor, name: str) -> None:
    pid = supervisor.owned_pid(name)
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not process_alive(pid), 10, what=f"pid {pid} gone")


def test_a_killed_daemon_is_restarted_after_a_doubling_backoff(tmp_path: Path) -> None:
    supervisor = Supervisor(tmp_path)
    spec = ProcessSpec("pause", [sys.executable, "-c", PAUSE])
    clock = Clock()
    events: list[str] = []
    watcher = Watcher(
        supervisor, [spec], BackoffPolicy(first=1, limit=4, reset_after=10), clock=clock,
        log=lambda event, **_: events.append(event),
    )  # fmt: skip
    try:
        first, _ = supervisor.start(spec)
        assert watcher.check() == []

        _kill(supervisor, "pause")
        assert watcher.check() == []  # noticed; due in 1 s
        clock.now += 0.9
        assert watcher.check() == []
        clock.now += 0.2
        assert watcher.check() == ["pause"]
        second = supervisor.owned_pid("pause")
        assert second is not None and second != first.pid

        _kill(supervisor, "pause")  # again within reset_after: the delay doubled
        assert watcher.check() == []
        clock.now += 1.9
        assert watcher.check() == []
        clock.now += 0.2
        assert watcher.check() == ["pause"]

        clock.now += 11  # stayed up longer than reset_after: back to the first delay
        _kill(supervisor, "pause")
        watcher.check()
        clock.now += 1.1
        assert watcher.check() == ["pause"]
        assert watch.restarts(tmp_path) == {"pause": 3}
        assert watch.heartbeat_fresh(tmp_path)
        assert events.count("restarted") == 3 and events.count("crashed") == 3

        supervisor.stop("pause")  # what `down` stops is not brought back
        clock.now += 100
        assert watcher.check() == []
        assert supervisor.owned_pid("pause") is None
    finally:
        supervisor.stop("pause")


def test_a_daemon_that_fails_to_start_is_retried_with_a_longer_backoff(tmp_path: Path) -> None:
    supervisor = Supervisor(tmp_path)
    marker = tmp_path / "broken"
    # Exits at once while the marker exists, as a crash-looping component would.
    script = (
        f"import os, signal, sys; os.path.exists({str(marker)!r}) and sys.exit(3); signal.pause()"
    )
    spec = ProcessSpec(
        "loop", [sys.executable, "-c", script], start_timeout=10,
        health=CallableCheck(lambda: not marker.exists(), "no marker"),
    )  # fmt: skip
    clock = Clock()
    watcher = Watcher(
        supervisor, [spec], BackoffPolicy(first=1, limit=8, reset_after=60), clock=clock,
        log=lambda event, **_: None,
    )  # fmt: skip
    try:
        supervisor.start(spec)
        marker.touch()
        _kill(supervisor, "loop")
        watcher.check()
        clock.now += 1.1
        assert watcher.check() == []  # started, exited during start-up: failed
        state = watch.read_state(tmp_path)["components"]["loop"]
        assert state["restarts"] == 1 and "exited with code 3" in state["last_error"]
        assert state["restart_in"] == 2.0
        marker.unlink()
        clock.now += 2.1
        assert watcher.check() == ["loop"]
        assert watch.restarts(tmp_path) == {"loop": 2}
    finally:
        supervisor.stop("loop")


def test_a_deliberate_stop_while_a_restart_is_due_is_not_undone(tmp_path: Path) -> None:
    supervisor = Supervisor(tmp_path)
    spec = ProcessSpec("pause", [sys.executable, "-c", PAUSE])
    clock = Clock()
    watcher = Watcher(supervisor, [spec], BackoffPolicy(first=1), clock=clock,
                      log=lambda event, **_: None)  # fmt: skip
    try:
        supervisor.start(spec)
        _kill(supervisor, "pause")
        watcher.check()  # due in 1 s
        supervisor.stop("pause")  # someone stops it on purpose meanwhile
        clock.now += 2
        assert watcher.check() == []
        assert supervisor.owned_pid("pause") is None
    finally:
        supervisor.stop("pause")
