"""Kubernetes Events on our objects and on the Services a failover moved.

Posted with the core/v1 Events API directly (not kopf's queue) so the RBAC rule is
exactly "create events" and the events are written after the latency is measured,
never on the critical path. A failed post is logged, never fatal: an Event is a
courtesy, the status is the record.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import structlog

from tier0_common.rfc3339 import to_rfc3339
from tier0_operator.cluster import Cluster, ClusterError

COMPONENT = "tier0-operator"
log = structlog.get_logger(__name__)


def post_event(
    cluster: Cluster, obj: Mapping[str, Any], event_type: str, reason: str, message: str
) -> None:
    meta = obj.get("metadata") or {}
    namespace = str(meta.get("namespace") or "default")
    now = to_rfc3339(time.time())
    event = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"generateName": f"{meta.get('name', 'obj')}.", "namespace": namespace},
        "involvedObject": {
            "apiVersion": obj.get("apiVersion"),
            "kind": obj.get("kind"),
            "name": meta.get("name"),
            "namespace": namespace,
            "uid": meta.get("uid"),
            "resourceVersion": meta.get("resourceVersion"),
        },
        "reason": reason,
        "message": message[:1000],
        "type": event_type,
        "source": {"component": COMPONENT},
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
        "reportingComponent": COMPONENT,
        "reportingInstance": COMPONENT,
    }
    try:
        cluster.create_event(namespace, event)
    except ClusterError as exc:
        log.warning("event_post_failed", reason=reason, status=exc.status)
