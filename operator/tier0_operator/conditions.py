"""Standard metav1.Condition bookkeeping for our status blocks (pure).

A condition keeps its lastTransitionTime while its status stays the same, so
`kubectl describe` shows when something actually changed, not when it was re-written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from tier0_common.rfc3339 import to_rfc3339

#: RegionFailover condition types.
READY = "Ready"
PROGRESSING = "Progressing"
FAILOVER_BLOCKED = "FailoverBlocked"
#: FailoverGroup condition types.
AUTOMATION_FROZEN = "AutomationFrozen"
ACTIVE_HEALTHY = "ActiveRegionHealthy"


def set_condition(
    conditions: Iterable[Mapping[str, Any]] | None,
    type_: str,
    status: bool | None,
    reason: str,
    message: str,
    *,
    generation: int | None,
    now: float,
) -> list[dict[str, Any]]:
    """Return a new list with condition `type_` set; other types are kept as they are."""
    text = "Unknown" if status is None else ("True" if status else "False")
    result: list[dict[str, Any]] = []
    previous: Mapping[str, Any] | None = None
    for cond in conditions or ():
        if cond.get("type") == type_:
            previous = cond
        else:
            result.append(dict(cond))
    changed = previous is None or previous.get("status") != text
    new: dict[str, Any] = {
        "type": type_,
        "status": text,
        "reason": reason,
        "message": message,
        "lastTransitionTime": to_rfc3339(now)
        if changed
        else str(previous.get("lastTransitionTime") if previous else to_rfc3339(now)),
    }
    if generation is not None:
        new["observedGeneration"] = generation
    result.append(new)
    return result


def get_condition(
    conditions: Iterable[Mapping[str, Any]] | None, type_: str
) -> Mapping[str, Any] | None:
    return next((c for c in conditions or () if c.get("type") == type_), None)
