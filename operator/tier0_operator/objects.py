"""Reads and status patches of our custom objects, shared by the reconciler and the
automation.

Both read FailoverGroups and RegionFailovers that may be deleted under them at any
moment; a missing object is an answer (None, "finished", nothing to patch) rather
than an error, and that rule is written once here.
"""

from __future__ import annotations

from typing import Any

from kubernetes.client.exceptions import ApiException

from tier0_common.failover_crd import FG_PLURAL, GROUP, RF_PLURAL, TERMINAL_PHASES, VERSION
from tier0_operator.kube import Kube


def get_object(kube: Kube, namespace: str, plural: str, name: str) -> dict[str, Any] | None:
    """The object's JSON, or None when it does not exist."""
    try:
        return kube.raw(
            kube.custom.get_namespaced_custom_object, GROUP, VERSION, namespace, plural, name
        )
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise


def failover_finished(kube: Kube, namespace: str, name: str) -> bool:
    """True when the RegionFailover is gone or in a terminal phase."""
    obj = get_object(kube, namespace, RF_PLURAL, name)
    return obj is None or (obj.get("status") or {}).get("phase") in TERMINAL_PHASES


def patch_group_status(kube: Kube, namespace: str, name: str, patch: dict[str, Any]) -> None:
    """Merge ``patch`` into a FailoverGroup's status; a deleted group is left alone."""
    try:
        kube.custom.patch_namespaced_custom_object_status(
            GROUP, VERSION, namespace, FG_PLURAL, name, {"status": patch}
        )
    except ApiException as exc:
        if exc.status != 404:
            raise
