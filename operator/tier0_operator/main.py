"""Process entry point: settings, logs, metrics endpoint, clients, then kopf's loop.

`python -m tier0_operator` is the same as `kopf run` of handlers.py with our settings:
standalone (one replica; the per-Service Leases keep failovers from interleaving even
if two ran), watching WATCH_NAMESPACE or every namespace.
"""

from __future__ import annotations

import httpx
import kopf
from prometheus_client import start_http_server

from tier0_common.logs import configure_logging
from tier0_operator import handlers
from tier0_operator.automation import GroupAutomation
from tier0_operator.kube import connect
from tier0_operator.reconcile import Failover, Failpoint, no_failpoint
from tier0_operator.settings import Settings


def main(failpoint: Failpoint = no_failpoint) -> None:
    """Run the operator; ``failpoint`` is for the restart-safety tests (reconcile.py)."""
    settings = Settings()
    log = configure_logging("operator", settings.log_level)
    if settings.operator_metrics_port:
        start_http_server(settings.operator_metrics_port)
    kube = connect()
    http = httpx.Client(timeout=settings.probe_timeout_seconds)
    failover = Failover(kube, settings, http, failpoint)
    memo = kopf.Memo(
        settings=settings,
        failover=failover,
        automation=GroupAutomation(kube, http),
    )
    liveness = (
        f"http://0.0.0.0:{settings.operator_health_port}/healthz"
        if settings.operator_health_port
        else None
    )
    log.info(
        "operator_starting",
        namespace=settings.watch_namespace or "*",
        metrics_port=settings.operator_metrics_port,
        handlers=handlers.__name__,
    )
    try:
        kopf.run(
            standalone=True,
            clusterwide=not settings.watch_namespace,
            namespaces=[settings.watch_namespace] if settings.watch_namespace else (),
            liveness_endpoint=liveness,
            memo=memo,
        )
    finally:
        failover.reader.close()
        http.close()
        kube.close()
