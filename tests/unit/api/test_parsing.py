"""The pure parts of the Redis queries: escaping, reply parsing (tier0_common.redis_search),
the per-site cache."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from tier0_api.devices import queries as devices
from tier0_api.users import queries as users
from tier0_common import redis_search as search


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("WY-ALPHA", r"WY\-ALPHA"),
        ("thermal_engine", r"thermal\_engine"),
        ("a b.c:d", r"a\ b\.c\:d"),
        ("OK", "OK"),
    ],
)
def test_escape_tag(raw: str, escaped: str) -> None:
    assert search.escape_tag(raw) == escaped


def test_tag_clause_joins_alternatives() -> None:
    assert search.tag_clause("state", ["WARN", "ALERT"]) == "@state:{WARN|ALERT}"


def test_search_reply_parsing() -> None:
    reply = [2, "dev:A", ["id", "A", "seen", "1.5"], "dev:B", ["id", "B"]]
    assert search.search_total(reply) == 2
    assert search.search_docs(reply) == [
        ("dev:A", {"id": "A", "seen": "1.5"}),
        ("dev:B", {"id": "B"}),
    ]
    assert search.search_docs([7]) == []


def test_aggregate_rows_skip_the_count() -> None:
    rows = search.aggregate_rows([99, ["type", "turbine", "n", "3"]])
    assert rows == [{"type": "turbine", "n": "3"}]


@pytest.mark.parametrize(
    ("raw", "value"), [("1.5", 1.5), ("", None), (None, None), ("nan", None), ("x", None)]
)
def test_to_float(raw: object, value: float | None) -> None:
    assert search.to_float(raw) == value


def test_report_from_flat_fields() -> None:
    values = users.report_values(
        "SFO-WEB-01",
        {
            "message_id": "M1",
            "timestamp_utc": "2025-11-16T12:00:00Z",
            "active_users": "324",
            "active_connections": "289",
            "server_cpu_pct": "64.3",
        },
    )
    assert values["timestamp_utc"] == datetime(2025, 11, 16, 12, tzinfo=UTC)
    assert (values["active_users"], values["active_connections"]) == (324, 289)
    assert values["server_cpu_pct"] == 64.3
    assert values["server_memory_gb"] is None


def test_report_from_payload_json() -> None:
    payload = (
        '{"message_id": "M2", "site_id": "NYC-WEB-01", "timestamp_utc": "2025-11-16T12:00:00Z",'
        ' "metrics": {"active_users": 5, "active_connections": 4, "server_cpu_pct": 1.0,'
        ' "server_memory_gb": 2.0, "average_latency_ms": 3.0}}'
    )
    values = users.report_values("", {"payload": payload})
    assert values["site_id"] == "NYC-WEB-01"
    assert values["active_users"] == 5
    assert values["average_latency_ms"] == 3.0


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1700000000", datetime.fromtimestamp(1700000000, UTC)),
        ("2025-11-16T12:00:00", datetime(2025, 11, 16, 12, tzinfo=UTC)),
        ("garbage", None),
        (None, None),
    ],
)
def test_parse_time(raw: object, expected: datetime | None) -> None:
    assert users.parse_time(raw) == expected


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _stats(total: int) -> devices.SiteStats:
    return devices.SiteStats(total=total, active=total, by_type={})


async def test_site_cache_reuses_an_answer_only_while_young_enough() -> None:
    clock = FakeClock()
    cache = devices.SiteStatsCache(clock=clock)
    computed: list[int] = []

    async def compute() -> devices.SiteStats:
        computed.append(1)
        return _stats(len(computed))

    first = await cache.get("WY-ALPHA", 1.0, compute)
    assert (first.stats.total, first.age_seconds) == (1, 0.0)
    clock.now += 0.75
    again = await cache.get("WY-ALPHA", 1.0, compute)
    assert (again.stats.total, again.age_seconds, again.computed_at) == (1, 0.75, first.computed_at)
    fresh = await cache.get("WY-ALPHA", 0.0, compute)  # max age 0: always read
    assert (fresh.stats.total, fresh.age_seconds) == (2, 0.0)
    clock.now += 1.5
    expired = await cache.get("WY-ALPHA", 1.0, compute)
    assert expired.stats.total == 3
    other_site = await cache.get("TX-BRAVO", 1.0, compute)
    assert other_site.stats.total == 4


async def test_site_cache_shares_one_computation_between_concurrent_requests() -> None:
    cache = devices.SiteStatsCache()
    started, release = asyncio.Event(), asyncio.Event()
    calls = 0

    async def compute() -> devices.SiteStats:
        nonlocal calls
        calls += 1
        started.set()
        await release.wait()
        return _stats(calls)

    waiting = [asyncio.create_task(cache.get("WY-ALPHA", 1.0, compute)) for _ in range(5)]
    # The tasks were queued together, so once the first is computing the other four have
    # also reached the cache (and found the computation in flight).
    await started.wait()
    release.set()
    answers = await asyncio.gather(*waiting)
    assert calls == 1
    assert {a.stats.total for a in answers} == {1}


async def test_site_cache_never_keeps_a_failure() -> None:
    cache = devices.SiteStatsCache()
    outcomes: list[BaseException | devices.SiteStats] = [ConnectionError("redis down"), _stats(7)]

    async def compute() -> devices.SiteStats:
        outcome = outcomes.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    with pytest.raises(ConnectionError):
        await cache.get("WY-ALPHA", 1.0, compute)
    assert (await cache.get("WY-ALPHA", 1.0, compute)).stats.total == 7


async def test_site_cache_is_bounded() -> None:
    cache = devices.SiteStatsCache(capacity=3)

    async def compute() -> devices.SiteStats:
        return _stats(0)

    for index in range(10):
        await cache.get(f"SITE-{index}", 1.0, compute)
    assert len(cache) == 3
