"""The chart's NetworkPolicies allow exactly the flows of docs/architecture.md.

The real-node cluster's bridge CNI does not enforce NetworkPolicy (docs/security.md),
so the policies are checked here as rendered: a small evaluator applies Kubernetes'
semantics (a pod selected by no policy of a type is open for that type; otherwise a
connection needs an egress rule of the source AND an ingress rule of the destination
that match the peer's labels and the port) to the pod labels of the rendered workloads.
test_install_k8s.py installs the same objects on a real API server.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.helm import Helm

from . import checks

pytestmark = pytest.mark.integration

Labels = dict[str, str]
WORKLOADS = ("Deployment", "StatefulSet", "Job")


def pod_labels(objects: list[checks.Obj]) -> dict[str, Labels]:
    """'<component>[-<region>]' -> the pod template's labels, for every workload."""
    out: dict[str, Labels] = {}
    for obj in objects:
        if obj["kind"] not in WORKLOADS:
            continue
        labels = obj["spec"]["template"]["metadata"]["labels"]
        name = labels["app.kubernetes.io/component"]
        if "tier0.io/region" in labels:
            name += "-" + labels["tier0.io/region"]
        out[name] = labels
    return out


def _selects(selector: dict[str, Any], labels: Labels) -> bool:
    match = selector.get("matchLabels") or {}
    return not selector.get("matchExpressions") and all(
        labels.get(k) == v for k, v in match.items()
    )


def _peer_matches(peers: list[dict[str, Any]] | None, labels: Labels) -> bool:
    """A rule's from/to: absent means everyone; a namespaceSelector peer is another
    namespace (kube-system's DNS), never one of our pods."""
    if not peers:
        return True
    return any(
        "podSelector" in peer and "namespaceSelector" not in peer
        and _selects(peer["podSelector"], labels)
        for peer in peers
    )  # fmt: skip


def _port_matches(ports: list[dict[str, Any]] | None, port: int) -> bool:
    return not ports or any(
        p.get("port") == port and p.get("protocol", "TCP") == "TCP" for p in ports
    )


def _side_allows(
    policies: list[checks.Obj], pod: Labels, other: Labels, port: int, kind: str
) -> bool:
    mine = [
        p
        for p in policies
        if kind in p["spec"]["policyTypes"] and _selects(p["spec"]["podSelector"], pod)
    ]
    if not mine:
        return True
    key, peers = ("ingress", "from") if kind == "Ingress" else ("egress", "to")
    return any(
        _peer_matches(rule.get(peers), other) and _port_matches(rule.get("ports"), port)
        for policy in mine
        for rule in policy["spec"].get(key) or []
    )


def allowed(policies: list[checks.Obj], src: Labels, dst: Labels, port: int) -> bool:
    return _side_allows(policies, src, dst, port, "Egress") and _side_allows(
        policies, dst, src, port, "Ingress"
    )


@pytest.fixture(scope="module")
def rendered(helm_cli: Helm) -> tuple[list[checks.Obj], dict[str, Labels]]:
    objects = helm_cli.template()
    return checks.of_kind(objects, "NetworkPolicy"), pod_labels(objects)


ALLOWED = [
    ("simulator-iot", "mosquitto", 1883),
    ("ingest-mqtt-region1", "mosquitto", 1883),
    ("ingest-mqtt-region2", "mosquitto", 1883),
    ("operator", "mosquitto", 1883),
    ("simulator-users", "rabbitmq", 5672),
    ("ingest-amqp-region1", "rabbitmq", 5672),
    ("ingest-mqtt-region1", "redis-region1", 6379),
    ("ingest-amqp-region2", "redis-region2", 6379),
    ("api-region1", "redis-region1", 6379),
    ("api-region2", "redis-region2", 6379),
    ("operator", "api-region1", 8000),
    ("operator", "api-region2", 8000),
]
DENIED = [
    ("simulator-iot", "redis-region1", 6379),
    ("simulator-iot", "rabbitmq", 5672),
    ("simulator-iot", "api-region1", 8000),
    ("simulator-users", "mosquitto", 1883),
    ("simulator-users", "redis-region2", 6379),
    ("ingest-mqtt-region1", "redis-region2", 6379),
    ("ingest-amqp-region1", "redis-region2", 6379),
    ("api-region1", "redis-region2", 6379),
    ("api-region1", "mosquitto", 1883),
    ("api-region1", "rabbitmq", 5672),
    ("ingest-mqtt-region1", "api-region1", 8000),
    ("mosquitto", "redis-region1", 6379),
    ("redis-region1", "redis-region2", 6379),
    ("rabbitmq", "api-region1", 8000),
    ("operator", "redis-region1", 6379),
    ("ingest-mqtt-region1", "mosquitto", 6379),  # right peer, wrong port
]


@pytest.mark.parametrize(("src", "dst", "port"), ALLOWED)
def test_documented_flows_are_allowed(
    rendered: tuple[list[checks.Obj], dict[str, Labels]], src: str, dst: str, port: int
) -> None:
    policies, pods = rendered
    assert allowed(policies, pods[src], pods[dst], port)


@pytest.mark.parametrize(("src", "dst", "port"), DENIED)
def test_other_flows_are_denied(
    rendered: tuple[list[checks.Obj], dict[str, Labels]], src: str, dst: str, port: int
) -> None:
    policies, pods = rendered
    assert not allowed(policies, pods[src], pods[dst], port)


def test_every_pod_is_under_a_default_deny_both_ways(
    rendered: tuple[list[checks.Obj], dict[str, Labels]],
) -> None:
    policies, pods = rendered
    deny = [p for p in policies if p["metadata"]["name"].endswith("-default-deny")]
    assert len(deny) == 1 and set(deny[0]["spec"]["policyTypes"]) == {"Ingress", "Egress"}
    assert not deny[0]["spec"].get("ingress")
    for name, labels in pods.items():
        assert _selects(deny[0]["spec"]["podSelector"], labels), name
    # The only egress the default grants is DNS.
    (dns,) = deny[0]["spec"]["egress"]
    assert {p["port"] for p in dns["ports"]} == {53}


def test_region_apis_are_reachable_by_users_and_metrics_by_prometheus(
    rendered: tuple[list[checks.Obj], dict[str, Labels]],
) -> None:
    policies, pods = rendered
    outsider: Labels = {"app": "browser"}  # no policy selects it: its egress is open
    assert allowed(policies, outsider, pods["api-region1"], 8000)
    assert allowed(policies, outsider, pods["ingest-mqtt-region1"], 9101)
    assert not allowed(policies, outsider, pods["redis-region1"], 6379)
    assert not allowed(policies, outsider, pods["mosquitto"], 1883)


def test_peers_and_switch_come_from_values(helm_cli: Helm) -> None:
    scraper = '{"namespaceSelector":{"matchLabels":{"name":"monitoring"}}}'
    objects = helm_cli.template(
        extra=["--set-json", f"networkPolicy.metricsFrom=[{scraper}]",
               "--set-json", 'networkPolicy.kubeApiServerCidrs=["10.0.0.1/32"]'],
    )  # fmt: skip
    policies = checks.of_kind(objects, "NetworkPolicy")
    pods = pod_labels(objects)
    assert not allowed(policies, {"app": "browser"}, pods["ingest-mqtt-region1"], 9101)
    operator = next(p for p in policies if p["metadata"]["name"].endswith("-operator"))
    assert {"ipBlock": {"cidr": "10.0.0.1/32"}} in operator["spec"]["egress"][0]["to"]
    assert checks.of_kind(helm_cli.template(set_values=["networkPolicy.enabled=false"]),
                          "NetworkPolicy") == []  # fmt: skip


def test_apis_and_brokers_have_disruption_budgets(helm_cli: Helm) -> None:
    objects = helm_cli.template()
    pods = pod_labels(objects)
    budgets = checks.of_kind(objects, "PodDisruptionBudget")
    covered = {
        name
        for name, labels in pods.items()
        for budget in budgets
        if _selects(budget["spec"]["selector"], labels)
    }
    assert covered == {"api-region1", "api-region2", "mosquitto", "rabbitmq"}
    assert all(b["spec"]["minAvailable"] == 1 for b in budgets)
    # One budget per region: draining region1's node never counts region2's pod.
    for region in ("region1", "region2"):
        (own,) = [b for b in budgets if _selects(b["spec"]["selector"], pods[f"api-{region}"])]
        assert own["spec"]["selector"]["matchLabels"]["tier0.io/region"] == region


def test_rabbitmq_management_plugin_is_off_unless_asked_for(helm_cli: Helm) -> None:
    def plugins(*set_values: str) -> str:
        (config,) = [
            c
            for c in checks.of_kind(helm_cli.template(set_values=set_values), "ConfigMap")
            if "enabled_plugins" in c.get("data", {})
        ]
        return str(config["data"]["enabled_plugins"]).strip()

    assert plugins() == "[rabbitmq_prometheus]."
    assert plugins("rabbitmq.managementPlugin=true") == "[rabbitmq_management,rabbitmq_prometheus]."
