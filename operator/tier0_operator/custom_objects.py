"""All reads and writes of our custom objects (RegionFailover, FailoverGroup).

The reconciler and the automation both read objects that may be deleted under them
at any moment; a missing object is an answer (None, "finished", nothing to patch)
rather than an error, and that rule is written once here.
"""

from __future__ import annotations

from tier0_common.failover_crd import FG_PLURAL, RF_PLURAL, TERMINAL_PHASES
from tier0_operator.cluster import Cluster, ClusterError, Json


def get_failover(cluster: Cluster, namespace: str, name: str) -> Json | None:
    return cluster.get_custom(namespace, RF_PLURAL, name)


def get_group(cluster: Cluster, namespace: str, name: str) -> Json | None:
    return cluster.get_custom(namespace, FG_PLURAL, name)


def failover_finished(cluster: Cluster, namespace: str, name: str) -> bool:
    """True when the RegionFailover is gone or in a terminal phase."""
    obj = get_failover(cluster, namespace, name)
    return obj is None or (obj.get("status") or {}).get("phase") in TERMINAL_PHASES


def write_failover_status(cluster: Cluster, namespace: str, name: str, status: Json) -> None:
    """Merge ``status`` into a RegionFailover's; a deleted one stops the failover (an error)."""
    if not cluster.patch_custom_status(namespace, RF_PLURAL, name, status):
        raise ClusterError(404, f"RegionFailover {namespace}/{name} was deleted")


def create_failover(cluster: Cluster, namespace: str, body: Json) -> str:
    """Create a RegionFailover; returns its name (bodies use generateName)."""
    created = cluster.create_custom(namespace, RF_PLURAL, body)
    return str(created["metadata"]["name"])


def group_status(cluster: Cluster, namespace: str, name: str) -> Json:
    """A FailoverGroup's status ({} when it has none or is gone)."""
    return dict((get_group(cluster, namespace, name) or {}).get("status") or {})


def patch_group_status(cluster: Cluster, namespace: str, name: str, patch: Json) -> None:
    """Merge ``patch`` into a FailoverGroup's status; a deleted group is left alone."""
    cluster.patch_custom_status(namespace, FG_PLURAL, name, patch)


def patch_group(cluster: Cluster, namespace: str, name: str, patch: Json) -> None:
    """Merge ``patch`` into a FailoverGroup (its metadata, e.g. dropping an annotation)."""
    cluster.patch_custom(namespace, FG_PLURAL, name, patch)
