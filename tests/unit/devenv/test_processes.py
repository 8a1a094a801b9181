"""The supervisor starts, health-waits, records and stops real (tiny) processes.

The daemons here are `python -c` one-liners, so these tests need no server binaries
and run in a second, yet exercise real process groups, pidfiles and /proc checks.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from tests.support.servers import free_port
from tests.support.wait import wait_for
from tier0_devenv.processes import (
    BinaryMissing,
    CallableCheck,
    HttpCheck,
    PortInUse,
    ProcessRecord,
    ProcessSpec,
    StartFailed,
    Supervisor,
    TcpCheck,
    descendants,
    process_alive,
    process_start_ticks,
)

PAUSE = "import signal; signal.pause()"


def _listener(port: int) -> str:
    return (
        "import signal, socket; s = socket.socket(); "
        "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); "
        f"s.bind(('127.0.0.1', {port})); s.listen(); signal.pause()"
    )


@pytest.fixture
def supervisor(tmp_path: Path) -> Iterator[Supervisor]:
    sup = Supervisor(tmp_path / "run")
    yield sup
    for name in sup.recorded_names():
        sup.stop(name, timeout=5)


def test_start_waits_for_health_records_pid_and_stop_kills(supervisor: Supervisor) -> None:
    port = free_port()
    spec = ProcessSpec(
        "sleeper", [sys.executable, "-c", _listener(port)], ports=[port],
        health=TcpCheck("127.0.0.1", port),
    )  # fmt: skip
    rec, started = supervisor.start(spec)

    assert started
    assert TcpCheck("127.0.0.1", port)()
    on_disk = json.loads(supervisor.pid_path("sleeper").read_text())
    assert on_disk["pid"] == rec.pid
    assert on_disk["start_ticks"] == process_start_ticks(rec.pid)
    assert on_disk["cmdline"] == [sys.executable, "-c", _listener(port)]
    assert supervisor.log_path("sleeper").exists()
    assert supervisor.status("sleeper", spec.health).healthy is True

    assert supervisor.stop("sleeper")
    assert not process_alive(rec.pid)
    assert not supervisor.pid_path("sleeper").exists()
    assert supervisor.status("sleeper").running is False


def test_env_and_cwd_reach_the_process_and_output_goes_to_the_log(
    supervisor: Supervisor, tmp_path: Path
) -> None:
    code = (
        "import os, sys; print('region', os.environ['REGION'], os.getcwd()); sys.stdout.flush(); "
    )
    spec = ProcessSpec(
        "echo", [sys.executable, "-c", code + PAUSE], env={"REGION": "region2"}, cwd=tmp_path,
        health=CallableCheck(lambda: "region region2" in supervisor.log_path("echo").read_text(), "log"),
    )  # fmt: skip
    supervisor.start(spec)
    assert f"region region2 {tmp_path}" in supervisor.log_path("echo").read_text()


def test_http_health_check(supervisor: Supervisor, tmp_path: Path) -> None:
    port = free_port()
    spec = ProcessSpec(
        "http", [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port)],
        cwd=tmp_path, health=HttpCheck(f"http://127.0.0.1:{port}/"),
    )  # fmt: skip
    rec, _ = supervisor.start(spec)
    assert HttpCheck(f"http://127.0.0.1:{port}/")()
    assert not HttpCheck(f"http://127.0.0.1:{port}/missing")()
    supervisor.stop("http")
    assert not process_alive(rec.pid)


def test_stop_kills_children_that_left_the_process_group(supervisor: Supervisor) -> None:
    # The child starts a grandchild in a new session, as Erlang's helpers do.
    code = (
        "import subprocess, sys, signal; "
        f"subprocess.Popen([sys.executable, '-c', {PAUSE!r}], start_new_session=True); "
        "signal.pause()"
    )
    rec, _ = supervisor.start(ProcessSpec("parent", [sys.executable, "-c", code]))

    def escaped() -> list[int]:
        # Only once the grandchild has called setsid is it outside the group.
        return [p for p in descendants(rec.pid) if os.getpgid(p) != os.getpgid(rec.pid)]

    children = wait_for(escaped, 10, what="a grandchild in its own session")

    supervisor.stop("parent")
    wait_for(lambda: not any(process_alive(p) for p in children), 5, what="grandchild gone")


def test_start_is_idempotent_while_healthy(supervisor: Supervisor) -> None:
    port = free_port()
    spec = ProcessSpec(
        "once", [sys.executable, "-c", _listener(port)], ports=[port],
        health=TcpCheck("127.0.0.1", port),
    )  # fmt: skip
    first, started_first = supervisor.start(spec)
    second, started_second = supervisor.start(spec)
    assert (started_first, started_second) == (True, False)
    assert second.pid == first.pid
    # A second supervisor on the same run folder (a second `make up`) agrees.
    third, started_third = Supervisor(supervisor.run_dir).start(spec)
    assert (third.pid, started_third) == (first.pid, False)


def test_alive_but_unhealthy_process_is_restarted(supervisor: Supervisor) -> None:
    healthy = [True]
    spec = ProcessSpec(
        "flaky", [sys.executable, "-c", PAUSE], health=CallableCheck(lambda: healthy[0], "flag")
    )
    first, _ = supervisor.start(spec)
    healthy[0] = False
    with pytest.raises(StartFailed):
        supervisor.start(replace(spec, start_timeout=0.3))
    assert not process_alive(first.pid)
    healthy[0] = True
    second, started = supervisor.start(spec)
    assert started and second.pid != first.pid


def test_health_timeout_quotes_the_last_20_log_lines(supervisor: Supervisor) -> None:
    supervisor.logs_dir.mkdir(parents=True)
    supervisor.log_path("stuck").write_text("".join(f"line {i}\n" for i in range(1, 31)))
    spec = ProcessSpec(
        "stuck", [sys.executable, "-c", PAUSE],
        health=CallableCheck(lambda: False, "never ready"), start_timeout=0.3,
    )  # fmt: skip
    with pytest.raises(StartFailed) as info:
        supervisor.start(spec)
    message = str(info.value)
    assert "stuck did not become healthy within 0.3s (never ready)" in message
    assert "line 30" in message and "line 12" in message
    assert "line 11\n" not in message
    assert supervisor.record("stuck") is None


def test_exit_during_start_up_reports_code_and_log(supervisor: Supervisor) -> None:
    code = "import sys; print('bad config: listener'); sys.exit(3)"
    spec = ProcessSpec(
        "crash", [sys.executable, "-c", code], health=CallableCheck(lambda: False, "x")
    )
    with pytest.raises(StartFailed, match=r"(?s)crash exited with code 3.*bad config: listener"):
        supervisor.start(spec)


def test_port_in_use_names_the_holder(supervisor: Supervisor) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        spec = ProcessSpec("mosquitto", [sys.executable, "-c", PAUSE], ports=[port])
        with pytest.raises(PortInUse) as info:
            supervisor.start(spec)
    message = str(info.value)
    assert message.startswith(f"port {port} is in use by pid {os.getpid()} (")
    assert message.endswith("run `make down` or free it")
    assert supervisor.record("mosquitto") is None


@pytest.mark.parametrize("program", ["/nonexistent/bin/mosquitto", "mosquitto-not-installed"])
def test_missing_binary_says_how_to_install(supervisor: Supervisor, program: str) -> None:
    with pytest.raises(BinaryMissing) as info:
        supervisor.start(ProcessSpec("mosquitto", [program]))
    assert str(info.value) == f"{Path(program).name} not found: run scripts/install.sh"


def test_stop_never_signals_a_process_it_did_not_start(supervisor: Supervisor) -> None:
    stranger = subprocess.Popen([sys.executable, "-c", PAUSE])
    try:
        # A pidfile whose pid was recycled by an unrelated process: same pid, other cmdline.
        supervisor.pids_dir.mkdir(parents=True)
        fake = ProcessRecord(
            name="mosquitto", pid=stranger.pid,
            start_ticks=process_start_ticks(stranger.pid) or 0,
            cmdline=["/usr/sbin/mosquitto", "-c", "x.conf"], started_at=0.0, log="x.log",
        )  # fmt: skip
        supervisor.pid_path("mosquitto").write_text(fake.to_json())
        assert supervisor.owned_pid("mosquitto") is None
        assert supervisor.stop("mosquitto") is False
        assert stranger.poll() is None
        assert not supervisor.pid_path("mosquitto").exists()
    finally:
        stranger.send_signal(signal.SIGKILL)
        stranger.wait()


def test_stale_pidfile_is_replaced_on_start(supervisor: Supervisor) -> None:
    supervisor.pids_dir.mkdir(parents=True)
    dead = ProcessRecord("svc", 2**22 + 1, 1, ["gone"], 0.0, "x.log")
    supervisor.pid_path("svc").write_text(dead.to_json())
    rec, started = supervisor.start(ProcessSpec("svc", [sys.executable, "-c", PAUSE]))
    assert started and rec.pid != dead.pid


def test_a_process_is_owned_right_after_start(supervisor: Supervisor) -> None:
    """Popen returns before the kernel has set up the child's command line; reading it
    at once used to give [] (1 start in 6 on a loaded machine), and owned_pid then
    disowned the process it had just started."""
    spec = ProcessSpec("quick", [sys.executable, "-c", PAUSE])
    for _ in range(30):
        rec, _ = supervisor.start(spec)
        assert supervisor.owned_pid("quick") == rec.pid
        assert rec.cmdline == [sys.executable, "-c", PAUSE]
        supervisor.stop("quick")
