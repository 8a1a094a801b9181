"""The anti-flap state machine, driven with an explicit clock."""

from __future__ import annotations

from typing import Any

from tier0_common.failover_models import GroupSpec, parse_group_spec
from tier0_operator.policy import Decision, Health, RegionTracker, decide


def group(**policy: Any) -> GroupSpec:
    base = {
        "automatic": True,
        "probeIntervalSeconds": 1,
        "failureThreshold": 2,
        "successThreshold": 2,
        "stabilizationWindowSeconds": 10,
        "minDwellSeconds": 60,
        "maxTransitionsPerHour": 2,
    }
    return parse_group_spec(
        "g",
        {
            "services": ["api"],
            "initialRegion": "region1",
            "regions": [{"name": "region1"}, {"name": "region2"}],
            "policy": {**base, **policy},
        },
    )


def feed(
    tracker: RegionTracker, results: list[bool | None], start: float, g: GroupSpec
) -> RegionTracker:
    for i, ok in enumerate(results):
        tracker = tracker.observe(ok, start + i, g.policy)
    return tracker


def trackers(
    g: GroupSpec, r1: list[bool | None], r2: list[bool | None], start: float = 0.0
) -> dict[str, RegionTracker]:
    return {
        "region1": feed(RegionTracker("region1"), r1, start, g),
        "region2": feed(RegionTracker("region2"), r2, start, g),
    }


def run(g: GroupSpec, t: dict[str, RegionTracker], now: float, **kw: Any) -> Decision:
    args: dict[str, Any] = {
        "last_transition": None,
        "transitions": [],
        "frozen": False,
        "in_progress": False,
        "last_attempt": None,
    }
    args.update(kw)
    return decide(g, "region1", t, now, **args)


def test_thresholds_move_the_state() -> None:
    g = group()
    t = feed(RegionTracker("r"), [True], 0, g)
    assert t.state is Health.UNKNOWN
    t = t.observe(True, 1, g.policy)
    assert t.state is Health.HEALTHY and t.since == 1
    t = t.observe(False, 2, g.policy)
    assert t.state is Health.HEALTHY and t.not_healthy_since is None
    t = t.observe(False, 3, g.policy)
    assert t.state is Health.UNHEALTHY and t.unhealthy_since == 3 and t.not_healthy_since == 3


def test_failover_waits_for_the_stabilization_window() -> None:
    g = group()
    t = trackers(g, [True, True, False, False], [True, True, True, True])
    inside = run(g, t, now=5.0)
    assert inside.action == Decision.NONE and "stabilizing" in inside.reason
    after = run(g, t, now=3.0 + 10.0)
    assert (after.action, after.target, after.detected_at) == (Decision.FAILOVER, "region2", 3.0)


def test_unhealthy_unknown_flicker_does_not_reset_the_window() -> None:
    g = group()
    r1 = [True, True, False, False, None, False, False, None, None, False, False]
    t = trackers(g, r1, [True] * len(r1))
    assert t["region1"].not_healthy_since == 3.0
    assert run(g, t, now=13.0).action == Decision.FAILOVER


def test_recovery_ends_the_stretch() -> None:
    g = group()
    t = trackers(g, [True, True, False, False, True, True], [True] * 6)
    assert t["region1"].state is Health.HEALTHY and t["region1"].not_healthy_since is None
    assert run(g, t, now=100.0).action == Decision.NONE


def test_no_failover_without_a_healthy_standby_or_while_in_progress() -> None:
    g = group()
    t = trackers(g, [False, False], [False, False])
    assert "no healthy standby" in run(g, t, now=50.0).reason
    t = trackers(g, [False, False], [True, True])
    assert run(g, t, now=50.0, in_progress=True).action == Decision.NONE
    assert run(g, t, now=50.0, frozen=True).action == Decision.NONE
    assert run(group(automatic=False), t, now=50.0).action == Decision.NONE


def test_dwell_time_blocks_a_quick_second_transition() -> None:
    g = group()
    t = trackers(g, [False, False], [True, True])
    blocked = run(g, t, now=50.0, last_transition=20.0)
    assert blocked.action == Decision.NONE and "dwell" in blocked.reason
    assert run(g, t, now=81.0, last_transition=20.0).action == Decision.FAILOVER


def test_refused_attempt_backs_off() -> None:
    g = group()
    t = trackers(g, [False, False], [True, True])
    assert run(g, t, now=50.0, last_attempt=45.0).action == Decision.NONE
    assert run(g, t, now=56.0, last_attempt=45.0).action == Decision.FAILOVER


def test_spent_flap_budget_freezes() -> None:
    g = group(minDwellSeconds=0)
    t = trackers(g, [False, False], [True, True])
    frozen = run(g, t, now=4000.0, transitions=[3000.0, 3500.0])
    assert frozen.action == Decision.FREEZE and "flap budget" in frozen.reason
    # transitions older than an hour no longer count
    assert run(g, t, now=4000.0, transitions=[100.0, 3500.0]).action == Decision.FAILOVER


def test_failback_after_delay_when_enabled() -> None:
    g = group(autoFailback={"enabled": True, "delaySeconds": 30}, minDwellSeconds=0)
    t = trackers(g, [True, True], [True, True])
    args: dict[str, Any] = {
        "last_transition": None,
        "transitions": [],
        "frozen": False,
        "in_progress": False,
        "last_attempt": None,
    }
    early = decide(g, "region2", t, 20.0, **args)
    assert early.action == Decision.NONE and "failback waits" in early.reason
    back = decide(g, "region2", t, 40.0, **args)
    assert (back.action, back.target) == (Decision.FAILOVER, "region1")
    assert decide(group(), "region2", t, 40.0, **args).action == Decision.NONE


def test_tracker_survives_a_round_trip_through_status() -> None:
    g = group()
    t = feed(RegionTracker("region1"), [True, True, False, False], 0, g)
    again = RegionTracker.from_status(t.to_status())
    assert again.state is t.state
    assert again.not_healthy_since == t.not_healthy_since
    assert again.unhealthy_since == t.unhealthy_since
    assert again.consecutive_failures == 2
