"""Users, status, canary, health and metrics endpoints against a real Redis."""

from __future__ import annotations

import time
from datetime import datetime

import httpx
import pytest
import redis

from tests.support.redis_data import (
    fleet,
    make_activity,
    mark_ingest,
    write_activity,
    write_canary,
    write_devices,
)
from tier0_common.keys import DEVICE_INDEX

pytestmark = pytest.mark.integration


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


@pytest.fixture
def activity(redis1: redis.Redis) -> dict[str, tuple[int, int]]:
    """Three sites report; SFO reports twice and its second report is the latest."""
    now = time.time()
    write_activity(redis1, make_activity("SFO-WEB-01", 100, 90, seq=1), now)
    latest = {"SFO-WEB-01": (324, 289), "NYC-WEB-01": (50, 40), "LON-WEB-01": (7, 3)}
    for seq, (site, (users, connections)) in enumerate(latest.items(), start=2):
        write_activity(redis1, make_activity(site, users, connections, seq=seq), now)
    return latest


async def test_active_users_and_connections(
    api: httpx.AsyncClient, activity: dict[str, tuple[int, int]]
) -> None:
    users = (await api.get("/api/users/active")).json()
    assert users["by_site"] == {site: u for site, (u, _) in activity.items()}
    assert users["active_users"] == 381
    assert users["sites_reporting"] == 3
    connections = (await api.get("/api/users/connections")).json()
    assert connections["by_site"] == {site: c for site, (_, c) in activity.items()}
    assert connections["active_connections"] == 332


async def test_activity_lists_sites_and_newest_reports(
    api: httpx.AsyncClient, activity: dict[str, tuple[int, int]]
) -> None:
    body = (await api.get("/api/users/activity", params={"limit": 2})).json()
    assert {s["site_id"] for s in body["sites"]} == set(activity)
    sfo = next(s for s in body["sites"] if s["site_id"] == "SFO-WEB-01")
    assert (sfo["active_users"], sfo["message_id"]) == (324, "MSG-SFO-WEB-01-00002")
    assert sfo["server_cpu_pct"] == 52.0 and sfo["server_memory_gb"] == 16.0
    assert [r["site_id"] for r in body["recent"]] == ["LON-WEB-01", "NYC-WEB-01"]
    assert body["recent"][0]["stream_id"] > body["recent"][1]["stream_id"]
    everything = (await api.get("/api/users/activity", params={"limit": 100})).json()
    assert len(everything["recent"]) == 4


async def test_users_of_a_region_without_reports(api: httpx.AsyncClient) -> None:
    body = (await api.get("/api/users/activity")).json()
    assert (body["active_users"], body["sites"], body["recent"]) == (0, [], [])


async def test_status_is_active_with_fresh_data(
    api: httpx.AsyncClient, redis1: redis.Redis, activity: dict[str, tuple[int, int]]
) -> None:
    now = time.time()
    write_devices(redis1, ((t, now) for t in fleet(40, seen=now)))
    mark_ingest(redis1, "mqtt", now - 2)
    mark_ingest(redis1, "amqp", now - 4)
    body = (await api.get("/api/status")).json()
    assert body["status"] == "active", body["degraded_reasons"]
    assert (body["region"], body["version"]) == ("region1", "v1.0.0057_region1")
    assert body["active_devices"] == 40
    assert body["active_users"] == 381
    assert _epoch(body["last_ingest_utc"]) == pytest.approx(now - 2, abs=1e-3)
    assert body["data_age_seconds"] == pytest.approx(2, abs=1)
    assert body["ingest"]["amqp"]["data_age_seconds"] == pytest.approx(4, abs=1)
    assert _epoch(body["startup_time"]) <= _epoch(body["timestamp"])


async def test_status_is_degraded_with_stale_or_missing_data(
    api: httpx.AsyncClient, redis1: redis.Redis
) -> None:
    mark_ingest(redis1, "mqtt", time.time() - 300)
    body = (await api.get("/api/status")).json()
    assert body["status"] == "degraded"
    assert body["ingest"]["mqtt"]["stale"] is True
    assert body["data_age_seconds"] == pytest.approx(300, abs=2)
    assert any("mqtt" in reason for reason in body["degraded_reasons"])
    assert any("no amqp data" in reason for reason in body["degraded_reasons"])
    assert body["ingest"]["amqp"] == {
        "last_ingest_utc": None,
        "data_age_seconds": None,
        "stale": True,
    }


async def test_canary_receipt(api: httpx.AsyncClient, redis1: redis.Redis) -> None:
    at = time.time()
    write_canary(redis1, "fo-0123abcd", at)
    body = (await api.get("/api/canary/fo-0123abcd")).json()
    assert body["canary_id"] == "fo-0123abcd"
    assert body["ingested_at"] == pytest.approx(at, abs=1e-3)
    missing = await api.get("/api/canary/fo-never")
    assert missing.status_code == 404
    assert "fo-never" in missing.json()["detail"]


async def test_health_is_healthy_and_recreates_a_dropped_index(
    api: httpx.AsyncClient, redis1: redis.Redis
) -> None:
    redis1.execute_command("FT.DROPINDEX", DEVICE_INDEX)
    dropped = await api.get("/api/devices/active")
    assert dropped.status_code == 503
    assert dropped.json()["error"] == "index_missing"
    response = await api.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["redis"], body["device_index"]) == ("healthy", "ok", "ok")
    assert DEVICE_INDEX in redis1.execute_command("FT._LIST")
    assert (await api.get("/api/devices/active")).status_code == 200


async def test_metrics_expose_route_and_redis_latency(
    api: httpx.AsyncClient, activity: dict[str, tuple[int, int]]
) -> None:
    await api.get("/api/users/active")
    await api.get("/api/devices/NOPE-1")
    text = (await api.get("/metrics")).text
    latency = 'tier0_api_request_duration_seconds_count{method="GET",route="/api/users/active"}'
    assert latency in text
    not_found = (
        'tier0_api_requests_total{method="GET",route="/api/devices/{device_id}",status="404"}'
    )
    assert not_found in text
    assert 'tier0_api_redis_query_duration_seconds_count{query="users_sites"}' in text
