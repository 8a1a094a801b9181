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

from kubernetes.client.exceptions import ApiException

from tier0_operator.consts import LEASE_PREFIX
from tier0_operator.kube import Kube


def lease_name(service: str) -> str:
    return f"{LEASE_PREFIX}{service}"


def acquire(kube: Kube, namespace: str, services: Iterable[str], holder: str) -> str | None:
    """Take every Service's Lease for `holder`; None on success, else the other holder."""
    taken: list[str] = []
    for service in sorted(set(services)):
        lease = {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": lease_name(service), "namespace": namespace},
            "spec": {"holderIdentity": holder},
        }
        try:
            kube.raw(kube.coordination.create_namespaced_lease, namespace, lease)
            taken.append(service)
            continue
        except ApiException as exc:
            if exc.status != 409:
                release(kube, namespace, taken, holder)
                raise
        current = holder_of(kube, namespace, service)
        if current == holder:
            taken.append(service)
            continue
        release(kube, namespace, taken, holder)
        return current or "unknown"
    return None


def holder_of(kube: Kube, namespace: str, service: str) -> str | None:
    try:
        lease = kube.raw(kube.coordination.read_namespaced_lease, lease_name(service), namespace)
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise
    holder: str | None = (lease.get("spec") or {}).get("holderIdentity")
    return holder


def release(kube: Kube, namespace: str, services: Iterable[str], holder: str) -> None:
    """Drop the Leases `holder` holds; Leases held by someone else are left alone."""
    for service in services:
        break_lease(kube, namespace, service, holder)


def break_lease(kube: Kube, namespace: str, service: str, holder: str) -> bool:
    """Delete a Service's Lease if (and only if) `holder` still holds it."""
    name = lease_name(service)
    try:
        lease = kube.raw(kube.coordination.read_namespaced_lease, name, namespace)
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise
    if (lease.get("spec") or {}).get("holderIdentity") != holder:
        return False
    version = lease["metadata"]["resourceVersion"]
    try:
        kube.raw(
            kube.coordination.delete_namespaced_lease,
            name,
            namespace,
            body={"preconditions": {"resourceVersion": version}},
        )
    except ApiException as exc:
        if exc.status in (404, 409):
            return False
        raise
    return True
