"""The Kubernetes API clients the operator's own actions use.

kopf keeps its own (aiohttp) connection for watching and for its bookkeeping; the
failover actions use the official client, created once here with a pool large enough
for kopf's handler threads. Credentials come from KUBECONFIG or the in-cluster
ServiceAccount, the same way kopf finds them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
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

MERGE_PATCH = "application/merge-patch+json"
#: Handler threads (settings.execution.max_workers) plus the daemons' probe threads.
POOL_SIZE = 32


@dataclass(frozen=True)
class Kube:
    api: ApiClient
    core: CoreV1Api
    apps: AppsV1Api
    discovery: DiscoveryV1Api
    custom: CustomObjectsApi
    coordination: CoordinationV1Api

    def raw(self, call: Callable[..., Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
        """Call an API method and return the JSON the server sent, as a dict.

        The pure judges in selectors.py work on the API's JSON shape, and skipping the
        client's model deserialisation keeps the failover path short.
        """
        response = call(*args, _preload_content=False, **kwargs)
        try:
            data = response.read()
        finally:
            # Hand the connection back to the pool explicitly: with preloading off the
            # client leaves that to the caller.
            getattr(response, "response", response).release_conn()
        if not 200 <= response.status < 300:
            raise ApiException(status=response.status, reason=response.reason, body=data)
        result: dict[str, Any] = json.loads(data)
        return result

    def patch_service(self, name: str, namespace: str, patch: dict[str, Any]) -> None:
        """JSON merge patch of a Service (the client would default to JSON Patch)."""
        self.raw(
            self.core.patch_namespaced_service, name, namespace, patch, _content_type=MERGE_PATCH
        )

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
    api = ApiClient(configuration)
    return Kube(
        api=api,
        core=CoreV1Api(api),
        apps=AppsV1Api(api),
        discovery=DiscoveryV1Api(api),
        custom=CustomObjectsApi(api),
        coordination=CoordinationV1Api(api),
    )
