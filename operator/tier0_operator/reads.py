"""Everything a failover reads before it decides, fetched at once.

Why a module of its own: a failover's latency is the sum of the round trips on its
path, and the reads it needs (the Services, the target region's pods, its Deployment
and health URL for the gates, and each Service's EndpointSlices to watch from) do not
depend on one another. They run concurrently on a small thread pool (blocking I/O
releases the GIL), so the decision waits for the slowest read, not the sum.

The lists are served from the API server's watch cache (`resourceVersion=0`) rather
than as consistent reads. Since Kubernetes 1.31 (ConsistentListFromCache) a consistent
list waits until the resource's watch cache has caught up with etcd's latest
revision; right after a write to any other resource - the RegionFailover's creation,
a status write, the Service patch - the cache has seen no event of its own and waits
for an etcd progress notification, which the API server requests on a 100 ms tick:
about 50 ms per list on average, measured here. A watch-cache list may be a few
milliseconds behind, exactly like any informer's view; the EndpointSlice wait then
watches from the listed resourceVersion, so no later change is missed.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
from kubernetes.client.exceptions import ApiException

from tier0_operator.consts import SERVICE_NAME_LABEL
from tier0_operator.health import http_ok
from tier0_operator.kube import Kube

#: Threads for concurrent reads; a failover of N Services issues about 2N + 3 reads.
READ_WORKERS = 16
#: "Any version the watch cache has": no wait for a progress notification.
FROM_CACHE = "0"
#: A Service's EndpointSlices by name, and the list's resourceVersion to watch from.
Snapshot = tuple[dict[str, dict[str, Any]], str]


@dataclass(frozen=True)
class Reads:
    """What the reads returned; a Service or Deployment that does not exist is None."""

    services: dict[str, dict[str, Any] | None]
    #: Every pod labelled with the target region (Ready or not).
    target_pods: list[dict[str, Any]]
    slices: dict[str, Snapshot]
    deployment: dict[str, Any] | None = None
    health: tuple[bool, str] | None = None

    @property
    def target_pod_names(self) -> frozenset[str]:
        return frozenset(p["metadata"]["name"] for p in self.target_pods)


@dataclass(frozen=True)
class PendingReads:
    """The reads that need no lock, in flight; `result()` adds the Services read under it."""

    pods: Future[list[dict[str, Any]]]
    slices: dict[str, Future[Snapshot]]
    deployment: Future[dict[str, Any] | None] | None
    health: Future[tuple[bool, str]] | None

    def result(self, services: dict[str, dict[str, Any] | None]) -> Reads:
        return Reads(
            services=services,
            target_pods=self.pods.result(),
            slices={name: f.result() for name, f in self.slices.items()},
            deployment=self.deployment.result() if self.deployment else None,
            health=self.health.result() if self.health else None,
        )


class Reader:
    def __init__(self, kube: Kube, http: httpx.Client) -> None:
        self.kube = kube
        self.http = http
        self.pool = ThreadPoolExecutor(max_workers=READ_WORKERS, thread_name_prefix="rfo-read")

    def start(
        self,
        namespace: str,
        services: tuple[str, ...],
        label: str,
        target: str,
        *,
        deployment: str | None = None,
        health_url: str | None = None,
    ) -> PendingReads:
        """Start the reads that need no lock; `deployment`/`health_url` only for gates.

        The caller takes the lock meanwhile and then reads the Services (`services`):
        only they can be changed by another failover.
        """
        submit = self.pool.submit
        return PendingReads(
            pods=submit(self.target_pods, namespace, label, target, cached=True),
            slices={name: submit(self.slices, namespace, name) for name in services},
            deployment=(
                submit(self._get, self.kube.apps.read_namespaced_deployment, deployment, namespace)
                if deployment
                else None
            ),
            health=submit(http_ok, self.http, health_url) if health_url else None,
        )

    def services(self, namespace: str, names: tuple[str, ...]) -> dict[str, dict[str, Any] | None]:
        """GET each Service (a consistent read, concurrently); None when not found."""
        read = self.kube.core.read_namespaced_service
        if len(names) == 1:
            return {names[0]: self._get(read, names[0], namespace)}
        futures = {name: self.pool.submit(self._get, read, name, namespace) for name in names}
        return {name: f.result() for name, f in futures.items()}

    def target_pods(
        self, namespace: str, label: str, target: str, *, cached: bool
    ) -> list[dict[str, Any]]:
        """Pods labelled with the target region; `cached=False` for a consistent read."""
        listing = self.kube.raw(
            self.kube.core.list_namespaced_pod,
            namespace,
            label_selector=f"{label}={target}",
            **({"resource_version": FROM_CACHE} if cached else {}),
        )
        return list(listing.get("items") or ())

    def slices(self, namespace: str, service: str) -> Snapshot:
        listing = self.kube.raw(
            self.kube.discovery.list_namespaced_endpoint_slice,
            namespace,
            label_selector=f"{SERVICE_NAME_LABEL}={service}",
            resource_version=FROM_CACHE,
        )
        items = {s["metadata"]["name"]: s for s in listing.get("items") or ()}
        return items, str(listing["metadata"]["resourceVersion"])

    def _get(self, call: Callable[..., Any], name: str, namespace: str) -> dict[str, Any] | None:
        try:
            return self.kube.raw(call, name, namespace)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise

    def map(self, call: Callable[[str], None], items: tuple[str, ...]) -> None:
        """Run `call` on every item concurrently (e.g. one patch per Service)."""
        if len(items) == 1:
            call(items[0])
            return
        for future in [self.pool.submit(call, item) for item in items]:
            future.result()

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
