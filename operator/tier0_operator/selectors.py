"""Pure planning of the selector switch: no I/O, so unit tests cover it.

A failover changes exactly one key of each Service's selector (the region label);
which Services to patch, which are already on the target and which match neither
region is decided here from plain dicts (the API's JSON shape). Whether the switch
has taken effect is endpoints.py's question.
"""

from __future__ import annotations

from collections.abc import Mapping
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
