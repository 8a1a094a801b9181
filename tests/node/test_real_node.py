"""The real single-node cluster with the chart installed: real pods behind real
Services, a failover that moves real requests, and a down that leaves nothing.

One node per module, driven through the CLI (`python -m tier0_devenv.node up`, which
builds and imports the images and `helm install`s charts/tier0 with
ci/real-node-values.yaml) and `make cluster-down`. The failure-path test runs first,
on its own node without the chart: a step that fails must name itself and take down
everything it had started. The last test tears the module's node down and checks the
host independently of the node's own inventory.
"""

from __future__ import annotations

import base64
import errno
import json
import socket
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from tests.support.dns import query_a
from tests.support.real_node import (
    HostState,
    RealNode,
    machine_slot,
    nft_tables,
    node_env,
    start_node,
)
from tests.support.wait import wait_for
from tier0_common.catalog import device_identity
from tier0_common.keys import device_key
from tier0_devenv.node.containerd import PAUSE_IMAGE
from tier0_devenv.node.inventory import read_sysctl
from tier0_devenv.node.node_images import COREDNS_IMAGE

pytestmark = pytest.mark.node

DNS_IP = "10.96.0.10"
BRIDGE = "tier0br0"
SERVICE_RANGE_TABLE = "tier0-service-range"
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
    if f"table ip {SERVICE_RANGE_TABLE}" in ruleset:
        found.append(f"Service-range guard: nft table ip {SERVICE_RANGE_TABLE}")
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


@pytest.fixture(scope="module", autouse=True)
def slot() -> Iterator[None]:
    with machine_slot():
        yield


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
    started = start_node(workdir, workdir.parent / "node.log", timeout="900")
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


def test_a_cluster_ip_without_a_rule_fails_here_at_once(node: RealNode) -> None:
    # No Service has this address, so kube-proxy does not DNAT it: without the node's
    # Service-range guard the packet would go to the default gateway (off the machine)
    # and the connect would time out (errno None) or be answered by whatever is there.
    with socket.socket() as client:
        client.settimeout(5)
        with pytest.raises(OSError) as refused:
            client.connect(("10.96.255.254", 80))
    assert refused.value.errno == errno.EHOSTUNREACH, refused.value


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
    free_before = sum(v["status"]["phase"] == "Available" for v in volumes)
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
    volumes = node.get_json("pv", "-l", "tier0.io/local=true")["items"]
    assert sum(v["status"]["phase"] == "Available" for v in volumes) == free_before - 1


# --- the chart on the node ---------------------------------------------------------------

NAMESPACE = "tier0"
FLEET = 1000  # simulators.iot.numDevices in charts/tier0/ci/real-node-values.yaml
REGION_HEADER = "x-tier0-region"


def service_url(node: RealNode, service: str) -> str:
    svc = node.get_json("service", service, "-n", NAMESPACE)
    return f"http://{svc['spec']['clusterIP']}:{svc['spec']['ports'][0]['port']}"


def test_every_chart_pod_is_ready_as_a_real_process(node: RealNode) -> None:
    pods = node.get_json("pods", "-n", NAMESPACE)["items"]
    names = {p["metadata"]["name"] for p in pods}
    for part in ("api-region1", "api-region2", "redis-region1-0", "redis-region2-0",
                 "rabbitmq-0", "mosquitto", "operator", "ingest-mqtt", "ingest-amqp", "sim-iot"):  # fmt: skip
        assert any(part in name for name in names), f"no {part} pod in {sorted(names)}"
    socket = str(node.workdir / "containerd" / "containerd.sock")
    tasks = subprocess.run(
        ["ctr", "--address", socket, "-n", "k8s.io", "tasks", "ls"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    pids = {
        line.split()[0]: int(line.split()[1])
        for line in tasks.splitlines()[1:]
        if "RUNNING" in line
    }
    for pod in pods:
        ready = [c for c in pod["status"].get("conditions", []) if c["type"] == "Ready"]
        assert ready and ready[0]["status"] == "True", f"{pod['metadata']['name']} not Ready"
        for container in pod["status"]["containerStatuses"]:
            cid = container["containerID"].split("//")[1]
            assert Path(f"/proc/{pids[cid]}").exists(), f"{container['name']}: no process"


def test_simulators_publish_and_both_regions_report_the_fleet(node: RealNode) -> None:
    for region in ("region1", "region2"):
        url = service_url(node, f"tier0-api-{region}") + "/api/status"

        def fleet_seen(u: str = url) -> dict[str, object] | None:
            body: dict[str, object] = httpx.get(u, timeout=5.0).json()
            return body if body["active_devices"] == FLEET else None

        status = wait_for(fleet_seen, 180, interval=1.0, what=f"{region} to report {FLEET} devices")
        assert status["region"] == region


def test_helm_test_passes(node: RealNode) -> None:
    out = node.helm("test", "tier0", "-n", NAMESPACE, "--timeout", "180s", timeout=240)
    assert "Phase:          Succeeded" in out


def answering_region(url: str) -> str:
    response = httpx.get(url + "/", timeout=5.0)
    response.raise_for_status()
    body_region = response.json()["region"]
    assert response.headers[REGION_HEADER] == body_region
    return str(body_region)


def fail_over(node: RealNode, source: str, target: str) -> None:
    request = {
        "apiVersion": "tier0.io/v1alpha1",
        "kind": "RegionFailover",
        "metadata": {"generateName": f"test-to-{target}-", "namespace": NAMESPACE},
        "spec": {"group": "tier0-api", "sourceRegion": source, "targetRegion": target,
                 "reason": "node test tier"},
    }  # fmt: skip
    name = node.kubectl("create", "-f", "-", "-o", "name", input=json.dumps(request)).strip()

    def finished() -> str | None:
        phase = node.get_json(name, "-n", NAMESPACE).get("status", {}).get("phase")
        return phase if phase in ("Completed", "Failed", "Refused") else None

    assert wait_for(finished, 120, interval=0.5, what=f"{name} to finish") == "Completed"


def test_failover_moves_requests_through_the_group_cluster_ip_and_back(node: RealNode) -> None:
    group = service_url(node, "tier0-api")
    # Both regions Ready behind their own Services before the operator is asked to move.
    for region in ("region1", "region2"):
        ready = service_url(node, f"tier0-api-{region}") + "/health/ready"
        wait_for(lambda u=ready: httpx.get(u, timeout=5.0).status_code == 200, 180, what=ready)
    active = node.get_json("failovergroup", "tier0-api", "-n", NAMESPACE)["status"]["activeRegion"]
    other = "region2" if active == "region1" else "region1"
    assert {answering_region(group) for _ in range(10)} == {active}

    for source, target in ((active, other), (other, active)):
        fail_over(node, source, target)
        # kube-proxy applies the switched EndpointSlices within its sync period.
        wait_for(lambda t=target: answering_region(group) == t, 30, what=f"group -> {target}")
        assert {answering_region(group) for _ in range(20)} == {target}


def test_deleting_a_redis_pod_loses_no_stored_device_state(node: RealNode) -> None:
    pod_name = "tier0-redis-region1-0"
    secret = node.get_json("secret", "tier0-redis-region1", "-n", NAMESPACE)
    password = base64.b64decode(secret["data"]["redis-password"]).decode()

    def client() -> redis.Redis:
        ip = node.get_json("pod", pod_name, "-n", NAMESPACE)["status"]["podIP"]
        return redis.Redis(host=ip, port=6379, password=password, socket_timeout=5)

    marker = f"tier0:test:node-marker:{uuid.uuid4().hex}"
    device = device_identity(0, FLEET).device_id
    before = client()
    before.set(marker, "kept")
    stored = before.hgetall(device_key(device))
    assert stored, f"device {device} not stored in region1 before the test"
    before.close()
    old_uid = node.get_json("pod", pod_name, "-n", NAMESPACE)["metadata"]["uid"]

    node.kubectl("delete", "pod", pod_name, "-n", NAMESPACE, "--wait=true", timeout=120)

    def replaced_and_ready() -> bool:
        pod = node.get_json("pod", pod_name, "-n", NAMESPACE)
        ready = [c for c in pod["status"].get("conditions", []) if c["type"] == "Ready"]
        return pod["metadata"]["uid"] != old_uid and bool(ready) and ready[0]["status"] == "True"

    wait_for(replaced_and_ready, 180, interval=1.0, what=f"a new {pod_name} Ready")
    after = wait_for(lambda: client() if client().ping() else None, 60, what="Redis answering")
    assert after.get(marker) == b"kept"
    restored = after.hgetall(device_key(device))
    # The device's identity fields come back from disk; its readings may be newer.
    for field_name in (b"id", b"type", b"site"):
        assert restored.get(field_name) == stored.get(field_name)
    after.delete(marker)
    after.close()


def test_cluster_down_leaves_nothing(node: RealNode) -> None:
    result = node.make("cluster-down")
    assert result.returncode == 0, node.log_tail()
    assert leftovers(node, node.before) == []
