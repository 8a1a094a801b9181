"""The real single-node cluster for the `node` test tier, driven through its CLI.

The node is brought up with `python -m tier0_devenv.node up` in a pytest tmp dir and
torn down with `make cluster-down`, the same entry points people use. Host state
(sysctls, netfilter tables) is recorded here before `up`, independently of the
inventory the node keeps, so the teardown check does not trust the code it checks.
A missing prerequisite makes `up` fail its preflight with what to install; the
fixture turns that into a test failure carrying the message, never a skip.

Only one real node fits on a machine (kube-proxy's chains and the kubepods cgroups
are global), and a shared build machine may run several suites or a `make cluster`
at once, so a test module first takes the machine's node slot: an exclusive lock
among test sessions, then waiting (with a deadline, saying so) until no other node's
marker names a live work dir.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support.wait import wait_for
from tier0_devenv.k8s.binaries import bin_dir
from tier0_devenv.node import host
from tier0_devenv.node.inventory import SYSCTLS, read_sysctl
from tier0_devenv.node.layout import default_route_ip

REPO = Path(__file__).resolve().parents[2]
LOG_TAIL = 60
SLOT_LOCK = Path("/run/tier0-node-tests.lock")
#: How long a module waits for another suite's or a person's node to go away.
SLOT_WAIT_SECONDS = 1800.0


@contextmanager
def machine_slot(timeout: float = SLOT_WAIT_SECONDS) -> Iterator[None]:
    """Hold the machine's real-node slot for the duration of the block."""
    began = time.monotonic()
    with SLOT_LOCK.open("a") as lock:

        def locked() -> bool:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                return False

        if not locked():
            print(
                f"\n[node] waiting for another test session's node ({SLOT_LOCK})", file=sys.stderr
            )
            wait_for(locked, timeout, interval=2.0, what=f"the lock {SLOT_LOCK}")

        def no_other_node() -> bool:
            owner = host.claimed_by()
            return owner is None or not owner.exists()

        if not no_other_node():
            print(f"\n[node] waiting for the node of {host.claimed_by()} to go", file=sys.stderr)
            left = max(1.0, timeout - (time.monotonic() - began))
            wait_for(no_other_node, left, interval=2.0, what="the other real node to be taken down")
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def nft_tables() -> set[str]:
    out = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True).stdout
    return {line.strip() for line in out.splitlines() if line.strip()}


@dataclass
class HostState:
    """What the test checks `down` against: taken before `up`."""

    sysctls: dict[str, str | None] = field(default_factory=dict)
    tables: set[str] = field(default_factory=set)

    @classmethod
    def take(cls) -> HostState:
        return cls({name: read_sysctl(name) for name in SYSCTLS}, nft_tables())


@dataclass
class RealNode:
    workdir: Path
    env: dict[str, str]
    log: Path
    before: HostState
    node_ip: str = field(default_factory=default_route_ip)

    @property
    def kubeconfig(self) -> Path:
        return self.workdir / "k8s" / "kubeconfig"

    def cli(self, command: str, timeout: float = 1800.0) -> subprocess.CompletedProcess[str]:
        """Run `python -m tier0_devenv.node <command>`, its output appended to the log."""
        return self._logged([sys.executable, "-m", "tier0_devenv.node", command], timeout)

    def make(self, target: str, timeout: float = 600.0) -> subprocess.CompletedProcess[str]:
        return self._logged(["make", "--no-print-directory", target], timeout)

    def _logged(self, argv: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
        with self.log.open("a") as log:
            log.write(f"\n=== {' '.join(argv[-2:])}\n")
            log.flush()
            return subprocess.run(
                argv,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=timeout,
                cwd=REPO,
            )

    def log_tail(self) -> str:
        lines = self.log.read_text(errors="replace").splitlines()
        return "\n".join(lines[-LOG_TAIL:])

    def kubectl(self, *args: str, input: str | None = None, timeout: float = 60.0) -> str:
        result = subprocess.run(
            [str(bin_dir() / "kubectl"), f"--kubeconfig={self.kubeconfig}", *args],
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)}: {result.stderr.strip()}")
        return result.stdout

    def helm(self, *args: str, timeout: float = 300.0) -> str:
        helm_home = self.workdir / "k8s" / "helm"
        env = {
            **os.environ,
            "KUBECONFIG": str(self.kubeconfig),
            "HELM_CACHE_HOME": str(helm_home / "cache"),
            "HELM_CONFIG_HOME": str(helm_home / "config"),
            "HELM_DATA_HOME": str(helm_home / "data"),
        }
        result = subprocess.run(
            [str(bin_dir() / "helm"), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
        )
        if result.returncode != 0:
            raise AssertionError(f"helm {' '.join(args)}: {result.stdout[-1500:]}{result.stderr}")
        return result.stdout

    def get_json(self, *args: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.kubectl("get", *args, "-o", "json"))
        return data


def node_env(workdir: Path, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIER0_NODE_")}
    env["TIER0_NODE_WORKDIR"] = str(workdir)
    env.update({f"TIER0_NODE_{key.upper()}": value for key, value in settings.items()})
    return env


def start_node(workdir: Path, log: Path, **settings: str) -> RealNode:
    """`up` a node; fail the test with the CLI's output if it does not come up."""
    node = RealNode(workdir, node_env(workdir, **settings), log, HostState.take())
    result = node.cli("up")
    if result.returncode != 0:
        down = node.cli("down")
        pytest.fail(
            f"`python -m tier0_devenv.node up` failed (exit {result.returncode}; down exit "
            f"{down.returncode}); last lines of {log}:\n{node.log_tail()}",
            pytrace=False,
        )
    return node
