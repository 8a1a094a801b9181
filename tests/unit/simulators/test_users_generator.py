"""The user-activity generator: seed shape, determinism, caps and a daily rhythm."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from tier0_common.catalog import WEB_SITES
from tier0_common.schema import UserActivity
from tier0_simulators.users.generator import ActivityGenerator, diurnal_factor

NOON = datetime(2025, 11, 16, 12, 0, 0, tzinfo=UTC)


def _rounds(seed: int, count: int, *, start: datetime = NOON, cap: int = 100) -> list[dict]:
    generator = ActivityGenerator(seed, max_listed_users=cap)
    reports: list[dict] = []
    for tick in range(count):
        reports.extend(generator.round(start + timedelta(seconds=5 * tick)))
    return reports


def test_every_report_validates_and_has_the_seed_shape() -> None:
    reports = _rounds(seed=1, count=20)
    assert [r["site_id"] for r in reports[:5]] == list(WEB_SITES)
    for report in reports:
        assert set(report) == {
            "message_id",
            "timestamp_utc",
            "site_id",
            "metrics",
            "active_users_list",
        }
        assert set(report["metrics"]) == {
            "active_users",
            "active_connections",
            "server_cpu_pct",
            "server_memory_gb",
            "average_latency_ms",
        }
        model = UserActivity.model_validate(report)
        assert re.fullmatch(r"MSG-\d{8}-\d{5,}", model.message_id)
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", report["timestamp_utc"])
        assert model.metrics.active_connections <= model.metrics.active_users
        for user in model.active_users_list:
            assert user.session_start_utc <= model.timestamp_utc
            assert user.page.startswith("/")


def test_message_ids_are_unique_and_dated() -> None:
    reports = _rounds(seed=2, count=10)
    ids = [r["message_id"] for r in reports]
    assert len(set(ids)) == len(ids)
    assert all(i.startswith("MSG-20251116-") for i in ids)


def test_same_seed_same_reports_other_seed_other_reports() -> None:
    assert _rounds(seed=7, count=6) == _rounds(seed=7, count=6)
    assert _rounds(seed=7, count=6) != _rounds(seed=8, count=6)


@pytest.mark.parametrize("cap", [0, 10, 100, 5000])
def test_user_list_is_the_count_capped(cap: int) -> None:
    for report in _rounds(seed=3, count=3, cap=cap):
        users = report["metrics"]["active_users"]
        assert len(report["active_users_list"]) == min(users, cap)
        ids = [u["user_id"] for u in report["active_users_list"]]
        assert len(set(ids)) == len(ids)


def test_sessions_persist_between_ticks() -> None:
    """The next report of a site shows mostly the same people, not a new random crowd."""
    generator = ActivityGenerator(4, max_listed_users=5000)
    first = {u["user_id"] for u in generator.report("LON-WEB-01", NOON)["active_users_list"]}
    later = generator.report("LON-WEB-01", NOON + timedelta(seconds=5))["active_users_list"]
    second = {u["user_id"] for u in later}
    assert len(first & second) >= 0.9 * len(first)


def test_traffic_follows_local_time_of_day() -> None:
    assert diurnal_factor(4) == pytest.approx(0.3)
    assert diurnal_factor(16) == pytest.approx(1.0)
    # Singapore is UTC+8: 08:00 UTC is its 16:00 peak, 20:00 UTC its 04:00 trough.
    peak = ActivityGenerator(5).report("SIN-WEB-01", datetime(2025, 11, 16, 8, tzinfo=UTC))
    trough = ActivityGenerator(5).report("SIN-WEB-01", datetime(2025, 11, 16, 20, tzinfo=UTC))
    assert peak["metrics"]["active_users"] > 2 * trough["metrics"]["active_users"]
    assert peak["metrics"]["server_cpu_pct"] > trough["metrics"]["server_cpu_pct"]
    assert peak["metrics"]["average_latency_ms"] > trough["metrics"]["average_latency_ms"]


def test_refuses_naive_clock_and_empty_sites() -> None:
    with pytest.raises(ValueError):
        ActivityGenerator(0).report("SFO-WEB-01", datetime(2025, 11, 16, 12))
    with pytest.raises(ValueError):
        ActivityGenerator(0, sites=())
