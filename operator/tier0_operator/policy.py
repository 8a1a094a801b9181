"""Anti-flap policy for automatic failover and failback, as a pure state machine.

Time is an argument (`now`, epoch seconds), never read here, so tests drive the
machine with a fake clock. The rules (docs/operator.md, "Automatic failover"):

* a region's state moves to Healthy after `successThreshold` good probes in a row and
  to Unhealthy after `failureThreshold` bad ones; an indeterminate probe makes it
  Unknown;
* the stabilization window measures the current *not-Healthy stretch*, which only a
  return to Healthy ends - so Unhealthy/Unknown flickering cannot postpone it forever;
  a failover also needs at least one confirmed Unhealthy inside that stretch;
* no automatic transition within `minDwellSeconds` of the last transition;
* optional failback to the initial region once it has been Healthy for `delaySeconds`;
* when one more automatic transition would exceed `maxTransitionsPerHour`, the
  decision is to freeze automation until a person lifts it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from tier0_common.failover_models import GroupSpec, PolicySpec
from tier0_common.rfc3339 import maybe_from_rfc3339, to_rfc3339

HOUR = 3600.0


class Health(StrEnum):
    HEALTHY = "Healthy"
    UNHEALTHY = "Unhealthy"
    UNKNOWN = "Unknown"


@dataclass(frozen=True)
class RegionTracker:
    """What the operator believes about one region, from its recent probes."""

    name: str
    state: Health = Health.UNKNOWN
    consecutive_successes: int = 0
    consecutive_failures: int = 0
    since: float | None = None
    not_healthy_since: float | None = None
    #: When the current not-Healthy stretch first reached Unhealthy (the detection time).
    unhealthy_since: float | None = None
    message: str = ""

    def observe(
        self, ok: bool | None, now: float, policy: PolicySpec, message: str = ""
    ) -> RegionTracker:
        """Fold one probe result in: True healthy, False unhealthy, None indeterminate."""
        successes = self.consecutive_successes + 1 if ok is True else 0
        failures = self.consecutive_failures + 1 if ok is False else 0
        if ok is None:
            failures = self.consecutive_failures
        state = self.state
        if successes >= policy.success_threshold:
            state = Health.HEALTHY
        elif failures >= policy.failure_threshold and ok is False:
            state = Health.UNHEALTHY
        elif ok is None:
            state = Health.UNKNOWN
        not_healthy_since = self.not_healthy_since
        unhealthy_since = self.unhealthy_since
        if state is Health.HEALTHY:
            not_healthy_since = None
            unhealthy_since = None
        else:
            if not_healthy_since is None:
                not_healthy_since = now
            if state is Health.UNHEALTHY and unhealthy_since is None:
                unhealthy_since = now
        return replace(
            self,
            state=state,
            consecutive_successes=successes,
            consecutive_failures=failures,
            since=self.since if state is self.state and self.since is not None else now,
            not_healthy_since=not_healthy_since,
            unhealthy_since=unhealthy_since,
            message=message,
        )

    def to_status(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "state": self.state.value,
            "consecutiveSuccesses": self.consecutive_successes,
            "consecutiveFailures": self.consecutive_failures,
            "message": self.message,
        }
        if self.since is not None:
            out["since"] = to_rfc3339(self.since)
        if self.not_healthy_since is not None:
            out["notHealthySince"] = to_rfc3339(self.not_healthy_since)
        if self.unhealthy_since is not None:
            out["unhealthySince"] = to_rfc3339(self.unhealthy_since)
        return out

    @classmethod
    def from_status(cls, data: Mapping[str, Any]) -> RegionTracker:
        """Rebuild from the FailoverGroup status, so a restarted operator keeps its clock."""
        try:
            state = Health(data.get("state", "Unknown"))
        except ValueError:
            state = Health.UNKNOWN
        return cls(
            name=str(data["name"]),
            state=state,
            consecutive_successes=int(data.get("consecutiveSuccesses") or 0),
            consecutive_failures=int(data.get("consecutiveFailures") or 0),
            since=maybe_from_rfc3339(data.get("since")),
            not_healthy_since=maybe_from_rfc3339(data.get("notHealthySince")),
            unhealthy_since=maybe_from_rfc3339(data.get("unhealthySince")),
            message=str(data.get("message") or ""),
        )


@dataclass(frozen=True)
class Decision:
    action: str  # "none", "failover" or "freeze"
    reason: str
    target: str | None = None
    detected_at: float | None = None

    NONE = "none"
    FAILOVER = "failover"
    FREEZE = "freeze"


def recent_transitions(transitions: Iterable[float], now: float) -> list[float]:
    return sorted(t for t in transitions if now - t < HOUR)


def decide(
    group: GroupSpec,
    active: str,
    trackers: Mapping[str, RegionTracker],
    now: float,
    *,
    last_transition: float | None,
    transitions: Iterable[float],
    frozen: bool,
    in_progress: bool,
    last_attempt: float | None,
) -> Decision:
    """Should the operator create an automatic RegionFailover now, and to where?"""
    policy = group.policy
    if not policy.automatic:
        return Decision(Decision.NONE, "automation is off")
    if frozen:
        return Decision(Decision.NONE, "automation is frozen")
    if in_progress:
        return Decision(Decision.NONE, "a failover is in progress")
    current = trackers.get(active)
    if current is None:
        return Decision(Decision.NONE, f"active region {active!r} is not in the group")

    target: str | None = None
    why = ""
    detected: float | None = None
    stretch = now - current.not_healthy_since if current.not_healthy_since is not None else 0.0
    if current.state is not Health.HEALTHY and current.unhealthy_since is not None:
        if stretch < policy.stabilization_window_seconds:
            left = policy.stabilization_window_seconds - stretch
            return Decision(Decision.NONE, f"{active} not healthy; stabilizing ({left:.1f}s left)")
        standby = [
            trackers[r.name]
            for r in group.other_regions(active)
            if r.name in trackers and trackers[r.name].state is Health.HEALTHY
        ]
        if not standby:
            return Decision(Decision.NONE, f"{active} unhealthy but no healthy standby")
        preferred = sorted(standby, key=lambda t: (t.name != group.initial_region, t.name))
        target = preferred[0].name
        why = f"{active} unhealthy for {stretch:.1f}s"
        detected = current.unhealthy_since
    elif policy.auto_failback.enabled and active != group.initial_region:
        home = trackers.get(group.initial_region)
        if home is None or home.state is not Health.HEALTHY or home.since is None:
            return Decision(Decision.NONE, "initial region not healthy yet")
        healthy_for = now - home.since
        if healthy_for < policy.auto_failback.delay_seconds:
            left = policy.auto_failback.delay_seconds - healthy_for
            return Decision(Decision.NONE, f"failback waits ({left:.1f}s left)")
        target = group.initial_region
        why = f"failback: {target} healthy for {healthy_for:.1f}s"
    else:
        return Decision(Decision.NONE, f"{active} is {current.state.value}")

    if last_transition is not None and now - last_transition < policy.min_dwell_seconds:
        left = policy.min_dwell_seconds - (now - last_transition)
        return Decision(Decision.NONE, f"{why}; dwell time ({left:.1f}s left)")
    backoff = max(policy.stabilization_window_seconds, policy.probe_interval_seconds)
    if last_attempt is not None and now - last_attempt < backoff:
        return Decision(Decision.NONE, f"{why}; retrying after a refused attempt")
    spent = len(recent_transitions(transitions, now))
    if spent >= policy.max_transitions_per_hour:
        return Decision(
            Decision.FREEZE,
            f"{why}, but the flap budget is spent: {spent} automatic transitions in the "
            f"last hour (max {policy.max_transitions_per_hour})",
        )
    return Decision(Decision.FAILOVER, why, target=target, detected_at=detected)
