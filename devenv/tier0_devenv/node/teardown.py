"""`down`: undo everything `up` did, in the order that leaves nothing behind.

Workloads go first, while the kubelet still runs, so that it stops every pod sandbox
and the CNI plugins delete their veths, addresses and port-map rules. Then the
processes stop newest first (containerd's shims outlive containerd, so they are found
by our socket in their command line), kube-proxy removes its rules, and the rest of
the host state is swept against the inventory `up` recorded: bridge, KUBE-/CNI-
chains and tables that did not exist before, sysctls, kubepods cgroups, mounts under
the work dir and new /run/netns entries, the work dir itself. Each step runs even if
an earlier one failed (a half-started node must still be cleaned up); the result is
the list of what is still there, checked rather than assumed.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from ..k8s.binaries import bin_dir
from ..k8s.cluster import LocalCluster
from ..processes import Supervisor, descendants, process_alive, process_cmdline
from ..steps import Progress
from . import host, kube_proxy, service_range
from .inventory import (
    CHAIN_PREFIXES,
    KUBE_NFT_TABLES,
    NETNS_DIR,
    SYSTEM_DIRS,
    Snapshot,
    changed_sysctls,
    kube_cgroups,
    leftovers,
    mounts_under,
    new_netns,
    nft_ruleset,
    our_links,
    our_processes,
)
from .layout import NodeLayout

_POLL = 0.5


def _quiet(argv: list[str], timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)


def control_plane(layout: NodeLayout) -> LocalCluster:
    """The node's control plane as recorded in its work dir (ports from cluster.json)."""
    return LocalCluster(layout.k8s_dir, node_ip=layout.node_ip)


def delete_workloads(layout: NodeLayout, progress: Progress, timeout: float = 120.0) -> None:
    """Delete every pod through the API and wait until the kubelet has stopped them all."""
    cluster = control_plane(layout)
    supervisor = Supervisor(layout.workdir)
    if not cluster.kubeconfig.exists() or supervisor.owned_pid("kubelet") is None:
        progress("  no running kubelet: skipping (the sweep below removes what pods left)")
        return
    try:
        cluster.kubectl("get", "--raw", "/readyz", timeout=10)
    except Exception:  # noqa: BLE001 - any failure means no usable apiserver
        progress("  apiserver not answering: skipping")
        return
    kinds = "deployments,statefulsets,daemonsets,replicasets,jobs,cronjobs"
    cluster.kubectl("delete", kinds, "--all", "-A", "--wait=false", timeout=60)
    cluster.kubectl("delete", "pods", "--all", "-A", "--grace-period=5", "--wait=false", timeout=60)
    deadline = time.monotonic() + timeout
    while True:
        pods = json.loads(cluster.kubectl("get", "pods", "-A", "-o", "json", timeout=30))["items"]
        if not pods:
            return
        if time.monotonic() >= deadline:
            names = ", ".join(p["metadata"]["name"] for p in pods[:5])
            progress(f"  {len(pods)} pod(s) still terminating after {timeout:.0f}s ({names})")
            return
        time.sleep(_POLL)


def stop_processes(layout: NodeLayout, progress: Progress) -> None:
    supervisor = Supervisor(layout.workdir)
    for name in reversed(supervisor.recorded_names()):
        supervisor.stop(name, timeout=30.0)
        progress(f"  stopped {name}")
    control_plane(layout).stop()
    progress("  stopped the control plane")


def kill_leftover_processes(layout: NodeLayout, progress: Progress) -> None:
    """containerd shims (they name our socket) and the containers below them."""
    socket = str(layout.containerd_socket)
    victims: list[int] = []
    for pid in our_processes(layout):
        if any(socket in part for part in process_cmdline(pid)):
            victims += [*descendants(pid), pid]
    for pid in victims:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 10
    while any(process_alive(p) for p in victims) and time.monotonic() < deadline:
        time.sleep(0.1)
    if victims:
        progress(f"  killed {len(victims)} leftover process(es) (shims and their containers)")


def unmount_all(layout: NodeLayout, snapshot: Snapshot | None, progress: Progress) -> None:
    netns = [NETNS_DIR / name for name in new_netns(snapshot)] if snapshot else []
    ours = [layout.workdir, *netns]
    if snapshot is not None and str(NETNS_DIR) not in snapshot.system_dirs:
        # containerd made /run/netns a shared bind mount of itself when it created it.
        ours.append(NETNS_DIR)
    points = mounts_under(ours)
    for point in points:
        if _quiet(["umount", point]).returncode != 0:
            _quiet(["umount", "-l", point])
    for path in netns:
        path.unlink(missing_ok=True)
    progress(f"  {len(points)} mount(s), {len(netns)} netns entr(ies)")


def delete_links(layout: NodeLayout, progress: Progress) -> None:
    links = our_links(layout)
    # veths first: deleting the bridge would leave them detached but alive.
    for name in sorted(links, key=lambda n: n == layout.settings.bridge):
        _quiet(["ip", "link", "delete", name])
    progress(f"  deleted {', '.join(links) or 'nothing'}")


def _jumps_to_ours(rule: dict[str, object]) -> bool:
    text = json.dumps(rule.get("expr", []))
    return any(f'"target": "{prefix}' in text for prefix in CHAIN_PREFIXES)


def sweep_netfilter(snapshot: Snapshot | None, progress: Progress) -> None:
    """Remove KUBE-/CNI- chains and the rules that jump to them, then the tables that
    did not exist before `up` and are now empty."""
    ruleset = nft_ruleset()
    for item in ruleset:
        rule = item.get("rule")
        if rule and not rule["chain"].startswith(CHAIN_PREFIXES) and _jumps_to_ours(rule):
            _quiet(["nft", "delete", "rule", rule["family"], rule["table"], rule["chain"],
                    "handle", str(rule["handle"])])  # fmt: skip
    ours = [
        c for item in ruleset if (c := item.get("chain")) and c["name"].startswith(CHAIN_PREFIXES)
    ]
    for chain in ours:
        _quiet(["nft", "flush", "chain", chain["family"], chain["table"], chain["name"]])
    for chain in ours:
        _quiet(["nft", "delete", "chain", chain["family"], chain["table"], chain["name"]])
    deleted = []
    before = set(map(tuple, snapshot.tables)) if snapshot else set()
    ruleset = nft_ruleset()
    busy = {(r["family"], r["table"]) for item in ruleset if (r := item.get("rule"))}
    for item in ruleset:
        table = item.get("table")
        if not table:
            continue
        key = (table["family"], table["name"])
        ours_by_name = table["name"] in KUBE_NFT_TABLES
        if key not in before and (ours_by_name or key not in busy):
            _quiet(["nft", "delete", "table", *key])
            deleted.append(" ".join(key))
    progress(f"  {len(ours)} chain(s); tables deleted: {', '.join(deleted) or 'none'}")


def remove_service_range(progress: Progress) -> None:
    removed = service_range.delete()
    progress(f"  {'deleted' if removed else 'no'} table {service_range.TABLE}")


def restore_sysctls(snapshot: Snapshot | None, progress: Progress) -> None:
    if snapshot is None:
        progress("  no inventory: sysctls left as they are")
        return
    changed = changed_sysctls(snapshot)
    for name, (before, _now) in changed.items():
        try:
            (Path("/proc/sys") / name).write_text(before + "\n")
        except OSError as exc:
            progress(f"  cannot restore {name}: {exc}")
    progress(f"  restored {', '.join(changed) or 'nothing (none changed)'}")


def remove_cgroups(progress: Progress) -> None:
    removed = 0
    for _attempt in range(20):
        roots = kube_cgroups()
        if not roots:
            break
        for root in roots:
            # Children before parents: rmdir only works on a cgroup without sub-cgroups.
            for folder in sorted(
                (p for p in root.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)
            ):
                removed += _rmdir(folder)
            removed += _rmdir(root)
        time.sleep(0.2)
    progress(f"  removed {removed} cgroup folder(s)")


def _rmdir(path: Path) -> int:
    try:
        path.rmdir()
        return 1
    except OSError:
        return 0


def remove_folders(layout: NodeLayout, snapshot: Snapshot | None, progress: Progress) -> None:
    existed = set(snapshot.system_dirs) if snapshot else {str(d) for d in SYSTEM_DIRS}
    for folder in SYSTEM_DIRS:
        if folder.exists() and str(folder) not in existed:
            shutil.rmtree(folder, ignore_errors=True)
    # A mount the unmount step could not remove may be a bind of a host folder (a
    # hostPath volume): deleting through it would empty that folder, so the work dir
    # stays and `down` reports the mount. (rm's --one-file-system does not help: a bind
    # of the same filesystem has the same device.)
    stuck = mounts_under([layout.workdir])
    if stuck:
        progress(f"  {len(stuck)} mount(s) still under {layout.workdir}: not deleting it")
        return
    # rm is several times faster than shutil.rmtree on containerd's unpacked layers.
    _quiet(["rm", "-rf", str(layout.workdir)], timeout=900)
    host.release(layout.workdir)
    progress(f"  removed {layout.workdir}")


def teardown(layout: NodeLayout, progress: Progress) -> list[str]:
    """Run every step (each even if an earlier one failed); return what is left."""
    snapshot = Snapshot.load(layout.inventory_file)
    node_bins = _node_bin_dir()
    steps: list[tuple[str, Callable[[], None]]] = [
        ("delete workloads", lambda: delete_workloads(layout, progress)),
        ("stop processes", lambda: stop_processes(layout, progress)),
        ("kill leftover shims", lambda: kill_leftover_processes(layout, progress)),
        (
            "kube-proxy --cleanup",
            lambda: kube_proxy.cleanup(node_bins),
        ),
        ("unmount", lambda: unmount_all(layout, snapshot, progress)),
        ("delete links", lambda: delete_links(layout, progress)),
        ("netfilter", lambda: sweep_netfilter(snapshot, progress)),
        ("Service range", lambda: remove_service_range(progress)),
        ("sysctls", lambda: restore_sysctls(snapshot, progress)),
        ("cgroups", lambda: remove_cgroups(progress)),
        ("folders", lambda: remove_folders(layout, snapshot, progress)),
    ]
    for name, run in steps:
        began = time.monotonic()
        progress(f"down: {name}")
        try:
            run()
        except Exception as exc:  # noqa: BLE001 - every step must still run
            progress(f"  step {name} failed: {exc}")
        progress(f"  ({time.monotonic() - began:.1f}s)")
    return leftovers(layout, snapshot)


def _node_bin_dir() -> Path:
    try:
        return bin_dir(node=True)
    except (OSError, subprocess.CalledProcessError):
        return Path("/nonexistent")
