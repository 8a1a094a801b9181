"""The operator's Kubernetes boundary (cluster.py) over the official client.

kopf keeps its own (aiohttp) connection for watching and for its bookkeeping; the
failover actions use the official client, created once here with a pool large enough
for kopf's handler threads. Credentials come from KUBECONFIG or the in-cluster
ServiceAccount, the same way kopf finds them.

Every call asks for the raw JSON (``_preload_content=False``): the judges work on the
API's JSON shape, and skipping the client's model deserialisation keeps the failover
path short. HTTP statuses the callers branch on become values here (see cluster.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from kubernetes import client, config
from kubernetes.client import (
    ApiClient,
    AppsV1Api,
    CoordinationV1Api,
    CoreV1Api,
    CustomObjectsApi,
    DiscoveryV1Api,
)
from kubernetes.client.exceptions import ApiException

from tier0_common import kube_client
from tier0_common.failover_crd import GROUP, VERSION
from tier0_operator.cluster import (
    ClusterError,
    Json,
    Plural,
    SliceEvent,
    SliceListing,
    WatchExpired,
)
from tier0_operator.consts import SERVICE_NAME_LABEL

MERGE_PATCH = "application/merge-patch+json"
#: Handler threads (settings.execution.max_workers) plus the daemons' probe threads.
POOL_SIZE = 32
#: "Any version the watch cache has": no wait for a progress notification (reads.py).
FROM_CACHE = "0"


def _error(exc: ApiException) -> ClusterError:
    return ClusterError(int(exc.status or 0), str(exc.reason or exc))


def _slice_event(event: kube_client.WatchEvent) -> SliceEvent:
    kind = event.get("type")
    if kind not in ("ADDED", "MODIFIED", "DELETED", "BOOKMARK"):
        raise ClusterError(500, f"unexpected watch event type {kind!r}")
    return SliceEvent(kind, event["object"])


class Kube:
    """:class:`tier0_operator.cluster.Cluster` against the API server."""

    def __init__(self, api: ApiClient) -> None:
        self.api = api
        self.core = CoreV1Api(api)
        self.apps = AppsV1Api(api)
        self.discovery = DiscoveryV1Api(api)
        self.custom = CustomObjectsApi(api)
        self.coordination = CoordinationV1Api(api)

    def raw(self, call: Callable[..., Any], *args: object, **kwargs: object) -> Json:
        """Call an API method and return the JSON the server sent (the tests and the
        benchmark use it as their admin client too)."""
        try:
            response = call(*args, _preload_content=False, **kwargs)
        except ApiException as exc:
            raise _error(exc) from exc
        try:
            data = response.read()
        finally:
            # Hand the connection back to the pool explicitly: with preloading off the
            # client leaves that to the caller.
            getattr(response, "response", response).release_conn()
        if not 200 <= response.status < 300:
            raise ClusterError(int(response.status), str(response.reason))
        result: Json = json.loads(data)
        return result

    def _maybe(self, call: Callable[..., Any], *args: object, **kwargs: object) -> Json | None:
        """Like _raw, None for 404."""
        try:
            return self.raw(call, *args, **kwargs)
        except ClusterError as exc:
            if exc.status == 404:
                return None
            raise

    # -- core objects --------------------------------------------------------------------

    def get_service(self, namespace: str, name: str) -> Json | None:
        return self._maybe(self.core.read_namespaced_service, name, namespace)

    def patch_service(self, namespace: str, name: str, patch: Json) -> None:
        # A merge patch (the client would default to JSON Patch).
        self.raw(
            self.core.patch_namespaced_service, name, namespace, patch, _content_type=MERGE_PATCH
        )

    def list_pods(self, namespace: str, label_selector: str, *, cached: bool) -> list[Json]:
        listing = self.raw(
            self.core.list_namespaced_pod,
            namespace,
            label_selector=label_selector,
            **({"resource_version": FROM_CACHE} if cached else {}),
        )
        return list(listing.get("items") or ())

    def get_deployment(self, namespace: str, name: str) -> Json | None:
        return self._maybe(self.apps.read_namespaced_deployment, name, namespace)

    def create_event(self, namespace: str, event: Json) -> None:
        self.raw(self.core.create_namespaced_event, namespace, event)

    # -- EndpointSlices --------------------------------------------------------------------

    def list_endpoint_slices(self, namespace: str, service: str) -> SliceListing:
        listing = self.raw(
            self.discovery.list_namespaced_endpoint_slice,
            namespace,
            label_selector=f"{SERVICE_NAME_LABEL}={service}",
            resource_version=FROM_CACHE,
        )
        items = {s["metadata"]["name"]: s for s in listing.get("items") or ()}
        return SliceListing(items, str(listing["metadata"]["resourceVersion"]))

    @contextmanager
    def watch_endpoint_slices(
        self, namespace: str, service: str, resource_version: str, timeout_seconds: int
    ) -> Iterator[Iterator[SliceEvent]]:
        try:
            with kube_client.watch_stream(
                self.discovery.list_namespaced_endpoint_slice,
                namespace,
                label_selector=f"{SERVICE_NAME_LABEL}={service}",
                resource_version=resource_version,
                timeout_seconds=timeout_seconds,
                allow_watch_bookmarks=True,
                deserialize=False,
            ) as events:
                yield (_slice_event(event) for event in events)
        except ApiException as exc:
            if exc.status == 410:  # Gone: history compacted
                raise WatchExpired(str(exc.reason)) from exc
            raise _error(exc) from exc

    # -- Leases ------------------------------------------------------------------------------

    def create_lease(self, namespace: str, name: str, holder: str) -> bool:
        lease = {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"holderIdentity": holder},
        }
        try:
            self.raw(self.coordination.create_namespaced_lease, namespace, lease)
        except ClusterError as exc:
            if exc.status == 409:
                return False
            raise
        return True

    def get_lease(self, namespace: str, name: str) -> Json | None:
        return self._maybe(self.coordination.read_namespaced_lease, name, namespace)

    def delete_lease(self, namespace: str, name: str, resource_version: str) -> bool:
        try:
            self.raw(
                self.coordination.delete_namespaced_lease,
                name,
                namespace,
                body={"preconditions": {"resourceVersion": resource_version}},
            )
        except ClusterError as exc:
            if exc.status in (404, 409):
                return False
            raise
        return True

    # -- our custom objects --------------------------------------------------------------------

    def get_custom(self, namespace: str, plural: Plural, name: str) -> Json | None:
        return self._maybe(
            self.custom.get_namespaced_custom_object, GROUP, VERSION, namespace, plural, name
        )

    def create_custom(self, namespace: str, plural: Plural, body: Json) -> Json:
        return self.raw(
            self.custom.create_namespaced_custom_object, GROUP, VERSION, namespace, plural, body
        )

    def patch_custom(self, namespace: str, plural: Plural, name: str, patch: Json) -> None:
        self.raw(
            self.custom.patch_namespaced_custom_object,
            GROUP,
            VERSION,
            namespace,
            plural,
            name,
            patch,
        )

    def patch_custom_status(self, namespace: str, plural: Plural, name: str, status: Json) -> bool:
        found = self._maybe(
            self.custom.patch_namespaced_custom_object_status,
            GROUP,
            VERSION,
            namespace,
            plural,
            name,
            {"status": status},
        )
        return found is not None

    def close(self) -> None:
        kube_client.close(self.api)


def connect(kubeconfig: str | None = None) -> Kube:
    """In-cluster credentials when running in a pod, else KUBECONFIG (or `kubeconfig`)."""
    configuration = client.Configuration()
    try:
        if kubeconfig:
            raise config.ConfigException("explicit kubeconfig given")
        kube_client.load_incluster(configuration)
    except config.ConfigException:
        kube_client.load_kubeconfig(configuration, kubeconfig)
    configuration.connection_pool_maxsize = POOL_SIZE
    return Kube(ApiClient(configuration))
