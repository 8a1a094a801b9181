"""A small supervisor for local daemons: start, health-wait, record, stop.

Why not systemd, supervisord or honcho: the build machines have no usable init for
user services, and the test suite needs the same start logic in-process (pytest
fixtures) as `make up` needs across CLI invocations. What matters here is narrow and
worth owning: every daemon runs in its own session (so it and its helpers can be
signalled together), writes stdout+stderr to ``<run_dir>/logs/<name>.log``, and is
recorded in ``<run_dir>/pids/<name>.pid`` with its kernel start time and command line,
so `down` only ever signals the very process `up` started, never a recycled pid or a
system service that happens to hold the same port.

Why one module of ~470 lines: the /proc readings (start ticks, command line, children,
port listeners) exist only to make those identity checks, and the supervisor, the
test fixtures and the real-node teardown (node/) import both halves together.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

LOG_TAIL_LINES = 20
_POLL_SECONDS = 0.1


class DevenvError(RuntimeError):
    """A failure the user can act on; the message says what to do."""


class BinaryMissing(DevenvError):
    pass


class PortInUse(DevenvError):
    pass


class StartFailed(DevenvError):
    pass


class HealthCheck(Protocol):
    """Answers "is it serving yet?"; ``str()`` describes what it probes, for errors."""

    def __call__(self) -> bool: ...


@dataclass(frozen=True)
class TcpCheck:
    host: str
    port: int
    timeout: float = 1.0

    def __call__(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=self.timeout):
                return True
        except OSError:
            return False

    def __str__(self) -> str:
        return f"tcp {self.host}:{self.port}"


@dataclass(frozen=True)
class HttpCheck:
    url: str
    timeout: float = 2.0

    def __call__(self) -> bool:
        try:
            with urllib.request.urlopen(self.url, timeout=self.timeout) as response:
                return 200 <= int(response.status) < 300
        except (OSError, http.client.HTTPException, ValueError):
            return False

    def __str__(self) -> str:
        return f"GET {self.url}"


@dataclass(frozen=True)
class CallableCheck:
    probe: Callable[[], bool]
    description: str

    def __call__(self) -> bool:
        try:
            return bool(self.probe())
        except Exception:  # noqa: BLE001 - a probe racing a starting server may raise anything
            return False

    def __str__(self) -> str:
        return self.description


@dataclass(frozen=True)
class ProcessSpec:
    """What to run and how to tell it is ready.

    ``ports`` are checked free before start; ``prepare`` writes config and data folders
    just before a fresh start (never while a healthy instance runs); ``url`` is where
    it serves, for people reading `make status`.
    """

    name: str
    argv: Sequence[str]
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    ports: Sequence[int] = ()
    health: HealthCheck | None = None
    start_timeout: float = 30.0
    stop_timeout: float = 15.0
    install_hint: str = "run scripts/install.sh"
    prepare: Callable[[], None] | None = None
    url: str = ""
    #: Stopping signals every descendant too (helpers that left the group, such as
    #: RabbitMQ's). False for a process whose children are daemons with pidfiles of
    #: their own (the watcher), which `down` stops in their turn.
    stop_descendants: bool = True


@dataclass(frozen=True)
class ProcessRecord:
    """The pidfile: enough to recognise the process later, across CLI invocations."""

    name: str
    pid: int
    start_ticks: int
    cmdline: list[str]
    started_at: float
    log: str
    stop_descendants: bool = True

    def to_json(self) -> str:
        return json.dumps(self.__dict__, indent=2)

    @classmethod
    def from_json(cls, text: str) -> ProcessRecord:
        data = json.loads(text)
        return cls(
            name=str(data["name"]),
            pid=int(data["pid"]),
            start_ticks=int(data["start_ticks"]),
            cmdline=[str(part) for part in data["cmdline"]],
            started_at=float(data["started_at"]),
            log=str(data["log"]),
            stop_descendants=bool(data.get("stop_descendants", True)),
        )


@dataclass(frozen=True)
class ProcessStatus:
    name: str
    pid: int | None
    running: bool
    healthy: bool | None
    log: Path


# --- /proc helpers -------------------------------------------------------------------


def _stat_fields(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name (which may contain spaces)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2 :].split()


def process_start_ticks(pid: int) -> int | None:
    fields = _stat_fields(pid)
    # starttime is field 22 of stat; fields[0] here is field 3 (state).
    return int(fields[19]) if fields else None


def process_alive(pid: int) -> bool:
    """True for a live process; zombies count as dead (nothing reaps them in containers)."""
    fields = _stat_fields(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def process_cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def _settled_cmdline(pid: int, fallback: list[str], timeout: float = 2.0) -> list[str]:
    """The command line once the exec finished. Popen returns when the child's
    close-on-exec pipe closes, which the kernel does before it sets up the new
    program's arguments: read at once, /proc/<pid>/cmdline can still be empty
    (measured: 50 of 300 starts on a loaded 2-core machine). Those made
    test_alive_but_unhealthy_process_is_restarted and
    test_reap_stops_servers_of_dead_sessions_only flaky."""
    deadline = time.monotonic() + timeout
    while True:
        cmdline = process_cmdline(pid)
        if cmdline or time.monotonic() >= deadline or not process_alive(pid):
            return cmdline or fallback
        time.sleep(0.01)


def _parent_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(int(entry.name))
        if fields:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    return children


def descendants(pid: int) -> list[int]:
    """Every live descendant, including helpers that left the process group (setsid)."""
    children = _parent_map()
    found: list[int] = []
    stack = list(children.get(pid, []))
    while stack:
        child = stack.pop()
        found.append(child)
        stack.extend(children.get(child, []))
    return found


def _orphans_of(rec: ProcessRecord) -> list[int]:
    """Members of a dead leader's process group that it started (e.g. a VM behind a
    wrapper script); a later start time than the leader's rules out recycled pids."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(int(entry.name))
        if (
            fields
            and fields[0] not in ("Z", "X")
            and int(fields[2]) == rec.pid
            and int(fields[19]) >= rec.start_ticks
        ):
            found.append(int(entry.name))
    return found


def _listening_inodes(port: int) -> set[str]:
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            local, state, inode = cols[1], cols[3], cols[9]
            if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                inodes.add(inode)
    return inodes


def port_listener(port: int) -> tuple[int | None, str] | None:
    """Who listens on TCP ``port``: (pid, command) or (None, "") if unknown; None if free."""
    inodes = _listening_inodes(port)
    if not inodes:
        return None
    targets = {f"socket:[{inode}]" for inode in inodes}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fds = list((entry / "fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(fd) in targets:
                    pid = int(entry.name)
                    return pid, " ".join(process_cmdline(pid))[:120]
            except OSError:
                continue
    return None, ""


def check_port_free(port: int) -> None:
    holder = port_listener(port)
    if holder is None:
        return
    pid, cmd = holder
    who = f"pid {pid} ({cmd})" if pid is not None else "another process"
    raise PortInUse(f"port {port} is in use by {who}; run `make down` or free it")


def resolve_binary(program: str, hint: str = "run scripts/install.sh") -> str:
    """Absolute path of ``program`` (a path or a name on PATH), or a BinaryMissing error."""
    if os.sep in program:
        if os.path.isfile(program) and os.access(program, os.X_OK):
            return program
        found = None
    else:
        found = shutil.which(program)
    if not found:
        raise BinaryMissing(f"{Path(program).name} not found: {hint}")
    return found


def tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        with path.open(errors="replace") as handle:
            return "".join(deque(handle, maxlen=lines))
    except OSError:
        return "(no log yet)\n"


# --- the supervisor ------------------------------------------------------------------


class Supervisor:
    """Starts and stops named daemons whose state lives under ``run_dir``."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.logs_dir = run_dir / "logs"
        self.pids_dir = run_dir / "pids"
        # Children started by this Python process, reaped on stop so no zombie lingers.
        self._children: dict[str, subprocess.Popen[bytes]] = {}

    def log_path(self, name: str) -> Path:
        return self.logs_dir / f"{name}.log"

    def pid_path(self, name: str) -> Path:
        return self.pids_dir / f"{name}.pid"

    def record(self, name: str) -> ProcessRecord | None:
        try:
            return ProcessRecord.from_json(self.pid_path(name).read_text())
        except (OSError, ValueError, KeyError):
            return None

    def recorded_names(self) -> list[str]:
        """Names with a pidfile, oldest start first."""
        records = [r for p in self.pids_dir.glob("*.pid") if (r := self.record(p.stem))]
        return [r.name for r in sorted(records, key=lambda r: r.started_at)]

    def owned_pid(self, name: str) -> int | None:
        """The recorded pid if that process is still the one we started, else None."""
        rec = self.record(name)
        if rec is None or not process_alive(rec.pid):
            return None
        if process_start_ticks(rec.pid) != rec.start_ticks:
            return None
        # Empty while the kernel is still setting up the exec (the pid and start time
        # already identify it): only a different command line disowns it.
        cmdline = process_cmdline(rec.pid)
        if cmdline and cmdline != rec.cmdline:
            return None
        return rec.pid

    def start(self, spec: ProcessSpec) -> tuple[ProcessRecord, bool]:
        """Start ``spec`` and wait until healthy. Returns (record, started_now).

        Idempotent: a recorded process that is alive and healthy is kept as it is; one
        that is alive but unhealthy is restarted; a stale record is discarded.
        """
        rec = self.record(spec.name)
        if rec is not None:
            if self.owned_pid(spec.name) is not None:
                if spec.health is None or spec.health():
                    return rec, False
                self.stop(spec.name, spec.stop_timeout)
            else:
                self.pid_path(spec.name).unlink(missing_ok=True)

        program = resolve_binary(spec.argv[0], spec.install_hint)
        for port in spec.ports:
            check_port_free(port)
        if spec.prepare is not None:
            spec.prepare()

        self.logs_dir.mkdir(parents=True, exist_ok=True)
        self.pids_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_path(spec.name)
        argv = [program, *spec.argv[1:]]
        with log_path.open("ab") as log:
            log.write(f"=== {time.strftime('%Y-%m-%dT%H:%M:%S')} start: {argv}\n".encode())
            log.flush()
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=spec.cwd,
                env={**os.environ, **spec.env},
                start_new_session=True,
            )
        self._children[spec.name] = proc
        rec = ProcessRecord(
            name=spec.name,
            pid=proc.pid,
            start_ticks=process_start_ticks(proc.pid) or 0,
            cmdline=argv,
            started_at=time.time(),
            log=str(log_path),
            stop_descendants=spec.stop_descendants,
        )
        self.pid_path(spec.name).write_text(rec.to_json())
        try:
            self._wait_healthy(spec, proc, log_path)
        except StartFailed:
            self.stop(spec.name, spec.stop_timeout)
            raise
        # Record the command line as the kernel reports it once running (an interpreter
        # may rewrite argv[0]), so the ownership check in `down` compares like with like.
        rec = ProcessRecord(**{**rec.__dict__, "cmdline": _settled_cmdline(proc.pid, argv)})
        self.pid_path(spec.name).write_text(rec.to_json())
        return rec, True

    def _wait_healthy(
        self, spec: ProcessSpec, proc: subprocess.Popen[bytes], log_path: Path
    ) -> None:
        deadline = time.monotonic() + spec.start_timeout
        while True:
            code = proc.poll()
            if code is not None:
                raise StartFailed(
                    f"{spec.name} exited with code {code} during start-up; last "
                    f"{LOG_TAIL_LINES} lines of {log_path}:\n{tail(log_path)}"
                )
            if spec.health is None or spec.health():
                return
            if time.monotonic() >= deadline:
                raise StartFailed(
                    f"{spec.name} did not become healthy within {spec.start_timeout:g}s "
                    f"({spec.health}); last {LOG_TAIL_LINES} lines of {log_path}:\n"
                    f"{tail(log_path)}"
                )
            time.sleep(_POLL_SECONDS)

    def stop(self, name: str, timeout: float = 15.0) -> bool:
        """Stop the recorded process and its helpers. Returns True if one was signalled.

        Only a process whose start time and command line match the pidfile is
        signalled; otherwise the pidfile is stale and is just removed.
        """
        pid = self.owned_pid(name)
        rec = self.record(name)
        # Gone before the signal: a watcher (tier0_devenv.watch) seeing the process die
        # must find no pidfile, or it would start it again behind this stop.
        self.pid_path(name).unlink(missing_ok=True)
        signalled = False
        if pid is not None:
            victims = [pid, *descendants(pid)] if rec is None or rec.stop_descendants else [pid]
            self._signal_all(pid, victims, signal.SIGTERM)
            signalled = True
            if not self._wait_gone(name, victims, timeout):
                self._signal_all(pid, victims, signal.SIGKILL)
                self._wait_gone(name, victims, 5.0)
        elif rec is not None and (orphans := _orphans_of(rec)):
            self._signal_all(rec.pid, orphans, signal.SIGKILL)
            self._wait_gone(name, orphans, 5.0)
            signalled = True
        child = self._children.pop(name, None)
        if child is not None:
            child.poll()
        self.pid_path(name).unlink(missing_ok=True)
        return signalled

    def _signal_all(self, pgid: int, victims: Iterable[int], sig: signal.Signals) -> None:
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            pass
        for pid in victims:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass

    def _wait_gone(self, name: str, victims: Sequence[int], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        child = self._children.get(name)
        while True:
            if child is not None:
                child.poll()
            if not any(process_alive(pid) for pid in victims):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(_POLL_SECONDS)

    def status(self, name: str, health: HealthCheck | None = None) -> ProcessStatus:
        pid = self.owned_pid(name)
        healthy = None if pid is None or health is None else bool(health())
        return ProcessStatus(name, pid, pid is not None, healthy, self.log_path(name))
