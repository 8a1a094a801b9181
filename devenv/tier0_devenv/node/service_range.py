"""Keep the Service range on this machine: un-NATed ClusterIP packets fail here at once.

kube-proxy turns a packet to a ClusterIP into one to a pod by DNAT. A packet that no
rule matched (a Service whose endpoints are all gone, a stale ClusterIP) keeps its
10.96.x.x address, and with no route of its own the host sends it to its default
gateway: traffic off the machine, and on the dev VM that gateway even answered (HTTP
404), so a region with no pods looked alive to the operator's probes.

A host route (`ip route add unreachable <range>`) is not the fix: the kernel routes a
locally generated packet before the nat OUTPUT hook, so such a route makes every
ClusterIP unreachable from the host itself (connect() fails with "No route to host"
even where kube-proxy would DNAT). Instead a small nftables table of ours rejects,
in the output and forward hooks at filter priority (after kube-proxy's nat at -100,
so a DNATed packet already carries the pod's address), whatever still goes to the
Service range: the sender, host or pod, gets "host unreachable" at once. `up` adds it
and records it in the inventory; `down` deletes it; the leftover checks list it.
"""

from __future__ import annotations

import ipaddress
import subprocess

from ..k8s.components import SERVICE_CIDR
from ..processes import DevenvError

FAMILY = "ip"
#: Our table's name (not a KUBE-/CNI- prefix: kube-proxy --cleanup must not own it).
TABLE = "tier0-service-range"


def cidr() -> str:
    """The control plane's Service range (--service-cluster-ip-range)."""
    return str(ipaddress.ip_network(SERVICE_CIDR))


def ruleset(service_cidr: str) -> str:
    """The nft script that (re)creates our table; applying it twice leaves one copy."""
    network = ipaddress.ip_network(service_cidr)
    if network.version != 4:
        raise ValueError(f"Service range {service_cidr} is not IPv4 (the node is IPv4-only)")
    reject = f"ip daddr {network} reject with icmp type host-unreachable"
    return "\n".join(
        [
            # Declaring then flushing makes the script idempotent (a re-run `up`).
            f"table {FAMILY} {TABLE} {{}}",
            f"flush table {FAMILY} {TABLE}",
            f"table {FAMILY} {TABLE} {{",
            "  chain output {",
            "    type filter hook output priority filter; policy accept;",
            f"    {reject}",
            "  }",
            "  chain forward {",
            "    type filter hook forward priority filter; policy accept;",
            f"    {reject}",
            "  }",
            "}",
            "",
        ]
    )


def add_argv() -> list[str]:
    return ["nft", "-f", "-"]


def delete_argv() -> list[str]:
    return ["nft", "delete", "table", FAMILY, TABLE]


def present() -> bool:
    out = subprocess.run(
        ["nft", "list", "table", FAMILY, TABLE], capture_output=True, text=True, timeout=30
    )
    return out.returncode == 0


def add(service_cidr: str) -> None:
    out = subprocess.run(
        add_argv(), input=ruleset(service_cidr), capture_output=True, text=True, timeout=30
    )
    if out.returncode != 0:
        raise DevenvError(f"nft could not add table {TABLE}: {out.stderr.strip()}")


def delete() -> bool:
    """Delete our table; True when it was there."""
    if not present():
        return False
    subprocess.run(delete_argv(), capture_output=True, text=True, timeout=30)
    return True
