"""`make up` heals itself: kill -9 a component and the watcher starts it again, and
`make status` shows the restart (the real CLI, a real Mosquitto, free ports)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.servers import free_port
from tests.support.wait import wait_for
from tier0_devenv.processes import Supervisor, process_alive

pytestmark = pytest.mark.integration


def _run(command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tier0_devenv", command],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def _row(status: str, name: str) -> list[str]:
    return next(line.split() for line in status.splitlines() if line.startswith(f"{name} "))


def test_a_killed_component_is_restarted_and_counted(tmp_path: Path) -> None:
    run = tmp_path / "run"
    env = {
        **os.environ,
        "TIER0_RUN_DIR": str(run),
        "TIER0_COMPONENTS": "mosquitto,watch",
        "TIER0_MQTT_PORT": str(free_port()),
        "TIER0_RESTART_BACKOFF_FIRST": "0.5",
    }
    supervisor = Supervisor(run)
    try:
        up = _run("up", env)
        assert up.returncode == 0, up.stdout + up.stderr
        first = supervisor.owned_pid("mosquitto")
        assert first is not None and supervisor.owned_pid("watch") is not None
        assert _row(_run("status", env).stdout, "mosquitto")[-1] == "0"

        os.kill(first, signal.SIGKILL)

        def healed() -> list[str] | None:
            row = _row(_run("status", env).stdout, "mosquitto")
            return row if row[-2:] == ["healthy", "1"] and row[1] != str(first) else None

        wait_for(healed, 30, what="mosquitto restarted by the watcher")
        log = (run / "logs" / "watch.log").read_text()
        assert '"event": "crashed"' in log and '"event": "restarted"' in log
    finally:
        down = _run("down", env)
    assert down.returncode == 0, down.stdout + down.stderr
    assert "watch: stopped" in down.stdout, down.stdout
    assert "mosquitto: stopped" in down.stdout, down.stdout
    assert down.stdout.index("watch: stopped") < down.stdout.index("mosquitto: stopped")
    assert not any(process_alive(p) for p in (first,) if p)
