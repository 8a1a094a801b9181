"""Credentials for the failover endpoints, resolved on first use.

The region API must start and serve its data without Kubernetes (a local run, a
cluster without the operator), so nothing here runs at start-up: the first failover
request loads the credentials and a missing configuration becomes a 503 naming what to
set. Precedence, as kubectl's: KUBECONFIG, then the pod's ServiceAccount, then
~/.kube/config. The client is the official synchronous one; the routes call it from a
worker thread so the event loop never blocks.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

import yaml
from kubernetes import client, config
from kubernetes.client import ApiClient, CustomObjectsApi

from tier0_api.failover.errors import not_configured
from tier0_api.settings import Settings
from tier0_common import kube_client

SERVICE_ACCOUNT_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
#: Concurrent failover requests each hold a connection while they watch their object.
POOL_SIZE = 16


@dataclass(frozen=True)
class Session:
    api: ApiClient
    custom: CustomObjectsApi
    namespace: str
    server: str
    source: str


def _load_kubeconfig(path: str, configuration: client.Configuration) -> str | None:
    """Load ``path`` into ``configuration``; return its current context's namespace."""
    try:
        kube_client.load_kubeconfig(configuration, path)
        return kube_client.kubeconfig_namespace(path)
    except (config.ConfigException, OSError, ValueError, yaml.YAMLError) as exc:
        raise not_configured(f"cannot load the kubeconfig {path}: {exc}") from exc


def open_session(settings: Settings) -> Session:
    configuration = client.Configuration()
    default_kubeconfig = Path.home() / ".kube" / "config"
    if settings.kubeconfig:
        source = f"KUBECONFIG={settings.kubeconfig}"
        namespace = _load_kubeconfig(settings.kubeconfig, configuration)
    elif os.environ.get("KUBERNETES_SERVICE_HOST"):
        source = "in-cluster ServiceAccount"
        try:
            kube_client.load_incluster(configuration)
        except config.ConfigException as exc:
            raise not_configured(f"in-cluster credentials unavailable: {exc}") from exc
        namespace = (
            SERVICE_ACCOUNT_NAMESPACE.read_text().strip()
            if SERVICE_ACCOUNT_NAMESPACE.is_file()
            else None
        )
    elif default_kubeconfig.is_file():
        source = str(default_kubeconfig)
        namespace = _load_kubeconfig(str(default_kubeconfig), configuration)
    else:
        raise not_configured(
            "Kubernetes is not configured for the failover endpoints: set KUBECONFIG to a "
            "kubeconfig file, or run the API in a pod whose ServiceAccount may create "
            "regionfailovers"
        )
    configuration.connection_pool_maxsize = POOL_SIZE
    api = ApiClient(configuration)
    return Session(
        api=api,
        custom=CustomObjectsApi(api),
        namespace=settings.failover_namespace or namespace or "default",
        server=str(configuration.host),
        source=source,
    )


class Connection:
    """One Session per process, opened by the first request that needs it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._session: Session | None = None

    def session(self) -> Session:
        with self._lock:
            if self._session is None:
                # Not cached on failure: a kubeconfig mounted later is picked up.
                self._session = open_session(self.settings)
            return self._session

    def close(self) -> None:
        with self._lock:
            if self._session is not None:
                kube_client.close(self._session.api)
                self._session = None
