"""The Kubernetes part of `make up` (control plane, region objects, operator) for real.

The stack's own components run on free ports in a tmp run folder: the control plane is
started through LocalCluster exactly as `make up` does (not the session fixture, whose
folder `down` would not know), the CRDs and objects are applied with the built kubectl,
and the operator runs as a managed process. It must then be healthy and write the
FailoverGroup's status; `up` again changes nothing; `down` leaves nothing running.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.servers import free_ports
from tests.support.wait import wait_for
from tier0_devenv import stack
from tier0_devenv.k8s import LocalCluster
from tier0_devenv.k8s import stack as kube_stack
from tier0_devenv.k8s.settings import K8sSettings
from tier0_devenv.processes import Supervisor, process_alive
from tier0_devenv.settings import DevenvSettings

pytestmark = [
    pytest.mark.integration,
    pytest.mark.k8s,
    pytest.mark.skipif(
        not stack.module_runnable("tier0_operator"), reason="tier0_operator not written yet"
    ),
]

KUBE_COMPONENTS = "k8s,k8s-objects,operator"


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[DevenvSettings]:
    apiserver, etcd, peer, metrics, health, api1, api2, mqtt = free_ports(8)
    env = {
        "TIER0_RUN_DIR": str(tmp_path / "run"),
        "TIER0_COMPONENTS": KUBE_COMPONENTS,
        "TIER0_K8S_APISERVER_PORT": str(apiserver),
        "TIER0_K8S_ETCD_CLIENT_PORT": str(etcd),
        "TIER0_K8S_ETCD_PEER_PORT": str(peer),
        "TIER0_OPERATOR_METRICS_PORT": str(metrics),
        "TIER0_OPERATOR_HEALTH_PORT": str(health),
        "TIER0_API1_PORT": str(api1),
        "TIER0_API2_PORT": str(api2),
        "TIER0_MQTT_PORT": str(mqtt),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    devenv = DevenvSettings()
    if reason := kube_stack.kube_unavailable(devenv):
        pytest.skip(reason)
    yield devenv
    stack.down(devenv, lambda _line: None)


def _get(cluster: LocalCluster, *args: str) -> Any:
    return json.loads(cluster.kubectl("get", *args, "-o", "json"))


def test_up_applies_the_demo_and_runs_the_operator(settings: DevenvSettings) -> None:
    lines: list[str] = []
    rows = list(stack.up(settings, lines.append))

    assert [r.name for r in rows] == [
        "k8s-etcd", "k8s-apiserver", "k8s-controller-manager", "k8s-scheduler", "k8s-kwok",
        "k8s-objects", "operator",
    ]  # fmt: skip
    assert all(r.status in ("healthy", "applied") for r in rows)
    cluster = LocalCluster(settings.run_dir / "k8s")
    assert rows[1].url == cluster.server == f"https://127.0.0.1:{K8sSettings().apiserver_port}"

    group = _get(cluster, "failovergroup", "tier0-api")
    health_urls = [r["healthURL"] for r in group["spec"]["regions"]]
    assert health_urls == [
        f"http://127.0.0.1:{settings.api1_port}/health/ready",
        f"http://127.0.0.1:{settings.api2_port}/health/ready",
    ]
    assert group["spec"]["gates"]["canary"]["mqttPort"] == settings.mqtt_port
    for name in ("tier0-api-region1", "tier0-api-region2"):
        deploy = _get(cluster, "deployment", name)
        assert deploy["status"].get("availableReplicas") == deploy["spec"]["replicas"]
        assert _get(cluster, "service", name)["spec"]["selector"]["tier0.io/region"] == name[-7:]

    operator = next(r for r in stack.status(settings) if r.name == "operator")
    assert operator.status == "healthy" and operator.pid is not None

    def operator_wrote_status() -> bool:
        status = _get(cluster, "failovergroup", "tier0-api").get("status", {})
        return status.get("activeRegion") == "region1"

    wait_for(operator_wrote_status, 60, interval=0.5, what="the operator's FailoverGroup status")

    again: list[str] = []
    list(stack.up(settings, again.append))
    assert not any(": started" in line for line in again), again
    notes = stack.notes(settings)
    assert f"  export KUBECONFIG={cluster.kubeconfig}" in notes
    assert f"  export PATH={cluster.bin_dir}:$PATH" in notes[2]

    pids = [r.pid for r in rows if r.pid is not None]
    stopped = stack.down(settings, lambda _line: None)
    assert {rec.name for rec in stopped} == {r.name for r in rows if r.pid is not None}
    assert not any(process_alive(pid) for pid in pids)
    for folder in (settings.run_dir, settings.run_dir / "k8s"):
        assert Supervisor(folder).recorded_names() == []
