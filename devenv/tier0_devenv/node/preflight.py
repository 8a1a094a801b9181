"""Can this machine run a real node? One check per requirement, all reported at once.

A real node needs root, a kernel with overlayfs, bridges with netfilter hooks,
network namespaces, cgroups and nf_tables, and a handful of programs. When something
is missing, `up` stops before touching the host with one message listing every
missing piece and what installs it, and points at `make up`, which runs the same
product as plain processes without any of this.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from ..processes import DevenvError, port_listener
from . import host
from .cni import CNI_BIN_DIR
from .inventory import CHAIN_PREFIXES, our_chains
from .layout import NodeLayout

FALLBACK = "fall back to `make up` (the same services as local processes, no Kubernetes node)"
APT = "apt-get install"
#: program -> the Debian package that ships it.
PROGRAMS = {
    "containerd": "containerd",
    "containerd-shim-runc-v2": "containerd",
    "ctr": "containerd",
    "runc": "runc",
    "iptables": "iptables",
    "nft": "nftables",
    "conntrack": "conntrack",
    "ip": "iproute2",
    "umount": "mount",
    "umoci": "umoci",
    "skopeo": "skopeo",
    "gcc": "gcc",
}
CNI_PLUGINS = ("bridge", "host-local", "portmap", "firewall", "loopback")
SYSTEM_PATH_DIRS = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")


class PreflightFailed(DevenvError):
    pass


def _which(program: str) -> str | None:
    return shutil.which(program, path=os.pathsep.join(SYSTEM_PATH_DIRS))


def _filesystems() -> str:
    try:
        return Path("/proc/filesystems").read_text()
    except OSError:
        return ""


def kernel_problems() -> list[str]:
    problems = []
    if "overlay" not in _filesystems():
        problems.append("kernel: no overlayfs (modprobe overlay)")
    if not Path("/sys/class/net").exists() or not Path("/sys/module/bridge").exists():
        problems.append("kernel: no bridge support (modprobe bridge)")
    if not Path("/proc/sys/net/bridge/bridge-nf-call-iptables").exists():
        problems.append("kernel: bridged traffic bypasses netfilter (modprobe br_netfilter)")
    cgroup = Path("/sys/fs/cgroup")
    v1 = all((cgroup / c).is_dir() for c in ("cpu", "memory", "pids"))
    if not v1 and not (cgroup / "cgroup.controllers").exists():
        problems.append("kernel: no cgroup v1 cpu/memory/pids hierarchies and no cgroup v2")
    if shutil.which("unshare") and subprocess.run(["unshare", "--net", "true"]).returncode != 0:
        problems.append("kernel or permissions: cannot create a network namespace")
    if (
        _which("nft")
        and subprocess.run(["nft", "list", "tables"], capture_output=True).returncode != 0
    ):
        problems.append("kernel or permissions: nf_tables not usable (`nft list tables` fails)")
    return problems


def program_problems() -> list[str]:
    missing: dict[str, list[str]] = {}
    for program, package in PROGRAMS.items():
        if _which(program) is None:
            missing.setdefault(package, []).append(program)
    for plugin in CNI_PLUGINS:
        if not os.access(Path(CNI_BIN_DIR) / plugin, os.X_OK):
            missing.setdefault("containernetworking-plugins", []).append(f"{CNI_BIN_DIR}/{plugin}")
    return [
        f"missing {', '.join(programs)}: {APT} {package}" for package, programs in missing.items()
    ]


def conflict_problems(layout: NodeLayout) -> list[str]:
    """Another real node, or anything else holding what this node needs."""
    problems = []
    owner = host.claimed_by()
    if owner is not None and owner != layout.workdir and owner.exists():
        problems.append(
            f"another real node runs from {owner}: stop it first "
            f"(TIER0_NODE_WORKDIR={owner} python -m tier0_devenv.node down)"
        )
    elif owner is None:
        foreign = [c for c in our_chains() if c[2].startswith(CHAIN_PREFIXES)]
        if foreign:
            problems.append(
                f"netfilter chains of another Kubernetes node or CNI exist ({foreign[0][2]}, ...): "
                "a second kube-proxy here would fight over them"
            )
    if owner is None or not owner.exists():
        # (Another node's own ports would only repeat the line above.)
        for name, port in layout.settings:
            if name.endswith("_port") and (holder := port_listener(int(port))) is not None:
                problems.append(
                    f"port {port} is in use by {holder[1] or 'another process'}: "
                    f"set TIER0_NODE_{name.upper()} to a free one"
                )
    return problems


def check(layout: NodeLayout, extra: Callable[[], list[str]] | None = None) -> None:
    """Raise PreflightFailed listing every problem found; return quietly otherwise."""
    problems: list[str] = []
    if os.geteuid() != 0:
        problems.append("not root: a real node needs root (mounts, cgroups, netfilter, netns)")
    else:
        problems += kernel_problems()
    problems += program_problems()
    if os.geteuid() == 0:
        problems += conflict_problems(layout)
    if extra is not None:
        problems += extra()
    if problems:
        lines = "\n".join(f"  - {p}" for p in problems)
        raise PreflightFailed(f"this machine cannot run a real node:\n{lines}\nor {FALLBACK}")
