"""Real traffic through failovers on the real-node cluster: does any request fail?

Until `make cluster` every failover moved EndpointSlices of kwok fake pods, and no
request ever crossed one. This benchmark has vegeta send a constant stream of
idempotent GETs (default 500 requests/s, open loop: each request leaves at its
scheduled time whatever the previous ones do) through the group Service of the chart installed by
`make cluster` (python -m tier0_devenv.node up), answered by real region API pods,
while

(a) `--failovers` planned RegionFailovers (default 20) alternate region1 <-> region2,
    each one timed from its creation to the EndpointSlices holding only target pods
    (the same watch as benchmarks/failover_latency.py) and to the first request
    answered by the target region through the Service (X-Tier0-Region header);
(b) with the FailoverGroup's automatic policy switched on (tight probe settings, put
    back afterwards), the active region's API pods are deleted: deletion ->
    RegionFailover created by the operator -> EndpointSlices switched -> first answer
    from the other region.

It prints requests sent and failed, p50/p99/max latency, for each failover the window
in which requests failed, and checks the targets: no failed request across the
planned failovers; the automatic failover switched within 3 s of the deletion, with
every failed request inside deletion -> first region2 answer. Exit 1 on a miss.

    python -m benchmarks.real_failover [--rate 500] [--failovers 20] [--url URL]

Traffic goes only to this machine's own cluster (the Service's NodePort on the node's
own address, so a request no rule DNATs is refused here rather than routed away), and
the run is bounded (--max-seconds).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from benchmarks.failover_latency import measure, percentile, wait_until
from tier0_common.failover_crd import (
    AUTOMATIC_REASON,
    DETECTED_AT_ANNOTATION,
    FG_PLURAL,
    GROUP,
    REQUESTED_AT_ANNOTATION,
    RF_PLURAL,
    VERSION,
)
from tier0_common.rfc3339 import from_rfc3339, maybe_from_rfc3339, to_rfc3339
from tier0_operator.health import pod_is_ready
from tier0_operator.kube import Kube, connect

REPO = Path(__file__).resolve().parents[1]
#: Where `make cluster` (tier0_devenv.node) writes the cluster's admin kubeconfig.
NODE_KUBECONFIG = REPO / ".run" / "node" / "k8s" / "kubeconfig"
REGION_HEADER = "x-tier0-region"
#: Idempotent and Redis-free: the benchmark measures routing, not queries.
PATH = "/fastapi/region1/getappversion"
AUTOMATIC_TARGET_SECONDS = 3.0
FINISHED = {"Completed", "Failed", "Refused"}
#: The automatic policy during (b): detect within a probe or two, act at once. The
#: FailoverGroup's own policy is put back afterwards.
FAST_POLICY = {
    "automatic": True,
    "probeIntervalSeconds": 0.5,
    "failureThreshold": 1,
    "successThreshold": 1,
    "stabilizationWindowSeconds": 0.5,
    "minDwellSeconds": 0,
    "maxTransitionsPerHour": 1000,
    "autoFailback": {"enabled": False},
}


class BenchError(RuntimeError):
    """The cluster is not in a state the benchmark can run on (message says why)."""


# --- the load generator ---------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """One request: when it was due, sent and answered (monotonic seconds); vegeta's
    pacer sends on schedule, so due is its send time."""

    due: float
    start: float
    end: float
    status: int | None
    region: str | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.status == 200


VEGETA_MODULE = "github.com/tsenart/vegeta/v12"
VEGETA_VERSION = "v12.13.0"


def vegeta_binary() -> Path:
    """vegeta: $VEGETA, else built once from the Go module proxy into the tools cache.

    A Go client keeps 500 requests/s open loop with a few % of a core; a Python client
    on the same 2 shared cores could not (httpx needed ~2 ms of CPU per request here).
    """
    override = os.environ.get("VEGETA")
    if override:
        return Path(override)
    cache = Path(os.environ.get("TIER0_CACHE", Path.home() / ".cache" / "tier0"))
    home = cache / "tools" / f"vegeta-{VEGETA_VERSION}"
    binary = home / "vegeta"
    if binary.is_file():
        return binary
    go = shutil.which("go")
    if go is None:
        raise BenchError(
            "vegeta is not built and there is no `go` to build it: install Go (as for "
            "devenv/k8s/build.sh) or set $VEGETA to a vegeta binary"
        )
    print(
        f"[bench] building vegeta {VEGETA_VERSION} from the Go module proxy into {home} (once)",
        file=sys.stderr,
    )
    home.mkdir(parents=True, exist_ok=True)
    built = subprocess.run(
        [go, "install", f"{VEGETA_MODULE}@{VEGETA_VERSION}"],
        env={**os.environ, "GOBIN": str(home), "CGO_ENABLED": "0"},
        capture_output=True,
        text=True,
    )
    if built.returncode != 0 or not binary.is_file():
        raise BenchError(f"building vegeta failed:\n{built.stderr[-2000:]}")
    return binary


def parse_result(line: str, wall_offset: float) -> Sample:
    """One line of `vegeta encode --to json` as a Sample (monotonic times)."""
    result = json.loads(line)
    start = from_rfc3339(result["timestamp"]) - wall_offset
    headers = {k.lower(): v for k, v in (result.get("headers") or {}).items()}
    region = (headers.get(REGION_HEADER) or [None])[0]
    code = int(result.get("code") or 0)
    return Sample(
        due=start,
        start=start,
        end=start + int(result["latency"]) / 1e9,
        status=code or None,
        region=region,
        error=result.get("error") or None,
    )


@dataclass
class LoadGenerator:
    """`rate` GETs per second of `url + path` from vegeta (open loop: its pacer sends
    each request on schedule whatever the earlier ones do; keep-alive connections,
    honouring `Connection: close` and retrying an idempotent GET whose idle connection
    the server had closed, as Go's and browsers' HTTP clients do).

    `samples` grows as results stream in; `stop()` ends the attack (SIGINT, vegeta
    flushes) and returns them. Bounded by `max_seconds` whatever the caller does.
    """

    url: str
    rate: float
    max_seconds: float
    path: str = PATH
    timeout: float = 5.0
    samples: list[Sample] = field(default_factory=list)
    _attack: subprocess.Popen[bytes] | None = None
    _encode: subprocess.Popen[str] | None = None
    _reader: threading.Thread | None = None

    def start(self) -> LoadGenerator:
        if self.rate <= 0 or self.max_seconds <= 0:
            raise ValueError("rate and max_seconds must be positive")
        vegeta = str(vegeta_binary())
        wall_offset = time.time() - time.monotonic()
        self._attack = subprocess.Popen(
            [
                vegeta,
                "attack",
                f"-rate={self.rate:g}/1s",
                f"-duration={self.max_seconds:g}s",
                f"-timeout={self.timeout:g}s",
                "-max-body=0",
                "-keepalive=true",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert self._attack.stdin is not None
        self._attack.stdin.write(f"GET {self.url.rstrip('/')}{self.path}\n".encode())
        self._attack.stdin.close()
        self._encode = subprocess.Popen(
            [vegeta, "encode", "--to", "json"],
            stdin=self._attack.stdout,
            stdout=subprocess.PIPE,
            text=True,
        )

        def read() -> None:
            assert self._encode is not None and self._encode.stdout is not None
            for line in self._encode.stdout:
                if line.strip():
                    self.samples.append(parse_result(line, wall_offset))

        self._reader = threading.Thread(target=read, daemon=True)
        self._reader.start()
        return self

    def stop(self) -> list[Sample]:
        for proc in (self._attack, self._encode):
            if proc is None:
                continue
            if proc is self._attack and proc.poll() is None:
                proc.send_signal(signal.SIGINT)
            try:
                proc.wait(self.timeout + 10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        if self._reader is not None:
            self._reader.join(10)
        return sorted(self.samples, key=lambda s: s.start)


# --- judging samples (pure) -----------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    sent: int
    failed: int
    p50: float
    p99: float
    max: float
    achieved_rate: float


def summarize(samples: Sequence[Sample]) -> Summary:
    if not samples:
        raise BenchError("no request was sent")
    latencies = [s.end - s.start for s in samples]
    span = max(s.start for s in samples) - min(s.start for s in samples)
    return Summary(
        sent=len(samples),
        failed=sum(1 for s in samples if not s.ok),
        p50=percentile(latencies, 50),
        p99=percentile(latencies, 99),
        max=max(latencies),
        achieved_rate=len(samples) / span if span > 0 else float(len(samples)),
    )


@dataclass(frozen=True)
class Window:
    """Failed requests sent in [start, until), times relative to start: when the first
    and the last of them were sent, and when the last failure was known (a request
    that times out fails `timeout` after it was sent)."""

    failed: int
    first: float | None
    last: float | None
    last_end: float | None = None

    def describe(self) -> str:
        if not self.failed or self.first is None or self.last is None:
            return "-"
        return (
            f"{self.failed} failed, sent {self.first:+.3f}s .. {self.last:+.3f}s"
            f" (last answer {self.last_end or self.last:+.3f}s)"
        )


def failure_window(samples: Iterable[Sample], start: float, until: float) -> Window:
    """Failures among requests sent in [start, until)."""
    failed = [s for s in samples if start <= s.start < until and not s.ok]
    if not failed:
        return Window(0, None, None)
    return Window(
        len(failed),
        min(s.start for s in failed) - start,
        max(s.start for s in failed) - start,
        max(s.end for s in failed) - start,
    )


def first_answer_from(samples: Iterable[Sample], region: str, after: float) -> float | None:
    """When the first request sent after `after` was answered by `region`."""
    ends = [s.end for s in samples if s.ok and s.region == region and s.start >= after]
    return min(ends) if ends else None


# --- the cluster ----------------------------------------------------------------------


@dataclass
class Failover:
    """Times of one failover, monotonic seconds (None: never happened)."""

    source: str
    target: str
    started: float
    switched: float | None = None
    first_answer: float | None = None
    detected: float | None = None
    rfo_created: float | None = None
    name: str = ""
    phase: str = ""


class Cluster:
    """The chart's FailoverGroup, Services and pods, through the operator's client."""

    def __init__(self, kube: Kube, namespace: str, group: str) -> None:
        self.kube = kube
        self.namespace = namespace
        self.group = group
        body = self.group_object()
        spec = body.get("spec") or {}
        self.region_label = str(spec.get("regionLabel") or "tier0.io/region")
        services = spec.get("services") or []
        if not services:
            raise BenchError(f"FailoverGroup {group} lists no Services")
        self.service = str(services[0])
        self.regions = [str(r["name"]) for r in spec.get("regions") or []]
        if len(self.regions) < 2:
            raise BenchError(f"FailoverGroup {group} has fewer than two regions")
        self.policy = dict(spec.get("policy") or {})
        self.count = 0
        #: Wall clock minus monotonic clock, to place the operator's RFC 3339 stamps.
        self.wall_offset = time.time() - time.monotonic()

    def group_object(self) -> dict[str, Any]:
        return self.kube.raw(
            self.kube.custom.get_namespaced_custom_object,
            GROUP,
            VERSION,
            self.namespace,
            FG_PLURAL,
            self.group,
        )

    def service_url(self) -> str:
        """The group Service's NodePort on the node's address.

        Not its ClusterIP: the host routes the Service range to its default gateway, so
        a request the node's rules do not DNAT (a Service without endpoints, a rule
        being rewritten) would leave the machine; a NodePort on the node's own address
        is delivered locally whatever the rules say.
        """
        svc = self.kube.raw(self.kube.core.read_namespaced_service, self.service, self.namespace)
        port = svc["spec"]["ports"][0].get("nodePort")
        if svc["spec"].get("type") != "NodePort" or not port:
            raise BenchError(
                f"Service {self.service} is not a NodePort: install the chart with "
                "charts/tier0/ci/real-node-values.yaml, or pass --url"
            )
        nodes = self.kube.raw(self.kube.core.list_node)["items"]
        addresses = [
            a["address"]
            for n in nodes
            for a in n["status"].get("addresses") or []
            if a["type"] == "InternalIP"
        ]
        if not addresses:
            raise BenchError("no node with an InternalIP address")
        return f"http://{addresses[0]}:{port}"

    def selector(self) -> dict[str, str]:
        svc = self.kube.raw(self.kube.core.read_namespaced_service, self.service, self.namespace)
        return dict(svc["spec"].get("selector") or {})

    def active(self) -> str:
        region = self.selector().get(self.region_label)
        if region not in self.regions:
            raise BenchError(f"Service {self.service} selects no known region: {self.selector()}")
        return str(region)

    def pod_selector(self, region: str) -> str:
        labels = {**self.selector(), self.region_label: region}
        return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))

    def pods_of(self, region: str) -> frozenset[str]:
        listing = self.kube.raw(
            self.kube.core.list_namespaced_pod,
            self.namespace,
            label_selector=self.pod_selector(region),
        )
        return frozenset(
            p["metadata"]["name"]
            for p in listing["items"]
            if not p["metadata"].get("deletionTimestamp")
        )

    def serving(self, region: str) -> bool:
        """Some pod of `region` is Ready (the gates of a failover to it can pass)."""
        listing = self.kube.raw(
            self.kube.core.list_namespaced_pod,
            self.namespace,
            label_selector=self.pod_selector(region),
        )
        return any(pod_is_ready(p) for p in listing["items"])

    def rfo_status(self, name: str) -> dict[str, Any]:
        obj = self.kube.raw(
            self.kube.custom.get_namespaced_custom_object,
            GROUP,
            VERSION,
            self.namespace,
            RF_PLURAL,
            name,
        )
        return dict(obj.get("status") or {})

    def create_rfo(self, source: str, target: str) -> str:
        self.count += 1
        name = f"bench-real-{int(time.time())}-{self.count}"
        body = {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": "RegionFailover",
            "metadata": {
                "name": name,
                "annotations": {REQUESTED_AT_ANNOTATION: to_rfc3339(time.time())},
            },
            "spec": {
                "group": self.group,
                "sourceRegion": source,
                "targetRegion": target,
                "reason": "benchmark",
            },
        }
        self.kube.custom.create_namespaced_custom_object(
            GROUP, VERSION, self.namespace, RF_PLURAL, body
        )
        return name

    def phase_of(self, name: str) -> str:
        return str(self.rfo_status(name).get("phase") or "")

    def wait_finished(self, name: str, timeout: float = 60.0) -> str:
        wait_until(
            lambda: self.phase_of(name) in FINISHED, timeout, f"RegionFailover {name} to finish"
        )
        return self.phase_of(name)

    def set_policy(self, policy: dict[str, Any]) -> None:
        self.kube.custom.patch_namespaced_custom_object(
            GROUP,
            VERSION,
            self.namespace,
            FG_PLURAL,
            self.group,
            {"spec": {"policy": policy}},
        )

    def regions_healthy(self) -> bool:
        regions = (self.group_object().get("status") or {}).get("regions") or []
        states = {r.get("name"): r.get("state") for r in regions}
        return all(states.get(r) == "Healthy" for r in self.regions)

    def delete_pods(self, region: str) -> None:
        self.kube.core.delete_collection_namespaced_pod(
            self.namespace, label_selector=self.pod_selector(region)
        )

    def automatic_rfo_after(self, wall: float) -> dict[str, Any] | None:
        listing = self.kube.raw(
            self.kube.custom.list_namespaced_custom_object,
            GROUP,
            VERSION,
            self.namespace,
            RF_PLURAL,
        )
        for item in listing["items"]:
            annotations = item["metadata"].get("annotations") or {}
            requested = maybe_from_rfc3339(annotations.get(REQUESTED_AT_ANNOTATION))
            if (
                item["spec"].get("reason") == AUTOMATIC_REASON
                and requested is not None
                and requested >= wall - 0.5
            ):
                return dict(item)
        return None

    def monotonic(self, stamp: str | None) -> float | None:
        wall = maybe_from_rfc3339(stamp)
        return None if wall is None else wall - self.wall_offset


def other(regions: Sequence[str], region: str) -> str:
    return regions[1 - regions.index(region)] if region in regions[:2] else regions[0]


def planned_failover(cluster: Cluster, load: LoadGenerator, settle: float) -> Failover:
    source = cluster.active()
    target = other(cluster.regions, source)
    pods = {target: cluster.pods_of(target)}
    if not pods[target]:
        raise BenchError(f"no {target} API pod to fail over to")
    record = Failover(source, target, started=0.0)

    def act() -> None:
        record.started = time.monotonic()
        record.name = cluster.create_rfo(source, target)

    seconds = measure(
        cluster.kube, pods, target, act, namespace=cluster.namespace, service=cluster.service
    )
    record.switched = record.started + seconds
    record.phase = cluster.wait_finished(record.name)
    if record.phase != "Completed":
        message = cluster.rfo_status(record.name).get("message")
        raise BenchError(f"RegionFailover {record.name} ended {record.phase}: {message}")
    # Let keep-alive connections move (CONNECTION_MAX_AGE_SECONDS) before the next one.
    time.sleep(settle)
    record.first_answer = first_answer_from(load.samples, target, record.started)
    return record


def automatic_failover(cluster: Cluster, load: LoadGenerator, settle: float) -> Failover:
    """Delete the active region's API pods with the fast automatic policy on."""
    source = cluster.active()
    target = other(cluster.regions, source)
    pods = {target: cluster.pods_of(target)}
    cluster.set_policy(FAST_POLICY)
    try:
        wait_until(cluster.regions_healthy, 60, "both regions Healthy under the fast policy")
        record = Failover(source, target, started=0.0)
        wall: list[float] = []

        def act() -> None:
            record.started = time.monotonic()
            wall.append(time.time())
            cluster.delete_pods(source)

        seconds = measure(
            cluster.kube,
            pods,
            target,
            act,
            namespace=cluster.namespace,
            service=cluster.service,
            timeout=60,
        )
        record.switched = record.started + seconds
        wait_until(
            lambda: cluster.automatic_rfo_after(wall[0]) is not None,
            30,
            "the operator's automatic RegionFailover",
        )
        rfo = cluster.automatic_rfo_after(wall[0]) or {}
        record.name = str(rfo["metadata"]["name"])
        annotations = rfo["metadata"].get("annotations") or {}
        record.detected = cluster.monotonic(annotations.get(DETECTED_AT_ANNOTATION))
        record.rfo_created = cluster.monotonic(rfo["metadata"].get("creationTimestamp"))
        record.phase = cluster.wait_finished(record.name)
        time.sleep(settle)
        record.first_answer = first_answer_from(load.samples, target, record.started)
        return record
    finally:
        cluster.set_policy(cluster.policy)


# --- report ---------------------------------------------------------------------------


def print_errors(samples: Sequence[Sample], start: float, until: float) -> None:
    """The most common failures of requests sent in [start, until), by their cause."""
    errors = Counter(
        (s.error or str(s.status)).rsplit(": ", 1)[-1][:70]
        for s in samples
        if not s.ok and start <= s.start < until
    )
    for error, count in errors.most_common(4):
        print(f"    {count:6d}  {error}")


def _ms(value: float | None, since: float) -> str:
    return "never" if value is None else f"{(value - since) * 1000:7.0f}ms"


def report(
    summary: Summary,
    planned: list[Failover],
    automatic: Failover | None,
    samples: Sequence[Sample],
    *,
    url: str,
    rate: float,
    load_before: tuple[float, float, float],
    load_after: tuple[float, float, float],
) -> bool:
    print(f"\nreal-node failover benchmark: GET {PATH} at {rate:g}/s through {url}")
    print(
        f"machine: {platform.node()}, {os.cpu_count()} cores; load average (1/5/15 min) before "
        f"{'/'.join(f'{x:.2f}' for x in load_before)}, after "
        f"{'/'.join(f'{x:.2f}' for x in load_after)}"
    )
    print(
        f"requests sent {summary.sent} ({summary.achieved_rate:.0f}/s achieved), failed "
        f"{summary.failed}; latency p50 {summary.p50 * 1000:.1f} ms, p99 "
        f"{summary.p99 * 1000:.1f} ms, max {summary.max * 1000:.1f} ms"
    )
    events = [*planned, *([automatic] if automatic else [])]
    bounds = [e.started for e in events[1:]] + [float("inf")]
    windows = [
        failure_window(samples, e.started, until) for e, until in zip(events, bounds, strict=True)
    ]
    print(
        f"\n{'#':>3} {'failover':18} {'->slices':>9} {'->answer':>9}  failed requests (from start)"
    )
    for i, (event, window) in enumerate(zip(planned, windows[: len(planned)], strict=True), 1):
        print(
            f"{i:3} {event.source + '->' + event.target:18} {_ms(event.switched, event.started)} "
            f"{_ms(event.first_answer, event.started)}  {window.describe()}"
        )
    switched = [e.switched - e.started for e in planned if e.switched is not None]
    answered = [e.first_answer - e.started for e in planned if e.first_answer is not None]
    if switched and answered:
        print(
            "planned, RegionFailover creation -> EndpointSlices switched: p50 "
            f"{statistics.median(switched) * 1000:.0f} ms, max {max(switched) * 1000:.0f} ms; "
            f"-> first answer from the target through the Service: p50 "
            f"{statistics.median(answered) * 1000:.0f} ms, max {max(answered) * 1000:.0f} ms"
        )
    planned_failed = sum(w.failed for w in windows[: len(planned)])
    if planned_failed:
        print_errors(samples, planned[0].started, bounds[len(planned) - 1])
    checks = [
        (
            f"{planned_failed} failed requests across {len(planned)} planned failovers (target 0)",
            planned_failed == 0 and len(planned) > 0,
        )
    ]
    if automatic is not None:
        window = windows[-1]
        start = automatic.started
        print(f"\nautomatic: {automatic.source} API pods deleted ({automatic.name})")
        print(f"  deletion -> unhealthy detected      {_ms(automatic.detected, start)}")
        print(f"  deletion -> RegionFailover created  {_ms(automatic.rfo_created, start)}")
        print(f"  deletion -> EndpointSlices switched {_ms(automatic.switched, start)}")
        print(
            f"  deletion -> first {automatic.target} answer     {_ms(automatic.first_answer, start)}"
        )
        print(f"  failed requests: {window.describe()}")
        print_errors(samples, start, float("inf"))
        within = automatic.switched is not None and (
            automatic.switched - start <= AUTOMATIC_TARGET_SECONDS
        )
        inside = window.failed == 0 or (
            automatic.first_answer is not None
            and window.last is not None
            and window.last <= automatic.first_answer - start
        )
        checks += [
            (
                f"automatic failover switched {_ms(automatic.switched, start).strip()} after the "
                f"deletion (target <= {AUTOMATIC_TARGET_SECONDS:g} s)",
                within,
            ),
            (
                f"all {window.failed} failed requests sent inside deletion -> first "
                f"{automatic.target} answer",
                inside,
            ),
        ]
    print()
    for text, ok in checks:
        print(f"[{'PASS' if ok else 'MISS'}] {text}")
    return all(ok for _, ok in checks)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--kubeconfig", default=os.environ.get("KUBECONFIG") or str(NODE_KUBECONFIG)
    )
    parser.add_argument("--namespace", default="tier0")
    parser.add_argument("--group", default="tier0-api", help="the chart's FailoverGroup")
    parser.add_argument(
        "--url", default="", help="default: the group Service's NodePort on the node's address"
    )
    parser.add_argument("--rate", type=float, default=500.0, help="requests per second")
    parser.add_argument("--failovers", type=int, default=20, help="planned failovers")
    parser.add_argument("--settle", type=float, default=3.0, help="seconds between failovers")
    parser.add_argument("--skip-automatic", action="store_true", help="only the planned ones")
    parser.add_argument("--max-seconds", type=float, default=600.0, help="hard bound on the run")
    args = parser.parse_args(argv)
    if args.rate <= 0 or args.failovers < 0 or args.max_seconds <= 0:
        parser.error("--rate and --max-seconds must be positive, --failovers not negative")
    if not Path(args.kubeconfig).is_file():
        sys.exit(
            f"no kubeconfig at {args.kubeconfig}: bring the real-node cluster up with "
            "`make cluster` (or pass --kubeconfig)"
        )
    kube = connect(args.kubeconfig)
    try:
        cluster = Cluster(kube, args.namespace, args.group)
        for region in cluster.regions:
            wait_until(lambda r=region: cluster.serving(r), 120, f"a Ready {region} API pod")
        url = args.url or cluster.service_url()
        try:
            httpx.get(f"{url}/health/ready", timeout=5).raise_for_status()
        except httpx.HTTPError as exc:
            sys.exit(f"the group Service at {url} does not answer /health/ready: {exc}")
        load_before = os.getloadavg()
        load = LoadGenerator(url, args.rate, args.max_seconds).start()
        planned: list[Failover] = []
        automatic: Failover | None = None
        try:
            # A few seconds of steady traffic first: the baseline latency.
            time.sleep(args.settle)
            for i in range(args.failovers):
                planned.append(planned_failover(cluster, load, args.settle))
                print(
                    f"\r[bench] planned failover {i + 1}/{args.failovers}", end="", file=sys.stderr
                )
            print(file=sys.stderr)
            if not args.skip_automatic:
                automatic = automatic_failover(cluster, load, args.settle)
        finally:
            samples = load.stop()
            load_after = os.getloadavg()
        if automatic is not None:
            # Back to where the run began, once the replacement pods serve.
            wait_until(lambda: cluster.serving(automatic.source), 120, "replacement pods Ready")
            back = cluster.create_rfo(automatic.target, automatic.source)
            cluster.wait_finished(back)
        ok = report(
            summarize(samples),
            planned,
            automatic,
            samples,
            url=url,
            rate=args.rate,
            load_before=load_before,
            load_after=load_after,
        )
    except RuntimeError as exc:  # BenchError, and wait_until's and measure's timeouts
        sys.exit(f"[bench] {exc}")
    finally:
        kube.close()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
