"""`up` and `status`: the real node, brought up as an ordered list of named steps.

Each step prints its name when it starts and its duration when it ends, so a cold
run (builds of binaries and images) shows where the minutes go. A step that fails
stops the run with that step's name, and everything already started is torn down
(teardown.py), so a failed `up` leaves the machine as it found it. Re-running `up`
on a running node keeps what runs and redoes the rest (apply, helm upgrade).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..k8s.binaries import K8sBinaries, ensure_binaries, ensure_node_binaries
from ..k8s.cluster import ClusterPorts, LocalCluster
from ..processes import DevenvError, ProcessStatus, Supervisor
from ..steps import Progress
from . import (
    chart,
    cni,
    containerd,
    coredns,
    host,
    kube_proxy,
    kubelet,
    node_images,
    preflight,
    service_range,
    storage,
    teardown,
)
from .inventory import Snapshot
from .layout import NodeLayout

NODE_DAEMONS = ("containerd", "kubelet", "kube-proxy")


class StepFailed(DevenvError):
    pass


@dataclass
class Node:
    """The running node's handles, filled in as the steps run."""

    layout: NodeLayout
    cluster: LocalCluster
    binaries: K8sBinaries | None = None
    node_bin_dir: Path | None = None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def supervisor(self) -> Supervisor:
        return Supervisor(self.layout.workdir)


def control_plane(layout: NodeLayout) -> LocalCluster:
    settings = layout.settings
    ports = ClusterPorts(
        apiserver=settings.apiserver_port,
        etcd_client=settings.etcd_client_port,
        etcd_peer=settings.etcd_peer_port,
    )
    return LocalCluster(
        layout.k8s_dir, ports, node_ip=layout.node_ip, start_timeout=settings.timeout
    )


def wait_for(what: str, predicate: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if predicate():
                return
        except (DevenvError, OSError, ValueError, KeyError):
            pass  # not there yet; the deadline decides
        if time.monotonic() >= deadline:
            raise DevenvError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.5)


def node_ready(node: Node) -> bool:
    name = node.layout.settings.node_name
    data = json.loads(node.cluster.kubectl("get", "node", name, "-o", "json", timeout=10))
    conditions = data.get("status", {}).get("conditions", [])
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


def apply(node: Node, manifest: dict[str, object]) -> None:
    node.cluster.kubectl("apply", "-f", "-", input=json.dumps(manifest))


# --- the steps -------------------------------------------------------------------------


def step_binaries(node: Node, progress: Progress) -> None:
    node.binaries = ensure_binaries(build=True)
    node.node_bin_dir = ensure_node_binaries(build=True)
    progress(f"  control plane: {node.binaries.bin_dir}; node: {node.node_bin_dir}")


def step_preflight(node: Node, progress: Progress) -> None:
    preflight.check(node.layout)
    progress(f"  root, kernel features and programs present; node address {node.layout.node_ip}")


def step_inventory(node: Node, progress: Progress) -> None:
    layout = node.layout
    if layout.inventory_file.exists():
        progress("  kept the inventory of the earlier `up`")
    else:
        Snapshot.take().save(layout.inventory_file)
    host.claim(layout.workdir)


def step_service_range(node: Node, progress: Progress) -> None:
    layout = node.layout
    cidr = service_range.cidr()
    service_range.add(cidr)
    snapshot = Snapshot.load(layout.inventory_file) or Snapshot.take()
    snapshot.service_range = cidr
    snapshot.save(layout.inventory_file)
    progress(f"  packets to {cidr} that kube-proxy did not DNAT are rejected here")


def step_control_plane(node: Node, progress: Progress) -> None:
    node.cluster.start()
    progress(f"  apiserver {node.cluster.server}")


def step_containerd(node: Node, progress: Progress) -> None:
    cni.write_config(node.layout)
    node.supervisor.start(containerd.spec(node.layout))


def step_node_images(node: Node, progress: Progress) -> None:
    assert node.node_bin_dir is not None
    refs = node_images.ensure_node_images(node.layout, node.node_bin_dir)
    progress(f"  imported {', '.join(refs)}")


def step_kubelet(node: Node, progress: Progress) -> None:
    assert node.node_bin_dir is not None
    node.supervisor.start(kubelet.spec(node.layout, node.cluster.pki, node.node_bin_dir))
    wait_for(
        f"node {node.layout.settings.node_name} Ready",
        lambda: node_ready(node),
        node.layout.settings.timeout,
    )


def step_kube_proxy(node: Node, progress: Progress) -> None:
    assert node.node_bin_dir is not None
    node.supervisor.start(kube_proxy.spec(node.layout, node.node_bin_dir))


def step_coredns(node: Node, progress: Progress) -> None:
    apply(node, coredns.manifests(node.layout))
    timeout = int(node.layout.settings.timeout)
    node.cluster.kubectl(
        "rollout", "status", "deployment/coredns", "-n", coredns.NAMESPACE,
        f"--timeout={timeout}s", timeout=timeout + 30,
    )  # fmt: skip


def step_storage(node: Node, progress: Progress) -> None:
    storage.make_folders(node.layout)
    apply(node, storage.manifests(node.layout))
    progress(f"  {node.layout.settings.volumes} PersistentVolumes of {storage.STORAGE_CLASS}")


def step_chart(node: Node, progress: Progress) -> None:
    values = chart.build_images(node.layout)
    progress(f"  images imported; values {values}")
    began = time.monotonic()
    chart.install(node.layout, node.cluster, values)
    node.timings["helm install"] = time.monotonic() - began


StepFunction = Callable[[Node, Progress], None]


def steps(install_chart: bool) -> list[tuple[str, StepFunction]]:
    listed: list[tuple[str, StepFunction]] = [
        ("binaries", step_binaries),
        ("preflight", step_preflight),
        ("inventory", step_inventory),
        ("Service range", step_service_range),
        ("control plane", step_control_plane),
        ("containerd", step_containerd),
        ("node images", step_node_images),
        ("kubelet", step_kubelet),
        ("kube-proxy", step_kube_proxy),
        ("CoreDNS", step_coredns),
        ("storage", step_storage),
    ]
    if install_chart:
        listed.append(("product images and chart", step_chart))
    return listed


def up(layout: NodeLayout, progress: Progress) -> Node:
    """Run every step; on a failure tear down and raise StepFailed naming the step."""
    node = Node(layout, control_plane(layout))
    began = time.monotonic()
    for name, run in steps(layout.settings.install_chart):
        started = time.monotonic()
        progress(f"up: {name}")
        try:
            run(node, progress)
        except BaseException as exc:
            progress(f"up: step '{name}' FAILED after {time.monotonic() - started:.1f}s: {exc}")
            if name in ("binaries", "preflight"):
                raise StepFailed(f"step '{name}' failed: {exc}") from exc
            progress("up: tearing down what was started")
            left = teardown.teardown(layout, progress)
            tail = f"; still left: {'; '.join(left)}" if left else "; nothing left behind"
            raise StepFailed(f"step '{name}' failed: {exc}{tail}") from exc
        node.timings[name] = time.monotonic() - started
        progress(f"  done in {node.timings[name]:.1f}s (total {time.monotonic() - began:.1f}s)")
    node.timings["total"] = time.monotonic() - began
    return node


def status(layout: NodeLayout) -> list[ProcessStatus]:
    supervisor = Supervisor(layout.workdir)
    rows = control_plane(layout).status()
    rows += [supervisor.status(name) for name in NODE_DAEMONS]
    return rows
