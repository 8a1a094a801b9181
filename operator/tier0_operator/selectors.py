"""Pure builders and judges for the selector switch: no I/O, so unit tests cover them.

A failover changes exactly one key of each Service's selector (the region label) and
is done when every EndpointSlice of every Service holds only ready endpoints whose
Pods carry the target region's label. Both halves are decided here from plain dicts
(the API's JSON shape), so the same code judges a watch event and a list result.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

Selector = dict[str, str]


@dataclass(frozen=True)
class SelectorPlan:
    """What a failover does to each Service's selector."""

    before: dict[str, Selector]
    after: dict[str, Selector]
    #: Services whose selector still names the source region (they get patched).
    to_patch: tuple[str, ...]
    #: Services already on the target region (a retried or resumed failover).
    already_on_target: tuple[str, ...]
    #: Services on neither region, or without the label: the request does not match reality.
    mismatched: dict[str, str] = field(default_factory=dict)

    @property
    def changes_nothing(self) -> bool:
        return not self.to_patch and not self.mismatched


def plan_selectors(
    selectors: Mapping[str, Mapping[str, str] | None],
    region_label: str,
    source: str,
    target: str,
) -> SelectorPlan:
    """Plan the switch of every Service from `source` to `target` on `region_label`."""
    before: dict[str, Selector] = {}
    after: dict[str, Selector] = {}
    to_patch: list[str] = []
    on_target: list[str] = []
    mismatched: dict[str, str] = {}
    for name in sorted(selectors):
        current = dict(selectors[name] or {})
        before[name] = current
        after[name] = {**current, region_label: target}
        region = current.get(region_label)
        if region == source:
            to_patch.append(name)
        elif region == target:
            on_target.append(name)
        elif region is None:
            mismatched[name] = f"selector {current} has no {region_label} key"
        else:
            mismatched[name] = f"selector selects {region_label}={region}, not {source}"
    return SelectorPlan(before, after, tuple(to_patch), tuple(on_target), mismatched)


def selector_patch(region_label: str, region: str) -> dict[str, Any]:
    """Merge patch that sets only the region key of a Service's selector."""
    return {"spec": {"selector": {region_label: region}}}


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
