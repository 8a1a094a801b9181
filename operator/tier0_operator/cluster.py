"""The operator's Kubernetes boundary: every read and write it makes, typed, in one Protocol.

Why a Protocol of our own rather than the official client's classes: the client is
untyped generated code whose errors are HTTP statuses to decode at every call site.
Here each operation says what it returns, and the answers the failover logic
branches on are values, not exceptions: a missing object is None, a Lease someone
else created is False, an expired watch is :class:`WatchExpired`. Any other failure
is a :class:`ClusterError` carrying the HTTP status.

kube.py implements it against the API server; the unit tests implement it in memory
(tests/support/fake_cluster.py), so the phase machine is tested in milliseconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

#: A Kubernetes object as JSON (what the API server sends and accepts).
Json = dict[str, Any]
#: A plural of tier0.io/v1 (tier0_common.failover_crd.RF_PLURAL, FG_PLURAL).
Plural = str


class ClusterError(Exception):
    """A request the API server refused or could not answer."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"{status} {reason}")
        self.status = status
        self.reason = reason


class WatchExpired(Exception):
    """The watch's resourceVersion is too old (410 Gone): list again, then watch."""


@dataclass(frozen=True)
class SliceEvent:
    """One change of an EndpointSlice (BOOKMARKs only advance the version)."""

    #: ADDED, MODIFIED, DELETED or BOOKMARK
    type: str
    object: Json

    @property
    def resource_version(self) -> str | None:
        version = (self.object.get("metadata") or {}).get("resourceVersion")
        return str(version) if version else None


@dataclass(frozen=True)
class SliceListing:
    """A Service's EndpointSlices by name, and the list's resourceVersion to watch from."""

    slices: dict[str, Json]
    resource_version: str


class Cluster(Protocol):
    # -- core objects ----------------------------------------------------------------
    def get_service(self, namespace: str, name: str) -> Json | None: ...

    def patch_service(self, namespace: str, name: str, patch: Json) -> None:
        """JSON merge patch."""

    def list_pods(self, namespace: str, label_selector: str, *, cached: bool) -> list[Json]:
        """``cached``: from the API server's watch cache (may lag by milliseconds)."""
        ...

    def get_deployment(self, namespace: str, name: str) -> Json | None: ...

    def create_event(self, namespace: str, event: Json) -> None: ...

    # -- EndpointSlices ----------------------------------------------------------------
    def list_endpoint_slices(self, namespace: str, service: str) -> SliceListing:
        """The Service's EndpointSlices, from the watch cache."""
        ...

    def watch_endpoint_slices(
        self, namespace: str, service: str, resource_version: str, timeout_seconds: int
    ) -> AbstractContextManager[Iterator[SliceEvent]]:
        """Changes after ``resource_version`` until the timeout; entering or iterating
        raises :class:`WatchExpired` when that version is gone."""
        ...

    # -- Leases ------------------------------------------------------------------------
    def create_lease(self, namespace: str, name: str, holder: str) -> bool:
        """False when the Lease already exists."""
        ...

    def get_lease(self, namespace: str, name: str) -> Json | None: ...

    def delete_lease(self, namespace: str, name: str, resource_version: str) -> bool:
        """Delete if still at ``resource_version``; False when gone or changed meanwhile."""
        ...

    # -- our custom objects ------------------------------------------------------------
    def get_custom(self, namespace: str, plural: Plural, name: str) -> Json | None: ...

    def create_custom(self, namespace: str, plural: Plural, body: Json) -> Json: ...

    def patch_custom(self, namespace: str, plural: Plural, name: str, patch: Json) -> None:
        """JSON merge patch of the object (metadata, spec)."""

    def patch_custom_status(self, namespace: str, plural: Plural, name: str, status: Json) -> bool:
        """Merge ``status`` into the status subresource; False when the object is gone."""
        ...
