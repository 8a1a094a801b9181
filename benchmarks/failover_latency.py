"""Failover latency: RegionFailover creation -> EndpointSlices switched, vs a bare patch.

Runs on the local control plane (real kube-apiserver, EndpointSlice controller, kwok
pods) and compares, in the same run, interleaved, the same number of times each:

(a) the issue's comparison, both user actions through the same built kubectl:
    `kubectl create -f <RegionFailover>` vs `kubectl patch svc <Service>` (so both
    include kubectl's process start, config loading and discovery cache read);
(b) the API-level comparison: creating the RegionFailover with the Python client vs
    a merge patch of the Service's selector with the Python client.

Every measurement opens a watch of the Service's EndpointSlices first (from a listed
resourceVersion, established before the clock starts), starts the clock, acts, and
stops when a watch event makes the slices hold only ready pods of the target region
(the same judge the operator uses), read on a thread so the time is when the event
arrived. The four kinds take turns, and every other round the order flips, so each
kind moves the Service region1 -> region2 and back equally often: the operator runs
its failovers back and forth, like the bare patches.

    python -m benchmarks.failover_latency [--runs 50] [--keep-cluster]

Targets (issue 3): p50 <= 100 ms, p99 <= 250 ms, and p50 at most 1.5x the bare
patch's p50, for each comparison. Exits 1 when any target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tier0_common.failover_crd import GROUP, REQUESTED_AT_ANNOTATION, RF_PLURAL, VERSION
from tier0_common.rfc3339 import from_rfc3339, to_rfc3339
from tier0_devenv.k8s import ClusterPorts, LocalCluster
from tier0_operator.endpoints import judge_endpoints
from tier0_operator.kube import Kube, connect
from tier0_operator.selectors import selector_patch

REPO = Path(__file__).resolve().parents[1]
NAMESPACE = "bench"
SERVICE = "tier0-api"
LABEL = "tier0.io/region"
REGIONS = ("region1", "region2")
METRICS_PORT, HEALTH_PORT = 21090, 21091
TARGET_P50, TARGET_P99, TARGET_RATIO = 0.100, 0.250, 1.5
WARMUP_ROUNDS = 3
#: Phase breakdown from the operator's status.timestamps (same clock as latencySeconds).
PHASES = {
    "request -> decided": ("requestedAt", "decidedAt"),
    "decided -> selectors patched": ("decidedAt", "selectorsPatchedAt"),
    "patched -> EndpointSlices ready (operator)": ("selectorsPatchedAt", "endpointsReadyAt"),
}
KUBECTL_CREATE = "kubectl create -f <RegionFailover>"
KUBECTL_PATCH = "kubectl patch svc (bare)"
API_CREATE = "API: create RegionFailover"
API_PATCH = "API: patch Service selector (bare)"
#: (operator side, bare side) of each comparison, the issue's first.
COMPARISONS = {
    "(a) kubectl, as the issue states it": (KUBECTL_CREATE, KUBECTL_PATCH),
    "(b) API level, Python client": (API_CREATE, API_PATCH),
}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def measure(
    kube: Kube,
    pods: dict[str, frozenset[str]],
    target: str,
    act: Callable[[], None],
    *,
    namespace: str = NAMESPACE,
    service: str = SERVICE,
    timeout: int = 30,
) -> float:
    """Seconds from the start of `act()` to the EndpointSlices holding only `target` pods.

    The watch is established (response headers received) before the clock starts and
    is read on its own thread, so the end time is when the deciding event arrived,
    whatever `act` is still doing. benchmarks/real_failover.py times its real-node
    failovers with this same function.
    """
    selector = f"kubernetes.io/service-name={service}"
    listing = kube.raw(
        kube.discovery.list_namespaced_endpoint_slice, namespace, label_selector=selector
    )
    slices = {s["metadata"]["name"]: s for s in listing["items"]}
    response = kube.discovery.list_namespaced_endpoint_slice(
        namespace,
        label_selector=selector,
        resource_version=listing["metadata"]["resourceVersion"],
        watch=True,
        timeout_seconds=timeout,
        _preload_content=False,
    )
    switched_at: list[float] = []

    def follow() -> None:
        for line in response:
            event = json.loads(line)
            obj = event["object"]
            if event["type"] == "DELETED":
                slices.pop(obj["metadata"]["name"], None)
            elif event["type"] in ("ADDED", "MODIFIED"):
                slices[obj["metadata"]["name"]] = obj
            if judge_endpoints(slices.values(), pods[target]).switched:
                switched_at.append(time.perf_counter())
                return

    reader = threading.Thread(target=follow, daemon=True)
    reader.start()
    started = time.perf_counter()
    act()
    reader.join(timeout)
    response.close()
    response.release_conn()
    if not switched_at:
        raise RuntimeError(f"EndpointSlices never switched to {target}")
    return switched_at[0] - started


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.02)


def setup(cluster: LocalCluster) -> None:
    cluster.kubectl(
        "apply", "--server-side", "--force-conflicts", "-f", str(REPO / "charts/tier0/crds")
    )
    cluster.kubectl(
        "wait",
        "--for=condition=Established",
        "--timeout=60s",
        "crd/regionfailovers.tier0.io",
        "crd/failovergroups.tier0.io",
    )
    cluster.kubectl("create", "namespace", NAMESPACE)
    cluster.kubectl("-n", NAMESPACE, "apply", "-f", str(REPO / "operator/examples/local-demo.yaml"))
    group = REPO / "operator/examples/failovergroup.yaml"
    # The benchmark measures the Kubernetes path: no health URLs (no region APIs run
    # here), so the gates are the ready-pods and Deployment checks.
    text = "\n".join(
        line
        for line in group.read_text().splitlines()
        if "healthURL" not in line and "apiURL" not in line and "freshness" not in line
    )
    cluster.kubectl("-n", NAMESPACE, "apply", "-f", "-", input=text)


def start_operator(cluster: LocalCluster, log: Path, level: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        **cluster.env(),
        "WATCH_NAMESPACE": NAMESPACE,
        "OPERATOR_METRICS_PORT": str(METRICS_PORT),
        "OPERATOR_HEALTH_PORT": str(HEALTH_PORT),
        "LOG_LEVEL": level,
    }
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tier0_operator"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=REPO,
        )

    def ready() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"operator exited; see {log}")
        try:
            return (
                httpx.get(f"http://127.0.0.1:{HEALTH_PORT}/healthz", timeout=1).status_code == 200
            )
        except httpx.HTTPError:
            return False

    wait_until(ready, 60, "operator liveness")
    return proc


@dataclass
class Results:
    latency: dict[str, list[float]] = field(default_factory=dict)
    reported: dict[str, list[float]] = field(default_factory=dict)
    phases: dict[str, list[float]] = field(default_factory=lambda: {p: [] for p in PHASES})

    def add(self, kind: str, seconds: float) -> None:
        self.latency.setdefault(kind, []).append(seconds)


class Bench:
    """The four ways to move the Service, each measured the same way."""

    def __init__(self, cluster: LocalCluster, kube: Kube, workdir: Path) -> None:
        self.cluster = cluster
        self.kube = kube
        self.workdir = workdir
        self.env = {**os.environ, **cluster.env()}
        self.kubectl = [
            str(cluster.kubectl_path),
            "--cache-dir",
            str(workdir / "kubectl-cache"),
            "-n",
            NAMESPACE,
        ]
        self.count = 0

    def pods_of(self, region: str) -> frozenset[str]:
        listing = self.kube.raw(
            self.kube.core.list_namespaced_pod, NAMESPACE, label_selector=f"{LABEL}={region}"
        )
        return frozenset(p["metadata"]["name"] for p in listing["items"])

    def rfo(self, source: str, target: str) -> dict[str, Any]:
        self.count += 1
        return {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": "RegionFailover",
            "metadata": {"name": f"bench-{self.count}", "annotations": {}},
            "spec": {
                "group": SERVICE,
                "sourceRegion": source,
                "targetRegion": target,
                "reason": "benchmark",
            },
        }

    def _cli(self, *args: str) -> None:
        subprocess.run([*self.kubectl, *args], env=self.env, check=True, capture_output=True)

    def action(self, kind: str, source: str, target: str) -> tuple[Callable[[], None], str]:
        """The act to time and the RegionFailover it creates ("" for a bare patch)."""
        if kind == KUBECTL_PATCH:
            patch = json.dumps(selector_patch(LABEL, target))
            return lambda: self._cli("patch", "svc", SERVICE, "--type", "merge", "-p", patch), ""
        if kind == API_PATCH:
            return (
                lambda: self.kube.patch_service(NAMESPACE, SERVICE, selector_patch(LABEL, target)),
                "",
            )
        body = self.rfo(source, target)
        annotations = body["metadata"]["annotations"]
        if kind == KUBECTL_CREATE:
            path = self.workdir / f"{body['metadata']['name']}.json"

            def create_cli() -> None:
                annotations[REQUESTED_AT_ANNOTATION] = to_rfc3339(time.time())
                path.write_text(json.dumps(body))
                self._cli("create", "-f", str(path))

            return create_cli, body["metadata"]["name"]

        def create_api() -> None:
            annotations[REQUESTED_AT_ANNOTATION] = to_rfc3339(time.time())
            self.kube.custom.create_namespaced_custom_object(
                GROUP, VERSION, NAMESPACE, RF_PLURAL, body
            )

        return create_api, body["metadata"]["name"]

    def status_of(self, name: str) -> dict[str, Any]:
        obj = self.kube.raw(
            self.kube.custom.get_namespaced_custom_object,
            GROUP,
            VERSION,
            NAMESPACE,
            RF_PLURAL,
            name,
        )
        return dict(obj.get("status") or {})

    def run(self, runs: int) -> Results:
        pods = {r: self.pods_of(r) for r in REGIONS}
        results = Results()
        region = "region1"
        # Each round moves the Service four times and ends where it began; swapping the
        # pairs every other round sends each kind both ways equally often.
        orders = (
            (KUBECTL_CREATE, KUBECTL_PATCH, API_CREATE, API_PATCH),
            (KUBECTL_PATCH, KUBECTL_CREATE, API_PATCH, API_CREATE),
        )
        for round_ in range(runs + WARMUP_ROUNDS):
            counted = round_ >= WARMUP_ROUNDS
            for kind in orders[round_ % 2]:
                source, target = region, REGIONS[1 - REGIONS.index(region)]
                act, name = self.action(kind, source, target)
                seconds = measure(self.kube, pods, target, act)
                region = target
                if name:
                    # The next action must not race this failover's bookkeeping.
                    wait_until(
                        lambda name=name: self.status_of(name).get("phase") == "Completed",
                        30,
                        f"{name} Completed",
                    )
                    status = self.status_of(name)
                    if counted:
                        results.reported.setdefault(kind, []).append(status["latencySeconds"])
                        if kind == API_CREATE:
                            stamps = {k: from_rfc3339(v) for k, v in status["timestamps"].items()}
                            for phase, (start, end) in PHASES.items():
                                results.phases[phase].append(stamps[end] - stamps[start])
                if counted:
                    results.add(kind, seconds)
            print(
                f"\r[bench] round {round_ + 1}/{runs + WARMUP_ROUNDS}",
                end="",
                file=sys.stderr,
                flush=True,
            )
        print(file=sys.stderr)
        return results


def run(cluster: LocalCluster, runs: int, workdir: Path, log_level: str) -> int:
    setup(cluster)
    kube = connect(str(cluster.kubeconfig))
    operator = start_operator(cluster, workdir / "operator.log", log_level)
    try:
        bench = Bench(cluster, kube, workdir)
        wait_until(
            lambda: all(len(bench.pods_of(r)) == 2 for r in REGIONS), 60, "pods of both regions"
        )
        region1 = bench.pods_of("region1")
        wait_until(
            lambda: (
                judge_endpoints(
                    kube.raw(
                        kube.discovery.list_namespaced_endpoint_slice,
                        NAMESPACE,
                        label_selector=f"kubernetes.io/service-name={SERVICE}",
                    )["items"],
                    region1,
                ).switched
            ),
            60,
            "region1 endpoints ready",
        )
        load_before = os.getloadavg()
        results = bench.run(runs)
        load_after = os.getloadavg()
    finally:
        operator.terminate()
        operator.wait(15)
        kube.close()
    return report(results, runs, load_before, load_after)


def _row(label: str, values: list[float]) -> str:
    cells = [percentile(values, q) for q in (50, 95, 99)] + [max(values), statistics.fmean(values)]
    return f"{label:50} " + " ".join(f"{v * 1000:7.1f}ms" for v in cells)


def report(
    results: Results,
    runs: int,
    load_before: tuple[float, float, float],
    load_after: tuple[float, float, float],
) -> int:
    print(
        f"\nfailover latency, action -> EndpointSlices switched: {runs} runs of each kind, "
        f"interleaved, half in each direction"
    )
    print(
        f"machine: {platform.node()}, {os.cpu_count()} cores; load average (1/5/15 min) "
        f"before {'/'.join(f'{x:.2f}' for x in load_before)}, "
        f"after {'/'.join(f'{x:.2f}' for x in load_after)}"
    )
    print(f"{'path':50} {'p50':>9} {'p95':>9} {'p99':>9} {'max':>9} {'mean':>9}")
    for title, (operator_kind, bare_kind) in COMPARISONS.items():
        print(title)
        print(_row(f"  {operator_kind} (operator)", results.latency[operator_kind]))
        print(_row("    same, status.latencySeconds", results.reported[operator_kind]))
        print(_row(f"  {bare_kind}", results.latency[bare_kind]))
    print("operator phases (API-level runs, from status.timestamps)")
    for phase, values in results.phases.items():
        print(_row(f"  {phase}", values))
    ok_all = True
    for title, (operator_kind, bare_kind) in COMPARISONS.items():
        op, bare = results.latency[operator_kind], results.latency[bare_kind]
        p50, p99 = percentile(op, 50), percentile(op, 99)
        ratio = p50 / percentile(bare, 50)
        ratio99 = p99 / percentile(bare, 99)
        checks = [
            (f"p50 {p50 * 1000:.1f} ms <= {TARGET_P50 * 1000:.0f} ms", p50 <= TARGET_P50),
            (f"p99 {p99 * 1000:.1f} ms <= {TARGET_P99 * 1000:.0f} ms", p99 <= TARGET_P99),
            (f"p50 ratio to the bare patch {ratio:.2f}x <= {TARGET_RATIO}x", ratio <= TARGET_RATIO),
        ]
        print(f"{title} (p99 ratio, for information: {ratio99:.2f}x)")
        for text, ok in checks:
            print(f"  [{'PASS' if ok else 'MISS'}] {text}")
            ok_all = ok_all and ok
    return 0 if ok_all else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument(
        "--keep-cluster", action="store_true", help="leave the control plane running"
    )
    parser.add_argument(
        "--operator-log-level",
        default="WARNING",
        help="INFO logs each failover's steps_ms to WORKDIR/operator.log (costs some CPU)",
    )
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="tier0-bench-k8s-"))
    cluster = LocalCluster(workdir, ClusterPorts.free(), nodes=2, build=True)
    print(f"[bench] starting the local control plane in {workdir}", file=sys.stderr)
    cluster.start()
    try:
        code = run(cluster, args.runs, workdir, args.operator_log_level)
    finally:
        if not args.keep_cluster:
            cluster.stop()
    sys.exit(code)


if __name__ == "__main__":
    main()
