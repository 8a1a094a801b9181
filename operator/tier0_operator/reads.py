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

import httpx

from tier0_operator.cluster import Cluster, Json, SliceListing
from tier0_operator.health import http_ok

#: Threads for concurrent reads; a failover of N Services issues about 2N + 3 reads.
READ_WORKERS = 16


@dataclass(frozen=True)
class Reads:
    """What the reads returned; a Service or Deployment that does not exist is None."""

    services: dict[str, Json | None]
    #: Every pod labelled with the target region (Ready or not).
    target_pods: list[Json]
    slices: dict[str, SliceListing]
    deployment: Json | None = None
    health: tuple[bool, str] | None = None

    @property
    def target_pod_names(self) -> frozenset[str]:
        return frozenset(p["metadata"]["name"] for p in self.target_pods)


@dataclass(frozen=True)
class PendingReads:
    """The reads that need no lock, in flight; `result()` adds the Services read under it."""

    pods: Future[list[Json]]
    slices: dict[str, Future[SliceListing]]
    deployment: Future[Json | None] | None
    health: Future[tuple[bool, str]] | None

    def result(self, services: dict[str, Json | None]) -> Reads:
        return Reads(
            services=services,
            target_pods=self.pods.result(),
            slices={name: f.result() for name, f in self.slices.items()},
            deployment=self.deployment.result() if self.deployment else None,
            health=self.health.result() if self.health else None,
        )


class Reader:
    def __init__(self, cluster: Cluster, http: httpx.Client) -> None:
        self.cluster = cluster
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
        cluster = self.cluster
        return PendingReads(
            pods=submit(self.target_pods, namespace, label, target, cached=True),
            slices={
                name: submit(cluster.list_endpoint_slices, namespace, name) for name in services
            },
            deployment=(
                submit(cluster.get_deployment, namespace, deployment) if deployment else None
            ),
            health=submit(http_ok, self.http, health_url) if health_url else None,
        )

    def services(self, namespace: str, names: tuple[str, ...]) -> dict[str, Json | None]:
        """GET each Service (a consistent read, concurrently); None when not found."""
        read = self.cluster.get_service
        if len(names) == 1:
            return {names[0]: read(namespace, names[0])}
        futures = {name: self.pool.submit(read, namespace, name) for name in names}
        return {name: f.result() for name, f in futures.items()}

    def target_pods(self, namespace: str, label: str, target: str, *, cached: bool) -> list[Json]:
        """Pods labelled with the target region; `cached=False` for a consistent read."""
        return self.cluster.list_pods(namespace, f"{label}={target}", cached=cached)

    def map(self, call: Callable[[str], None], items: tuple[str, ...]) -> None:
        """Run `call` on every item concurrently (e.g. one patch per Service)."""
        if len(items) == 1:
            call(items[0])
            return
        for future in [self.pool.submit(call, item) for item in items]:
            future.result()

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
