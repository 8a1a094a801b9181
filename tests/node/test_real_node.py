"""The real single-node cluster: up, real containers behind Services, and a down that
leaves nothing.

One node per module (bring-up ~20 s warm), driven through the CLI and `make
cluster-down`. The failure-path test runs first, on its own node: a step that fails
must name itself and take down everything it had started. The last test tears the
module's node down and checks the host independently of the node's own inventory.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.dns import query_a
from tests.support.real_node import HostState, RealNode, nft_tables, node_env, start_node
from tests.support.wait import wait_for
from tier0_devenv.node.containerd import PAUSE_IMAGE
from tier0_devenv.node.inventory import read_sysctl
from tier0_devenv.node.node_images import COREDNS_IMAGE

pytestmark = pytest.mark.node

DNS_IP = "10.96.0.10"
BRIDGE = "tier0br0"
NODE_NAME = "tier0-node"


def leftovers(node: RealNode, before: HostState) -> list[str]:
    """What of the node is still on the host, found without the node's own code."""
    found = []
    marker = str(node.workdir)
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if marker in cmdline:
                found.append(f"process {proc.name}: {cmdline[:100]}")
    links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout
    found += [f"link {line[:80]}" for line in links.splitlines() if BRIDGE in line]
    ruleset = subprocess.run(["nft", "list", "ruleset"], capture_output=True, text=True).stdout
    found += [
        f"chain {line.strip()}"
        for line in ruleset.splitlines()
        if line.strip().startswith(("chain KUBE-", "chain CNI-"))
    ]
    found += [f"nft {table}" for table in nft_tables() - before.tables]
    mounts = Path("/proc/self/mountinfo").read_text()
    found += [f"mount {line.split()[4]}" for line in mounts.splitlines() if marker in line]
    found += [
        f"mount {line.split()[4]}" for line in mounts.splitlines() if "/run/netns/cni-" in line
    ]
    found += [f"cgroup {p}" for p in Path("/sys/fs/cgroup").glob("*/kubepods")]
    found += [f"cgroup {p}" for p in Path("/sys/fs/cgroup").glob("kubepods")]
    for name, value in before.sysctls.items():
        if read_sysctl(name) != value:
            found.append(f"sysctl {name} = {read_sysctl(name)} (was {value})")
    if node.workdir.exists():
        found.append(f"folder {node.workdir}")
    if Path("/run/tier0-node.json").exists():
        found.append("marker /run/tier0-node.json")
    return found


def test_a_failed_step_names_itself_and_leaves_nothing(tmp_path: Path) -> None:
    # A DNS address outside the Service range makes the CoreDNS step fail after the
    # control plane, containerd, the kubelet and kube-proxy have started.
    workdir = tmp_path / "node"
    before = HostState.take()
    env = node_env(workdir, install_chart="false", dns_ip="10.200.0.10", timeout="120")
    node = RealNode(workdir, env, tmp_path / "node.log", before)
    result = node.cli("up")
    output = node.log_tail()
    assert result.returncode == 1, output
    assert "step 'CoreDNS' failed" in output
    assert "nothing left behind" in output
    assert leftovers(node, before) == [], output


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealNode]:
    workdir = tmp_path_factory.mktemp("real-node") / "node"
    started = start_node(workdir, workdir.parent / "node.log", install_chart="false")
    yield started
    if workdir.exists():  # the last test normally took it down already
        started.cli("down")


def test_node_is_ready_and_runs_real_containers(node: RealNode) -> None:
    data = node.get_json("node", NODE_NAME)
    ready = [c for c in data["status"]["conditions"] if c["type"] == "Ready"]
    assert ready[0]["status"] == "True"
    assert data["status"]["nodeInfo"]["containerRuntimeVersion"].startswith("containerd://")
    images = {tag for image in data["status"]["images"] for tag in image.get("names", [])}
    assert {PAUSE_IMAGE, COREDNS_IMAGE} <= images

    pods = node.get_json("pods", "-n", "kube-system", "-l", "k8s-app=kube-dns")["items"]
    assert [p["status"]["phase"] for p in pods] == ["Running"]
    container_id = pods[0]["status"]["containerStatuses"][0]["containerID"].split("//")[1]
    # The container is a real process on this host: containerd's task has a live PID.
    tasks = subprocess.run(
        ["ctr", "--address", str(node.workdir / "containerd" / "containerd.sock"),
         "-n", "k8s.io", "tasks", "ls"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    row = next(line.split() for line in tasks.splitlines() if line.startswith(container_id))
    pid = int(row[1])
    assert b"/coredns" in Path(f"/proc/{pid}/cmdline").read_bytes()


def test_cluster_dns_answers_through_its_cluster_ip(node: RealNode) -> None:
    # kube-proxy's rules carry the query to the CoreDNS pod, which watches Services.
    for name, address in (
        ("kubernetes.default.svc.cluster.local", "10.96.0.1"),
        ("kube-dns.kube-system.svc.cluster.local", DNS_IP),
    ):
        answer = wait_for(lambda n=name: query_a(DNS_IP, n), 30, what=f"DNS answer for {name}")
        assert answer == [address]


def test_node_port_reaches_a_pod_and_logs_come_from_the_kubelet(node: RealNode) -> None:
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "dns-health", "namespace": "kube-system"},
        "spec": {
            "type": "NodePort",
            "selector": {"k8s-app": "kube-dns"},
            "ports": [{"port": 8080, "targetPort": 8080, "nodePort": 30999}],
        },
    }
    node.kubectl("apply", "-f", "-", input=json.dumps(service))
    for host in (node.node_ip, "127.0.0.1"):
        url = f"http://{host}:30999/health"
        response = wait_for(lambda u=url: httpx.get(u, timeout=2.0), 30, what=f"GET {url}")
        assert response.status_code == 200 and response.text.strip() == "OK"
    # `kubectl logs` goes apiserver -> kubelet, authenticated by the client certificate.
    assert "CoreDNS-1.15.0" in node.kubectl("logs", "-n", "kube-system", "deployment/coredns")


def test_static_volumes_bind_to_the_first_consumer(node: RealNode) -> None:
    sc = node.get_json("storageclass", "tier0-local")
    assert sc["volumeBindingMode"] == "WaitForFirstConsumer"
    volumes = node.get_json("pv", "-l", "tier0.io/local=true")["items"]
    assert len(volumes) == 8
    assert {v["status"]["phase"] for v in volumes} == {"Available"}
    claim = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "data", "namespace": "default"},
        "spec": {
            "storageClassName": "tier0-local",
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "1Gi"}},
        },
    }
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "volume-user", "namespace": "default"},
        "spec": {
            "containers": [
                {
                    "name": "dns",
                    "image": COREDNS_IMAGE,
                    "imagePullPolicy": "Never",
                    "args": ["-dns.port=1053"],
                    "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                }
            ],
            "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}],
        },
    }
    node.kubectl(
        "apply",
        "-f",
        "-",
        input=json.dumps({"kind": "List", "apiVersion": "v1", "items": [claim, pod]}),
    )

    def running() -> bool:
        return bool(
            node.get_json("pod", "volume-user", "-n", "default")["status"]["phase"] == "Running"
        )

    wait_for(running, 60, what="the pod using the claim to run")
    bound = node.get_json("pvc", "data", "-n", "default")
    assert bound["status"]["phase"] == "Bound"
    volume = node.get_json("pv", bound["spec"]["volumeName"])
    assert volume["status"]["phase"] == "Bound"
    assert volume["spec"]["hostPath"]["path"].startswith(str(node.workdir / "volumes"))


def test_cluster_down_leaves_nothing(node: RealNode) -> None:
    result = node.make("cluster-down")
    assert result.returncode == 0, node.log_tail()
    assert leftovers(node, node.before) == []
