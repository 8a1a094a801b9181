"""Latency of the region API's heavy device endpoints with a full 100,000-device fleet.

Why a benchmark: these endpoints answer from RediSearch aggregates whose cost grows
with the fleet, and the seed promises p95 < 100 ms. The script starts its own Redis
(with the Query Engine, from the pinned wheels) and a real `python -m tier0_api`
process, writes the fleet exactly as ingest lays it out, then times sequential HTTP
requests and prints p50/p95/p99 per endpoint.

The per-site metrics are timed twice: cold (``max_age_seconds=0``, every request reads
Redis) and warm (the default: an answer up to 1 s old is reused), with the share of
warm requests that still read Redis, so a cache can never hide the cost of the query.
Warm requests are spaced ``--warm-interval-ms`` apart so that the run spans several
cache lifetimes and its percentiles include the refreshes.

    .venv/bin/python -m benchmarks.api_latency --devices 100000 --requests 200
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import redis

from tests.support.redis_data import fleet, write_devices
from tests.support.wait import wait_for
from tier0_common.catalog import DeviceState
from tier0_common.keys import ensure_device_index
from tier0_devenv import infra
from tier0_devenv.processes import Supervisor

ENDPOINTS = (
    "/api/devices/active",
    "/api/devices/alerts?limit=50",
    "/api/devices/alerts?limit=50&site_id=TX-BRAVO&device_type=turbine",
    "/api/devices/metrics/site/WY-ALPHA?max_age_seconds=0",
    "/api/devices/metrics/site/WY-ALPHA",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def state_of(index: int) -> DeviceState:
    """About 5% WARN and 1% ALERT, spread over the fleet."""
    if index % 100 == 0:
        return DeviceState.ALERT
    return DeviceState.WARN if index % 20 == 1 else DeviceState.OK


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200, help="per endpoint")
    parser.add_argument("--warmup", type=int, default=10, help="untimed requests per endpoint")
    parser.add_argument(
        "--warm-interval-ms",
        type=float,
        default=20.0,
        help="pause between requests of the cached (warm) per-site metrics",
    )
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="tier0-api-bench-"))
    redis_port, api_port = free_port(), free_port()
    procs: list[subprocess.Popen[bytes]] = []
    # The same supervised Redis (Query Engine + JSON) as `make up` and the test fixtures.
    supervisor = Supervisor(workdir)
    try:
        supervisor.start(infra.redis_specs(workdir, redis_port, name="redis-bench")[0])
        client = redis.Redis(port=redis_port, decode_responses=True, protocol=2)
        wait_for(client.ping, 15, what="redis to answer PING")
        ensure_device_index(client)
        start = time.perf_counter()
        now = time.time()
        write_devices(client, ((t, now) for t in fleet(args.devices, seen=now, state_of=state_of)))
        indexed = client.execute_command("FT.SEARCH", "idx:dev", "*", "LIMIT", "0", "0")[0]
        assert indexed == args.devices, f"index holds {indexed} of {args.devices} devices"
        print(f"loaded {args.devices} devices in {time.perf_counter() - start:.1f}s", flush=True)

        env = {
            **os.environ,
            "REDIS_PORT": str(redis_port),
            "API_HOST": "127.0.0.1",
            "API_PORT": str(api_port),
            "LOG_LEVEL": "WARNING",
            # Written once before the run; the window must cover the whole run.
            "ACTIVE_WINDOW_SECONDS": "3600",
        }
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "tier0_api"], env=env, stderr=subprocess.DEVNULL
            )
        )
        base = f"http://127.0.0.1:{api_port}"
        with httpx.Client(base_url=base, timeout=30) as http:
            wait_for(
                lambda: http.get("/health").status_code == 200, 30, what="the API to be healthy"
            )
            check = http.get("/api/devices/active").json()
            assert check["active_devices"] == args.devices, check
            load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
            print(f"machine: {platform.node()} {os.cpu_count()} cores, load average {load}")
            print(f"{'endpoint':<70} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}")
            for path in ENDPOINTS:
                for _ in range(args.warmup):
                    http.get(path).raise_for_status()
                samples = []
                fresh_reads = 0
                cached = path.endswith("/metrics/site/WY-ALPHA")
                for _ in range(args.requests):
                    if cached:
                        time.sleep(args.warm_interval_ms / 1000)  # pacing a client, not a wait
                    t0 = time.perf_counter()
                    response = http.get(path)
                    samples.append((time.perf_counter() - t0) * 1000)
                    response.raise_for_status()
                    if "/metrics/site/" in path:
                        fresh_reads += response.json()["age_seconds"] == 0
                note = ""
                if "/metrics/site/" in path:
                    note = f"  ({fresh_reads}/{args.requests} read Redis)"
                print(
                    f"{path:<70} {statistics.median(samples):8.1f} {percentile(samples, 95):8.1f}"
                    f" {percentile(samples, 99):8.1f} {max(samples):8.1f}{note}",
                    flush=True,
                )
            print(f"load average after the run: {os.getloadavg()[0]:.2f}")
    finally:
        supervisor.stop("redis-bench")
        for proc in reversed(procs):
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
