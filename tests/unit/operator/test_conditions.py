"""Conditions keep their transition time while their status does not change."""

from __future__ import annotations

from tier0_common.rfc3339 import from_rfc3339, to_rfc3339
from tier0_operator.conditions import get_condition, set_condition


def test_transition_time_moves_only_on_status_change() -> None:
    first = set_condition(None, "Ready", False, "Pending", "m1", generation=1, now=100.0)
    same = set_condition(first, "Ready", False, "StillPending", "m2", generation=1, now=200.0)
    flipped = set_condition(same, "Ready", True, "Done", "m3", generation=2, now=300.0)
    assert get_condition(same, "Ready")["lastTransitionTime"] == to_rfc3339(100.0)  # type: ignore[index]
    assert get_condition(same, "Ready")["reason"] == "StillPending"  # type: ignore[index]
    ready = get_condition(flipped, "Ready")
    assert ready is not None
    assert (ready["status"], ready["observedGeneration"]) == ("True", 2)
    assert ready["lastTransitionTime"] == to_rfc3339(300.0)


def test_other_condition_types_are_kept_and_unknown_is_spelled_out() -> None:
    conds = set_condition(None, "A", True, "r", "m", generation=None, now=1.0)
    conds = set_condition(conds, "B", None, "r", "m", generation=None, now=2.0)
    assert [c["type"] for c in conds] == ["A", "B"]
    assert get_condition(conds, "B")["status"] == "Unknown"  # type: ignore[index]
    assert "observedGeneration" not in conds[0]


def test_rfc3339_round_trip_keeps_microseconds() -> None:
    assert abs(from_rfc3339(to_rfc3339(1700000000.123456)) - 1700000000.123456) < 1e-6
