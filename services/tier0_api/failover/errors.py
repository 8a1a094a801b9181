"""Kubernetes failures as the HTTP answers the failover endpoints give.

The endpoints are a thin door onto the Kubernetes API, so its refusals pass through
with its own message (403 from RBAC, 422 from the CRDs' validation); everything that
means "this API is not wired to a cluster" (no credentials, server unreachable, CRDs
or FailoverGroup missing) is a 503 whose detail says what to set or apply.
"""

from __future__ import annotations

import json

import urllib3
from kubernetes.client.exceptions import ApiException

DISABLE_HINT = "or set FAILOVER_ENABLED=false to turn the failover endpoints off"


class FailoverError(Exception):
    """A non-2xx answer: ``status_code``, a stable ``error`` code and a readable detail."""

    def __init__(self, status_code: int, error: str, detail: str) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.error = error
        self.detail = detail


def disabled() -> FailoverError:
    return FailoverError(
        503,
        "failover_disabled",
        "the failover endpoints are off in this region API; set FAILOVER_ENABLED=true "
        "(and KUBECONFIG or an in-cluster ServiceAccount) to enable them",
    )


def not_configured(detail: str) -> FailoverError:
    return FailoverError(503, "kubernetes_not_configured", f"{detail}; {DISABLE_HINT}")


def _status_body(exc: ApiException) -> dict[str, object]:
    """The metav1.Status the server sent, or {} (e.g. a plain-text 404)."""
    try:
        body = json.loads(exc.body or b"")
    except (ValueError, TypeError):
        return {}
    return body if isinstance(body, dict) else {}


def is_object_missing(exc: ApiException) -> bool:
    """404 for an object (a Status naming it), not for an unknown resource type."""
    details = _status_body(exc).get("details")
    return exc.status == 404 and isinstance(details, dict) and bool(details.get("name"))


def translate(exc: Exception, server: str) -> FailoverError:
    """Map a client exception to the endpoint's answer (``server`` names the API server)."""
    if isinstance(exc, FailoverError):
        return exc
    if isinstance(exc, ApiException):
        message = str(_status_body(exc).get("message") or exc.reason or exc)
        if exc.status == 401:
            return FailoverError(
                503,
                "kubernetes_unauthorized",
                f"the Kubernetes API server {server} rejected our credentials ({message}); "
                f"check the token in KUBECONFIG or the pod's ServiceAccount, {DISABLE_HINT}",
            )
        if exc.status == 403:
            return FailoverError(403, "kubernetes_forbidden", message)
        if exc.status == 404 and not is_object_missing(exc):
            return FailoverError(
                503,
                "crd_missing",
                f"the API server {server} does not serve regionfailovers/failovergroups."
                f"tier0.io/v1alpha1: apply charts/tier0/crds ({message}), {DISABLE_HINT}",
            )
        if exc.status == 404:
            return FailoverError(404, "not_found", message)
        if exc.status == 422:
            return FailoverError(422, "invalid_failover", message)
        if exc.status == 409:
            return FailoverError(409, "conflict", message)
        if exc.status in (429,) or (exc.status or 0) >= 500:
            return FailoverError(
                503, "kubernetes_unavailable", f"Kubernetes API server {server}: {message}"
            )
        return FailoverError(502, "kubernetes_error", f"{exc.status}: {message}")
    if isinstance(exc, urllib3.exceptions.HTTPError | OSError):
        return FailoverError(
            503,
            "kubernetes_unavailable",
            f"the Kubernetes API server {server} is unreachable ({exc.__class__.__name__}: "
            f"{exc}); check KUBECONFIG (or the in-cluster ServiceAccount), {DISABLE_HINT}",
        )
    raise exc
