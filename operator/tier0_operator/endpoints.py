"""Has the switch taken effect? EndpointSlices listed, watched and judged in one place.

A failover is done when every EndpointSlice of every Service holds only ready
endpoints whose Pods carry the target region's label. The slices were listed before
the decision (reads.py, through :meth:`Cluster.list_endpoint_slices`); the wait here
watches from that list's resourceVersion, so no change can slip between list and
watch, and no list sits between the Service patch and "switched". The judge is pure
(plain dicts, the API's JSON shape), so the same code judges a watch event and a list.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tier0_operator.cluster import Cluster, SliceListing, WatchExpired

#: A consistent read of the target region's pod names (when a pod looks foreign).
PodRefresh = Callable[[], frozenset[str]]


@dataclass(frozen=True)
class EndpointVerdict:
    switched: bool
    detail: str
    #: Target pod names referenced by endpoints that were not in the known set: the
    #: caller refreshes its pod list once before believing they are foreign.
    unknown_pods: frozenset[str] = frozenset()


def judge_endpoints(
    slices: Iterable[Mapping[str, Any]], target_pods: frozenset[str] | set[str]
) -> EndpointVerdict:
    """Do these EndpointSlices (of one Service) hold only ready target-region endpoints?

    An endpoint whose `ready` condition is absent counts as ready (the API documents
    nil as "unknown, treat as ready"); at least one endpoint is required, so a Service
    with no endpoints at all is not "switched".
    """
    total = 0
    unknown: set[str] = set()
    for slc in slices:
        for endpoint in slc.get("endpoints") or ():
            total += 1
            ready = (endpoint.get("conditions") or {}).get("ready")
            ref = endpoint.get("targetRef") or {}
            name = ref.get("name", "")
            if ready is False:
                return EndpointVerdict(
                    False, f"endpoint {name or endpoint.get('addresses')} not ready"
                )
            if ref.get("kind") != "Pod" or name not in target_pods:
                unknown.add(name)
    if unknown:
        return EndpointVerdict(
            False, f"endpoints of non-target pods: {sorted(unknown)}", frozenset(unknown)
        )
    if total == 0:
        return EndpointVerdict(False, "no endpoints yet")
    return EndpointVerdict(True, f"{total} ready target endpoint(s)")


class EndpointWait:
    """Waits for one failover's Services; remembers the target pods across Services."""

    def __init__(
        self, cluster: Cluster, namespace: str, pods: frozenset[str], refresh: PodRefresh
    ) -> None:
        self.cluster = cluster
        self.namespace = namespace
        self.pods = pods
        self.refresh = refresh

    def all_switched(
        self, listings: Mapping[str, SliceListing], deadline: float
    ) -> tuple[bool, str]:
        """Wait for every Service in turn; (False, why) at the first that misses the deadline."""
        for svc, listing in listings.items():
            ok, detail = self.switched(svc, listing, deadline)
            if not ok:
                return False, f"{svc}: {detail}"
        return True, ""

    def switched(self, svc: str, listing: SliceListing, deadline: float) -> tuple[bool, str]:
        """Watch the Service's EndpointSlices until they hold only target pods."""
        slices, version = dict(listing.slices), listing.resource_version
        ok, detail = self._judge(slices)
        while not ok and time.monotonic() < deadline:
            timeout = max(1, int(deadline - time.monotonic() + 1))
            try:
                with self.cluster.watch_endpoint_slices(
                    self.namespace, svc, version, timeout
                ) as events:
                    for event in events:
                        version = event.resource_version or version
                        if event.type == "BOOKMARK":
                            continue
                        name = event.object["metadata"]["name"]
                        if event.type == "DELETED":
                            slices.pop(name, None)
                        else:
                            slices[name] = event.object
                        ok, detail = self._judge(slices)
                        if ok or time.monotonic() >= deadline:
                            break
            except WatchExpired:
                # History compacted: list again and watch from there.
                fresh = self.cluster.list_endpoint_slices(self.namespace, svc)
                slices, version = dict(fresh.slices), fresh.resource_version
                ok, detail = self._judge(slices)
        return ok, detail

    def _judge(self, slices: Mapping[str, Mapping[str, Any]]) -> tuple[bool, str]:
        verdict = judge_endpoints(slices.values(), self.pods)
        if verdict.unknown_pods:
            # A target pod created after our pod list looks foreign; refresh once.
            self.pods = self.refresh()
            verdict = judge_endpoints(slices.values(), self.pods)
        return verdict.switched, verdict.detail
