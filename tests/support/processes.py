"""Real service processes for end-to-end tests: ``python -m <module>`` with an
environment, a log file, a readiness wait and a stop that never leaves them behind."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.support.servers import Endpoint
from tests.support.wait import wait_for

#: Variables that would make a child process reach real clusters or paid APIs.
SCRUBBED = ("KUBECONFIG", "KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT", "COHERE_API_KEY")


def child_env(home: Path, extra: Mapping[str, str]) -> dict[str, str]:
    """The test's environment without cluster or API credentials, HOME moved to an
    empty folder (no ~/.kube/config), and the given variables on top."""
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
    home.mkdir(parents=True, exist_ok=True)
    env["HOME"] = str(home)
    env.update(extra)
    return env


@dataclass
class Service:
    name: str
    module: str
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    def start(self, ready_url: str, timeout: float = 60.0) -> Service:
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", self.module], env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()

        def ready() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.process.returncode}: {self.log_tail()}"
                )
            return httpx.get(ready_url, timeout=2.0).status_code == 200

        try:
            wait_for(ready, timeout, interval=0.2, what=f"{self.name} at {ready_url}")
        except BaseException:
            self.stop()
            raise
        return self

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def run_module(module: str, args: list[str], env: dict[str, str], timeout: float) -> str:
    """Run ``python -m module args`` to completion; its output on failure."""
    done = subprocess.run(
        [sys.executable, "-m", module, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"python -m {module} {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
        )
    return done.stdout


def start_region_api(
    workdir: Path, redis: Endpoint, region: str, port: int, **extra: str
) -> Service:
    """``python -m tier0_api`` for `region` on 127.0.0.1:`port`, as a pod runs it (no
    Kubernetes credentials, failover endpoints off), started and Ready."""
    env = child_env(
        workdir / f"home-{region}",
        {
            "REGION": region,
            **redis.redis_env(),
            "API_HOST": "127.0.0.1",
            "API_PORT": str(port),
            "FAILOVER_ENABLED": "false",
            "LOG_LEVEL": "WARNING",
            **extra,
        },
    )
    service = Service(f"api-{region}", "tier0_api", env, workdir / f"api-{region}-{port}.log")
    return service.start(f"http://127.0.0.1:{port}/health/ready")
