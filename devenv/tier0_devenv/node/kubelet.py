"""The real kubelet: configuration that works on these machines, and its process spec.

Each non-default setting is here because the machine needs it: cgroup v1 (deprecated
in 1.36, so `failCgroupV1: false`) through the cgroupfs driver (no systemd), swap
tolerated, image garbage collection off (imported images cannot be pulled again, so
collecting one would break the next pod that needs it), eviction thresholds low (a
shared build disk is often fuller than the 10-15 % defaults allow), and every folder
and port private. The apiserver authenticates with a client certificate of our CA,
anything else is rejected (no anonymous access to exec/logs).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..k8s.pki import Pki
from ..processes import HttpCheck, ProcessSpec
from .containerd import SYSTEM_PATH
from .layout import NodeLayout

HINT = "run devenv/k8s/build.sh --node"


def config(layout: NodeLayout, pki: Pki) -> dict[str, Any]:
    settings = layout.settings
    return {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "address": layout.node_ip,
        "port": settings.kubelet_port,
        "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1",
        "healthzPort": settings.kubelet_healthz_port,
        "containerRuntimeEndpoint": f"unix://{layout.containerd_socket}",
        "cgroupDriver": "cgroupfs",
        "failCgroupV1": False,
        "failSwapOn": False,
        "clusterDNS": [settings.dns_ip],
        "clusterDomain": "cluster.local",
        "resolvConf": "/etc/resolv.conf",
        "imageGCHighThresholdPercent": 100,
        "imageGCLowThresholdPercent": 99,
        "evictionHard": {
            "memory.available": "100Mi",
            "nodefs.available": "1%",
            "nodefs.inodesFree": "1%",
            "imagefs.available": "1%",
        },
        "podLogsDir": str(layout.pod_logs_dir),
        "serializeImagePulls": False,
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"enabled": True},
            "x509": {"clientCAFile": str(pki.ca_cert)},
        },
        "authorization": {"mode": "Webhook"},
        "rotateCertificates": False,
        "serverTLSBootstrap": False,
        # Pods come up one after another on 2 cores; the default 2-minute limit on a
        # registry pull does not apply (images are local) but a slow start does.
        "runtimeRequestTimeout": "5m",
        "maxPods": 110,
    }


def write_config(layout: NodeLayout, pki: Pki) -> None:
    for folder in (layout.kubelet_config.parent, layout.kubelet_root, layout.pod_logs_dir):
        folder.mkdir(parents=True, exist_ok=True)
    # JSON is YAML: the kubelet reads it as its --config file.
    layout.kubelet_config.write_text(json.dumps(config(layout, pki), indent=2) + "\n")


def spec(layout: NodeLayout, pki: Pki, bin_dir: Path) -> ProcessSpec:
    settings = layout.settings
    return ProcessSpec(
        name="kubelet",
        argv=[
            str(bin_dir / "kubelet"),
            f"--config={layout.kubelet_config}",
            f"--kubeconfig={layout.kubeconfig}",
            f"--root-dir={layout.kubelet_root}",
            f"--cert-dir={layout.kubelet_root / 'pki'}",
            f"--hostname-override={settings.node_name}",
            f"--node-ip={layout.node_ip}",
        ],
        env={"PATH": SYSTEM_PATH},
        ports=[settings.kubelet_port, settings.kubelet_healthz_port],
        health=HttpCheck(f"http://127.0.0.1:{settings.kubelet_healthz_port}/healthz"),
        start_timeout=90.0,
        stop_timeout=30.0,
        install_hint=HINT,
        prepare=lambda: write_config(layout, pki),
    )
