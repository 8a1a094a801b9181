"""The local control plane does what the operator's tests rely on.

Each test checks one capability on the real apiserver with fake (kwok) nodes: pods
of a Deployment become Running and Ready with IPs, a Service's EndpointSlice follows
its selector (the operator's failover moves traffic by patching a selector, so the
time that takes is printed), the built kubectl matches the server, CRD validation
rules (CEL) are enforced, and helm can install a chart.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from tests.support.wait import wait_for
from tier0_devenv.k8s import LocalCluster

pytestmark = pytest.mark.k8s

POD_TIMEOUT = 60.0


@pytest.fixture(scope="module")
def api(k8s_cluster: LocalCluster) -> Iterator[client.ApiClient]:  # noqa: F811
    api_client = config.new_client_from_config(config_file=str(k8s_cluster.kubeconfig))
    yield api_client
    api_client.close()


@pytest.fixture
def namespace(api: client.ApiClient) -> Iterator[str]:
    name = f"t-{uuid.uuid4().hex[:8]}"
    core = client.CoreV1Api(api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    yield name
    core.delete_namespace(name)


def deployment(name: str, replicas: int) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                # Never pulled: kwok plays the kubelet, no container runs.
                "spec": {"containers": [{"name": "main", "image": "example.invalid/app:1"}]},
            },
        },
    }


def ready_pod_ips(core: client.CoreV1Api, namespace: str, app: str) -> set[str]:
    ips = set()
    for pod in core.list_namespaced_pod(namespace, label_selector=f"app={app}").items:
        conditions = pod.status.conditions or []
        ready = any(c.type == "Ready" and c.status == "True" for c in conditions)
        if pod.status.phase == "Running" and ready and pod.status.pod_ip:
            ips.add(pod.status.pod_ip)
    return ips


def endpoint_ips(discovery: client.DiscoveryV1Api, namespace: str, service: str) -> set[str]:
    slices = discovery.list_namespaced_endpoint_slice(
        namespace, label_selector=f"kubernetes.io/service-name={service}"
    ).items
    return {
        address
        for endpoint_slice in slices
        for endpoint in endpoint_slice.endpoints or []
        if endpoint.conditions and endpoint.conditions.ready
        for address in endpoint.addresses
    }


def start_deployment(api: client.ApiClient, namespace: str, name: str) -> set[str]:
    client.AppsV1Api(api).create_namespaced_deployment(namespace, deployment(name, 2))
    core = client.CoreV1Api(api)

    def two_ready() -> set[str] | None:
        ips = ready_pod_ips(core, namespace, name)
        return ips if len(ips) == 2 else None

    return wait_for(
        two_ready,
        POD_TIMEOUT,
        interval=0.2,
        what=f"2 Running+Ready pods with IPs for deployment {name}",
    )


def test_apiserver_is_ready(k8s_cluster: LocalCluster) -> None:  # noqa: F811
    assert k8s_cluster.kubectl("get", "--raw", "/readyz").strip() == "ok"
    nodes = json.loads(k8s_cluster.kubectl("get", "nodes", "-o", "json"))["items"]
    assert len(nodes) >= 1
    assert all(node["metadata"]["annotations"]["kwok.x-k8s.io/node"] == "fake" for node in nodes)


def test_deployment_pods_become_running_ready_with_ips(
    api: client.ApiClient, namespace: str
) -> None:
    ips = start_deployment(api, namespace, "web")
    assert len(ips) == 2
    pods = client.CoreV1Api(api).list_namespaced_pod(namespace, label_selector="app=web").items
    assert all(pod.spec.node_name for pod in pods), "the scheduler bound every pod"


def test_endpointslice_follows_service_selector(api: client.ApiClient, namespace: str) -> None:
    blue = start_deployment(api, namespace, "blue")
    green = start_deployment(api, namespace, "green")
    assert blue.isdisjoint(green)
    core = client.CoreV1Api(api)
    discovery = client.DiscoveryV1Api(api)
    core.create_namespaced_service(
        namespace,
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "front"},
            "spec": {"selector": {"app": "blue"}, "ports": [{"port": 80, "targetPort": 8080}]},
        },
    )
    wait_for(
        lambda: endpoint_ips(discovery, namespace, "front") == blue,
        POD_TIMEOUT,
        interval=0.1,
        what="EndpointSlice with the 2 blue pods",
    )

    started = time.monotonic()
    core.patch_namespaced_service("front", namespace, {"spec": {"selector": {"app": "green"}}})
    wait_for(
        lambda: endpoint_ips(discovery, namespace, "front") == green,
        30.0,
        interval=0.02,
        what="EndpointSlice moved to the 2 green pods",
    )
    moved = time.monotonic() - started
    print(f"\n[k8s] EndpointSlice followed the selector patch in {moved * 1000:.0f} ms")
    assert moved < 10.0


def test_built_kubectl_matches_server_minor(k8s_cluster: LocalCluster) -> None:  # noqa: F811
    versions = json.loads(k8s_cluster.kubectl("version", "-o", "json"))
    client_minor = versions["clientVersion"]["minor"]
    server_minor = versions["serverVersion"]["minor"]
    assert versions["serverVersion"]["gitVersion"].startswith("v1."), versions
    assert client_minor == server_minor, versions


CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "ranges.test.tier0.local"},
    "spec": {
        "group": "test.tier0.local",
        "scope": "Namespaced",
        "names": {"plural": "ranges", "singular": "range", "kind": "Range"},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "properties": {
                                    "min": {"type": "integer"},
                                    "max": {"type": "integer"},
                                },
                                "x-kubernetes-validations": [
                                    {
                                        "rule": "self.min <= self.max",
                                        "message": "min must not exceed max",
                                    }
                                ],
                            }
                        },
                    }
                },
            }
        ],
    },
}


def test_crd_cel_rule_rejects_bad_object(api: client.ApiClient, namespace: str) -> None:
    extensions = client.ApiextensionsV1Api(api)
    extensions.create_custom_resource_definition(CRD)
    try:
        wait_for(
            lambda: any(
                c.type == "Established" and c.status == "True"
                for c in extensions.read_custom_resource_definition(
                    CRD["metadata"]["name"]
                ).status.conditions
                or []
            ),
            30.0,
            interval=0.1,
            what="CRD Established",
        )
        objects = client.CustomObjectsApi(api)

        def create(name: str, low: int, high: int) -> object:
            body = {
                "apiVersion": "test.tier0.local/v1",
                "kind": "Range",
                "metadata": {"name": name},
                "spec": {"min": low, "max": high},
            }
            return objects.create_namespaced_custom_object(
                "test.tier0.local", "v1", namespace, "ranges", body
            )

        # A freshly Established CRD can 404 for a moment while its handler installs.
        wait_for(lambda: create("good", 1, 2), 30.0, interval=0.2, what="valid Range created")
        with pytest.raises(ApiException) as rejected:
            create("bad", 5, 1)
        assert rejected.value.status == 422
        causes = json.loads(rejected.value.body)["details"]["causes"]
        assert any("min must not exceed max" in cause["message"] for cause in causes), causes
    finally:
        extensions.delete_custom_resource_definition(CRD["metadata"]["name"])


def test_helm_installs_a_chart(
    k8s_cluster: LocalCluster,  # noqa: F811
    namespace: str,
    tmp_path: Path,
) -> None:
    chart = tmp_path / "probe"
    (chart / "templates").mkdir(parents=True)
    # kubeVersion makes helm compare the server's version: it fails on an unstamped build.
    (chart / "Chart.yaml").write_text(
        "apiVersion: v2\nname: probe\nversion: 0.1.0\nkubeVersion: '>=1.30.0-0'\n"
    )
    (chart / "templates" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n"
        "data:\n  greeting: {{ .Values.greeting | quote }}\n"
    )
    (chart / "values.yaml").write_text("greeting: hello\n")
    k8s_cluster.helm("install", "probe", str(chart), "--namespace", namespace, "--wait")
    data = json.loads(
        k8s_cluster.kubectl("get", "configmap", "probe", "-n", namespace, "-o", "json")
    )
    assert data["data"]["greeting"] == "hello"
    releases = json.loads(k8s_cluster.helm("list", "--namespace", namespace, "-o", "json"))
    assert [(r["name"], r["status"]) for r in releases] == [("probe", "deployed")]
