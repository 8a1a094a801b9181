"""The whole data plane, for real, in both regions.

Simulators publish through real Mosquitto and RabbitMQ; each region runs its own MQTT
and AMQP ingest workers into its own Redis and its own API process. Every endpoint's
answer is then checked, in BOTH regions, against what was actually sent: the IoT
simulator's ``--record`` ground truth and an independent observer queue bound to the
user-activity exchange.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pika
import pytest

from tests.support.processes import Service, child_env, run_module
from tests.support.servers import Endpoint, clean_redis, free_port
from tests.support.wait import wait_for
from tier0_common.catalog import SITE_IDS, WEB_SITES, DeviceType

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

FLEET = 400
ROUNDS = 3
SEED = 11
USER_ROUNDS = 2
REGIONS = ("region1", "region2")


@dataclass
class Region:
    name: str
    api: str


@dataclass
class DataPlane:
    regions: list[Region]
    sent: dict[str, dict[str, Any]]  # device id -> last telemetry payload sent
    activity: dict[str, dict[str, Any]]  # web site -> last user-activity report sent


def _observe_activity(rabbit: Endpoint, exchange: str) -> tuple[pika.BlockingConnection, str]:
    """An independent queue on the exchange: sees exactly what the simulator published."""
    connection = pika.BlockingConnection(pika.URLParameters(rabbit.url))
    channel = connection.channel()
    channel.exchange_declare(exchange, exchange_type="topic", durable=True)
    queue = channel.queue_declare("", exclusive=True).method.queue
    channel.queue_bind(queue, exchange, routing_key="activity.#")
    return connection, queue


def _drain(connection: pika.BlockingConnection, queue: str, expected: int) -> list[dict[str, Any]]:
    channel = connection.channel()
    reports: list[dict[str, Any]] = []

    def pull() -> bool:
        method, _, body = channel.basic_get(queue, auto_ack=True)
        while method is not None:
            reports.append(json.loads(body))
            method, _, body = channel.basic_get(queue, auto_ack=True)
        return len(reports) >= expected

    wait_for(pull, 30, what=f"{expected} user-activity reports on the observer queue")
    return reports


@pytest.fixture(scope="module")
def plane(
    mosquitto_server: Endpoint,
    rabbitmq_server: Endpoint,
    redis_region1: Endpoint,
    redis_region2: Endpoint,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[DataPlane]:
    work = tmp_path_factory.mktemp("data-plane")
    for redis_at in (redis_region1, redis_region2):
        clean_redis(redis_at).close()
    exchange = f"e2e-{uuid.uuid4().hex[:8]}"
    observer, observer_queue = _observe_activity(rabbitmq_server, exchange)
    services: list[Service] = []
    regions: list[Region] = []
    try:
        for region, redis_at in zip(REGIONS, (redis_region1, redis_region2), strict=True):
            base = {
                "REGION": region,
                **redis_at.redis_env(),
                "LOG_LEVEL": "INFO",
            }
            mqtt_metrics = free_port()
            mqtt = Service(
                f"ingest-mqtt-{region}",
                "tier0_ingest.mqtt",
                child_env(
                    work / "home",
                    {
                        **base,
                        **mosquitto_server.mqtt_env("ingest"),
                        "MQTT_SHARE_GROUP": f"{exchange}-{region}",
                        "METRICS_PORT": str(mqtt_metrics),
                        "BATCH_MAX_WAIT_MS": "20",
                    },
                ),
                work / f"ingest-mqtt-{region}.log",
            )
            services.append(mqtt.start(f"http://127.0.0.1:{mqtt_metrics}/metrics"))
            # QoS 0: a message published before the subscription exists is gone, so the
            # simulator starts only once every worker has logged its SUBACK.
            wait_for(
                lambda svc=mqtt: '"mqtt_subscribed"' in svc.log_path.read_text(errors="replace"),
                30,
                what=f"{region} MQTT worker subscribed",
            )
            amqp_metrics = free_port()
            services.append(
                Service(
                    f"ingest-amqp-{region}",
                    "tier0_ingest.amqp",
                    child_env(
                        work / "home",
                        {
                            **base,
                            "AMQP_URL": rabbitmq_server.url,
                            "AMQP_EXCHANGE": exchange,
                            "METRICS_PORT": str(amqp_metrics),
                        },
                    ),
                    work / f"ingest-amqp-{region}.log",
                ).start(f"http://127.0.0.1:{amqp_metrics}/metrics")
            )
            api_port = free_port()
            services.append(
                Service(
                    f"api-{region}",
                    "tier0_api",
                    child_env(
                        work / "home",
                        {
                            **base,
                            "API_HOST": "127.0.0.1",
                            "API_PORT": str(api_port),
                            "ACTIVE_WINDOW_SECONDS": "600",
                        },
                    ),
                    work / f"api-{region}.log",
                ).start(f"http://127.0.0.1:{api_port}/health")
            )
            regions.append(Region(region, f"http://127.0.0.1:{api_port}"))

        # The AMQP workers declared their queues at start, so nothing published from
        # here on can miss them.
        record = work / "telemetry.jsonl"
        sim_env = child_env(
            work / "home",
            {
                **mosquitto_server.mqtt_env("simulator"),
                "NUM_DEVICES": str(FLEET),
                "PUBLISH_INTERVAL_SECONDS": "0",
                "FAULT_RATE": "0.05",
                "METRICS_PORT": "0",
            },
        )
        run_module(
            "tier0_simulators.iot",
            ["--rounds", str(ROUNDS), "--seed", str(SEED), "--record", str(record)],
            sim_env,
            timeout=120,
        )
        run_module(
            "tier0_simulators.users",
            [],
            child_env(
                work / "home",
                {
                    "AMQP_URL": rabbitmq_server.url,
                    "AMQP_EXCHANGE": exchange,
                    "USER_SIM_ROUNDS": str(USER_ROUNDS),
                    "USER_SIM_INTERVAL_SECONDS": "0",
                    "METRICS_PORT": "0",
                },
            ),
            timeout=120,
        )
        sent: dict[str, dict[str, Any]] = {}
        for line in record.read_text().splitlines():
            payload = json.loads(line)
            sent[payload["device_id"]] = payload
        reports = _drain(observer, observer_queue, USER_ROUNDS * len(WEB_SITES))
        activity = {report["site_id"]: report for report in reports}

        def caught_up() -> bool:
            for region in regions:
                active = httpx.get(f"{region.api}/api/devices/active", timeout=10).json()
                users = httpx.get(f"{region.api}/api/users/activity", timeout=10).json()
                if active["total_devices"] != FLEET or len(users["sites"]) != len(WEB_SITES):
                    return False
                latest = {site["site_id"]: site["message_id"] for site in users["sites"]}
                if latest != {site: rep["message_id"] for site, rep in activity.items()}:
                    return False
            return True

        wait_for(caught_up, 60, interval=0.5, what="both regions to ingest everything sent")
        yield DataPlane(regions, sent, activity)
    finally:
        observer.close()
        for service in reversed(services):
            service.stop()
        for service in services:
            assert "Traceback" not in service.log_tail(200), service.log_tail(60)


def _get(region: Region, path: str, **params: Any) -> Any:
    response = httpx.get(f"{region.api}{path}", params=params, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("index", range(len(REGIONS)), ids=REGIONS)
def test_active_devices_equal_the_simulated_fleet(plane: DataPlane, index: int) -> None:
    region = plane.regions[index]
    assert len(plane.sent) == FLEET
    body = _get(region, "/api/devices/active")
    assert body["region"] == region.name
    assert body["active_devices"] == FLEET
    assert body["by_type"] == {t.value: FLEET // 4 for t in DeviceType}
    assert body["by_site"] == dict(Counter(p["site_id"] for p in plane.sent.values()))
    states = Counter(p["status"]["state"] for p in plane.sent.values())
    assert {k: v for k, v in body["by_state"].items() if v} == dict(states)
    status = _get(region, "/api/status")
    assert status["active_devices"] == FLEET and status["status"] == "active"


@pytest.mark.parametrize("index", range(len(REGIONS)), ids=REGIONS)
def test_alerts_are_exactly_the_devices_last_sent_in_warn_or_alert(
    plane: DataPlane, index: int
) -> None:
    region = plane.regions[index]
    expected = {
        device_id: payload["status"]
        for device_id, payload in plane.sent.items()
        if payload["status"]["state"] != "OK"
    }
    assert expected, "the simulator's fault model produced no alerts to check"
    seen: dict[str, dict[str, Any]] = {}
    offset = 0
    while True:
        page = _get(region, "/api/devices/alerts", limit=7, offset=offset)
        assert page["total"] == len(expected)
        for item in page["items"]:
            seen[item["device_id"]] = item
        offset += 7
        if offset >= page["total"]:
            break
    assert set(seen) == set(expected)
    for device_id, status in expected.items():
        assert (seen[device_id]["state"], seen[device_id]["code"], seen[device_id]["message"]) == (
            status["state"], status["code"], status["message"],
        )  # fmt: skip
    site = SITE_IDS[0]
    filtered = _get(region, "/api/devices/alerts", site_id=site, limit=500)
    assert {i["device_id"] for i in filtered["items"]} == {
        d for d in expected if plane.sent[d]["site_id"] == site
    }


@pytest.mark.parametrize("index", range(len(REGIONS)), ids=REGIONS)
def test_site_metrics_are_the_averages_of_what_was_sent(plane: DataPlane, index: int) -> None:
    region = plane.regions[index]
    for site in SITE_IDS:
        here = [p for p in plane.sent.values() if p["site_id"] == site]
        body = _get(region, f"/api/devices/metrics/site/{site}")
        assert body["total_devices"] == len(here)
        by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for payload in here:
            by_type[payload["device_type"]].append(payload)
        assert set(body["by_type"]) == set(by_type)
        for device_type, payloads in by_type.items():
            got = body["by_type"][device_type]
            assert got["devices"] == len(payloads)
            for metric, stats in got["metrics"].items():
                values = [p["metrics"][metric] for p in payloads]
                assert stats["avg"] == pytest.approx(sum(values) / len(values), rel=1e-6)
                assert stats["min"] == pytest.approx(min(values))
                assert stats["max"] == pytest.approx(max(values))
    missing = httpx.get(f"{region.api}/api/devices/metrics/site/NOWHERE-1", timeout=10)
    assert missing.status_code == 404 and "NOWHERE-1" in missing.text


@pytest.mark.parametrize("index", range(len(REGIONS)), ids=REGIONS)
def test_device_detail_is_the_last_payload(plane: DataPlane, index: int) -> None:
    region = plane.regions[index]
    for device_id in sorted(plane.sent)[:: FLEET // 16]:
        payload = plane.sent[device_id]
        body = _get(region, f"/api/devices/{device_id}")
        assert body["metrics"] == pytest.approx(payload["metrics"])
        assert (body["state"], body["code"], body["site"]) == (
            payload["status"]["state"], payload["status"]["code"], payload["site_id"],
        )  # fmt: skip
        assert body["tags"] == payload["tags"]


@pytest.mark.parametrize("index", range(len(REGIONS)), ids=REGIONS)
def test_user_endpoints_match_the_last_report_per_web_site(plane: DataPlane, index: int) -> None:
    region = plane.regions[index]
    users = {site: rep["metrics"]["active_users"] for site, rep in plane.activity.items()}
    conns = {site: rep["metrics"]["active_connections"] for site, rep in plane.activity.items()}
    active = _get(region, "/api/users/active")
    assert active["by_site"] == users and active["active_users"] == sum(users.values())
    connections = _get(region, "/api/users/connections")
    assert connections["by_site"] == conns
    assert connections["active_connections"] == sum(conns.values())
    detail = _get(region, "/api/users/activity")
    for site in detail["sites"]:
        sent = plane.activity[site["site_id"]]["metrics"]
        assert site["server_cpu_pct"] == pytest.approx(sent["server_cpu_pct"])
        assert site["average_latency_ms"] == pytest.approx(sent["average_latency_ms"])
    assert _get(region, "/api/status")["active_users"] == sum(users.values())


def test_core_endpoints_name_their_region(plane: DataPlane) -> None:
    for region in plane.regions:
        assert _get(region, "/")["region"] == region.name
        health = _get(region, "/health")
        assert health["status"] == "healthy" and health["region"] == region.name
        version = _get(region, f"/fastapi/{region.name}/getappversion")
        assert version["version"].endswith(region.name)
