"""The Kubernetes part of `make up`: control plane, region objects, operator.

On a machine with no container engine the operator still needs a real API server, so
`make up` starts tier0_devenv.k8s's LocalCluster (fixed ports by default), applies
the CRDs and the region objects (kube_objects.py), and runs the operator as a local
process against it. The cluster's daemons are recorded by their own Supervisor in
``<run_dir>/k8s`` (the folder `python -m tier0_devenv.k8s` uses by default, so both
CLIs see the same cluster); `supervisor_dirs` tells `down` to stop them too.
Everything here is skipped, with the reason, when TIER0_SKIP_K8S is set or the
binaries were never built, so the data plane alone still comes up.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from .. import credentials, rbac
from ..processes import DevenvError, HttpCheck, ProcessSpec
from ..settings import REPO_ROOT, DevenvSettings
from ..steps import Progress, Row, Step
from .access import ApiProbe, write_token_kubeconfig
from .binaries import ensure_binaries
from .cluster import ClusterPorts, LocalCluster
from .objects import (
    CRD_DIR,
    GROUP_SERVICE,
    REGION_LABEL,
    as_list,
    failover_group,
    load_demo,
    region_objects,
)
from .settings import K8sSettings, LocalKubeSettings

LOCALHOST = "127.0.0.1"
REGIONS = ("region1", "region2")
FAILOVER_EXAMPLE = "operator/examples/failover-region2.yaml"
_WAIT_TIMEOUT = "120s"
CHART = REPO_ROOT / "charts" / "tier0"
#: Lifetime of the tokens `make up` mints for the operator, the APIs and the user; each
#: `up` mints new ones (a stack kept up longer than this needs `make down && make up`).
TOKEN_DURATION = "168h"


def workdir(settings: DevenvSettings) -> Path:
    return settings.run_dir / "k8s"


def kube_unavailable(settings: DevenvSettings) -> str | None:
    """Why the Kubernetes part cannot run here, or None when it can."""
    if LocalKubeSettings().skip_k8s:
        return "TIER0_SKIP_K8S is set"
    try:
        ensure_binaries(build=False)
    except (DevenvError, OSError, subprocess.CalledProcessError):
        return "control-plane binaries not built: run devenv/k8s/build.sh (or make deps)"
    return None


def operator_kubeconfig(settings: DevenvSettings) -> Path:
    return workdir(settings) / "operator-kubeconfig"


def api_kubeconfig(settings: DevenvSettings) -> Path:
    return workdir(settings) / "api-kubeconfig"


def user_token_file(settings: DevenvSettings) -> Path:
    """The local user's bearer token for POST /api/failover/* (and kubectl)."""
    return credentials.secrets_dir(settings.run_dir) / "failover-user.token"


def apply_identities(cluster: LocalCluster, namespace: str, settings: DevenvSettings) -> None:
    """The chart's operator ServiceAccount and Role, the API's and the user's accounts
    and Roles (rbac.py), then a token for each: kubeconfigs for the operator and the
    APIs, a plain token file for the user, all mode 0600."""
    operator_rbac = cluster.helm("template", "tier0", str(CHART), "--namespace", namespace,
                                 "--show-only", "templates/operator-rbac.yaml")  # fmt: skip
    cluster.kubectl("apply", "-n", namespace, "-f", "-", input=operator_rbac)
    identities = rbac.local_identities(namespace)
    cluster.kubectl("apply", "-f", "-", input=json.dumps(as_list(identities)))
    for account, path in (
        (rbac.OPERATOR_ACCOUNT, operator_kubeconfig(settings)),
        (rbac.API_ACCOUNT, api_kubeconfig(settings)),
    ):
        write_token_kubeconfig(
            path, cluster.server, cluster.ca_cert, account, _token(cluster, namespace, account),
            namespace,
        )  # fmt: skip
    token = _token(cluster, namespace, rbac.USER_ACCOUNT)
    credentials.write_private(user_token_file(settings), [token])


def apply_admission_policy(cluster: LocalCluster, namespace: str) -> None:
    """The chart's ValidatingAdmissionPolicy: the API server refuses a RegionFailover
    naming a region its FailoverGroup lacks (docs/security.md)."""
    policy = cluster.helm("template", "tier0", str(CHART), "--namespace", namespace,
                          "--show-only", "templates/failover-admission-policy.yaml")  # fmt: skip
    cluster.kubectl("apply", "-f", "-", input=policy)


def _token(cluster: LocalCluster, namespace: str, account: str) -> str:
    return cluster.kubectl(
        "create", "token", account, "-n", namespace, f"--duration={TOKEN_DURATION}"
    ).strip()


def api_urls(settings: DevenvSettings) -> dict[str, str]:
    return {
        "region1": f"http://{LOCALHOST}:{settings.api1_port}",
        "region2": f"http://{LOCALHOST}:{settings.api2_port}",
    }


def local_failover_group(settings: DevenvSettings, kube: LocalKubeSettings) -> dict[str, object]:
    """The FailoverGroup pointing at this stack's region APIs and Mosquitto."""
    return failover_group(
        api_urls(settings),
        namespace=kube.k8s_namespace,
        mqtt_host=LOCALHOST,
        mqtt_port=settings.mqtt_port,
        automatic=kube.failover_automatic,
        canary=kube.failover_canary,
        freshness_budget_seconds=kube.failover_freshness_budget_seconds,
    )


def check_ports(settings: DevenvSettings, kube: LocalKubeSettings, k8s: K8sSettings) -> None:
    """Refuse before starting anything when a Kubernetes port collides with another one."""
    ours = {
        "TIER0_K8S_APISERVER_PORT": k8s.apiserver_port,
        "TIER0_K8S_ETCD_CLIENT_PORT": k8s.etcd_client_port,
        "TIER0_K8S_ETCD_PEER_PORT": k8s.etcd_peer_port,
        "TIER0_OPERATOR_METRICS_PORT": kube.operator_metrics_port,
        "TIER0_OPERATOR_HEALTH_PORT": kube.operator_health_port,
    }
    taken = {value for name, value in settings if name.endswith("_port") and value is not None}
    taken |= {settings.dist_port, settings.resolved_epmd_port}
    values = list(ours.values())
    clashes = sorted(name for name, port in ours.items() if port in taken or values.count(port) > 1)
    if clashes:
        raise DevenvError(f"{', '.join(clashes)} collide with another tier0 port")


def _cluster(settings: DevenvSettings, *, configured_ports: bool = False) -> LocalCluster:
    """The cluster in the run folder; `up` passes the configured ports, the others read
    the ones the running cluster recorded."""
    k8s = K8sSettings()
    ports = None
    if configured_ports:
        ports = ClusterPorts(k8s.apiserver_port, k8s.etcd_client_port, k8s.etcd_peer_port)
    return LocalCluster(workdir(settings), ports, nodes=k8s.nodes, start_timeout=k8s.start_timeout)


def _probe(cluster: LocalCluster) -> ApiProbe | None:
    """An admin probe of a cluster that was started here before, else None (no PKI made)."""
    if not cluster.kubeconfig.exists():
        return None
    return ApiProbe(cluster.server, cluster.ca_cert, cluster.admin_token)


def _process_url(name: str, cluster: LocalCluster) -> str:
    if name == "k8s-apiserver":
        return cluster.server
    if name == "k8s-etcd":
        return f"http://{LOCALHOST}:{cluster.ports.etcd_client}"
    return ""


class ControlPlane(Step):
    """etcd, kube-apiserver, controller manager, scheduler and kwok, via LocalCluster."""

    def up(self, settings: DevenvSettings, progress: Progress) -> list[Row]:
        check_ports(settings, LocalKubeSettings(), K8sSettings())
        cluster = _cluster(settings, configured_ports=True)
        before = {st.name: st.pid for st in cluster.status() if st.running}
        progress(f"k8s: starting the local control plane at {cluster.server} ...")
        cluster.start()
        rows = []
        for st in cluster.status():
            verb = "already running" if before.get(st.name) == st.pid else "started"
            progress(f"{st.name}: {verb} (pid {st.pid}) {_process_url(st.name, cluster)}".rstrip())
            rows.append(Row(st.name, st.pid, _process_url(st.name, cluster), "healthy"))
        progress(f"k8s: control plane usable in {cluster.start_seconds:.1f}s")
        return rows

    def status(self, settings: DevenvSettings) -> list[Row]:
        cluster = _cluster(settings)
        probe = _probe(cluster)
        rows = []
        etcd = HttpCheck(f"{_process_url('k8s-etcd', cluster)}/health")
        for st in cluster.status():
            text = "running" if st.running else "stopped"
            if st.running and st.name == "k8s-apiserver" and probe is not None:
                text = "healthy" if probe.ok("/readyz") else "UNHEALTHY"
            elif st.running and st.name == "k8s-etcd":
                text = "healthy" if etcd() else "UNHEALTHY"
            rows.append(Row(st.name, st.pid, _process_url(st.name, cluster), text))
        return rows

    def supervisor_dirs(self, settings: DevenvSettings) -> list[Path]:
        return [workdir(settings)]

    def notes(self, settings: DevenvSettings) -> list[str]:
        cluster = _cluster(settings)
        namespace = LocalKubeSettings().k8s_namespace
        ns = "" if namespace == "default" else f" -n {namespace}"
        return [
            f"Kubernetes: local control plane at {cluster.server}; to use it:",
            f"  export KUBECONFIG={cluster.kubeconfig}",
            f"  export PATH={cluster.bin_dir}:$PATH"
            "   # its kubectl; the preinstalled 1.32 is outside the version skew",
            f"  kubectl get fg,rfo{ns}",
            f"  kubectl create{ns} -f {FAILOVER_EXAMPLE}",
            f"Failover API: POST /api/failover/* needs a bearer token; yours (user "
            f"{rbac.USER_ACCOUNT}, Role {rbac.REQUESTER_ROLE}, no force) is in "
            f"{user_token_file(settings)} (mode 600):",
            f'  curl -X POST -H "Authorization: Bearer $(cat {user_token_file(settings)})" '
            f"http://{LOCALHOST}:{settings.api1_port}/api/failover/simulate",
            "  the dashboard asks for it once per browser tab (docs/security.md)",
        ]


class RegionObjects(Step):
    """CRDs, region Deployments and Services, and the FailoverGroup (kubectl apply)."""

    def up(self, settings: DevenvSettings, progress: Progress) -> list[Row]:
        kube = LocalKubeSettings()
        cluster = _cluster(settings)
        probe = _probe(cluster)
        if probe is None or not probe.ok("/readyz"):
            raise DevenvError(
                f"k8s-objects: no API server answers at {cluster.server}; start the control "
                "plane too (component k8s in TIER0_COMPONENTS)"
            )
        began = time.monotonic()
        ns = kube.k8s_namespace
        cluster.kubectl("apply", "-f", str(CRD_DIR))
        cluster.kubectl("wait", "--for=condition=Established", f"--timeout={_WAIT_TIMEOUT}",
                        "-f", str(CRD_DIR))  # fmt: skip
        progress(f"k8s-objects: CRDs from {CRD_DIR.relative_to(REPO_ROOT)} established")
        if ns != "default":
            namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}
            cluster.kubectl("apply", "-f", "-", input=json.dumps(namespace))
        apply_identities(cluster, ns, settings)
        apply_admission_policy(cluster, ns)
        progress(
            f"k8s-objects: ServiceAccounts {rbac.OPERATOR_ACCOUNT}, {rbac.API_ACCOUNT}, "
            f"{rbac.USER_ACCOUNT} and their Roles applied; tokens written (mode 600); "
            "admission policy on RegionFailover regions applied"
        )
        live = _live_region(cluster, ns)
        objects = region_objects(load_demo(), REGIONS, namespace=ns, live_region=live)
        objects.append(local_failover_group(settings, kube))
        cluster.kubectl("apply", "-f", "-", input=json.dumps(as_list(objects)))
        names = ", ".join(f"{o['kind']}/{o['metadata']['name']}" for o in objects)
        progress(f"k8s-objects: applied in namespace {ns}: {names}")
        deployments = [f"deployment/{o['metadata']['name']}" for o in objects
                       if o["kind"] == "Deployment"]  # fmt: skip
        cluster.kubectl("wait", "-n", ns, "--for=condition=Available",
                        f"--timeout={_WAIT_TIMEOUT}", *deployments)  # fmt: skip
        region = live or "region1"
        progress(
            f"k8s-objects: region Deployments Available (kwok pods) in "
            f"{time.monotonic() - began:.1f}s; Service {GROUP_SERVICE} selects {region}"
        )
        return [Row("k8s-objects", None, f"namespace/{ns}", "applied")]

    def status(self, settings: DevenvSettings) -> list[Row]:
        cluster = _cluster(settings)
        probe = _probe(cluster)
        ns = LocalKubeSettings().k8s_namespace
        if probe is None or not probe.ok("/readyz"):
            return [Row("k8s-objects", None, "", "no API server")]
        path = f"/apis/tier0.io/v1alpha1/namespaces/{ns}/failovergroups/{GROUP_SERVICE}"
        try:
            group = probe.get_json(path)
        except (OSError, RuntimeError, ValueError):
            return [Row("k8s-objects", None, f"namespace/{ns}", "not applied")]
        active = group.get("status", {}).get("activeRegion") or "unknown"
        return [Row("k8s-objects", None, f"namespace/{ns}", f"applied (active: {active})")]


def _live_region(cluster: LocalCluster, namespace: str) -> str | None:
    """The region the group Service selects now, if it exists."""
    out = cluster.kubectl("get", "service", GROUP_SERVICE, "-n", namespace, "-o", "json",
                          "--ignore-not-found")  # fmt: skip
    if not out.strip():
        return None
    selector = json.loads(out).get("spec", {}).get("selector") or {}
    region = selector.get(REGION_LABEL)
    return str(region) if region else None


def api_failover_env(settings: DevenvSettings) -> dict[str, str]:
    """What a local region API needs for its /api/failover endpoints: the local control
    plane's kubeconfig (read on the first failover request, so the API may start before
    the cluster does) and the FailoverGroup's namespace. Empty when the Kubernetes part
    cannot run here; the endpoints then answer 503 saying what to set."""
    if kube_unavailable(settings) is not None:
        return {}
    return {
        "KUBECONFIG": str(api_kubeconfig(settings)),
        "FAILOVER_NAMESPACE": LocalKubeSettings().k8s_namespace,
    }


def operator_specs(settings: DevenvSettings) -> list[ProcessSpec]:
    """The operator as a local process watching the local API server."""
    kube = LocalKubeSettings()
    kubeconfig = operator_kubeconfig(settings)

    def require_cluster() -> None:
        if not kubeconfig.exists():
            raise DevenvError(
                f"operator: no kubeconfig at {kubeconfig}; start the control plane too "
                "(components k8s,k8s-objects in TIER0_COMPONENTS)"
            )

    metrics, health = kube.operator_metrics_port, kube.operator_health_port
    canary = credentials.of_run(settings).mqtt["canary"]
    return [
        ProcessSpec(
            name="operator",
            argv=[sys.executable, "-m", "tier0_operator"],
            env={
                "PYTHONUNBUFFERED": "1",
                "KUBECONFIG": str(kubeconfig),
                "WATCH_NAMESPACE": kube.k8s_namespace,
                "OPERATOR_METRICS_PORT": str(metrics),
                "OPERATOR_HEALTH_PORT": str(health),
                "CANARY_MQTT_USERNAME": canary.username,
                "CANARY_MQTT_PASSWORD": canary.password,
            },
            cwd=REPO_ROOT,
            ports=[metrics, health],
            # kopf's liveness endpoint answers once kopf runs and watches; the metrics
            # port opens earlier, before the API server has been reached.
            health=HttpCheck(f"http://{LOCALHOST}:{health}/healthz"),
            start_timeout=90,
            prepare=require_cluster,
            url=f"http://{LOCALHOST}:{metrics}/metrics",
        )
    ]
