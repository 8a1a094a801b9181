"""Failover latency: RegionFailover creation -> EndpointSlices switched, vs a bare patch.

Runs on the local control plane (real kube-apiserver, EndpointSlice controller, kwok
pods): N failovers through the operator, each followed by a bare selector patch of
the same Service back to the other region (what `kubectl patch` does, minus kubectl's
process start), so both are measured in the same run under the same load. Each
measurement lists the Service's EndpointSlices, starts the clock, acts, and watches
from the listed resourceVersion until the slices hold only ready pods of the target
region (the same judge the operator uses).

    python -m benchmarks.failover_latency [--runs 50] [--keep-cluster]

Targets (issue 3): operator p50 <= 100 ms, p99 <= 250 ms, and p50 at most 1.5x the
bare patch's p50. Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from kubernetes import watch

from tier0_devenv.k8s import ClusterPorts, LocalCluster
from tier0_operator.consts import GROUP, REQUESTED_AT_ANNOTATION, RF_PLURAL, VERSION
from tier0_operator.kube import Kube, connect
from tier0_operator.selectors import judge_endpoints, selector_patch
from tier0_operator.timeutil import from_rfc3339, to_rfc3339

REPO = Path(__file__).resolve().parents[1]
NAMESPACE = "bench"
SERVICE = "tier0-api"
LABEL = "tier0.io/region"
METRICS_PORT, HEALTH_PORT = 21090, 21091
TARGET_P50, TARGET_P99, TARGET_RATIO = 0.100, 0.250, 1.5
#: Phase breakdown from the operator's status.timestamps (same clock as latencySeconds).
PHASES = {
    "request -> decided": ("requestedAt", "decidedAt"),
    "decided -> selectors patched": ("decidedAt", "selectorsPatchedAt"),
    "patched -> EndpointSlices ready": ("selectorsPatchedAt", "endpointsReadyAt"),
}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def measure(
    kube: Kube, pods: dict[str, frozenset[str]], target: str, act: Callable[[], None]
) -> float:
    """Seconds from `act()` to the Service's EndpointSlices holding only `target` pods."""
    selector = f"kubernetes.io/service-name={SERVICE}"
    listing = kube.raw(
        kube.discovery.list_namespaced_endpoint_slice, NAMESPACE, label_selector=selector
    )
    slices = {s["metadata"]["name"]: s for s in listing["items"]}
    started = time.perf_counter()
    act()
    stream = watch.Watch()
    for event in stream.stream(
        kube.discovery.list_namespaced_endpoint_slice,
        NAMESPACE,
        label_selector=selector,
        resource_version=listing["metadata"]["resourceVersion"],
        timeout_seconds=30,
        deserialize=False,
    ):
        obj = event["object"]
        if event["type"] == "DELETED":
            slices.pop(obj["metadata"]["name"], None)
        elif event["type"] != "BOOKMARK":
            slices[obj["metadata"]["name"]] = obj
        if judge_endpoints(slices.values(), pods[target]).switched:
            elapsed = time.perf_counter() - started
            stream.stop()
            return elapsed
    raise RuntimeError(f"EndpointSlices never switched to {target}")


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


def start_operator(cluster: LocalCluster, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        **cluster.env(),
        "WATCH_NAMESPACE": NAMESPACE,
        "OPERATOR_METRICS_PORT": str(METRICS_PORT),
        "OPERATOR_HEALTH_PORT": str(HEALTH_PORT),
        "LOG_LEVEL": "WARNING",
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


def run(cluster: LocalCluster, runs: int, workdir: Path) -> int:
    setup(cluster)
    kube = connect(str(cluster.kubeconfig))
    operator = start_operator(cluster, workdir / "operator.log")
    try:

        def pods_of(region: str) -> frozenset[str]:
            listing = kube.raw(
                kube.core.list_namespaced_pod, NAMESPACE, label_selector=f"{LABEL}={region}"
            )
            return frozenset(p["metadata"]["name"] for p in listing["items"])

        wait_until(
            lambda: len(pods_of("region1")) == 2 and len(pods_of("region2")) == 2, 60, "pods"
        )
        pods = {r: pods_of(r) for r in ("region1", "region2")}
        wait_until(
            lambda: judge_endpoints(
                kube.raw(
                    kube.discovery.list_namespaced_endpoint_slice,
                    NAMESPACE,
                    label_selector=f"kubernetes.io/service-name={SERVICE}",
                )["items"],
                pods["region1"],
            ).switched,
            60,
            "region1 endpoints ready",
        )

        phases: dict[str, list[float]] = {phase: [] for phase in PHASES}
        operator_s: list[float] = []
        reported_s: list[float] = []
        bare_s: list[float] = []
        warmup = 3
        for i in range(runs + warmup):
            name = f"bench-{i}"
            body: dict[str, Any] = {
                "apiVersion": f"{GROUP}/{VERSION}",
                "kind": "RegionFailover",
                "metadata": {"name": name, "annotations": {}},
                "spec": {
                    "group": SERVICE,
                    "sourceRegion": "region1",
                    "targetRegion": "region2",
                    "reason": "benchmark",
                },
            }

            def create(body: dict[str, Any] = body) -> None:
                body["metadata"]["annotations"][REQUESTED_AT_ANNOTATION] = to_rfc3339(time.time())
                kube.custom.create_namespaced_custom_object(
                    GROUP, VERSION, NAMESPACE, RF_PLURAL, body
                )

            through_operator = measure(kube, pods, "region2", create)

            def completed(name: str = name) -> bool:
                obj = kube.raw(
                    kube.custom.get_namespaced_custom_object,
                    GROUP,
                    VERSION,
                    NAMESPACE,
                    RF_PLURAL,
                    name,
                )
                return (obj.get("status") or {}).get("phase") == "Completed"

            wait_until(completed, 30, f"{name} Completed")
            status = kube.raw(
                kube.custom.get_namespaced_custom_object, GROUP, VERSION, NAMESPACE, RF_PLURAL, name
            )["status"]
            reported = status["latencySeconds"]
            stamps = {k: from_rfc3339(v) for k, v in status["timestamps"].items()}
            bare = measure(
                kube,
                pods,
                "region1",
                lambda: kube.patch_service(SERVICE, NAMESPACE, selector_patch(LABEL, "region1")),
            )
            if i >= warmup:
                for phase, (start, end) in PHASES.items():
                    phases[phase].append(stamps[end] - stamps[start])
                operator_s.append(through_operator)
                reported_s.append(float(reported))
                bare_s.append(bare)
            print(
                f"\r[bench] {i + 1}/{runs + warmup}: operator {through_operator * 1000:6.1f} ms, "
                f"bare patch {bare * 1000:6.1f} ms",
                end="",
                file=sys.stderr,
                flush=True,
            )
        print(file=sys.stderr)
    finally:
        operator.terminate()
        operator.wait(15)
        kube.close()
    return report(operator_s, reported_s, bare_s, phases)


def report(
    operator_s: list[float],
    reported_s: list[float],
    bare_s: list[float],
    phases: dict[str, list[float]],
) -> int:
    rows = [
        ("RegionFailover via operator (client clock)", operator_s),
        ("  same, status.latencySeconds", reported_s),
        ("bare Service selector patch", bare_s),
        *((f"  operator phase: {phase}", values) for phase, values in phases.items()),
    ]
    print(f"\nfailover latency, creation -> EndpointSlices switched ({len(operator_s)} runs each)")
    print(f"{'path':46} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8} {'mean':>8}")
    for label, values in rows:
        cells = [percentile(values, q) for q in (50, 95, 99)] + [
            max(values),
            statistics.fmean(values),
        ]
        print(f"{label:46} " + " ".join(f"{v * 1000:6.1f}ms" for v in cells))
    p50, p99 = percentile(operator_s, 50), percentile(operator_s, 99)
    ratio = p50 / percentile(bare_s, 50)
    checks = [
        (f"p50 {p50 * 1000:.1f} ms <= {TARGET_P50 * 1000:.0f} ms", p50 <= TARGET_P50),
        (f"p99 {p99 * 1000:.1f} ms <= {TARGET_P99 * 1000:.0f} ms", p99 <= TARGET_P99),
        (f"p50 ratio to bare patch {ratio:.2f}x <= {TARGET_RATIO}x", ratio <= TARGET_RATIO),
    ]
    for text, ok in checks:
        print(f"  [{'PASS' if ok else 'MISS'}] {text}")
    return 0 if all(ok for _, ok in checks) else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument(
        "--keep-cluster", action="store_true", help="leave the control plane running"
    )
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="tier0-bench-k8s-"))
    cluster = LocalCluster(workdir, ClusterPorts.free(), nodes=2, build=True)
    print(f"[bench] starting the local control plane in {workdir}", file=sys.stderr)
    cluster.start()
    try:
        code = run(cluster, args.runs, workdir)
    finally:
        if not args.keep_cluster:
            cluster.stop()
    sys.exit(code)


if __name__ == "__main__":
    main()
