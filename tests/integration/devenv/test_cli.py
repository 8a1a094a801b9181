"""`python -m tier0_devenv up/status/down` against the real servers, as `make` runs it.

Only the infrastructure is selected (TIER0_COMPONENTS) so the test does not depend on
the application services, and every port is a free one so it never meets a running
`make up`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.servers import free_ports
from tier0_devenv.processes import Supervisor, descendants, port_listener, process_alive

pytestmark = pytest.mark.integration

INFRA = "mosquitto,rabbitmq,redis-region1,redis-region2"


def _run(command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tier0_devenv", command],
        env=env, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip


def test_up_status_down_leaves_nothing_running(tmp_path: Path) -> None:
    mqtt, amqp, dist, epmd, redis1, redis2 = ports = free_ports(6)
    env = {
        **os.environ,
        "TIER0_RUN_DIR": str(tmp_path / "run"),
        "TIER0_COMPONENTS": INFRA,
        "TIER0_MQTT_PORT": str(mqtt),
        "TIER0_AMQP_PORT": str(amqp),
        "TIER0_AMQP_DIST_PORT": str(dist),
        "TIER0_EPMD_PORT": str(epmd),
        "TIER0_REDIS1_PORT": str(redis1),
        "TIER0_REDIS2_PORT": str(redis2),
    }
    supervisor = Supervisor(tmp_path / "run")
    pids: list[int] = []
    try:
        up = _run("up", env)
        assert up.returncode == 0, up.stdout + up.stderr
        assert "mosquitto: started" in up.stdout

        again = _run("up", env)
        assert again.returncode == 0, again.stdout + again.stderr
        assert "started (" not in again.stdout
        assert again.stdout.count("already running") == 5

        status = _run("status", env)
        assert status.returncode == 0, status.stdout + status.stderr
        for name in ("mosquitto", "rabbitmq-epmd", "rabbitmq", "redis-region1", "redis-region2"):
            assert any(
                line.split()[0] == name and line.split()[-2] == "healthy"
                for line in status.stdout.splitlines()
            ), status.stdout
        for name in supervisor.recorded_names():
            leader = supervisor.owned_pid(name)
            assert leader is not None
            pids += [leader, *descendants(leader)]
    finally:
        down = _run("down", env)
    assert down.returncode == 0, down.stdout + down.stderr
    assert "stopped 5 process(es)" in down.stdout
    assert [pid for pid in pids if process_alive(pid)] == []
    assert [port for port in ports if port_listener(port) is not None] == []
    assert supervisor.recorded_names() == []
