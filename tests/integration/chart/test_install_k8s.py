"""The chart on a real API server: the local control plane with kwok fake nodes.

`helm install` with ci/fake-node-values.yaml (no PVCs, no LoadBalancer, no --wait:
see docs/kubernetes.md), then: every workload, Service and CRD is there, the region
API pods become Ready (kwok plays the kubelet), the group Service's EndpointSlice
holds only the initial region, an upgrade keeps both the generated passwords and a
selector the operator has moved, and the region API's ServiceAccount may do exactly
what the failover endpoints need (`kubectl auth can-i --as` it, both ways). Every ci/
scenario also passes a server-side dry run, which validates each object against the
API server's own schemas.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from tests.support.helm import CHART_DIR
from tests.support.k8s_objects import can_i_list, rule_pairs
from tests.support.wait import wait_for
from tier0_devenv import rbac
from tier0_devenv.k8s import LocalCluster

pytestmark = [pytest.mark.k8s, pytest.mark.integration]

NAMESPACE = "tier0-chart"
RELEASE = "tier0"
FAKE_NODE_VALUES = CHART_DIR / "ci" / "fake-node-values.yaml"
REGIONS = ("region1", "region2")
API_ACCOUNT = "tier0-api"
#: What /api/failover/* do (docs/api.md): create a RegionFailover, wait on it, list
#: history, read the FailoverGroup.
API_ALLOWED = [
    ("create", "regionfailovers.tier0.io"),
    ("get", "regionfailovers.tier0.io"),
    ("list", "regionfailovers.tier0.io"),
    ("watch", "regionfailovers.tier0.io"),
    ("get", "failovergroups.tier0.io"),
    ("create", "events"),
    # system:auth-delegator: review the callers of POST /api/failover/* (docs/security.md)
    ("create", "tokenreviews.authentication.k8s.io"),
    ("create", "subjectaccessreviews.authorization.k8s.io"),
]
#: What only the operator (or nobody) may do: the API never moves a Service itself.
API_DENIED = [
    ("patch", "services"),
    ("update", "services"),
    ("delete", "regionfailovers.tier0.io"),
    ("patch", "regionfailovers.tier0.io"),
    ("update", "regionfailovers.tier0.io"),
    ("patch", "regionfailovers.tier0.io", "--subresource=status"),
    ("list", "failovergroups.tier0.io"),
    ("patch", "failovergroups.tier0.io"),
    ("create", "failovergroups.tier0.io"),
    ("get", "secrets"),
    ("list", "pods"),
    ("create", "leases.coordination.k8s.io"),
]


def get(cluster: LocalCluster, *args: str) -> Any:
    return json.loads(cluster.kubectl("get", "-n", NAMESPACE, "-o", "json", *args))


def names(cluster: LocalCluster, kind: str) -> set[str]:
    return {item["metadata"]["name"] for item in get(cluster, kind)["items"]}


def install_args(*extra: str) -> list[str]:
    return [RELEASE, str(CHART_DIR), "--namespace", NAMESPACE, "-f", str(FAKE_NODE_VALUES), *extra]


@pytest.fixture(scope="module")
def installed(k8s_cluster: LocalCluster) -> Iterator[LocalCluster]:  # noqa: F811
    k8s_cluster.kubectl("create", "namespace", NAMESPACE)
    k8s_cluster.helm("install", *install_args())
    try:
        yield k8s_cluster
    finally:
        k8s_cluster.helm("uninstall", RELEASE, "--namespace", NAMESPACE)
        k8s_cluster.kubectl("delete", "namespace", NAMESPACE, "--wait=false")


def test_workloads_services_and_crds_exist(installed: LocalCluster) -> None:
    assert names(installed, "deployments") == {
        "tier0-mosquitto",
        "tier0-operator",
        *(f"tier0-{part}-{r}" for r in REGIONS for part in ("api", "ingest-mqtt", "ingest-amqp")),
    }
    assert names(installed, "statefulsets") == {
        "tier0-rabbitmq",
        "tier0-redis-region1",
        "tier0-redis-region2",
    }
    jobs = names(installed, "jobs")
    assert len(jobs) == 2 and {j.rsplit("-", 1)[0] for j in jobs} == {
        "tier0-sim-iot",
        "tier0-sim-users",
    }
    assert {
        "tier0-api",
        "tier0-api-region1",
        "tier0-api-region2",
        "tier0-mosquitto",
        "tier0-rabbitmq",
        "tier0-redis-region1",
        "tier0-redis-region2",
    } <= names(installed, "services")
    crds = {
        c["metadata"]["name"]
        for c in json.loads(installed.kubectl("get", "crd", "-o", "json"))["items"]
    }
    assert {"failovergroups.tier0.io", "regionfailovers.tier0.io"} <= crds
    assert names(installed, "failovergroups.tier0.io") == {"tier0-api"}
    iot = next(j for j in get(installed, "jobs")["items"] if "-sim-iot-" in j["metadata"]["name"])
    assert iot["spec"]["completionMode"] == "Indexed" and iot["spec"]["parallelism"] == 2


def test_region_api_pods_become_ready(installed: LocalCluster) -> None:
    def ready() -> bool:
        deployments = [get(installed, "deployment", f"tier0-api-{r}") for r in REGIONS]
        return all(d.get("status", {}).get("readyReplicas") == 1 for d in deployments)

    wait_for(ready, 90, interval=0.5, what="both region API Deployments Ready under kwok")


def test_group_service_endpoints_hold_only_the_initial_region(installed: LocalCluster) -> None:
    pods = get(installed, "pods", "-l", "app.kubernetes.io/component=api")["items"]
    region_of_ip = {
        p["status"].get("podIP"): p["metadata"]["labels"]["tier0.io/region"] for p in pods
    }

    def endpoint_regions() -> set[str]:
        slices = get(installed, "endpointslices", "-l", "kubernetes.io/service-name=tier0-api")[
            "items"
        ]
        ips = {a for s in slices for e in s.get("endpoints") or [] for a in e["addresses"]}
        return {region_of_ip.get(ip, f"unknown {ip}") for ip in ips}

    wait_for(
        lambda: endpoint_regions() == {"region1"},
        90,
        interval=0.5,
        what="tier0-api endpoints = region1",
    )


def test_upgrade_keeps_passwords_and_a_moved_selector(installed: LocalCluster) -> None:
    def secret(name: str) -> dict[str, str]:
        return dict(get(installed, "secret", name)["data"])

    before = {
        n: secret(n) for n in ("tier0-redis-region1", "tier0-redis-region2", "tier0-rabbitmq")
    }
    # What the operator does on a failover: move the group Service to region2.
    installed.kubectl(
        "patch",
        "service",
        "tier0-api",
        "-n",
        NAMESPACE,
        "--type",
        "merge",
        "-p",
        json.dumps({"spec": {"selector": {"tier0.io/region": "region2"}}}),
    )
    # What the chart renders against the live cluster (lookup on): Helm 3's three-way
    # merge would hide a template that forgot the live values, so check the render.
    rendered = installed.helm("template", *install_args("--dry-run=server"))
    objects = {(o["kind"], o["metadata"]["name"]): o for o in yaml.safe_load_all(rendered) if o}
    assert objects[("Service", "tier0-api")]["spec"]["selector"]["tier0.io/region"] == "region2"
    for name, data in before.items():
        assert objects[("Secret", name)]["data"] == data
    installed.helm("upgrade", *install_args("--set", "logLevel=DEBUG"))
    after = {n: secret(n) for n in before}
    assert after == before
    assert (
        get(installed, "service", "tier0-api")["spec"]["selector"]["tier0.io/region"] == "region2"
    )
    api = get(installed, "deployment", "tier0-api-region1")
    env = {
        e["name"]: e.get("value") for e in api["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert env["LOG_LEVEL"] == "DEBUG"


def can_i(
    cluster: LocalCluster, account: str, verb: str, resource: str, *extra: str, ns: str = NAMESPACE
) -> bool:
    """`kubectl auth can-i` as a ServiceAccount of the release (exit 1 means "no")."""
    result = subprocess.run(
        [
            str(cluster.kubectl_path),
            "auth",
            "can-i",
            verb,
            resource,
            *extra,
            "--as",
            f"system:serviceaccount:{NAMESPACE}:{account}",
            "-n",
            ns,
        ],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, **cluster.env()},
    )
    answer = result.stdout.strip()
    assert answer in ("yes", "no"), result.stderr
    return answer == "yes"


def test_api_account_may_fail_over_and_nothing_more(installed: LocalCluster) -> None:
    missing = [" ".join(r) for r in API_ALLOWED if not can_i(installed, API_ACCOUNT, *r)]
    excess = [" ".join(r) for r in API_DENIED if can_i(installed, API_ACCOUNT, *r)]
    assert (missing, excess) == ([], [])
    # Namespaced: the rights end at the release namespace.
    assert not can_i(installed, API_ACCOUNT, "create", "regionfailovers.tier0.io", ns="default")
    # The shared workload account (ingest, simulators) still has no rights at all.
    assert not can_i(installed, "tier0", "get", "failovergroups.tier0.io")


def test_api_pods_run_as_their_account_pointed_at_the_group(installed: LocalCluster) -> None:
    (group,) = names(installed, "failovergroups.tier0.io")
    assert API_ACCOUNT in names(installed, "serviceaccounts")
    for region in REGIONS:
        pod = get(installed, "deployment", f"tier0-api-{region}")["spec"]["template"]["spec"]
        assert pod["serviceAccountName"] == API_ACCOUNT
        assert pod["automountServiceAccountToken"] is True
        env = {e["name"]: e.get("value") for e in pod["containers"][0]["env"]}
        assert env["FAILOVER_ENABLED"] == "true"
        assert env["FAILOVER_NAMESPACE"] == NAMESPACE
        assert env["FAILOVER_GROUP"] == group


@pytest.mark.parametrize(
    "scenario",
    sorted(
        p.name for p in (CHART_DIR / "ci").glob("*-values.yaml") if p.name != "kind-values.yaml"
    ),
)
def test_server_side_dry_run(installed: LocalCluster, scenario: str) -> None:
    """The API server accepts every object (the CRDs are installed by now).

    kind-values is left out: its ServiceMonitor needs the Prometheus Operator's CRD.
    """
    rendered = installed.helm(
        "template",
        "dry",
        str(CHART_DIR),
        "--namespace",
        NAMESPACE,
        "-f",
        str(CHART_DIR / "ci" / scenario),
    )
    out = installed.kubectl("apply", "--dry-run=server", "-n", NAMESPACE, "-f", "-", input=rendered)
    assert "created (server dry run)" in out


def test_can_i_list_of_the_chart_accounts_is_the_documented_rules(
    installed: LocalCluster,
) -> None:
    """`kubectl auth can-i --list` of the chart's API and operator ServiceAccounts equals
    the rules docs/api.md and templates/operator-rbac.yaml document (make up's are
    checked the same way in tests/integration/security/test_api_auth.py)."""
    reviews = {
        ("tokenreviews.authentication.k8s.io", "create"),
        ("subjectaccessreviews.authorization.k8s.io", "create"),
    }
    api = can_i_list(installed, NAMESPACE, API_ACCOUNT)
    assert api == rule_pairs(rbac.API_RULES) | reviews
    role = get(installed, "role", f"{RELEASE}-operator")
    assert can_i_list(installed, NAMESPACE, "tier0-operator") == rule_pairs(role["rules"])
