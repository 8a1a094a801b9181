"""Kubernetes objects and fixtures the failover tests share (operator, region API).

On the session control plane (tests/support/k8s.py): the CRDs, a fresh namespace per
test with the chart's operator RBAC (rendered by helm from
charts/tier0/templates/operator-rbac.yaml), the local-demo region Deployments and
Service (operator/examples/local-demo.yaml; kwok makes the pods Ready), two stand-in
region APIs, a FailoverGroup pointing at them, the operator as a subprocess
authenticated with its ServiceAccount's token, and kubeconfigs for ServiceAccounts with
chosen rules. Kept here rather than in a conftest so the operator suite and the region
API's failover tests import one copy. Fixtures are imported where used (a conftest or
test module), as tests/support/k8s.py's are.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.region_api import RegionApi
from tests.support.servers import free_ports
from tests.support.wait import wait_for
from tier0_common.failover_crd import FG_PLURAL, GROUP, RF_PLURAL, VERSION
from tier0_devenv import rbac as local_rbac
from tier0_devenv.k8s import LocalCluster
from tier0_operator.kube import Kube, connect

REPO = Path(__file__).resolve().parents[2]
CRDS = REPO / "charts" / "tier0" / "crds"
CHART = REPO / "charts" / "tier0"
DEMO = REPO / "operator" / "examples" / "local-demo.yaml"
SERVICE = "tier0-api"
OPERATOR_SA = "tier0-operator"
#: The region API's ServiceAccount in the failover tests.
API_ACCOUNT = "tier0-api-failover"
#: What the failover endpoints need, and all they get in the tests: make up's rules,
#: which the chart's API ServiceAccount has too (docs/api.md lists them).
API_ROLE_RULES: list[dict[str, Any]] = local_rbac.API_RULES
#: A person who may request and force failovers (the tests' default caller).
CALLER_ACCOUNT = "sre"
#: Ports for things these tests start by hand.
PORT_RANGE = range(21000, 21100)


def free_ports_in_range(count: int) -> list[int]:
    """Distinct free ports from PORT_RANGE (see servers.free_ports)."""
    return free_ports(count, PORT_RANGE)


def free_port_in_range() -> int:
    return free_ports_in_range(1)[0]


@pytest.fixture(scope="session")
def cluster(k8s_cluster: LocalCluster) -> LocalCluster:
    """The session cluster with our CRDs installed and established."""
    k8s_cluster.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(CRDS))
    k8s_cluster.kubectl(
        "wait",
        "--for=condition=Established",
        "--timeout=60s",
        "crd/regionfailovers.tier0.io",
        "crd/failovergroups.tier0.io",
    )
    return k8s_cluster


@pytest.fixture(scope="session")
def admin(cluster: LocalCluster) -> Iterator[Kube]:
    kube = connect(str(cluster.kubeconfig))
    yield kube
    kube.close()


@dataclass
class Namespace:
    name: str
    cluster: LocalCluster
    kube: Kube

    def kubectl(self, *args: str, input: str | None = None) -> str:
        return self.cluster.kubectl("-n", self.name, *args, input=input)

    def try_apply(self, manifest: dict[str, Any]) -> subprocess.CompletedProcess[str]:
        """`kubectl apply` that returns the outcome instead of raising (for rejections)."""
        return subprocess.run(
            [str(self.cluster.kubectl_path), "-n", self.name, "apply", "-f", "-"],
            input=json.dumps(manifest),
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, **self.cluster.env()},
        )

    def apply(self, manifest: dict[str, Any]) -> None:
        self.kubectl("apply", "-f", "-", input=json.dumps(manifest))

    def rfo(self, name: str) -> dict[str, Any]:
        return self.kube.raw(
            self.kube.custom.get_namespaced_custom_object,
            GROUP,
            VERSION,
            self.name,
            RF_PLURAL,
            name,
        )

    def fg(self, name: str = SERVICE) -> dict[str, Any]:
        return self.kube.raw(
            self.kube.custom.get_namespaced_custom_object,
            GROUP,
            VERSION,
            self.name,
            FG_PLURAL,
            name,
        )

    def rfos(self) -> list[dict[str, Any]]:
        listing = self.kube.raw(
            self.kube.custom.list_namespaced_custom_object, GROUP, VERSION, self.name, RF_PLURAL
        )
        return list(listing["items"])

    def phase(self, name: str) -> str | None:
        return (self.rfo(name).get("status") or {}).get("phase")

    def wait_phase(self, name: str, phase: str, timeout: float = 30.0) -> dict[str, Any]:
        wait_for(lambda: self.phase(name) == phase, timeout, what=f"{name} phase {phase}")
        return self.rfo(name)

    def selector_region(self, service: str = SERVICE) -> str:
        svc = self.kube.raw(self.kube.core.read_namespaced_service, service, self.name)
        return str(svc["spec"]["selector"]["tier0.io/region"])

    def endpoint_regions(self, service: str = SERVICE) -> list[str]:
        """Region label of the pod behind every ready endpoint of the Service."""
        slices = self.kube.raw(
            self.kube.discovery.list_namespaced_endpoint_slice,
            self.name,
            label_selector=f"kubernetes.io/service-name={service}",
        )
        pods = self.kube.raw(self.kube.core.list_namespaced_pod, self.name)
        region_of = {
            p["metadata"]["name"]: p["metadata"]["labels"].get("tier0.io/region")
            for p in pods["items"]
        }
        regions = []
        for slc in slices["items"]:
            for ep in slc.get("endpoints") or ():
                if (ep.get("conditions") or {}).get("ready") is False:
                    regions.append("not-ready")
                else:
                    regions.append(str(region_of.get((ep.get("targetRef") or {}).get("name"))))
        return sorted(regions)

    def events_for(self, kind: str, name: str) -> list[dict[str, Any]]:
        events = self.kube.raw(
            self.kube.core.list_namespaced_event,
            self.name,
            field_selector=f"involvedObject.kind={kind},involvedObject.name={name}",
        )
        return list(events["items"])

    def scale(self, deployment: str, replicas: int) -> None:
        self.kubectl("scale", f"deployment/{deployment}", f"--replicas={replicas}")

    def leases(self) -> list[str]:
        listing = self.kube.raw(self.kube.coordination.list_namespaced_lease, self.name)
        return [lease["metadata"]["name"] for lease in listing["items"]]


def create_api_account(ns: Namespace) -> None:
    """The region API's account: API_ROLE_RULES, and the built-in ClusterRole that lets
    it review its callers' tokens and permissions (TokenReview, SubjectAccessReview)."""
    create_service_account(ns, API_ACCOUNT, API_ROLE_RULES)
    ns.cluster.kubectl("create", "clusterrolebinding", f"{API_ACCOUNT}-{ns.name}",
                       f"--clusterrole={local_rbac.AUTH_DELEGATOR}",
                       f"--serviceaccount={ns.name}:{API_ACCOUNT}")  # fmt: skip


def caller_headers(
    ns: Namespace,
    account: str = CALLER_ACCOUNT,
    rules: list[dict[str, Any]] | None = None,
) -> dict[str, str]:
    """An Authorization header for a new ServiceAccount of ``rules`` (default: may
    request and force failovers)."""
    create_service_account(
        ns,
        account,
        rules if rules is not None else local_rbac.REQUESTER_RULES + local_rbac.FORCER_RULES,
    )
    token = ns.kubectl("create", "token", account, "--duration=1h").strip()
    return {"Authorization": f"Bearer {token}"}


def create_service_account(
    ns: Namespace, account: str, rules: list[dict[str, Any]] | None = None
) -> None:
    """A ServiceAccount in ``ns``, bound to a Role of ``rules`` when given."""
    ns.kubectl("create", "serviceaccount", account)
    if not rules:
        return
    ns.apply(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": account},
            "rules": rules,
        }
    )
    ns.apply(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": account},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": account},
            "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": ns.name}],
        }
    )


def service_account_kubeconfig(ns: Namespace, account: str, path: Path) -> Path:
    """A kubeconfig at ``path`` holding a token of the existing ServiceAccount ``account``."""
    token = ns.kubectl("create", "token", account, "--duration=1h").strip()
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": account,
        "clusters": [
            {
                "name": "local",
                "cluster": {
                    "server": ns.cluster.server,
                    "certificate-authority": str(ns.cluster.ca_cert),
                },
            }
        ],
        "users": [{"name": account, "user": {"token": token}}],
        "contexts": [
            {
                "name": account,
                "context": {"cluster": "local", "user": account, "namespace": ns.name},
            }
        ],
    }
    path.write_text(json.dumps(config))
    return path


@pytest.fixture
def namespace(cluster: LocalCluster, admin: Kube) -> Iterator[Namespace]:
    name = f"op-{uuid.uuid4().hex[:8]}"
    cluster.kubectl("create", "namespace", name)
    rbac = cluster.helm(
        "template",
        "tier0",
        str(CHART),
        "--namespace",
        name,
        "--show-only",
        "templates/operator-rbac.yaml",
    )
    cluster.kubectl("-n", name, "apply", "-f", "-", input=rbac)
    ns = Namespace(name, cluster, admin)
    ns.kubectl("apply", "-f", str(DEMO))
    wait_for(
        lambda: ns.endpoint_regions() == ["region1", "region1"],
        60,
        what="tier0-api EndpointSlices with two ready region1 pods",
    )
    yield ns
    cluster.kubectl("delete", "namespace", name, "--wait=false")


@pytest.fixture
def regions() -> Iterator[dict[str, RegionApi]]:
    apis = {name: RegionApi(name, free_port_in_range()).start() for name in ("region1", "region2")}
    yield apis
    for api in apis.values():
        api.stop()


GroupFactory = Callable[..., dict[str, Any]]


def bare_group(
    name: str = SERVICE, regions: tuple[str, ...] = ("region1", "region2")
) -> dict[str, Any]:
    """A FailoverGroup with no health URLs, gates or policy: for tests with no operator."""
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "FailoverGroup",
        "metadata": {"name": name},
        "spec": {
            "services": [SERVICE],
            "initialRegion": regions[0],
            "regions": [{"name": r, "deployment": f"tier0-api-{r}"} for r in regions],
        },
    }


@pytest.fixture
def make_group(namespace: Namespace, regions: dict[str, RegionApi]) -> GroupFactory:
    """Create the FailoverGroup `tier0-api` pointing at the stand-in region APIs."""

    def make(
        policy: dict[str, Any] | None = None, gates: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        manifest = {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": "FailoverGroup",
            "metadata": {"name": SERVICE},
            "spec": {
                "services": [SERVICE],
                "initialRegion": "region1",
                "regions": [
                    {
                        "name": name,
                        "deployment": f"tier0-api-{name}",
                        "healthURL": f"{api.url}/health",
                        "apiURL": api.url,
                    }
                    for name, api in regions.items()
                ],
                "policy": policy or {},
                "gates": gates or {},
            },
        }
        namespace.apply(manifest)
        return manifest

    return make


def failover(name: str, source: str, target: str, **extra: Any) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "RegionFailover",
        "metadata": {"name": name},
        "spec": {
            "group": SERVICE,
            "sourceRegion": source,
            "targetRegion": target,
            "reason": "test",
            **extra,
        },
    }


class OperatorProcess:
    """`python -m tier0_operator` under the operator ServiceAccount's token."""

    def __init__(self, namespace: Namespace, workdir: Path) -> None:
        self.namespace = namespace
        self.workdir = workdir
        self.metrics_port, self.health_port = free_ports_in_range(2)
        self.proc: subprocess.Popen[bytes] | None = None
        #: Extra environment of every start (a test's broker credentials, ...).
        self.env: dict[str, str] = {}
        self.kubeconfig = service_account_kubeconfig(
            namespace, OPERATOR_SA, workdir / "operator-kubeconfig"
        )
        self.runs = 0

    def start(self, failpoint: str = "") -> OperatorProcess:
        self.runs += 1
        env = {
            **os.environ,
            "KUBECONFIG": str(self.kubeconfig),
            "WATCH_NAMESPACE": self.namespace.name,
            "OPERATOR_METRICS_PORT": str(self.metrics_port),
            "OPERATOR_HEALTH_PORT": str(self.health_port),
            "ENDPOINTS_TIMEOUT_SECONDS": "30",
            "LOG_LEVEL": "INFO",
            **self.env,
        }
        env.pop("KUBERNETES_SERVICE_HOST", None)
        log = open(self.workdir / f"operator-{self.runs}.log", "wb")  # noqa: SIM115 - owned by the process
        # A failpoint runs the operator through the test entry point that injects it.
        entry = ["tests.support.operator_failpoint", failpoint] if failpoint else ["tier0_operator"]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", *entry],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO,
        )
        log.close()
        wait_for(self._ready, 30, what=f"operator liveness on :{self.health_port} (log {log.name})")
        return self

    def _ready(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise AssertionError(
                f"operator exited with {self.proc.returncode}: {self.log()[-3000:]}"
            )
        return (
            httpx.get(f"http://127.0.0.1:{self.health_port}/healthz", timeout=1).status_code == 200
        )

    def metrics(self) -> str:
        return httpx.get(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=2).text

    def log(self) -> str:
        return (self.workdir / f"operator-{self.runs}.log").read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL: no chance to clean up, as when a node dies."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def operator(
    namespace: Namespace, regions: dict[str, RegionApi], tmp_path: Path
) -> Iterator[OperatorProcess]:
    """The operator, not yet started (tests pick failpoints); stopped at the end.

    Depends on `regions` so the stand-in APIs hold their ports before ours are picked.
    """
    proc = OperatorProcess(namespace, tmp_path)
    yield proc
    proc.stop()


def can_i_list(cluster: LocalCluster, namespace: str, account: str) -> set[tuple[str, str]]:
    """(resource, verb) pairs `kubectl auth can-i --list` grants the ServiceAccount in
    ``namespace``, without what every authenticated user may do (self reviews and
    discovery URLs). Subresources read ``name.group/sub`` as kubectl prints them."""
    out = cluster.kubectl("auth", "can-i", "--list", "-n", namespace,
                          f"--as=system:serviceaccount:{namespace}:{account}")  # fmt: skip
    granted: set[tuple[str, str]] = set()
    for line in out.splitlines()[1:]:
        if not line or line[0].isspace() or line.startswith("selfsubject"):
            continue
        verbs = re.findall(r"\[([^\]]*)\]", line)[-1].split()
        granted |= {(line.split()[0], verb) for verb in verbs}
    return granted


def rule_pairs(rules: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """The (resource, verb) pairs of RBAC rules, named as `kubectl auth can-i --list` does."""
    pairs = set()
    for rule in rules:
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                base, _, sub = resource.partition("/")
                name = (f"{base}.{group}" if group else base) + (f"/{sub}" if sub else "")
                pairs |= {(name, verb) for verb in rule["verbs"]}
    return pairs
