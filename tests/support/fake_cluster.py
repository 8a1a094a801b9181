"""An in-memory Kubernetes behind the operator's own boundary (tier0_operator.cluster).

Not a mock of the kubernetes client: a small fake of OUR typed Protocol, with just
enough of the API server's behaviour for the phase machine to run against it in
milliseconds - objects keyed by namespace and name, a resourceVersion counter, Leases
that refuse a second create, and an endpoints controller that rebuilds a Service's
EndpointSlice from the ready Pods its selector matches whenever the selector or the
Pods change (as kube-controller-manager does), recording each change for watches.
The operator's integration tests run the same code against a real API server.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tier0_common.failover_crd import DEFAULT_REGION_LABEL, FG_PLURAL
from tier0_operator.cluster import Json, SliceEvent, SliceListing, WatchExpired

Key = tuple[str, str]


def _merge(base: Json, patch: Json) -> Json:
    """RFC 7386 JSON merge patch."""
    out = dict(base)
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def pod(name: str, labels: dict[str, str], *, ready: bool = True) -> Json:
    return {
        "metadata": {"name": name, "labels": labels},
        "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]},
    }


@dataclass
class FakeCluster:
    namespace: str = "ns"
    services: dict[Key, Json] = field(default_factory=dict)
    pods: dict[Key, Json] = field(default_factory=dict)
    deployments: dict[Key, Json] = field(default_factory=dict)
    leases: dict[Key, Json] = field(default_factory=dict)
    custom: dict[tuple[str, str, str], Json] = field(default_factory=dict)
    slices: dict[Key, Json] = field(default_factory=dict)
    events: list[Json] = field(default_factory=list)
    #: Every EndpointSlice change: (resourceVersion, service key, event).
    slice_log: list[tuple[int, Key, SliceEvent]] = field(default_factory=list)
    #: False: the endpoints controller is stuck (slices never follow a selector change).
    controller_running: bool = True
    #: How many watches still answer "410 Gone" before working.
    expire_watches: int = 0
    #: Service patches in order, as (name, patch).
    service_patches: list[tuple[str, Json]] = field(default_factory=list)
    version: int = 1
    lock: threading.RLock = field(default_factory=threading.RLock)

    # -- set-up helpers (the test's kubectl) ---------------------------------------------

    def add_service(self, name: str, selector: dict[str, str]) -> None:
        with self.lock:
            self.services[(self.namespace, name)] = {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": name, "namespace": self.namespace},
                "spec": {"selector": dict(selector)},
            }
            self._sync_slices(name)

    def add_pod(self, name: str, labels: dict[str, str], *, ready: bool = True) -> None:
        with self.lock:
            self.pods[(self.namespace, name)] = pod(name, labels, ready=ready)
            for _, svc in list(self.services):
                self._sync_slices(svc)

    def add_object(self, plural: str, body: Json) -> Json:
        with self.lock:
            obj = copy.deepcopy(body)
            meta = obj.setdefault("metadata", {})
            meta.setdefault("namespace", self.namespace)
            meta.setdefault("generation", 1)
            meta["resourceVersion"] = str(self._bump())
            self.custom[(meta["namespace"], plural, meta["name"])] = obj
            return copy.deepcopy(obj)

    def selector(self, service: str) -> dict[str, str]:
        return dict(self.services[(self.namespace, service)]["spec"]["selector"])

    def object(self, plural: str, name: str) -> Json:
        return copy.deepcopy(self.custom[(self.namespace, plural, name)])

    # -- the endpoints controller ----------------------------------------------------------

    def _bump(self) -> int:
        self.version += 1
        return self.version

    def _sync_slices(self, service: str) -> None:
        if not self.controller_running:
            return
        key = (self.namespace, service)
        selector = self.services[key]["spec"].get("selector") or {}
        endpoints = [
            {
                "addresses": [f"10.0.0.{i}"],
                "conditions": {"ready": p["status"]["conditions"][0]["status"] == "True"},
                "targetRef": {"kind": "Pod", "name": p["metadata"]["name"]},
            }
            for i, p in enumerate(self.pods.values())
            if all(p["metadata"]["labels"].get(k) == v for k, v in selector.items())
        ]
        version = self._bump()
        name = f"{service}-slice"
        obj = {
            "metadata": {
                "name": name,
                "namespace": self.namespace,
                "resourceVersion": str(version),
            },
            "endpoints": endpoints,
        }
        kind = "MODIFIED" if (self.namespace, name) in self.slices else "ADDED"
        self.slices[(self.namespace, name)] = obj
        self.slice_log.append((version, key, SliceEvent(kind, copy.deepcopy(obj))))

    def run_controller(self) -> None:
        """Unstick the endpoints controller and let it catch up."""
        with self.lock:
            self.controller_running = True
            for _, svc in list(self.services):
                self._sync_slices(svc)

    # -- Cluster: core objects ---------------------------------------------------------------

    def get_service(self, namespace: str, name: str) -> Json | None:
        with self.lock:
            found = self.services.get((namespace, name))
            return copy.deepcopy(found) if found else None

    def patch_service(self, namespace: str, name: str, patch: Json) -> None:
        with self.lock:
            self.service_patches.append((name, copy.deepcopy(patch)))
            self.services[(namespace, name)] = _merge(self.services[(namespace, name)], patch)
            self._sync_slices(name)

    def list_pods(self, namespace: str, label_selector: str, *, cached: bool) -> list[Json]:
        key, _, value = label_selector.partition("=")
        with self.lock:
            return [
                copy.deepcopy(p)
                for (ns, _), p in self.pods.items()
                if ns == namespace and p["metadata"]["labels"].get(key) == value
            ]

    def get_deployment(self, namespace: str, name: str) -> Json | None:
        with self.lock:
            return copy.deepcopy(self.deployments.get((namespace, name)))

    def create_event(self, namespace: str, event: Json) -> None:
        with self.lock:
            self.events.append(copy.deepcopy(event))

    # -- Cluster: EndpointSlices ---------------------------------------------------------------

    def list_endpoint_slices(self, namespace: str, service: str) -> SliceListing:
        with self.lock:
            items = {
                s["metadata"]["name"]: copy.deepcopy(s)
                for (ns, name), s in self.slices.items()
                if ns == namespace and name == f"{service}-slice"
            }
            return SliceListing(items, str(self.version))

    @contextmanager
    def watch_endpoint_slices(
        self, namespace: str, service: str, resource_version: str, timeout_seconds: int
    ) -> Iterator[Iterator[SliceEvent]]:
        with self.lock:
            if self.expire_watches:
                self.expire_watches -= 1
                raise WatchExpired("too old resource version")
            since = int(resource_version)
            pending = [
                e for v, key, e in self.slice_log if v > since and key == (namespace, service)
            ]
        # Like a watch that times out with nothing more to say.
        yield iter(pending)

    # -- Cluster: Leases -------------------------------------------------------------------------

    def create_lease(self, namespace: str, name: str, holder: str) -> bool:
        with self.lock:
            if (namespace, name) in self.leases:
                return False
            self.leases[(namespace, name)] = {
                "metadata": {"name": name, "resourceVersion": str(self._bump())},
                "spec": {"holderIdentity": holder},
            }
            return True

    def get_lease(self, namespace: str, name: str) -> Json | None:
        with self.lock:
            return copy.deepcopy(self.leases.get((namespace, name)))

    def delete_lease(self, namespace: str, name: str, resource_version: str) -> bool:
        with self.lock:
            lease = self.leases.get((namespace, name))
            if lease is None or lease["metadata"]["resourceVersion"] != resource_version:
                return False
            del self.leases[(namespace, name)]
            return True

    # -- Cluster: custom objects -------------------------------------------------------------------

    def get_custom(self, namespace: str, plural: str, name: str) -> Json | None:
        with self.lock:
            return copy.deepcopy(self.custom.get((namespace, plural, name)))

    def create_custom(self, namespace: str, plural: str, body: Json) -> Json:
        with self.lock:
            obj: dict[str, Any] = copy.deepcopy(body)
            meta = obj["metadata"]
            meta.setdefault("name", f"{meta.pop('generateName', 'obj-')}{self._bump()}")
            return self.add_object(plural, obj)

    def patch_custom(self, namespace: str, plural: str, name: str, patch: Json) -> None:
        with self.lock:
            key = (namespace, plural, name)
            self.custom[key] = _merge(self.custom[key], patch)

    def patch_custom_status(self, namespace: str, plural: str, name: str, status: Json) -> bool:
        with self.lock:
            key = (namespace, plural, name)
            if key not in self.custom:
                return False
            self.custom[key] = _merge(self.custom[key], {"status": status})
            return True


def two_region_cluster(
    group: str, service: str, regions: list[Json] | None = None, **spec: Any
) -> FakeCluster:
    """One ready API pod per region, ``service`` selecting region1, and a FailoverGroup
    ``group`` over both (``regions`` overrides the bare region list; ``spec`` adds keys)."""
    fake = FakeCluster()
    for region in ("region1", "region2"):
        fake.add_pod(f"{region}-a", {"app": "api", DEFAULT_REGION_LABEL: region})
    fake.add_service(service, {"app": "api", DEFAULT_REGION_LABEL: "region1"})
    listed = regions or [{"name": "region1"}, {"name": "region2"}]
    fake.add_object(
        FG_PLURAL,
        {
            "metadata": {"name": group},
            "spec": {"services": [service], "initialRegion": "region1", "regions": listed, **spec},
        },
    )
    return fake
