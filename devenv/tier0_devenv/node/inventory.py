"""What the host looked like before `up`, and what of ours is on it now.

`up` records the machine-wide state it is about to change (netfilter tables, sysctls,
network namespaces, a few system folders) before starting anything; `down` uses the
record to undo exactly that, and `leftovers()` lists whatever of ours is still there
afterwards (processes, links, rules, mounts, cgroups, folders) so teardown can say
so instead of claiming success. Only things that are recognisably ours are listed:
paths under the work dir, our bridge, KUBE-/CNI- chains, kubepods cgroups.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..processes import process_cmdline
from . import service_range
from .layout import KUBE_CGROUPS, NodeLayout

#: Every sysctl the kubelet, kube-proxy or the bridge plugin may set on this machine.
SYSCTLS = (
    "net/ipv4/ip_forward",
    "net/ipv6/conf/all/forwarding",
    "net/ipv4/conf/all/route_localnet",
    "net/bridge/bridge-nf-call-iptables",
    "net/bridge/bridge-nf-call-ip6tables",
    "net/netfilter/nf_conntrack_max",
    "net/netfilter/nf_conntrack_tcp_timeout_established",
    "net/netfilter/nf_conntrack_tcp_timeout_close_wait",
    "net/netfilter/nf_conntrack_tcp_be_liberal",
    "vm/overcommit_memory",
    "vm/panic_on_oom",
    "kernel/panic",
    "kernel/panic_on_oops",
    "kernel/keys/root_maxkeys",
    "kernel/keys/root_maxbytes",
)
#: Chains of kube-proxy (iptables mode) and the CNI plugins.
CHAIN_PREFIXES = ("KUBE-", "CNI-")
#: nftables tables kube-proxy's nftables mode creates.
KUBE_NFT_TABLES = ("kube-proxy",)
NETNS_DIR = Path("/run/netns")
CGROUP_ROOT = Path("/sys/fs/cgroup")
#: System folders the kubelet or containerd create outside the work dir.
SYSTEM_DIRS = (Path("/var/log/containers"), Path("/run/containerd"), NETNS_DIR)


def read_sysctl(name: str) -> str | None:
    try:
        return (Path("/proc/sys") / name).read_text().strip()
    except OSError:
        return None


def nft_ruleset() -> list[dict[str, Any]]:
    out = subprocess.run(["nft", "-j", "list", "ruleset"], capture_output=True, text=True)
    if out.returncode != 0 or not out.stdout.strip():
        return []
    items: list[dict[str, Any]] = json.loads(out.stdout).get("nftables", [])
    return items


def nft_tables() -> list[tuple[str, str]]:
    return sorted(
        (item["table"]["family"], item["table"]["name"])
        for item in nft_ruleset()
        if "table" in item
    )


@dataclass
class Snapshot:
    """The host state `down` restores, recorded by `up` before it changes anything."""

    tables: list[tuple[str, str]] = field(default_factory=list)
    sysctls: dict[str, str] = field(default_factory=dict)
    netns: list[str] = field(default_factory=list)
    system_dirs: list[str] = field(default_factory=list)
    #: The Service range `up` keeps on this machine (service_range.py); empty until then.
    service_range: str = ""

    @classmethod
    def take(cls) -> Snapshot:
        return cls(
            tables=nft_tables(),
            sysctls={n: v for n in SYSCTLS if (v := read_sysctl(n)) is not None},
            netns=sorted(p.name for p in NETNS_DIR.glob("*")) if NETNS_DIR.is_dir() else [],
            system_dirs=[str(d) for d in SYSTEM_DIRS if d.exists()],
        )

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> Snapshot | None:
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        return cls(
            tables=[(str(f), str(n)) for f, n in data.get("tables", [])],
            sysctls={str(k): str(v) for k, v in data.get("sysctls", {}).items()},
            netns=[str(n) for n in data.get("netns", [])],
            system_dirs=[str(d) for d in data.get("system_dirs", [])],
            service_range=str(data.get("service_range", "")),
        )


# --- what of ours is there now ---------------------------------------------------------


def our_processes(layout: NodeLayout) -> list[int]:
    """Processes whose command line names the work dir (daemons, shims via the socket)."""
    marker = str(layout.workdir)
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and any(
            marker in part for part in process_cmdline(int(entry.name))
        ):
            found.append(int(entry.name))
    return sorted(found)


def our_links(layout: NodeLayout) -> list[str]:
    """Our bridge and every interface enslaved to it (the pods' host-side veths)."""
    out = subprocess.run(["ip", "-j", "link", "show"], capture_output=True, text=True)
    links = json.loads(out.stdout or "[]")
    bridge = layout.settings.bridge
    return [
        str(link["ifname"])
        for link in links
        if link.get("ifname") == bridge or link.get("master") == bridge
    ]


def our_chains() -> list[tuple[str, str, str]]:
    """(family, table, chain) of KUBE-/CNI- chains in any table."""
    return [
        (c["family"], c["table"], c["name"])
        for item in nft_ruleset()
        if (c := item.get("chain")) and c["name"].startswith(CHAIN_PREFIXES)
    ]


def mounts_under(paths: list[Path]) -> list[str]:
    """Mount points at or below any of ``paths``, deepest first."""
    found = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4].replace("\\040", " ")
        if any(point == str(p) or point.startswith(f"{p}/") for p in paths):
            found.append(point)
    return sorted(set(found), key=lambda p: (-p.count("/"), p), reverse=False)


def new_netns(snapshot: Snapshot) -> list[str]:
    if not NETNS_DIR.is_dir():
        return []
    return sorted(p.name for p in NETNS_DIR.iterdir() if p.name not in snapshot.netns)


def kube_cgroups() -> list[Path]:
    """kubepods folders in every cgroup hierarchy (v1 controllers or the v2 root)."""
    found = []
    roots = (
        [CGROUP_ROOT, *[d for d in CGROUP_ROOT.iterdir() if d.is_dir()]]
        if CGROUP_ROOT.is_dir()
        else []
    )
    for root in roots:
        for name in KUBE_CGROUPS:
            if (root / name).is_dir():
                found.append(root / name)
    return found


def changed_sysctls(snapshot: Snapshot) -> dict[str, tuple[str, str | None]]:
    return {
        name: (before, now)
        for name, before in snapshot.sysctls.items()
        if (now := read_sysctl(name)) != before
    }


def leftovers(layout: NodeLayout, snapshot: Snapshot | None) -> list[str]:
    """Human-readable lines, one per thing of ours still on the host; empty when clean."""
    lines = []
    for pid in our_processes(layout):
        lines.append(f"process {pid}: {' '.join(process_cmdline(pid))[:120]}")
    lines += [f"link {name}" for name in our_links(layout)]
    lines += [f"netfilter chain {f} {t} {c}" for f, t, c in our_chains()]
    guard = (service_range.FAMILY, service_range.TABLE)
    tables_now = [t for t in nft_tables() if t != guard]
    if service_range.present():
        lines.append(f"nft table {' '.join(guard)} (rejects the Service range)")
    if snapshot is not None:
        lines += [f"nft table {f} {n}" for f, n in tables_now if (f, n) not in snapshot.tables]
        lines += [f"netns /run/netns/{n}" for n in new_netns(snapshot)]
        for name, (before, now) in changed_sysctls(snapshot).items():
            lines.append(f"sysctl {name} = {now} (was {before})")
        lines += [
            f"folder {d}" for d in SYSTEM_DIRS if d.exists() and str(d) not in snapshot.system_dirs
        ]
    else:
        lines += [f"nft table {f} {n}" for f, n in tables_now if n in KUBE_NFT_TABLES]
    lines += [f"mount {point}" for point in mounts_under([layout.workdir])]
    lines += [f"cgroup {path}" for path in kube_cgroups()]
    if layout.workdir.exists():
        lines.append(f"folder {layout.workdir}")
    return lines
