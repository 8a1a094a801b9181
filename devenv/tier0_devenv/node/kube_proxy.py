"""kube-proxy: Services (ClusterIP, NodePort) as iptables or nftables rules on the host.

The conntrack settings are left as the machine has them (`maxPerCore: 0` and zero
timeouts mean "do not touch"), so the only sysctl kube-proxy changes is
route_localnet (NodePorts on 127.0.0.1), which the inventory records and `down`
restores. `kube-proxy --cleanup` removes its rules after the process stops.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from ..processes import HttpCheck, ProcessSpec
from .containerd import SYSTEM_PATH
from .kubelet import HINT
from .layout import NodeLayout


def config(layout: NodeLayout) -> dict[str, Any]:
    settings = layout.settings
    return {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        "clientConnection": {"kubeconfig": str(layout.kubeconfig)},
        "hostnameOverride": settings.node_name,
        "mode": settings.proxy_mode,
        "clusterCIDR": settings.pod_cidr,
        "healthzBindAddress": f"127.0.0.1:{settings.kube_proxy_healthz_port}",
        "metricsBindAddress": f"127.0.0.1:{settings.kube_proxy_metrics_port}",
        "conntrack": {
            "maxPerCore": 0,
            "tcpEstablishedTimeout": "0s",
            "tcpCloseWaitTimeout": "0s",
        },
    }


def write_config(layout: NodeLayout) -> None:
    layout.kube_proxy_config.parent.mkdir(parents=True, exist_ok=True)
    layout.kube_proxy_config.write_text(json.dumps(config(layout), indent=2) + "\n")


def spec(layout: NodeLayout, bin_dir: Path) -> ProcessSpec:
    settings = layout.settings
    return ProcessSpec(
        name="kube-proxy",
        argv=[str(bin_dir / "kube-proxy"), f"--config={layout.kube_proxy_config}"],
        env={"PATH": SYSTEM_PATH},
        ports=[settings.kube_proxy_healthz_port, settings.kube_proxy_metrics_port],
        health=HttpCheck(f"http://127.0.0.1:{settings.kube_proxy_healthz_port}/healthz"),
        start_timeout=60.0,
        install_hint=HINT,
        prepare=lambda: write_config(layout),
    )


def cleanup(bin_dir: Path) -> None:
    """`kube-proxy --cleanup`: remove the rules of every proxy mode it knows."""
    binary = bin_dir / "kube-proxy"
    if not binary.exists():
        raise FileNotFoundError(f"{binary} missing: its rules are left to the netfilter sweep")
    result = subprocess.run(
        [str(binary), "--cleanup"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": SYSTEM_PATH},
    )
    if result.returncode != 0:
        raise RuntimeError(f"exit {result.returncode}: {result.stderr.strip()[-400:]}")
