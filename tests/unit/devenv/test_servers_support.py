"""The fixture helpers: endpoint URLs, free ports, and reaping servers of dead sessions."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from tests.support.servers import OWNER_FILE, Endpoint, free_ports, reap_abandoned
from tier0_devenv.processes import ProcessSpec, Supervisor, process_alive, process_start_ticks


def test_endpoint_urls_by_kind() -> None:
    assert Endpoint("127.0.0.1", 1883, "mqtt").url == "mqtt://127.0.0.1:1883"
    assert Endpoint("127.0.0.1", 5672, "amqp").url == "amqp://127.0.0.1:5672/%2F"
    assert Endpoint("127.0.0.1", 6379, "redis").url == "redis://127.0.0.1:6379/0"


def test_free_ports_are_distinct() -> None:
    ports = free_ports(5)
    assert len(set(ports)) == 5


def _session_dir(root: Path, name: str, owner_pid: int, owner_ticks: int | None) -> Supervisor:
    run = root / name / "tier0-run0"
    run.mkdir(parents=True)
    (run / OWNER_FILE).write_text(json.dumps({"pid": owner_pid, "start_ticks": owner_ticks}))
    supervisor = Supervisor(run)
    supervisor.start(ProcessSpec("server", [sys.executable, "-c", "import signal; signal.pause()"]))
    return supervisor


def test_reap_stops_servers_of_dead_sessions_only(tmp_path: Path) -> None:
    dead_owner = _session_dir(tmp_path, "pytest-1", 2**22 + 7, 1)
    live_owner = _session_dir(tmp_path, "pytest-2", os.getpid(), process_start_ticks(os.getpid()))
    dead_pid = dead_owner.owned_pid("server")
    live_pid = live_owner.owned_pid("server")
    try:
        reaped = reap_abandoned(tmp_path, "*/tier0-run*")
        assert reaped == [f"{dead_owner.run_dir}:server"]
        assert dead_pid is not None and not process_alive(dead_pid)
        assert live_pid is not None and process_alive(live_pid)
    finally:
        live_owner.stop("server")
        dead_owner.stop("server")
