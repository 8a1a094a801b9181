"""Where everything of the node lives, derived from the work dir and the settings.

One place for the paths, so bring-up writes exactly what teardown removes and the
teardown check knows what "ours" means (anything under the work dir, the bridge, the
cgroups named here).
"""

from __future__ import annotations

import ipaddress
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..processes import DevenvError
from .settings import NodeSettings

#: cgroup folders the kubelet (cgroupfs driver) creates in every hierarchy.
KUBE_CGROUPS = ("kubepods", "kubepods.slice")
CONTAINERD_NAMESPACE = "k8s.io"


def default_route_ip() -> str:
    """The IPv4 address of the interface holding the default route (a route lookup only)."""
    out = subprocess.run(
        ["ip", "-j", "-4", "route", "show", "default"], capture_output=True, text=True
    )
    routes = json.loads(out.stdout or "[]")
    if not routes:
        raise DevenvError("no IPv4 default route: set TIER0_NODE_NODE_IP to this node's address")
    dev = routes[0]["dev"]
    out = subprocess.run(
        ["ip", "-j", "-4", "addr", "show", "dev", dev], capture_output=True, text=True
    )
    for link in json.loads(out.stdout or "[]"):
        for addr in link.get("addr_info", []):
            if addr.get("family") == "inet":
                return str(addr["local"])
    raise DevenvError(f"no IPv4 address on {dev}: set TIER0_NODE_NODE_IP")


@dataclass(frozen=True)
class NodeLayout:
    settings: NodeSettings
    node_ip: str

    @classmethod
    def of(cls, settings: NodeSettings) -> NodeLayout:
        return cls(settings, settings.node_ip or default_route_ip())

    @property
    def workdir(self) -> Path:
        return self.settings.workdir.resolve()

    # --- control plane (LocalCluster's own work dir) -------------------------------------
    @property
    def k8s_dir(self) -> Path:
        return self.workdir / "k8s"

    @property
    def kubeconfig(self) -> Path:
        return self.k8s_dir / "kubeconfig"

    # --- containerd ----------------------------------------------------------------------
    @property
    def containerd_dir(self) -> Path:
        return self.workdir / "containerd"

    @property
    def containerd_root(self) -> Path:
        return self.containerd_dir / "root"

    @property
    def containerd_state(self) -> Path:
        return self.containerd_dir / "state"

    @property
    def containerd_config(self) -> Path:
        return self.containerd_dir / "config.toml"

    @property
    def containerd_socket(self) -> Path:
        return self.containerd_dir / "containerd.sock"

    # --- CNI -----------------------------------------------------------------------------
    @property
    def cni_conf_dir(self) -> Path:
        return self.workdir / "cni" / "net.d"

    @property
    def cni_data_dir(self) -> Path:
        """host-local IPAM's leases."""
        return self.workdir / "cni" / "ipam"

    @property
    def gateway_ip(self) -> str:
        network = ipaddress.ip_network(self.settings.pod_cidr)
        return str(next(network.hosts()))

    # --- kubelet and kube-proxy ----------------------------------------------------------
    @property
    def kubelet_root(self) -> Path:
        return self.workdir / "kubelet"

    @property
    def kubelet_config(self) -> Path:
        return self.workdir / "config" / "kubelet.yaml"

    @property
    def pod_logs_dir(self) -> Path:
        return self.workdir / "pod-logs"

    @property
    def kube_proxy_config(self) -> Path:
        return self.workdir / "config" / "kube-proxy.yaml"

    # --- the rest ------------------------------------------------------------------------
    @property
    def volumes_dir(self) -> Path:
        """Backing folders of the static hostPath PersistentVolumes."""
        return self.workdir / "volumes"

    @property
    def images_dir(self) -> Path:
        return self.workdir / "images"

    @property
    def inventory_file(self) -> Path:
        """What the host looked like before `up` (read by `down`)."""
        return self.workdir / "inventory.json"
