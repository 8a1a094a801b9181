"""Device endpoints against a real Redis holding a fleet the test wrote and knows.

Expected figures are computed here from the written readings, independently of the
API's queries: counts per type/site/state, alert pages, per-site metric statistics.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import httpx
import pytest
import redis

from tests.support.redis_data import fleet, write_devices
from tier0_common.catalog import METRICS, SITE_IDS, DeviceState, DeviceType
from tier0_common.keys import device_key
from tier0_common.schema import Telemetry

pytestmark = pytest.mark.integration

FLEET = 400
STALE_AGE = 3_600.0


@dataclass(frozen=True)
class Reading:
    telemetry: Telemetry
    seen: float

    @property
    def active(self) -> bool:
        return time.time() - self.seen < 60


def state_of(index: int) -> DeviceState:
    if index % 7 == 0:
        return DeviceState.ALERT
    return DeviceState.WARN if index % 5 == 0 else DeviceState.OK


def readings(now: float) -> Iterator[Reading]:
    for index, telemetry in enumerate(fleet(FLEET, seen=now, state_of=state_of)):
        # A third of each type was last seen an hour ago; the rest spread over 30 s so
        # "most recently seen first" has an order to check.
        stale = (index // 4) % 3 == 0
        yield Reading(telemetry, now - STALE_AGE if stale else now - (index % 300) / 10)


@pytest.fixture
def written(redis1: redis.Redis) -> list[Reading]:
    data = list(readings(time.time()))
    assert write_devices(redis1, ((r.telemetry, r.seen) for r in data)) == FLEET
    return data


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


async def test_active_counts_match_what_was_written(
    api: httpx.AsyncClient, written: list[Reading]
) -> None:
    body = (await api.get("/api/devices/active")).json()
    active = [r.telemetry for r in written if r.active]
    assert 0 < len(active) < FLEET
    assert body["total_devices"] == FLEET
    assert body["active_devices"] == len(active)
    assert body["window_seconds"] == 60
    types = Counter(a.device_type.value for a in active)
    assert body["by_type"] == dict(types)
    assert body["by_site"] == dict(Counter(a.site_id for a in active))
    expected_states = Counter(a.status.state.value for a in active)
    assert body["by_state"] == {s.value: expected_states.get(s.value, 0) for s in DeviceState}


async def test_active_counts_of_an_empty_region_are_zero(api: httpx.AsyncClient) -> None:
    body = (await api.get("/api/devices/active")).json()
    assert (body["active_devices"], body["total_devices"]) == (0, 0)
    assert set(body["by_site"]) == set(SITE_IDS)
    assert not any(body["by_site"].values())


async def test_alerts_page_through_every_alerting_device_newest_first(
    api: httpx.AsyncClient, written: list[Reading]
) -> None:
    expected = {
        r.telemetry.device_id for r in written if r.telemetry.status.state != DeviceState.OK
    }
    seen_ids: list[str] = []
    seen_order: list[float] = []
    offset = 0
    while True:
        page = (await api.get("/api/devices/alerts", params={"limit": 37, "offset": offset})).json()
        assert page["total"] == len(expected)
        assert len(page["items"]) <= 37
        if not page["items"]:
            break
        seen_ids += [item["device_id"] for item in page["items"]]
        seen_order += [_epoch(item["seen"]) for item in page["items"]]
        offset += 37
    assert len(seen_ids) == len(set(seen_ids))
    assert set(seen_ids) == expected
    assert seen_order == sorted(seen_order, reverse=True)


async def test_alert_items_carry_the_device_state(
    api: httpx.AsyncClient, written: list[Reading]
) -> None:
    by_id = {r.telemetry.device_id: r for r in written}
    page = (await api.get("/api/devices/alerts", params={"limit": 5})).json()
    for item in page["items"]:
        reading = by_id[item["device_id"]]
        telemetry = reading.telemetry
        assert item["type"] == telemetry.device_type.value
        assert item["site"] == telemetry.site_id
        assert item["state"] == telemetry.status.state.value
        assert item["code"] == telemetry.status.code
        assert item["message"] == telemetry.status.message
        reading_time = telemetry.timestamp_utc.timestamp()
        assert _epoch(item["timestamp"]) == pytest.approx(reading_time, abs=1e-3)
        # RediSearch returns a SORTABLE numeric with 12 significant digits: 10 ms for epochs.
        assert _epoch(item["seen"]) == pytest.approx(reading.seen, abs=0.011)


@pytest.mark.parametrize(
    "filters",
    [
        {"site_id": "WY-ALPHA"},
        {"device_type": "thermal_engine"},
        {"state": "ALERT"},
        {"site_id": "TX-BRAVO", "device_type": "thermal_engine", "state": "WARN"},
    ],
)
async def test_alert_filters(
    api: httpx.AsyncClient, written: list[Reading], filters: dict[str, str]
) -> None:
    def matches(t: Telemetry) -> bool:
        return (
            t.status.state != DeviceState.OK
            and t.site_id == filters.get("site_id", t.site_id)
            and t.device_type.value == filters.get("device_type", t.device_type.value)
            and t.status.state.value == filters.get("state", t.status.state.value)
        )

    expected = {r.telemetry.device_id for r in written if matches(r.telemetry)}
    assert expected
    page = (await api.get("/api/devices/alerts", params={**filters, "limit": 500})).json()
    assert page["total"] == len(expected)
    assert {item["device_id"] for item in page["items"]} == expected
    assert page["filters"] == {"site_id": None, "device_type": None, "state": None, **filters}


async def test_site_metrics_match_independent_aggregates(
    api: httpx.AsyncClient, written: list[Reading]
) -> None:
    site = "WY-ALPHA"
    here = [r for r in written if r.telemetry.site_id == site]
    body = (await api.get(f"/api/devices/metrics/site/{site}")).json()
    assert body["site_id"] == site
    assert body["site_name"] == "Wyoming Alpha"
    assert body["total_devices"] == len(here)
    assert body["active_devices"] == sum(r.active for r in here)
    assert body["by_state"] == dict(Counter(r.telemetry.status.state.value for r in here))
    assert _epoch(body["last_seen"]) == pytest.approx(max(r.seen for r in here), abs=0.01)
    for device_type in DeviceType:
        of_type = [r for r in here if r.telemetry.device_type == device_type]
        stats = body["by_type"][device_type.value]
        assert stats["devices"] == len(of_type)
        states = Counter(r.telemetry.status.state.value for r in of_type)
        assert stats["by_state"] == {s.value: states.get(s.value, 0) for s in DeviceState}
        assert set(stats["metrics"]) == set(METRICS[device_type])
        for name in METRICS[device_type]:
            values = [r.telemetry.metrics[name] for r in of_type]
            got = stats["metrics"][name]
            assert got["avg"] == pytest.approx(sum(values) / len(values), abs=1e-3)
            assert got["min"] == pytest.approx(min(values), abs=1e-6)
            assert got["max"] == pytest.approx(max(values), abs=1e-6)


async def test_site_metrics_reuse_a_recent_answer_and_say_how_old(
    api: httpx.AsyncClient, redis1: redis.Redis, written: list[Reading]
) -> None:
    site = "WY-ALPHA"
    path = f"/api/devices/metrics/site/{site}"
    first = (await api.get(path, params={"max_age_seconds": 60})).json()
    assert (first["age_seconds"], first["max_age_seconds"]) == (0.0, 60.0)
    moved = next(r.telemetry for r in written if r.telemetry.site_id == site)
    redis1.hset(device_key(moved.device_id), "site", "TX-BRAVO")

    reused = (await api.get(path, params={"max_age_seconds": 60})).json()
    assert reused["total_devices"] == first["total_devices"]
    assert reused["timestamp"] == first["timestamp"]
    assert 0 <= reused["age_seconds"] <= 60

    fresh = (await api.get(path, params={"max_age_seconds": 0})).json()
    assert fresh["total_devices"] == first["total_devices"] - 1
    assert fresh["age_seconds"] == 0.0
    assert _epoch(fresh["timestamp"]) >= _epoch(first["timestamp"])


@pytest.mark.parametrize("max_age", ["-1", "61", "soon"])
async def test_site_metrics_refuse_a_bad_max_age(api: httpx.AsyncClient, max_age: str) -> None:
    response = await api.get(
        "/api/devices/metrics/site/WY-ALPHA", params={"max_age_seconds": max_age}
    )
    assert response.status_code == 422


async def test_unknown_site_is_404_listing_known_sites(
    api: httpx.AsyncClient, written: list[Reading]
) -> None:
    response = await api.get("/api/devices/metrics/site/XX-NOWHERE")
    assert response.status_code == 404
    detail = response.json()["detail"]
    assert "XX-NOWHERE" in detail
    assert all(site in detail for site in SITE_IDS)


async def test_catalogue_site_without_data_is_empty_not_404(api: httpx.AsyncClient) -> None:
    body = (await api.get("/api/devices/metrics/site/CA-INDIA")).json()
    assert (body["total_devices"], body["by_type"], body["last_seen"]) == (0, {}, None)


async def test_one_device_and_an_unknown_one(
    api: httpx.AsyncClient, written: list[Reading]
) -> None:
    reading = written[13]
    telemetry = reading.telemetry
    body = (await api.get(f"/api/devices/{telemetry.device_id}")).json()
    assert body["device_id"] == telemetry.device_id
    assert (body["type"], body["site"]) == (telemetry.device_type.value, telemetry.site_id)
    assert (body["state"], body["code"]) == (telemetry.status.state.value, telemetry.status.code)
    assert body["metrics"] == pytest.approx(telemetry.metrics)
    assert body["tags"] == telemetry.tags
    assert body["firmware"] == telemetry.firmware
    assert body["location"] == {"lat": telemetry.location.lat, "lon": telemetry.location.lon}
    assert body["active"] is reading.active
    missing = await api.get("/api/devices/TURB-99999")
    assert missing.status_code == 404
    assert "TURB-99999" in missing.json()["detail"]
