"""One failover at a time per Service, with coordination.k8s.io Leases.

Each Service a failover moves gets a Lease named `tier0-failover-svc-<service>` held
by the RegionFailover's name. Creating a Lease is atomic on the API server, so two
operators (or two handler threads) can never both hold one; acquiring in sorted
order and releasing all on a partial failure rules out deadlock. Locking Services
rather than group names also keeps an inline request and a FailoverGroup request
that share a Service from interleaving.
"""

from __future__ import annotations

from collections.abc import Iterable

from tier0_operator.cluster import Cluster, ClusterError
from tier0_operator.consts import LEASE_PREFIX
from tier0_operator.custom_objects import failover_finished


def lease_name(service: str) -> str:
    return f"{LEASE_PREFIX}{service}"


def acquire(cluster: Cluster, namespace: str, services: Iterable[str], holder: str) -> str | None:
    """Take every Service's Lease for `holder`; None on success, else the other holder."""
    taken: list[str] = []
    for service in sorted(set(services)):
        try:
            created = cluster.create_lease(namespace, lease_name(service), holder)
        except ClusterError:
            release(cluster, namespace, taken, holder)
            raise
        if created:
            taken.append(service)
            continue
        current = holder_of(cluster, namespace, service)
        if current == holder:
            taken.append(service)
            continue
        release(cluster, namespace, taken, holder)
        return current or "unknown"
    return None


def acquire_or_break_stale(
    cluster: Cluster, namespace: str, services: tuple[str, ...], holder: str
) -> str | None:
    """Like :func:`acquire`, but a lock whose holder is gone or finished (it died
    before releasing) is broken and taken."""
    current = acquire(cluster, namespace, services, holder)
    if current is not None and failover_finished(cluster, namespace, current):
        for service in services:
            break_lease(cluster, namespace, service, current)
        current = acquire(cluster, namespace, services, holder)
    return current


def holder_of(cluster: Cluster, namespace: str, service: str) -> str | None:
    lease = cluster.get_lease(namespace, lease_name(service))
    if lease is None:
        return None
    holder: str | None = (lease.get("spec") or {}).get("holderIdentity")
    return holder


def release(cluster: Cluster, namespace: str, services: Iterable[str], holder: str) -> None:
    """Drop the Leases `holder` holds; Leases held by someone else are left alone."""
    for service in services:
        break_lease(cluster, namespace, service, holder)


def break_lease(cluster: Cluster, namespace: str, service: str, holder: str) -> bool:
    """Delete a Service's Lease if (and only if) `holder` still holds it."""
    name = lease_name(service)
    lease = cluster.get_lease(namespace, name)
    if lease is None or (lease.get("spec") or {}).get("holderIdentity") != holder:
        return False
    return cluster.delete_lease(namespace, name, lease["metadata"]["resourceVersion"])
