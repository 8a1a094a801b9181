"""Process specs for the five control-plane daemons, with the flags each one needs.

Flags follow controller-runtime's envtest and kwokctl, trimmed to a single-host
cluster: etcd without fsync (a throw-away store), one apiserver on loopback with RBAC,
static-token auth and a service-account key, a controller manager and a scheduler
without leader election or serving ports, and kwok, which acts as the kubelet of every
fake node by applying the stage files build.sh copied next to the binaries.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..processes import CallableCheck, HttpCheck, ProcessSpec
from .access import ApiProbe
from .binaries import K8sBinaries
from .pki import Pki

LOOPBACK = "127.0.0.1"
SERVICE_CIDR = "10.96.0.0/16"
POD_CIDR = "10.244.0.0/16"
#: The node address kwok reports; never dialled (no kubelet behind it).
FAKE_NODE_IP = "10.0.0.1"
SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc.cluster.local"
KWOK_STAGES = (
    "node-initialize.yaml",
    "node-heartbeat-with-lease.yaml",
    "pod-ready.yaml",
    "pod-complete.yaml",
    "pod-delete.yaml",
)
HINT = "run devenv/k8s/build.sh"


@dataclass(frozen=True)
class Layout:
    """Everything the specs point at: binaries, PKI, kubeconfig and the work dir."""

    workdir: Path
    binaries: K8sBinaries
    pki: Pki
    kubeconfig: Path
    apiserver_port: int
    etcd_client_port: int
    etcd_peer_port: int
    #: Off by default, as in envtest: with it, a pod created right after its namespace
    #: (before the `default` ServiceAccount exists) and a server-side dry-run of a chart
    #: whose pods name a ServiceAccount the same chart creates are both rejected.
    service_account_admission: bool = False
    #: Address of a real node (tier0_devenv.node): the apiserver then listens on every
    #: address and advertises this one, so pods reach it through the `kubernetes`
    #: Service, and it authenticates to that node's kubelet with a client certificate.
    node_ip: str | None = None

    @property
    def server(self) -> str:
        return f"https://{LOOPBACK}:{self.apiserver_port}"

    def probe(self) -> ApiProbe:
        return ApiProbe(self.server, self.pki.ca_cert, self.pki.admin_token)


def etcd(layout: Layout) -> ProcessSpec:
    client = f"http://{LOOPBACK}:{layout.etcd_client_port}"
    peer = f"http://{LOOPBACK}:{layout.etcd_peer_port}"
    return ProcessSpec(
        name="k8s-etcd",
        argv=[
            str(layout.binaries.path("etcd")),
            "--name=tier0",
            f"--data-dir={layout.workdir / 'etcd-data'}",
            f"--listen-client-urls={client}",
            f"--advertise-client-urls={client}",
            f"--listen-peer-urls={peer}",
            f"--initial-advertise-peer-urls={peer}",
            f"--initial-cluster=tier0={peer}",
            "--unsafe-no-fsync",
            "--log-level=warn",
        ],
        ports=[layout.etcd_client_port, layout.etcd_peer_port],
        health=HttpCheck(f"{client}/health"),
        start_timeout=30.0,
        install_hint=HINT,
    )


def apiserver(layout: Layout) -> ProcessSpec:
    pki = layout.pki
    probe = layout.probe()
    return ProcessSpec(
        name="k8s-apiserver",
        argv=[
            str(layout.binaries.path("kube-apiserver")),
            f"--etcd-servers=http://{LOOPBACK}:{layout.etcd_client_port}",
            f"--secure-port={layout.apiserver_port}",
            *_address_flags(layout),
            f"--tls-cert-file={pki.serving_cert}",
            f"--tls-private-key-file={pki.serving_key}",
            f"--client-ca-file={pki.ca_cert}",
            f"--token-auth-file={pki.token_file}",
            "--authorization-mode=RBAC",
            f"--service-account-issuer={SERVICE_ACCOUNT_ISSUER}",
            f"--service-account-key-file={pki.service_account_key}",
            f"--service-account-signing-key-file={pki.service_account_key}",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--allow-privileged=true",
            f"--cert-dir={layout.workdir / 'apiserver-certs'}",
            *_admission_flags(layout),
        ],
        ports=[layout.apiserver_port],
        health=CallableCheck(lambda: probe.ok("/readyz"), f"GET {layout.server}/readyz"),
        start_timeout=90.0,
        install_hint=HINT,
    )


def _address_flags(layout: Layout) -> list[str]:
    if layout.node_ip is None:
        return [
            f"--bind-address={LOOPBACK}",
            f"--advertise-address={LOOPBACK}",
            # The "kubernetes" Endpoints would list 127.0.0.1, which Endpoints
            # validation rejects; nothing in a fake-node cluster dials it anyway.
            "--endpoint-reconciler-type=none",
        ]
    pki = layout.pki
    return [
        "--bind-address=0.0.0.0",
        f"--advertise-address={layout.node_ip}",
        f"--kubelet-client-certificate={pki.kubelet_client_cert}",
        f"--kubelet-client-key={pki.kubelet_client_key}",
        # The node's Hostname address is its name, which nothing resolves.
        "--kubelet-preferred-address-types=InternalIP,Hostname",
    ]


def _admission_flags(layout: Layout) -> list[str]:
    if layout.service_account_admission:
        return []
    return ["--disable-admission-plugins=ServiceAccount"]


def controller_manager(layout: Layout) -> ProcessSpec:
    pki = layout.pki
    return ProcessSpec(
        name="k8s-controller-manager",
        argv=[
            str(layout.binaries.path("kube-controller-manager")),
            f"--kubeconfig={layout.kubeconfig}",
            "--leader-elect=false",
            "--secure-port=0",
            "--controllers=*",
            f"--service-account-private-key-file={pki.service_account_key}",
            f"--root-ca-file={pki.ca_cert}",
            f"--cluster-signing-cert-file={pki.ca_cert}",
            f"--cluster-signing-key-file={pki.ca_key}",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
        ],
        install_hint=HINT,
    )


def scheduler(layout: Layout) -> ProcessSpec:
    return ProcessSpec(
        name="k8s-scheduler",
        argv=[
            str(layout.binaries.path("kube-scheduler")),
            f"--kubeconfig={layout.kubeconfig}",
            "--leader-elect=false",
            "--secure-port=0",
        ],
        install_hint=HINT,
    )


def kwok(layout: Layout) -> ProcessSpec:
    stages = layout.binaries.kwok_stages_dir
    return ProcessSpec(
        name="k8s-kwok",
        argv=[
            str(layout.binaries.path("kwok")),
            f"--kubeconfig={layout.kubeconfig}",
            "--config=" + ",".join(str(stages / stage) for stage in KWOK_STAGES),
            "--manage-all-nodes=true",
            f"--cidr={POD_CIDR}",
            f"--node-ip={FAKE_NODE_IP}",
            "--node-lease-duration-seconds=40",
        ],
        install_hint=HINT,
    )
