"""The freshness gate's judgement, from the region APIs' /api/status answers."""

from __future__ import annotations

from tier0_common.rfc3339 import to_rfc3339
from tier0_operator.health import judge_freshness


def status(last: float | None, age: float | None = None) -> dict[str, object]:
    return {"last_ingest_utc": to_rfc3339(last) if last else None, "data_age_seconds": age}


def test_target_within_budget_of_source_passes() -> None:
    assert judge_freshness(status(1000.0), status(1010.0), budget=30).passed


def test_target_behind_source_beyond_budget_is_stale() -> None:
    result = judge_freshness(status(1000.0), status(1100.0), budget=30)
    assert not result.passed and "100.0s behind" in result.message


def test_unreachable_source_falls_back_to_the_targets_own_age() -> None:
    assert judge_freshness(status(1000.0, age=5), None, budget=30).passed
    assert not judge_freshness(status(1000.0, age=500), None, budget=30).passed


def test_target_without_data_or_answer_fails() -> None:
    assert not judge_freshness(None, status(1.0), budget=30).passed
    assert not judge_freshness(status(None), status(1.0), budget=30).passed
