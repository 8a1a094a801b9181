"""The pod network: one bridge, host-local addresses, port maps and a firewall pass.

Written into a private folder that only our containerd reads (not /etc/cni/net.d), so
no other runtime on the machine picks it up. The `firewall` plugin is there because a
FORWARD policy of DROP (dockerd sets one) would otherwise silently drop pod traffic;
the plugin adds explicit ACCEPT rules for the pod addresses.
"""

from __future__ import annotations

import json
from typing import Any

from .layout import NodeLayout

CNI_BIN_DIR = "/usr/lib/cni"
NETWORK_NAME = "tier0"
CONFLIST = "10-tier0.conflist"


def conflist(layout: NodeLayout) -> dict[str, Any]:
    settings = layout.settings
    return {
        "cniVersion": "1.0.0",
        "name": NETWORK_NAME,
        "plugins": [
            {
                "type": "bridge",
                "bridge": settings.bridge,
                "isGateway": True,
                "ipMasq": True,
                "hairpinMode": True,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{"subnet": settings.pod_cidr, "gateway": layout.gateway_ip}]],
                    "routes": [{"dst": "0.0.0.0/0"}],
                    "dataDir": str(layout.cni_data_dir),
                },
            },
            {"type": "portmap", "capabilities": {"portMappings": True}},
            {"type": "firewall"},
        ],
    }


def write_config(layout: NodeLayout) -> None:
    layout.cni_conf_dir.mkdir(parents=True, exist_ok=True)
    layout.cni_data_dir.mkdir(parents=True, exist_ok=True)
    (layout.cni_conf_dir / CONFLIST).write_text(json.dumps(conflist(layout), indent=2) + "\n")
