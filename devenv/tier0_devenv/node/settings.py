"""Knobs of the real single-node cluster (`make cluster`), read from TIER0_NODE_* variables.

Every port is off the Kubernetes defaults (6443, 2379, 10250, ...) so that `make up`'s
control plane, or anything else on a shared build machine, can run beside this one.
The address ranges are private to this node; only one such node can run per machine
(kube-proxy's iptables chains and the bridge are machine-wide), which preflight checks.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ..settings import REPO_ROOT

Port = int


class NodeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TIER0_NODE_", extra="ignore")

    #: State of the node: control plane, containerd, kubelet, CNI, volumes, logs.
    workdir: Path = REPO_ROOT / ".run" / "node"
    #: The node's address (apiserver advertise address, kubelet, NodePorts); empty means
    #: the address of the interface that holds the default route.
    node_ip: str = ""
    node_name: str = Field("tier0-node", pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    apiserver_port: Port = Field(16443, ge=1, le=65535)
    etcd_client_port: Port = Field(12379, ge=1, le=65535)
    etcd_peer_port: Port = Field(12380, ge=1, le=65535)
    kubelet_port: Port = Field(11250, ge=1, le=65535)
    kubelet_healthz_port: Port = Field(11248, ge=1, le=65535)
    kube_proxy_healthz_port: Port = Field(11256, ge=1, le=65535)
    kube_proxy_metrics_port: Port = Field(11249, ge=1, le=65535)
    #: kube-proxy's mode: iptables or nftables (both use the kernel's nf_tables here).
    proxy_mode: str = Field("iptables", pattern=r"^(iptables|nftables)$")
    #: Range the bridge CNI hands pod addresses from.
    pod_cidr: str = "10.88.0.0/16"
    #: Linux bridge the pods attach to (deleted by `down`).
    bridge: str = Field("tier0br0", pattern=r"^[a-zA-Z0-9_.-]{1,15}$")
    #: Fixed ClusterIP of CoreDNS (inside the control plane's 10.96.0.0/16).
    dns_ip: str = "10.96.0.10"
    #: Number of static hostPath PersistentVolumes of StorageClass tier0-local.
    volumes: int = Field(8, ge=0, le=64)
    volume_size: str = Field("2Gi", pattern=r"^[0-9]+(Mi|Gi)$")
    #: Install the tier0 chart after the node is up (false: node, DNS and storage only).
    install_chart: bool = True
    #: Helm release name and namespace of the chart.
    release: str = Field("tier0", pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length=53)
    namespace: str = Field("tier0", pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length=63)
    #: Seconds each wait may take (node Ready, CoreDNS Ready, `helm install --wait`).
    timeout: float = Field(600.0, gt=0)

    @field_validator("pod_cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        ipaddress.ip_network(value)
        return value

    @field_validator("dns_ip")
    @classmethod
    def _ip(cls, value: str) -> str:
        ipaddress.ip_address(value)
        return value

    @field_validator("node_ip")
    @classmethod
    def _node_ip(cls, value: str) -> str:
        if value:
            ipaddress.ip_address(value)
        return value
